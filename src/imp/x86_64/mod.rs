//! x86_64 kernels in inline assembly, chosen at run time.
//!
//! - `small`: 0 to 64 bytes, inlined into the public functions; no dispatch.
//! - `vector`: SSE2, AVX2 and AVX-512 loops (the latter also backward), the
//!   same with non-temporal stores, and `rep movsb`/`rep stosb`.
//! - `detect`: `cpuid`/`xgetbv`, run once and cached in an `AtomicU8`.
//!
//! Every kernel returns 0, or the address that faulted: each memory
//! instruction has an exception-table entry (`imp/extable.rs`), and the
//! dispatchers only pass on what the routine they tail-call returns.
//!
//! The soundness argument (why each instruction is single-copy atomic per
//! byte, why the overlapping moves of `load` are fine and why the shared
//! side is never written twice) is in `src/imp/README.md`.

/// The 16-byte unaligned move: VEX-encoded `vmovdqu` when this crate is
/// compiled with AVX (`-C target-cpu=native` on an AVX machine, say), the
/// legacy-SSE `movdqu` otherwise.
///
/// The blocks that use it (`small`, and `vector::load_mid_sse2`) are
/// inlined into the caller, which may itself be AVX code
/// with dirty upper ymm halves; a legacy-SSE instruction there costs a state
/// transition (Intel) or a merge with the upper halves (Intel optimization
/// manual, "Mixing AVX code with SSE code"), a VEX one nothing. Without AVX
/// in the build, the VEX form cannot be used at all (the small paths run on
/// every x86_64 CPU without a feature test), and the compiler's own code
/// around the block is legacy SSE as well.
#[cfg(target_feature = "avx")]
macro_rules! movdqu {
    () => {
        "vmovdqu"
    };
}
#[cfg(not(target_feature = "avx"))]
macro_rules! movdqu {
    () => {
        "movdqu"
    };
}

mod detect;
mod small;
mod vector;

use self::detect::{AVX2, AVX512, ERMS, cached, features};

/// The hooks behind `bytewise::__kernels::{disable, features}`.
pub(crate) use self::detect::{bit as feature_bit, disable, names as feature_names};

/// The feature bits the public functions dispatch on now.
pub(crate) fn feature_bits() -> u8 {
    features()
}
use core::mem::{MaybeUninit, size_of, transmute_copy};

use super::Kernel;
use super::alloc_free::KernelList;

/// Lengths up to this are handled inline by `small`.
const SMALL_MAX: usize = 64;

/// Lengths from `SMALL_MAX + 1` up to this are handled inline by the
/// `*_mid_avx512` and `*_mid_avx2` paths (no loop, no call) on CPUs with
/// those features.
const MID_MAX: usize = 256;

/// Below this length the public functions may call the forward AVX-512 loop
/// directly (see [`direct`]); everything else goes through [`copy_large`].
const DIRECT_MAX: usize = 8 * 1024;

/// Whether a copy of `64 < len` bytes goes straight to the forward AVX-512
/// loop: below [`BWD_MIN`] (2 KiB) always, below [`DIRECT_MAX`] when
/// source and destination are co-aligned mod 64 and do not alias (exactly
/// the cases in which [`copy_avx512_machine`] would pick it).
#[inline(always)]
fn direct(src: *const u8, dst: *mut u8, len: usize) -> bool {
    let dist = dst.addr().wrapping_sub(src.addr());
    len < BWD_MIN || (len < DIRECT_MAX && dist % 64 == 0 && !aliases(dist))
}

/// Whether a copy of `256 < len` bytes on a CPU with AVX2 and without
/// AVX-512 takes the forward AVX2 loop: below [`REP_MIN`], and not a
/// 4K-aliasing pair from [`BWD_MIN_AVX2`] (exactly the cases in which
/// [`copy_large`] would pick it).
#[inline(always)]
fn direct_avx2(src: *const u8, dst: *mut u8, len: usize) -> bool {
    len < REP_MIN && (len < BWD_MIN_AVX2 || !aliases(dst.addr().wrapping_sub(src.addr())))
}

