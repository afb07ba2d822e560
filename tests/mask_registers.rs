//! The inlined asm blocks declare every register they write, whatever target
//! features the *caller* is compiled with.
//!
//! `bytewise::store` and `bytewise::copy` are `#[inline]`, and their 65-256
//! byte AVX-512 path is an `asm!` block inlined into the caller that writes
//! the opmask register `k1`. A caller compiled with
//! `#[target_feature(enable = "avx512f,avx512bw")]` may keep a mask in `k1`
//! across the call; if the block did not declare `k1` clobbered, the
//! caller's masked store after the call would use the block's mask instead:
//! a wrong result or an out-of-bounds write. Each caller below keeps seven
//! masks live across the copy, so that the register allocator has to place
//! one of them in `k1` (`k0` cannot predicate a store), and checks every
//! byte each masked store wrote.
//!
//! Runs only on CPUs with AVX-512F and AVX-512BW (elsewhere the path is not
//! taken, and the test says so). The AVX-512 intrinsics used here need Rust
//! 1.89; the crate itself does not.
#![cfg(all(target_arch = "x86_64", not(miri)))]
#![allow(clippy::multiple_unsafe_ops_per_block, clippy::std_instead_of_core)]
// The AVX-512 intrinsics and `#[target_feature(enable = "avx512f")]` are
// stable since Rust 1.89; only this test needs them, not the crate.
#![allow(clippy::incompatible_msrv)]

use std::arch::x86_64::{
    __m512i, __mmask64, _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_mask_storeu_epi8,
    _mm512_set1_epi8,
};

use bytewise::Ordering::Relaxed;

/// Seven masks of `v`: bit `j` of mask `i` is set when byte `j` of `v`
/// equals `i + 1`.
///
/// # Safety
///
/// The CPU supports AVX-512F and AVX-512BW.
#[target_feature(enable = "avx512f,avx512bw")]
fn masks(v: __m512i) -> [__mmask64; 7] {
    core::array::from_fn(|i| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(i as i8 + 1)))
}

/// Builds seven masks, runs `copy_op` of `len` bytes (which the caller
/// inlines), then stores `v` through each mask into `out[i]`.
///
/// # Safety
///
/// The CPU supports AVX-512F and AVX-512BW; `src` and `dst` are valid,
/// disjoint regions of `len` bytes that nothing else accesses.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline(never)]
unsafe fn masks_across(
    shared: bool,
    pattern: &[u8; 64],
    src: *const u8,
    dst: *mut u8,
    len: usize,
    out: &mut [[u8; 64]; 7],
) {
    // SAFETY: `pattern` is 64 readable bytes; AVX-512F is present (caller).
    let v = unsafe { _mm512_loadu_si512(pattern.as_ptr().cast()) };
    let [m0, m1, m2, m3, m4, m5, m6] = masks(v);
    // Use every mask before the copy as well, so that the compiler keeps
    // them in registers across it rather than computing them afterwards.
    // SAFETY: each `out[i]` is 64 writable bytes; AVX-512BW is present.
    unsafe { store_all(out, v, [m0, m1, m2, m3, m4, m5, m6]) };
    out.iter_mut().for_each(|o| o.fill(0));
    // SAFETY: the caller's guarantee; nothing races with the copy.
    unsafe {
        if shared {
            bytewise::copy(src, dst, len, Relaxed);
        } else {
            bytewise::store(src, dst, len, Relaxed);
        }
    }
    // SAFETY: as above.
    unsafe { store_all(out, v, [m0, m1, m2, m3, m4, m5, m6]) };
}

/// Stores `v` through mask `m[i]` into `out[i]`, for each `i`.
///
/// # Safety
///
/// The CPU supports AVX-512F and AVX-512BW.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
unsafe fn store_all(out: &mut [[u8; 64]; 7], v: __m512i, m: [__mmask64; 7]) {
    for (o, m) in out.iter_mut().zip(m) {
        // SAFETY: `o` is 64 writable bytes; AVX-512BW is present (caller).
        unsafe { _mm512_mask_storeu_epi8(o.as_mut_ptr().cast(), m, v) };
    }
}

#[test]
fn opmask_registers_survive_store_and_copy() {
    if !(std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw")) {
        eprintln!("skipped: this CPU has no AVX-512F/BW, so the opmask path is never taken");
        return;
    }
    // Byte j is (j * 5) % 8: every mask i (value i + 1) selects a sparse,
    // irregular set of bytes, unlike any low-bits mask a copy tail builds.
    let pattern: [u8; 64] = core::array::from_fn(|j| ((j * 5) % 8) as u8);
    let src: Vec<u8> = (0..300).map(|i| i as u8).collect();
    for shared in [false, true] {
        for len in 1..=300 {
            let mut dst = vec![0u8; 300];
            let mut out = [[0u8; 64]; 7];
            // SAFETY: AVX-512F/BW detected above; `src` and `dst` are
            // separate vectors of 300 >= len bytes.
            unsafe {
                masks_across(
                    shared,
                    &pattern,
                    src.as_ptr(),
                    dst.as_mut_ptr(),
                    len,
                    &mut out,
                )
            };
            assert_eq!(dst[..len], src[..len], "len {len}: the copy itself");
            for (i, o) in out.iter().enumerate() {
                for (j, &b) in o.iter().enumerate() {
                    let selected = pattern[j] == i as u8 + 1;
                    let want = if selected { pattern[j] } else { 0 };
                    assert_eq!(
                        b,
                        want,
                        "{} of {len} bytes: mask {i} (a live opmask register) changed across the call: byte {j}",
                        if shared { "copy" } else { "store" }
                    );
                }
            }
        }
    }
}
