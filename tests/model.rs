//! Property tests: `AtomicBytes`'s checked accessors against a `Vec<u8>`
//! model, with arbitrary (including absurd) offsets and lengths.
#![allow(clippy::multiple_unsafe_ops_per_block, clippy::std_instead_of_core)]

use bytewise::{AtomicBytes, Error, Ordering};
use proptest::prelude::*;

/// An offset that is often near the interesting edges.
fn offset(size: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        0..=size + 8,
        Just(usize::MAX),
        Just(usize::MAX - 3),
        (usize::MAX - 64)..=usize::MAX,
        any::<usize>(),
    ]
}

fn config() -> ProptestConfig {
    let mut c = ProptestConfig {
        cases: if cfg!(miri) { 8 } else { 512 },
        ..ProptestConfig::default()
    };
    if cfg!(miri) {
        // Miri's isolation has no file system: no regression files.
        c.failure_persistence = None;
    }
    c
}

/// What the model says a range access must return.
fn model_range(offset: usize, len: usize, size: usize) -> Result<core::ops::Range<usize>, Error> {
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(offset..end),
        _ => Err(Error::OutOfBounds { offset, len, size }),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
struct Rec {
    a: u32,
    b: [u8; 3],
    c: u8,
    d: u64,
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn write_then_read_matches_model(
        size in 0usize..300,
        init in any::<u8>(),
        ops in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>(), 0usize..64, any::<u8>(), any::<bool>()), 1..16),
        huge in offset(300),
    ) {
        let mut backing = vec![init; size];
        let mut model = vec![init; size];
        let view = AtomicBytes::from_mut(&mut backing);
        for (is_write, idx, len, byte, use_huge) in ops {
            let off = if use_huge { huge } else { idx.index(size + 9) };
            let expect = model_range(off, len, size);
            if is_write {
                let src = vec![byte; len];
                let got = view.write_at(off, &src);
                match expect {
                    Ok(r) => { prop_assert_eq!(got, Ok(())); model[r].fill(byte); }
                    Err(e) => prop_assert_eq!(got, Err(e)),
                }
            } else {
                let mut dst = vec![0xEE; len];
                let got = view.read_at(off, &mut dst);
                match expect {
                    Ok(r) => { prop_assert_eq!(got, Ok(())); prop_assert_eq!(&dst[..], &model[r]); }
                    Err(e) => { prop_assert_eq!(got, Err(e)); prop_assert!(dst.iter().all(|&b| b == 0xEE), "dst written on error"); }
                }
            }
            prop_assert_eq!(view.to_vec(Ordering::Relaxed), model.clone(), "view diverged from model");
        }
    }

    #[test]
    fn typed_access_matches_model(
        size in 0usize..100,
        off in offset(100),
        rec in any::<(u32, [u8; 3], u8, u64)>(),
    ) {
        let rec = Rec { a: rec.0, b: rec.1, c: rec.2, d: rec.3 };
        let mut backing = vec![0x5Au8; size];
        let mut model = vec![0x5Au8; size];
        let view = AtomicBytes::from_mut(&mut backing);
        let n = core::mem::size_of::<Rec>();
        match model_range(off, n, size) {
            Ok(r) => {
                prop_assert_eq!(view.write_obj(off, &rec), Ok(()));
                model[r].copy_from_slice(bytemuck::bytes_of(&rec));
                prop_assert_eq!(view.read_obj::<Rec>(off), Ok(rec));
            }
            Err(e) => {
                prop_assert_eq!(view.write_obj(off, &rec), Err(e));
                prop_assert_eq!(view.read_obj::<Rec>(off), Err(e));
            }
        }
        prop_assert_eq!(view.to_vec(Ordering::Relaxed), model);
    }

    #[test]
    fn get_matches_slice_get(size in 0usize..64, a in 0usize..80, b in 0usize..80) {
        let mut backing: Vec<u8> = (0..size as u8).collect();
        let model = backing.clone();
        let view = AtomicBytes::from_mut(&mut backing);
        let got = view.get(a..b).map(|v| v.to_vec(Ordering::Relaxed));
        prop_assert_eq!(got.as_deref(), model.get(a..b));
        let got = view.get(a..=b).map(|v| v.to_vec(Ordering::Relaxed));
        prop_assert_eq!(got.as_deref(), model.get(a..=b));
        let got = view.get(a..).map(|v| v.to_vec(Ordering::Relaxed));
        prop_assert_eq!(got.as_deref(), model.get(a..));
    }
}

#[cfg(feature = "zerocopy")]
proptest! {
    #![proptest_config(config())]

    #[test]
    fn zerocopy_typed_access_matches_model(size in 0usize..40, off in offset(40), v in any::<[u32; 3]>()) {
        let mut backing = vec![0u8; size];
        let view = AtomicBytes::from_mut(&mut backing);
        let expect = model_range(off, 12, size);
        match expect {
            Ok(_) => {
                prop_assert_eq!(view.write_obj_zerocopy(off, &v), Ok(()));
                prop_assert_eq!(view.read_obj_zerocopy::<[u32; 3]>(off), Ok(v));
            }
            Err(e) => {
                prop_assert_eq!(view.write_obj_zerocopy(off, &v), Err(e));
                prop_assert_eq!(view.read_obj_zerocopy::<[u32; 3]>(off), Err(e));
                prop_assert!(backing.iter().all(|&b| b == 0));
            }
        }
    }
}

/// The edge cases the issue names, spelled out.
#[test]
fn overflowing_offsets_are_out_of_bounds_not_panics() {
    let mut backing = [0u8; 16];
    let view = AtomicBytes::from_mut(&mut backing);
    let oob = |offset, len| {
        Err(Error::OutOfBounds {
            offset,
            len,
            size: 16,
        })
    };
    assert_eq!(view.write_at(usize::MAX, &[1]), oob(usize::MAX, 1));
    assert_eq!(
        view.write_at(usize::MAX - 1, &[1, 2, 3]),
        oob(usize::MAX - 1, 3)
    );
    assert_eq!(view.read_at(17, &mut []), oob(17, 0));
    assert_eq!(view.read_at(16, &mut []), Ok(()));
    assert_eq!(
        view.read_obj::<u64>(9),
        Err(Error::OutOfBounds {
            offset: 9,
            len: 8,
            size: 16
        })
    );
    assert_eq!(
        view.read_obj::<u64>(usize::MAX - 7),
        Err(Error::OutOfBounds {
            offset: usize::MAX - 7,
            len: 8,
            size: 16
        })
    );
    assert_eq!(backing, [0; 16]);
}
