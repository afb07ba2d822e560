//! `SharedMemory` across real processes, over a file that another thread
//! rewrites, with typed headers, and with bad input.
//!
//! Every test here is ignored under Miri: Miri cannot call `memfd_create`,
//! `mmap`, `fstat` or spawn processes. `Page` and the io cursors, which
//! need none of these, are Miri-tested in their own files.
#![cfg(all(feature = "std", unix))]

mod common;

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering as StdOrdering};
use std::fs::File;
use std::io::ErrorKind;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use bytewise::{Ordering, SharedMemory};

/// Set in the child's environment: the number of the inherited memfd.
const CHILD_FD_VAR: &str = "BYTEWISE_TEST_SHM_CHILD_FD";

/// Where the parent puts a request for the child, and the child its answer.
const REQUEST: usize = 0;
const CHILD_PID: usize = 8;
const DONE: usize = 16;
const DATA: usize = 4096;
const DATA_LEN: usize = 20_000;
const DONE_MAGIC: u64 = 0x600D_C41D;

fn child_byte(request: u64, i: usize) -> u8 {
    (request as usize)
        .wrapping_mul(131)
        .wrapping_add(i * 7 + (i >> 9)) as u8
}

/// A fresh path in the temp directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, StdOrdering::Relaxed);
        TempPath(
            std::env::temp_dir().join(format!("bytewise-test-{tag}-{}-{n}", std::process::id())),
        )
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The child half of `a_child_process_writes_through_from_fd`: a no-op unless
/// the parent started this binary with `CHILD_FD_VAR` set.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn child_writes_through_from_fd() {
    let Some(fd) = std::env::var(CHILD_FD_VAR).ok() else {
        return;
    };
    let raw: i32 = fd.parse().expect("fd number");
    // SAFETY: the parent duplicated its memfd without FD_CLOEXEC, passed its
    // number in the environment, and nothing else in this process owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let shm = SharedMemory::from_fd(fd).expect("from_fd in the child");
    let request: u64 = shm.read_obj(REQUEST).unwrap();
    let data: Vec<u8> = (0..DATA_LEN).map(|i| child_byte(request, i)).collect();
    shm.write_at(DATA, &data).unwrap();
    shm.write_obj(CHILD_PID, &u64::from(std::process::id()))
        .unwrap();
    // The seal set by `create` (where memfd exists) stops the child from
    // shrinking the memory under the parent's mapping.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        assert!(shm.is_size_sealed());
        assert!(
            rustix::fs::ftruncate(&shm, 4096).is_err(),
            "a sealed memfd was truncated"
        );
    }
    shm.write_obj(DONE, &DONE_MAGIC).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap or spawn processes")]
