//! Survives faults in a fat-LTO, one-codegen-unit, `--gc-sections` build:
//! a file truncated under a mapping, read through every path that can be
//! inlined into this binary (`read_at`, `read_obj`, `write_at`, `to_vec`'s
//! panic, raw `try_load`). Exits 0 and prints `fault-lto: ok` only if every
//! fault was recovered; a dropped exception table kills it with SIGBUS.

use std::io::Write;

use bytewise::{Error, SharedMemory};

fn main() {
    assert!(bytewise::fault::is_supported(), "build without fault support");
    let path = std::env::temp_dir().join(format!("bytewise-fault-lto-{}", std::process::id()));
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(&[0xAB; 3 * 4096]).expect("fill");
    let shm = SharedMemory::open(&path).expect("open");
    f.set_len(4096).expect("truncate");
    let fault = |r: Result<(), Error>, what: &str| match r {
        Err(Error::Fault { offset }) if offset >= 4096 => {}
        other => panic!("{what}: expected a fault past the end, got {other:?}"),
    };
    let mut buf = [0u8; 700];
    for len in [1, 7, 16, 33, 64, 100, 256, 700] {
        fault(shm.read_at(2 * 4096, &mut buf[..len]), "read_at");
        fault(shm.write_at(2 * 4096 - 1, &buf[..len.max(2)]), "write_at");
    }
    fault(shm.read_obj::<u64>(4096).map(drop), "read_obj");
    fault(shm.read_obj::<[u64; 25]>(5000).map(drop), "read_obj");
    let panicked = std::panic::catch_unwind(|| shm.get(4096..8192).unwrap().to_vec(bytewise::Ordering::Relaxed));
    assert!(panicked.is_err(), "to_vec of a truncated range returned");
    shm.read_at(0, &mut buf).expect("the part still in the file");
    std::fs::remove_file(&path).ok();
    println!("fault-lto: ok");
}
