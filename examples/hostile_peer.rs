//! A parent process reads messages from shared memory that a hostile child
//! process keeps rewriting, and never acts on a value it did not validate.
//!
//! ```text
//! cargo run --release --example hostile_peer [-- --seconds N] [--double-fetch]
//! ```
//!
//! The parent creates a [`SharedMemory`] ring of fixed-size message slots
//! and re-executes this binary as the child, handing it the memfd as its
//! stdin (`SharedMemory::to_stdio` / `from_stdin`: no `unsafe`). The child
//! writes valid messages, random garbage, lengths past the end of a slot,
//! headers whose fields it flips while the parent reads them, and payloads it
//! keeps changing after writing a valid header. It also tries to shrink the
//! memory under the parent, which the seal set by `SharedMemory::create`
//! refuses.
//!
//! For each slot the parent takes one private copy of the header with
//! `read_obj`, validates it (length bound, target index, sequence), copies
//! the payload with `read_at`, checks the payload's checksum against the
//! validated header, and only then acts. The action is a separate,
//! non-inlined function that checks everything again on the values it was
//! given; any failure there is an *invariant violation*. A double fetch (the
//! header read again from shared memory after validation, by the compiler or
//! by the code) shows up there, because the child changes headers under the
//! parent: `--double-fetch` re-reads the header on purpose to show that the
//! counter catches it. Without it, the count must be zero.

use core::time::Duration;
use std::io::Write as _;
use std::process::{Child, Command, ExitCode};
use std::time::Instant;

use bytewise::SharedMemory;

/// The header at the start of every slot.
#[derive(Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
struct Header {
    /// Message number; increases for every message the child sends.
    seq: u64,
    /// Payload length in bytes; valid up to `MAX_PAYLOAD`.
    len: u32,
    /// An index into the parent's table; valid below `TABLE`.
    target: u32,
    /// FNV-1a over `seq`, `len`, `target` and the payload.
    checksum: u64,
}

const HEADER: usize = size_of::<Header>();
const SLOT: usize = 256;
const SLOTS: usize = 64;
const MAX_PAYLOAD: usize = SLOT - HEADER;
const TABLE: usize = 16;

// The control block before the slots.
const STOP: usize = 0; // u32: the parent sets 1 to stop the child
const CHILD_STATE: usize = 4; // u32: 1 running, 2 exited cleanly
const TRUNCATE: usize = 8; // u32: 1 shrinking refused, 2 shrinking succeeded
const CHILD_WRITES: usize = 16; // u64: slot rewrites by the child
const SLOTS_AT: usize = 64;
const LEN: usize = SLOTS_AT + SLOTS * SLOT;

fn slot_at(i: usize) -> usize {
    SLOTS_AT + i * SLOT
}

