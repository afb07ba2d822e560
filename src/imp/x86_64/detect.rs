//! CPU feature detection, done once and cached.
//!
//! `no_std`: the CPU is asked directly with `cpuid` and `xgetbv`, in inline
//! asm, rather than through `std::is_x86_feature_detected!`.
//!
//! A vector width is only usable if the CPU implements the instructions
//! *and* the operating system saves the register state on context switches
//! (Intel SDM Vol. 1 §13.3 and §15.2 "Detection of AVX-512 Foundation
//! Instructions"; AMD APM Vol. 2 §11.5.2): CPUID.1:ECX.OSXSAVE must be set
//! before `xgetbv` may run, and XCR0 must enable SSE+AVX state (bits 1, 2)
//! for ymm, plus opmask, ZMM_Hi256 and Hi16_ZMM state (bits 5, 6, 7) for zmm.

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// Set once detection has run (so a cached 0 means "not yet").
const INIT: u8 = 1 << 0;
/// AVX2 instructions and OS-enabled ymm state.
pub(super) const AVX2: u8 = 1 << 1;
/// AVX-512F and AVX-512BW instructions and OS-enabled zmm and opmask state
/// (implies `AVX2`).
pub(super) const AVX512: u8 = 1 << 2;
/// Enhanced `rep movsb`/`rep stosb` (CPUID.(EAX=7,ECX=0):EBX.ERMS[bit 9]).
pub(super) const ERMS: u8 = 1 << 3;
/// Fast short `rep movsb` (CPUID.(EAX=7,ECX=0):EDX.FSRM[bit 4]).
pub(super) const FSRM: u8 = 1 << 4;

static CACHE: AtomicU8 = AtomicU8::new(0);

/// The feature bits of this CPU, detected on first use.
///
/// Relaxed is enough: detection is idempotent, so two threads racing on the
/// first call both compute and store the same value, and the cached byte
/// carries no other data.
#[inline]
pub(super) fn features() -> u8 {
    let f = CACHE.load(Relaxed);
    if f != 0 { f } else { detect_and_cache() }
}

/// The cached feature bits, or 0 if detection has not run yet (so every
/// feature test on the result fails and the caller takes the path that
/// calls [`features`]).
#[inline(always)]
pub(super) fn cached() -> u8 {
    CACHE.load(Relaxed)
}

#[cold]
#[inline(never)]
fn detect_and_cache() -> u8 {
    let f = detect() | INIT;
    // Only the first detection is stored, so that a feature removed by
    // [`disable`] meanwhile stays removed.
    match CACHE.compare_exchange(0, f, Relaxed, Relaxed) {
        Ok(_) => f,
        Err(cached) => cached,
    }
}

/// Removes the features in `remove` from the cache, so that every later
/// dispatch runs as on a CPU without them (removing AVX2 removes AVX-512,
/// which implies it). The test and benchmark hook behind
/// `bytewise::__kernels::disable`.
///
/// Sound at any time, from any thread: the cache only ever loses bits, so
/// every value a racing reader sees is a subset of what this CPU supports.
pub(crate) fn disable(mut remove: u8) {
    if remove & AVX2 != 0 {
        remove |= AVX512;
    }
    features();
    CACHE.fetch_and(!(remove & !INIT), Relaxed);
}

/// The names of the features `bits` holds, for benchmark headers.
pub(crate) fn names(bits: u8) -> impl Iterator<Item = &'static str> {
    [
        (AVX2, "avx2"),
        (AVX512, "avx512f+bw"),
        (ERMS, "erms"),
        (FSRM, "fsrm"),
    ]
    .into_iter()
    .filter(move |&(b, _)| bits & b != 0)
    .map(|(_, n)| n)
}

/// The feature bit called `name` (as `BYTEWISE_MASK` and
/// `__kernels::disable` spell it).
pub(crate) fn bit(name: &str) -> Option<u8> {
    match name {
        "avx2" => Some(AVX2),
        "avx512" => Some(AVX512),
        "erms" => Some(ERMS),
        "fsrm" => Some(FSRM),
        _ => None,
    }
}

/// `cpuid` with `leaf` in eax and `sub` in ecx; returns (eax, ebx, ecx, edx).
fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let (a, b, c, d): (u32, u64, u32, u32);
    // Options: `nomem` (cpuid touches no memory), `nostack`,
    // `preserves_flags` (cpuid and mov/xchg leave RFLAGS unchanged).
    // SAFETY: `cpuid` exists on every x86_64 CPU and writes only eax..edx;
    // rbx, which LLVM reserves, is saved in a scratch register and swapped
    // back, so it is left as it was.
    unsafe {
        asm!(
            "mov {t}, rbx",
            "cpuid",
            "xchg {t}, rbx",
            t = out(reg) b,
            inout("eax") leaf => a,
            inout("ecx") sub => c,
            out("edx") d,
            options(nomem, nostack, preserves_flags),
        );
    }
    (a, b as u32, c, d)
}

/// XCR0, the OS-enabled register state.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - CPUID.1:ECX.OSXSAVE[bit 27] is set (otherwise `xgetbv` raises #UD).
unsafe fn xcr0() -> u64 {
    let (lo, hi): (u32, u32);
    // Options: `nomem`, `nostack`, `preserves_flags` (xgetbv reads a
    // control register into edx:eax and nothing else).
    // SAFETY: the caller checked OSXSAVE, so `xgetbv` is enabled, and
    // ecx = 0 selects XCR0, which always exists then.
    unsafe {
        asm!(
            "xgetbv",
            in("ecx") 0u32,
            out("eax") lo,
            out("edx") hi,
            options(nomem, nostack, preserves_flags),
        );
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

fn detect() -> u8 {
    let bit = |reg: u32, n: u32| reg & (1 << n) != 0;
    let (max_leaf, ..) = cpuid(0, 0);
    let (_, _, ecx1, _) = cpuid(1, 0);
    let (ebx7, edx7) = if max_leaf >= 7 {
        let (_, b, _, d) = cpuid(7, 0);
        (b, d)
    } else {
        (0, 0)
    };
    let mut f = 0;
    if bit(ebx7, 9) {
        f |= ERMS;
    }
    if bit(edx7, 4) {
        f |= FSRM;
    }
    let osxsave = bit(ecx1, 27);
    let avx = bit(ecx1, 28);
    if osxsave {
        // SAFETY: OSXSAVE is set (checked just above).
        let xcr0 = unsafe { xcr0() };
        let ymm_state = xcr0 & 0b110 == 0b110;
        let zmm_state = xcr0 & 0b1110_0110 == 0b1110_0110;
        if avx && bit(ebx7, 5) && ymm_state {
            f |= AVX2;
            if bit(ebx7, 16) && bit(ebx7, 30) && zmm_state {
                f |= AVX512;
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_is_cached_and_consistent() {
        let a = features();
        assert_ne!(a & INIT, 0);
        assert_eq!(features(), a);
        // AVX-512 is only reported together with AVX2.
        assert!(a & AVX512 == 0 || a & AVX2 != 0);
    }

    #[cfg(feature = "std")]
    #[test]
    fn agrees_with_std() {
        extern crate std;
        let f = features();
        assert_eq!(f & AVX2 != 0, std::is_x86_feature_detected!("avx2"));
        assert_eq!(
            f & AVX512 != 0,
            std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw")
        );
        assert_eq!(f & ERMS != 0, std::is_x86_feature_detected!("ermsb"));
    }
}
