//! `SeqLock<T>`: the API, threaded stress tests, and their negative controls.
//!
//! Every property the stress tests claim is also shown to be observable: the
//! same checker, run against a deliberately broken protocol built from the
//! same pieces (`AtomicU64` + `AtomicPerByte`), must catch the breakage.
//!
//! Under Miri (portable path) the counts shrink so that `read`, `try_read`,
//! `write` and `update` run with 2 to 3 threads and Miri checks for races:
//! `cargo +nightly miri test --test seqlock`.

mod common;

use core::mem::MaybeUninit;
use core::panic::AssertUnwindSafe;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use core::time::Duration;
use std::panic::catch_unwind;
use std::thread;
use std::time::Instant;

use bytewise::Timeout;
use bytewise::{AtomicBytes, Error};
use bytewise::{AtomicPerByte, Ordering, SeqLock};
use common::iters;

// ---------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------

#[test]
fn new_read_write_roundtrip() {
    let lock = SeqLock::new([1u64, 2, 3]);
    assert_eq!(lock.read(), [1, 2, 3]);
    assert_eq!(lock.try_read(), Some([1, 2, 3]));
    lock.write([4, 5, 6]);
    assert_eq!(lock.read(), [4, 5, 6]);
    assert_eq!(lock.into_inner(), [4, 5, 6]);
}

#[test]
fn const_static() {
    static LOCK: SeqLock<[u8; 5]> = SeqLock::new(*b"hello");
    assert_eq!(&LOCK.read(), b"hello");
    LOCK.write(*b"world");
    assert_eq!(&LOCK.read(), b"world");
}

#[test]
fn get_mut_into_inner_default_from() {
    let mut lock = SeqLock::<[u32; 2]>::default();
    assert_eq!(lock.read(), [0, 0]);
    lock.get_mut()[1] = 9;
    assert_eq!(lock.read(), [0, 9]);
    let lock: SeqLock<u16> = 7.into();
    assert_eq!(lock.into_inner(), 7);
}

#[test]
fn update_returns_the_new_value() {
    let lock = SeqLock::new(10u32);
    assert_eq!(lock.update(|v| v * 2), 20);
    assert_eq!(lock.read(), 20);
}

#[test]
fn update_that_panics_changes_nothing_and_releases_the_lock() {
    let lock = SeqLock::new([3u64; 4]);
    let r = catch_unwind(AssertUnwindSafe(|| {
        lock.update(|_| panic!("in update"));
    }));
    assert!(r.is_err());
    // Not left locked: a single attempt succeeds and a write goes through.
    assert_eq!(lock.try_read(), Some([3; 4]));
    lock.write([4; 4]);
    assert_eq!(lock.read(), [4; 4]);
}

#[test]
fn debug_shows_the_value() {
    let lock = SeqLock::new(5u8);
    assert_eq!(format!("{lock:?}"), "SeqLock { value: 5 }");
}

#[test]
fn debug_shows_locked() {
    let mut backing = [1u64, 0]; // counter odd: a write "in progress"
    let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let locked = SeqLock::<u32>::from_bytes(region).unwrap();
    assert_eq!(format!("{locked:?}"), "SeqLock { value: <locked> }");
}

#[test]
fn send_and_sync_for_send_types() {
    fn assert_send_sync<S: Send + Sync>() {}
    assert_send_sync::<SeqLock<[u64; 8]>>();
    assert_send_sync::<SeqLock<(u8, char)>>();
}

// ---------------------------------------------------------------------------
// Layout and the cross-process constructors
// ---------------------------------------------------------------------------

/// An 8-aligned region of `words * 8` bytes whose first word (the counter,
/// on targets with 64-bit atomics) is `counter` and the rest zero.
///
/// Tests set and inspect the counter through this plain memory, before and
/// after the lock is used, never with byte-wise atomics while a `u64` atomic
/// uses it: Miri does not support mixed-size atomic accesses to one location.
fn region(words: usize, counter: u64) -> Vec<u64> {
    let mut v = vec![0; words];
    v[0] = counter;
    v
}

