//! [`MapOptions`]: which window of a file or memory object to map, read-write
//! or read-only, and `msync` for the mappings made.

use core::ptr::NonNull;

use alloc::format;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::FileType;
use rustix::io::Errno;
use rustix::mm::{MapFlags, MsyncFlags, ProtFlags};

use super::{ReadOnlySharedMemory, SharedMemory, check_len, invalid_input};

/// Options for mapping a file or shared memory object: which window of it,
/// whether to prefault it, and (by the method that maps) whether the mapping
/// is read-write ([`SharedMemory`]) or read-only ([`ReadOnlySharedMemory`]).
///
/// The builder of `memmap2`'s `MmapOptions` and std's `OpenOptions`: set
/// options with `&mut self` methods, then map with
/// [`map`](MapOptions::map) / [`map_read_only`](MapOptions::map_read_only)
/// (an fd or `File`) or [`open`](MapOptions::open) /
/// [`open_read_only`](MapOptions::open_read_only) (a path). Obtain one from
/// [`SharedMemory::options`] or [`MapOptions::new`].
///
/// Unlike `memmap2`, the window must lie inside the file: mapping pages past
/// its end would make every access to them raise `SIGBUS`, so that is an
/// [`InvalidInput`](io::ErrorKind::InvalidInput) error here.
///
/// # Examples
///
/// A reader that maps bytes 5000..5100 of a file it may not write:
///
/// ```
/// use bytewise::SharedMemory;
///
/// let path = std::env::temp_dir().join(format!("bytewise-doc-options-{}", std::process::id()));
/// let contents: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
/// std::fs::write(&path, &contents)?;
///
/// let window = SharedMemory::options()
///     .offset(5000) // need not be page-aligned
///     .len(100)
///     .open_read_only(&path)?;
/// assert_eq!(window.len(), 100);
/// assert_eq!(window.read_obj::<[u8; 4]>(0)?, contents[5000..5004]);
///
/// let past_end = SharedMemory::options().offset(9990).len(11).open_read_only(&path);
/// assert_eq!(past_end.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MapOptions {
    offset: u64,
    len: Option<usize>,
    populate: bool,
}

