//! [`ReadOnlySharedMemory`]: a `PROT_READ`, `MAP_SHARED` mapping that
//! others may write while we read it.

use core::fmt;
use core::ops::Deref;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::mapping::Mapping;
use super::{MapOptions, size_sealed};
use crate::ReadOnlyBytes;

/// A read-only, shared mapping of a file or memory object, viewed as
/// [`ReadOnlyBytes`]: what a reader that must not (or may not) write
/// needs.
///
/// The mapping is `PROT_READ`, so the fd needs only read permission, and
/// the type has no writing method: a write through it does not compile,
/// rather than crashing with `SIGSEGV` at run time. Other processes may
/// write the object at any time; every read is a byte-wise atomic copy, as
/// for [`SharedMemory`](crate::SharedMemory), and what it says about
/// [truncation and `SIGBUS`](crate::SharedMemory#truncation-and-sigbus)
/// applies here too: every constructor installs the fault handler, so
/// where [`fault::is_supported`](crate::fault::is_supported) a read of a
/// truncated read-only mapping returns
/// [`Error::Fault`](crate::Error::Fault) (`read_at`, `read_obj`, the
/// reader) or panics (`load`, `to_vec`) instead of killing the process.
///
/// Make one with [`open`](ReadOnlySharedMemory::open),
/// [`from_fd`](ReadOnlySharedMemory::from_fd), or for a window of the
/// object, [`MapOptions::open_read_only`] and [`MapOptions::map_read_only`].
///
/// # Examples
///
/// ```
/// use bytewise::ReadOnlySharedMemory;
///
/// let path = std::env::temp_dir().join(format!("bytewise-doc-ro-{}", std::process::id()));
/// std::fs::write(&path, 7u32.to_ne_bytes())?;
/// let ro = ReadOnlySharedMemory::open(&path)?;
/// assert_eq!(ro.read_obj::<u32>(0)?, 7);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Writing is not possible, and neither is getting `&AtomicBytes` back:
///
/// ```compile_fail,E0599
/// # let ro = bytewise::ReadOnlySharedMemory::open("/proc/self/exe")?;
/// ro.write_at(0, b"no")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```compile_fail,E0308
/// # let ro = bytewise::ReadOnlySharedMemory::open("/proc/self/exe")?;
/// let bytes: &bytewise::AtomicBytes = &ro;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ReadOnlySharedMemory {
    /// Unmapped when dropped, before `fd` is closed (field order).
    pub(super) map: Mapping,
    pub(super) fd: OwnedFd,
}

// SAFETY: the mapping and the fd are owned by the value and not tied to the
// thread that created them; `munmap` and `close` may run on any thread.
unsafe impl Send for ReadOnlySharedMemory {}

// SAFETY: through `&ReadOnlySharedMemory` the memory is only reachable as
// `ReadOnlyBytes`, whose operations are byte-wise atomic loads that may run
// from any number of threads at once; the fd is only borrowed.
unsafe impl Sync for ReadOnlySharedMemory {}

impl ReadOnlySharedMemory {
    /// Opens the file at `path` for reading only and maps all of it,
    /// read-only and shared. Same as
    /// `MapOptions::new().open_read_only(path)`.
    ///
    /// # Errors
    ///
    /// The errors of opening the file, such as
    /// [`NotFound`](io::ErrorKind::NotFound);
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for an empty file or
    /// one that cannot be mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = bytewise::ReadOnlySharedMemory::open("/no/such/file").unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn open(path: impl AsRef<Path>) -> io::Result<ReadOnlySharedMemory> {
        MapOptions::new().open_read_only(path)
    }

    /// Maps the whole object behind `fd` (opened for reading at least),
    /// read-only and shared. Same as `MapOptions::new().map_read_only(fd)`.
    ///
    /// # Errors
    ///
    /// As for [`SharedMemory::from_fd`](crate::SharedMemory::from_fd),
    /// except that a read-only fd is fine.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsFd;
    ///
    /// let shm = bytewise::SharedMemory::create(64)?;
    /// let ro = bytewise::ReadOnlySharedMemory::from_fd(shm.as_fd().try_clone_to_owned()?)?;
    /// shm.write_at(0, b"seen")?;
    /// assert_eq!(ro.read_obj::<[u8; 4]>(0)?, *b"seen");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_fd(fd: impl Into<OwnedFd>) -> io::Result<ReadOnlySharedMemory> {
        MapOptions::new().map_read_only(fd)
    }

    /// The length of the mapping in bytes (never zero).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::os::fd::AsFd;
    /// let shm = bytewise::SharedMemory::create(10)?;
    /// let ro = bytewise::ReadOnlySharedMemory::from_fd(shm.as_fd().try_clone_to_owned()?)?;
    /// assert_eq!(ro.len(), 10);
    /// assert!(!ro.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.map.len
    }

    /// Always `false`: an empty mapping cannot be created.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.map.len == 0
    }

    /// The mapping as a safe, read-only byte-wise atomic view.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::os::fd::AsFd;
    /// let shm = bytewise::SharedMemory::create(8)?;
    /// let ro = bytewise::ReadOnlySharedMemory::from_fd(shm.as_fd().try_clone_to_owned()?)?;
    /// assert_eq!(ro.as_bytes().read_obj::<u64>(0)?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> &ReadOnlyBytes {
        // Other processes may write the bytes in any way. A truncation makes
        // the pages past the new end fault; the kernels' faults are recovered
        // and reported (type docs), and nothing here touches the bytes
        // otherwise. This process reaches them only through atomic loads.
        // SAFETY: `ptr` comes from `mmap`, not from a reference, and is
        // `len <= isize::MAX` (`check_len`) readable bytes until `drop`
        // unmaps it, which cannot happen while `self` is borrowed.
        unsafe { ReadOnlyBytes::from_raw_parts(self.map.ptr.as_ptr(), self.map.len) }
    }

    /// Whether the memory object's size is sealed against shrinking, as for
    /// [`SharedMemory::is_size_sealed`](crate::SharedMemory::is_size_sealed).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::os::fd::AsFd;
    /// let shm = bytewise::SharedMemory::create(8)?;
    /// let ro = bytewise::ReadOnlySharedMemory::from_fd(shm.as_fd().try_clone_to_owned()?)?;
    /// assert_eq!(ro.is_size_sealed(), shm.is_size_sealed());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "F_GET_SEALS")]
    pub fn is_size_sealed(&self) -> bool {
        size_sealed(self.fd.as_fd())
    }
}

impl Deref for ReadOnlySharedMemory {
    type Target = ReadOnlyBytes;

    #[inline]
    fn deref(&self) -> &ReadOnlyBytes {
        self.as_bytes()
    }
}

impl AsRef<ReadOnlyBytes> for ReadOnlySharedMemory {
    #[inline]
    fn as_ref(&self) -> &ReadOnlyBytes {
        self.as_bytes()
    }
}

impl AsFd for ReadOnlySharedMemory {
    #[inline]
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl fmt::Debug for ReadOnlySharedMemory {
    /// Shows the fd, address and length; the contents may be changing, so
    /// they are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOnlySharedMemory")
            .field("fd", &self.fd.as_raw_fd())
            .field("ptr", &self.map.ptr)
            .field("len", &self.map.len)
            .finish()
    }
}
