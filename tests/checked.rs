//! Validated typed reads: `read_obj_checked` (bytemuck's `CheckedBitPattern`)
//! and `try_read_obj` (zerocopy's `TryFromBytes`), their io and
//! `AtomicPerByte` forms, the ordering-taking copies and `range`.
//!
//! The race test at the end is the point of the feature: a writer flips an
//! enum byte between a valid and an invalid value, and no invalid value may
//! come out of a checked read, while a negative control that validates the
//! shared bytes in place lets them through.
#![allow(clippy::std_instead_of_core)]

use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8};
use std::time::{Duration, Instant};

use bytemuck::{CheckedBitPattern, NoUninit};
use bytewise::{AtomicBytes, AtomicPerByte, Error, Ordering};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    NoUninit,
    CheckedBitPattern,
    zerocopy::TryFromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
#[repr(u8)]
enum Kind {
    Read = 1,
    Write = 2,
}

/// 16 bytes, no padding: `kind` at 12, `last` at 13.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    NoUninit,
    CheckedBitPattern,
    zerocopy::TryFromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
#[repr(C)]
struct Desc {
    addr: u64,
    len: NonZeroU32,
    kind: Kind,
    last: bool,
    _pad: [u8; 2],
}
const KIND: usize = 12;
const LAST: usize = 13;
const LEN: usize = 8;
const SIZE: usize = size_of::<Desc>();

const GOOD: Desc = Desc {
    addr: 0x1000,
    len: NonZeroU32::MIN,
    kind: Kind::Write,
    last: true,
    _pad: [0; 2],
};

/// A `T` with 3 padding bytes after `kind`.
#[derive(
    Clone, Copy, Debug, PartialEq, CheckedBitPattern, zerocopy::TryFromBytes, zerocopy::KnownLayout,
)]
#[repr(C)]
struct Padded {
    kind: Kind,
    value: u32,
}

/// Reads `Desc` at `offset` with the checked read each trait offers here.
fn both(view: &AtomicBytes, offset: usize) -> [Result<Desc, Error>; 2] {
    [
        view.read_obj_checked::<Desc>(offset),
        try_read(view, offset),
    ]
}

#[cfg(feature = "zerocopy")]
fn try_read(view: &AtomicBytes, offset: usize) -> Result<Desc, Error> {
    view.try_read_obj::<Desc>(offset)
}

/// Without the `zerocopy` feature, the bytemuck read stands in.
#[cfg(not(feature = "zerocopy"))]
fn try_read(view: &AtomicBytes, offset: usize) -> Result<Desc, Error> {
    view.read_obj_checked::<Desc>(offset)
}

fn atomics(n: usize) -> Vec<AtomicU8> {
    (0..n).map(|_| AtomicU8::new(0)).collect()
}

#[test]
fn valid_values_read_back_at_any_offset() {
    let mem = atomics(SIZE + 8);
    let view = AtomicBytes::new(&mem);
    for offset in 0..=8 {
        view.fill(0, Ordering::Relaxed);
        view.write_obj(offset, &GOOD).unwrap();
        assert_eq!(both(view, offset), [Ok(GOOD), Ok(GOOD)], "offset {offset}");
    }
}

#[test]
fn each_kind_of_invalid_field_is_rejected() {
    let mem = atomics(SIZE + 3);
    let view = AtomicBytes::new(&mem);
    let bad: [(&str, usize, &[u8]); 4] = [
        ("discriminant 0", KIND, &[0]),
        ("discriminant 3", KIND, &[3]),
        ("bool 2", LAST, &[2]),
        ("zero NonZeroU32", LEN, &[0, 0, 0, 0]),
    ];
    for (what, field, bytes) in bad {
        view.write_obj(3, &GOOD).unwrap();
        view.write_at(3 + field, bytes).unwrap();
        let before = view.to_vec(Ordering::Relaxed);
        let err = Error::InvalidBitPattern {
            offset: 3,
            len: SIZE,
        };
        assert_eq!(both(view, 3), [Err(err), Err(err)], "{what}");
        assert_eq!(
            view.to_vec(Ordering::Relaxed),
            before,
            "{what}: nothing written"
        );
    }
    // The boundaries of each field's valid range are accepted.
    view.write_obj(3, &GOOD).unwrap();
    view.write_at(3 + LAST, &[0]).unwrap();
    view.write_at(3 + KIND, &[1]).unwrap();
    view.write_at(3 + LEN, &u32::MAX.to_ne_bytes()).unwrap();
    let want = Desc {
        kind: Kind::Read,
        last: false,
        len: NonZeroU32::MAX,
        ..GOOD
    };
    assert_eq!(both(view, 3), [Ok(want), Ok(want)]);
}

