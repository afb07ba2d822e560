//! What a `memmap2` or `vm-memory` user expects of `SharedMemory`: read-only
//! mappings, windows of a file, `populate`, `flush`, and handing memory to
//! another process (a child's stdin, `SCM_RIGHTS`) with no `unsafe`.
//!
//! Everything that maps, opens sockets or spawns processes is ignored under
//! Miri; the `ReadOnlyBytes` view itself is Miri-tested here.
#![cfg(all(feature = "std", unix))]

mod common;

use core::sync::atomic::{AtomicU32, Ordering as StdOrdering};
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Stdio;

use bytewise::{
    AtomicBytes, MapOptions, Ordering, ReadOnlyBytes, ReadOnlySharedMemory, SharedMemory,
};

/// A fresh path in the temp directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, StdOrdering::Relaxed);
        TempPath(
            std::env::temp_dir().join(format!("bytewise-mapping-{tag}-{}-{n}", std::process::id())),
        )
    }

    /// A new file holding `contents`.
    fn with(tag: &str, contents: &[u8]) -> TempPath {
        let p = TempPath::new(tag);
        std::fs::write(&p.0, contents).unwrap();
        p
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn contents(len: usize) -> Vec<u8> {
    (0..len).map(|i| common::pattern(3, i)).collect()
}

/// The permissions `/proc/self/maps` shows for the mapping that starts at
/// `start` (such as `r--s` or `rw-s`).
#[cfg(target_os = "linux")]
fn map_permissions(start: *const u8) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let prefix = format!("{:x}-", start.addr());
    let line = maps
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no mapping at {prefix} in\n{maps}"));
    line.split_whitespace().nth(1).unwrap().to_string()
}

// ---------------------------------------------------------------------------
// ReadOnlyBytes (no mapping: runs under Miri)
// ---------------------------------------------------------------------------

#[test]
fn read_only_bytes_reads_what_atomic_bytes_holds() {
    let mut buf: Vec<u8> = (0..100).collect();
    let rw: &AtomicBytes = AtomicBytes::from_mut(&mut buf);
    let ro = ReadOnlyBytes::new(rw);
    let also: &ReadOnlyBytes = rw.into();
    assert_eq!(also.as_ptr(), ro.as_ptr());
    assert_eq!(ro.len(), 100);
    assert!(!ro.is_empty());
    assert_eq!(ro.as_ptr(), rw.as_ptr().cast_const());
    assert_eq!(ro.read_obj::<[u8; 3]>(97).unwrap(), [97, 98, 99]);
    assert!(ro.read_obj::<[u8; 4]>(97).is_err());
    assert!(ro.read_obj::<u8>(usize::MAX).is_err());
    let mut out = [0u8; 5];
    ro.read_at(10, &mut out).unwrap();
    assert_eq!(out, [10, 11, 12, 13, 14]);
    assert!(ro.read_at(96, &mut out).is_err());
    assert_eq!(out, [10, 11, 12, 13, 14], "nothing read on error");
    rw.write_at(50, b"new").unwrap();
    let sub = ro.get(50..53).unwrap();
    assert_eq!(sub.to_vec(Ordering::Acquire), b"new");
    let mut three = [0u8; 3];
    sub.load(&mut three, Ordering::SeqCst);
    assert_eq!(&three, b"new");
    assert!(ro.get(99..101).is_none());
    assert!(format!("{ro:?}").contains("ReadOnlyBytes"));
}