fn a_child_process_writes_through_from_fd() {
    let shm = SharedMemory::create(DATA + DATA_LEN).unwrap();
    let request = 0x5EED_0000_0000 ^ u64::from(std::process::id());
    shm.write_obj(REQUEST, &request).unwrap();

    // A duplicate without FD_CLOEXEC survives the exec into the child.
    let inherit = rustix::io::dup(&shm).unwrap();
    rustix::io::fcntl_setfd(&inherit, rustix::io::FdFlags::empty()).unwrap();
    let mut cmd = common::self_command();
    cmd.args([
        "--exact",
        "child_writes_through_from_fd",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_FD_VAR, inherit.as_raw_fd().to_string());
    let pid = common::run_child_test(cmd);
    drop(inherit);

    // The marker proves the child's test body really ran (a wrong filter
    // would run nothing and still exit 0).
    assert_eq!(
        shm.read_obj::<u64>(DONE).unwrap(),
        DONE_MAGIC,
        "the child never finished"
    );
    assert_eq!(shm.read_obj::<u64>(CHILD_PID).unwrap(), u64::from(pid));
    let mut seen = vec![0u8; DATA_LEN];
    shm.read_at(DATA, &mut seen).unwrap();
    for (i, &b) in seen.iter().enumerate() {
        assert_eq!(b, child_byte(request, i), "byte {i} written by the child");
    }
    assert_eq!(shm.len(), DATA + DATA_LEN, "the seal kept the size");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn create_is_zeroed_and_exposes_the_usual_traits() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SharedMemory>();
    for len in [1, 4095, 4096, 4097, 1 << 20] {
        let shm = SharedMemory::create(len).unwrap();
        assert_eq!(shm.len(), len);
        assert!(!shm.is_empty());
        assert_eq!(shm.as_bytes().len(), len);
        assert!(shm.to_vec(Ordering::Relaxed).iter().all(|&b| b == 0));
        shm.fill(0xC3, Ordering::Release);
        let last: u8 = shm.read_obj(len - 1).unwrap();
        assert_eq!(last, 0xC3);
        assert!(shm.read_obj::<u8>(len).is_err());
    }
    let shm = SharedMemory::create(10).unwrap();
    let debug = format!("{shm:?}");
    assert!(
        debug.contains("SharedMemory") && debug.contains("len: 10"),
        "{debug}"
    );
    assert_eq!(rustix::fs::fstat(shm.as_fd()).unwrap().st_size, 10);
    let view: &bytewise::AtomicBytes = shm.as_ref();
    assert_eq!(view.as_ptr(), shm.as_bytes().as_ptr());
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn two_mappings_of_one_memfd_share_bytes() {
    let a = SharedMemory::create(8192).unwrap();
    let b = SharedMemory::from_fd(a.as_fd().try_clone_to_owned().unwrap()).unwrap();
    assert_ne!(
        a.as_bytes().as_ptr(),
        b.as_bytes().as_ptr(),
        "two distinct mappings"
    );
    assert_eq!(b.len(), 8192);
    a.write_at(5000, b"through a").unwrap();
    assert_eq!(&b.to_vec(Ordering::Relaxed)[5000..5009], b"through a");
    b.write_at(0, b"and back").unwrap();
    assert_eq!(a.read_obj::<[u8; 8]>(0).unwrap(), *b"and back");
}

#[test]
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[cfg_attr(miri, ignore = "Miri cannot mmap or fstat")]
fn create_seals_the_size_and_unsealed_memory_says_so() {
    let shm = SharedMemory::create(4096).unwrap();
    assert!(shm.is_size_sealed());
    let err = rustix::fs::ftruncate(&shm, 0).unwrap_err();
    assert_eq!(err, rustix::io::Errno::PERM);
    assert_eq!(rustix::fs::fstat(&shm).unwrap().st_size, 4096);

    // Negative control: without the seal the same truncation succeeds (and
    // would make accesses past the new end raise SIGBUS), and
    // `is_size_sealed` reports it.
    let path = TempPath::new("unsealed");
    std::fs::write(&path.0, [0u8; 4096]).unwrap();
    let file_map = SharedMemory::open(&path.0).unwrap();
    assert!(!file_map.is_size_sealed());
    let raw = rustix::fs::memfd_create("unsealed", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    rustix::fs::ftruncate(&raw, 4096).unwrap();
    let unsealed = SharedMemory::from_fd(raw.try_clone().unwrap()).unwrap();
    assert!(!unsealed.is_size_sealed());
    rustix::fs::ftruncate(&raw, 8192).unwrap();
    assert_eq!(rustix::fs::fstat(&raw).unwrap().st_size, 8192);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn typed_headers_over_shared_memory_need_no_unsafe() {
    #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable, bytemuck::Pod)]
    #[repr(C)]
    struct Header {
        magic: u32,
        len: u32,
        seq: u64,
    }
    let shm = SharedMemory::create(256).unwrap();
    let h = Header {
        magic: 0xB17E,
        len: 12,
        seq: 7,
    };
    shm.write_obj(3, &h).unwrap(); // unaligned on purpose
    assert_eq!(shm.read_obj::<Header>(3).unwrap(), h);
    assert!(shm.read_obj::<Header>(256 - 15).is_err());

    #[cfg(feature = "zerocopy")]
    {
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            zerocopy::FromBytes,
            zerocopy::IntoBytes,
            zerocopy::Immutable,
        )]
        #[repr(C)]
        struct ZHeader {
            magic: u32,
            len: u32,
        }
        let z = ZHeader { magic: 1, len: 2 };
        shm.write_obj_zerocopy(100, &z).unwrap();
        assert_eq!(shm.read_obj_zerocopy::<ZHeader>(100).unwrap(), z);
        assert_eq!(shm.read_obj::<[u32; 2]>(100).unwrap(), [1, 2]);
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap files")]
fn open_sees_a_file_another_thread_rewrites() {
    // A thread rewrites the whole file with `write_at`, generation after
    // generation (every byte of generation g is g), while this thread reads
    // the mapping. Every byte read is a generation that was written, the
    // reader sees new generations arrive, and once the writer stops, the
    // mapping shows its last generation.
    const LEN: usize = 64 * 1024;
    let path = TempPath::new("rewrite");
    std::fs::write(&path.0, vec![1u8; LEN]).unwrap();
    let shm = SharedMemory::open(&path.0).unwrap();
    assert_eq!(shm.len(), LEN);
    let file = File::options()
        .read(true)
        .write(true)
        .open(&path.0)
        .unwrap();
    let latest = AtomicU32::new(1);
    let stop = AtomicBool::new(false);
    let last = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut g = 1u8;
            while !stop.load(StdOrdering::Relaxed) {
                g = if g == 250 { 2 } else { g + 1 };
                file.write_all_at(&vec![g; LEN], 0).unwrap();
                latest.store(u32::from(g), StdOrdering::Release);
            }
            g
        });
        let mut out = vec![0u8; 4096];
        let mut max_seen = 1u8;
        // At least 2000 reads, and on until the writer's data shows up: on a
        // loaded machine the writer thread may not have run yet after 2000.
        let t0 = std::time::Instant::now();
        let mut round = 0;
        let mut stray = None;
        while stray.is_none()
            && (round < 2000
                || (max_seen == 1 && t0.elapsed() < core::time::Duration::from_secs(20)))
        {
            round += 1;
            let off = (round * 4096) % LEN;
            if let Err(e) = shm.read_at(off, &mut out) {
                stray = Some(format!("read_at({off}) failed: {e}"));
            }
            if let Some(&b) = out.iter().find(|&&b| !(1..=250).contains(&b)) {
                stray = Some(format!("byte {b} was never written"));
            }
            max_seen = max_seen.max(*out.iter().max().unwrap());
        }
        // Stop the writer before asserting: a panic here would leave the
        // scope waiting for it forever.
        stop.store(true, StdOrdering::Relaxed);
        assert_eq!(stray, None);
        assert!(max_seen > 1, "the reader never saw the writer's data");
        writer.join().unwrap()
    });
    assert_eq!(latest.load(StdOrdering::Acquire), u32::from(last));
    assert!(shm.to_vec(Ordering::Acquire).iter().all(|&b| b == last));

    // And the other way: a write through the mapping reaches the file.
    shm.write_at(LEN - 4, b"tail").unwrap();
    let mut tail = [0u8; 4];
    file.read_exact_at(&mut tail, (LEN - 4) as u64).unwrap();
    assert_eq!(&tail, b"tail");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn bad_lengths_are_invalid_input() {
    for len in [
        0,
        usize::MAX,
        isize::MAX as usize + 1,
        isize::MAX as usize,
        1 << 62,
    ] {
        let err = SharedMemory::create(len).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "create({len}): {err}");
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot create pipes or fstat")]
fn unmappable_fds_are_invalid_input() {
    let (read_end, write_end) = rustix::pipe::pipe().unwrap();
    for fd in [read_end, write_end] {
        let err = SharedMemory::from_fd(fd).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "pipe: {err}");
    }
    let dir = File::open(std::env::temp_dir()).unwrap();
    assert_eq!(
        SharedMemory::from_fd(dir.into()).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let null = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .unwrap();
    assert_eq!(
        SharedMemory::from_fd(null.into()).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    // A directory by path: `open(2)` says EISDIR; we say InvalidInput, as
    // for a directory fd above, and name the path.
    let err = SharedMemory::open(std::env::temp_dir()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("directory"), "{err}");

    let empty = TempPath::new("empty");
    std::fs::write(&empty.0, b"").unwrap();
    assert_eq!(
        SharedMemory::open(&empty.0).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        let empty_memfd =
            rustix::fs::memfd_create("empty", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
        assert_eq!(
            SharedMemory::from_fd(empty_memfd).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open files for mmap")]
fn missing_paths_and_read_only_fds() {
    let missing = TempPath::new("missing");
    assert_eq!(
        SharedMemory::open(&missing.0).unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // A read-only fd cannot be mapped read-write: the OS says so.
    let ro = TempPath::new("read-only");
    std::fs::write(&ro.0, [0u8; 100]).unwrap();
    let fd = File::open(&ro.0).unwrap();
    assert_eq!(
        SharedMemory::from_fd(fd.into()).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    // Negative control: the same file opened read-write maps fine.
    assert_eq!(SharedMemory::open(&ro.0).unwrap().len(), 100);
}

/// A mapping carved through `DerefMut`: a native atomic and a byte range
/// side by side, seen by a second mapping of the same memory (as a peer
/// process would see them).
#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn a_mapping_carves_into_native_atomics_and_bytes() {
    let mut shm = SharedMemory::create(4096).unwrap();
    let peer = SharedMemory::from_fd(shm.as_fd().try_clone_to_owned().unwrap()).unwrap();
    let (doorbell, data) = shm.split_at_mut(64).unwrap();
    let doorbell = doorbell.as_atomic_u64().unwrap();
    data.write_at(0, b"ping").unwrap();
    doorbell.store(0x0102_0304_0506_0708, Ordering::Release);
    assert_eq!(peer.read_obj::<u64>(0).unwrap(), 0x0102_0304_0506_0708);
    assert_eq!(peer.read_obj::<[u8; 4]>(64).unwrap(), *b"ping");
    // Misaligned and out-of-range carvings are errors, not panics.
    assert!(shm.get_mut(4..).unwrap().as_atomic_u64().is_err());
    assert!(shm.split_at_mut(4097).is_err());
    assert_eq!(shm.as_bytes_mut().len(), 4096);
}