#[test]
fn layout_consts() {
    assert_eq!(
        SeqLock::<[u64; 8]>::SIZE,
        core::mem::size_of::<SeqLock<[u64; 8]>>()
    );
    assert_eq!(
        SeqLock::<[u64; 8]>::ALIGN,
        core::mem::align_of::<SeqLock<[u64; 8]>>()
    );
    #[cfg(target_has_atomic = "64")]
    {
        assert_eq!(SeqLock::<[u64; 8]>::SIZE, 72);
        assert_eq!(SeqLock::<[u8; 3]>::DATA_OFFSET, 8);
        assert_eq!(SeqLock::<[u8; 3]>::SIZE, 16);
        assert_eq!(SeqLock::<[u8; 3]>::ALIGN, 8);
    }
    assert_eq!(
        SeqLock::<u128>::DATA_OFFSET % core::mem::align_of::<u128>(),
        0
    );
}

/// The documented layout is the real one: counter at 0, data at
/// `DATA_OFFSET`, +2 per write. Another process relies on exactly this.
#[test]
#[cfg(target_has_atomic = "64")]
fn layout_is_counter_then_data() {
    let mut backing = region(4, 0);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let lock = SeqLock::<[u32; 3]>::from_bytes(bytes).unwrap();
    lock.write([0x0102_0304, 5, 6]);
    lock.write([7, 8, 9]);
    assert_eq!(backing[0], 4);
    let data: [u32; 3] = *bytemuck::from_bytes(
        &bytemuck::cast_slice::<u64, u8>(&backing)[SeqLock::<[u32; 3]>::DATA_OFFSET..][..12],
    );
    assert_eq!(data, [7, 8, 9]);
}

#[test]
fn from_bytes_checks_alignment_and_size() {
    let mut backing = region(16, 0);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let size = SeqLock::<[u64; 8]>::SIZE;

    let misaligned = bytes.get_mut(4..).unwrap();
    let addr = misaligned.as_ptr().addr();
    match SeqLock::<[u64; 8]>::from_bytes(misaligned) {
        Err(Error::Misaligned { addr: a, align }) => {
            assert_eq!(a, addr);
            assert_eq!(align, SeqLock::<[u64; 8]>::ALIGN);
        }
        other => panic!("expected Misaligned, got {other:?}"),
    }
    let short = bytes.get_mut(..size - 1).unwrap();
    assert_eq!(
        SeqLock::<[u64; 8]>::from_bytes(short).unwrap_err(),
        Error::OutOfBounds {
            offset: 0,
            len: size,
            size: size - 1
        }
    );
    assert!(SeqLock::<[u64; 8]>::from_bytes(bytes.get_mut(..0).unwrap()).is_err());
    // Exactly SIZE, and a longer region (the prefix is used), both work.
    assert!(SeqLock::<[u64; 8]>::from_bytes(bytes.get_mut(..size).unwrap()).is_ok());
    let lock = SeqLock::<[u64; 8]>::from_bytes(bytes).unwrap();
    assert_eq!(lock.read(), [0; 8]);
    // Errors write nothing.
    assert!(SeqLock::init_in(bytes.get_mut(..size - 1).unwrap(), [9u64; 8]).is_err());
    assert!(SeqLock::init_in(bytes.get_mut(4..).unwrap(), [9u64; 8]).is_err());
    assert_eq!(backing, [0; 16]);
}

#[test]
fn init_in_recovers_a_lock_left_odd() {
    let mut backing = region(4, 7); // a writer died mid-write
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let lock = SeqLock::<[u16; 8]>::from_bytes(bytes).unwrap();
    assert_eq!(lock.try_read(), None);
    let lock = SeqLock::init_in(bytes, [1u16; 8]).unwrap();
    assert_eq!(lock.try_read(), Some([1; 8]));
    lock.write([2; 8]);
    assert_eq!(lock.read(), [2; 8]);
    #[cfg(target_has_atomic = "64")]
    assert_eq!(backing[0], 10); // 7 -> 8 (init_in) -> 10: on, never back
}

/// A hostile counter near the top of its range: every step wraps, and
/// nothing panics (debug builds would panic on a non-wrapping `+`).
#[test]
#[cfg(target_has_atomic = "64")]
fn counter_wraps() {
    let mut backing = region(2, u64::MAX - 1);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let lock = SeqLock::<u64>::from_bytes(bytes).unwrap();
    lock.write(1);
    assert_eq!(lock.update(|v| v + 1), 2);
    assert_eq!(lock.read(), 2);
    assert_eq!(backing[0], 2); // MAX-1 -> MAX -> 0 -> 1 -> 2

    let mut backing = region(2, u64::MAX); // odd at the very top
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let lock = SeqLock::init_in(bytes, 3u64).unwrap();
    assert_eq!(lock.read(), 3);
    assert_eq!(backing[0], 0);
}

