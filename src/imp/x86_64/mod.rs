//! x86_64 kernels in inline assembly, chosen at run time.
//!
//! - `small`: 0 to 64 bytes, inlined into the public functions; no dispatch.
//! - `vector`: SSE2, AVX2 and AVX-512 loops, the same with non-temporal
//!   stores, and `rep movsb`/`rep stosb`.
//! - `detect`: `cpuid`/`xgetbv`, run once and cached in an `AtomicU8`.
//!
//! The soundness argument (why each instruction is single-copy atomic per
//! byte, why the overlapping moves of `load` are fine and why the shared
//! side is never written twice) is in `src/imp/README.md`.

mod detect;
mod small;
mod vector;

use self::detect::{AVX2, AVX512, ERMS, cached, features};
use super::Kernel;
use super::alloc_free::KernelList;

/// Lengths up to this are handled inline by `small`.
const SMALL_MAX: usize = 64;

/// From this length `rep movsb` (with ERMS) beats the SSE2 loop, and can
/// beat the wider loops (see [`prefer_rep`]).
const REP_MIN: usize = 32 * 1024;

/// Up to this length (data in L2) `rep movsb` can beat the AVX-512 loop.
const REP_MAX: usize = 1024 * 1024;

/// Whether a forward loop would suffer from 4K aliasing: the destination is
/// less than 512 bytes ahead of the source modulo 4 KiB (see
/// `vector::copy_avx512_bwd`).
#[inline(always)]
fn aliases(src: *const u8, dst: *mut u8) -> bool {
    let dist = dst.addr().wrapping_sub(src.addr()) % 4096;
    dist != 0 && dist < 512
}

/// From this length the AVX-512 paths copy backward when [`aliases`] holds;
/// below it the stall measured smaller than the cost of the check.
const BWD_MIN: usize = 8 * 1024;

/// The AVX-512 copy for `64 < len < REP_MIN` (or any length if called from
/// `copy_large`): backward when the forward loop would alias.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len >= 64`, and the CPU supports AVX-512F/BW.
#[inline(always)]
unsafe fn avx512_any_direction(src: *const u8, dst: *mut u8, len: usize) {
    if len >= BWD_MIN && aliases(src, dst) {
        // SAFETY: the caller's contract.
        unsafe { vector::copy_avx512_bwd(src, dst, len) }
    } else {
        // SAFETY: the caller's contract.
        unsafe { vector::copy_avx512(src, dst, len) }
    }
}

/// Whether `rep movsb` should replace the AVX-512 loop for a copy of
/// `REP_MIN..REP_MAX` bytes.
///
/// Measured on Zen 5 (`cargo bench --bench compare -- --kernels`): with the
/// source and destination equally aligned modulo 64, `rep movsb` is as fast
/// as or faster than the loop; and when the destination is less than 512
/// bytes ahead of the source modulo 4 KiB, the loop's loads falsely depend on
/// its own pending stores ("4K aliasing") and lose up to 10%, which the
/// microcoded copy avoids. Otherwise (a source misaligned against the
/// destination) the loop is up to 9% faster.
#[inline(always)]
fn prefer_rep(src: *const u8, dst: *mut u8) -> bool {
    let dist = dst.addr().wrapping_sub(src.addr());
    dist % 64 == 0 || dist % 4096 < 512
}

/// From this length non-temporal stores beat everything else: the copy no
/// longer fits in the last-level cache, so bypassing it saves the reads for
/// ownership and the eviction of useful lines.
const NT_MIN: usize = 8 * 1024 * 1024;

