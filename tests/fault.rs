//! Faults become errors (contract section 7): every kernel against a
//! `PROT_NONE` page, truncated files (by a thread and by another process),
//! a race of truncation against reads, `Page`'s `EFAULT`, the `io` cursors,
//! a full filesystem, hardware poison, faults in several threads, and the
//! negative controls in child processes (foreign faults still kill, a
//! user's handler and std's stack-overflow message still work, a kernel
//! without its table entry dies).
#![cfg(all(
    feature = "std",
    feature = "bytemuck",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(miri)
))]

mod common;

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use core::time::Duration;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use bytewise::{AtomicBytes, Error, Ordering, Page, SharedMemory};

const PAGE: usize = 4096;

/// Whether this build recovers faults; tests print why they skip otherwise
/// (the portable kernel, forced with `BYTEWISE_FORCE_PORTABLE=1`).
fn supported() -> bool {
    if !bytewise::fault::is_supported() {
        eprintln!("skipped: faults are not recovered in this build (portable kernel)");
        return false;
    }
    bytewise::fault::install_handler().expect("install the fault handler");
    true
}

/// The skip above must not hide a build that lost fault recovery: on Linux
/// x86_64 and aarch64 (the targets the contract requires) it must be on,
/// unless the portable kernel was forced at build time.
#[test]
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    not(miri)
))]
fn recovery_is_built_where_the_contract_requires_it() {
    if option_env!("BYTEWISE_FORCE_PORTABLE") == Some("1") {
        eprintln!("skipped: built with BYTEWISE_FORCE_PORTABLE=1");
        return;
    }
    assert!(
        bytewise::fault::is_supported(),
        "fault recovery is missing from this Linux x86_64/aarch64 build"
    );
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Three anonymous pages, the middle one `PROT_NONE`.
struct Holed {
    base: *mut u8,
}

impl Holed {
    fn new(fill: u8) -> Holed {
        // SAFETY: a fresh anonymous private mapping; no existing memory is
        // affected.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                3 * PAGE,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE,
            )
        }
        .expect("mmap")
        .cast::<u8>();
        // SAFETY: the mapping is ours, 3 pages, writable.
        unsafe { base.write_bytes(fill, 3 * PAGE) };
        let middle = base.wrapping_add(PAGE).cast();
        // SAFETY: the middle page of our own mapping.
        unsafe { rustix::mm::mprotect(middle, PAGE, rustix::mm::MprotectFlags::empty()) }
            .expect("mprotect");
        Holed { base }
    }

    /// The first byte of the bad page.
    fn bad(&self) -> usize {
        self.base.addr() + PAGE
    }

    fn at(&self, off: usize) -> *mut u8 {
        self.base.wrapping_add(off)
    }

    fn is_bad(&self, addr: usize) -> bool {
        (self.bad()..self.bad() + PAGE).contains(&addr)
    }
}

impl Drop for Holed {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used.
        unsafe { rustix::mm::munmap(self.base.cast(), 3 * PAGE) }.expect("munmap");
    }
}

