//! `From<&memmap2::MmapRaw> for &AtomicBytes` (feature `memmap2`, Linux and
//! Android).
//!
//! memmap2's [`MmapRaw`] is that crate's type for memory shared with other
//! processes: it hands out only raw pointers, so every access is `unsafe`
//! for its user. Every byte-wise atomic access through an [`AtomicBytes`]
//! view is defined even while other processes write the memory, so the view
//! is safe to hand out.

use std::io;

use memmap2::MmapRaw;

use crate::AtomicBytes;

impl AtomicBytes {
    /// Views a read-write [`MmapRaw`] as `AtomicBytes`, for as long as the
    /// mapping is borrowed, or says why it cannot: the fallible form of
    /// `impl From<&MmapRaw> for &AtomicBytes`.
    ///
    /// The mapping must be readable and writable (for example
    /// [`MmapRaw::map_raw`] on a file opened read-write, or an `MmapMut`
    /// converted into an `MmapRaw`): an `AtomicBytes` can write, and a write
    /// to a read-only page is undefined behaviour for an atomic access. This
    /// reads `/proc/self/maps` to check it, so convert once and keep the
    /// reference rather than converting for every access.
    ///
    /// # Errors
    ///
    /// - [`io::ErrorKind::PermissionDenied`] if the mapping is not both
    ///   readable and writable (`MmapOptions::map_raw_read_only`, or an
    ///   `MmapRaw` made from an `Mmap`);
    /// - the error from reading `/proc/self/maps`, if it cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::AtomicBytes;
    /// use memmap2::{MmapOptions, MmapRaw};
    ///
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-ro-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 64])?;
    /// let read_only = MmapOptions::new().map_raw_read_only(&std::fs::File::open(&path)?)?;
    /// let err = AtomicBytes::from_mmap_raw(&read_only).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
    /// # drop(read_only);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_mmap_raw(map: &MmapRaw) -> io::Result<&AtomicBytes> {
        // A file mapping, as `SharedMemory`'s: a truncation under it becomes
        // `Error::Fault` (see the docs of `From<&MmapRaw>`).
        crate::fault::install_handler()?;
        let (ptr, len) = (map.as_mut_ptr(), map.len());
        if !read_write(ptr.addr(), len)? {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "this MmapRaw is not mapped read-write, so it cannot be an AtomicBytes \
                 (map a file opened read-write with MmapRaw::map_raw)",
            ));
        }
        // `ptr` is non-null (memmap2 maps at least one byte, even for an empty
        // map) and `len <= isize::MAX`, as for any mapping. It stays mapped
        // while `map` is borrowed: memmap2 unmaps it only on drop, and `remap`
        // needs `&mut MmapRaw`. `MmapRaw` hands out only raw pointers, so any
        // other access from this process is an `unsafe` dereference whose
        // author promises it does not race non-atomically.
        // SAFETY: readable and writable (checked above) for `len` bytes for
        // the borrow of `map`; this process accesses them atomically.
        Ok(unsafe { AtomicBytes::from_raw_parts(ptr, len) })
    }
}

/// Views a read-write [`MmapRaw`] as [`AtomicBytes`], for as long as the
/// mapping is borrowed: safe reads and writes of a mapping that other
/// processes write at the same time, with no `unsafe`.
///
/// The mapping must be readable and writable; see
/// [`AtomicBytes::from_mmap_raw`], the form that returns an error instead
/// of panicking.
///
/// Truncating the mapped file while it is mapped makes accesses past the new
/// end raise `SIGBUS`, as for every file mapping (and as memmap2 documents).
/// Both conversions install this crate's fault handler, so where
/// [`fault::is_supported`](crate::fault::is_supported) that no longer kills
/// the process: the `Result`-returning methods of the view report
/// [`Error::Fault`](crate::Error::Fault) and the infallible ones panic, as
/// for [`SharedMemory`](crate::SharedMemory#truncation-and-sigbus). Plain
/// accesses through memmap2's own pointers are not covered.
///
/// # Panics
///
/// Panics if the mapping is not both readable and writable, or if
/// `/proc/self/maps` cannot be read to check it.
///
/// # Examples
///
/// ```
/// use memmap2::MmapRaw;
/// use bytewise::AtomicBytes;
///
/// let path = std::env::temp_dir().join(format!("bytewise-doc-{}", std::process::id()));
/// std::fs::write(&path, [0u8; 64])?;
/// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
/// let map = MmapRaw::map_raw(&file)?;
///
/// let shared: &AtomicBytes = (&map).into(); // no unsafe
/// shared.write_obj(8, &0xfeed_u32)?;
/// assert_eq!(shared.read_obj::<u32>(8)?, 0xfeed);
/// assert_eq!(std::fs::read(&path)?[8..12], 0xfeed_u32.to_ne_bytes());
/// # drop(map);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<'a> From<&'a MmapRaw> for &'a AtomicBytes {
    #[track_caller]
    fn from(map: &'a MmapRaw) -> Self {
        match AtomicBytes::from_mmap_raw(map) {
            Ok(view) => view,
            Err(e) => panic!("bytewise: From<&MmapRaw> for &AtomicBytes: {e}"),
        }
    }
}

/// Whether every byte of `start..start + len` lies in mappings of this
/// process that are readable and writable, according to `/proc/self/maps`.
fn read_write(start: usize, len: usize) -> io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    // The file is generated in pieces; a mapping change elsewhere in the
    // process between two pieces can hide a line once. Look twice before
    // saying no.
    for _ in 0..2 {
        if covered_read_write(&std::fs::read_to_string("/proc/self/maps")?, start, len) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the lines of `maps` (`start-end perms ...`, sorted by address)
/// cover `start..start + len` with no gap, each with `rw` permissions.
fn covered_read_write(maps: &str, start: usize, len: usize) -> bool {
    let Some(end) = start.checked_add(len) else {
        return false;
    };
    let mut next = start; // the first byte not yet known to be covered
    for line in maps.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((lo, hi)) = range.split_once('-') else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        else {
            continue;
        };
        if hi <= next {
            continue;
        }
        if lo > next || !perms.starts_with("rw") {
            return false; // a gap, or a page that is not read-write
        }
        next = hi;
        if next >= end {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::covered_read_write;

    const MAPS: &str = "\
1000-3000 rw-s 00000000 00:01 1 /memfd:a (deleted)
3000-4000 rw-p 00000000 00:00 0
4000-5000 r--s 00000000 00:01 2 /file
6000-7000 rw-s 00000000 00:01 3 /other
";

    #[test]
    fn parses_maps() {
        assert!(covered_read_write(MAPS, 0x1000, 0x2000));
        assert!(
            covered_read_write(MAPS, 0x2fff, 0x1001),
            "spans two entries"
        );
        assert!(
            !covered_read_write(MAPS, 0x3fff, 2),
            "reaches a read-only page"
        );
        assert!(!covered_read_write(MAPS, 0x4000, 1), "read-only");
        assert!(!covered_read_write(MAPS, 0x5000, 1), "unmapped");
        assert!(!covered_read_write(MAPS, 0x6fff, 2), "runs past the end");
        assert!(!covered_read_write(MAPS, 0x800, 0x1000), "starts before");
        assert!(!covered_read_write(MAPS, usize::MAX, 2), "overflow");
        assert!(covered_read_write(MAPS, 0x6000, 0x1000));
    }
}
