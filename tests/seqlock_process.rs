//! `SeqLock` across processes: a child process writes a `SeqLock<Header>` in a
//! shared mapping while this process reads it; then the child is killed
//! while it holds the lock, and `read_timeout` reports the stall instead of
//! hanging.
//!
//! The child is this test binary run again (`current_exe()`), restricted to
//! the test `child_process` with an environment variable that gives it its
//! role. Without that variable `child_process` does nothing.
//!
//! The mapping is the crate's `SharedMemory`, wrapped in [`Region`].
#![cfg(all(target_os = "linux", not(miri), feature = "std"))]

mod common;

use core::time::Duration;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use bytemuck::{Pod, Zeroable};
use bytewise::{AtomicBytes, SeqLock, SharedMemory, Timeout};

/// The child's role: `protocol` (write with the lock, then hang holding it),
/// `raw` (store the data without the protocol: the negative control) or
/// `odd_exit` (take the lock and exit holding it).
const ROLE_ENV: &str = "BYTEWISE_SEQLOCK_CHILD_ROLE";
/// The inherited descriptor of the shared region.
const FD_ENV: &str = "BYTEWISE_SEQLOCK_CHILD_FD";

// ---------------------------------------------------------------------------
// The shared region (memfd + MAP_SHARED). Everything about how the memory is
// made and handed to the child is here.
// ---------------------------------------------------------------------------

/// The shared region: the crate's `SharedMemory` (a sealed memfd).
struct Region(SharedMemory);

impl Region {
    /// A new zeroed region of `len` bytes.
    fn create(len: usize) -> Region {
        Region(SharedMemory::create(len).expect("SharedMemory::create"))
    }

    /// The region a parent passed to this process with [`Region::pass_to`].
    fn inherited(len: usize) -> Region {
        let raw: i32 = std::env::var(FD_ENV)
            .expect("no fd passed")
            .parse()
            .expect("bad fd");
        // SAFETY: the parent passed this descriptor, open in this process
        // and owned by nobody else here, in `FD_ENV`.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let shm = SharedMemory::from_fd(fd).expect("SharedMemory::from_fd");
        assert_eq!(shm.len(), len, "inherited region has the wrong size");
        Region(shm)
    }

    /// Makes the region's descriptor inheritable by `cmd` (a duplicate
    /// without `FD_CLOEXEC`) and names it in the child's environment. Keep
    /// the returned descriptor until the child has been spawned.
    fn pass_to(&self, cmd: &mut Command) -> OwnedFd {
        let inheritable = rustix::io::dup(self.0.as_fd()).expect("dup");
        cmd.env(FD_ENV, inheritable.as_raw_fd().to_string());
        inheritable
    }

    /// The lock's bytes (held exclusively: the lock is carved from them)
    /// and the control bytes, at `CONTROL`.
    fn parts(&mut self) -> (&mut AtomicBytes, &AtomicBytes) {
        let (lock, control) = self.0.split_at_mut(CONTROL).expect("CONTROL < LEN");
        (lock, control)
    }
}

// ---------------------------------------------------------------------------
// What is shared
// ---------------------------------------------------------------------------

/// A 256-byte record whose every field is derived from `serial`, so that a
/// mix of two records is always detectable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
struct Header {
    serial: u64,
    words: [u64; 30],
    check: u64,
}

impl Header {
    fn new(serial: u64) -> Header {
        let mut words = [0; 30];
        for (i, w) in words.iter_mut().enumerate() {
            *w = serial.wrapping_mul(i as u64 + 3) ^ 0x5555_5555_5555_5555;
        }
        Header {
            serial,
            words,
            check: !serial,
        }
    }

    fn is_whole(&self) -> bool {
        *self == Header::new(self.serial)
    }
}

type Lock = SeqLock<Header>;

/// The region: the lock at 0, control bytes at `CONTROL`.
const LEN: usize = 8192;
const CONTROL: usize = 4096;
/// Control byte (from `CONTROL`) set by the parent: stop writing.
const STOP: usize = 0;
/// Control byte set by the child: it now holds the lock and will not let go.
const HOLDING: usize = 1;
/// A child never outlives this, even if its parent dies.
const CHILD_LIFETIME: Duration = Duration::from_secs(120);

fn flag(bytes: &AtomicBytes, at: usize) -> bool {
    bytes.as_atomics()[at].load(core::sync::atomic::Ordering::Acquire) != 0
}

