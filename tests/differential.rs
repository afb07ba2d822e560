//! Differential tests: every asm kernel against the portable kernel.
//!
//! The portable kernel is the reference (it is what Miri checks). For each
//! operation, length and pair of source/destination misalignments, the
//! destination buffer (the copied bytes and 64 guard bytes on each side)
//! after a kernel must equal the buffer after the portable kernel, byte for
//! byte, and the source must be unchanged.
//!
//! - every length 0..=1024; the full 64 x 64 grid of misalignments for the
//!   lengths around every boundary the kernels branch on (0..=130, and
//!   around 192, 256, 512 and 1024), and for the other lengths every source
//!   misalignment, every destination misalignment and a diagonal;
//! - larger lengths up to 64 MiB, crossing every threshold of the dispatch
//!   (loop choice, backward loop, `rep movsb`, non-temporal stores), at a few
//!   misalignments, including pairs that are 4K-aliased and not co-aligned;
//! - destinations that end around a page boundary, at the lengths where
//!   the AVX-512 loop aligns its destination only when it crosses a page;
//! - each length threshold +-64 and +-1 on the public dispatch, also with
//!   AVX-512 or AVX2 masked out, at every misalignment of either side;
//! - a negative control: a kernel that is wrong at one length is caught;
//! - write-once: a concurrent `compare_exchange` on a byte of a shared
//!   destination is never undone by `store`, `copy` or `fill` (which a
//!   kernel with overlapping stores could do), with a negative control that
//!   writes twice and is caught (it is caught even with no pause between the
//!   two writes).
//!
//! Not under Miri: Miri cannot run inline assembly, so the asm kernels are
//! not even compiled there (`src/imp/mod.rs`, `build.rs`) and the kernel
//! list holds only the portable kernel; comparing it with itself would prove
//! nothing. The conformance suite is what runs under Miri.
#![cfg(not(miri))]
#![allow(clippy::std_instead_of_core)]

mod common;

use bytewise::__kernels::{self, Kernel};
use common::{Aligned, GUARD, GUARD_BYTE, Op, pattern, run};

const OPS: [Op; 4] = [Op::Load, Op::Store, Op::Copy, Op::Fill];

/// Buffers reused across cases: a source, the reference destination and
/// the destination under test, each with room for guards and misalignment.
struct Bufs {
    src: Aligned,
    reference: Aligned,
    out: Aligned,
}

impl Bufs {
    fn new(max_len: usize) -> Bufs {
        let n = GUARD + 64 + max_len + GUARD;
        let mut src = Aligned::new(n, 0);
        for (i, b) in src.bytes_mut().iter_mut().enumerate() {
            *b = pattern(max_len, i);
        }
        Bufs {
            src,
            reference: Aligned::new(n, GUARD_BYTE),
            out: Aligned::new(n, GUARD_BYTE),
        }
    }
}

/// Checks `kernel` against `portable` for one case; panics with the first
/// differing byte.
fn check(
    portable: &Kernel,
    kernel: &Kernel,
    bufs: &mut Bufs,
    op: Op,
    len: usize,
    s: usize,
    d: usize,
) {
    run(portable, op, &mut bufs.src, &mut bufs.reference, len, s, d);
    run(kernel, op, &mut bufs.src, &mut bufs.out, len, s, d);
    let w = GUARD + d - GUARD..GUARD + d + len + GUARD;
    let (r, o) = (&bufs.reference.bytes()[w.clone()], &bufs.out.bytes()[w]);
    if r != o {
        let i = (0..r.len()).find(|&i| r[i] != o[i]).unwrap();
        panic!(
            "kernel {} {op:?} len {len} src+{s} dst+{d}: byte {} (relative to dst) is {:#04x}, portable wrote {:#04x}",
            kernel.name,
            i as isize - GUARD as isize,
            o[i],
            r[i]
        );
    }
}

/// The kernels to test: every one except the portable reference.
fn asm_kernels() -> (Kernel, Vec<Kernel>) {
    let all = __kernels::all();
    let portable = all.get("portable").expect("portable kernel");
    (
        portable,
        all.iter().filter(|k| k.name != "portable").collect(),
    )
}

/// Lengths that get the full misalignment grid: everything up to two
/// vectors past the inline small path, and around the loop boundaries.
fn full_grid(len: usize) -> bool {
    len <= 130 || [191, 192, 193, 255, 256, 257, 319, 511, 512, 513, 1023, 1024].contains(&len)
}