#[test]
fn try_read_and_read_timeout_do_not_wait_for_a_stuck_writer() {
    let mut backing = region(2, 41); // odd: "locked" by nobody alive
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let lock = SeqLock::<u64>::from_bytes(bytes).unwrap();
    assert_eq!(lock.try_read(), None);

    let timeout = Duration::from_millis(if cfg!(miri) { 1 } else { 50 });
    let start = Instant::now();
    let err = lock.read_timeout(timeout).unwrap_err();
    let took = start.elapsed();
    match err {
        Timeout::Stalled { seq, unchanged_for } => {
            assert_eq!(seq, 41);
            assert!(unchanged_for >= timeout, "{unchanged_for:?}");
        }
        other => panic!("expected Stalled, got {other:?}"),
    }
    assert!(took >= timeout);
    if !cfg!(miri) {
        assert!(
            took < timeout + Duration::from_secs(2),
            "read_timeout overslept: {took:?}"
        );
    }
    assert!(err.to_string().contains("sequence 41"), "{err}");

    // Zero timeout: still one attempt, which succeeds on a quiet lock.
    let quiet = SeqLock::new(1u8);
    assert_eq!(quiet.read_timeout(Duration::ZERO), Ok(1));
}

// ---------------------------------------------------------------------------
// The stress checker, generic over the lock so that it also runs against the
// broken protocols below.
// ---------------------------------------------------------------------------

trait Lock<T>: Sync {
    fn read(&self) -> T;
    fn write(&self, value: T);
    fn update(&self, f: impl FnOnce(T) -> T) -> T;
}

impl<T: bytemuck::NoUninit + Send> Lock<T> for SeqLock<T> {
    fn read(&self) -> T {
        SeqLock::read(self)
    }
    fn write(&self, value: T) {
        SeqLock::write(self, value)
    }
    fn update(&self, f: impl FnOnce(T) -> T) -> T {
        SeqLock::update(self, f)
    }
}

/// What a reader saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    reads: u64,
    /// Snapshots whose words were not all equal.
    torn: u64,
    /// Snapshots older than one this reader saw before.
    regressions: u64,
    /// How many times the value changed between consecutive reads.
    changes: u64,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.reads += o.reads;
        self.torn += o.torn;
        self.regressions += o.regressions;
        self.changes += o.changes;
    }
    fn failures(&self) -> u64 {
        self.torn + self.regressions
    }
}

/// Checks one snapshot: every writer stores `N` equal words, so unequal words
/// are a torn read; with `monotone`, values never go back.
fn check<const N: usize>(snap: &[u64; N], prev: &mut u64, monotone: bool, t: &mut Tally) {
    t.reads += 1;
    let v = snap[0];
    if snap.iter().any(|&w| w != v) {
        t.torn += 1;
        return;
    }
    if monotone && v < *prev {
        t.regressions += 1;
    }
    if v != *prev {
        t.changes += 1;
    }
    *prev = v;
}

struct Plan {
    writers: usize,
    readers: usize,
    /// Each writer writes (or updates) at least this often...
    min_writes: u64,
    /// ...and goes on until every reader has seen the value change this
    /// often, so that the readers really ran while the writers wrote.
    min_changes: u64,
    /// Writers `update(+1)` instead of storing their own values.
    increment: bool,
    /// Readers also require non-decreasing values.
    monotone: bool,
    /// Stop everything at the first failure (for negative controls).
    stop_on_failure: bool,
    deadline: Duration,
}

#[derive(Debug)]
struct Outcome {
    seen: Tally,
    /// Writes (or updates) done, all writers together.
    writes: u64,
    /// The deadline stopped the run.
    timed_out: bool,
}