impl MapOptions {
    /// Options that map the whole object, without prefaulting.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(64)?;
    /// let twin = bytewise::MapOptions::new().map(shm.as_fd().try_clone_to_owned()?)?;
    /// assert_eq!(twin.len(), 64);
    /// # use std::os::fd::AsFd;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub const fn new() -> MapOptions {
        MapOptions {
            offset: 0,
            len: None,
            populate: false,
        }
    }

    /// Maps from byte `offset` of the object on (default 0).
    ///
    /// Any offset works: `mmap` needs a page-aligned one, so the enclosing
    /// pages are mapped and the view starts at `offset` within them.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(8192)?;
    /// shm.write_at(4097, b"x")?;
    /// # use std::os::fd::AsFd;
    /// let tail = bytewise::SharedMemory::options().offset(4097).map(shm.as_fd().try_clone_to_owned()?)?;
    /// assert_eq!(tail.len(), 8192 - 4097);
    /// assert_eq!(tail.read_obj::<u8>(0)?, b'x');
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// Maps `len` bytes (default: from the offset to the end of the
    /// object).
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(8192)?;
    /// # use std::os::fd::AsFd;
    /// let head = bytewise::SharedMemory::options().len(10).map(shm.as_fd().try_clone_to_owned()?)?;
    /// assert_eq!(head.len(), 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub const fn len(&mut self, len: usize) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// Prefaults the mapping (`MAP_POPULATE`): page tables are filled, and
    /// file pages read, before `map` returns, instead of on first access.
    ///
    /// On Linux and Android; elsewhere the option has no effect.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(1 << 20)?;
    /// # use std::os::fd::AsFd;
    /// let hot = bytewise::SharedMemory::options().populate().map(shm.as_fd().try_clone_to_owned()?)?;
    /// assert_eq!(hot.len(), 1 << 20);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "MAP_POPULATE")]
    pub const fn populate(&mut self) -> &mut Self {
        self.populate = true;
        self
    }

    /// Maps the window of `fd` (a `File`, an `OwnedFd`: a `memfd`, a POSIX
    /// shared memory object or a regular file opened read-write), read-write
    /// and shared.
    ///
    /// [`SharedMemory::from_fd`] is `MapOptions::new().map(fd)`.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput) if `fd` is not
    ///   mappable (a pipe, socket, directory or device), or the window is
    ///   empty, does not lie inside the object (including when offset plus
    ///   length overflows), or is too large to map;
    /// - the error of `mmap(2)` otherwise, for example
    ///   [`PermissionDenied`](io::ErrorKind::PermissionDenied) for an fd
    ///   opened read-only.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-map-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 100])?;
    /// let file = std::fs::File::options().read(true).write(true).open(&path)?;
    /// let shm = bytewise::SharedMemory::options().offset(10).len(5).map(file)?;
    /// shm.write_at(0, b"hello")?;
    /// assert_eq!(&std::fs::read(&path)?[10..15], b"hello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "mmap")]
    pub fn map(&self, fd: impl Into<OwnedFd>) -> io::Result<SharedMemory> {
        let fd = fd.into();
        let mapping = self.map_fd(fd.as_fd(), Access::ReadWrite)?;
        Ok(SharedMemory { map: mapping, fd })
    }

    /// Maps the window of `fd` read-only (`PROT_READ`) and shared; `fd`
    /// needs only read permission.
    ///
    /// # Errors
    ///
    /// As for [`map`](MapOptions::map), except that an fd opened read-only
    /// is fine.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-map-ro-{}", std::process::id()));
    /// std::fs::write(&path, b"read me")?;
    /// let ro = bytewise::MapOptions::new().map_read_only(std::fs::File::open(&path)?)?;
    /// assert_eq!(ro.to_vec(bytewise::Ordering::Relaxed), b"read me");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_read_only(&self, fd: impl Into<OwnedFd>) -> io::Result<ReadOnlySharedMemory> {
        let fd = fd.into();
        let mapping = self.map_fd(fd.as_fd(), Access::ReadOnly)?;
        Ok(ReadOnlySharedMemory { map: mapping, fd })
    }

    /// Opens the file at `path` read-write and maps the window, shared.
    ///
    /// # Errors
    ///
    /// The errors of opening the file, such as
    /// [`NotFound`](io::ErrorKind::NotFound), and those of
    /// [`map`](MapOptions::map).
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-open-opt-{}", std::process::id()));
    /// std::fs::write(&path, vec![0u8; 5000])?;
    /// let shm = bytewise::SharedMemory::options().offset(4000).open(&path)?;
    /// assert_eq!(shm.len(), 1000);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<SharedMemory> {
        self.map(open_file(path.as_ref(), true)?)
    }

    /// Opens the file at `path` for reading only and maps the window
    /// read-only: no write permission to the file is needed.
    ///
    /// # Errors
    ///
    /// The errors of opening the file and those of
    /// [`map_read_only`](MapOptions::map_read_only).
    ///
    /// # Examples
    ///
    /// ```
    /// let ro = bytewise::SharedMemory::options().len(4).open_read_only("/proc/self/exe");
    /// # // `/proc/self/exe` is a regular file on Linux; other systems may lack it.
    /// # #[cfg(target_os = "linux")]
    /// assert_eq!(ro?.read_obj::<[u8; 4]>(0)?, *b"\x7fELF");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_read_only(&self, path: impl AsRef<Path>) -> io::Result<ReadOnlySharedMemory> {
        self.map_read_only(open_file(path.as_ref(), false)?)
    }

    /// Checks `fd` and the window, then maps it.
    fn map_fd(&self, fd: BorrowedFd<'_>, access: Access) -> io::Result<Mapping> {
        let size = mappable_size(fd)?;
        let raw = fd.as_raw_fd();
        if self.offset > size {
            return Err(invalid_input(format!(
                "cannot map fd {raw} from offset {}: past the end of its {size} bytes",
                self.offset
            )));
        }
        let len = match self.len {
            Some(len) => len,
            None => usize::try_from(size - self.offset).map_err(|_| {
                invalid_input(format!("cannot map fd {raw}: size {size} is too large"))
            })?,
        };
        check_len(len)?;
        let fits = (len as u64)
            .checked_add(self.offset)
            .is_some_and(|end| end <= size);
        if !fits {
            return Err(invalid_input(format!(
                "cannot map {len} bytes of fd {raw} at offset {}: past the end of its {size} bytes",
                self.offset
            )));
        }
        Mapping::new(fd, self.offset, len, access, self.populate)
    }
}