fn checksum(seq: u64, len: u32, target: u32, payload: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let fields = seq
        .to_le_bytes()
        .into_iter()
        .chain(len.to_le_bytes())
        .chain(target.to_le_bytes());
    for b in fields.chain(payload.iter().copied()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut seconds = 5u64;
    let mut double_fetch = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => match args.next().and_then(|s| s.parse().ok()) {
                Some(n) => seconds = n,
                None => return usage("--seconds needs a whole number"),
            },
            "--double-fetch" => double_fetch = true,
            "--child" => return child(),
            "-h" | "--help" => {
                println!("usage: hostile_peer [--seconds N] [--double-fetch]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    match parent(seconds, double_fetch) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hostile_peer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("hostile_peer: {msg}\nusage: hostile_peer [--seconds N] [--double-fetch]");
    ExitCode::from(2)
}

/// What the parent concluded about one read of a slot.
#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    Accepted,
    Stale,
    TooLong,
    BadTarget,
    BadChecksum,
}

/// Per-interval counters.
#[derive(Clone, Copy, Default)]
struct Counts {
    accepted: u64,
    too_long: u64,
    bad_target: u64,
    bad_checksum: u64,
    stale: u64,
    violations: u64,
}

impl Counts {
    fn rejected(&self) -> u64 {
        self.too_long + self.bad_target + self.bad_checksum
    }

    fn add(&mut self, o: &Counts) {
        self.accepted += o.accepted;
        self.too_long += o.too_long;
        self.bad_target += o.bad_target;
        self.bad_checksum += o.bad_checksum;
        self.stale += o.stale;
        self.violations += o.violations;
    }
}

/// The action taken on a message, given only the validated private copies.
/// It checks every invariant again: any failure means the parent acted on a
/// value it did not validate. Never inlined, so the values arrive as a real
/// call's arguments, the shape in which a compiler's double fetch shows up.
#[inline(never)]
fn act(h: Header, payload: &[u8], table: &mut [u64; TABLE]) -> bool {
    let ok = h.len as usize <= MAX_PAYLOAD
        && payload.len() == h.len as usize
        && (h.target as usize) < TABLE
        && checksum(h.seq, h.len, h.target, payload) == h.checksum;
    if ok {
        if let Some(slot) = table.get_mut(h.target as usize) {
            *slot += 1;
        }
    }
    ok
}

fn parent(seconds: u64, double_fetch: bool) -> std::io::Result<ExitCode> {
    let shm = SharedMemory::create(LEN)?;
    let mut child = spawn_child(&shm)?;
    let ready = Instant::now();
    while shm
        .read_obj::<u32>(CHILD_STATE)
        .map_err(std::io::Error::from)?
        != 1
    {
        if ready.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the child did not start"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }

    println!(
        "hostile_peer: {SLOTS} slots of {SLOT} bytes in a memfd, child pid {}, {seconds} s{}",
        child.id(),
        if double_fetch {
            ", DELIBERATE double fetch"
        } else {
            ""
        }
    );
    let mut last_seq = [0u64; SLOTS];
    let mut last_rejected = [<Header as bytemuck::Zeroable>::zeroed(); SLOTS];
    let mut table = [0u64; TABLE];
    let mut per_second: Vec<Counts> = Vec::new();
    let mut current = Counts::default();
    let mut payload_buf = [0u8; MAX_PAYLOAD];
    let start = Instant::now();
    let mut next_progress = Duration::from_millis(250);
    let run_for = Duration::from_secs(seconds);
    let mut i = 0usize;
    loop {
        let slot = i;
        let off = slot_at(slot);
        i = (i + 1) % SLOTS;

        // One private copy of the header; everything below uses `h` only.
        let h: Header = shm.read_obj(off).map_err(std::io::Error::from)?;
        let verdict = if h.seq == 0 || h.seq <= last_seq[slot] {
            Verdict::Stale
        } else if h.len as usize > MAX_PAYLOAD {
            Verdict::TooLong
        } else if h.target as usize >= TABLE {
            Verdict::BadTarget
        } else {
            let payload = &mut payload_buf[..h.len as usize];
            shm.read_at(off + HEADER, payload)
                .map_err(std::io::Error::from)?;
            if checksum(h.seq, h.len, h.target, payload) != h.checksum {
                Verdict::BadChecksum
            } else {
                last_seq[slot] = h.seq;
                // The bug `--double-fetch` demonstrates: using a second read
                // of the shared header instead of the validated copy.
                let used = if double_fetch {
                    shm.read_obj(off).map_err(std::io::Error::from)?
                } else {
                    h
                };
                if !act(used, payload, &mut table) {
                    current.violations += 1;
                }
                Verdict::Accepted
            }
        };
        match verdict {
            Verdict::Accepted => current.accepted += 1,
            Verdict::Stale => current.stale += 1,
            // A rejected header the parent already counted: not news.
            _ if bytemuck::bytes_of(&h) == bytemuck::bytes_of(&last_rejected[slot]) => {
                current.stale += 1
            }
            rejected => {
                last_rejected[slot] = h;
                match rejected {
                    Verdict::TooLong => current.too_long += 1,
                    Verdict::BadTarget => current.bad_target += 1,
                    _ => current.bad_checksum += 1,
                }
            }
        }

        if i == 0 {
            let t = start.elapsed();
            if t >= Duration::from_secs(per_second.len() as u64 + 1) {
                per_second.push(current);
                current = Counts::default();
            }
            if t >= next_progress {
                next_progress += Duration::from_millis(250);
                let mut total = Counts::default();
                per_second
                    .iter()
                    .chain([&current])
                    .for_each(|c| total.add(c));
                eprint!(
                    "\r[{:5.2}s] accepted {:>10}  rejected {:>10}  stale {:>10}  violations {}   ",
                    t.as_secs_f64(),
                    total.accepted,
                    total.rejected(),
                    total.stale,
                    total.violations
                );
                let _ = std::io::stderr().flush();
            }
            if t >= run_for {
                break;
            }
        }
    }
    eprintln!();
    if current.accepted + current.rejected() + current.stale > 0
        && per_second.len() < seconds as usize
    {
        per_second.push(current);
    }

    let child_writes: u64 = shm.read_obj(CHILD_WRITES).map_err(std::io::Error::from)?;
    let truncate: u32 = shm.read_obj(TRUNCATE).map_err(std::io::Error::from)?;
    let stopped = stop_child(&shm, &mut child)?;

    let mut total = Counts::default();
    per_second.iter().for_each(|c| total.add(c));
    println!();
    println!(
        "{:>6} | {:>12} | {:>12} | {:>12} | {:>10}",
        "second", "accepted/s", "rejected/s", "stale/s", "violations"
    );
    println!(
        "{:-<6}-+-{:-<12}-+-{:-<12}-+-{:-<12}-+-{:-<10}",
        "", "", "", "", ""
    );
    for (s, c) in per_second.iter().enumerate() {
        println!(
            "{:>6} | {:>12} | {:>12} | {:>12} | {:>10}",
            s + 1,
            c.accepted,
            c.rejected(),
            c.stale,
            c.violations
        );
    }
    println!(
        "{:-<6}-+-{:-<12}-+-{:-<12}-+-{:-<12}-+-{:-<10}",
        "", "", "", "", ""
    );
    println!(
        "{:>6} | {:>12} | {:>12} | {:>12} | {:>10}",
        "total",
        total.accepted,
        total.rejected(),
        total.stale,
        total.violations
    );
    println!();
    println!(
        "rejected: {} length past the end, {} target out of range, {} checksum (garbage or torn)",
        total.too_long, total.bad_target, total.bad_checksum
    );
    println!(
        "child slot rewrites: {child_writes}; table entries used: {}",
        table.iter().sum::<u64>()
    );
    println!(
        "child's attempt to shrink the shared memory: {}",
        match truncate {
            1 => "refused (size sealed)",
            2 => "SUCCEEDED (the parent would have crashed with SIGBUS)",
            _ => "not made",
        }
    );
    println!("child: {stopped}");

    let acted = table.iter().sum::<u64>();
    if double_fetch {
        if total.violations > 0 {
            println!(
                "invariant violations: {} -- the deliberate double fetch was caught, as it must be",
                total.violations
            );
        } else {
            println!(
                "invariant violations: 0 -- the child did not win the race this time; try more --seconds"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if total.violations == 0 && acted == total.accepted {
        println!("invariant violations: 0");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "invariant violations: {} (acted on {acted} of {} accepted)",
            total.violations, total.accepted
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Re-executes this binary as the child, with the memfd as its stdin.
fn spawn_child(shm: &SharedMemory) -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .arg("--child")
        .stdin(shm.to_stdio()?)
        .spawn()
}

/// Asks the child to stop through the shared stop flag and waits; kills it
/// if it does not stop within two seconds.
fn stop_child(shm: &SharedMemory, child: &mut Child) -> std::io::Result<String> {
    shm.write_obj(STOP, &1u32).map_err(std::io::Error::from)?;
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_secs(2) {
        if let Some(status) = child.try_wait()? {
            let state: u32 = shm.read_obj(CHILD_STATE).map_err(std::io::Error::from)?;
            return Ok(format!(
                "stopped cleanly on the stop flag ({status}{})",
                if state == 2 {
                    ""
                } else {
                    ", but it did not say goodbye"
                }
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill()?;
    let status = child.wait()?;
    Ok(format!("did not stop within 2 s; killed ({status})"))
}

/// A small xorshift generator; the child needs speed, not quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The hostile child: rewrites slots in every way it can think of until the
/// parent sets the stop flag.
fn child() -> ExitCode {
    let shm = match SharedMemory::from_stdin() {
        Ok(shm) => shm,
        Err(e) => {
            eprintln!("hostile_peer child: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run_child(&shm) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hostile_peer child: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_child(shm: &SharedMemory) -> Result<(), bytewise::Error> {
    // First, the nastiest thing: shrink the memory under the parent.
    let truncated = rustix::fs::ftruncate(shm, 0).is_ok();
    shm.write_obj(TRUNCATE, &if truncated { 2u32 } else { 1 })?;
    shm.write_obj(CHILD_STATE, &1u32)?;

    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id()) ^ nanos);
    let mut seq = 0u64;
    let mut writes = 0u64;
    let mut payload = [0u8; MAX_PAYLOAD];
    while shm.read_obj::<u32>(STOP)? == 0 {
        let off = slot_at(rng.below(SLOTS as u64) as usize);
        let len = rng.below(MAX_PAYLOAD as u64 + 1) as u32;
        let target = rng.below(TABLE as u64) as u32;
        payload.iter_mut().for_each(|b| *b = rng.next() as u8);
        seq += 1;
        let valid = Header {
            seq,
            len,
            target,
            checksum: checksum(seq, len, target, &payload[..len as usize]),
        };
        match rng.below(100) {
            // A valid message: payload first, then the header.
            0..40 => {
                shm.write_at(off + HEADER, &payload)?;
                shm.write_obj(off, &valid)?;
            }
            // Random garbage over the whole slot.
            40..55 => {
                let mut junk = [0u8; SLOT];
                junk.iter_mut().for_each(|b| *b = rng.next() as u8);
                shm.write_at(off, &junk)?;
            }
            // A length past the end of the slot, with a matching checksum
            // over whatever the length claims.
            55..65 => {
                let len = MAX_PAYLOAD as u32
                    + 1
                    + rng.below(u64::from(u32::MAX) - MAX_PAYLOAD as u64) as u32;
                let h = Header {
                    len,
                    checksum: checksum(seq, len, target, &payload),
                    ..valid
                };
                shm.write_obj(off, &h)?;
            }
            // A valid message whose length and target then flip between
            // valid and invalid values while the parent reads them.
            65..85 => {
                shm.write_at(off + HEADER, &payload)?;
                shm.write_obj(off, &valid)?;
                for k in 0..64u32 {
                    let bad = k % 2 == 0;
                    let len = if bad { u32::MAX - k } else { valid.len };
                    let target = if bad { TABLE as u32 + k } else { valid.target };
                    shm.write_obj(off + 8, &len)?;
                    shm.write_obj(off + 12, &target)?;
                }
            }
            // A valid header, then a payload that keeps changing under it.
            _ => {
                shm.write_at(off + HEADER, &payload)?;
                shm.write_obj(off, &valid)?;
                for _ in 0..16 {
                    let at = rng.below(len.max(1) as u64) as usize;
                    shm.write_obj(off + HEADER + at, &(rng.next() as u8))?;
                }
            }
        }
        writes += 1;
        if writes % 1024 == 0 {
            shm.write_obj(CHILD_WRITES, &writes)?;
        }
    }
    shm.write_obj(CHILD_WRITES, &writes)?;
    shm.write_obj(CHILD_STATE, &2u32)?;
    Ok(())
}
