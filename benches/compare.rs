//! `cargo bench --bench compare [-- --quick]`: a markdown table of GB/s and
//! of the ratio to glibc `memcpy` (`ptr::copy_nonoverlapping`) measured in
//! the same run.
//!
//! Every round times each variant once, in a fresh random order, at one size; the
//! table reports per-variant medians over the rounds: the median of the
//! throughput, and the median of the per-round ratio to `memcpy` of that
//! round (so slow phases of a noisy machine hit both sides alike).
//!
//! Sizes 8 B to 64 MiB. Buffers are 64-byte aligned; the `src+3` rows read
//! from a source 3 bytes past that, and compare with `memcpy` from the same
//! misaligned source. `atomic-memcpy` is used at its best: `atomic_load` and
//! `atomic_store` of whole `[u8; 64]` chunks from 8-aligned memory (its
//! `usize` path), with `inline-always`.
//!
//! `-- --kernels`: each kernel's `load` alone. `-- --placement`: `memcpy`,
//! `load` and `store` with source and destination at fixed offsets from
//! page boundaries (see `placement`). `-- --at 2048 0/3,0/64 avx2 avx2_bwd`:
//! the same at one size and the given offsets, plus the `load` and `store`
//! of the named kernels (see `at`).
//!
//! `store-only` is a loop of vector stores of the widest width the dispatch
//! uses (zmm, ymm or xmm, four per iteration) over the same destination, and
//! no loads at all: the store-throughput ceiling of this CPU class, measured
//! in the same round. `copy-only` is a plain loop of vector loads and stores
//! of that width (no head, tail or dispatch): the copy ceiling of the CPU
//! class, which shows whether the store-only ceiling is reachable by any
//! copy at all.
//!
//! CPU classes: `BYTEWISE_MASK=avx512` (or `avx2`, which implies it) makes
//! the public functions dispatch exactly as on a CPU without AVX-512 (or
//! without AVX2), through the hidden `bytewise::__kernels::disable`. The
//! bench then runs itself again with `GLIBC_TUNABLES` hiding the same
//! features from glibc, so that `memcpy` is the one such a CPU would run
//! too (unless `GLIBC_TUNABLES` is already set). The header names the CPU,
//! the features the dispatch used and the tunables.
#![allow(missing_docs, clippy::std_instead_of_core)]

mod common;

use common::Line;
use std::hint::black_box;
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytewise::__kernels;

/// Every kernel, looked up once (not inside the timed loop).
fn kernels() -> &'static [__kernels::Kernel] {
    static K: std::sync::OnceLock<Vec<__kernels::Kernel>> = std::sync::OnceLock::new();
    K.get_or_init(|| __kernels::all().iter().collect())
}

/// A 64-byte aligned heap buffer with 64 spare bytes at the end.
struct Buf(Vec<Line>);

impl Buf {
    fn new(len: usize, byte: u8) -> Buf {
        Buf(vec![Line([byte; 64]); len / 64 + 2])
    }
    fn ptr(&mut self, off: usize) -> *mut u8 {
        self.0.as_mut_ptr().cast::<u8>().wrapping_add(off)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Memcpy,
    Load,
    Store,
    /// `memset` of the destination: the store-throughput ceiling.
    StoreOnly,
    /// A plain vector copy loop of the same width: the copy ceiling.
    CopyOnly,
    AmcLoad,
    AmcStore,
    Portable,
    /// `load` of the kernel at this index of `__kernels::all()`.
    Kernel(usize),
    /// `store` of that kernel.
    KernelStore(usize),
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Memcpy => "memcpy",
            Variant::Load => "load",
            Variant::Store => "store",
            Variant::StoreOnly => "store-only",
            Variant::CopyOnly => "copy-only",
            Variant::AmcLoad => "atomic-memcpy load",
            Variant::AmcStore => "atomic-memcpy store",
            Variant::Portable => "portable load",
            Variant::Kernel(i) => kernels()[i].name,
            Variant::KernelStore(i) => {
                // Names are few and live as long as the bench.
                Box::leak(format!("{} store", kernels()[i].name).into_boxed_str())
            }
        }
    }
}