/// A temporary file of `len` bytes, each `byte`.
fn temp_file(name: &str, len: usize, byte: u8) -> (PathBuf, File) {
    let path = std::env::temp_dir().join(format!(
        "bytewise-fault-{}-{name}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("create temp file");
    f.write_all(&vec![byte; len]).expect("fill temp file");
    (path, f)
}

/// Runs this test binary again as a child with `role`, and waits for it.
fn child(role: &str, env: &[(&str, String)]) -> Output {
    let mut cmd = common::self_command();
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("BYTEWISE_FAULT_CHILD", role)
    .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run child")
}

/// Runs `child(role)` with `BYTEWISE_FAULT_PATH` set to `path`, and checks
/// that it exited successfully.
fn child_on_file(role: &str, path: &Path) -> Output {
    let out = child(role, &[("BYTEWISE_FAULT_PATH", path.display().to_string())]);
    assert!(out.status.success(), "{}", describe(&out));
    out
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?} (signal {:?})\nstdout: {}\nstderr: {}",
        out.status,
        out.status.signal(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------
// A bad page in the middle: every kernel, every length
// ---------------------------------------------------------------------------

/// For one kernel and one operation, runs every length 1..=600 against the
/// `PROT_NONE` page: ranges flush against it on either side succeed with
/// the right bytes (no over-read); ranges that cross into it report an
/// address inside it. `shared_dst` says which side is the holed one.
fn sweep(kernel: &bytewise::__kernels::Kernel, op: &str, holed_is_dst: bool) -> usize {
    let h = Holed::new(0x5A);
    let mut private = vec![0u8; 2 * PAGE];
    let mut faults = 0;
    for len in 1..=600usize {
        // Flush against the bad page from below and from above, then
        // crossing into it: 1 byte in, half in, all but 1 byte in, from each
        // side. Heads, bodies and tails of every length class end there.
        let flush = [PAGE - len, 2 * PAGE];
        let mut crossing = vec![PAGE - len + 1, PAGE - len / 2, PAGE - 1, 2 * PAGE - 1];
        if len >= 2 {
            crossing.push(2 * PAGE - len + 1);
            crossing.push(2 * PAGE - len / 2);
        }
        for (start, expect_fault) in flush
            .iter()
            .map(|&s| (s, false))
            .chain(crossing.iter().map(|&s| (s, true)))
        {
            if expect_fault && !(start < 2 * PAGE && start + len > PAGE) {
                continue;
            }
            let holed = h.at(start);
            let other = private.as_mut_ptr().wrapping_add(64);
            let (src, dst) = if holed_is_dst {
                (other.cast_const(), holed)
            } else {
                (holed.cast_const(), other)
            };
            // SAFETY: both regions are mapped by this process (the holed
            // one may fault, which the handler recovers, as the test
            // checks); they do not overlap; nothing else touches them.
            let fault = match op {
                // SAFETY: as above.
                "load" => unsafe { (kernel.load)(src, dst, len) },
                // SAFETY: as above.
                "store" => unsafe { (kernel.store)(src, dst, len) },
                // SAFETY: as above.
                "copy" => unsafe { (kernel.copy)(src, dst, len) },
                // SAFETY: as above.
                "fill" => unsafe { (kernel.fill)(dst, 0x5A, len) },
                _ => unreachable!(),
            };
            let what = format!(
                "kernel {} {op} len {len} at page offset {start} (holed {})",
                kernel.name,
                if holed_is_dst { "dst" } else { "src" }
            );
            if expect_fault {
                assert!(
                    h.is_bad(fault),
                    "{what}: expected a fault inside the bad page {:#x}, got {fault:#x}",
                    h.bad()
                );
                faults += 1;
            } else {
                assert_eq!(fault, 0, "{what}: flush range faulted (over-read?)");
                if !holed_is_dst && op != "fill" {
                    assert!(
                        private[64..64 + len].iter().all(|&b| b == 0x5A),
                        "{what}: wrong bytes"
                    );
                    private[64..64 + len].fill(0);
                }
            }
        }
    }
    faults
}

#[test]
fn prot_none_page_every_kernel_every_length() {
    if !supported() {
        return;
    }
    let mut total = 0;
    for kernel in bytewise::__kernels::all().iter() {
        if kernel.name == "portable" {
            continue; // plain Rust atomics: no table entries (by design)
        }
        total += sweep(&kernel, "load", false);
        total += sweep(&kernel, "store", true);
        total += sweep(&kernel, "copy", false);
        total += sweep(&kernel, "copy", true);
        total += sweep(&kernel, "fill", true);
    }
    assert!(total > 0, "no faults were provoked");
    eprintln!("{total} faults recovered");
}

#[test]
fn try_functions_report_offsets_inside_the_bad_page() {
    if !supported() {
        return;
    }
    let h = Holed::new(1);
    let mut buf = [0u8; 300];
    for (start, len) in [(PAGE - 10, 20), (PAGE - 300, 300), (2 * PAGE - 5, 300)] {
        let p = h.at(start);
        let check = |r: Result<(), Error>| match r {
            Err(Error::Fault { offset }) => {
                assert!(offset < len, "offset {offset} outside the range");
                assert!(h.is_bad(p.addr() + offset), "byte {offset} is accessible");
            }
            other => panic!("expected a fault, got {other:?}"),
        };
        if start + len <= PAGE {
            // Flush: must succeed.
            // SAFETY: mapped, accessible, disjoint from `buf`.
            unsafe { bytewise::try_load(p, buf.as_mut_ptr(), len, Ordering::Acquire) }.unwrap();
            continue;
        }
        // SAFETY: mapped by this process, may fault (recovered); `buf` is
        // private and disjoint (likewise for the three below).
        check(unsafe { bytewise::try_load(p, buf.as_mut_ptr(), len, Ordering::Acquire) });
        // SAFETY: as above.
        check(unsafe { bytewise::try_store(buf.as_ptr(), p, len, Ordering::Release) });
        // SAFETY: as above.
        check(unsafe { bytewise::try_copy(p, buf.as_mut_ptr(), len, Ordering::SeqCst) });
        // SAFETY: as above.
        check(unsafe { bytewise::try_fill(p, 7, len, Ordering::Relaxed) });
    }
}

#[test]
fn atomic_bytes_methods_report_offsets_from_the_view() {
    if !supported() {
        return;
    }
    let h = Holed::new(0);
    // SAFETY: the 3-page mapping lives until `h` drops, at the end; it is
    // only accessed through this view. The middle page faults, which the
    // handler recovers.
    let view = unsafe { AtomicBytes::from_raw_parts(h.at(0), 3 * PAGE) };
    let in_bad = |e: Error| match e {
        Error::Fault { offset } => assert!(
            (PAGE..2 * PAGE).contains(&offset),
            "offset {offset} not in the bad page"
        ),
        e => panic!("expected a fault, got {e:?}"),
    };
    let mut buf = [0u8; 64];
    in_bad(view.read_at(PAGE - 32, &mut buf).unwrap_err());
    in_bad(view.write_at(2 * PAGE - 1, &buf).unwrap_err());
    in_bad(view.read_obj::<[u64; 4]>(PAGE + 100).unwrap_err());
    in_bad(view.write_obj(PAGE - 4, &0u64).unwrap_err());
    view.read_at(PAGE - 64, &mut buf).unwrap();
    view.write_at(2 * PAGE, &buf).unwrap();
    // The io cursors: an io::Error wrapping the fault.
    let mut r = view.get(PAGE - 8..).unwrap().reader();
    let mut big = [0u8; 16];
    let e = r.read_exact(&mut big).unwrap_err();
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<Error>()).copied();
    assert!(
        matches!(inner, Some(Error::Fault { offset }) if (8..16).contains(&offset)),
        "{e:?}"
    );
    let mut w = view.get(2 * PAGE - 4..).unwrap().writer();
    let e = w.write(&[1; 8]).unwrap_err();
    assert!(
        e.get_ref()
            .and_then(|i| i.downcast_ref::<Error>())
            .is_some()
    );
    // Infallible methods panic with a message naming the address.
    let msg =
        std::panic::catch_unwind(|| view.get(PAGE..PAGE + 8).unwrap().to_vec(Ordering::Relaxed))
            .unwrap_err();
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains(&format!("{:#x}", h.bad())) && msg.contains("truncated"),
        "panic message: {msg}"
    );
    drop(h);
}

/// The ordered forms, the checked reads, `ReadOnlyBytes` and the reader's
/// typed reads report faults too, with offsets from the start of the view.
#[test]
fn ordered_checked_and_read_only_methods_report_faults() {
    if !supported() {
        return;
    }
    let h = Holed::new(1);
    // SAFETY: the 3-page mapping lives until `h` drops, at the end; it is
    // only accessed through this view. The middle page faults, which the
    // handler recovers.
    let view = unsafe { AtomicBytes::from_raw_parts(h.at(0), 3 * PAGE) };
    let at = |want: usize, r: Result<(), Error>| match r {
        Err(Error::Fault { offset }) => assert_eq!(offset, want),
        r => panic!("expected a fault at {want}, got {r:?}"),
    };
    let in_bad = |e: Error| match e {
        Error::Fault { offset } => assert!(
            (PAGE..2 * PAGE).contains(&offset),
            "offset {offset} not in the bad page"
        ),
        e => panic!("expected a fault, got {e:?}"),
    };
    let mut buf = [0u8; 64];
    in_bad(
        view.load_at(PAGE - 32, &mut buf, Ordering::Acquire)
            .unwrap_err(),
    );
    in_bad(
        view.store_at(2 * PAGE - 8, &buf, Ordering::Release)
            .unwrap_err(),
    );
    in_bad(
        view.load_obj::<u64>(PAGE - 4, Ordering::SeqCst)
            .unwrap_err(),
    );
    in_bad(
        view.store_obj(PAGE + 9, &1u16, Ordering::Relaxed)
            .unwrap_err(),
    );
    // One byte: the fault is that byte.
    at(PAGE, view.read_obj_checked::<bool>(PAGE).map(drop));
    at(
        PAGE + 5,
        view.load_obj::<u8>(PAGE + 5, Ordering::Acquire).map(drop),
    );
    #[cfg(feature = "zerocopy")]
    at(PAGE + 7, view.try_read_obj::<bool>(PAGE + 7).map(drop));
    // Flush against the bad page: fine (1 is a valid `bool`).
    assert!(view.read_obj_checked::<bool>(PAGE - 1).unwrap());
    view.load_at(2 * PAGE, &mut buf, Ordering::Acquire).unwrap();

    let ro = bytewise::ReadOnlyBytes::new(view);
    in_bad(ro.read_at(PAGE - 1, &mut buf).unwrap_err());
    in_bad(ro.read_obj::<[u8; 16]>(2 * PAGE - 16).unwrap_err());
    ro.read_at(PAGE - 64, &mut buf).unwrap();

    // The reader's typed reads: `Other` wrapping the fault, position kept.
    let fault_of = |e: std::io::Error| {
        assert_eq!(e.kind(), std::io::ErrorKind::Other, "{e:?}");
        e.get_ref()
            .and_then(|i| i.downcast_ref::<Error>())
            .copied()
            .expect("an io::Error wrapping bytewise::Error")
    };
    let mut r = view.get(PAGE - 4..).unwrap().reader();
    let e = fault_of(r.read_obj::<u64>().unwrap_err());
    assert!(
        matches!(e, Error::Fault { offset } if (4..8).contains(&offset)),
        "{e:?}"
    );
    assert_eq!(r.read_obj::<u32>().unwrap(), u32::from_ne_bytes([1; 4]));
    assert_eq!(
        fault_of(r.read_obj_checked::<bool>().unwrap_err()),
        Error::Fault { offset: 4 }
    );
    drop(h);
}

#[test]
fn page_efault_for_the_callers_pointer() {
    if !supported() {
        return;
    }
    let h = Holed::new(0);
    let page = Page::alloc().unwrap();
    page.as_bytes().fill(9, Ordering::Relaxed);
    // SAFETY: the destination is mapped by this process and faults (the
    // kernel's EFAULT); it does not overlap the page.
    let r = unsafe { page.read_bytewise_atomic(h.at(PAGE + 16), 0, 100) };
    assert_eq!(r, Err(Error::Fault { offset: 0 }));
    // SAFETY: as above, reading from the bad page, crossing into it.
    let r = unsafe { page.write_bytewise_atomic(h.at(PAGE - 50), 0, 100) };
    assert!(
        matches!(r, Err(Error::Fault { offset }) if (50..100).contains(&offset)),
        "{r:?}"
    );
    // And a good pointer still works.
    let mut out = [0u8; 10];
    // SAFETY: a private local.
    unsafe { page.read_bytewise_atomic(out.as_mut_ptr(), 0, 10) }.unwrap();
    assert_eq!(out, [9; 10]);
}

#[test]
fn faults_in_several_threads_at_once() {
    if !supported() {
        return;
    }
    let h = Holed::new(0);
    let base = h.at(0).addr();
    let start = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for t in 0..4usize {
            let start = &start;
            s.spawn(move || {
                start.wait();
                let mut buf = [0u8; 256];
                for i in 0..2000usize {
                    let off = PAGE - 128 + (i + t) % 100;
                    let p = (base + off) as *mut u8;
                    // SAFETY: mapped by this process, may fault (recovered).
                    let r =
                        unsafe { bytewise::try_load(p, buf.as_mut_ptr(), 256, Ordering::Relaxed) };
                    match r {
                        Err(Error::Fault { offset }) => {
                            assert!((PAGE..2 * PAGE).contains(&(off + offset)))
                        }
                        other => panic!("thread {t}: {other:?}"),
                    }
                }
            });
        }
    });
}