fn misalignments(len: usize) -> Vec<(usize, usize)> {
    if full_grid(len) {
        (0..64).flat_map(|s| (0..64).map(move |d| (s, d))).collect()
    } else {
        (0..64)
            .flat_map(|k| [(k, 0), (0, k), (k, (k * 7 + 5) % 64)])
            .collect()
    }
}

fn short_suite(op: Op) {
    let (portable, kernels) = asm_kernels();
    let mut bufs = Bufs::new(1024);
    for kernel in &kernels {
        for len in 0..=1024 {
            for (s, d) in misalignments(len) {
                check(&portable, kernel, &mut bufs, op, len, s, d);
            }
        }
        // The source is never written.
        let fresh = Bufs::new(1024);
        assert!(
            bufs.src.bytes() == fresh.src.bytes(),
            "kernel {} {op:?} changed the source",
            kernel.name
        );
    }
}

#[test]
fn load_matches_portable_up_to_1024() {
    short_suite(Op::Load);
}

#[test]
fn store_matches_portable_up_to_1024() {
    short_suite(Op::Store);
}

#[test]
fn copy_matches_portable_up_to_1024() {
    short_suite(Op::Copy);
}

#[test]
fn fill_matches_portable_up_to_1024() {
    short_suite(Op::Fill);
}

/// Lengths past every threshold of the x86_64 dispatch (1 KiB, 8 KiB and
/// 32 KiB for the choice of loop, 32 KiB for `rep movsb` without AVX2,
/// 16 MiB for non-temporal stores) up to 64 MiB.
#[test]
fn large_lengths_match_portable() {
    let (portable, kernels) = asm_kernels();
    let lens = [
        1025,
        2047,
        (8 << 10) - 1,
        (8 << 10) + 1,
        4096 + 3,
        (32 << 10) - 1,
        (32 << 10) + 7,
        (64 << 10) + 63,
        (1 << 20) - 5,
        (1 << 20) + 13,
        (8 << 20) + 5,
        (16 << 20) + 1,
        (64 << 20) + 3,
    ];
    let mut bufs = Bufs::new((64 << 20) + 3);
    for len in lens {
        let mis: &[(usize, usize)] = if len > 8 << 20 {
            &[(0, 0), (3, 0), (5, 61)]
        } else {
            &[
                (0, 0),
                (3, 0),
                (0, 5),
                (1, 63),
                (17, 33),
                (63, 1),
                (0, 32),
                (32, 0),
            ]
        };
        for &(s, d) in mis {
            for op in OPS {
                for kernel in &kernels {
                    check(&portable, kernel, &mut bufs, op, len, s, d);
                }
            }
        }
    }
}

/// Each length threshold of the x86_64 dispatch, +-64 and +-1: the inline
/// 65-256 byte paths (256), the 257-512 byte AVX-512 path (512), the
/// backward loops (2 KiB AVX-512, 4 KiB AVX2), the AVX2 loop for a
/// misaligned source on AVX-512 CPUs (2 KiB and 32 KiB), the direct call
/// (8 KiB), `rep movsb` (32 KiB) and non-temporal stores (16 MiB). Run on
/// the public dispatch and on it with AVX-512, and AVX2, masked out (where
/// this CPU has them), at every source misalignment, every destination
/// misalignment and a diagonal (three pairs at 16 MiB). The aarch64
/// kernels have their own lengths, covered by the suites above.
#[cfg(target_arch = "x86_64")]
#[test]
fn thresholds_match_portable() {
    let (portable, kernels) = asm_kernels();
    let dispatch: Vec<Kernel> = kernels
        .into_iter()
        .filter(|k| k.name.starts_with("dispatch") || k.name == "value_store")
        .collect();
    assert!(dispatch.len() >= 2, "the dispatch kernels are listed");
    let nt = 16 << 20;
    let mut bufs = Bufs::new(nt + 64);
    for t in [256usize, 512, 1024, 2048, 4096, 8 << 10, 32 << 10, nt] {
        for len in [t - 64, t - 1, t, t + 1, t + 64] {
            let mis: Vec<(usize, usize)> = if t == nt {
                vec![(0, 0), (3, 0), (5, 61)]
            } else {
                (0..64)
                    .flat_map(|k| [(k, 0), (0, k), (k, (k * 7 + 5) % 64)])
                    .collect()
            };
            for &(s, d) in &mis {
                for op in OPS {
                    for kernel in &dispatch {
                        check(&portable, kernel, &mut bufs, op, len, s, d);
                    }
                }
            }
        }
    }
}