#[test]
fn char_validity() {
    let mem = atomics(8);
    let view = AtomicBytes::new(&mem);
    for (raw, ok) in [
        (0x41u32, true),
        (0x10_FFFF, true),
        (0xD800, false),
        (0x11_0000, false),
        (u32::MAX, false),
    ] {
        view.write_obj(1, &raw).unwrap();
        let want = char::from_u32(raw).ok_or(Error::InvalidBitPattern { offset: 1, len: 4 });
        assert_eq!(view.read_obj_checked::<char>(1), want, "{raw:#x}");
        assert_eq!(want.is_ok(), ok);
        #[cfg(feature = "zerocopy")]
        assert_eq!(view.try_read_obj::<char>(1), want, "{raw:#x}");
    }
}

#[test]
fn padding_bytes_may_hold_anything() {
    let mem = atomics(size_of::<Padded>());
    let view = AtomicBytes::new(&mem);
    view.fill(0xAA, Ordering::Relaxed);
    view.write_at(0, &[2]).unwrap();
    view.write_obj(4, &7u32).unwrap();
    let want = Padded {
        kind: Kind::Write,
        value: 7,
    };
    assert_eq!(view.read_obj_checked::<Padded>(0), Ok(want));
    #[cfg(feature = "zerocopy")]
    assert_eq!(view.try_read_obj::<Padded>(0), Ok(want));
    view.write_at(0, &[0xAA]).unwrap();
    let err = Err(Error::InvalidBitPattern { offset: 0, len: 8 });
    assert_eq!(view.read_obj_checked::<Padded>(0), err);
    #[cfg(feature = "zerocopy")]
    assert_eq!(view.try_read_obj::<Padded>(0), err);
}

#[test]
fn out_of_bounds_and_overflowing_offsets() {
    let mem = atomics(40);
    let view = AtomicBytes::new(&mem);
    view.fill(1, Ordering::Relaxed);
    for offset in [
        40 - SIZE + 1,
        40,
        41,
        usize::MAX / 2,
        usize::MAX - SIZE,
        usize::MAX - SIZE + 1,
        usize::MAX - 1,
        usize::MAX,
    ] {
        let err = Error::OutOfBounds {
            offset,
            len: SIZE,
            size: 40,
        };
        assert_eq!(both(view, offset), [Err(err), Err(err)], "offset {offset}");
        assert_eq!(view.range(offset, SIZE).unwrap_err(), err);
        assert_eq!(
            view.load_obj::<[u8; SIZE]>(offset, Ordering::Acquire),
            Err(err)
        );
        assert_eq!(
            view.store_obj(offset, &[0u8; SIZE], Ordering::Release),
            Err(err)
        );
        let mut dst = [9u8; SIZE];
        assert_eq!(view.load_at(offset, &mut dst, Ordering::SeqCst), Err(err));
        assert_eq!(dst, [9; SIZE], "dst untouched");
        assert_eq!(view.store_at(offset, &dst, Ordering::SeqCst), Err(err));
    }
    assert_eq!(view.to_vec(Ordering::Relaxed), [1; 40], "nothing written");
    // The last in-bounds offset still works.
    assert!(view.read_obj_checked::<[u8; SIZE]>(40 - SIZE).is_ok());
    // A zero-sized read is in bounds at the very end, and nowhere after it.
    assert_eq!(view.read_obj_checked::<()>(40), Ok(()));
    assert!(view.read_obj_checked::<()>(41).is_err());
}

