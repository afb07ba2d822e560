//! `SeqLock<T>` against crossbeam's `AtomicCell` (its seqlock fallback), the
//! `seqlock` crate, `std::sync::RwLock` and `parking_lot::RwLock`.
//!
//! ```sh
//! cargo bench --bench seqlock            # full run, prints a Markdown table
//! SEQLOCK_BENCH_SAMPLES=5 cargo bench --bench seqlock   # quicker
//! ```
//!
//! Three measurements for `[u64; 8]` and `[u8; 256]`:
//! - **read**: latency of one read, no writer;
//! - **read under writer**: reads per second by one thread while another
//!   thread writes continuously (back to back: these medians swing several
//!   fold between launches for every contender, so they are shown but are
//!   not a target);
//! - **read under a pausing writer**: the same with the writer pausing
//!   about 2 µs (a spin on `Instant`) after each write, as real writers do;
//! - **write**: latency of one write, no reader.
//!
//! Samples of all contenders are interleaved (one sample of each in turn),
//! so machine noise hits them alike; the table shows medians and the ratio
//! to `bytewise`, and the targets are checked at the end of the same run.

use core::hint::black_box;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::time::Instant;

use crossbeam_utils::atomic::AtomicCell;

/// One contender: a cell that holds a `T` and is read and written through `&`.
trait Contender<T: Copy>: Sync {
    const NAME: &'static str;
    fn new(value: T) -> Self;
    fn read(&self) -> T;
    fn write(&self, value: T);
}

impl<T: bytemuck::NoUninit + Send> Contender<T> for bytewise::SeqLock<T> {
    const NAME: &'static str = "bytewise::SeqLock";
    fn new(value: T) -> Self {
        bytewise::SeqLock::new(value)
    }
    fn read(&self) -> T {
        bytewise::SeqLock::read(self)
    }
    fn write(&self, value: T) {
        bytewise::SeqLock::write(self, value)
    }
}

impl<T: Copy + Send> Contender<T> for AtomicCell<T> {
    const NAME: &'static str = "crossbeam AtomicCell";
    fn new(value: T) -> Self {
        AtomicCell::new(value)
    }
    fn read(&self) -> T {
        self.load()
    }
    fn write(&self, value: T) {
        self.store(value)
    }
}

impl<T: Copy + Send> Contender<T> for seqlock::SeqLock<T> {
    const NAME: &'static str = "seqlock crate";
    fn new(value: T) -> Self {
        seqlock::SeqLock::new(value)
    }
    fn read(&self) -> T {
        seqlock::SeqLock::read(self)
    }
    fn write(&self, value: T) {
        *self.lock_write() = value;
    }
}

impl<T: Copy + Send + Sync> Contender<T> for std::sync::RwLock<T> {
    const NAME: &'static str = "std RwLock";
    fn new(value: T) -> Self {
        std::sync::RwLock::new(value)
    }
    fn read(&self) -> T {
        *std::sync::RwLock::read(self).unwrap()
    }
    fn write(&self, value: T) {
        *std::sync::RwLock::write(self).unwrap() = value;
    }
}

impl<T: Copy + Send + Sync> Contender<T> for parking_lot::RwLock<T> {
    const NAME: &'static str = "parking_lot RwLock";
    fn new(value: T) -> Self {
        parking_lot::RwLock::new(value)
    }
    fn read(&self) -> T {
        *parking_lot::RwLock::read(self)
    }
    fn write(&self, value: T) {
        *parking_lot::RwLock::write(self) = value;
    }
}

/// Two values a writer alternates between.
trait Value: bytemuck::NoUninit + Send + Sync + 'static {
    const NAME: &'static str;
    fn nth(i: u64) -> Self;
}

impl Value for [u64; 8] {
    const NAME: &'static str = "[u64; 8]";
    fn nth(i: u64) -> Self {
        [i; 8]
    }
}

impl Value for [u8; 256] {
    const NAME: &'static str = "[u8; 256]";
    fn nth(i: u64) -> Self {
        [i as u8; 256]
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ns per read, no writer.
    Read,
    /// million reads per second while another thread writes.
    ReadUnderWriter,
    /// million reads per second while another thread writes every ~2 µs.
    ReadUnderPausingWriter,
    /// million writes per second while another thread reads: the other
    /// side of the same contention, so that read throughput under a writer
    /// is not mistaken for speed when it is bought by starving the writer.
    WriteUnderReader,
    /// ns per write, no reader.
    Write,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Read => "read, no writer (ns)",
            Kind::ReadUnderWriter => "reads/s under a writer (M/s)",
            Kind::ReadUnderPausingWriter => "reads/s, writer pausing 2 µs (M/s)",
            Kind::WriteUnderReader => "writes/s under a reader (M/s)",
            Kind::Write => "write, no reader (ns)",
        }
    }
    fn higher_is_better(self) -> bool {
        matches!(
            self,
            Kind::ReadUnderWriter | Kind::ReadUnderPausingWriter | Kind::WriteUnderReader
        )
    }
}