/// The dispatcher for copies longer than [`SMALL_MAX`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len > SMALL_MAX`.
#[inline(never)]
unsafe fn copy_large(src: *const u8, dst: *mut u8, len: usize, shared_dst: bool) {
    let f = features();
    // SAFETY (every arm): the caller's contract and `len > 64`; each arm
    // only runs instructions whose feature bit `detect` reported (SSE2 and
    // `rep movsb` are part of x86_64).
    if f & AVX512 != 0 {
        if (REP_MIN..REP_MAX).contains(&len) && f & ERMS != 0 && prefer_rep(src, dst) {
            if shared_dst {
                // SAFETY: as above.
                unsafe { vector::rep_movsb_shared(src, dst, len) }
            } else {
                // SAFETY: as above.
                unsafe { vector::rep_movsb_private(src, dst, len) }
            }
        } else if len < NT_MIN {
            // SAFETY: as above.
            unsafe { avx512_any_direction(src, dst, len) }
        } else {
            // SAFETY: as above.
            unsafe { vector::copy_avx512_nt(src, dst, len) }
        }
    } else if f & AVX2 != 0 {
        if len < NT_MIN {
            // SAFETY: as above.
            unsafe { vector::copy_avx2(src, dst, len) }
        } else {
            // SAFETY: as above.
            unsafe { vector::copy_sse2_nt(src, dst, len) }
        }
    } else if len >= NT_MIN {
        // SAFETY: as above.
        unsafe { vector::copy_sse2_nt(src, dst, len) }
    } else if len >= REP_MIN && f & ERMS != 0 {
        if shared_dst {
            // SAFETY: as above.
            unsafe { vector::rep_movsb_shared(src, dst, len) }
        } else {
            // SAFETY: as above.
            unsafe { vector::rep_movsb_private(src, dst, len) }
        }
    } else {
        // SAFETY: as above.
        unsafe { vector::copy_sse2(src, dst, len) }
    }
}

/// The dispatcher for fills longer than [`SMALL_MAX`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `dst`, `len`;
/// - `len > SMALL_MAX`.
#[inline(never)]
unsafe fn fill_large(dst: *mut u8, byte: u8, len: usize) {
    let f = features();
    // SAFETY (every arm): as in `copy_large`.
    if f & AVX512 != 0 {
        if len < NT_MIN {
            // SAFETY: as above.
            unsafe { vector::fill_avx512(dst, byte, len) }
        } else {
            // SAFETY: as above.
            unsafe { vector::fill_avx512_nt(dst, byte, len) }
        }
    } else if len >= NT_MIN {
        // SAFETY: as above.
        unsafe { vector::fill_sse2_nt(dst, byte, len) }
    } else if f & AVX2 != 0 {
        // SAFETY: as above.
        unsafe { vector::fill_avx2(dst, byte, len) }
    } else if len >= REP_MIN && f & ERMS != 0 {
        // SAFETY: as above.
        unsafe { vector::rep_stosb(dst, byte, len) }
    } else {
        // SAFETY: as above.
        unsafe { vector::fill_sse2(dst, byte, len) }
    }
}

/// Byte-wise atomic reads of `src`, plain writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::load(src, dst, len) }
    } else if cached() & AVX512 != 0 && len < REP_MIN {
        // The common cases, called directly to save a level of calls.
        if len <= 256 {
            // SAFETY: the caller's contract (`dst` is private), `65 <= len
            // <= 256`, AVX-512 detected.
            unsafe { vector::load_mid_avx512(src, dst, len) }
        } else {
            // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
            unsafe { avx512_any_direction(src, dst, len) }
        }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { copy_large(src, dst, len, false) }
    }
}

