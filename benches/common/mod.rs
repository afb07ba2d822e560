//! What the copy benchmarks share: the `atomic-memcpy` baseline, used at its
//! best (8-aligned chunks whose size is known at compile time).
#![allow(dead_code, unreachable_pub)]

use core::mem::MaybeUninit;
use core::sync::atomic::Ordering::Relaxed;

/// 64 bytes, 8-aligned: `atomic-memcpy`'s `AtomicUsize` path with the
/// alignment known at compile time.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct Chunk64([u8; 64]);

/// 8 bytes, 8-aligned, for copies shorter than 64 bytes.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct Chunk8([u8; 8]);

/// One cache line, to build 64-byte-aligned buffers.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
pub struct Line(pub [u8; 64]);

/// `atomic-memcpy` load of `n` bytes: 8-byte chunks below 64 bytes, 64-byte
/// chunks from there (`n` is a multiple of 8, and of 64 from 64 on).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `src` is valid for reads and `dst` for writes of `n` bytes;
/// - `src` is 8-aligned;
/// - the regions do not overlap and nothing else accesses them.
#[inline(always)]
pub unsafe fn amc_load(src: *const u8, dst: *mut u8, n: usize) {
    if n < 64 {
        for i in (0..n).step_by(8) {
            // SAFETY: `i + 8 <= n`, 8-aligned (caller).
            let x = unsafe {
                atomic_memcpy::atomic_load(src.wrapping_add(i).cast::<Chunk8>(), Relaxed)
            };
            // SAFETY: in bounds of `dst`.
            unsafe {
                dst.wrapping_add(i)
                    .cast::<MaybeUninit<Chunk8>>()
                    .write_unaligned(x)
            };
        }
    } else {
        for i in (0..n).step_by(64) {
            // SAFETY: `i + 64 <= n`, 8-aligned (caller).
            let x = unsafe {
                atomic_memcpy::atomic_load(src.wrapping_add(i).cast::<Chunk64>(), Relaxed)
            };
            // SAFETY: in bounds of `dst`.
            unsafe {
                dst.wrapping_add(i)
                    .cast::<MaybeUninit<Chunk64>>()
                    .write_unaligned(x)
            };
        }
    }
}

/// `atomic-memcpy` store of `n` bytes, chunked as [`amc_load`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `src` is valid for reads of `n` initialized bytes, `dst` for writes;
/// - `dst` is 8-aligned;
/// - the regions do not overlap and nothing else accesses them.
#[inline(always)]
pub unsafe fn amc_store(src: *const u8, dst: *mut u8, n: usize) {
    if n < 64 {
        for i in (0..n).step_by(8) {
            // SAFETY: in bounds of the initialized `src`.
            let x = unsafe { src.wrapping_add(i).cast::<Chunk8>().read_unaligned() };
            // SAFETY: `i + 8 <= n`, 8-aligned (caller).
            unsafe {
                atomic_memcpy::atomic_store(dst.wrapping_add(i).cast::<Chunk8>(), x, Relaxed)
            };
        }
    } else {
        for i in (0..n).step_by(64) {
            // SAFETY: in bounds of the initialized `src`.
            let x = unsafe { src.wrapping_add(i).cast::<Chunk64>().read_unaligned() };
            // SAFETY: `i + 64 <= n`, 8-aligned (caller).
            unsafe {
                atomic_memcpy::atomic_store(dst.wrapping_add(i).cast::<Chunk64>(), x, Relaxed)
            };
        }
    }
}