/// Runs `plan` against `lock` and returns what the readers saw.
fn stress<L: Lock<[u64; N]>, const N: usize>(lock: &L, plan: &Plan) -> Outcome {
    let stop = AtomicBool::new(false);
    let writers_done = AtomicUsize::new(0);
    let readers_satisfied = AtomicUsize::new(0);
    let failures = AtomicU64::new(0);
    let start = Instant::now();
    thread::scope(|s| {
        let writers: Vec<_> = (0..plan.writers)
            .map(|w| {
                let (stop, writers_done, satisfied) = (&stop, &writers_done, &readers_satisfied);
                s.spawn(move || {
                    let mut i = 0u64;
                    while !stop.load(Relaxed)
                        && (i < plan.min_writes || satisfied.load(Relaxed) < plan.readers)
                    {
                        if plan.increment {
                            lock.update(|v| [v[0] + 1; N]);
                        } else {
                            // Distinct across writers; increasing per writer.
                            lock.write([i * plan.writers as u64 + w as u64 + 1; N]);
                        }
                        i += 1;
                        // A short, varying pause: readers get windows that
                        // start at every distance from the next write.
                        for _ in 0..i % 16 {
                            core::hint::spin_loop();
                        }
                    }
                    writers_done.fetch_add(1, Relaxed);
                    i
                })
            })
            .collect();
        let readers: Vec<_> = (0..plan.readers)
            .map(|_| {
                let (stop, writers_done, failures, satisfied) =
                    (&stop, &writers_done, &failures, &readers_satisfied);
                s.spawn(move || {
                    let mut t = Tally::default();
                    let mut prev = 0;
                    let mut counted = false;
                    // Until the writers are done, and once more after that.
                    loop {
                        let done = writers_done.load(Relaxed) == plan.writers;
                        let before = t.failures();
                        check(&lock.read(), &mut prev, plan.monotone, &mut t);
                        if t.failures() != before {
                            failures.fetch_add(1, Relaxed);
                        }
                        if !counted && t.changes >= plan.min_changes {
                            counted = true;
                            satisfied.fetch_add(1, Relaxed);
                        }
                        if done || stop.load(Relaxed) {
                            return t;
                        }
                    }
                })
            })
            .collect();
        // Watchdog: the deadline, and early exit on failure.
        let mut timed_out = false;
        while writers_done.load(Relaxed) < plan.writers {
            if plan.stop_on_failure && failures.load(Relaxed) > 0 {
                stop.store(true, Relaxed);
                break;
            }
            if start.elapsed() >= plan.deadline {
                timed_out = true;
                stop.store(true, Relaxed);
                break;
            }
            if cfg!(miri) {
                thread::yield_now();
            } else {
                thread::sleep(Duration::from_millis(1));
            }
        }
        let writes = writers.into_iter().map(|w| w.join().unwrap()).sum();
        let mut seen = Tally::default();
        for r in readers {
            seen.add(r.join().unwrap());
        }
        Outcome {
            seen,
            writes,
            timed_out,
        }
    })
}

/// Settings for the stress tests of the real lock.
fn positive_plan(writers: usize, readers: usize) -> Plan {
    Plan {
        writers,
        readers,
        min_writes: iters(100_000, 6) as u64,
        min_changes: iters(1_000, 2) as u64,
        increment: false,
        monotone: false,
        stop_on_failure: false,
        deadline: Duration::from_secs(90),
    }
}

/// Asserts a clean run of the real lock that really exercised concurrency.
#[track_caller]
fn assert_clean(o: &Outcome) {
    assert_eq!(o.seen.failures(), 0, "{o:?}");
    assert!(
        !o.timed_out,
        "readers did not see enough changes in time: {o:?}"
    );
}

/// The checker itself flags what it must (a deterministic control).
#[test]
fn checker_flags_torn_and_decreasing_snapshots() {
    let mut t = Tally::default();
    let mut prev = 0;
    check(&[5, 5, 5], &mut prev, true, &mut t);
    check(&[5, 6, 6], &mut prev, true, &mut t);
    check(&[4, 4, 4], &mut prev, true, &mut t);
    check(&[7, 7, 7], &mut prev, true, &mut t);
    assert_eq!(
        t,
        Tally {
            reads: 4,
            torn: 1,
            regressions: 1,
            changes: 3
        }
    );
}

// ---------------------------------------------------------------------------
// Stress: the real lock must pass
// ---------------------------------------------------------------------------

/// Two writers storing `[k; 8]`, two readers: no reader ever sees a mix.
#[test]
fn stress_writers_store_equal_words() {
    let lock = SeqLock::new([0u64; 8]);
    let o = stress(&lock, &positive_plan(2, 2));
    assert_clean(&o);
    let last = lock.read();
    assert!(last.iter().all(|&w| w == last[0]) && last[0] != 0);
    eprintln!("equal words: {o:?}");
}

