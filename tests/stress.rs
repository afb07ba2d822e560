//! Concurrency stress: a writer rewrites a region with generations of
//! single-byte values while readers copy it. Every byte a reader gets must be
//! a value that byte really held during its copy.
//!
//! The writer publishes generation `g` in a counter (Release) after writing
//! it, and writes with `store`/`fill` at `Release`. A reader loads the counter
//! (`g0`), copies with `load(Acquire)`, loads the counter again (`g1`). Each
//! byte must then come from a generation in `g0..=g1 + 1`:
//! - not older than `g0`: generation `g0` was fully written before the reader
//!   saw the counter (release/acquire), and per-location coherence forbids
//!   going back;
//! - not newer than `g1 + 1`: a byte of generation `g1 + 2` would be preceded
//!   by the writer's release fence, after which it published `g1 + 1`; the
//!   reader's acquire fence would then make that counter value visible to its
//!   second counter load.
#![allow(clippy::multiple_unsafe_ops_per_block, clippy::std_instead_of_core)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytewise::{__kernels, AtomicBytes};
use common::iters;

fn value_of(generation: u64) -> u8 {
    generation as u8
}

/// Checks one copy against the window `g0..=g1 + 1`.
fn check_copy(copy: &[u8], g0: u64, g1: u64) -> Result<(), String> {
    let hi = g1 + 1;
    if hi - g0 >= 255 {
        return Ok(()); // the window covers every byte value: nothing to check
    }
    for (i, &b) in copy.iter().enumerate() {
        if !(g0..=hi).any(|g| value_of(g) == b) {
            return Err(format!(
                "byte {i} = {b} not written during generations {g0}..={hi}"
            ));
        }
    }
    Ok(())
}

struct Region {
    bytes: Vec<std::sync::atomic::AtomicU8>,
    generation: AtomicU64,
    stop: AtomicBool,
}

impl Region {
    fn new(len: usize) -> Self {
        Region {
            bytes: (0..len)
                .map(|_| std::sync::atomic::AtomicU8::new(0))
                .collect(),
            generation: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    fn view(&self) -> &AtomicBytes {
        AtomicBytes::new(&self.bytes)
    }

    /// Writes generations until told to stop or `max` is reached; alternates
    /// `store` and `fill`.
    fn write_generations(&self, max: u64) {
        let mut buf = vec![0u8; self.bytes.len()];
        for g in 1..=max {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            if g % 2 == 0 {
                buf.fill(value_of(g));
                self.view().store(&buf, Ordering::Release);
            } else {
                self.view().fill(value_of(g), Ordering::Release);
            }
            self.generation.store(g, Ordering::Release);
        }
    }

    /// One checked read through `load_fn`.
    fn read_checked(
        &self,
        dst: &mut [u8],
        load_fn: impl Fn(&AtomicBytes, &mut [u8]),
    ) -> Result<(), String> {
        let g0 = self.generation.load(Ordering::Acquire);
        load_fn(self.view(), dst);
        let g1 = self.generation.load(Ordering::Acquire);
        check_copy(dst, g0, g1)
    }
}

fn stress(
    len: usize,
    readers: usize,
    reads: usize,
    load_fn: impl Fn(&AtomicBytes, &mut [u8]) + Sync,
) {
    let region = Region::new(len);
    std::thread::scope(|s| {
        s.spawn(|| region.write_generations(u64::MAX));
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                s.spawn(|| {
                    let mut dst = vec![0u8; len];
                    for n in 0..reads {
                        if let Err(e) = region.read_checked(&mut dst, &load_fn) {
                            return Err(format!("read {n}: {e}"));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        region.stop.store(true, Ordering::Relaxed);
        for r in results {
            r.unwrap();
        }
    });
}

#[test]
fn readers_see_only_written_bytes_public_path() {
    stress(iters(4096, 256), 2, iters(20_000, 6), |v, d| {
        v.load(d, Ordering::Acquire)
    });
}

/// The same through every kernel's `load`, with the fence done by hand.
#[test]
fn readers_see_only_written_bytes_every_kernel() {
    for kernel in __kernels::all().iter() {
        stress(iters(4096, 128), 1, iters(5_000, 3), |v, d| {
            // SAFETY: `v` is valid for `d.len()` bytes and only accessed
            // atomically; `d` is private and disjoint.
            unsafe { (kernel.load)(v.as_ptr(), d.as_mut_ptr(), d.len()) };
            std::sync::atomic::fence(Ordering::Acquire);
        });
    }
}

/// `copy` between two shared regions keeps the property too.
#[test]
fn readers_see_only_written_bytes_through_copy() {
    let staging = Region::new(iters(4096, 128));
    stress(iters(4096, 128), 1, iters(5_000, 3), |v, d| {
        staging.view().copy_from(v, Ordering::AcqRel);
        staging.view().load(d, Ordering::Relaxed);
    });
}

/// Negative control: a reader that returns a stale copy (what a compiler
/// would produce by hoisting or reusing an earlier read) is caught.
#[test]
fn negative_control_stale_copy_is_caught() {
    let region = Region::new(256);
    let mut stale = vec![0u8; 256];
    region.view().load(&mut stale, Ordering::Acquire); // generation 0
    std::thread::scope(|s| {
        s.spawn(|| region.write_generations(3));
    });
    let err = region.read_checked(&mut vec![0u8; 256], |_, d| d.copy_from_slice(&stale));
    assert!(err.is_err(), "a stale copy passed the check");
}

/// Negative control: a copy holding a byte value that was never written
/// during the read (here: a corrupted byte) is caught.
#[test]
fn negative_control_corrupt_byte_is_caught() {
    let region = Region::new(256);
    std::thread::scope(|s| {
        s.spawn(|| region.write_generations(10));
    });
    let err = region.read_checked(&mut vec![0u8; 256], |v, d| {
        v.load(d, Ordering::Acquire);
        d[100] = d[100].wrapping_add(77);
    });
    assert!(err.is_err(), "a corrupted byte passed the check");
}