/// Time a sample of the latency kinds aims for.
const SAMPLE_TIME: Duration = Duration::from_millis(10);
/// Length of one throughput sample.
const WINDOW: Duration = Duration::from_millis(40);

/// Iterations that take about `SAMPLE_TIME`.
fn calibrate(mut op: impl FnMut(u64)) -> u64 {
    let mut n = 64;
    loop {
        let t = Instant::now();
        op(n);
        let took = t.elapsed();
        if took >= SAMPLE_TIME / 4 || n >= 1 << 30 {
            let per = took.as_secs_f64() / n as f64;
            return ((SAMPLE_TIME.as_secs_f64() / per) as u64).max(1);
        }
        n *= 4;
    }
}

fn read_loop<T: Value, C: Contender<T>>(c: &C, n: u64) {
    for _ in 0..n {
        black_box(black_box(c).read());
    }
}

fn write_loop<T: Value, C: Contender<T>>(c: &C, n: u64) {
    for i in 0..n {
        black_box(c).write(T::nth(i));
    }
}

/// A contender set up for one `(T, kind)` row; `sample` returns one figure.
struct Runner {
    name: &'static str,
    sample: Box<dyn FnMut() -> f64>,
}

/// Puts every contender at the start of a cache line, so that results do
/// not depend on where the allocator happened to place it.
#[repr(C, align(64))]
struct LineAligned<C>(C);

fn runner<T: Value, C: Contender<T> + 'static>(kind: Kind) -> Runner {
    let cell: &'static C = &Box::leak(Box::new(LineAligned(C::new(T::nth(1))))).0;
    let sample: Box<dyn FnMut() -> f64> = match kind {
        Kind::Read => {
            let n = calibrate(|n| read_loop::<T, C>(cell, n));
            Box::new(move || {
                let t = Instant::now();
                read_loop::<T, C>(cell, n);
                t.elapsed().as_nanos() as f64 / n as f64
            })
        }
        Kind::Write => {
            let n = calibrate(|n| write_loop::<T, C>(cell, n));
            Box::new(move || {
                let t = Instant::now();
                write_loop::<T, C>(cell, n);
                t.elapsed().as_nanos() as f64 / n as f64
            })
        }
        Kind::ReadUnderWriter | Kind::ReadUnderPausingWriter => Box::new(move || {
            let stop = AtomicBool::new(false);
            let started = AtomicBool::new(false);
            let pause = if kind == Kind::ReadUnderPausingWriter {
                Duration::from_micros(2)
            } else {
                Duration::ZERO
            };
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut i = 0u64;
                    started.store(true, Ordering::Release);
                    while !stop.load(Ordering::Relaxed) {
                        cell.write(T::nth(i));
                        i += 1;
                        if !pause.is_zero() {
                            let t = Instant::now();
                            while t.elapsed() < pause {
                                core::hint::spin_loop();
                            }
                        }
                    }
                });
                while !started.load(Ordering::Acquire) {
                    core::hint::spin_loop();
                }
                let t = Instant::now();
                let mut reads = 0u64;
                while t.elapsed() < WINDOW {
                    for _ in 0..64 {
                        black_box(black_box(cell).read());
                    }
                    reads += 64;
                }
                let rate = reads as f64 / t.elapsed().as_secs_f64() / 1e6;
                stop.store(true, Ordering::Relaxed);
                rate
            })
        }),
        Kind::WriteUnderReader => Box::new(move || {
            let stop = AtomicBool::new(false);
            let started = AtomicBool::new(false);
            std::thread::scope(|s| {
                s.spawn(|| {
                    started.store(true, Ordering::Release);
                    while !stop.load(Ordering::Relaxed) {
                        black_box(black_box(cell).read());
                    }
                });
                while !started.load(Ordering::Acquire) {
                    core::hint::spin_loop();
                }
                let t = Instant::now();
                let mut writes = 0u64;
                while t.elapsed() < WINDOW {
                    for _ in 0..64 {
                        cell.write(T::nth(writes));
                        writes += 1;
                    }
                }
                let rate = writes as f64 / t.elapsed().as_secs_f64() / 1e6;
                stop.store(true, Ordering::Relaxed);
                rate
            })
        }),
    };
    Runner {
        name: C::NAME,
        sample,
    }
}