#[test]
fn table_entry_is_what_saves_a_kernel() {
    if !supported() {
        return;
    }
    let h = Holed::new(0);
    // The positive twin, in process: the entry turns the fault into its
    // address.
    // SAFETY: mapped by this process; the fault is recovered.
    let fault = unsafe { bytewise::__kernels::read_byte_with_entry(h.at(PAGE + 3)) };
    assert_eq!(fault, h.bad() + 3);
    // The same read without its entry dies by SIGSEGV.
    let out = child("no_entry", &[]);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGSEGV),
        "{}",
        describe(&out)
    );
}

// ---------------------------------------------------------------------------
// Truncated files
// ---------------------------------------------------------------------------

/// The checks after a file of 3 pages, mapped as `shm`, was cut to 1 page.
fn check_truncated(shm: &SharedMemory) {
    let past = |e: Error| match e {
        Error::Fault { offset } => assert!(offset >= PAGE, "offset {offset} is still in the file"),
        e => panic!("expected a fault, got {e:?}"),
    };
    let mut buf = [0u8; 100];
    past(shm.read_at(PAGE + 10, &mut buf).unwrap_err());
    past(shm.read_at(PAGE - 50, &mut buf).unwrap_err());
    past(shm.write_at(2 * PAGE, &buf).unwrap_err());
    past(shm.read_obj::<u64>(2 * PAGE + 8).unwrap_err());
    past(shm.write_obj(PAGE, &[1u32; 4]).unwrap_err());
    // The part still in the file works.
    shm.read_at(0, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0xAB));
}