/// Destinations that end just before, at and just after a 4 KiB page
/// boundary, with co-aligned and not co-aligned sources, at the lengths
/// where the AVX-512 and AVX2 loops decide by page crossing whether to
/// align their destination first (512 B to 2 KiB), where `load` without
/// AVX2 leaves its 129-256 byte path for one (129 to 256), and around
/// them; every kernel.
#[test]
fn page_crossing_destinations_match_portable() {
    let (portable, kernels) = asm_kernels();
    let mut bufs = Bufs::new(3 * 4096);
    let base = bufs.out.as_mut_ptr().wrapping_add(GUARD).addr();
    let to_page = base.wrapping_neg() % 4096;
    for len in [
        96usize, 128, 129, 200, 256, 257, 448, 511, 512, 513, 700, 1000, 1024, 1500, 2047, 2048,
        2112,
    ] {
        // `base + d + len` is the page boundary plus `delta`.
        for delta in [-65isize, -64, -1, 0, 1, 63, 64, 65] {
            let d = (to_page + 4096 - len).wrapping_add_signed(delta);
            for s in [0, 1, 17, 63, d % 64] {
                for op in OPS {
                    for kernel in &kernels {
                        check(&portable, kernel, &mut bufs, op, len, s, d);
                    }
                }
            }
        }
    }
}

/// The differential check must be able to fail: a kernel that is right
/// everywhere except for one length and misalignment (it leaves the last
/// byte unwritten, as an off-by-one tail would) is caught by the short
/// suite's search.
#[test]
#[should_panic(expected = "kernel broken Load len 777 src+13 dst+0: byte 776")]
fn negative_control_wrong_kernel_is_caught() {
    /// Correct except at length 777 from a source 13 bytes past a line.
    ///
    /// # Safety
    ///
    /// As the kernel contract.
    unsafe fn broken_load(src: *const u8, dst: *mut u8, len: usize) -> usize {
        let len = if len == 777 && src.addr() % 64 == 13 {
            len - 1
        } else {
            len
        };
        // SAFETY: forwarded, with a length no larger than the caller's.
        unsafe { bytewise::load(src, dst, len, bytewise::Ordering::Relaxed) };
        0
    }
    let (portable, _) = asm_kernels();
    let broken = Kernel {
        name: "broken",
        load: broken_load,
        ..portable
    };
    let mut bufs = Bufs::new(1024);
    for len in 770..=780 {
        for (s, d) in misalignments(len) {
            check(&portable, &broken, &mut bufs, Op::Load, len, s, d);
        }
    }
}

/// And one that writes a byte past the end is caught by the guards.
#[test]
#[should_panic(expected = "byte 100 (relative to dst) is")]
fn negative_control_overrun_is_caught() {
    /// Writes one byte too many at length 100.
    ///
    /// # Safety
    ///
    /// As the kernel contract, with one writable byte after `dst + len`.
    unsafe fn long_fill(dst: *mut u8, byte: u8, len: usize) -> usize {
        let len = if len == 100 { len + 1 } else { len };
        // SAFETY: the test buffers have guard bytes after the destination.
        unsafe { bytewise::fill(dst, byte, len, bytewise::Ordering::Relaxed) };
        0
    }
    let (portable, _) = asm_kernels();
    let broken = Kernel {
        name: "long",
        fill: long_fill,
        ..portable
    };
    let mut bufs = Bufs::new(1024);
    check(&portable, &broken, &mut bufs, Op::Fill, 100, 0, 0);
}