#[test]
fn range_is_the_checked_get() {
    let mut buf: Vec<u8> = (0..32).collect();
    let view = AtomicBytes::from_mut(&mut buf);
    for (offset, len) in [(0, 0), (0, 32), (5, 7), (32, 0), (31, 1), (31, 2), (33, 0)] {
        let got = view
            .range(offset, len)
            .ok()
            .map(|v| v.to_vec(Ordering::Relaxed));
        let want = view
            .get(offset..offset + len)
            .map(|v| v.to_vec(Ordering::Relaxed));
        assert_eq!(got, want, "{offset}+{len}");
    }
    assert_eq!(
        view.range(3, 2).unwrap().as_ptr(),
        view.as_ptr().wrapping_add(3)
    );
    assert!(view.range(usize::MAX, 1).is_err());
    assert!(view.range(1, usize::MAX).is_err());
}

#[test]
fn ordered_forms_match_the_relaxed_ones() {
    let mut buf = [0u8; 24];
    let view = AtomicBytes::from_mut(&mut buf);
    for order in [Ordering::Relaxed, Ordering::Release, Ordering::SeqCst] {
        view.store_at(1, b"abc", order).unwrap();
        view.store_obj(8, &0x0102_0304_0506_0708u64, order).unwrap();
    }
    for order in [Ordering::Relaxed, Ordering::Acquire, Ordering::SeqCst] {
        let mut out = [0u8; 3];
        view.load_at(1, &mut out, order).unwrap();
        assert_eq!(&out, b"abc");
        assert_eq!(view.load_obj::<u64>(8, order), Ok(0x0102_0304_0506_0708));
        assert_eq!(view.load_obj::<u64>(8, order), view.read_obj::<u64>(8));
    }
}

/// A bad ordering panics before the bounds check and before any memory is
/// touched, as `load` and `store` do.
#[test]
fn bad_orderings_panic_before_touching_memory() {
    let mut buf = [5u8; 8];
    let view = AtomicBytes::from_mut(&mut buf);
    let panics = |f: &dyn Fn()| catch_unwind(AssertUnwindSafe(f)).is_err();
    for order in [Ordering::Release, Ordering::AcqRel] {
        for offset in [0, 100] {
            assert!(panics(&|| {
                let _ = view.load_at(offset, &mut [0u8; 4], order);
            }));
            assert!(panics(&|| {
                let _ = view.load_obj::<u32>(offset, order);
            }));
        }
    }
    for order in [Ordering::Acquire, Ordering::AcqRel] {
        for offset in [0, 100] {
            assert!(panics(&|| {
                let _ = view.store_at(offset, &[1, 2], order);
            }));
            assert!(panics(&|| {
                let _ = view.store_obj(offset, &0u32, order);
            }));
        }
    }
    assert_eq!(view.to_vec(Ordering::Relaxed), [5; 8], "nothing written");
}

/// bytemuck's `min_const_generics` is on: arrays of any length are `Pod`.
#[test]
fn payload_sized_arrays() {
    let mem = atomics(512);
    let view = AtomicBytes::new(&mem);
    let payload: [u8; 200] = core::array::from_fn(|i| i as u8);
    view.write_obj(17, &payload).unwrap();
    assert_eq!(view.read_obj::<[u8; 200]>(17), Ok(payload));
    assert_eq!(view.read_obj_checked::<[u8; 200]>(17), Ok(payload));
    assert_eq!(view.read_obj::<[u16; 100]>(17).map(|a| a.len()), Ok(100));
}

#[test]
fn reader_typed_reads() {
    use std::io::{ErrorKind, Read};
    let mut buf = [0u8; 2 * SIZE + 1];
    let view = AtomicBytes::from_mut(&mut buf);
    view.write_obj(0, &GOOD).unwrap();
    view.write_obj(SIZE, &GOOD).unwrap();
    view.write_at(SIZE + KIND, &[9]).unwrap();
    let mut r = view.reader();
    assert_eq!(r.read_obj_checked::<Desc>().unwrap(), GOOD);
    let e = r.read_obj_checked::<Desc>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidData);
    assert_eq!(
        e.get_ref().and_then(|e| e.downcast_ref::<Error>()),
        Some(&Error::InvalidBitPattern {
            offset: SIZE,
            len: SIZE
        })
    );
    assert_eq!(r.position(), 2 * SIZE as u64, "the bad bytes count as read");
    assert_eq!(
        r.read_obj::<u16>().unwrap_err().kind(),
        ErrorKind::UnexpectedEof
    );
    assert_eq!(r.position(), 2 * SIZE as u64 + 1, "EOF moves to the end");
    assert_eq!(r.read(&mut [0; 4]).unwrap(), 0);
    assert_eq!(r.read_obj::<()>().unwrap(), ());
}

