//! Orderings: each rejected ordering panics before memory is touched, and the
//! accepted ones synchronize as the contract's table says.
#![allow(clippy::multiple_unsafe_ops_per_block, clippy::std_instead_of_core)]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU8, Ordering};

use bytewise::{AtomicBytes, AtomicPerByte};
use common::iters;

const LOAD_OK: [Ordering; 3] = [Ordering::Relaxed, Ordering::Acquire, Ordering::SeqCst];
const LOAD_BAD: [Ordering; 2] = [Ordering::Release, Ordering::AcqRel];
const STORE_OK: [Ordering; 3] = [Ordering::Relaxed, Ordering::Release, Ordering::SeqCst];
const STORE_BAD: [Ordering; 2] = [Ordering::Acquire, Ordering::AcqRel];
const ALL: [Ordering; 5] = [
    Ordering::Relaxed,
    Ordering::Release,
    Ordering::Acquire,
    Ordering::AcqRel,
    Ordering::SeqCst,
];

/// Runs `f` and returns its panic message, or `None` if it did not panic.
fn panics(f: impl FnOnce()) -> Option<String> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(prev);
    r.err().map(|e| {
        e.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| e.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

#[test]
fn raw_load_rejects_release_and_acqrel_without_touching_memory() {
    let mut src = [1u8; 16];
    let src = AtomicBytes::from_mut(&mut src);
    for order in LOAD_BAD {
        let mut dst = [0xEEu8; 16];
        let msg = panics(|| {
            // SAFETY: both regions are valid, disjoint and private to this test.
            unsafe { bytewise::load(src.as_ptr(), dst.as_mut_ptr(), 16, order) }
        });
        assert!(
            msg.is_some_and(|m| m.contains("load")),
            "{order:?} did not panic"
        );
        assert_eq!(dst, [0xEE; 16], "{order:?}: destination was written");
    }
    for order in LOAD_OK {
        let mut dst = [0u8; 16];
        // SAFETY: as above.
        unsafe { bytewise::load(src.as_ptr(), dst.as_mut_ptr(), 16, order) };
        assert_eq!(dst, [1; 16]);
    }
}

#[test]
fn raw_store_and_fill_reject_acquire_and_acqrel_without_touching_memory() {
    let mut backing = [0xEEu8; 16];
    let dst = AtomicBytes::from_mut(&mut backing);
    let src = [1u8; 16];
    for order in STORE_BAD {
        let msg = panics(|| {
            // SAFETY: both regions are valid, disjoint and private to this test.
            unsafe { bytewise::store(src.as_ptr(), dst.as_ptr(), 16, order) }
        });
        assert!(
            msg.is_some_and(|m| m.contains("store")),
            "store {order:?} did not panic"
        );
        let msg = panics(|| {
            // SAFETY: `dst` is valid for 16 bytes.
            unsafe { bytewise::fill(dst.as_ptr(), 7, 16, order) }
        });
        assert!(
            msg.is_some_and(|m| m.contains("store")),
            "fill {order:?} did not panic"
        );
        assert_eq!(
            dst.to_vec(Ordering::Relaxed),
            [0xEE; 16],
            "{order:?}: destination written"
        );
    }
    for order in STORE_OK {
        dst.fill(0, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { bytewise::store(src.as_ptr(), dst.as_ptr(), 16, order) };
        assert_eq!(dst.to_vec(Ordering::Relaxed), [1; 16]);
        // SAFETY: as above.
        unsafe { bytewise::fill(dst.as_ptr(), 2, 16, order) };
        assert_eq!(dst.to_vec(Ordering::Relaxed), [2; 16]);
    }
}

#[test]
fn raw_copy_accepts_every_ordering() {
    let (mut a, mut b) = ([3u8; 8], [0u8; 8]);
    let (a, b) = (AtomicBytes::from_mut(&mut a), AtomicBytes::from_mut(&mut b));
    for order in ALL {
        b.fill(0, Ordering::Relaxed);
        // SAFETY: both views are valid for 8 bytes and disjoint.
        unsafe { bytewise::copy(a.as_ptr(), b.as_ptr(), 8, order) };
        assert_eq!(b.to_vec(Ordering::Relaxed), [3; 8], "{order:?}");
    }
}

#[test]
fn safe_types_reject_bad_orderings_without_touching_memory() {
    let mut backing = [5u8; 8];
    let view = AtomicBytes::from_mut(&mut backing);
    for order in LOAD_BAD {
        let mut out = [0xEEu8; 8];
        assert!(panics(|| view.load(&mut out, order)).is_some(), "{order:?}");
        assert_eq!(out, [0xEE; 8]);
        assert!(panics(|| drop(view.to_vec(order))).is_some(), "{order:?}");
        let cell = AtomicPerByte::new(1u64);
        let mut dst = core::mem::MaybeUninit::new(0xEEEE_u64);
        assert!(
            panics(|| cell.load_to(&mut dst, order)).is_some(),
            "{order:?}"
        );
        // SAFETY: `dst` was initialized above and not written by the panicking call.
        assert_eq!(unsafe { dst.assume_init() }, 0xEEEE);
        assert!(panics(|| _ = cell.load_value(order)).is_some(), "{order:?}");
    }
    for order in STORE_BAD {
        assert!(panics(|| view.store(&[1; 8], order)).is_some(), "{order:?}");
        assert!(panics(|| view.fill(1, order)).is_some(), "{order:?}");
        let cell = AtomicPerByte::new(7u64);
        assert!(panics(|| cell.store(9, order)).is_some(), "{order:?}");
        assert_eq!(
            cell.load_value(Ordering::Relaxed),
            7,
            "{order:?}: cell was written"
        );
    }
    assert_eq!(view.to_vec(Ordering::Relaxed), [5; 8], "view was written");
}

/// Message passing with only this crate's operations: the writer stores a
/// message with `store(Relaxed)`, then a flag with `store(Release)`; a reader
/// that sees the flag through `load(Acquire)` must then see the whole
/// message, even with a `Relaxed` load. Miri's weak-memory emulation can
/// return stale bytes here if either fence is missing.
#[test]
fn release_store_acquire_load_message_passing() {
    const N: usize = 64;
    for round in 0..iters(200, 4) {
        let cells: Vec<AtomicU8> = (0..N + 1).map(|_| AtomicU8::new(0)).collect();
        let all = AtomicBytes::new(&cells);
        let (data, flag) = (all.get(..N).unwrap(), all.get(N..).unwrap());
        let value = (round % 250) as u8 + 1;
        let mut seen = [0u8; N];
        std::thread::scope(|s| {
            s.spawn(|| {
                data.store(&[value; N], Ordering::Relaxed);
                flag.store(&[1], Ordering::Release);
            });
            s.spawn(|| {
                let mut f = [0u8];
                loop {
                    flag.load(&mut f, Ordering::Acquire);
                    if f[0] == 1 {
                        break;
                    }
                    std::hint::spin_loop();
                    std::thread::yield_now();
                }
                data.load(&mut seen, Ordering::Relaxed);
            });
        });
        assert_eq!(
            seen, [value; N],
            "round {round}: message not whole after the flag"
        );
    }
}

/// The classic publish shape: plain private data, published by a
/// byte-wise `store(Release)` of a flag byte region, read by `load(Acquire)`;
/// after the acquire load the plain data must be visible. Miri reports a data
/// race here if the fences are missing.
#[test]
fn acquire_load_makes_plain_writes_visible() {
    for _ in 0..iters(200, 4) {
        let mut boxed = Box::new(0u64);
        let ptr = SendPtr(&mut *boxed as *mut u64);
        let flag: Vec<AtomicU8> = (0..4).map(|_| AtomicU8::new(0)).collect();
        let flag = AtomicBytes::new(&flag);
        std::thread::scope(|s| {
            s.spawn(|| {
                let p = ptr;
                // SAFETY: the reader only reads `*p.0` after it saw the flag,
                // which this thread sets after this write (release/acquire).
                unsafe { p.0.write(0xDEAD_BEEF) };
                flag.store(&[1, 1, 1, 1], Ordering::Release);
            });
            s.spawn(|| {
                let p = ptr;
                let mut f = [0u8; 4];
                loop {
                    flag.load(&mut f, Ordering::Acquire);
                    if f.contains(&1) {
                        break;
                    }
                    std::hint::spin_loop();
                    std::thread::yield_now();
                }
                // SAFETY: we saw at least one flag byte from the release
                // store, so the write above happens-before this read.
                assert_eq!(unsafe { p.0.read() }, 0xDEAD_BEEF);
            });
        });
    }
}

#[derive(Clone, Copy)]
struct SendPtr(*mut u64);
// SAFETY: the test synchronizes every access through the flag.
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}