impl SharedMemory {
    /// Options for mapping a window of a file or memory object, read-write
    /// or read-only: see [`MapOptions`].
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-shm-options-{}", std::process::id()));
    /// std::fs::write(&path, b"0123456789")?;
    /// let ro = bytewise::SharedMemory::options().offset(3).len(4).open_read_only(&path)?;
    /// assert_eq!(ro.to_vec(bytewise::Ordering::Relaxed), b"3456");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn options() -> MapOptions {
        MapOptions::new()
    }

    /// Writes the whole mapping back to its file and waits until that is
    /// done (`msync(MS_SYNC)`).
    ///
    /// Other mappings and `read(2)` see writes through this one at once
    /// anyway; `flush` is about durability: the data reaches the storage
    /// device. For anonymous memory it is a no-op.
    ///
    /// # Errors
    ///
    /// The error of `msync(2)`, as is.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-flush-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let shm = bytewise::SharedMemory::open(&path)?;
    /// shm.write_at(0, b"durable")?;
    /// shm.flush()?;
    /// assert_eq!(&std::fs::read(&path)?[..7], b"durable");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "msync")]
    pub fn flush(&self) -> io::Result<()> {
        self.flush_range(0, self.map.len)
    }

    /// Starts writing the whole mapping back to its file and returns
    /// without waiting (`msync(MS_ASYNC)`).
    ///
    /// # Errors
    ///
    /// The error of `msync(2)`, as is.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(4096)?;
    /// shm.flush_async()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flush_async(&self) -> io::Result<()> {
        self.flush_async_range(0, self.map.len)
    }

    /// Writes bytes `offset..offset + len` of the mapping back to its file
    /// and waits until that is done (`msync(MS_SYNC)` on the pages holding
    /// them). An empty range does nothing.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput) if the range is not
    ///   inside the mapping, including when `offset + len` overflows;
    ///   nothing is flushed then;
    /// - the error of `msync(2)`, as is.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(8192)?;
    /// shm.write_at(5000, b"x")?;
    /// shm.flush_range(5000, 1)?;
    /// let err = shm.flush_range(8000, 200).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_range(&self, offset: usize, len: usize) -> io::Result<()> {
        self.msync(offset, len, MsyncFlags::SYNC)
    }

    /// Starts writing bytes `offset..offset + len` back to the file and
    /// returns without waiting (`msync(MS_ASYNC)`).
    ///
    /// # Errors
    ///
    /// As for [`flush_range`](SharedMemory::flush_range).
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(100)?;
    /// shm.flush_async_range(10, 90)?;
    /// assert!(shm.flush_async_range(usize::MAX, 2).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flush_async_range(&self, offset: usize, len: usize) -> io::Result<()> {
        self.msync(offset, len, MsyncFlags::ASYNC)
    }

    /// `msync` of the pages holding bytes `offset..offset + len` of the view.
    fn msync(&self, offset: usize, len: usize, flags: MsyncFlags) -> io::Result<()> {
        crate::Error::check_range(offset, len, self.map.len)?;
        if len == 0 {
            return Ok(());
        }
        // Positions relative to the (page-aligned) start of the mapping,
        // which begins `head` bytes before the view.
        let start = self.map.head + offset;
        let first_page = start - start % rustix::param::page_size();
        let base = self.map.ptr.as_ptr().wrapping_sub(self.map.head);
        // `msync` only writes dirty pages back to the file; it does not change
        // the memory. `first_page` is page-aligned because `base` is.
        // SAFETY: `first_page..start + len` lies inside the mapping `base ..
        // base + head + map.len` this value owns (range check above, and
        // `first_page <= start`).
        unsafe {
            rustix::mm::msync(
                base.wrapping_add(first_page).cast(),
                start + len - first_page,
                flags,
            )
        }?;
        Ok(())
    }
}

/// Whether a mapping may be written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    ReadWrite,
    ReadOnly,
}

/// A live mapping made by [`Mapping::new`]: the view is `ptr..ptr + len`,
/// and the pages mapped are `ptr - head..ptr + len` (`head` is the offset of
/// the view in its first page). Dropping it unmaps it.
pub(super) struct Mapping {
    pub(super) ptr: NonNull<u8>,
    pub(super) len: usize,
    pub(super) head: usize,
}

