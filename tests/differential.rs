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
//! - a negative control: a kernel that is wrong at one length is caught.
//!
//! Not under Miri: Miri cannot run inline assembly, so the asm kernels are
//! not even compiled there (`src/imp/mod.rs`, `build.rs`) and the kernel
//! list holds only the portable kernel; comparing it with itself would prove
//! nothing. The conformance suite is what runs under Miri.
#![cfg(not(miri))]
#![allow(clippy::std_instead_of_core)]

mod common;

use bytewise::__kernels::{self, Kernel};
use common::{Aligned, pattern};

const GUARD: usize = 64;
const GUARD_BYTE: u8 = 0xA5;

#[derive(Clone, Copy, Debug)]
enum Op {
    Load,
    Store,
    Copy,
    Fill,
}

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

/// Runs `op` of `kernel` into `dst` (whose window is first reset to guard
/// bytes); only the window `d-GUARD .. d+len+GUARD` is reset and compared.
fn run(
    kernel: &Kernel,
    op: Op,
    src: &mut Aligned,
    dst: &mut Aligned,
    len: usize,
    s: usize,
    d: usize,
) {
    let (s, d) = (GUARD + s, GUARD + d);
    dst.bytes_mut()[d - GUARD..d + len + GUARD].fill(GUARD_BYTE);
    let fill_byte = (len as u8) ^ 0x3C;
    let sp = src.as_mut_ptr().wrapping_add(s);
    let dp = dst.as_mut_ptr().wrapping_add(d);
    // SAFETY (every arm): both buffers hold `GUARD + 64 + max_len + GUARD`
    // bytes and `s, d < GUARD + 64`, `len <= max_len`, so both windows are
    // in bounds; they are separate allocations and nothing else accesses
    // them.
    match op {
        // SAFETY: as above.
        Op::Load => unsafe { (kernel.load)(sp, dp, len) },
        // SAFETY: as above.
        Op::Store => unsafe { (kernel.store)(sp, dp, len) },
        // SAFETY: as above.
        Op::Copy => unsafe { (kernel.copy)(sp, dp, len) },
        // SAFETY: as above.
        Op::Fill => unsafe { (kernel.fill)(dp, fill_byte, len) },
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
    unsafe fn broken_load(src: *const u8, dst: *mut u8, len: usize) {
        let len = if len == 777 && src.addr() % 64 == 13 {
            len - 1
        } else {
            len
        };
        // SAFETY: forwarded, with a length no larger than the caller's.
        unsafe { bytewise::load(src, dst, len, bytewise::Ordering::Relaxed) }
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
    unsafe fn long_fill(dst: *mut u8, byte: u8, len: usize) {
        let len = if len == 100 { len + 1 } else { len };
        // SAFETY: the test buffers have guard bytes after the destination.
        unsafe { bytewise::fill(dst, byte, len, bytewise::Ordering::Relaxed) }
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