/// One writer storing 1, 2, 3, ...: every reader sees non-decreasing values.
#[test]
fn stress_single_incrementing_writer_is_monotone() {
    let lock = SeqLock::new([0u64; 8]);
    let o = stress(
        &lock,
        &Plan {
            monotone: true,
            ..positive_plan(1, 2)
        },
    );
    assert_clean(&o);
    assert_eq!(lock.read(), [o.writes; 8]);
    eprintln!("monotone: {o:?}");
}

/// Concurrent `update(+1)`s: readers see equal, non-decreasing words, and no
/// increment is lost.
#[test]
fn stress_concurrent_updates_lose_nothing() {
    let lock = SeqLock::new([0u64; 8]);
    let o = stress(
        &lock,
        &Plan {
            increment: true,
            monotone: true,
            ..positive_plan(2, 1)
        },
    );
    assert_clean(&o);
    assert_eq!(lock.read(), [o.writes; 8]);
    eprintln!("updates: {o:?}");
}

/// Reads through `try_read` only, counting refusals.
struct ViaTryRead<'a> {
    lock: &'a SeqLock<[u64; 8]>,
    refused: AtomicU64,
}

impl Lock<[u64; 8]> for ViaTryRead<'_> {
    fn read(&self) -> [u64; 8] {
        loop {
            if let Some(v) = self.lock.try_read() {
                return v;
            }
            self.refused.fetch_add(1, Relaxed);
        }
    }
    fn write(&self, value: [u64; 8]) {
        self.lock.write(value)
    }
    fn update(&self, f: impl FnOnce([u64; 8]) -> [u64; 8]) -> [u64; 8] {
        self.lock.update(f)
    }
}

/// `try_read` under a running writer: it may refuse, but what it returns is
/// whole and never older than what it returned before.
#[test]
fn try_read_under_a_writer_is_never_torn() {
    let lock = SeqLock::new([0u64; 8]);
    let via = ViaTryRead {
        lock: &lock,
        refused: AtomicU64::new(0),
    };
    let o = stress(
        &via,
        &Plan {
            monotone: true,
            ..positive_plan(1, 1)
        },
    );
    assert_clean(&o);
    assert_eq!(lock.try_read(), Some([o.writes; 8]));
    eprintln!("try_read: {o:?}, {} refused", via.refused.load(Relaxed));
}

/// The same stress through `from_bytes` on a plain byte region, as another
/// process would see it.
#[test]
fn stress_through_from_bytes() {
    let mut backing = region(SeqLock::<[u64; 8]>::SIZE / 8, 0);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let lock = SeqLock::init_in(bytes, [0u64; 8]).unwrap();
    let o = stress(
        lock,
        &Plan {
            monotone: true,
            ..positive_plan(1, 1)
        },
    );
    assert_clean(&o);
    assert_eq!(lock.read(), [o.writes; 8]);
}

// ---------------------------------------------------------------------------
// Negative controls: broken protocols from the same pieces must be caught
// ---------------------------------------------------------------------------

/// Reader that checks the counter before the copy but not after it.
struct NoRecheck<T> {
    seq: AtomicU64,
    data: AtomicPerByte<T>,
}

impl<T: bytemuck::NoUninit> NoRecheck<T> {
    fn new(value: T) -> Self {
        NoRecheck {
            seq: AtomicU64::new(0),
            data: AtomicPerByte::new(value),
        }
    }
}

impl<const N: usize> Lock<[u64; N]> for NoRecheck<[u64; N]> {
    fn read(&self) -> [u64; N] {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 0 {
                let copy: MaybeUninit<[u64; N]> = self.data.load(Ordering::Acquire);
                // BUG (deliberate): no second look at `seq`.
                // SAFETY: the load initialized every byte, and any bytes are
                // a valid `[u64; N]`.
                return unsafe { copy.assume_init() };
            }
            core::hint::spin_loop();
        }
    }
    fn write(&self, value: [u64; N]) {
        let mut s = self.seq.load(Relaxed);
        while s & 1 != 0
            || self
                .seq
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Relaxed)
                .is_err()
        {
            core::hint::spin_loop();
            s = self.seq.load(Relaxed);
        }
        self.data.store(value, Ordering::Release);
        self.seq.store(s + 2, Ordering::Release);
    }
    fn update(&self, _: impl FnOnce([u64; N]) -> [u64; N]) -> [u64; N] {
        unreachable!("not used")
    }
}

/// Writer that never makes the counter odd: it stores the data and then adds
/// 2. The reader is the correct one.
struct NoOddPhase<T> {
    seq: AtomicU64,
    data: AtomicPerByte<T>,
}

