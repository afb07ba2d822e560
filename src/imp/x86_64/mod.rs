//! x86_64 kernels in inline assembly, chosen at run time.
//!
//! - `small`: 0 to 64 bytes, inlined into the public functions; no dispatch.
//! - `vector`: SSE2, AVX2 and AVX-512 loops (the latter also backward), the
//!   same with non-temporal stores, and `rep movsb`/`rep stosb`.
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

/// Below this length the public functions may call the forward AVX-512 loop
/// directly (see [`direct`]); everything else goes through [`copy_large`].
const DIRECT_MAX: usize = 8 * 1024;

/// Whether a copy of `64 < len` bytes goes straight to the forward AVX-512
/// loop: below 1 KiB always, below [`DIRECT_MAX`] when source and
/// destination are co-aligned mod 64 and do not alias (exactly the cases in
/// which [`copy_avx512_machine`] would pick it).
#[inline(always)]
fn direct(src: *const u8, dst: *mut u8, len: usize) -> bool {
    let dist = dst.addr().wrapping_sub(src.addr());
    len < BWD_MIN || (len < DIRECT_MAX && dist % 64 == 0 && !aliases(dist))
}

/// Without AVX2, from this length `rep movsb` (with ERMS) beats the SSE2
/// loop. On AVX-512 machines it never measured faster than the loops below
/// (Zen 5, `cargo bench --bench compare -- --kernels`), so it is not used
/// there.
const REP_MIN: usize = 32 * 1024;

/// Up to this length a source misaligned against the destination is copied
/// with the AVX2 loop rather than the AVX-512 one: with 64-byte loads every
/// load then splits across two cache lines, with 32-byte loads only every
/// other one, and while the data is in L1/L2 that decides (measured up to
/// 1.20x vs 1.02x memcpy at 4 KiB with the source 3 bytes off).
const SPLIT_MAX: usize = 32 * 1024;

/// From this length the AVX-512 copies of a 4K-aliasing pair run backward
/// (see [`aliases`]); below it the loop is too short to stall much.
const BWD_MIN: usize = 1024;

/// From this length non-temporal stores beat everything else: source and
/// destination no longer fit in the last-level cache (32 MiB here), so
/// bypassing it saves the reads for ownership and the eviction of useful
/// lines. Measured: 1.5-1.8x memcpy at 16 MiB and more, but 0.75-1.0x at
/// 8 MiB, where the loops still win.
const NT_MIN: usize = 16 * 1024 * 1024;

/// Whether a forward loop would suffer from 4K aliasing, given
/// `dist = dst - src`: the destination is less than 512 bytes ahead of the
/// source modulo 4 KiB, so each iteration's loads have the page offsets of
/// recent stores, still in the store buffer, and wait on a false dependency
/// (measured 0.58x memcpy at 16 KiB and 0.29x at 4 KiB). See
/// `vector::copy_avx512_bwd`.
#[inline(always)]
fn aliases(dist: usize) -> bool {
    let d = dist % 4096;
    d != 0 && d < 512
}

/// The AVX-512 machine's choice for `64 < len < NT_MIN`.
///
/// - 4K-aliasing pairs (see [`aliases`]) from [`BWD_MIN`]: backward;
/// - source misaligned against the destination (mod 64): the forward
///   AVX-512 loop below 1 KiB, the AVX2 loop up to [`SPLIT_MAX`], then the
///   backward AVX-512 loop, which measured 1.00x memcpy at 1-4 MiB where
///   the forward one gave 0.95x;
/// - otherwise: the forward AVX-512 loop.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len >= 64`, and the CPU supports AVX-512F/BW (hence AVX2).
#[inline(always)]
unsafe fn copy_avx512_machine(src: *const u8, dst: *mut u8, len: usize) -> usize {
    let dist = dst.addr().wrapping_sub(src.addr());
    if len >= BWD_MIN && aliases(dist) {
        // SAFETY: the caller's contract.
        unsafe { vector::copy_avx512_bwd(src, dst, len) }
    } else if dist % 64 != 0 {
        if len < 1024 {
            // Short: the AVX2 loop's branchy head and tail would dominate.
            // SAFETY: the caller's contract.
            unsafe { vector::copy_avx512(src, dst, len) }
        } else if len < SPLIT_MAX {
            // SAFETY: the caller's contract; AVX2 comes with AVX-512 here.
            unsafe { vector::copy_avx2(src, dst, len) }
        } else {
            // SAFETY: the caller's contract.
            unsafe { vector::copy_avx512_bwd(src, dst, len) }
        }
    } else {
        // SAFETY: the caller's contract.
        unsafe { vector::copy_avx512(src, dst, len) }
    }
}