fn set_flag(bytes: &AtomicBytes, at: usize) {
    bytes.as_atomics()[at].store(1, core::sync::atomic::Ordering::Release);
}

/// Kills and reaps the child when the test ends, however it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(region: &Region, role: &str) -> ChildGuard {
    let mut cmd = common::self_command();
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE_ENV, role)
    .stdin(Stdio::null());
    let fd = region.pass_to(&mut cmd);
    let child = cmd.spawn().expect("spawn child");
    drop(fd);
    ChildGuard(child)
}

fn wait_for(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

// ---------------------------------------------------------------------------
// The child
// ---------------------------------------------------------------------------

/// The child process's body; a no-op unless run by a test below.
#[test]
fn child_process() {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let mut region = Region::inherited(LEN);
    let (lock_bytes, control) = region.parts();
    let born = Instant::now();
    if role == "raw" {
        // No lock in this process: the bytes are written as plain bytes.
        let mut serial = 0u64;
        while !flag(control, STOP) && born.elapsed() < CHILD_LIFETIME {
            serial += 1;
            lock_bytes
                .write_obj(Lock::DATA_OFFSET, &Header::new(serial))
                .unwrap();
            for _ in 0..serial % 16 {
                core::hint::spin_loop();
            }
        }
        return;
    }
    let lock = Lock::from_bytes(lock_bytes).expect("lock in region");
    if role == "odd_exit" {
        // Die in the middle of a write: the counter stays odd for good.
        lock.update(|_| {
            set_flag(control, HOLDING);
            std::process::exit(0)
        });
    }
    assert_eq!(role, "protocol", "unknown role");
    let mut serial = 0u64;
    while !flag(control, STOP) && born.elapsed() < CHILD_LIFETIME {
        serial += 1;
        lock.write(Header::new(serial));
        // A short, varying pause, so that reads also start at every
        // distance from the next write instead of only succeeding when
        // this process is descheduled.
        for _ in 0..serial % 16 {
            core::hint::spin_loop();
        }
    }
    if role == "protocol" {
        // Take the lock and never let go: the sequence stays odd until the
        // parent kills this process.
        lock.update(|_| {
            set_flag(control, HOLDING);
            while born.elapsed() < CHILD_LIFETIME {
                std::thread::sleep(Duration::from_millis(100));
            }
            std::process::exit(3)
        });
    }
}

// ---------------------------------------------------------------------------
// The parent
// ---------------------------------------------------------------------------

/// The child writes with the protocol while we read: every value is whole
/// and serials never go back. Then the child takes the lock and is killed:
/// `try_read` and `read_timeout` return promptly, `init_in` recovers.
#[test]
fn reader_sees_whole_values_and_survives_a_killed_writer() {
    let mut region = Region::create(LEN);
    Lock::init_in(region.parts().0, Header::new(0)).unwrap(); // before the child runs
    let mut child = spawn_child(&region, "protocol");
    let (lock_bytes, control) = region.parts();
    let lock = Lock::from_bytes(lock_bytes).unwrap();

    // Phase 1: read while the child writes.
    let start = Instant::now();
    let (mut reads, mut refused, mut changes, mut last) = (0u64, 0u64, 0u64, 0u64);
    while changes < 1000 || start.elapsed() < Duration::from_millis(500) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "too few changes seen: {changes}"
        );
        let h = if reads % 2 == 0 {
            match lock.try_read() {
                Some(h) => h,
                None => {
                    refused += 1;
                    continue;
                }
            }
        } else {
            lock.read_timeout(Duration::from_secs(10))
                .expect("a live writer stalled")
        };
        reads += 1;
        assert!(h.is_whole(), "torn value across processes: {h:?}");
        assert!(
            h.serial >= last,
            "serial went back from {last} to {}",
            h.serial
        );
        if h.serial != last {
            changes += 1;
            last = h.serial;
        }
    }
    eprintln!("cross-process: {reads} whole reads, {refused} refused, {changes} changes");

    // Phase 2: the child takes the lock and hangs; then it is killed.
    set_flag(control, STOP);
    wait_for(
        "the child to take the lock",
        Duration::from_secs(30),
        || flag(control, HOLDING),
    );
    assert_eq!(lock.try_read(), None);
    assert!(matches!(
        lock.read_timeout(Duration::from_millis(20)),
        Err(Timeout::Stalled { .. })
    ));
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert!(!status.success());

    let timeout = Duration::from_millis(100);
    let t0 = Instant::now();
    let err = lock.read_timeout(timeout).unwrap_err();
    let took = t0.elapsed();
    match err {
        Timeout::Stalled { seq, .. } => assert_eq!(seq % 2, 1),
        other => panic!("expected Stalled, got {other:?}"),
    }
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(lock.try_read(), None);
    eprintln!("killed writer: read_timeout({timeout:?}) -> {err} after {took:?}");

    // Recovery: whoever knows the writer is dead re-initialises the lock.
    let lock = Lock::init_in(lock_bytes, Header::new(u64::MAX)).unwrap();
    assert_eq!(lock.try_read(), Some(Header::new(u64::MAX)));
}