#[test]
fn atomic_per_byte_load_checked() {
    let cell = AtomicPerByte::new(GOOD);
    assert_eq!(cell.load_checked(Ordering::Acquire), Ok(GOOD));
    let b = AtomicPerByte::new(false);
    b.store(true, Ordering::Release);
    assert_eq!(b.load_checked(Ordering::SeqCst), Ok(true));
    // An invalid pattern, as a racing mix of two stores could leave it.
    let mut k = AtomicPerByte::new(Kind::Read);
    // SAFETY: the byte written below is initialised, which is all
    // `get_mut_uninit` asks; it is not a valid `Kind`, which is what
    // `load_checked` must catch.
    let slot = unsafe { k.get_mut_uninit() };
    // SAFETY: `slot` is an exclusive borrow of the cell's one byte.
    unsafe { slot.as_mut_ptr().cast::<u8>().write(7) };
    assert_eq!(
        k.load_checked(Ordering::Relaxed),
        Err(Error::InvalidBitPattern { offset: 0, len: 1 })
    );
}

#[test]
fn error_display() {
    let e = Error::InvalidBitPattern { offset: 12, len: 4 };
    assert_eq!(
        e.to_string(),
        "bytes 12..+4 are not a valid bit pattern for the type read"
    );
}

// ---------------------------------------------------------------------------
// The race: a writer flips `kind` between Write (valid) and 0x7F (invalid).

const BAD_KIND: u8 = 0x7F;

struct Counts {
    ok: u64,
    invalid: u64,
}

/// Test-only negative control: the pattern this crate exists to prevent.
/// It validates the shared bytes in place (reading the `kind` byte there, as
/// `bytemuck::checked::try_from_bytes` on shared memory would) and then
/// copies the whole value: two fetches. Returns the copy as plain bytes, so
/// no invalid `Desc` is ever materialised, even here.
fn validate_in_place_then_copy(view: &AtomicBytes) -> Option<[u8; SIZE]> {
    let kind: u8 = view.read_obj(KIND).unwrap(); // fetch 1: the check
    Kind::is_valid_bit_pattern(&kind).then(|| view.read_obj(0).unwrap()) // fetch 2: the use
}

/// Runs `reader` against a writer flipping the kind byte for at least
/// `MIN_TIME`, then until `reader` says it has seen enough or `budget` runs
/// out. The minimum time is what gives a double fetch (a window of a few
/// nanoseconds) the chance to show: the negative control below needs
/// roughly 10^5 to 10^6 reads per escape on a 2-core x86_64.
fn race(budget: Duration, mut reader: impl FnMut(&AtomicBytes) -> bool) {
    let mem = atomics(SIZE);
    let view = AtomicBytes::new(&mem);
    view.write_obj(0, &GOOD).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        // Stops the writer even if the reader panics (a failed assertion),
        // so the scope can join it and report the failure.
        let _stop = StopOnDrop(&stop);
        s.spawn(|| {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let byte = if i % 2 == 0 {
                    BAD_KIND
                } else {
                    Kind::Write as u8
                };
                view.write_at(KIND, &[byte]).unwrap();
                i = i.wrapping_add(1);
                #[cfg(miri)]
                std::thread::yield_now();
            }
        });
        let t0 = Instant::now();
        loop {
            let enough = reader(view);
            let t = t0.elapsed();
            if (enough && t >= MIN_TIME) || t >= budget {
                break;
            }
        }
    });
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

const BUDGET: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 20 });
const MIN_TIME: Duration = Duration::from_millis(if cfg!(miri) { 0 } else { 1500 });
const MIN_EACH: u64 = if cfg!(miri) { 1 } else { 1000 };