/// Whether `dst..dst + len` crosses a 4 KiB page boundary.
///
/// On CPUs without AVX2, `load` of 129 to 256 bytes takes the loop, whose
/// stores are aligned, instead of the sixteen overlapping unaligned moves
/// for such a destination: two of those stores are then split across the
/// pages, which is slow, where glibc's `memcpy` for these CPUs aligns its
/// stores. At source +17, destination +4001 from a page (`-- --at N
/// 17/4001`, `BYTEWISE_MASK=avx2`): 200 bytes 0.27-0.30x `memcpy` with the
/// overlapping moves, 0.78-0.90x with the loop; 256 bytes 0.55-0.61x and
/// 0.95-0.96x. At 96 bytes the overlapping moves stay (one split store
/// either way: 1.16x against 0.72x at destination +4032). `store` keeps
/// its path: the loop measured 0.54-0.60x against 0.50-0.54x there, and
/// 0.73x against 0.92x at 256 bytes without a page crossing.
#[inline(always)]
fn crosses_page(dst: *mut u8, len: usize) -> bool {
    dst.addr() % 4096 + len > 4096
}

/// From this length up to [`NT_MIN`], `rep movsb` (with ERMS) beats the
/// vector loops of every CPU class, for every placement (see
/// [`rep_fits`]; CPUs without AVX2 start at [`REP_MIN_SSE2`]). Measured
/// on Zen 5 with `cargo bench --bench compare -- --kernels` (ratio to
/// glibc `memcpy`, which is `rep movsb` itself there): `rep movsb`
/// 0.87/0.94/0.99/1.20x at 32 KiB/64 KiB/256 KiB/1 MiB, the AVX-512 loop
/// 0.59/0.76/0.96/0.98x, the AVX2 loop 0.60/0.77/1.06/0.98x; at 16 KiB
/// the loops win (1.59x against 0.78x). The Zen 3 figures put
/// `rep movsb` at 0.94-1.02x from 4 KiB to 256 KiB there, where the AVX2
/// loop measured 1.34x at 4 KiB and 0.98x at 64 KiB.
const REP_MIN: usize = 32 * 1024;

/// [`REP_MIN`] for CPUs without AVX2: `rep movsb` beats the SSE2 loops
/// from 2 KiB. `cargo bench --bench compare -- --at N 0/0,0/64,3/0
/// rep_movsb sse2` with `BYTEWISE_MASK=avx2` (Zen 5): at 2 KiB `rep movsb`
/// 1.11x, 1.00x, 1.44x `memcpy` against 0.89-0.95x, 0.94-0.96x, 1.29-1.32x
/// for the loop; 4 KiB 1.35-2.07x against 0.94-1.33x; 16 KiB 1.77-2.52x
/// against 0.94-1.42x; at 1536 bytes the loop still wins (0.89-0.94x
/// against 0.82-0.93x, and 0.92x against 0.74x with the destination
/// crossing a page).
const REP_MIN_SSE2: usize = 2048;

/// The length from which `rep movsb` is used (with ERMS) on a CPU with the
/// features `f`.
#[inline(always)]
fn rep_min(f: u8) -> usize {
    if f & (AVX2 | AVX512) == 0 {
        REP_MIN_SSE2
    } else {
        REP_MIN
    }
}

