//! `From<&memmap2::MmapRaw> for &AtomicBytes`: a file mapped with memmap2,
//! read and written through the safe view, checked against the file's
//! contents as `std::fs` sees them.
#![cfg(all(feature = "memmap2", any(target_os = "linux", target_os = "android")))]
#![cfg(not(miri))] // mmap and /proc
#![allow(clippy::std_instead_of_core)]

use std::fs::{File, OpenOptions};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use bytewise::{AtomicBytes, Error, Ordering};
use memmap2::{MmapMut, MmapOptions, MmapRaw};

/// A file in the temp dir that is removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("bytewise-{name}-{}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
    fn open_rw(&self) -> File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.0)
            .unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(u8)]
enum Kind {
    Write = 2,
}

#[test]
fn read_and_write_a_mapped_file() {
    let initial: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
    let file = TempFile::new("mmapraw-rw", &initial);
    let map = MmapRaw::map_raw(&file.open_rw()).unwrap();
    let shared: &AtomicBytes = (&map).into();
    assert!(std::ptr::eq(
        shared,
        AtomicBytes::from_mmap_raw(&map).unwrap()
    ));
    assert_eq!(shared.len(), 4096);
    assert_eq!(shared.as_ptr(), map.as_mut_ptr());

    // Reads see the file's contents.
    assert_eq!(shared.to_vec(Ordering::Acquire), initial);
    assert_eq!(shared.read_obj::<[u8; 4]>(100), Ok([100, 101, 102, 103]));

    // Writes through the view are the file's contents (MAP_SHARED).
    shared.write_at(10, b"bytewise").unwrap();
    shared.write_obj(4000, &Kind::Write).unwrap();
    let mut want = initial.clone();
    want[10..18].copy_from_slice(b"bytewise");
    want[4000] = 2;
    assert_eq!(std::fs::read(&file.0).unwrap(), want);
    assert_eq!(shared.read_obj_checked::<Kind>(4000), Ok(Kind::Write));

    // A write to the file by another path shows through the mapping.
    use std::os::unix::fs::FileExt;
    file.open_rw().write_at(&[9], 4000).unwrap();
    assert_eq!(
        shared.read_obj_checked::<Kind>(4000),
        Err(Error::InvalidBitPattern {
            offset: 4000,
            len: 1
        })
    );

    // Bounds are checked against the mapping's length.
    assert!(matches!(
        shared.read_at(4095, &mut [0; 2]),
        Err(Error::OutOfBounds { .. })
    ));
    drop(map);
    assert_eq!(std::fs::read(&file.0).unwrap()[4000], 9);
}

#[test]
fn windows_and_anonymous_maps_convert() {
    let file = TempFile::new("mmapraw-window", &[0u8; 3 * 4096]);
    let window = MmapOptions::new()
        .offset(4096)
        .len(100)
        .map_raw(&file.open_rw())
        .unwrap();
    let shared: &AtomicBytes = (&window).into();
    assert_eq!(shared.len(), 100);
    shared.write_at(0, b"page 1").unwrap();
    assert_eq!(&std::fs::read(&file.0).unwrap()[4096..4102], b"page 1");

    let anon = MmapRaw::from(MmapMut::map_anon(64).unwrap());
    let shared: &AtomicBytes = (&anon).into();
    shared.fill(7, Ordering::Release);
    assert_eq!(shared.to_vec(Ordering::Acquire), [7; 64]);
}

/// An `AtomicBytes` can write, so a read-only mapping must not become one:
/// the conversion panics instead of handing out a view whose writes are
/// undefined behaviour.
#[test]
fn read_only_maps_are_refused() {
    let file = TempFile::new("mmapraw-ro", &[1u8; 4096]);
    let ro = MmapOptions::new()
        .map_raw_read_only(&File::open(&file.0).unwrap())
        .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _: &AtomicBytes = (&ro).into();
    }))
    .unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(msg.contains("not mapped read-write"), "{msg}");
    let e = AtomicBytes::from_mmap_raw(&ro).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
    // An Mmap (read-only) turned into an MmapRaw is refused too.
    // SAFETY: the file is private to this test and not modified while mapped.
    let from_mmap =
        MmapRaw::from(unsafe { memmap2::Mmap::map(&File::open(&file.0).unwrap()) }.unwrap());
    assert!(AtomicBytes::from_mmap_raw(&from_mmap).is_err());
    assert_eq!(std::fs::read(&file.0).unwrap(), [1; 4096]);
}