fn check_race(read: fn(&AtomicBytes) -> Result<Desc, Error>) -> Counts {
    let mut c = Counts { ok: 0, invalid: 0 };
    race(BUDGET, |view| {
        match read(view) {
            Ok(d) => {
                // The value's own bytes: the kind byte must be valid.
                let kind = bytemuck::bytes_of(&d)[KIND];
                assert!(
                    kind == Kind::Write as u8,
                    "invalid kind {kind:#x} escaped a checked read"
                );
                assert_eq!(d, GOOD);
                c.ok += 1;
            }
            Err(e) => {
                assert_eq!(
                    e,
                    Error::InvalidBitPattern {
                        offset: 0,
                        len: SIZE
                    }
                );
                c.invalid += 1;
            }
        }
        c.ok >= MIN_EACH && c.invalid >= MIN_EACH
    });
    assert!(
        c.ok > 0,
        "no Ok result: the race never showed a valid value"
    );
    assert!(
        c.invalid > 0,
        "no InvalidBitPattern: the writer's invalid value was never seen"
    );
    c
}

#[test]
fn race_read_obj_checked_never_returns_an_invalid_value() {
    let c = check_race(|v| v.read_obj_checked::<Desc>(0));
    println!(
        "read_obj_checked: {} Ok, {} InvalidBitPattern",
        c.ok, c.invalid
    );
}

#[cfg(feature = "zerocopy")]
#[test]
fn race_try_read_obj_never_returns_an_invalid_value() {
    let c = check_race(|v| v.try_read_obj::<Desc>(0));
    println!("try_read_obj: {} Ok, {} InvalidBitPattern", c.ok, c.invalid);
}

#[test]
fn race_atomic_per_byte_load_checked() {
    let cell = AtomicPerByte::new(Kind::Write);
    // Safe stores only ever put a valid `Kind` in the cell; a peer writing
    // raw bytes (here the raw `bytewise::store`) can put anything there.
    struct Raw(*mut u8);
    // SAFETY: the pointer is only used for the crate's atomic stores below.
    unsafe impl Sync for Raw {}
    impl Raw {
        fn get(&self) -> *mut u8 {
            self.0
        }
    }
    let raw = Raw(core::ptr::from_ref(&cell).cast_mut().cast::<u8>());
    let stop = AtomicBool::new(false);
    let (mut ok, mut invalid) = (0u64, 0u64);
    std::thread::scope(|s| {
        let _stop = StopOnDrop(&stop);
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: `raw` points at the cell's one byte, inside its
                // `UnsafeCell`; every concurrent access to it is one of this
                // crate's byte-wise atomic operations; `[BAD_KIND]` is a
                // private, initialised source.
                unsafe { bytewise::store([BAD_KIND].as_ptr(), raw.get(), 1, Ordering::Relaxed) };
                cell.store(Kind::Write, Ordering::Relaxed);
                #[cfg(miri)]
                std::thread::yield_now();
            }
        });
        let t0 = Instant::now();
        while (ok < MIN_EACH || invalid < MIN_EACH) && t0.elapsed() < BUDGET {
            match cell.load_checked(Ordering::Acquire) {
                Ok(k) => {
                    assert_eq!(bytemuck::bytes_of(&k), [Kind::Write as u8]);
                    ok += 1;
                }
                Err(e) => {
                    assert_eq!(e, Error::InvalidBitPattern { offset: 0, len: 1 });
                    invalid += 1;
                }
            }
        }
    });
    assert!(ok > 0 && invalid > 0, "{ok} Ok, {invalid} invalid");
}

/// The negative control: validating the shared bytes in place and then
/// copying them lets invalid values through. If this stops failing, the
/// race above is too weak to catch anything.
#[test]
#[cfg_attr(
    miri,
    ignore = "shows the native race's strength; Miri's scheduler is not that"
)]
fn negative_control_validate_in_place_lets_invalid_values_escape() {
    let mut escaped = 0u64;
    let mut passed = 0u64;
    race(BUDGET, |view| {
        if let Some(bytes) = validate_in_place_then_copy(view) {
            passed += 1;
            if bytes[KIND] == BAD_KIND {
                escaped += 1;
            }
        }
        escaped >= MIN_EACH.min(10)
    });
    println!(
        "validate-in-place control: {escaped} of {passed} accepted copies had an invalid kind"
    );
    assert!(
        escaped > 0,
        "the control never let an invalid value through ({passed} accepted); the race is too weak"
    );
}
