//! The checked reads on arbitrary bytes and offsets. The oracle is the
//! traits' own checked conversion (bytemuck's `checked::try_pod_read_unaligned`,
//! zerocopy's `try_read_from_bytes`) applied to a plain private copy.
#![no_main]

#[path = "common.rs"]
mod common;

use std::fmt::Debug;
use std::num::{NonZeroU16, NonZeroU64};

use bytemuck::{CheckedBitPattern, NoUninit};
use bytewise::{AtomicBytes, Error};
use common::{Num, in_bounds};
use libfuzzer_sys::{arbitrary, fuzz_target};
use zerocopy::{Immutable, IntoBytes, KnownLayout, TryFromBytes};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    NoUninit,
    CheckedBitPattern,
    TryFromBytes,
    IntoBytes,
    Immutable,
    KnownLayout,
)]
#[repr(u8)]
#[allow(dead_code)] // made only from bytes
enum Kind {
    Read = 1,
    Write = 2,
    Flush = 0x80,
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    NoUninit,
    CheckedBitPattern,
    TryFromBytes,
    IntoBytes,
    Immutable,
    KnownLayout,
)]
#[repr(C)]
struct Desc {
    addr: u64,
    next: NonZeroU64,
    len: u32,
    letter: char,
    flags: NonZeroU16,
    kind: Kind,
    last: bool,
    tail: [u8; 4],
}

/// With padding after `kind`: its bytes may hold anything.
#[derive(Clone, Copy, Debug, PartialEq, CheckedBitPattern, TryFromBytes, KnownLayout)]
#[repr(C)]
struct Padded {
    kind: Kind,
    value: u32,
}

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    offsets: Vec<Num>,
    bytes: Vec<u8>,
}

fn check<T>(view: &AtomicBytes, bytes: &[u8], offset: usize)
where
    T: CheckedBitPattern + TryFromBytes + PartialEq + Debug,
{
    let size = size_of::<T>();
    let got_b = view.read_obj_checked::<T>(offset);
    let got_z = view.try_read_obj::<T>(offset);
    let want_b;
    let want_z;
    match in_bounds(offset, size, bytes.len()) {
        Err(e) => {
            want_b = Err(e);
            want_z = Err(e);
        }
        Ok(r) => {
            let copy = &bytes[r];
            let bad = Error::InvalidBitPattern { offset, len: size };
            want_b = bytemuck::checked::try_pod_read_unaligned::<T>(copy).map_err(|_| bad);
            want_z = T::try_read_from_bytes(copy).map_err(|_| bad);
            // The two traits agree on these types.
            assert_eq!(want_b.is_ok(), want_z.is_ok(), "{copy:?}");
        }
    }
    assert_eq!(
        got_b,
        want_b,
        "read_obj_checked::<{}>({offset})",
        std::any::type_name::<T>()
    );
    assert_eq!(
        got_z,
        want_z,
        "try_read_obj::<{}>({offset})",
        std::any::type_name::<T>()
    );
}

fuzz_target!(|input: Input| {
    let mut backing = input.bytes.clone();
    let view = AtomicBytes::from_mut(&mut backing);
    for offset in input.offsets.iter().take(64).map(|n| n.get()) {
        check::<Desc>(view, &input.bytes, offset);
        check::<Padded>(view, &input.bytes, offset);
        check::<Kind>(view, &input.bytes, offset);
        check::<bool>(view, &input.bytes, offset);
        check::<char>(view, &input.bytes, offset);
        check::<NonZeroU64>(view, &input.bytes, offset);
        check::<()>(view, &input.bytes, offset);
    }
    // Reads never write.
    assert_eq!(backing, input.bytes);
});