fn runners<T: Value>(kind: Kind) -> Vec<Runner> {
    vec![
        runner::<T, bytewise::SeqLock<T>>(kind),
        runner::<T, AtomicCell<T>>(kind),
        runner::<T, seqlock::SeqLock<T>>(kind),
        runner::<T, std::sync::RwLock<T>>(kind),
        runner::<T, parking_lot::RwLock<T>>(kind),
    ]
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// One row: the median of each contender, in `runners` order.
struct Row {
    value: &'static str,
    kind: Kind,
    medians: Vec<(&'static str, f64)>,
}

fn measure<T: Value>(kind: Kind, samples: usize) -> Row {
    let mut rs = runners::<T>(kind);
    let mut figures = vec![Vec::with_capacity(samples); rs.len()];
    for r in &mut rs {
        (r.sample)(); // warm-up
    }
    for _ in 0..samples {
        for (r, f) in rs.iter_mut().zip(&mut figures) {
            f.push((r.sample)());
        }
    }
    let medians = rs
        .iter()
        .zip(&mut figures)
        .map(|(r, f)| (r.name, median(f)))
        .collect();
    Row {
        value: T::NAME,
        kind,
        medians,
    }
}

/// Three significant digits or one decimal, whichever is more.
fn fmt(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn figure(row: &Row, name: &str) -> f64 {
    row.medians.iter().find(|(n, _)| *n == name).unwrap().1
}

fn main() {
    let samples: usize = std::env::var("SEQLOCK_BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rows = Vec::new();
    for kind in [
        Kind::Read,
        Kind::ReadUnderWriter,
        Kind::ReadUnderPausingWriter,
        Kind::WriteUnderReader,
        Kind::Write,
    ] {
        rows.push(measure::<[u64; 8]>(kind, samples));
        rows.push(measure::<[u8; 256]>(kind, samples));
    }

    println!();
    println!("Medians of {samples} interleaved samples, {cpus} CPUs; (×N) = ratio to bytewise,");
    println!("> 1 means bytewise is better.");
    println!();
    let names: Vec<_> = rows[0].medians.iter().map(|(n, _)| *n).collect();
    println!("| T | measurement | {} |", names.join(" | "));
    println!("|---|---|{}", "---:|".repeat(names.len()));
    for row in &rows {
        let ours = figure(row, "bytewise::SeqLock");
        let cells: Vec<String> = row
            .medians
            .iter()
            .map(|&(name, v)| {
                if name == "bytewise::SeqLock" {
                    format!("**{}**", fmt(v))
                } else {
                    let ratio = if row.kind.higher_is_better() {
                        ours / v
                    } else {
                        v / ours
                    };
                    format!("{} (×{ratio:.2})", fmt(v))
                }
            })
            .collect();
        println!(
            "| `{}` | {} | {} |",
            row.value,
            row.kind.label(),
            cells.join(" | ")
        );
    }

    println!();
    println!("Targets:");
    let row = |value: &str, kind: Kind| {
        rows.iter()
            .find(|r| r.value == value && r.kind == kind)
            .unwrap()
    };
    let check = |what: &str, ratio: f64, ok: bool| {
        println!(
            "- {what}: {ratio:.2} -> {}",
            if ok { "met" } else { "NOT met" }
        );
    };
    let r = row("[u64; 8]", Kind::Read);
    let x = figure(r, "bytewise::SeqLock") / figure(r, "crossbeam AtomicCell");
    check(
        "read [u64; 8], bytewise / crossbeam latency (<= 1.10)",
        x,
        x <= 1.10,
    );
    let r = row("[u8; 256]", Kind::Read);
    let x = figure(r, "crossbeam AtomicCell") / figure(r, "bytewise::SeqLock");
    check(
        "read [u8; 256], crossbeam / bytewise latency (>= 3.00)",
        x,
        x >= 3.0,
    );
    let r = row("[u8; 256]", Kind::Read);
    let x = figure(r, "bytewise::SeqLock") / figure(r, "std RwLock");
    check(
        "read [u8; 256], bytewise / std RwLock latency (<= 1.00)",
        x,
        x <= 1.0,
    );
    for value in ["[u64; 8]", "[u8; 256]"] {
        let r = row(value, Kind::ReadUnderPausingWriter);
        let x = figure(r, "bytewise::SeqLock") / figure(r, "seqlock crate");
        check(
            &format!("reads/s, writer pausing 2 µs, {value}, bytewise / seqlock crate (>= 1.00)"),
            x,
            x >= 1.0,
        );
        let r = row(value, Kind::Write);
        let x = figure(r, "bytewise::SeqLock") / figure(r, "seqlock crate");
        check(
            &format!("write {value}, bytewise / seqlock crate latency (<= 1.20)"),
            x,
            x <= 1.2,
        );
    }
    println!(
        "(The back-to-back writer rows are not a target: their medians swing from 0.2x to 1.5x"
    );
    println!("between launches of the same binary, for every contender.)");
}