/// Whether `rep movsb` suits this pair below [`REP_MIN`] (only CPUs
/// without AVX2 use it there, from [`REP_MIN_SSE2`]): the destination is not
/// 1 to 63 bytes ahead of the source modulo 4 KiB. For such pairs the SSE2
/// loop measured 1.30x/1.14x `memcpy` at 2 KiB against 0.99x/0.97x for
/// `rep movsb` (destination +3, `--at 2048 0/3 rep_movsb sse2`,
/// `BYTEWISE_MASK=avx2`).
///
/// From [`REP_MIN`] every pair takes `rep movsb`: with the destination 3,
/// 16 or 32 bytes ahead it measured 0.94x at 32 KiB, 0.97x at 64 KiB,
/// 0.98-1.00x at 256 KiB and 1.06-1.08x at 1 MiB, where the backward
/// AVX-512 loop these pairs used to take gave 0.71x, 0.69-0.79x, 0.54-0.98x
/// and 0.99-1.03x (`cargo bench --bench compare -- --at N 0/3,0/16,0/32
/// avx512 avx512_bwd rep_movsb`, Zen 5). An earlier measurement had put
/// `rep movsb` at 3.5 GB/s for such pairs; it did not reproduce.
#[inline(always)]
fn rep_fits(src: *const u8, dst: *mut u8) -> bool {
    let d = dst.addr().wrapping_sub(src.addr()) % 4096;
    !(1..64).contains(&d)
}

/// Up to this length a source misaligned against the destination is copied
/// with the AVX2 loop rather than the AVX-512 one: with 64-byte loads every
/// load then splits across two cache lines, with 32-byte loads only every
/// other one, and while the data is in L1/L2 that decides (measured up to
/// 1.20x vs 1.02x memcpy at 4 KiB with the source 3 bytes off).
const SPLIT_MAX: usize = 32 * 1024;

/// From this length (and below [`SPLIT_MAX`]) the AVX-512 machine copies a
/// source misaligned against the destination with the AVX2 loop. Below it
/// the zmm loop's single masked head and tail beat the AVX2 loop's chain of
/// branches: at 1 KiB with the source 3 bytes off, 0.74x `memcpy` against
/// 0.56x (Zen 5, `-- --kernels`); at 2 KiB they are level (0.81x, 0.80x).
const SPLIT_MIN: usize = 2048;

/// From this length the AVX-512 copies of a 4K-aliasing pair run backward
/// (see [`aliases`]); below it the forward loop is faster even for those
/// pairs: on Zen 5 at 1 KiB, destination +3/+16/+64/+256/+448 past the
/// source's page offset, the forward loop measured 0.96-1.20x `memcpy`
/// where the backward one gave 0.71-0.89x (1.00-1.19x against 0.93-0.97x
/// at 1536 B).
const BWD_MIN: usize = 2048;

