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
//! `load` and `store` with the destination at fixed offsets from a
//! page-aligned source (see `placement`).
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
    AmcLoad,
    AmcStore,
    Portable,
    /// `load` of the kernel at this index of `__kernels::all()`.
    Kernel(usize),
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Memcpy => "memcpy",
            Variant::Load => "load",
            Variant::Store => "store",
            Variant::AmcLoad => "atomic-memcpy load",
            Variant::AmcStore => "atomic-memcpy store",
            Variant::Portable => "portable load",
            Variant::Kernel(i) => kernels()[i].name,
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
        // SAFETY: as above; the kernel contract is that of `bytewise::load`.
        Variant::Portable => unsafe { _ = portable(src, dst, n) },
        Variant::Kernel(i) => {
            let k = &kernels()[i];
            // SAFETY: as above; the kernel contract is that of `bytewise::load`.
            unsafe { _ = (k.load)(src, dst, n) }
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
    }
}

/// [`time`] for the variant numbered `C` (6: a `Kernel`, taken from `v`).
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

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "--kernels") {
        return per_kernel(quick);
    }
    if std::env::args().any(|a| a == "--placement") {
        return placement(quick);
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
            &aligned[..5]
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
    header += " load / atomic-memcpy | store / atomic-memcpy |";
    rule += "---|---|";
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

/// `--placement`: `memcpy`, `load` and `store` with the source at a page
/// boundary and the destination at several offsets from it modulo 4 KiB
/// (the main table takes whatever placement the allocator gives). Every
/// variant runs on the same pair of pointers, so the ratios compare like
/// with like; the spread over the rows shows how much each side depends on
/// where the buffers sit (4K aliasing, relative misalignment).
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
    let offsets = [0usize, 3, 16, 32, 64, 256, 2048, 4032, 4080, 4093];
    println!("| size | dst - src mod 4096 | memcpy GB/s | load | store |");
    println!("|---|---|---|---|---|");
    for n in [256usize, 4 << 10, 64 << 10] {
        // src at a page boundary; dst at least one page past the end of src.
        let gap = n.div_ceil(4096) * 4096 + 4096;
        let mut buf = Buf::new(gap + n + 2 * 4096, 0x5A);
        let base = buf.ptr(0);
        let s = base.wrapping_add(base.addr().wrapping_neg() % 4096);
        for off in offsets {
            let d = s.wrapping_add(gap + off);
            let label = format!("{} | {off:#x}", fmt_size(n));
            let row = measure_at(n, s, d, label, &vs, rounds, target, portable);
            println!(
                "| {} | {:.2} | {:.2}x | {:.2}x |",
                row.label, row.cells[0].1, row.cells[1].2, row.cells[2].2
            );
        }
    }
}