/// The dispatcher for copies longer than [`SMALL_MAX`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len > SMALL_MAX`.
#[inline(never)]
unsafe fn copy_large(src: *const u8, dst: *mut u8, len: usize, shared_dst: bool) -> usize {
    let f = features();
    // SAFETY (every arm): the caller's contract and `len > 64`; each arm
    // only runs instructions whose feature bit `detect` reported (SSE2 and
    // `rep movsb` are part of x86_64).
    if f & AVX512 != 0 {
        if len < NT_MIN {
            // SAFETY: as above.
            unsafe { copy_avx512_machine(src, dst, len) }
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
unsafe fn fill_large(dst: *mut u8, byte: u8, len: usize) -> usize {
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
pub(crate) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::load(src, dst, len) }
    } else if cached() & AVX512 != 0 && len <= 256 {
        // The common cases are called directly to save a level of calls.
        // SAFETY: the caller's contract (`dst` is private), `65 <= len
        // <= 256`, AVX-512 detected.
        unsafe { vector::load_mid_avx512(src, dst, len) }
    } else if cached() & AVX512 != 0 && direct(src, dst, len) {
        // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
        unsafe { vector::copy_avx512(src, dst, len) }
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
pub(crate) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::copy(src, dst, len) }
    } else if cached() & AVX512 != 0 && len <= 256 {
        // Inline, like `load`'s 65-256 bytes.
        // SAFETY: the caller's contract, `65 <= len <= 256`, AVX-512
        // detected.
        unsafe { vector::store_mid_avx512(src, dst, len) }
    } else if cached() & AVX512 != 0 && direct(src, dst, len) {
        // The common case, called directly to save a level of calls.
        // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
        unsafe { vector::copy_avx512(src, dst, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { copy_large(src, dst, len, true) }
    }
}

/// [`store`] for a source that is a value just built by the caller: up to
/// `SMALL_MAX` bytes (see [`value_store_covers`]) it moves pieces of at most 8 bytes, which the
/// CPU forwards from the stores that wrote the value (see
/// `small::store_value`); longer values take [`store`].
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn store_value(src: *const u8, dst: *mut u8, len: usize) -> usize {
    if value_store_covers(len) {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::store_value(src, dst, len) }
    } else {
        // SAFETY: the caller's contract.
        unsafe { store(src, dst, len) }
    }
}

/// Whether [`store_value`] moves a value of `len` bytes in
/// forwarding-friendly pieces (rather than calling [`store`]).
#[inline(always)]
pub(crate) const fn value_store_covers(len: usize) -> bool {
    len <= SMALL_MAX
}

/// Byte-wise atomic on both sides.
///
/// The same instructions as [`store`]: every path there reads each source
/// byte once (loads before stores, no overlapping loads) and writes each
/// destination byte once, so a shared source is read exactly as `store`
/// reads a private one.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) -> usize {
    // SAFETY: the caller's contract, which includes `store`'s.
    unsafe { store(src, dst, len) }
}

/// Byte-wise atomic writes of `byte`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
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
            unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
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
            unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
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
            unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
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

/// The dispatcher with [`store_value`] as its store, so that the test suites
/// cover the value path at every length.
const VALUE_STORE: Kernel = Kernel {
    name: "value_store",
    store: store_value,
    ..DISPATCH
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
    list.push(VALUE_STORE);
    list.push(DISPATCH);
}
