//! Negative controls for the Miri job: programs that are undefined behaviour
//! on purpose, which Miri must reject. They prove that `ci/miri.sh` can fail.
//!
//! Compiled only under Miri, and `#[ignore]`d so that a plain
//! `cargo miri test` skips them; `ci/miri.sh` runs each one alone with
//! `--ignored` and requires Miri to report the race.
#![cfg(miri)]
#![allow(clippy::multiple_unsafe_ops_per_block, clippy::std_instead_of_core)]

use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

/// A plain `copy_nonoverlapping` racing with an atomic writer: a data race.
#[test]
#[ignore = "undefined behaviour on purpose; run by ci/miri.sh, which requires Miri to reject it"]
fn plain_copy_races_with_writer() {
    let shared: Vec<AtomicU8> = (0..16).map(|_| AtomicU8::new(0)).collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..4 {
                shared[3].store(i, Ordering::Relaxed);
            }
        });
        s.spawn(|| {
            let mut local = [0u8; 16];
            // SAFETY: none: this read races with the writer. That is the
            // point: Miri must report it.
            unsafe {
                std::ptr::copy_nonoverlapping(shared.as_ptr().cast::<u8>(), local.as_mut_ptr(), 16)
            };
            std::hint::black_box(local);
        });
    });
}

/// Why the portable kernel reads bytes, not words: a word-sized atomic load
/// racing with a byte-sized atomic store is rejected too.
#[test]
#[ignore = "undefined behaviour on purpose; run by ci/miri.sh, which requires Miri to reject it"]
fn mixed_size_atomics_race() {
    let word = AtomicU32::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: none: a 1-byte atomic view of a 4-byte atomic that
            // another thread loads concurrently. Miri must reject it.
            let byte = unsafe { AtomicU8::from_ptr(word.as_ptr().cast::<u8>()) };
            byte.store(1, Ordering::Relaxed);
        });
        s.spawn(|| {
            std::hint::black_box(word.load(Ordering::Relaxed));
        });
    });
}
