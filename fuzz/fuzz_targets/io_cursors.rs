//! Sequences of `io::Reader` and `io::Writer` calls (read, write, seek from
//! every origin, read_exact, read_to_end, the typed reads) on one region,
//! against `std::io::Cursor` over a `Vec<u8>` model.
//!
//! The reader's read-once rule is the one documented difference: it never
//! moves backwards (a backwards seek is `InvalidInput` and leaves the
//! position alone; a short `read_exact` moves to the end only if that is
//! forwards). Its position never decreases, and the bytes it returns are
//! the model's bytes at the time of the call.
#![no_main]

#[path = "common.rs"]
mod common;

use std::io::{Cursor, ErrorKind, Read, Seek, SeekFrom, Write};

use bytewise::AtomicBytes;
use libfuzzer_sys::{arbitrary, fuzz_target};

#[derive(arbitrary::Arbitrary, Debug, Clone, Copy)]
enum Pos {
    Start(u16),
    StartAny(u64),
    End(i16),
    EndAny(i64),
    Current(i16),
    CurrentAny(i64),
}

impl From<Pos> for SeekFrom {
    fn from(p: Pos) -> SeekFrom {
        match p {
            Pos::Start(n) => SeekFrom::Start(n.into()),
            Pos::StartAny(n) => SeekFrom::Start(n),
            Pos::End(n) => SeekFrom::End(n.into()),
            Pos::EndAny(n) => SeekFrom::End(n),
            Pos::Current(n) => SeekFrom::Current(n.into()),
            Pos::CurrentAny(n) => SeekFrom::Current(n),
        }
    }
}

#[derive(arbitrary::Arbitrary, Debug)]
enum Op {
    Read(u16),
    ReadExact(u16),
    ReadToEnd,
    SeekReader(Pos),
    ReadObjU32,
    ReadObjCheckedBool,
    Write(Vec<u8>),
    WriteAll(Vec<u8>),
    SeekWriter(Pos),
    NewReader,
}

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    size: u16,
    ops: Vec<Op>,
}

/// `Ok` values equal, or both errors of the same kind.
fn same<T: PartialEq + std::fmt::Debug>(
    got: std::io::Result<T>,
    want: std::io::Result<T>,
    what: &str,
) {
    match (got, want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "{what}"),
        (Err(g), Err(w)) => assert_eq!(g.kind(), w.kind(), "{what}: {g} vs {w}"),
        (g, w) => panic!("{what}: got {g:?}, want {w:?}"),
    }
}

/// The model of the reader: `std::io::Cursor` at the same position.
fn model_reader(model: &[u8], pos: u64) -> Cursor<&[u8]> {
    let mut c = Cursor::new(model);
    c.set_position(pos);
    c
}

fuzz_target!(|input: Input| {
    let size = usize::from(input.size % 2049);
    let mut model: Vec<u8> = (0..size).map(|i| (i * 7) as u8).collect();
    let mut backing = model.clone();
    let view = AtomicBytes::from_mut(&mut backing);
    let mut reader = view.reader();
    let mut writer = view.writer();
    let mut rpos = 0u64; // the model reader's position
    let mut wpos = 0u64;

    for op in input.ops.iter().take(200) {
        let before = reader.position();
        match op {
            Op::Read(n) => {
                let mut got = vec![0u8; usize::from(*n)];
                let mut want = got.clone();
                let mut c = model_reader(&model, rpos);
                let (g, w) = (reader.read(&mut got), c.read(&mut want));
                same(g, w, "read");
                assert_eq!(got, want);
                rpos = c.position();
            }
            Op::ReadExact(n) => {
                let mut got = vec![0u8; usize::from(*n)];
                let mut want = got.clone();
                let mut c = model_reader(&model, rpos);
                let (g, w) = (reader.read_exact(&mut got), c.read_exact(&mut want));
                let failed = w.is_err();
                same(g, w, "read_exact");
                if !failed {
                    assert_eq!(got, want);
                }
                // Read-once: a short read_exact moves to the end, never back.
                rpos = c.position().max(rpos);
            }
            Op::ReadToEnd => {
                let (mut got, mut want) = (Vec::new(), Vec::new());
                let mut c = model_reader(&model, rpos);
                same(
                    reader.read_to_end(&mut got),
                    c.read_to_end(&mut want),
                    "read_to_end",
                );
                assert_eq!(got, want);
                rpos = c.position();
            }
            Op::SeekReader(p) => {
                let mut c = model_reader(&model, rpos);
                let want = c.seek((*p).into());
                let got = reader.seek((*p).into());
                match want {
                    Ok(to) if to < rpos => {
                        assert_eq!(
                            got.unwrap_err().kind(),
                            ErrorKind::InvalidInput,
                            "backwards"
                        );
                    }
                    want => {
                        if let Ok(to) = want {
                            rpos = to;
                        }
                        same(got, want, "reader seek");
                    }
                }
            }
            Op::ReadObjU32 => {
                let mut want = [0u8; 4];
                let mut c = model_reader(&model, rpos);
                let w = c.read_exact(&mut want).map(|()| u32::from_ne_bytes(want));
                same(reader.read_obj::<u32>(), w, "read_obj");
                rpos = c.position().max(rpos);
            }
            Op::ReadObjCheckedBool => {
                let mut want = [0u8; 1];
                let mut c = model_reader(&model, rpos);
                let w = c.read_exact(&mut want).and_then(|()| match want[0] {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err(ErrorKind::InvalidData.into()),
                });
                same(reader.read_obj_checked::<bool>(), w, "read_obj_checked");
                rpos = c.position().max(rpos);
            }
            Op::Write(src) | Op::WriteAll(src) => {
                let mut c = Cursor::new(&mut model[..]);
                c.set_position(wpos);
                let (g, w) = match op {
                    Op::Write(_) => (writer.write(src), c.write(src)),
                    _ => (
                        writer.write_all(src).map(|()| 0),
                        c.write_all(src).map(|()| 0),
                    ),
                };
                same(g, w, "write");
                wpos = c.position();
            }
            Op::SeekWriter(p) => {
                let mut c = Cursor::new(&mut model[..]);
                c.set_position(wpos);
                let w = c.seek((*p).into());
                same(writer.seek((*p).into()), w, "writer seek");
                wpos = c.position();
            }
            Op::NewReader => {
                reader = view.reader();
                rpos = 0;
            }
        }
        if !matches!(op, Op::NewReader) {
            assert!(reader.position() >= before, "the reader moved backwards");
        }
        assert_eq!(reader.position(), rpos, "reader position after {op:?}");
        assert_eq!(writer.position(), wpos, "writer position after {op:?}");
        assert_eq!(
            view.to_vec(bytewise::Ordering::Relaxed),
            model,
            "after {op:?}"
        );
    }
});