/// Negative control: a child that stores the data without the protocol
/// (the counter stays even) makes the same reader return torn values, and
/// the same check catches them. This is also what a hostile writer can do.
#[test]
fn a_writer_without_the_protocol_is_caught() {
    let mut region = Region::create(LEN);
    Lock::init_in(region.parts().0, Header::new(0)).unwrap(); // before the child runs
    let _child = spawn_child(&region, "raw");
    let (lock_bytes, control) = region.parts();
    let lock = Lock::from_bytes(lock_bytes).unwrap();

    let start = Instant::now();
    let mut reads = 0u64;
    let torn = loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no torn value seen in {reads} reads: the check cannot fail"
        );
        let h = lock.try_read().expect("the counter never moves");
        reads += 1;
        if !h.is_whole() {
            break h;
        }
    };
    set_flag(control, STOP);
    eprintln!(
        "no protocol: torn value after {reads} reads, {:?} (serial {})",
        start.elapsed(),
        torn.serial
    );
}

/// This thread's CPU time (user + system).
fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// A peer takes the lock and exits holding it (the counter stays odd for
/// good). Our writers must not hang: `try_write` and `try_update` return at
/// once, `write_timeout` and `update_timeout` after their timeout, without
/// burning a core while they wait, and nothing is written.
#[test]
fn writer_survives_a_peer_that_exits_holding_the_lock() {
    let mut region = Region::create(LEN);
    // Set the lock up before the child can see it: an `init_in` after the
    // child took the lock would reset the counter to even behind its back.
    Lock::init_in(region.parts().0, Header::new(7)).unwrap();
    let mut child = spawn_child(&region, "odd_exit");
    let (lock_bytes, control) = region.parts();
    let lock = Lock::from_bytes(lock_bytes).unwrap();
    wait_for(
        "the child to take the lock",
        Duration::from_secs(30),
        || flag(control, HOLDING),
    );
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");

    let t0 = Instant::now();
    let err = lock.try_write(Header::new(8)).unwrap_err();
    let took = t0.elapsed();
    assert!(
        matches!(err, Timeout::Stalled { seq, .. } if seq % 2 == 1),
        "{err:?}"
    );
    assert!(
        took < Duration::from_millis(100),
        "try_write waited {took:?}"
    );
    assert!(lock.try_update(|h| h).is_err());

    let timeout = Duration::from_millis(50);
    let t0 = Instant::now();
    let err = lock.write_timeout(Header::new(9), timeout).unwrap_err();
    let took = t0.elapsed();
    assert!(matches!(err, Timeout::Stalled { .. }), "{err:?}");
    assert!(
        took >= timeout && took < Duration::from_secs(2),
        "write_timeout took {took:?}"
    );

    // A longer wait, to measure the CPU it costs: sleeping, not spinning.
    let timeout = Duration::from_millis(400);
    let (cpu0, t0) = (thread_cpu_time(), Instant::now());
    let err = lock
        .update_timeout(|_| Header::new(10), timeout)
        .unwrap_err();
    let (cpu, wall) = (thread_cpu_time() - cpu0, t0.elapsed());
    assert!(matches!(err, Timeout::Stalled { .. }), "{err:?}");
    assert!(
        wall >= timeout && wall < timeout + Duration::from_secs(2),
        "{wall:?}"
    );
    assert!(
        cpu < wall / 10,
        "update_timeout burned {cpu:?} of CPU in {wall:?} of waiting"
    );
    eprintln!("stalled peer: update_timeout({timeout:?}) used {cpu:?} CPU in {wall:?}");

    // Nothing was written: the data is still the value before the peer.
    let data: Header = lock_bytes.read_obj(Lock::DATA_OFFSET).unwrap();
    assert_eq!(data, Header::new(7));
    let lock = Lock::init_in(lock_bytes, Header::new(11)).unwrap();
    assert_eq!(lock.try_read(), Some(Header::new(11)));
}