impl<const N: usize> Lock<[u64; N]> for NoOddPhase<[u64; N]> {
    fn read(&self) -> [u64; N] {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            let copy: MaybeUninit<[u64; N]> = self.data.load(Ordering::Acquire);
            if s1 & 1 == 0 && self.seq.load(Relaxed) == s1 {
                // SAFETY: as in `NoRecheck::read`.
                return unsafe { copy.assume_init() };
            }
        }
    }
    fn write(&self, value: [u64; N]) {
        // BUG (deliberate): no odd phase before the data changes.
        self.data.store(value, Ordering::Release);
        self.seq.fetch_add(2, Ordering::Release);
    }
    fn update(&self, _: impl FnOnce([u64; N]) -> [u64; N]) -> [u64; N] {
        unreachable!("not used")
    }
}

/// The real lock, with an `update` that reads and writes in two steps
/// instead of under the writer lock.
struct SplitUpdate<T>(SeqLock<T>);

impl<const N: usize> Lock<[u64; N]> for SplitUpdate<[u64; N]> {
    fn read(&self) -> [u64; N] {
        self.0.read()
    }
    fn write(&self, value: [u64; N]) {
        self.0.write(value)
    }
    fn update(&self, f: impl FnOnce([u64; N]) -> [u64; N]) -> [u64; N] {
        // BUG (deliberate): another writer can come between the two steps.
        let new = f(self.0.read());
        self.0.write(new);
        new
    }
}

/// A broken protocol's run: one writer, one reader, until the first failure.
/// Each normally fails within milliseconds; the deadline is the margin for a
/// loaded 2-core machine. Under Miri, whose scheduler preempts inside the
/// copies, the run is a bounded number of writes instead.
fn negative_plan() -> Plan {
    Plan {
        writers: 1,
        readers: 1,
        min_writes: if cfg!(miri) { 200 } else { u64::MAX },
        min_changes: if cfg!(miri) { 0 } else { u64::MAX },
        increment: false,
        monotone: true,
        stop_on_failure: true,
        deadline: Duration::from_secs(60),
    }
}

/// A reader without the second sequence check returns torn values, and the
/// stress checker sees them.
#[test]
fn negative_control_no_second_check_is_caught() {
    let start = Instant::now();
    let o = if cfg!(miri) {
        stress(&NoRecheck::new([0u64; 8]), &negative_plan())
    } else {
        stress(&NoRecheck::new([0u64; 64]), &negative_plan())
    };
    eprintln!("no second check: {o:?} after {:?}", start.elapsed());
    assert!(o.seen.torn > 0, "the checker missed a broken reader: {o:?}");
}

/// A writer without the odd phase lets the correct reader accept torn
/// values, and the stress checker sees them.
#[test]
fn negative_control_no_odd_phase_is_caught() {
    let start = Instant::now();
    let o = if cfg!(miri) {
        let lock = NoOddPhase {
            seq: AtomicU64::new(0),
            data: AtomicPerByte::new([0u64; 8]),
        };
        stress(&lock, &negative_plan())
    } else {
        let lock = NoOddPhase {
            seq: AtomicU64::new(0),
            data: AtomicPerByte::new([0u64; 64]),
        };
        stress(&lock, &negative_plan())
    };
    eprintln!("no odd phase: {o:?} after {:?}", start.elapsed());
    assert!(o.seen.torn > 0, "the checker missed a broken writer: {o:?}");
}

/// An `update` that is not atomic loses increments, and the final count
/// shows it. Retried in rounds until a loss is seen or time runs out.
#[test]
fn negative_control_split_update_is_caught() {
    let start = Instant::now();
    let mut rounds = 0;
    let lost = loop {
        rounds += 1;
        let lock = SplitUpdate(SeqLock::new([0u64; 8]));
        let plan = Plan {
            readers: 0,
            increment: true,
            min_writes: iters(100_000, 30) as u64,
            min_changes: 0,
            deadline: Duration::from_secs(60),
            ..positive_plan(2, 0)
        };
        let o = stress(&lock, &plan);
        let total = lock.0.read()[0];
        if total < o.writes {
            break o.writes - total;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no lost update in {rounds} rounds"
        );
    };
    eprintln!(
        "split update: {lost} increments lost in round {rounds}, {:?}",
        start.elapsed()
    );
}