// ---------------------------------------------------------------------------
// Read-only mappings
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn read_only_mapping_needs_no_write_permission_and_sees_writers() {
    use std::os::unix::fs::PermissionsExt;
    let data = contents(10_000);
    let path = TempPath::with("ro", &data);
    std::fs::set_permissions(&path.0, std::fs::Permissions::from_mode(0o444)).unwrap();

    // A read-only fd maps read-only ...
    let ro = ReadOnlySharedMemory::from_fd(File::open(&path.0).unwrap()).unwrap();
    assert_eq!(ro.len(), data.len());
    assert_eq!(ro.to_vec(Ordering::Relaxed), data);
    // ... but not read-write (the negative control: the OS refuses).
    let err = SharedMemory::from_fd(File::open(&path.0).unwrap().into()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    // `open` asks for read permission only.
    let opened = ReadOnlySharedMemory::open(&path.0).unwrap();
    assert_eq!(opened.read_obj::<[u8; 8]>(9992).unwrap(), data[9992..]);

    // The pages really are mapped without write permission.
    #[cfg(target_os = "linux")]
    {
        assert_eq!(map_permissions(ro.as_ptr()), "r--s");
        std::fs::set_permissions(&path.0, std::fs::Permissions::from_mode(0o644)).unwrap();
        let rw = SharedMemory::open(&path.0).unwrap();
        assert_eq!(map_permissions(rw.as_ptr()), "rw-s", "negative control");
    }

    // Every read method, with every load ordering, at every length up to a
    // few vector widths and beyond (the asm kernels' size classes), on
    // pages mapped without write permission: a store would be SIGSEGV.
    for order in [Ordering::Relaxed, Ordering::Acquire, Ordering::SeqCst] {
        for len in (0..=300).chain([4095, 4096, 4097, 10_000 - 7]) {
            let mut out = vec![0u8; len];
            ro.get(7..7 + len).unwrap().load(&mut out, order);
            assert_eq!(out, data[7..7 + len]);
        }
        assert_eq!(ro.to_vec(order), data);
    }

    // Another writer's changes show up in the read-only mapping.
    std::fs::set_permissions(&path.0, std::fs::Permissions::from_mode(0o644)).unwrap();
    let writer = SharedMemory::open(&path.0).unwrap();
    writer.write_at(5000, b"written elsewhere").unwrap();
    assert_eq!(
        ro.read_obj::<[u8; 17]>(5000).unwrap(),
        *b"written elsewhere"
    );
    assert!(ro.is_size_sealed() == writer.is_size_sealed());
    assert!(format!("{ro:?}").contains("len: 10000"));
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn write_sealed_memory_maps_read_only_only() {
    use rustix::fs::{MemfdFlags, SealFlags};
    let fd = rustix::fs::memfd_create(
        "write-sealed",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )
    .unwrap();
    rustix::fs::ftruncate(&fd, 4096).unwrap();
    rustix::io::write(&fd, b"frozen").unwrap();
    rustix::fs::fcntl_add_seals(&fd, SealFlags::WRITE).unwrap();
    let ro = ReadOnlySharedMemory::from_fd(fd.try_clone().unwrap()).unwrap();
    assert_eq!(ro.read_obj::<[u8; 6]>(0).unwrap(), *b"frozen");
    let err = SharedMemory::from_fd(fd).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
}

// ---------------------------------------------------------------------------
// Windows
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn windows_see_the_right_bytes_at_any_offset() {
    const LEN: usize = 3 * 65536 + 123; // past any page size's multiple
    let data = contents(LEN);
    let path = TempPath::with("window", &data);
    for offset in [
        0,
        1,
        100,
        4095,
        4096,
        4097,
        8191,
        16_389,
        65_535,
        65_536,
        65_537,
        LEN - 1,
    ] {
        for len in [1, 7, 4096, 70_000, LEN - offset] {
            if offset + len > LEN {
                continue;
            }
            let ro = SharedMemory::options()
                .offset(offset as u64)
                .len(len)
                .open_read_only(&path.0)
                .unwrap();
            assert_eq!(ro.len(), len);
            assert_eq!(
                ro.to_vec(Ordering::Relaxed),
                data[offset..offset + len],
                "window {offset}+{len}"
            );
            assert!(
                ro.read_obj::<u8>(len).is_err(),
                "the view ends at its length"
            );
        }
        // Without a length, the window runs to the end of the file.
        let rest = SharedMemory::options()
            .offset(offset as u64)
            .open(&path.0)
            .unwrap();
        assert_eq!(rest.len(), LEN - offset);
        // Writes land at the window's offset in the file.
        let original = data[offset];
        rest.write_at(0, &[!original]).unwrap();
        let file = std::fs::read(&path.0).unwrap();
        assert_eq!(file[offset], !original, "write at window {offset}");
        let mut expected = data.clone();
        expected[offset] = !original;
        assert_eq!(file, expected, "nothing else changed");
        rest.write_at(0, &[original]).unwrap();
        rest.flush_range(0, 1).unwrap();
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn bad_windows_are_invalid_input() {
    const LEN: u64 = 10_000;
    let path = TempPath::with("bad-window", &vec![0; LEN as usize]);
    let cases: &[(u64, Option<usize>)] = &[
        (LEN, None),                 // empty: offset at the end
        (LEN + 1, None),             // offset past the end
        (LEN + 4096, Some(1)),       // offset past the end
        (0, Some(0)),                // zero length
        (0, Some(LEN as usize + 1)), // one byte past the end
        (9_999, Some(2)),            // one byte past the end
        (4096, Some(LEN as usize)),  // past the end
        (u64::MAX, Some(2)),         // offset + len overflows
        (u64::MAX - 1, Some(usize::MAX)),
        (1, Some(usize::MAX)),
        (0, Some(isize::MAX as usize + 1)),
    ];
    for &(offset, len) in cases {
        let mut opts = MapOptions::new();
        opts.offset(offset);
        if let Some(len) = len {
            opts.len(len);
        }
        let err = opts.open(&path.0).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidInput,
            "{offset}+{len:?}: {err}"
        );
        let err = opts.open_read_only(&path.0).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidInput,
            "{offset}+{len:?}: {err}"
        );
    }
    // Negative control: the largest window that fits maps.
    let last = SharedMemory::options()
        .offset(9_999)
        .len(1)
        .open(&path.0)
        .unwrap();
    assert_eq!(last.len(), 1);

    let (read_end, _write_end) = rustix::pipe::pipe().unwrap();
    let err = SharedMemory::options().map_read_only(read_end).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

// ---------------------------------------------------------------------------
// populate
// ---------------------------------------------------------------------------

/// The resident size (`Rss`, in kB) of the mapping that starts at `start`.
#[cfg(target_os = "linux")]
fn rss_kb(start: *const u8) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let prefix = format!("{:x}-", start.addr());
    let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&prefix));
    assert!(lines.next().is_some(), "no mapping at {prefix}");
    let rss = lines.find(|l| l.starts_with("Rss:")).unwrap();
    rss.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn populate_maps_every_page_up_front() {
    const LEN: usize = 256 * 1024; // a multiple of 4, 16 and 64 KiB pages
    let data = contents(LEN);
    let path = TempPath::with("populate", &data);

    // Negative control: a plain mapping has no resident pages until touched.
    let lazy = SharedMemory::options().open_read_only(&path.0).unwrap();
    assert_eq!(
        rss_kb(lazy.as_ptr()),
        0,
        "a plain mapping is not prefaulted"
    );

    // qemu-user (ci/cross.sh sets BYTEWISE_QEMU_USER) maps guest memory
    // itself and does not prefault it for MAP_POPULATE; the residency check
    // only means something on a real kernel.
    let check_rss = std::env::var_os("BYTEWISE_QEMU_USER").is_none();
    if !check_rss {
        eprintln!("populate: residency not checked under qemu-user (no MAP_POPULATE emulation)");
    }
    let ro = SharedMemory::options()
        .populate()
        .open_read_only(&path.0)
        .unwrap();
    if check_rss {
        assert_eq!(
            rss_kb(ro.as_ptr()),
            LEN as u64 / 1024,
            "every page is resident"
        );
    }
    assert_eq!(ro.to_vec(Ordering::Relaxed), data);

    let shm = SharedMemory::create(LEN).unwrap();
    let rw = SharedMemory::options()
        .populate()
        .map(shm.as_fd().try_clone_to_owned().unwrap())
        .unwrap();
    if check_rss {
        assert_eq!(rss_kb(rw.as_ptr()), LEN as u64 / 1024);
    }
    rw.write_at(LEN - 3, b"end").unwrap();
    assert_eq!(shm.read_obj::<[u8; 3]>(LEN - 3).unwrap(), *b"end");
}

// ---------------------------------------------------------------------------
// flush
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn flush_writes_back_and_checks_its_range() {
    const LEN: usize = 5 * 4096 + 17;
    let path = TempPath::with("flush", &vec![0; LEN]);
    let shm = SharedMemory::open(&path.0).unwrap();
    shm.write_at(0, b"first").unwrap();
    shm.flush().unwrap();
    shm.write_at(LEN - 4, b"last").unwrap();
    shm.flush_async().unwrap();
    shm.write_at(4000, b"straddles a page boundary").unwrap();
    shm.flush_range(4000, 25).unwrap();
    shm.flush_async_range(4001, 100).unwrap();
    shm.flush_range(LEN, 0).unwrap();
    let file = std::fs::read(&path.0).unwrap();
    assert_eq!(&file[..5], b"first");
    assert_eq!(&file[LEN - 4..], b"last");
    assert_eq!(&file[4000..4025], b"straddles a page boundary");

    for (offset, len) in [
        (LEN, 1),
        (1, LEN),
        (0, LEN + 1),
        (LEN + 1, 0),
        (usize::MAX, 2),
        (2, usize::MAX),
    ] {
        let err = shm.flush_range(offset, len).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{offset}+{len}");
        let err = shm.flush_async_range(offset, len).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{offset}+{len}");
    }

    // A window whose start is not page-aligned flushes from inside its
    // first page: the address given to msync must be rounded down.
    let window = SharedMemory::options()
        .offset(4097)
        .len(9000)
        .open(&path.0)
        .unwrap();
    window.write_at(8999, b"w").unwrap();
    window.flush().unwrap();
    window.flush_range(1, 8999).unwrap();
    window.flush_async_range(5000, 4000).unwrap();
    assert_eq!(std::fs::read(&path.0).unwrap()[4097 + 8999], b'w');
}

// ---------------------------------------------------------------------------
// Passing memory to a child process
// ---------------------------------------------------------------------------

/// The child's role, set by the parent: `stdin` or `socket`.
const ROLE_VAR: &str = "BYTEWISE_TEST_MAPPING_CHILD_ROLE";
const DONE: usize = 0;
const CHILD_PID: usize = 8;
const DATA: usize = 64;
const DATA_LEN: usize = 10_000;
const DONE_MAGIC: u64 = 0xC41D_D0E5;

fn child_byte(i: usize) -> u8 {
    (i * 13 + 5) as u8
}

/// What the child writes into each region it receives.
fn child_writes(shm: &SharedMemory) {
    let data: Vec<u8> = (0..DATA_LEN).map(child_byte).collect();
    shm.write_at(DATA, &data).unwrap();
    shm.write_obj(CHILD_PID, &u64::from(std::process::id()))
        .unwrap();
    shm.write_obj(DONE, &DONE_MAGIC).unwrap();
}

/// What the parent checks in each region after the child ran.
fn check_child_wrote(shm: &SharedMemory, pid: u32) {
    assert_eq!(
        shm.read_obj::<u64>(DONE).unwrap(),
        DONE_MAGIC,
        "the child never finished"
    );
    assert_eq!(shm.read_obj::<u64>(CHILD_PID).unwrap(), u64::from(pid));
    let mut seen = vec![0u8; DATA_LEN];
    shm.read_at(DATA, &mut seen).unwrap();
    for (i, &b) in seen.iter().enumerate() {
        assert_eq!(b, child_byte(i), "byte {i} written by the child");
    }
}

/// The child half of the tests below: a no-op unless the parent started
/// this binary with `ROLE_VAR` set. No `unsafe` here: that is the point.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap")]
fn child_side() {
    match std::env::var(ROLE_VAR).as_deref() {
        Ok("stdin") => child_writes(&SharedMemory::from_stdin().expect("from_stdin")),
        Ok("stdin-pipe") => {
            let err = SharedMemory::from_stdin().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        }
        Ok("socket") => {
            let sock = UnixStream::from(std::io::stdin().as_fd().try_clone_to_owned().unwrap());
            for _ in 0..2 {
                child_writes(&SharedMemory::recv_sealed_from(&sock).expect("recv_sealed_from"));
            }
            // And back: memory the child made, sent to the parent.
            let own = SharedMemory::create(DATA + DATA_LEN).unwrap();
            child_writes(&own);
            own.send_to(&sock).unwrap();
        }
        _ => {}
    }
}

/// Runs `child_side` in a child process with `role` and `stdin`, and checks
/// that it ran and passed. Returns the child's pid.
fn run_child(role: &str, stdin: Stdio) -> u32 {
    let mut cmd = common::self_command();
    cmd.args(["--exact", "child_side", "--nocapture", "--test-threads=1"])
        .env(ROLE_VAR, role)
        .stdin(stdin);
    common::run_child_test(cmd)
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap or spawn processes")]
fn a_child_maps_memory_passed_as_its_stdin() {
    let shm = SharedMemory::create(DATA + DATA_LEN).unwrap();
    let pid = run_child("stdin", shm.to_stdio().unwrap());
    check_child_wrote(&shm, pid);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap or spawn processes")]
fn from_stdin_refuses_a_stdin_that_is_not_memory() {
    // The child asserts the error itself; a pipe is not mappable.
    run_child("stdin-pipe", Stdio::piped());
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot mmap or spawn processes")]
fn a_child_receives_and_sends_memory_over_a_unix_socket() {
    let (parent_end, child_end) = UnixStream::pair().unwrap();
    let regions = [
        SharedMemory::create(DATA + DATA_LEN).unwrap(),
        SharedMemory::create(2 * (DATA + DATA_LEN)).unwrap(),
    ];
    for shm in &regions {
        shm.send_to(&parent_end).unwrap();
    }
    let pid = run_child("socket", Stdio::from(OwnedFd::from(child_end)));
    for shm in &regions {
        check_child_wrote(shm, pid);
    }
    let from_child = SharedMemory::recv_sealed_from(&parent_end).unwrap();
    assert_eq!(from_child.len(), DATA + DATA_LEN);
    check_child_wrote(&from_child, pid);
}

// ---------------------------------------------------------------------------
// SCM_RIGHTS in one process: seals and bad messages
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(miri, ignore = "Miri cannot use sockets or mmap")]
fn recv_sealed_refuses_memory_whose_size_is_not_sealed() {
    let (a, b) = UnixStream::pair().unwrap();
    let path = TempPath::with("unsealed", &[7; 4096]);
    let file = SharedMemory::open(&path.0).unwrap();

    file.send_to(&a).unwrap();
    let err = SharedMemory::recv_sealed_from(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("not sealed"), "{err}");
    // Negative control: the same message is accepted without the check.
    file.send_to(&a).unwrap();
    let unchecked = SharedMemory::recv_from(&b).unwrap();
    assert_eq!(unchecked.read_obj::<u8>(4095).unwrap(), 7);

    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        use rustix::fs::{MemfdFlags, SealFlags};
        // Shrink-sealed only: growth is still possible, so refused.
        let memfd = rustix::fs::memfd_create(
            "half-sealed",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )
        .unwrap();
        rustix::fs::ftruncate(&memfd, 4096).unwrap();
        rustix::fs::fcntl_add_seals(&memfd, SealFlags::SHRINK).unwrap();
        let half = SharedMemory::from_fd(memfd.try_clone().unwrap()).unwrap();
        half.send_to(&a).unwrap();
        assert_eq!(
            SharedMemory::recv_sealed_from(&b).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        rustix::fs::fcntl_add_seals(&memfd, SealFlags::GROW).unwrap();
        half.send_to(&a).unwrap();
        assert_eq!(SharedMemory::recv_sealed_from(&b).unwrap().len(), 4096);

        // `create` seals both.
        let sealed = SharedMemory::create(100).unwrap();
        sealed.send_to(&a).unwrap();
        let received = SharedMemory::recv_sealed_from(&b).unwrap();
        received.write_at(0, b"ok").unwrap();
        assert_eq!(sealed.read_obj::<[u8; 2]>(0).unwrap(), *b"ok");
    }
}

/// Sends `data` with `fds` attached, as a peer that does not follow
/// `send_to`'s format would.
fn send_raw(socket: &UnixStream, fds: &[std::os::fd::BorrowedFd<'_>], data: &[u8]) {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let mut space = [core::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    assert!(control.push(SendAncillaryMessage::ScmRights(fds)));
    let iov = [std::io::IoSlice::new(data)];
    rustix::net::sendmsg(socket, &iov, &mut control, SendFlags::empty()).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot use sockets or mmap")]
fn malformed_messages_and_closed_peers_are_errors() {
    let (mut a, b) = UnixStream::pair().unwrap();
    // Data without an fd.
    a.write_all(b"M").unwrap();
    let err = SharedMemory::recv_from(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");

    // Two fds in one message: refused (and both closed).
    let (x, y) = (
        SharedMemory::create(10).unwrap(),
        SharedMemory::create(20).unwrap(),
    );
    send_raw(&a, &[x.as_fd(), y.as_fd()], b"M");
    let err = SharedMemory::recv_from(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");

    // An fd with the wrong byte.
    send_raw(&a, &[x.as_fd()], b"?");
    let err = SharedMemory::recv_from(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");

    // Negative control: a well-formed message on the same socket works.
    x.send_to(&a).unwrap();
    assert_eq!(SharedMemory::recv_from(&b).unwrap().len(), 10);

    // Not a socket.
    let (read_end, write_end) = rustix::pipe::pipe().unwrap();
    assert_eq!(
        x.send_to(&write_end).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(SharedMemory::recv_from(&read_end).is_err());

    // The peer is gone.
    drop(a);
    let err = SharedMemory::recv_from(&b).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    let (c, d) = UnixStream::pair().unwrap();
    drop(d);
    assert_eq!(x.send_to(&c).unwrap_err().kind(), ErrorKind::BrokenPipe);
}

/// `ReadOnlyBytes::from_raw_parts` over a `*const` that carries no write
/// permission of its own (`Vec::as_ptr` of a buffer only read here).
///
/// Memory Rust itself treats as immutable (an immutable `static`, or bytes
/// behind a `&[u8]`) cannot be viewed at all: Miri reports the retag to
/// atomics as undefined behaviour, which is why `from_raw_parts` forbids
/// pointers derived from such references. Read-only *mappings* are outside
/// Rust's allocations; they are tested natively above (`r--s`).
#[test]
fn read_only_bytes_from_a_const_pointer() {
    let heap: Vec<u8> = (0..40).map(|i| i * 3).collect();
    // SAFETY: `heap.as_ptr()` makes no reference to the bytes, is valid for
    // reads of 40 bytes for the whole test, and nothing writes them.
    let ro = unsafe { ReadOnlyBytes::from_raw_parts(heap.as_ptr(), heap.len()) };
    for order in [Ordering::Relaxed, Ordering::Acquire, Ordering::SeqCst] {
        assert_eq!(ro.to_vec(order), heap);
    }
    let mut out = vec![0u8; 37];
    ro.read_at(3, &mut out).unwrap();
    assert_eq!(out, heap[3..]);
    assert_eq!(ro.read_obj::<[u8; 16]>(1).unwrap(), heap[1..17]);
}