/// Runs `v` once on `n` bytes.
///
/// # Safety
///
/// `src` and `dst` are valid, disjoint regions of `n` bytes (and, for the
/// atomic-memcpy variants, 8-aligned with `n` a multiple of 8), accessed by
/// nothing else.
#[inline(always)]
unsafe fn run(
    v: Variant,
    src: *mut u8,
    dst: *mut u8,
    n: usize,
    portable: unsafe fn(*const u8, *mut u8, usize) -> usize,
) {
    let (src, dst) = (black_box(src), black_box(dst));
    match v {
        // SAFETY: the caller's guarantee.
        Variant::Memcpy => unsafe { ptr::copy_nonoverlapping(src, dst, n) },
        // SAFETY: the caller's guarantee; nothing races, so every access is
        // trivially of the allowed kinds.
        Variant::Load => unsafe { bytewise::load(src, dst, n, Relaxed) },
        // SAFETY: as above; `src` is initialized.
        Variant::Store => unsafe { bytewise::store(src, dst, n, Relaxed) },
        // SAFETY: `dst` is valid for `n` bytes.
        Variant::StoreOnly => unsafe { store_only(dst, n) },
        // SAFETY: `src` and `dst` are valid and disjoint for `n` bytes.
        Variant::CopyOnly => unsafe { copy_only(src, dst, n) },
        // SAFETY: as above; the kernel contract is that of `bytewise::load`.
        Variant::Portable => unsafe { _ = portable(src, dst, n) },
        Variant::Kernel(i) => {
            let k = &kernels()[i];
            // SAFETY: as above; the kernel contract is that of `bytewise::load`.
            unsafe { _ = (k.load)(src, dst, n) }
        }
        Variant::KernelStore(i) => {
            let k = &kernels()[i];
            // SAFETY: as above; `src` is initialized.
            unsafe { _ = (k.store)(src, dst, n) }
        }
        // SAFETY: the caller's guarantee; the buffers are 64-aligned.
        Variant::AmcLoad => unsafe { common::amc_load(src, dst, n) },
        // SAFETY: as above; `src` is initialized.
        Variant::AmcStore => unsafe { common::amc_store(src, dst, n) },
    }
}

/// Seconds per operation of `iters` back-to-back runs.
fn time(
    v: Variant,
    src: *mut u8,
    dst: *mut u8,
    n: usize,
    iters: u64,
    portable: unsafe fn(*const u8, *mut u8, usize) -> usize,
) -> f64 {
    // One specialized timing loop per variant, so that no variant pays for
    // the `match` in `run` inside its loop.
    match v {
        Variant::Memcpy => time_v::<0>(v, src, dst, n, iters, portable),
        Variant::Load => time_v::<1>(v, src, dst, n, iters, portable),
        Variant::Store => time_v::<2>(v, src, dst, n, iters, portable),
        Variant::AmcLoad => time_v::<3>(v, src, dst, n, iters, portable),
        Variant::AmcStore => time_v::<4>(v, src, dst, n, iters, portable),
        Variant::Portable => time_v::<5>(v, src, dst, n, iters, portable),
        Variant::Kernel(_) => time_v::<6>(v, src, dst, n, iters, portable),
        Variant::StoreOnly => time_v::<7>(v, src, dst, n, iters, portable),
        Variant::KernelStore(_) => time_v::<8>(v, src, dst, n, iters, portable),
        Variant::CopyOnly => time_v::<9>(v, src, dst, n, iters, portable),
    }
}