/// [`BWD_MIN`] for the AVX2 loops (CPUs without AVX-512). With both loops
/// in one 64-byte line and their heads and tails skipped by one branch when
/// there is nothing to move, forward beats backward for 4K-aliasing pairs
/// below 4 KiB: `load`/`store` of 2 KiB with the destination 3, 64 and 256
/// bytes past the source's page offset measured 1.05/0.87x, 1.02/1.00x and
/// 1.02/1.00x `memcpy` forward against 0.87x, 0.96x and 1.02x backward
/// (1 KiB: 0.97-1.04x against 0.91-1.04x); from 4 KiB backward wins
/// (1.22x against 1.16-1.17x, +3: 1.62x against 1.44x). Zen 5, AVX2
/// dispatch through the feature mask, `examples`-style harness calling
/// each kernel alone, medians of 61 interleaved rounds.
const BWD_MIN_AVX2: usize = 4096;

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
///   AVX-512 loop below [`SPLIT_MIN`], the AVX2 loop up to [`SPLIT_MAX`],
///   then the backward AVX-512 loop, which measured 1.00x memcpy at 1-4 MiB where
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
        if len < SPLIT_MIN {
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

/// Feature masks for the dispatch functions: `ALL` is what the public
/// functions use (the detected features, less whatever `BYTEWISE_MASK`
/// removed, see `detect`); the others dispatch exactly as on a CPU without
/// AVX-512, or without AVX2 (and so without AVX-512), so that the tests can
/// run those paths on any machine. Every mask keeps `INIT`.
const ALL: u8 = u8::MAX;
/// As on a CPU without AVX-512 (an AVX2-only CPU, if this one has AVX2).
const NO_AVX512: u8 = !AVX512;
/// As on a CPU without AVX2 (SSE2, and ERMS if this one has it).
const NO_AVX2: u8 = !(AVX2 | AVX512);

/// The dispatcher for copies longer than [`SMALL_MAX`], with the features
/// in `M`; `f` is the cached feature byte masked with `M`, which the
/// callers have just read (0 before the first detection).
///
/// `SHARED_DST` says whether the destination is shared (`store`, `copy`)
/// or private (`load`), which only the fences around `rep movsb` depend on.
///
/// Every arm is a tail call of a kernel with this function's own arguments,
/// so it compiles to tests and one `jmp`: nothing is saved on the stack.
/// The one call that would need the arguments afterwards, the first
/// detection, lives in [`copy_large_cold`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len > SMALL_MAX`;
/// - `f` is `cached() & M` read by this thread (so it holds no feature
///   `detect` did not report).
#[inline(never)]
unsafe fn copy_large<const M: u8, const SHARED_DST: bool>(
    src: *const u8,
    dst: *mut u8,
    len: usize,
    f: u8,
) -> usize {
    // SAFETY (every arm): the caller's contract and `len > 64`; each arm
    // only runs instructions whose feature bit `detect` reported (SSE2 and
    // `rep movsb` are part of x86_64).
    if f == 0 {
        // SAFETY: as above.
        unsafe { copy_large_cold::<M, SHARED_DST>(src, dst, len) }
    } else if len >= NT_MIN {
        if f & AVX512 != 0 {
            // SAFETY: as above.
            unsafe { vector::copy_avx512_nt(src, dst, len) }
        } else {
            // SAFETY: as above.
            unsafe { vector::copy_sse2_nt(src, dst, len) }
        }
    } else if len >= rep_min(f) && f & ERMS != 0 && (len >= REP_MIN || rep_fits(src, dst)) {
        if SHARED_DST {
            // SAFETY: as above.
            unsafe { vector::rep_movsb_shared(src, dst, len) }
        } else {
            // SAFETY: as above.
            unsafe { vector::rep_movsb_private(src, dst, len) }
        }
    } else if f & AVX512 != 0 {
        // SAFETY: as above.
        unsafe { copy_avx512_machine(src, dst, len) }
    } else if f & AVX2 != 0 {
        if len >= BWD_MIN_AVX2 && aliases(dst.addr().wrapping_sub(src.addr())) {
            // SAFETY: as above.
            unsafe { vector::copy_avx2_bwd(src, dst, len) }
        } else if SHARED_DST {
            // SAFETY: as above.
            unsafe { vector::copy_avx2(src, dst, len) }
        } else {
            // SAFETY: as above; the destination is private.
            unsafe { vector::load_avx2(src, dst, len) }
        }
    } else if SHARED_DST {
        // SAFETY: as above.
        unsafe { vector::copy_sse2(src, dst, len) }
    } else {
        // SAFETY: as above; the destination is private.
        unsafe { vector::load_sse2(src, dst, len) }
    }
}

/// [`copy_large`] before the first detection: detects, then dispatches.
///
/// # Safety
///
/// As [`copy_large`].
#[cold]
#[inline(never)]
unsafe fn copy_large_cold<const M: u8, const SHARED_DST: bool>(
    src: *const u8,
    dst: *mut u8,
    len: usize,
) -> usize {
    features();
    // SAFETY: the caller's contract; the cache is now set, so this does not
    // come back here.
    unsafe { copy_large::<M, SHARED_DST>(src, dst, len, cached() & M) }
}

/// The dispatcher for fills longer than [`SMALL_MAX`], as [`copy_large`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `dst`, `len`;
/// - `len > SMALL_MAX`.
#[inline(never)]
unsafe fn fill_large<const M: u8>(dst: *mut u8, byte: u8, len: usize) -> usize {
    let f = cached() & M;
    // SAFETY (every arm): as in `copy_large`.
    if f == 0 {
        // SAFETY: as above.
        unsafe { fill_large_cold::<M>(dst, byte, len) }
    } else if f & AVX512 != 0 {
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

/// [`fill_large`] before the first detection.
///
/// # Safety
///
/// As [`fill_large`].
#[cold]
#[inline(never)]
unsafe fn fill_large_cold<const M: u8>(dst: *mut u8, byte: u8, len: usize) -> usize {
    features();
    // SAFETY: the caller's contract; the cache is now set.
    unsafe { fill_large::<M>(dst, byte, len) }
}

/// Byte-wise atomic reads of `src`, plain writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
    // SAFETY: the caller's contract.
    unsafe { load_masked::<ALL>(src, dst, len) }
}

/// [`load`] with the features in `M`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline(always)]
unsafe fn load_masked<const M: u8>(src: *const u8, dst: *mut u8, len: usize) -> usize {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        return unsafe { small::load(src, dst, len) };
    }
    // Read the feature cache only above the small paths: a copy of up to
    // 64 bytes then pays no load of it.
    let f = cached() & M;
    if len <= MID_MAX && f & AVX512 != 0 {
        // The common cases are handled inline or called directly, to save
        // a level of calls.
        // SAFETY: the caller's contract (`dst` is private), `65 <= len
        // <= 256`, AVX-512 detected.
        unsafe { vector::load_mid_avx512(src, dst, len) }
    } else if len <= MID_MAX && f & AVX2 != 0 {
        // SAFETY: the caller's contract (`dst` is private), `65 <= len
        // <= 256`, AVX2 detected.
        unsafe { vector::load_mid_avx2(src, dst, len) }
    } else if len <= MID_MAX && f != 0 && (len <= 128 || !crosses_page(dst, len)) {
        // Detected, and neither AVX-512 nor AVX2.
        // SAFETY: the caller's contract (`dst` is private), `65 <= len
        // <= 256`; SSE2 is part of x86_64.
        unsafe { vector::load_mid_sse2(src, dst, len) }
    } else if len <= MID_MAX && f != 0 {
        // The same, 129 to 256 bytes with a destination that crosses a
        // page: the loop's aligned stores (see `crosses_page`).
        // SAFETY: the caller's contract (`dst` is private), `len > 64`.
        unsafe { vector::load_sse2(src, dst, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { above_mid::<M, false>(src, dst, len, f) }
    }
}

/// `load`, `store` and `copy` above [`MID_MAX`] (or before the first
/// detection), given the masked feature byte `f`: the forward loop of the
/// CPU class called directly where it is the choice, else [`copy_large`].
/// `load` and `store` share it, so both make the same choice.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`,
///   with `dst` private unless `SHARED_DST`;
/// - `len > SMALL_MAX`, and `f` is the cached feature byte masked with `M`.
#[inline(always)]
unsafe fn above_mid<const M: u8, const SHARED_DST: bool>(
    src: *const u8,
    dst: *mut u8,
    len: usize,
    f: u8,
) -> usize {
    if f & AVX512 == 0 {
        // CPUs without AVX-512: the forward loops are called directly, as
        // the AVX-512 loop is below. Through `copy_large` (a call through
        // the GOT, then an indirect `jmp`), a 1 KiB `store` measured
        // 0.68-0.72x `memcpy` on the AVX2 path where calling `copy_avx2`
        // directly gave 0.93-0.96x (`load`: 0.82-0.84x against
        // 0.93-0.96x; SSE2 path 0.81-0.91x against 0.92-1.00x).
        if f & AVX2 != 0 && direct_avx2(src, dst, len) {
            if SHARED_DST {
                // SAFETY: the caller's contract, AVX2 detected.
                return unsafe { vector::copy_avx2(src, dst, len) };
            }
            // SAFETY: the caller's contract (private `dst`), AVX2 detected.
            return unsafe { vector::load_avx2(src, dst, len) };
        }
        if f & AVX2 == 0 && f != 0 && len < REP_MIN_SSE2 {
            if SHARED_DST {
                // SAFETY: the caller's contract; SSE2 is part of x86_64.
                return unsafe { vector::copy_sse2(src, dst, len) };
            }
            // SAFETY: the caller's contract (private `dst`); SSE2.
            return unsafe { vector::load_sse2(src, dst, len) };
        }
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { copy_large::<M, SHARED_DST>(src, dst, len, f) }
    } else if len <= 512 {
        // SAFETY: the caller's contract, `257 <= len <= 512` (shorter
        // copies took the inline paths), AVX-512 detected.
        unsafe { vector::store_avx512_512(src, dst, len) }
    } else if direct(src, dst, len) {
        // The common case, called directly to save a level of calls.
        // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
        unsafe { vector::copy_avx512(src, dst, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { copy_large::<M, SHARED_DST>(src, dst, len, f) }
    }
}

/// Plain reads of `src`, byte-wise atomic writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
    // SAFETY: the caller's contract.
    unsafe { store_masked::<ALL>(src, dst, len) }
}

/// [`store`] with the features in `M`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline(always)]
unsafe fn store_masked<const M: u8>(src: *const u8, dst: *mut u8, len: usize) -> usize {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        return unsafe { small::copy(src, dst, len) };
    }
    // Read the feature cache only above the small paths: a copy of up to
    // 64 bytes then pays no load of it.
    let f = cached() & M;
    if len <= MID_MAX && f & AVX512 != 0 {
        // Inline, like `load`'s 65-256 bytes.
        // SAFETY: the caller's contract, `65 <= len <= 256`, AVX-512
        // detected.
        unsafe { vector::store_mid_avx512(src, dst, len) }
    } else if len <= MID_MAX && f & AVX2 != 0 {
        // SAFETY: the caller's contract, `65 <= len <= 256`, AVX2 detected.
        unsafe { vector::store_mid_avx2(src, dst, len) }
    } else if len <= MID_MAX && f != 0 {
        // Detected, and neither AVX-512 nor AVX2: one direct call.
        // SAFETY: the caller's contract, `65 <= len <= 256`; SSE2 is part
        // of x86_64.
        unsafe { vector::store_mid_sse2(src, dst, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { above_mid::<M, true>(src, dst, len, f) }
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
    // SAFETY: the caller's contract.
    unsafe { fill_masked::<ALL>(dst, byte, len) }
}

/// [`fill`] with the features in `M`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline(always)]
unsafe fn fill_masked<const M: u8>(dst: *mut u8, byte: u8, len: usize) -> usize {
    if len <= SMALL_MAX {
        // SAFETY: the caller's contract, and `len <= 64`.
        unsafe { small::fill(dst, byte, len) }
    } else if cached() & M & AVX512 != 0 && len < NT_MIN {
        // The common case, called directly to save a level of calls.
        // SAFETY: the caller's contract, `len > 64`, AVX-512 detected.
        unsafe { vector::fill_avx512(dst, byte, len) }
    } else {
        // SAFETY: the caller's contract, and `len > 64`.
        unsafe { fill_large::<M>(dst, byte, len) }
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
    vector::load_sse2,
    vector::copy_sse2,
    vector::fill_sse2
);
/// [`vector::load_avx2`] for every `len > 64`, as the fixed `"avx2"`
/// kernel of the tests needs: below 128 bytes, [`vector::load_mid_avx2`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`, with
///   `dst` private;
/// - `len > 64`, and the CPU supports AVX2.
#[inline(never)]
unsafe fn load_avx2_any(src: *const u8, dst: *mut u8, len: usize) -> usize {
    if len < 128 {
        // SAFETY: the caller's contract, `65 <= len < 128`.
        unsafe { vector::load_mid_avx2(src, dst, len) }
    } else {
        // SAFETY: the caller's contract, `len >= 128`.
        unsafe { vector::load_avx2(src, dst, len) }
    }
}

fixed_kernel!(
    AVX2_K,
    "avx2",
    load_avx2_any,
    vector::copy_avx2,
    vector::fill_avx2
);
fixed_kernel!(
    AVX2_BWD,
    "avx2_bwd",
    vector::copy_avx2_bwd,
    vector::copy_avx2_bwd,
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

/// Defines a [`Kernel`] that runs the public functions' dispatch with the
/// features in `$mask`, exactly as on a CPU that lacks the others.
macro_rules! masked_dispatch {
    ($konst:ident, $name:literal, $mask:expr) => {
        const $konst: Kernel = {
            /// # Safety
            ///
            /// See the kernel contract in `imp/mod.rs`.
            #[inline(never)]
            unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
                // SAFETY: the caller's contract.
                unsafe { load_masked::<{ $mask }>(src, dst, len) }
            }
            /// # Safety
            ///
            /// See the kernel contract in `imp/mod.rs`.
            #[inline(never)]
            unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
                // SAFETY: the caller's contract.
                unsafe { store_masked::<{ $mask }>(src, dst, len) }
            }
            /// # Safety
            ///
            /// See the kernel contract in `imp/mod.rs`.
            #[inline(never)]
            unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
                // SAFETY: the caller's contract.
                unsafe { fill_masked::<{ $mask }>(dst, byte, len) }
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

masked_dispatch!(DISPATCH_NO_AVX512, "dispatch_no_avx512", NO_AVX512);
masked_dispatch!(DISPATCH_NO_AVX2, "dispatch_no_avx2", NO_AVX2);

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
        list.push(AVX2_BWD);
    }
    if f & AVX512 != 0 {
        list.push(AVX512_K);
        list.push(AVX512_BWD);
        list.push(NT_AVX512);
    }
    if f & AVX512 != 0 {
        list.push(DISPATCH_NO_AVX512);
    }
    if f & AVX2 != 0 {
        list.push(DISPATCH_NO_AVX2);
    }
    list.push(VALUE_STORE);
    list.push(DISPATCH);
}

/// `load` of a whole `T` returned by value, for sizes of 8 to 64 bytes
/// that are a multiple of 8: the value is built in general-purpose
/// registers and stored once, by the caller, where it goes
/// (`small::load_gpr1` to `load_gpr8`). `None` for other sizes, which take
/// `load` into a buffer.
///
/// A `SeqLock<[u64; 8]>` read through a buffer (four loads and four
/// stores, then four loads and four stores again into the return slot)
/// measured 2.02-2.43 ns; built in registers, 1.70-2.20 ns (`cargo bench
/// --bench seqlock`, the `seqlock` crate 1.45-2.15 ns in the same runs).
/// 8-byte pieces rather than 16-byte ones: a value at an 8-aligned address
/// never has an 8-byte piece split across cache lines.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `size_of::<T>()`
///   and a private destination.
#[inline(always)]
pub(crate) unsafe fn load_value<T>(src: *const u8) -> Option<(MaybeUninit<T>, usize)> {
    /// One arm: `$f` loads exactly `size_of::<T>()` bytes into registers,
    /// which `transmute_copy` then reads whole.
    macro_rules! arm {
        ($f:ident) => {{
            // SAFETY: the caller's contract.
            let (r, fault) = unsafe { small::$f(src) };
            // SAFETY: `r` is exactly `size_of::<T>()` bytes (this arm's
            // size), all initialised.
            Some((unsafe { transmute_copy(&r) }, fault))
        }};
    }
    match size_of::<T>() {
        8 => arm!(load_gpr1),
        16 => arm!(load_gpr2),
        24 => arm!(load_gpr3),
        32 => arm!(load_gpr4),
        40 => arm!(load_gpr5),
        48 => arm!(load_gpr6),
        56 => arm!(load_gpr7),
        64 => arm!(load_gpr8),
        _ => None,
    }
}
