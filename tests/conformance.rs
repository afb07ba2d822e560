//! One conformance suite, run against every kernel the CPU supports (the
//! portable one always; each asm kernel where the CPU has its features).
//!
//! For each operation it checks, for every length 0..=600 and several large
//! ones, at many source and destination misalignments:
//! - every destination byte has the value the source byte had;
//! - every byte just outside the destination is untouched (guard bytes);
//! - the source is unchanged.

#![allow(clippy::multiple_unsafe_ops_per_block, clippy::std_instead_of_core)]

mod common;

use bytewise::__kernels::{self, Kernel};
use common::{Aligned, GUARD, GUARD_BYTE, Op, fill_byte, iters, pattern, run};

/// Runs `op` of `kernel` once and checks the result and the guards.
fn check(kernel: &Kernel, op: Op, len: usize, src_off: usize, dst_off: usize) {
    let mut src = Aligned::new(GUARD + len + GUARD + 64, 0);
    for (i, b) in src.bytes_mut().iter_mut().enumerate() {
        *b = pattern(len, i);
    }
    let src_before = src.bytes().to_vec();
    let mut dst = Aligned::new(GUARD + len + GUARD + 64, GUARD_BYTE);
    let (s, d) = (GUARD + src_off, GUARD + dst_off);
    let fill_byte = fill_byte(len);
    run(kernel, op, &mut src, &mut dst, len, src_off, dst_off);
    let out = dst.bytes();
    let ctx = || {
        format!(
            "kernel {} {op:?} len {len} src+{src_off} dst+{dst_off}",
            kernel.name
        )
    };
    let expect_at = |i: usize| {
        if (d..d + len).contains(&i) {
            match op {
                Op::Fill => fill_byte,
                _ => src_before[s + (i - d)],
            }
        } else {
            GUARD_BYTE
        }
    };
    // Fast whole-slice comparisons first; locate the first bad byte only on
    // failure.
    let inside_ok = match op {
        Op::Fill => out[d..d + len].iter().all(|&b| b == fill_byte),
        _ => out[d..d + len] == src_before[s..s + len],
    };
    let guards_ok = out[..d].iter().all(|&b| b == GUARD_BYTE)
        && out[d + len..].iter().all(|&b| b == GUARD_BYTE);
    if !(inside_ok && guards_ok) {
        let i = (0..out.len()).find(|&i| out[i] != expect_at(i)).unwrap();
        panic!(
            "{}: byte {i} is {:#04x}, expected {:#04x}",
            ctx(),
            out[i],
            expect_at(i)
        );
    }
    assert!(
        src.bytes() == &src_before[..],
        "{}: the source changed",
        ctx()
    );
}

/// Lengths whose every misalignment pair is checked.
fn short_max() -> usize {
    iters(64, 8)
}

fn lengths() -> Vec<usize> {
    if cfg!(miri) {
        let mut v: Vec<usize> = (0..=17).collect();
        v.extend([31, 32, 33, 64, 129, 600]);
        v
    } else {
        let mut v: Vec<usize> = (0..=1024).collect();
        // Each length threshold of the x86_64 dispatch above 1 KiB, +-64
        // (`tests/differential.rs` adds +-1 and 16 MiB).
        v.extend([1088, 1984, 2048, 2112, 8128, 8256, 32704, 32832]);
        v.extend([
            4095,
            4096,
            4097,
            8191,
            32768 + 3,
            65537,
            (1 << 20) + 5,
            (4 << 20) + 1,
        ]);
        v
    }
}

fn misalignments(len: usize) -> Vec<(usize, usize)> {
    let n = if cfg!(miri) { 4 } else { 64 };
    if len <= short_max() {
        (0..n).flat_map(|s| (0..n).map(move |d| (s, d))).collect()
    } else if len <= 1024 {
        // Every source misalignment, every destination misalignment, and a
        // diagonal that moves both.
        (0..n)
            .flat_map(|k| [(k, 0), (0, k), (k, (k * 7) % n)])
            .collect()
    } else {
        vec![(0, 0), (3, 0), (0, 5), (1, 63), (17, 33), (63, 1)]
            .into_iter()
            .take(if cfg!(miri) { 2 } else { 6 })
            .collect()
    }
}

fn run_suite(op: Op) {
    let kernels = __kernels::all();
    for kernel in kernels.iter() {
        for len in lengths() {
            for (s, d) in misalignments(len) {
                check(&kernel, op, len, s, d);
            }
        }
    }
}

#[test]
fn load_conforms() {
    run_suite(Op::Load);
}

#[test]
fn store_conforms() {
    run_suite(Op::Store);
}

#[test]
fn copy_conforms() {
    run_suite(Op::Copy);
}

#[test]
fn fill_conforms() {
    run_suite(Op::Fill);
}

/// Length 0 touches nothing, so dangling (non-null) pointers are fine.
#[test]
fn zero_length_accepts_dangling_pointers() {
    let p = core::ptr::NonNull::<u8>::dangling().as_ptr();
    let q = core::ptr::NonNull::<u64>::dangling().as_ptr().cast::<u8>();
    for kernel in __kernels::all().iter() {
        // SAFETY: `len == 0`: the kernels must not dereference the pointers.
        unsafe {
            (kernel.load)(p, q, 0);
            (kernel.store)(p, q, 0);
            (kernel.copy)(p, q, 0);
            (kernel.fill)(q, 0, 0);
        }
    }
    // And through the public functions.
    // SAFETY: as above.
    unsafe {
        bytewise::load(p, q, 0, bytewise::Ordering::Acquire);
        bytewise::store(p, q, 0, bytewise::Ordering::Release);
        bytewise::copy(p, q, 0, bytewise::Ordering::SeqCst);
        bytewise::fill(q, 1, 0, bytewise::Ordering::Relaxed);
    }
}

/// The suite must be able to fail: a kernel that drops the last byte of each
/// copy is caught.
#[test]
#[should_panic(expected = "expected")]
fn negative_control_short_copy_is_caught() {
    /// A broken kernel: copies one byte too few.
    ///
    /// # Safety
    ///
    /// As `bytewise::load`.
    unsafe fn short_load(src: *const u8, dst: *mut u8, len: usize) -> usize {
        // SAFETY: forwards to the real kernel with a shorter length.
        unsafe { bytewise::load(src, dst, len.saturating_sub(1), bytewise::Ordering::Relaxed) };
        0
    }
    let portable = __kernels::all().get("portable").unwrap();
    let broken = Kernel {
        name: "short",
        load: short_load,
        ..portable
    };
    for len in 0..8 {
        check(&broken, Op::Load, len, 0, 0);
    }
}

/// And a kernel that writes one byte past the end is caught by the guards.
#[test]
#[should_panic(expected = "expected 0xa5")]
fn negative_control_overrun_is_caught() {
    /// A broken kernel: writes one byte too many.
    ///
    /// # Safety
    ///
    /// As `bytewise::fill`, with one more writable byte after `dst + len`.
    unsafe fn long_fill(dst: *mut u8, byte: u8, len: usize) -> usize {
        // SAFETY: the test buffers have guard bytes after the destination.
        unsafe { bytewise::fill(dst, byte, len + 1, bytewise::Ordering::Relaxed) };
        0
    }
    let portable = __kernels::all().get("portable").unwrap();
    let broken = Kernel {
        name: "long",
        fill: long_fill,
        ..portable
    };
    check(&broken, Op::Fill, 5, 0, 0);
}