/// [`time`] for the variant numbered `C` (6 and 8: a kernel's `load` or
/// `store`, taken from `v`).
#[inline(never)]
fn time_v<const C: u8>(
    v: Variant,
    src: *mut u8,
    dst: *mut u8,
    n: usize,
    iters: u64,
    portable: unsafe fn(*const u8, *mut u8, usize) -> usize,
) -> f64 {
    let v = match C {
        0 => Variant::Memcpy,
        1 => Variant::Load,
        2 => Variant::Store,
        3 => Variant::AmcLoad,
        4 => Variant::AmcStore,
        5 => Variant::Portable,
        7 => Variant::StoreOnly,
        9 => Variant::CopyOnly,
        _ => v,
    };
    let t = Instant::now();
    for _ in 0..iters {
        // SAFETY: `src`/`dst` come from separate buffers of at least `n + 64`
        // bytes (see `measure`).
        unsafe { run(v, src, dst, black_box(n), portable) };
    }
    t.elapsed().as_secs_f64() / iters as f64
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

fn fmt_size(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

struct Row {
    label: String,
    cells: Vec<(Variant, f64, f64)>, // variant, GB/s, ratio to memcpy
}

fn measure(
    n: usize,
    src_off: usize,
    variants: &[Variant],
    rounds: usize,
    target: Duration,
    portable: unsafe fn(*const u8, *mut u8, usize) -> usize,
) -> Row {
    let mut src = Buf::new(n, 0x5A);
    let mut dst = Buf::new(n, 0);
    let (s, d) = (src.ptr(src_off), dst.ptr(0));
    eprintln!(
        "  {n} B src+{src_off}: src at {:#x} mod 4096, dst - src = {:#x} mod 4096",
        s.addr() % 4096,
        d.addr().wrapping_sub(s.addr()) % 4096
    );
    let label = if src_off == 0 {
        fmt_size(n)
    } else {
        format!("{} src+{src_off}", fmt_size(n))
    };
    measure_at(n, s, d, label, variants, rounds, target, portable)
}

/// [`measure`] on given buffers: `s` and `d` are valid, disjoint regions of
/// at least `n` bytes.
#[allow(clippy::too_many_arguments)]
fn measure_at(
    n: usize,
    s: *mut u8,
    d: *mut u8,
    label: String,
    variants: &[Variant],
    rounds: usize,
    target: Duration,
    portable: unsafe fn(*const u8, *mut u8, usize) -> usize,
) -> Row {
    // Calibrate the iteration count on memcpy so one sample takes ~`target`.
    let once = time(Variant::Memcpy, s, d, n, 1, portable).max(1e-9);
    let probe = ((1e-3 / once) as u64).clamp(1, 1 << 24);
    let per = time(Variant::Memcpy, s, d, n, probe, portable).max(1e-10);
    let iters = ((target.as_secs_f64() / per) as u64).clamp(1, 1 << 26);
    // Huge sizes: one copy already exceeds the target; cap the rounds so a
    // size takes at most ~`budget` (but never fewer than 9 rounds).
    let budget = if rounds > 30 { 8.0 } else { 3.0 };
    let rounds =
        rounds.min(((budget / (per * iters as f64 * variants.len() as f64)) as usize).max(9));
    let mut secs: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    // A fresh order every round (a fixed xorshift sequence, so runs are
    // reproducible): with a fixed rotation each variant would always follow
    // the same one, and a variant that leaves the caches cold (non-temporal
    // stores evict the destination) would always penalize its successor.
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64 ^ n as u64;
    let mut order: Vec<usize> = (0..variants.len()).collect();
    for _ in 0..rounds {
        let mut this = vec![0.0; variants.len()];
        for k in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(k, (rng % (k as u64 + 1)) as usize);
        }
        for &i in &order {
            // Warm the caches/TLB for this variant (at least two whole
            // copies, so a cold start after another variant is paid here),
            // then time it.
            time(variants[i], s, d, n, iters.div_ceil(8).max(2), portable);
            this[i] = time(variants[i], s, d, n, iters, portable);
        }
        let base = this[0];
        for i in 0..variants.len() {
            secs[i].push(this[i]);
            ratios[i].push(base / this[i]);
        }
    }
    let cells = variants
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            (
                v,
                n as f64 / median(&mut secs[i]) / 1e9,
                median(&mut ratios[i]),
            )
        })
        .collect();
    Row { label, cells }
}