/// Runs `write` (which writes `V` to every byte of a 96-byte shared region)
/// against a thread that tries to replace the value `V` of byte `j` with `X`
/// by `compare_exchange`, `rounds` times. Returns how often the CAS
/// succeeded and the byte was `V` again afterwards: a lost update, which is
/// only possible if the writer wrote byte `j` more than once.
fn lost_updates(write: &dyn Fn(*mut u8, usize), j: usize, rounds: usize) -> usize {
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::*};
    use std::sync::{Arc, Barrier};
    const LEN: usize = 96;
    const X: u8 = 0xC3;
    let buf: Arc<Vec<AtomicU8>> = Arc::new((0..LEN + 64).map(|_| AtomicU8::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(2));
    std::thread::scope(|scope| {
        let (b2, d2, barrier2) = (Arc::clone(&buf), Arc::clone(&done), Arc::clone(&barrier));
        let cas = scope.spawn(move || {
            let mut lost = 0;
            for _ in 0..rounds {
                barrier2.wait();
                let mut won = false;
                loop {
                    let finished = d2.load(Acquire);
                    if b2[j].compare_exchange(V, X, Relaxed, Relaxed).is_ok() {
                        won = true;
                        break;
                    }
                    if finished {
                        break;
                    }
                    core::hint::spin_loop();
                }
                barrier2.wait();
                if won && b2[j].load(Relaxed) != X {
                    lost += 1;
                }
                barrier2.wait();
            }
            lost
        });
        for _ in 0..rounds {
            for b in buf.iter() {
                b.store(0, Relaxed);
            }
            done.store(false, Relaxed);
            barrier.wait();
            write(buf.as_ptr().cast::<u8>().cast_mut(), LEN);
            done.store(true, Release);
            barrier.wait();
            barrier.wait();
        }
        cas.join().unwrap()
    })
}

/// The value the write-once tests write.
const V: u8 = 0x5A;

/// A shared destination byte is written exactly once, so a concurrent
/// `compare_exchange` that replaced our value is never undone. (A kernel
/// with overlapping tail stores, as `memcpy` uses, could undo it.) Checked
/// for `store`, `copy` and `fill` of every kernel, at the first and last
/// byte and in the middle. Probabilistic by nature: the negative control
/// below shows the check does catch a double write.
#[test]
fn shared_bytes_are_written_once() {
    let (portable, kernels) = asm_kernels();
    let src = [V; 96];
    let shared_src: Vec<std::sync::atomic::AtomicU8> = (0..96)
        .map(|_| std::sync::atomic::AtomicU8::new(V))
        .collect();
    let rounds = 300;
    for kernel in kernels.iter().chain([&portable]) {
        for j in [0, 47, 95] {
            let store = |dst: *mut u8, len: usize| {
                // SAFETY: `src` is private and initialized, `dst` is a
                // 96-byte `AtomicU8` buffer accessed only atomically.
                unsafe { (kernel.store)(src.as_ptr(), dst, len) };
            };
            let copy = |dst: *mut u8, len: usize| {
                // SAFETY: both are `AtomicU8` buffers of 96 bytes, only
                // accessed atomically, and disjoint.
                unsafe { (kernel.copy)(shared_src.as_ptr().cast::<u8>(), dst, len) };
            };
            let fill = |dst: *mut u8, len: usize| {
                // SAFETY: `dst` is a 96-byte `AtomicU8` buffer accessed only
                // atomically.
                unsafe { (kernel.fill)(dst, V, len) };
            };
            for (name, op) in [
                ("store", &store as &dyn Fn(*mut u8, usize)),
                ("copy", &copy),
                ("fill", &fill),
            ] {
                let lost = lost_updates(op, j, rounds);
                assert_eq!(
                    lost, 0,
                    "kernel {} {name}: {lost} lost updates at byte {j}",
                    kernel.name
                );
            }
        }
    }
}

/// The write-once check must be able to fail: a "kernel" that writes the
/// region twice is caught. Between its two passes it waits until the other
/// thread's `compare_exchange` has landed on the watched byte (or 100 ms have
/// passed), so the check does not depend on timing, which matters under
/// emulation (`ci/cross.sh` runs this under qemu).
#[test]
fn negative_control_double_write_is_caught() {
    const J: usize = 95;
    let src = [V; 96];
    let twice = |dst: *mut u8, len: usize| {
        for pass in 0..2 {
            // SAFETY: as in `shared_bytes_are_written_once`.
            unsafe { bytewise::store(src.as_ptr(), dst, len, bytewise::Ordering::Relaxed) };
            if pass == 0 {
                // SAFETY: `dst` is valid for `len > J` bytes of atomics.
                let watched =
                    unsafe { core::sync::atomic::AtomicU8::from_ptr(dst.wrapping_add(J)) };
                let t = std::time::Instant::now();
                while watched.load(core::sync::atomic::Ordering::Relaxed) == V
                    && t.elapsed() < std::time::Duration::from_millis(100)
                {
                    std::thread::yield_now();
                }
            }
        }
    };
    let mut lost = 0;
    for _ in 0..20 {
        lost += lost_updates(&twice, J, 50);
        if lost > 0 {
            break;
        }
    }
    assert!(lost > 0, "a double write went unnoticed in 1000 rounds");
}