/// Plain reads of `src`, byte-wise atomic writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::copy(src, dst, len) }
    } else if cached() & AVX512 != 0 && len < REP_MIN {
        // The common case, called directly to save a level of calls.
        // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
        unsafe { avx512_any_direction(src, dst, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { copy_large(src, dst, len, true) }
    }
}

/// Byte-wise atomic on both sides.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::copy(src, dst, len) }
    } else if cached() & AVX512 != 0 && len < REP_MIN {
        // The common case, called directly to save a level of calls.
        // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
        unsafe { avx512_any_direction(src, dst, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { copy_large(src, dst, len, true) }
    }
}

/// Byte-wise atomic writes of `byte`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::fill(dst, byte, len) }
    } else if cached() & AVX512 != 0 && len < NT_MIN {
        // The common case, called directly to save a level of calls.
        // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
        unsafe { vector::fill_avx512(dst, byte, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { fill_large(dst, byte, len) }
    }
}

/// Defines a [`Kernel`] that always uses one large-copy routine above
/// [`SMALL_MAX`] (and the inline small paths below it), so the tests can
/// force each routine in turn.
macro_rules! fixed_kernel {
    ($konst:ident, $name:literal, $load:path, $store:path, $fill:path) => {
        const $konst: Kernel = {
            /// # Safety
            ///
            /// See the kernel contract in `imp/mod.rs`; the CPU supports the
            /// routine (`supported_kernels` only lists it then).
            #[inline(never)]
            unsafe fn load(src: *const u8, dst: *mut u8, len: usize) {
                if len <= SMALL_MAX {
                    // SAFETY: the caller's contract, and `len <= 64`.
                    unsafe { small::load(src, dst, len) }
                } else {
                    // SAFETY: the caller's contract, `len > 64`, CPU support.
                    unsafe { $load(src, dst, len) }
                }
            }
            /// # Safety
            ///
            /// As `load`.
            #[inline(never)]
            unsafe fn store(src: *const u8, dst: *mut u8, len: usize) {
                if len <= SMALL_MAX {
                    // SAFETY: the caller's contract, and `len <= 64`.
                    unsafe { small::copy(src, dst, len) }
                } else {
                    // SAFETY: the caller's contract, `len > 64`, CPU support.
                    unsafe { $store(src, dst, len) }
                }
            }
            /// # Safety
            ///
            /// As `load`.
            #[inline(never)]
            unsafe fn fill(dst: *mut u8, byte: u8, len: usize) {
                if len <= SMALL_MAX {
                    // SAFETY: the caller's contract, and `len <= 64`.
                    unsafe { small::fill(dst, byte, len) }
                } else {
                    // SAFETY: the caller's contract, `len > 64`, CPU support.
                    unsafe { $fill(dst, byte, len) }
                }
            }
            Kernel {
                name: $name,
                load,
                store,
                copy: store,
                fill,
            }
        };
    };
}

fixed_kernel!(
    SSE2,
    "sse2",
    vector::copy_sse2,
    vector::copy_sse2,
    vector::fill_sse2
);
fixed_kernel!(
    AVX2_K,
    "avx2",
    vector::copy_avx2,
    vector::copy_avx2,
    vector::fill_avx2
);
fixed_kernel!(
    AVX512_K,
    "avx512",
    vector::copy_avx512,
    vector::copy_avx512,
    vector::fill_avx512
);
fixed_kernel!(
    NT_SSE2,
    "nt_sse2",
    vector::copy_sse2_nt,
    vector::copy_sse2_nt,
    vector::fill_sse2_nt
);
fixed_kernel!(
    AVX512_BWD,
    "avx512_bwd",
    vector::copy_avx512_bwd,
    vector::copy_avx512_bwd,
    vector::fill_avx512
);
fixed_kernel!(
    NT_AVX512,
    "nt_avx512",
    vector::copy_avx512_nt,
    vector::copy_avx512_nt,
    vector::fill_avx512_nt
);
fixed_kernel!(
    REP_MOVSB,
    "rep_movsb",
    vector::rep_movsb_private,
    vector::rep_movsb_shared,
    vector::rep_stosb
);

/// What the public functions run.
const DISPATCH: Kernel = Kernel {
    name: "dispatch",
    load,
    store,
    copy,
    fill,
};

/// Appends the asm kernels this CPU supports, and last `"dispatch"`.
pub(crate) fn supported_kernels(list: &mut KernelList) {
    let f = features();
    list.push(SSE2);
    list.push(NT_SSE2);
    list.push(REP_MOVSB);
    if f & AVX2 != 0 {
        list.push(AVX2_K);
    }
    if f & AVX512 != 0 {
        list.push(AVX512_K);
        list.push(AVX512_BWD);
        list.push(NT_AVX512);
    }
    list.push(DISPATCH);
}