#[test]
fn truncation_by_a_thread() {
    if !supported() {
        return;
    }
    let (path, file) = temp_file("thread", 3 * PAGE, 0xAB);
    let shm = SharedMemory::open(&path).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| file.set_len(PAGE as u64).unwrap());
    });
    check_truncated(&shm);
    // Grown back: reads succeed again (zeros past the old end).
    file.set_len(3 * PAGE as u64).unwrap();
    let mut buf = [1u8; 100];
    shm.read_at(2 * PAGE, &mut buf).unwrap();
    assert_eq!(buf, [0; 100]);
    shm.write_obj(2 * PAGE, &7u64).unwrap();
    drop(shm);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn truncation_by_another_process() {
    if !supported() {
        return;
    }
    let (path, file) = temp_file("process", 3 * PAGE, 0xAB);
    let shm = SharedMemory::open(&path).unwrap();
    child_on_file("truncate", &path);
    check_truncated(&shm);
    file.set_len(3 * PAGE as u64).unwrap();
    shm.read_obj::<[u8; 64]>(3 * PAGE - 64).unwrap();
    drop(shm);
    std::fs::remove_file(path).unwrap();
}

/// A read-only window of a file (`MapOptions`), in a child process that
/// never installs the handler itself: the mapping constructor must. The
/// window starts one page into the file, so the offsets are the view's,
/// not the file's.
#[test]
fn truncated_read_only_window_from_map_options() {
    if !supported() {
        return;
    }
    let (path, file) = temp_file("window", 4 * PAGE, 0xCD);
    let out = child_on_file("read_only_window", &path);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("read-only window ok"),
        "{}",
        describe(&out)
    );
    drop(file);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn truncation_race_no_crash_no_stray_bytes() {
    if !supported() {
        return;
    }
    const LEN: usize = 16 * PAGE;
    let (path, file) = temp_file("race", LEN, 0xAB);
    let shm = SharedMemory::open(&path).unwrap();
    let stop = AtomicBool::new(false);
    let (faults, oks) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        s.spawn(|| {
            let chunk = vec![0xABu8; LEN];
            let mut i = 0u64;
            while !stop.load(Relaxed) {
                file.set_len((PAGE as u64) * (i % 8)).unwrap();
                std::thread::yield_now();
                file.set_len(LEN as u64).unwrap();
                if i % 4 == 0 {
                    file.write_all_at(&chunk, 0).unwrap();
                }
                i += 1;
            }
            file.set_len(LEN as u64).unwrap();
        });
        for t in 0..2usize {
            let (shm, stop, faults, oks) = (&shm, &stop, &faults, &oks);
            s.spawn(move || {
                let mut buf = vec![0u8; 3 * PAGE];
                let mut i = t * 7919;
                while !stop.load(Relaxed) {
                    i = i.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let len = 1 + i % (3 * PAGE);
                    let off = (i >> 16) % (LEN - len);
                    match shm.read_at(off, &mut buf[..len]) {
                        Ok(()) => {
                            assert!(
                                buf[..len].iter().all(|&b| b == 0xAB || b == 0),
                                "a byte that was never written"
                            );
                            oks.fetch_add(1, Relaxed);
                        }
                        Err(Error::Fault { offset }) => {
                            assert!(offset >= off && offset < off + len);
                            faults.fetch_add(1, Relaxed);
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1200));
        stop.store(true, Relaxed);
    });
    let (faults, oks) = (faults.into_inner(), oks.into_inner());
    eprintln!("{oks} reads ok, {faults} faults survived");
    assert!(
        faults > 0,
        "the race never faulted: the test proves nothing"
    );
    assert!(oks > 0);
    drop(shm);
    std::fs::remove_file(path).unwrap();
}

// ---------------------------------------------------------------------------
// Full disk, hardware poison
// ---------------------------------------------------------------------------

#[test]
fn full_filesystem_write_through_a_mapping() {
    if !supported() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("bytewise-fault-tmpfs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "bytewise-test"])
        .arg(&dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (not root, or no mount permission)");
        let _ = std::fs::remove_dir(&dir);
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let path = dir.join("sparse");
        let f = File::create(&path).unwrap();
        f.set_len(1 << 20).unwrap(); // 1 MiB sparse on a 64 KiB filesystem
        let shm = SharedMemory::open(&path).unwrap();
        let mut first_fault = None;
        for off in (0..1 << 20).step_by(PAGE) {
            match shm.write_at(off, &[0x77; PAGE]) {
                Ok(()) => {}
                Err(Error::Fault { offset }) => {
                    assert!((off..off + PAGE).contains(&offset));
                    first_fault = Some(off);
                    break;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        let at = first_fault.expect("a 1 MiB write to a 64 KiB filesystem never faulted");
        assert!(at > 0 && at <= 64 * 1024, "faulted at {at}");
    });
    let _ = std::process::Command::new("umount").arg(&dir).status();
    let _ = std::fs::remove_dir(&dir);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

#[test]
fn hardware_poisoned_page() {
    if !supported() {
        return;
    }
    let h = Holed::new(3);
    let target = h.at(2 * PAGE);
    // SAFETY: our own mapping's last page; poisoning it only affects it.
    let rc = unsafe { libc::madvise(target.cast(), PAGE, libc::MADV_HWPOISON) };
    if rc != 0 {
        eprintln!(
            "skipped: madvise(MADV_HWPOISON) failed ({}): needs root and CONFIG_MEMORY_FAILURE",
            std::io::Error::last_os_error()
        );
        return;
    }
    // SAFETY: mapped by this process; a fault is recovered.
    if unsafe { bytewise::__kernels::read_byte_with_entry(target) } == 0 {
        eprintln!(
            "skipped: madvise(MADV_HWPOISON) succeeded but the page reads fine (an emulator?)"
        );
        return;
    }
    let mut buf = [0u8; 64];
    // SAFETY: as above.
    let r = unsafe {
        bytewise::try_load(
            target.wrapping_sub(32),
            buf.as_mut_ptr(),
            64,
            Ordering::Relaxed,
        )
    };
    assert!(
        matches!(r, Err(Error::Fault { offset }) if offset >= 32),
        "{r:?}"
    );
}

// ---------------------------------------------------------------------------
// Negative controls in child processes
// ---------------------------------------------------------------------------

#[test]
fn plain_read_of_a_truncated_mapping_still_dies_by_sigbus() {
    if !supported() {
        return;
    }
    let out = child("plain_truncated", &[]);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGBUS),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_users_handler_installed_before_ours_still_gets_foreign_faults() {
    if !supported() {
        return;
    }
    let out = child("user_handler", &[]);
    assert_eq!(out.status.code(), Some(42), "{}", describe(&out));
    // And ours still recovers our own faults in that process.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("own fault recovered"),
        "{}",
        describe(&out)
    );
}

#[test]
fn stack_overflow_still_reports_std_message() {
    if !supported() {
        return;
    }
    let out = child("stack_overflow", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has overflowed its stack"),
        "{}",
        describe(&out)
    );
    assert!(!out.status.success());
}

// ---------------------------------------------------------------------------
// The child
// ---------------------------------------------------------------------------

/// A user's SIGSEGV handler: exits 42.
extern "C" fn user_handler(_: libc::c_int) {
    // SAFETY: `_exit` is async-signal-safe.
    unsafe { libc::_exit(42) }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let big = [n; 512];
    core::hint::black_box(&big);
    recurse(n + 1) + core::hint::black_box(big[3])
}

/// The child process's body; a no-op unless run by a test above.
#[test]
fn child_process() {
    let Ok(role) = std::env::var("BYTEWISE_FAULT_CHILD") else {
        return;
    };
    match role.as_str() {
        "truncate" => {
            let path = std::env::var("BYTEWISE_FAULT_PATH").unwrap();
            File::options()
                .write(true)
                .open(Path::new(&path))
                .unwrap()
                .set_len(PAGE as u64)
                .unwrap();
        }
        "read_only_window" => {
            let path = std::env::var("BYTEWISE_FAULT_PATH").unwrap();
            let ro = SharedMemory::options()
                .offset(PAGE as u64)
                .len(3 * PAGE)
                .open_read_only(Path::new(&path))
                .unwrap(); // installs the handler
            let file = File::options().write(true).open(&path).unwrap();
            // The file now ends 1.5 pages into the window.
            file.set_len((PAGE + PAGE + PAGE / 2) as u64).unwrap();
            let mut buf = [0u8; 100];
            ro.read_at(PAGE, &mut buf).unwrap();
            assert!(buf.iter().all(|&b| b == 0xCD));
            // The page that holds the new end reads as zeros past it; the
            // next page is gone.
            match ro.read_at(2 * PAGE - 10, &mut buf) {
                Err(Error::Fault { offset }) => assert_eq!(offset, 2 * PAGE),
                r => panic!("expected a fault at the page past the end, got {r:?}"),
            }
            match ro.read_obj::<u64>(3 * PAGE - 8) {
                Err(Error::Fault { offset }) => {
                    assert!((3 * PAGE - 8..3 * PAGE).contains(&offset))
                }
                r => panic!("expected a fault, got {r:?}"),
            }
            // The infallible reads panic instead of dying.
            let r = std::panic::catch_unwind(|| ro.to_vec(Ordering::Relaxed));
            assert!(r.is_err());
            file.set_len(4 * PAGE as u64).unwrap();
            assert_eq!(ro.read_obj::<u64>(3 * PAGE - 8).unwrap(), 0);
            println!("read-only window ok");
        }
        "no_entry" => {
            bytewise::fault::install_handler().unwrap();
            let h = Holed::new(0);
            // SAFETY: deliberately invalid: the point is that it kills.
            let r = unsafe { bytewise::__kernels::read_byte_without_entry(h.at(PAGE)) };
            println!("survived?! {r:#x}");
        }
        "plain_truncated" => {
            let (path, file) = temp_file("plain", 2 * PAGE, 1);
            let shm = SharedMemory::open(&path).unwrap(); // installs the handler
            file.set_len(0).unwrap();
            std::fs::remove_file(&path).unwrap();
            let p = shm.as_ptr();
            // SAFETY: deliberately a plain read of a truncated page: it must
            // still raise SIGBUS with our handler installed.
            let b = unsafe { p.wrapping_add(PAGE).read_volatile() };
            println!("survived?! {b}");
        }
        "user_handler" => {
            // SAFETY: all-zero is a valid `sigaction` (SIG_DFL, empty mask).
            let mut sa: libc::sigaction = unsafe { core::mem::zeroed() };
            sa.sa_sigaction = user_handler as *const () as usize;
            // SAFETY: a complete action for a plain handler that only calls
            // `_exit`.
            let rc = unsafe { libc::sigaction(libc::SIGSEGV, &sa, core::ptr::null_mut()) };
            assert_eq!(rc, 0);
            bytewise::fault::install_handler().unwrap();
            let h = Holed::new(0);
            let mut buf = [0u8; 8];
            // SAFETY: mapped; the fault is recovered.
            let r =
                unsafe { bytewise::try_load(h.at(PAGE), buf.as_mut_ptr(), 8, Ordering::Relaxed) };
            assert!(matches!(r, Err(Error::Fault { .. })));
            println!("own fault recovered");
            std::io::stdout().flush().unwrap();
            // SAFETY: deliberately a foreign fault: the user's handler exits.
            let b = unsafe { h.at(PAGE).read_volatile() };
            println!("survived?! {b}");
        }
        "stack_overflow" => {
            bytewise::fault::install_handler().unwrap();
            let t = std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(|| recurse(0))
                .unwrap();
            let _ = t.join();
            println!("survived?!");
        }
        other => panic!("unknown role {other}"),
    }
}
