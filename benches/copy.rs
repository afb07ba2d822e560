//! `cargo bench --bench copy`: criterion (HTML report in
//! `target/criterion/report/index.html`).
//!
//! For each size from 8 B to 64 MiB, a group compares `load` and `store`
//! against `ptr::copy_nonoverlapping` (glibc `memcpy`), the `atomic-memcpy`
//! crate at its best (`atomic_load`/`atomic_store` of 8-aligned 64-byte
//! chunks), and the portable kernel. `cargo bench --bench compare` prints the
//! same comparison as one table.
#![allow(missing_docs, clippy::std_instead_of_core)]

mod common;

use common::Line;
use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 8] = [8, 64, 256, 1 << 10, 4 << 10, 64 << 10, 1 << 20, 64 << 20];

fn label(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{}MiB", n >> 20),
        n if n >= 1 << 10 => format!("{}KiB", n >> 10),
        n => format!("{n}B"),
    }
}

/// One copy routine under test; `(src, dst, len)`, with the contract of
/// [`common::amc_load`].
type Op = unsafe fn(*const u8, *mut u8, usize);

/// `ptr::copy_nonoverlapping`, i.e. glibc `memcpy` for a run-time length.
///
/// # Safety
///
/// As [`common::amc_load`].
unsafe fn memcpy(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY: valid, disjoint regions (caller).
    unsafe { core::ptr::copy_nonoverlapping(src, dst, n) }
}

/// `bytewise::load`, Relaxed.
///
/// # Safety
///
/// As [`common::amc_load`].
#[inline(always)]
unsafe fn load(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY: valid, disjoint regions that nothing else accesses (caller).
    unsafe { bytewise::load(src, dst, n, Relaxed) }
}

/// `bytewise::store`, Relaxed.
///
/// # Safety
///
/// As [`common::amc_load`].
#[inline(always)]
unsafe fn store(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY: valid, disjoint regions that nothing else accesses (caller).
    unsafe { bytewise::store(src, dst, n, Relaxed) }
}

/// The portable kernel's `load` (which returns a fault address), as an `Op`.
///
/// # Safety
///
/// As `bytewise::load`.
unsafe fn portable(src: *const u8, dst: *mut u8, n: usize) {
    static LOAD: std::sync::OnceLock<unsafe fn(*const u8, *mut u8, usize) -> usize> =
        std::sync::OnceLock::new();
    let load = LOAD.get_or_init(|| {
        bytewise::__kernels::all()
            .get("portable")
            .expect("portable kernel")
            .load
    });
    // SAFETY: the caller's contract is the kernel's.
    unsafe { _ = load(src, dst, n) }
}

fn bench(c: &mut Criterion) {
    for &n in &SIZES {
        let mut src = vec![Line([0x5A; 64]); n.div_ceil(64)];
        let mut dst = vec![Line([0; 64]); n.div_ceil(64)];
        let (s, d) = (src.as_mut_ptr().cast::<u8>(), dst.as_mut_ptr().cast::<u8>());
        let mut g = c.benchmark_group(format!("copy/{}", label(n)));
        g.throughput(Throughput::Bytes(n as u64));
        if n >= 1 << 20 {
            g.sample_size(10).measurement_time(Duration::from_secs(3));
        }
        let mut run = |name: &str, f: Op| {
            g.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter(|| {
                    // SAFETY: `s` and `d` point to separate, 64-aligned
                    // buffers of at least `n` initialized bytes that nothing
                    // else accesses while the benchmark runs (every `Op`
                    // has that as its contract).
                    unsafe { f(black_box(s), black_box(d), black_box(n)) }
                })
            });
        };
        run("memcpy", memcpy);
        run("load", load);
        run("store", store);
        run("atomic-memcpy load", common::amc_load);
        run("atomic-memcpy store", common::amc_store);
        if n <= 1 << 20 {
            // The portable path moves ~1 byte per cycle: 64 MiB would take
            // minutes of criterion samples for no new information.
            run("portable load", portable);
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
