//! A file truncated under a reader: `bytewise` survives it, a plain slice
//! does not.
//!
//! ```text
//! cargo run --release --example truncated_file [-- --seconds N] [-- --plain]
//! ```
//!
//! The parent maps a file of records with `SharedMemory::open` and reads
//! records out of it as fast as it can, while a child process truncates the
//! file and grows it back in a loop (the log rotation, the concurrent unwind,
//! the `git gc` that has killed many mmap readers). Every second it prints
//! how many reads succeeded, how many faults the handler turned into
//! `Error::Fault`, how many of those the caller saw, and how many times the
//! process died (always 0: it is still printing).
//!
//! With `--plain` it also reads the same kind of file through a plain
//! `&[u8]`, memmap2's way, in a child process, and reports how that child
//! ended: killed by `SIGBUS`, shown on purpose.

use core::time::Duration;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use bytewise::{Error, SharedMemory};

const RECORD: usize = 64;
const RECORDS: usize = 1024;
const LEN: usize = RECORD * RECORDS;
/// A record: every byte is this value or 0 (a regrown, not yet rewritten
/// page); anything else would be a bug.
const FILL: u8 = 0x5A;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--truncator") => return truncator(Path::new(&args[2])),
        Some("--plain-reader") => return plain_reader(Path::new(&args[2])),
        _ => {}
    }
    let mut seconds = 5u64;
    let mut plain = false;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--seconds" => {
                seconds = args
                    .get(i + 1)
                    .and_then(|s| s.parse().ok())
                    .expect("--seconds N");
                i += 1;
            }
            "--plain" => plain = true,
            other => panic!("unknown argument {other}; use --seconds N and/or --plain"),
        }
        i += 1;
    }

    println!(
        "fault recovery supported in this build: {}",
        bytewise::fault::is_supported()
    );
    let path = temp_path("bytewise");
    write_file(&path);
    let shm = SharedMemory::open(&path).expect("map the file"); // installs the handler
    let mut child = spawn(&["--truncator", &path.display().to_string()]);

    println!();
    println!("| second | reads ok | faults survived | errors shown | crashes |");
    println!("|---|---|---|---|---|");
    let mut record = [0u8; RECORD];
    let (mut total_ok, mut total_faults) = (0u64, 0u64);
    let start = Instant::now();
    for second in 1..=seconds {
        let (mut ok, mut faults, mut shown) = (0u64, 0u64, 0u64);
        let mut n = second as usize;
        while start.elapsed() < Duration::from_secs(second) {
            n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
            let at = (n >> 33) % RECORDS * RECORD;
            match shm.read_at(at, &mut record) {
                Ok(()) => {
                    assert!(record.iter().all(|&b| b == FILL || b == 0), "torn garbage");
                    ok += 1;
                }
                Err(Error::Fault { offset }) => {
                    faults += 1;
                    if shown == 0 && second == 1 {
                        println!(
                            "(first error, as the caller sees it: \"{}\" at offset {offset})",
                            Error::Fault { offset }
                        );
                    }
                    shown += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        println!("| {second} | {ok} | {faults} | {shown} | 0 |");
        total_ok += ok;
        total_faults += faults;
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(shm);
    let _ = std::fs::remove_file(&path);
    println!();
    println!("{total_ok} reads, {total_faults} faults turned into errors, no crash.");

    if plain {
        println!();
        println!("Now the same file read through a plain &[u8] (memmap2's way), in a child:");
        let path = temp_path("plain");
        write_file(&path);
        let mut reader = spawn(&["--plain-reader", &path.display().to_string()]);
        let mut truncator = spawn(&["--truncator", &path.display().to_string()]);
        let status = reader.wait().expect("wait for the plain reader");
        let _ = truncator.kill();
        let _ = truncator.wait();
        let _ = std::fs::remove_file(&path);
        use std::os::unix::process::ExitStatusExt;
        match status.signal() {
            Some(7) => println!("the plain reader was killed by SIGBUS, as expected"),
            Some(s) => println!("the plain reader was killed by signal {s}"),
            None => println!("the plain reader exited with {status} (the race was not hit)"),
        }
    }
}

/// The child that truncates the file and grows it back, forever (the
/// parent kills it).
fn truncator(path: &Path) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    let page = vec![FILL; LEN];
    let mut i = 0u64;
    loop {
        file.set_len((i % 4) * 4096).expect("truncate");
        std::thread::sleep(Duration::from_micros(200));
        file.set_len(LEN as u64).expect("regrow");
        if i % 8 == 0 {
            use std::os::unix::fs::FileExt;
            file.write_all_at(&page, 0).expect("rewrite");
        }
        std::thread::sleep(Duration::from_micros(800));
        i += 1;
    }
}

/// The child that reads through a plain slice of a `MAP_SHARED` mapping, as
/// memmap2's `Mmap` derefs to one, until the truncation kills it.
fn plain_reader(path: &Path) {
    let file = std::fs::File::open(path).expect("open");
    // SAFETY: a fresh read-only shared mapping of `LEN` bytes of our file.
    let ptr = unsafe {
        rustix::mm::mmap(
            core::ptr::null_mut(),
            LEN,
            rustix::mm::ProtFlags::READ,
            rustix::mm::MapFlags::SHARED,
            &file,
            0,
        )
    }
    .expect("mmap");
    // SAFETY: deliberately what memmap2's users do: a `&[u8]` over memory
    // that another process truncates. It is unsound (the bytes change under
    // a shared reference) and it dies by SIGBUS; that is the point.
    let bytes: &[u8] = unsafe { core::slice::from_raw_parts(ptr.cast(), LEN) };
    let start = Instant::now();
    let mut sum = 0u64;
    while start.elapsed() < Duration::from_secs(10) {
        for chunk in bytes.chunks(RECORD) {
            sum = sum.wrapping_add(u64::from(core::hint::black_box(chunk)[7]));
        }
    }
    println!("plain reader survived 10 s (sum {sum})");
}

fn spawn(args: &[&str]) -> Child {
    Command::new(std::env::current_exe().expect("own path"))
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn child")
}

fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("bytewise-truncated-{tag}-{}", std::process::id()))
}

fn write_file(path: &Path) {
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(&vec![FILL; LEN]).expect("write");
}
