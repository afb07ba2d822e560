//! `bytewise::__kernels::disable`: the public functions dispatch as on a CPU
//! without the named features, and still copy correctly.
//!
//! A test binary of its own: the mask is process-wide, and the other suites
//! must see the real features.
#![allow(clippy::std_instead_of_core)]

use bytewise::__kernels;
use bytewise::Ordering::{Acquire, Release, SeqCst};

/// Runs the four public functions at lengths around every threshold, with
/// a misaligned source and destination, and checks the bytes.
fn public_functions_copy_correctly(label: &str) {
    let max = (32 << 10) + 64;
    let src: Vec<u8> = (0..max + 64).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut dst = vec![0u8; max + 64];
    let mut shared = vec![0u8; max + 64];
    let lens = (0..=300)
        .chain([960, 1023, 1024, 1025, 1088, 2047, 2048, 8191, 8192, 8256])
        .chain([32704, 32767, 32768, 32769, 32832]);
    for len in lens {
        for (s, d) in [(0, 0), (3, 0), (0, 5), (17, 63)] {
            let (sp, dp) = (src[s..].as_ptr(), dst[d..].as_mut_ptr());
            // SAFETY: `s + len` and `d + len` are within the vectors, which
            // are distinct and accessed by nothing else.
            unsafe { bytewise::load(sp, dp, len, Acquire) };
            assert_eq!(dst[d..d + len], src[s..s + len], "{label}: load {len}");
            dst[d..d + len].fill(0);
            // SAFETY: as above.
            unsafe { bytewise::store(sp, dp, len, Release) };
            assert_eq!(dst[d..d + len], src[s..s + len], "{label}: store {len}");
            // SAFETY: as above.
            unsafe { bytewise::copy(dp, shared[s..].as_mut_ptr(), len, SeqCst) };
            assert_eq!(shared[s..s + len], src[s..s + len], "{label}: copy {len}");
            // SAFETY: as above.
            unsafe { bytewise::fill(dp, 0, len, Release) };
            assert!(
                dst[d..d + len].iter().all(|&b| b == 0),
                "{label}: fill {len}"
            );
        }
    }
}

#[test]
fn masked_dispatch_copies_correctly() {
    let has = |f: &str| __kernels::features().any(|x| x == f);
    public_functions_copy_correctly("native");
    assert_eq!(__kernels::disable(""), Ok(()));
    // The x86_64 kernels are compiled except under Miri and sanitizers
    // (`build.rs`); `features()` is empty only without them, or on a CPU
    // without any of the features.
    let asm = cfg!(target_arch = "x86_64") && !cfg!(miri) && __kernels::all().get("sse2").is_some();
    if asm {
        // Nothing is removed when a name is unknown.
        let before: Vec<&str> = __kernels::features().collect();
        assert_eq!(__kernels::disable("avx512,bogus"), Err("bogus"));
        assert_eq!(__kernels::features().collect::<Vec<_>>(), before);
        __kernels::disable("avx512").unwrap();
        assert!(!has("avx512f+bw"), "AVX-512 is masked");
        public_functions_copy_correctly("without AVX-512");
        __kernels::disable("avx2").unwrap();
        assert!(!has("avx2") && !has("avx512f+bw"), "AVX2 is masked");
        public_functions_copy_correctly("without AVX2");
        __kernels::disable("erms,fsrm").unwrap();
        assert_eq!(__kernels::features().count(), 0, "nothing is left");
        public_functions_copy_correctly("SSE2 only");
    } else {
        assert_eq!(__kernels::disable("avx2"), Err("avx2"));
    }
}