/// The vector width of the store-only loop: that of the widest kernel the
/// dispatch uses (set by [`cpu_class`]).
static STORE_WIDTH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(16);

/// Stores `n` bytes at `dst` with vector stores of [`STORE_WIDTH`] bytes,
/// and no loads (the last `n % 64` bytes with `write_bytes`); `write_bytes`
/// alone off x86_64.
///
/// # Safety
///
/// `dst` is valid for writes of `n` bytes.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
unsafe fn store_only(dst: *mut u8, n: usize) {
    // SAFETY: the caller's guarantee.
    unsafe { ptr::write_bytes(dst, 0x5A, n) }
}

/// [`store_only`] on x86_64.
///
/// # Safety
///
/// `dst` is valid for writes of `n` bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn store_only(dst: *mut u8, n: usize) {
    // SAFETY (each arm): the caller's guarantee; the width was chosen from
    // the features the CPU reported.
    match STORE_WIDTH.load(Relaxed) {
        // SAFETY: as above.
        64 => unsafe { store_only_zmm(dst, n) },
        // SAFETY: as above.
        32 => unsafe { store_only_ymm(dst, n) },
        // SAFETY: as above.
        _ => unsafe { store_only_xmm(dst, n) },
    }
}

/// Defines one store-only loop: `$st` stores `$v` to a pointer, `$w` bytes.
macro_rules! store_only_fn {
    ($name:ident, $feature:literal, $w:literal, $v:expr, $st:expr) => {
        #[cfg(target_arch = "x86_64")]
        // The AVX-512 intrinsics are stable since Rust 1.89; only the
        // benchmark uses them.
        #[allow(clippy::incompatible_msrv)]
        /// # Safety
        ///
        /// `dst` is valid for writes of `n` bytes; the CPU has the feature.
        #[target_feature(enable = $feature)]
        unsafe fn $name(dst: *mut u8, n: usize) {
            use std::arch::x86_64::*;
            let v = $v;
            let mut i = 0;
            while i + 4 * $w <= n {
                // SAFETY: `i + 4 * W <= n` (caller: valid for `n` bytes).
                unsafe {
                    $st(dst.add(i), v);
                    $st(dst.add(i + $w), v);
                    $st(dst.add(i + 2 * $w), v);
                    $st(dst.add(i + 3 * $w), v);
                }
                i += 4 * $w;
            }
            while i + $w <= n {
                // SAFETY: as above.
                unsafe { $st(dst.add(i), v) };
                i += $w;
            }
            // SAFETY: `i <= n`.
            unsafe { ptr::write_bytes(dst.add(i), 0x5A, n - i) };
        }
    };
}

store_only_fn!(
    store_only_zmm,
    "avx512f",
    64,
    _mm512_set1_epi8(0x5A),
    |p: *mut u8, v| _mm512_storeu_si512(p.cast(), v)
);
store_only_fn!(
    store_only_ymm,
    "avx2",
    32,
    _mm256_set1_epi8(0x5A),
    |p: *mut u8, v| _mm256_storeu_si256(p.cast(), v)
);
store_only_fn!(
    store_only_xmm,
    "sse2",
    16,
    _mm_set1_epi8(0x5A),
    |p: *mut u8, v| _mm_storeu_si128(p.cast(), v)
);

