#![allow(clippy::std_instead_of_core, clippy::multiple_unsafe_ops_per_block)]
//! The double fetch, live: a writer thread flips a header's `idx` between a
//! valid and an invalid value while a reader copies the header, validates it
//! with a non-inlined `&self` method (`idx < LEN` among other checks), stores
//! the copy to `*out`, and the caller passes it by value to a non-inlined
//! consumer that trusts it.
//!
//! With a plain `copy_nonoverlapping` (undefined behaviour: a data race) LLVM
//! 22 deletes the private copy: it validates the shared bytes in place and
//! then copies them to `*out` a second time, after the check. The consumer
//! then sees an `idx` that was never validated. With `bytewise` the copy is
//! opaque and happens once.
//!
//! ```sh
//! cargo run --release --example double_fetch               # bytewise: 0 escapes
//! cargo run --release --example double_fetch -- --compare  # also the plain copy (UB, on purpose)
//! ```
//!
//! Options: `--iterations N` (default 20 000 000 per mode), `--compare`.

use std::hint::black_box;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytemuck::Zeroable;
use bytewise::AtomicBytes;

/// Entries in the table the consumer indexes.
const LEN: u32 = 16;
const VALID: u32 = 3;
const INVALID: u32 = 0x8000_0000 | VALID;
/// Flag bits a valid header leaves clear.
const RESERVED: u32 = 0xFFFF_0000;

/// A 64-byte message header as it sits in shared memory.
#[derive(Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
struct Header {
    idx: u32,
    flags: u32,
    payload: [u64; 7],
}

static TABLE: [u64; LEN as usize] = [7; LEN as usize];

impl Header {
    /// The validation: a separate, non-inlined method, as validation code
    /// often is. It checks the index and a few more fields.
    #[inline(never)]
    fn is_valid(&self) -> bool {
        self.idx < LEN && self.flags & RESERVED == 0 && self.payload[6] != u64::MAX
    }
}

/// Reads with `bytewise`: one private copy, validated, then stored.
#[inline(never)]
fn read_bytewise(shared: &AtomicBytes, out: &mut Header) -> bool {
    let Ok(h) = shared.read_obj::<Header>(0) else {
        return false;
    };
    if !h.is_valid() {
        return false;
    }
    *out = h;
    true
}

/// Reads with a plain copy: a data race, undefined behaviour, shown on
/// purpose. The optimizer may forward the shared bytes, not `h`, into `*out`.
#[inline(never)]
fn read_plain(shared: &AtomicBytes, out: &mut Header) -> bool {
    // SAFETY: none. This races with the writer thread; it is the undefined
    // behaviour this demo exists to show. It is only run with `--compare`.
    #[allow(clippy::undocumented_unsafe_blocks)]
    let h: Header = unsafe {
        let mut h = std::mem::MaybeUninit::<Header>::uninit();
        std::ptr::copy_nonoverlapping(shared.as_ptr().cast::<Header>(), h.as_mut_ptr(), 1);
        h.assume_init()
    };
    if !h.is_valid() {
        return false;
    }
    *out = h;
    true
}

/// Trusts a validated header: real code would index with `get_unchecked`.
/// This one checks, to count what would have been an out-of-bounds access.
#[inline(never)]
fn consume(h: Header) -> Option<u64> {
    let entry = TABLE.get(h.idx as usize)?;
    Some(
        h.payload
            .iter()
            .fold(*entry, |acc, p| acc.rotate_left(5) ^ p),
    )
}

struct Outcome {
    iterations: u64,
    accepted: u64,
    rejected: u64,
    escapes: u64,
    elapsed: Duration,
}

fn run(name: &str, iterations: u64, reader: fn(&AtomicBytes, &mut Header) -> bool) -> Outcome {
    // 8-aligned backing, so that `Header` may be read in place.
    let mut backing = vec![0u64; 512];
    let shared = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let initial = Header {
        idx: VALID,
        flags: 0,
        payload: [1, 2, 3, 4, 5, 6, 7],
    };
    shared.write_obj(0, &initial).expect("header fits");
    let stop = AtomicBool::new(false);

    std::thread::scope(|s| {
        // The writer flips `idx` with byte-wise atomic stores.
        s.spawn(|| {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let idx = if i % 2 == 0 { INVALID } else { VALID };
                shared.write_obj(0, &idx).expect("idx fits");
                i = i.wrapping_add(1);
            }
        });

        let start = Instant::now();
        let (mut accepted, mut rejected, mut escapes) = (0u64, 0u64, 0u64);
        let mut last = start;
        for n in 0..iterations {
            let mut h = Header::zeroed();
            if reader(black_box(shared), &mut h) {
                accepted += 1;
                match consume(h) {
                    Some(v) => _ = black_box(v),
                    None => escapes += 1,
                }
            } else {
                rejected += 1;
            }
            if n % (1 << 20) == 0 && last.elapsed() >= Duration::from_secs(1) {
                last = Instant::now();
                eprint!(
                    "\r  {name}: {:>5.1}% ",
                    100.0 * n as f64 / iterations as f64
                );
            }
        }
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        eprint!("\r{:40}\r", "");
        Outcome {
            iterations,
            accepted,
            rejected,
            escapes,
            elapsed,
        }
    })
}

fn parse_args() -> Result<(u64, bool), String> {
    let (mut iterations, mut compare) = (20_000_000u64, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--compare" => compare = true,
            "--iterations" => {
                let v = args.next().ok_or("--iterations needs a value")?;
                iterations = v
                    .parse()
                    .map_err(|_| format!("--iterations: not a number: {v}"))?;
            }
            "-h" | "--help" => {
                return Err("usage: double_fetch [--iterations N] [--compare]".into());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok((iterations, compare))
}

fn main() -> ExitCode {
    let (iterations, compare) = match parse_args() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("A writer flips Header::idx between {VALID} (valid) and {INVALID:#x} (invalid);");
    println!("the reader copies the header, checks idx < {LEN} with a non-inlined method, stores");
    println!(
        "the copy for a consumer that trusts it. An escape is a validated header whose idx was invalid.\n"
    );

    let mut rows = vec![(
        "bytewise::read_obj",
        run("bytewise", iterations, read_bytewise),
    )];
    if compare {
        rows.push((
            "ptr::copy_nonoverlapping (UB, on purpose)",
            run("plain copy", iterations, read_plain),
        ));
    }

    println!("| copy | iterations | accepted | rejected | escapes | Mcopies/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, o) in &rows {
        let rate = o.iterations as f64 / o.elapsed.as_secs_f64() / 1e6;
        println!(
            "| {name} | {} | {} | {} | **{}** | {rate:.1} |",
            o.iterations, o.accepted, o.rejected, o.escapes
        );
    }
    let bytewise_escapes = rows[0].1.escapes;
    if compare {
        println!(
            "\nThe plain copy is a data race (undefined behaviour): the optimizer may re-read the\n\
             shared header after the check, so the consumer can see a value that was never validated."
        );
    }
    if bytewise_escapes == 0 {
        println!("\nbytewise: 0 escapes.");
        ExitCode::SUCCESS
    } else {
        println!("\nbytewise: {bytewise_escapes} escapes: this is a bug, please report it.");
        ExitCode::FAILURE
    }
}
