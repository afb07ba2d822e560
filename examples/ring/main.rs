//! A cross-process single-producer, single-consumer ring over `SharedMemory`,
//! with native `AtomicU32` head and tail indices and no `unsafe` in the ring.
//!
//! `cargo run --release --example ring [-- MESSAGES]`: this process creates
//! the memory, re-executes itself as the consumer with the memfd, pushes
//! `MESSAGES` (default 1,000,000) 64-byte messages, and the consumer checks
//! that each arrives whole and in order.

mod spsc;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, ExitCode};
use std::time::Instant;

use bytewise::SharedMemory;
use spsc::{Ring, SLOT, message};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, fd, n] if flag == "--consumer" => match (fd.parse(), n.parse()) {
            (Ok(fd), Ok(n)) => consumer(fd, n),
            _ => Err("bad --consumer arguments".into()),
        },
        [] => producer(1_000_000),
        [n] => match n.parse() {
            Ok(n) => producer(n),
            Err(_) => Err(format!("usage: ring [MESSAGES], not {n:?}").into()),
        },
        _ => Err("usage: ring [MESSAGES]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ring: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = core::result::Result<T, Box<dyn core::error::Error>>;

fn producer(n: u64) -> Result<()> {
    let mut shm = SharedMemory::create(64 * 1024)?;
    // Hand a duplicate of the memfd, without FD_CLOEXEC, to a copy of us.
    let inherit = rustix::io::dup(&shm)?;
    rustix::io::fcntl_setfd(&inherit, rustix::io::FdFlags::empty())?;
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--consumer",
            &inherit.as_raw_fd().to_string(),
            &n.to_string(),
        ])
        .spawn()?;
    drop(inherit);

    let ring = Ring::new(&mut shm)?;
    let start = Instant::now();
    for i in 0..n {
        let msg = message(i);
        while !ring.try_push(&msg) {
            if let Some(status) = child.try_wait()? {
                return Err(format!("consumer exited early: {status}").into());
            }
            std::thread::yield_now();
        }
    }
    let status = child.wait()?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("consumer failed: {status}").into());
    }
    println!(
        "ring: {n} messages of {SLOT} bytes across processes in {secs:.3} s \
         ({:.1} M msg/s), all whole and in order",
        n as f64 / secs / 1e6
    );
    Ok(())
}

fn consumer(fd: i32, n: u64) -> Result<()> {
    // SAFETY: the parent duplicated its memfd without FD_CLOEXEC and passed
    // its number on the command line; nothing else in this process owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut shm = SharedMemory::from_fd(fd)?;
    let ring = Ring::new(&mut shm)?;
    let mut msg = [0u8; SLOT];
    for i in 0..n {
        while !ring.try_pop(&mut msg) {
            std::thread::yield_now();
        }
        if msg != message(i) {
            return Err(format!("message {i} arrived as {msg:?}").into());
        }
    }
    Ok(())
}