/// Copies `n` bytes with a plain loop of vector loads and stores of
/// [`STORE_WIDTH`] bytes, four per iteration, no head, tail logic or
/// dispatch (the last `n % W` bytes with `copy_nonoverlapping`): the copy
/// ceiling of the CPU class, which no byte-wise atomic copy can beat. Where
/// it stays below the store-only ceiling, so does every copy.
///
/// # Safety
///
/// `src` and `dst` are valid for `n` bytes and do not overlap.
#[inline(always)]
unsafe fn copy_only(src: *const u8, dst: *mut u8, n: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY (each arm): the caller's guarantee; the width was chosen from
    // the features the CPU reported.
    match STORE_WIDTH.load(Relaxed) {
        // SAFETY: as above.
        64 => unsafe { copy_only_zmm(src, dst, n) },
        // SAFETY: as above.
        32 => unsafe { copy_only_ymm(src, dst, n) },
        // SAFETY: as above.
        _ => unsafe { copy_only_xmm(src, dst, n) },
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: the caller's guarantee.
    unsafe {
        ptr::copy_nonoverlapping(src, dst, n)
    }
}

/// Defines one copy-only loop: `$ld` loads from a pointer, `$st` stores
/// to one, `$w` bytes each.
macro_rules! copy_only_fn {
    ($name:ident, $feature:literal, $w:literal, $ld:expr, $st:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[allow(clippy::incompatible_msrv)]
        /// # Safety
        ///
        /// `src` and `dst` are valid for `n` bytes and disjoint; the CPU has
        /// the feature.
        #[target_feature(enable = $feature)]
        unsafe fn $name(src: *const u8, dst: *mut u8, n: usize) {
            let mut i = 0;
            while i + 4 * $w <= n {
                // SAFETY: `i + 4 * W <= n` (caller: valid for `n` bytes).
                unsafe {
                    let a = $ld(src.add(i));
                    let b = $ld(src.add(i + $w));
                    let c = $ld(src.add(i + 2 * $w));
                    let d = $ld(src.add(i + 3 * $w));
                    $st(dst.add(i), a);
                    $st(dst.add(i + $w), b);
                    $st(dst.add(i + 2 * $w), c);
                    $st(dst.add(i + 3 * $w), d);
                }
                i += 4 * $w;
            }
            // SAFETY: `i <= n`; the regions are disjoint.
            unsafe { ptr::copy_nonoverlapping(src.add(i), dst.add(i), n - i) };
        }
    };
}

copy_only_fn!(
    copy_only_zmm,
    "avx512f",
    64,
    |p: *const u8| std::arch::x86_64::_mm512_loadu_si512(p.cast()),
    |p: *mut u8, v| std::arch::x86_64::_mm512_storeu_si512(p.cast(), v)
);
copy_only_fn!(
    copy_only_ymm,
    "avx2",
    32,
    |p: *const u8| std::arch::x86_64::_mm256_loadu_si256(p.cast()),
    |p: *mut u8, v| std::arch::x86_64::_mm256_storeu_si256(p.cast(), v)
);
copy_only_fn!(
    copy_only_xmm,
    "sse2",
    16,
    |p: *const u8| std::arch::x86_64::_mm_loadu_si128(p.cast()),
    |p: *mut u8, v| std::arch::x86_64::_mm_storeu_si128(p.cast(), v)
);

/// Applies `BYTEWISE_MASK` (running the bench again with matching
/// `GLIBC_TUNABLES` first, see the module docs) and prints the header line
/// naming the CPU, the features the public functions dispatch on and the
/// tunables.
fn cpu_class() {
    let mask = std::env::var("BYTEWISE_MASK").unwrap_or_default();
    let names: Vec<&str> = mask.split(',').map(str::trim).collect();
    if !mask.is_empty() && std::env::var_os("GLIBC_TUNABLES").is_none() {
        let hide = if names.contains(&"avx2") {
            "-AVX512F,-AVX512VL,-AVX512BW,-AVX2,-AVX,-AVX_Fast_Unaligned_Load"
        } else if names.contains(&"avx512") {
            "-AVX512F,-AVX512VL,-AVX512BW"
        } else {
            ""
        };
        if !hide.is_empty() {
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args(std::env::args_os().skip(1))
                .env("GLIBC_TUNABLES", format!("glibc.cpu.hwcaps={hide}"))
                .status()
                .expect("run the bench again with GLIBC_TUNABLES");
            std::process::exit(status.code().unwrap_or(1));
        }
    }
    if let Err(name) = __kernels::disable(&mask) {
        eprintln!("BYTEWISE_MASK: unknown feature {name:?}");
        std::process::exit(2);
    }
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
            .map_or("?", |(_, v)| v.trim())
            .to_string()
    };
    let features: Vec<&str> = __kernels::features().collect();
    let width = if features.contains(&"avx512f+bw") {
        64
    } else if features.contains(&"avx2") {
        32
    } else {
        16
    };
    STORE_WIDTH.store(width, Relaxed);
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    println!(
        "CPU: {} (family {}, model {}); dispatch features: {}{}{}; store-only loop: {width}-byte stores\n",
        field("model name"),
        field("cpu family"),
        field("model"),
        if features.is_empty() {
            "baseline".to_string()
        } else {
            features.join(", ")
        },
        if mask.is_empty() {
            String::new()
        } else {
            format!(" (BYTEWISE_MASK={mask}: masked)")
        },
        if tunables.is_empty() {
            String::new()
        } else {
            format!("; memcpy with GLIBC_TUNABLES={tunables}")
        }
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    cpu_class();
    if std::env::args().any(|a| a == "--kernels") {
        return per_kernel(quick);
    }
    if std::env::args().any(|a| a == "--placement") {
        return placement(quick);
    }
    if let Some(i) = std::env::args().position(|a| a == "--at") {
        return at(quick, &std::env::args().skip(i + 1).collect::<Vec<_>>());
    }
    let portable = __kernels::all()
        .get("portable")
        .expect("portable kernel")
        .load;
    let dispatch = __kernels::all()
        .iter()
        .last()
        .map(|k| k.name)
        .unwrap_or("?");
    let sizes = [
        8usize,
        64,
        256,
        1 << 10,
        4 << 10,
        16 << 10,
        64 << 10,
        1 << 20,
        64 << 20,
    ];
    let (rounds, target) = if quick {
        (25, Duration::from_micros(250))
    } else {
        (101, Duration::from_micros(250))
    };
    let aligned = [
        Variant::Memcpy,
        Variant::Load,
        Variant::Store,
        Variant::StoreOnly,
        Variant::CopyOnly,
        Variant::AmcLoad,
        Variant::AmcStore,
        Variant::Portable,
    ];
    let misaligned = [Variant::Memcpy, Variant::Load, Variant::Store];
    let start = Instant::now();
    let mut rows = Vec::new();
    for &n in &sizes {
        // The portable path moves ~1 byte/cycle: skip it at 64 MiB in quick mode.
        let vs: &[Variant] = if quick && n >= 64 << 20 {
            &aligned[..7]
        } else {
            &aligned
        };
        rows.push(measure(n, 0, vs, rounds, target, portable));
        eprintln!("  {} done ({:.0?})", fmt_size(n), start.elapsed());
    }
    for &n in &sizes[2..] {
        rows.push(measure(n, 3, &misaligned, rounds, target, portable));
        eprintln!("  {} src+3 done ({:.0?})", fmt_size(n), start.elapsed());
    }
    println!(
        "bytewise compare: {} rounds, ~{:?} per sample, kernel used by the public functions: {dispatch}\n",
        rounds, target
    );
    println!("GB/s (ratio to memcpy in the same round; median over rounds)\n");
    let mut header = String::from("| size |");
    let mut rule = String::from("|---|");
    for v in aligned {
        header += &format!(" {} |", v.name());
        rule += "---|";
    }
    header += " load / atomic-memcpy | store / atomic-memcpy | load / store-only | store / store-only | copy-only / store-only |";
    rule += "---|---|---|---|---|";
    println!("{header}\n{rule}");
    for row in &rows {
        let mut line = format!("| {} |", row.label);
        for v in aligned {
            match row.cells.iter().find(|c| c.0 == v) {
                Some(&(Variant::Memcpy, g, _)) => line += &format!(" {g:.2} |"),
                Some(&(_, g, r)) => line += &format!(" {g:.2} ({r:.2}x) |"),
                None => line += " |",
            }
        }
        let ratio = |a: Variant, b: Variant| {
            let ga = row.cells.iter().find(|c| c.0 == a).map(|c| c.2);
            let gb = row.cells.iter().find(|c| c.0 == b).map(|c| c.2);
            match (ga, gb) {
                (Some(x), Some(y)) => format!(" {:.2}x |", x / y),
                _ => " |".to_string(),
            }
        };
        line += &ratio(Variant::Load, Variant::AmcLoad);
        line += &ratio(Variant::Store, Variant::AmcStore);
        line += &ratio(Variant::Load, Variant::StoreOnly);
        line += &ratio(Variant::Store, Variant::StoreOnly);
        line += &ratio(Variant::CopyOnly, Variant::StoreOnly);
        println!("{line}");
    }
    eprintln!("total {:.1?}", start.elapsed());
}

/// `--kernels`: the `load` of every kernel alone, aligned and with `src+3`,
/// as ratios to memcpy. This is how the dispatch thresholds were chosen.
fn per_kernel(quick: bool) {
    let portable = __kernels::all()
        .get("portable")
        .expect("portable kernel")
        .load;
    let kernels: Vec<Variant> = (1..__kernels::all().iter().count())
        .map(Variant::Kernel)
        .collect();
    let mut vs = vec![Variant::Memcpy];
    vs.extend(&kernels);
    let (rounds, target) = if quick {
        (25, Duration::from_micros(250))
    } else {
        (61, Duration::from_micros(250))
    };
    let sizes = [
        128usize,
        256,
        512,
        1 << 10,
        2 << 10,
        4 << 10,
        8 << 10,
        16 << 10,
        32 << 10,
        64 << 10,
        256 << 10,
        1 << 20,
        2 << 20,
        4 << 20,
        8 << 20,
        16 << 20,
        32 << 20,
        64 << 20,
    ];
    let mut header = String::from("| size |");
    let mut rule = String::from("|---|");
    for v in &vs[1..] {
        header += &format!(" {} |", v.name());
        rule += "---|";
    }
    println!("{header}\n{rule}");
    for off in [0, 3] {
        for &n in &sizes {
            let row = measure(n, off, &vs, rounds, target, portable);
            let mut line = format!("| {} |", row.label);
            for c in &row.cells[1..] {
                line += &format!(" {:.2} |", c.2);
            }
            println!("{line}");
        }
    }
}

/// `--at SIZE SRC/DST[,SRC/DST...] [KERNEL...]`: `memcpy`, the public
/// `load` and `store`, and each named kernel's `load` and `store` (names as
/// in `__kernels::all()`, e.g. `avx2 avx2_bwd`), at one size with the source
/// and destination at the given offsets past page boundaries (as
/// `--placement`). This is how a threshold between two kernels is chosen:
/// both run in the same rounds on the same pointers.
fn at(quick: bool, args: &[String]) {
    let usage = "usage: --at SIZE SRC/DST[,SRC/DST...] [KERNEL...]";
    let (Some(n), Some(pairs)) = (
        args.first().and_then(|a| a.parse::<usize>().ok()),
        args.get(1),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let pairs: Vec<(usize, usize)> = pairs
        .split(',')
        .map(|p| {
            p.split_once('/')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .unwrap_or_else(|| {
                    eprintln!("{usage}: bad pair {p:?}");
                    std::process::exit(2)
                })
        })
        .collect();
    let mut vs = vec![Variant::Memcpy, Variant::Load, Variant::Store];
    for name in args.iter().skip(2).filter(|a| !a.starts_with("--")) {
        let Some(i) = kernels().iter().position(|k| k.name == name.as_str()) else {
            let names: Vec<_> = kernels().iter().map(|k| k.name).collect();
            eprintln!(
                "no kernel {name:?} on this CPU; there are: {}",
                names.join(", ")
            );
            std::process::exit(2);
        };
        vs.extend([Variant::Kernel(i), Variant::KernelStore(i)]);
    }
    let portable = __kernels::all()
        .get("portable")
        .expect("portable kernel")
        .load;
    let (rounds, target) = if quick {
        (25, Duration::from_micros(250))
    } else {
        (61, Duration::from_micros(250))
    };
    let mut header = String::from("| size | src + | dst + | memcpy GB/s |");
    let mut rule = String::from("|---|---|---|---|");
    for v in &vs[1..] {
        header += &format!(" {} |", v.name());
        rule += "---|";
    }
    println!("{header}\n{rule}");
    let gap = n.div_ceil(4096) * 4096 + 4096;
    let mut buf = Buf::new(gap + n + 3 * 4096, 0x5A);
    let base = buf.ptr(0);
    let page = base.wrapping_add(base.addr().wrapping_neg() % 4096);
    for (so, off) in pairs {
        let (so, off) = (so % 4096, off % 4096);
        let s = page.wrapping_add(so);
        let d = page.wrapping_add(gap + 4096 + off);
        let label = format!("{} | {so} | {off}", fmt_size(n));
        let row = measure_at(n, s, d, label, &vs, rounds, target, portable);
        let mut line = format!("| {} | {:.2} |", row.label, row.cells[0].1);
        for c in &row.cells[1..] {
            line += &format!(" {:.2}x |", c.2);
        }
        println!("{line}");
    }
}

/// `--placement`: `memcpy`, `load` and `store` with the source and the
/// destination at fixed offsets past page boundaries (the main table takes
/// whatever placement the allocator gives). Every variant runs on the same
/// pair of pointers, so the ratios compare like with like; the spread over
/// the rows shows how much each side depends on where the buffers sit (4K
/// aliasing, relative misalignment, a destination near the end of a page).
fn placement(quick: bool) {
    let portable = __kernels::all()
        .get("portable")
        .expect("portable kernel")
        .load;
    let vs = [Variant::Memcpy, Variant::Load, Variant::Store];
    let (rounds, target) = if quick {
        (15, Duration::from_micros(250))
    } else {
        (41, Duration::from_micros(250))
    };
    // (source offset, destination offset), each past a page boundary.
    let pairs = [
        (0usize, 0usize),
        (0, 3),
        (0, 16),
        (0, 32),
        (0, 64),
        (0, 256),
        (0, 2048),
        (0, 4032),
        (0, 4080),
        (0, 4093),
        (64, 3000),
        (17, 4001),
        (5, 1000),
        (3, 0),
    ];
    println!("| size | src + | dst + | memcpy GB/s | load | store |");
    println!("|---|---|---|---|---|---|");
    for n in [96usize, 256, 1 << 10, 4 << 10, 64 << 10] {
        // Both at page boundaries, the destination at least one page past
        // the end of the source.
        let gap = n.div_ceil(4096) * 4096 + 4096;
        let mut buf = Buf::new(gap + n + 3 * 4096, 0x5A);
        let base = buf.ptr(0);
        let page = base.wrapping_add(base.addr().wrapping_neg() % 4096);
        for (so, off) in pairs {
            let s = page.wrapping_add(so);
            let d = page.wrapping_add(gap + 4096 + off);
            let label = format!("{} | {so} | {off}", fmt_size(n));
            let row = measure_at(n, s, d, label, &vs, rounds, target, portable);
            println!(
                "| {} | {:.2} | {:.2}x | {:.2}x |",
                row.label, row.cells[0].1, row.cells[1].2, row.cells[2].2
            );
        }
    }
}
