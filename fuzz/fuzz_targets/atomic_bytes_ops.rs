//! Sequences of `AtomicBytes` operations (`get`, `range`, `read_at`,
//! `write_at`, `read_obj`, `write_obj` and their ordering-taking forms) with
//! arbitrary offsets and lengths, including values near `usize::MAX`,
//! against a `Vec<u8>` model. Every operation's result and the whole
//! contents after it must match the model; a failed operation writes
//! nothing.
#![no_main]

#[path = "common.rs"]
mod common;

use std::ops::Bound;

use bytewise::{AtomicBytes, Ordering};
use common::{LoadOrder, Num, StoreOrder, in_bounds};
use libfuzzer_sys::{arbitrary, fuzz_target};

#[derive(arbitrary::Arbitrary, Debug)]
enum Op {
    /// `get(start..end)` and friends, compared with `slice::get`.
    Get(Bound<Num>, Bound<Num>),
    /// `range(offset, len)`, then a read of the whole sub-view.
    Range(Num, Num),
    ReadAt(Num, u16),
    WriteAt(Num, Vec<u8>),
    LoadAt(Num, u16, LoadOrder),
    StoreAt(Num, Vec<u8>, StoreOrder),
    ReadObjU32(Num),
    ReadObjArr(Num),
    LoadObjU64(Num, LoadOrder),
    WriteObjU16(Num, u16),
    StoreObjArr(Num, [u8; 13], StoreOrder),
    /// `range` of a `range`, then a write through it.
    NestedWrite(Num, Num, Num, Vec<u8>),
}

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    size: u16,
    ops: Vec<Op>,
}

fn bound(b: &Bound<Num>) -> Bound<usize> {
    match *b {
        Bound::Included(n) => Bound::Included(n.get()),
        Bound::Excluded(n) => Bound::Excluded(n.get()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn le_bytes<const N: usize>(model: &[u8], offset: usize) -> Result<[u8; N], bytewise::Error> {
    let r = in_bounds(offset, N, model.len())?;
    Ok(model[r].try_into().unwrap())
}

fuzz_target!(|input: Input| {
    let size = usize::from(input.size % 4097);
    let mut model: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let mut backing = model.clone();
    let view = AtomicBytes::from_mut(&mut backing);

    for op in input.ops.iter().take(200) {
        match op {
            Op::Get(lo, hi) => {
                let range = (bound(lo), bound(hi));
                let got = view.get(range).map(|v| v.to_vec(Ordering::Relaxed));
                let want = model.get(range).map(<[u8]>::to_vec);
                assert_eq!(got, want, "get({range:?})");
            }
            Op::Range(o, l) => {
                let (o, l) = (o.get(), l.get());
                let got = view.range(o, l).map(|v| v.to_vec(Ordering::Acquire));
                let want = in_bounds(o, l, size).map(|r| model[r].to_vec());
                assert_eq!(got, want, "range({o}, {l})");
            }
            Op::ReadAt(o, n) | Op::LoadAt(o, n, _) => {
                let o = o.get();
                let mut dst = vec![0xA5u8; usize::from(*n)];
                let got = match op {
                    Op::LoadAt(_, _, ord) => view.load_at(o, &mut dst, (*ord).into()),
                    _ => view.read_at(o, &mut dst),
                };
                match in_bounds(o, dst.len(), size) {
                    Ok(r) => {
                        assert_eq!(got, Ok(()));
                        assert_eq!(dst, model[r]);
                    }
                    Err(e) => {
                        assert_eq!(got, Err(e));
                        assert!(dst.iter().all(|&b| b == 0xA5), "dst written on error");
                    }
                }
            }
            Op::WriteAt(o, src) | Op::StoreAt(o, src, _) => {
                let o = o.get();
                let got = match op {
                    Op::StoreAt(_, _, ord) => view.store_at(o, src, (*ord).into()),
                    _ => view.write_at(o, src),
                };
                let want = in_bounds(o, src.len(), size).map(|r| model[r].copy_from_slice(src));
                assert_eq!(got, want, "write_at({o}, {} bytes)", src.len());
            }
            Op::ReadObjU32(o) => {
                let got = view.read_obj::<u32>(o.get());
                assert_eq!(got, le_bytes::<4>(&model, o.get()).map(u32::from_ne_bytes));
            }
            Op::ReadObjArr(o) => {
                let got = view.read_obj::<[u8; 200]>(o.get());
                assert_eq!(got, le_bytes::<200>(&model, o.get()));
            }
            Op::LoadObjU64(o, ord) => {
                let got = view.load_obj::<u64>(o.get(), (*ord).into());
                assert_eq!(got, le_bytes::<8>(&model, o.get()).map(u64::from_ne_bytes));
            }
            Op::WriteObjU16(o, v) => {
                let o = o.get();
                let got = view.write_obj(o, v);
                let want =
                    in_bounds(o, 2, size).map(|r| model[r].copy_from_slice(&v.to_ne_bytes()));
                assert_eq!(got, want);
            }
            Op::StoreObjArr(o, v, ord) => {
                let o = o.get();
                let got = view.store_obj(o, v, (*ord).into());
                let want = in_bounds(o, 13, size).map(|r| model[r].copy_from_slice(v));
                assert_eq!(got, want);
            }
            Op::NestedWrite(a, b, c, src) => {
                let (a, b, c) = (a.get(), b.get(), c.get());
                let got = view
                    .range(a, b)
                    .and_then(|sub| sub.write_at(c, src))
                    .is_ok();
                let want = match in_bounds(a, b, size) {
                    Ok(outer) => match in_bounds(c, src.len(), b) {
                        Ok(inner) => {
                            let s = outer.start + inner.start;
                            model[s..s + src.len()].copy_from_slice(src);
                            true
                        }
                        Err(_) => false,
                    },
                    Err(_) => false,
                };
                assert_eq!(got, want);
            }
        }
        assert_eq!(view.to_vec(Ordering::Relaxed), model, "after {op:?}");
    }
});