impl Mapping {
    /// Maps bytes `offset..offset + len` of `fd`, shared, as `access` says.
    /// `len` passed `check_len`; the window must lie inside the object.
    pub(super) fn new(
        fd: BorrowedFd<'_>,
        offset: u64,
        len: usize,
        access: Access,
        populate: bool,
    ) -> io::Result<Mapping> {
        // Every mapping constructor comes through here: a later truncation
        // of the object is then `Error::Fault`, not a signal.
        crate::fault::install_handler()?;
        let raw = fd.as_raw_fd();
        // A page size is a power of two far below `u64::MAX`.
        let head = (offset % rustix::param::page_size() as u64) as usize;
        let map_len = len
            .checked_add(head)
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| invalid_input(format!("cannot map {len} bytes of fd {raw}")))?;
        let prot = match access {
            Access::ReadWrite => ProtFlags::READ | ProtFlags::WRITE,
            Access::ReadOnly => ProtFlags::READ,
        };
        let flags = MapFlags::SHARED | populate_flag(populate);
        // `map_len` is non-zero (`len` is) and at most `isize::MAX`, and
        // `offset - head` is a multiple of the page size.
        // SAFETY: the address hint is null, so the kernel picks an unused
        // range and no existing mapping (or Rust allocation) is replaced.
        let addr = unsafe {
            rustix::mm::mmap(
                core::ptr::null_mut(),
                map_len,
                prot,
                flags,
                fd,
                offset - head as u64,
            )
        }
        .map_err(|e| match e {
            Errno::NOMEM | Errno::INVAL | Errno::OVERFLOW => {
                invalid_input(format!("cannot map {len} bytes of fd {raw}: {e}"))
            }
            Errno::NODEV => invalid_input(format!("fd {raw} does not support mmap: {e}")),
            e => e.into(),
        })?;
        let base = NonNull::new(addr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))?;
        // SAFETY: `head < map_len`, so `base + head` is inside the mapping.
        let ptr = unsafe { base.add(head) };
        Ok(Mapping { ptr, len, head })
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn populate_flag(populate: bool) -> MapFlags {
    if populate {
        MapFlags::POPULATE
    } else {
        MapFlags::empty()
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn populate_flag(_populate: bool) -> MapFlags {
    MapFlags::empty()
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr - head .. ptr + len` is exactly the mapping `new`
        // made (page-aligned start), which only this `drop` unmaps; the
        // owners (`SharedMemory`, `ReadOnlySharedMemory`) hand out views
        // only borrowed from themselves, so none outlives this.
        let result = unsafe {
            rustix::mm::munmap(
                self.ptr.as_ptr().wrapping_sub(self.head).cast(),
                self.head + self.len,
            )
        };
        debug_assert!(result.is_ok(), "munmap failed: {result:?}");
    }
}

/// The size of the object behind `fd`, if it is a kind that can be mapped.
fn mappable_size(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let stat = rustix::fs::fstat(fd)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    match kind {
        FileType::Fifo
        | FileType::Socket
        | FileType::Directory
        | FileType::CharacterDevice
        | FileType::BlockDevice
        | FileType::Symlink => Err(invalid_input(format!(
            "cannot map fd {}: it is a {kind:?}, not a file or shared memory object",
            fd.as_raw_fd()
        ))),
        _ => u64::try_from(stat.st_size).map_err(|_| {
            invalid_input(format!(
                "cannot map fd {}: negative size {}",
                fd.as_raw_fd(),
                stat.st_size
            ))
        }),
    }
}

/// Opens `path` for reading, and for writing if `write`; a directory is
/// `InvalidInput` (not `IsADirectory`), as for every other object that
/// cannot be mapped.
fn open_file(path: &Path, write: bool) -> io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(Errno::ISDIR.raw_os_error()) {
                invalid_input(format!(
                    "cannot map {}: it is a directory, not a file",
                    path.display()
                ))
            } else {
                e
            }
        })?;
    if write {
        return Ok(file);
    }
    // Opening a directory read-only succeeds; refuse it here with the same
    // message rather than as "does not support mmap" later.
    if file.metadata()?.is_dir() {
        return Err(invalid_input(format!(
            "cannot map {}: it is a directory, not a file",
            path.display()
        )));
    }
    Ok(file)
}
