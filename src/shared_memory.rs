//! [`SharedMemory`]: a `MAP_SHARED` mapping that other processes may write
//! while we read it, with a safe byte-wise atomic interface.

use core::fmt;
use core::ops::{Deref, DerefMut};

use alloc::format;
use alloc::string::String;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::io::Errno;

use crate::AtomicBytes;

mod mapping;
mod passing;
mod read_only;

pub use self::mapping::MapOptions;
pub use self::read_only::ReadOnlySharedMemory;

/// Memory shared with other processes: a file or anonymous memory object
/// mapped read-write with `MAP_SHARED`, viewed as [`AtomicBytes`].
///
/// Every access goes through byte-wise atomic copies, so other processes may
/// write the memory at any time, in any way, and reading it is still defined
/// behaviour. That is the gap `memmap2` leaves `unsafe`: there a concurrent
/// change is undefined behaviour through the `&[u8]` it hands out. Here a
/// reader takes a private copy with [`read_at`](AtomicBytes::read_at) or
/// [`read_obj`](AtomicBytes::read_obj), validates the copy, and uses that
/// copy; no later change by the peer can reach it.
///
/// - [`create`](SharedMemory::create): anonymous, zero-filled memory (a
///   `memfd` on Linux, Android and FreeBSD; an unlinked POSIX shared memory
///   object elsewhere), to hand to another process through
///   [`as_fd`](AsFd::as_fd).
/// - [`from_fd`](SharedMemory::from_fd): maps the whole object behind an fd
///   received from another process.
/// - [`open`](SharedMemory::open): maps a file read-write and shared.
/// - [`options`](SharedMemory::options): a window of a file or object,
///   prefaulted or not, read-write or read-only ([`ReadOnlySharedMemory`]).
/// - [`recv_from`](SharedMemory::recv_from) /
///   [`recv_sealed_from`](SharedMemory::recv_sealed_from) and
///   [`from_stdin`](SharedMemory::from_stdin): memory another process sent
///   with [`send_to`](SharedMemory::send_to) or
///   [`to_stdio`](SharedMemory::to_stdio).
///
/// `SharedMemory` dereferences to [`AtomicBytes`], so every method of the
/// view (`read_at`, `write_at`, `read_obj`, `write_obj`, `load`, `store`,
/// `reader`, `writer`, ...) works directly on it. The mapping is removed
/// (`munmap`) and the fd closed on drop.
///
/// # Truncation and `SIGBUS`
///
/// If the file behind a mapping is truncated (by any process) while it is
/// mapped, accessing the pages past the new end raises `SIGBUS`; a disk or
/// NFS error, a poisoned page or a peer's `mprotect` raise `SIGBUS` or
/// `SIGSEGV` the same way. Every constructor installs this crate's fault
/// handler ([`fault::install_handler`](crate::fault::install_handler)), so
/// where [`fault::is_supported`](crate::fault::is_supported) (Linux x86_64
/// and aarch64) such a fault no longer kills the process:
///
/// - the `Result`-returning methods (`read_at`, `write_at`, `read_obj`,
///   `write_obj`, the [`io`](crate::io) cursors) return
///   [`Error::Fault`](crate::Error::Fault) with the offset of a byte that
///   could not be accessed, and work again once the file has grown back;
/// - the infallible ones (`load`, `store`, `fill`, `to_vec`, ...) panic with
///   a message naming the address;
/// - plain loads of your own through pointers into the mapping, and the
///   sequence counter of a [`SeqLock`](crate::SeqLock) placed in it, are not
///   covered and still die by the signal.
///
/// Elsewhere a truncation kills the process as with any mapping. Memory from
/// [`create`](SharedMemory::create) on Linux, Android and FreeBSD is
/// protected either way: it is sealed with
/// `F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`, so a peer that receives the
/// fd cannot change its size. A receiver can check that with
/// [`is_size_sealed`](SharedMemory::is_size_sealed) and refuse memory that is
/// not sealed.
///
/// # Examples
///
/// Typed, validated access to memory another process writes, with no
/// `unsafe`:
///
/// ```
/// use bytewise::SharedMemory;
///
/// #[derive(Clone, Copy, bytemuck::Zeroable, bytemuck::Pod)]
/// #[repr(C)]
/// struct Header { len: u32, seq: u32 }
///
/// let shm = SharedMemory::create(4096)?;
/// // ... pass `shm.as_fd()` to a peer, which writes a header and payload ...
/// shm.write_obj(0, &Header { len: 5, seq: 1 })?;
/// shm.write_at(8, b"hello")?;
///
/// let header: Header = shm.read_obj(0)?;          // one private copy
/// if header.len <= 64 {                           // validate the copy
///     let mut payload = [0u8; 64];
///     let payload = &mut payload[..header.len as usize]; // use the same copy
///     shm.read_at(8, payload)?;
///     assert_eq!(payload, b"hello");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SharedMemory {
    /// Unmapped when dropped, before `fd` is closed (field order).
    map: mapping::Mapping,
    fd: OwnedFd,
}

// SAFETY: the mapping and the fd are owned by the value and not tied to the
// thread that created them; `munmap` and `close` may run on any thread.
unsafe impl Send for SharedMemory {}

// SAFETY: through `&SharedMemory` the memory is only reachable as
// `AtomicBytes`, whose operations are byte-wise atomic and may run from any
// number of threads at once; the fd is only borrowed.
unsafe impl Sync for SharedMemory {}

fn invalid_input(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// Checks a length that is about to be mapped.
fn check_len(len: usize) -> io::Result<()> {
    if len == 0 {
        return Err(invalid_input("cannot map shared memory of length zero"));
    }
    if len > isize::MAX as usize {
        return Err(invalid_input(format!(
            "cannot map {len} bytes: more than isize::MAX"
        )));
    }
    Ok(())
}

impl SharedMemory {
    /// Creates `len` bytes of anonymous, zero-filled shared memory.
    ///
    /// `memfd_create(2)`, `ftruncate(2)` and `mmap(2)` with `MAP_SHARED` on
    /// Linux, Android and FreeBSD, where the memory is also sealed against
    /// resizing (see [Truncation and `SIGBUS`](SharedMemory#truncation-and-sigbus)).
    /// Elsewhere an unlinked POSIX shared memory object (`shm_open(3)`). The
    /// fd is close-on-exec; to share the memory with a child process, hand
    /// it over as the child's stdin with [`to_stdio`](SharedMemory::to_stdio),
    /// or send it over a Unix socket with [`send_to`](SharedMemory::send_to).
    /// Neither needs `unsafe` on either side.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput) if `len` is zero,
    ///   larger than `isize::MAX`, too large for a file, or too large to map
    ///   (`mmap` fails with `ENOMEM`);
    /// - any other error from the system calls, as is.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(100)?;
    /// assert_eq!(shm.len(), 100);
    /// assert_eq!(shm.to_vec(bytewise::Ordering::Relaxed), [0; 100]);
    /// let zero = bytewise::SharedMemory::create(0).unwrap_err();
    /// assert_eq!(zero.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "memfd_create")]
    #[doc(alias = "shm_open")]
    pub fn create(len: usize) -> io::Result<SharedMemory> {
        check_len(len)?;
        let (fd, sealable) = anonymous_fd()?;
        rustix::fs::ftruncate(&fd, len as u64).map_err(|e| match e {
            Errno::FBIG | Errno::INVAL => {
                invalid_input(format!("cannot create shared memory of {len} bytes: {e}"))
            }
            e => e.into(),
        })?;
        if sealable {
            seal_size(&fd)?;
        }
        Self::map(fd, len)
    }

    /// Maps the whole object behind `fd`: a `memfd`, a POSIX shared memory
    /// object or a regular file, opened read-write. Its size is taken from
    /// `fstat(2)`. Same as `MapOptions::new().map(fd)`; see [`MapOptions`]
    /// for a window of the object or a read-only mapping.
    ///
    /// This is how memory received from another process becomes safe to
    /// read while that process keeps writing it. See
    /// [Truncation and `SIGBUS`](SharedMemory#truncation-and-sigbus) for what
    /// the sender can still do; [`is_size_sealed`](SharedMemory::is_size_sealed)
    /// tells whether it is prevented.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput) if `fd` is not
    ///   mappable: a pipe, socket, directory or device, an object of size
    ///   zero, or one too large to map;
    /// - the error of `mmap(2)` otherwise, for example
    ///   [`PermissionDenied`](io::ErrorKind::PermissionDenied) for an fd
    ///   opened read-only.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsFd;
    ///
    /// let a = bytewise::SharedMemory::create(64)?;
    /// let b = bytewise::SharedMemory::from_fd(a.as_fd().try_clone_to_owned()?)?;
    /// a.write_at(0, b"same memory")?;
    /// assert_eq!(b.read_obj::<[u8; 11]>(0)?, *b"same memory");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "mmap")]
    pub fn from_fd(fd: OwnedFd) -> io::Result<SharedMemory> {
        MapOptions::new().map(fd)
    }

    /// Opens the file at `path` read-write and maps all of it, shared.
    ///
    /// Writes through the mapping reach the file, and writes to the file by
    /// anyone (`write(2)`, another mapping) show up in the mapping; both are
    /// defined behaviour. The file must not be truncated while it is mapped
    /// (see [Truncation and `SIGBUS`](SharedMemory#truncation-and-sigbus)).
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput) for a directory
    ///   (which `open(2)` refuses to open for writing with `EISDIR`), an
    ///   empty file, or one that cannot be mapped, as for
    ///   [`from_fd`](SharedMemory::from_fd);
    /// - [`NotFound`](io::ErrorKind::NotFound),
    ///   [`PermissionDenied`](io::ErrorKind::PermissionDenied) and the other
    ///   errors of opening the file, as is.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-open-{}", std::process::id()));
    /// std::fs::write(&path, b"file contents")?;
    /// let shm = bytewise::SharedMemory::open(&path)?;
    /// shm.write_at(0, b"F")?;
    /// assert_eq!(std::fs::read(&path)?, b"File contents");
    /// # std::fs::remove_file(&path)?;
    /// let missing = bytewise::SharedMemory::open("/no/such/file").unwrap_err();
    /// assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    /// let dir = bytewise::SharedMemory::open(std::env::temp_dir()).unwrap_err();
    /// assert_eq!(dir.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> io::Result<SharedMemory> {
        MapOptions::new().open(path)
    }

    /// Maps `len` bytes of `fd`, read-write and shared. `len` passed
    /// `check_len`.
    fn map(fd: OwnedFd, len: usize) -> io::Result<SharedMemory> {
        let m = mapping::Mapping::new(fd.as_fd(), 0, len, mapping::Access::ReadWrite, false)?;
        Ok(SharedMemory { map: m, fd })
    }

    /// The length of the mapping in bytes (never zero).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bytewise::SharedMemory::create(10)?.len(), 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.map.len
    }

    /// Always `false`: an empty mapping cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!bytewise::SharedMemory::create(1)?.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.map.len == 0
    }

    /// The mapping as a safe byte-wise atomic view.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(8)?;
    /// shm.as_bytes().write_at(0, &[1, 2])?;
    /// assert_eq!(shm.as_bytes().read_obj::<u16>(0)?, u16::from_ne_bytes([1, 2]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> &AtomicBytes {
        // Other processes and the kernel may write the mapping in any way,
        // which an atomic view allows. If the file is truncated, accesses past
        // its end fault; the constructors installed the fault handler, so the
        // crate's kernels turn that into `Error::Fault` or a panic (type docs).
        // SAFETY: the mapping is `len <= isize::MAX` (`check_len`) valid bytes
        // until `drop` unmaps it, which cannot happen while `self` is
        // borrowed, and this process reaches it only through `AtomicBytes`.
        unsafe { AtomicBytes::from_raw_parts(self.map.ptr.as_ptr(), self.map.len) }
    }

    /// The mapping as an exclusively borrowed view, to carve typed views
    /// from it: [`AtomicBytes::split_at_mut`], [`AtomicBytes::as_atomic_u64`],
    /// `SeqLock::from_bytes`. `SharedMemory` also implements `DerefMut`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{Ordering, SharedMemory};
    ///
    /// let mut shm = SharedMemory::create(4096)?;
    /// let (doorbell, data) = shm.as_bytes_mut().split_at_mut(64)?;
    /// let doorbell = doorbell.as_atomic_u32()?;
    /// data.write_at(0, b"ping")?;
    /// doorbell.store(1, Ordering::Release);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_bytes_mut(&mut self) -> &mut AtomicBytes {
        let ptr = core::ptr::slice_from_raw_parts_mut(self.map.ptr.as_ptr(), self.map.len);
        // Other processes and the kernel may write the mapping in any way,
        // which an atomic view allows (type docs). `AtomicBytes` is
        // `repr(transparent)` over `[AtomicU8]`, which has the layout of `[u8]`.
        // SAFETY: the mapping is `len <= isize::MAX` (`check_len`) valid bytes
        // until `drop` unmaps it, impossible while `self` is borrowed; `&mut
        // self` is exclusive, so no other view of this process exists meanwhile.
        unsafe { &mut *(ptr as *mut AtomicBytes) }
    }

    /// Whether the memory object's size is sealed, so that no process can
    /// shrink it (`F_SEAL_SHRINK`) and make accesses raise `SIGBUS`.
    ///
    /// Always `true` for memory from [`create`](SharedMemory::create) on
    /// Linux, Android and FreeBSD; `false` for ordinary files and on systems
    /// without file seals.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = bytewise::SharedMemory::create(16)?;
    /// # #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    /// assert!(shm.is_size_sealed());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "F_GET_SEALS")]
    pub fn is_size_sealed(&self) -> bool {
        size_sealed(self.fd.as_fd())
    }
}

/// Whether `fd` is sealed against shrinking (`F_SEAL_SHRINK`).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn size_sealed(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fcntl_get_seals(fd).is_ok_and(|s| s.contains(rustix::fs::SealFlags::SHRINK))
}

/// Whether `fd` is sealed against shrinking: never, without file seals.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn size_sealed(_fd: BorrowedFd<'_>) -> bool {
    false
}

/// A fresh anonymous memory object, and whether it supports seals.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn anonymous_fd() -> io::Result<(OwnedFd, bool)> {
    use rustix::fs::MemfdFlags;
    match rustix::fs::memfd_create(c"bytewise", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING) {
        Ok(fd) => Ok((fd, true)),
        // A kernel without memfd (Linux < 3.17): fall back to POSIX shm.
        Err(Errno::NOSYS) => Ok((shm_anonymous()?, false)),
        Err(e) => Err(e.into()),
    }
}

/// A fresh anonymous memory object, and whether it supports seals.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn anonymous_fd() -> io::Result<(OwnedFd, bool)> {
    Ok((shm_anonymous()?, false))
}

/// Seals the size of a fresh memfd, so that a peer holding the fd cannot
/// shrink it under our mapping, and no further seals can be added.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn seal_size(fd: &OwnedFd) -> io::Result<()> {
    use rustix::fs::SealFlags;
    rustix::fs::fcntl_add_seals(fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)?;
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn seal_size(_fd: &OwnedFd) -> io::Result<()> {
    Ok(())
}

/// A POSIX shared memory object that is unlinked at once, so that only its
/// fd refers to it. `shm_open` sets `FD_CLOEXEC`.
fn shm_anonymous() -> io::Result<OwnedFd> {
    use core::sync::atomic::{AtomicU32, Ordering};
    use rustix::shm;

    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // Short: some systems limit names to 31 bytes.
        let name = format!("/bw{:x}.{:x}", std::process::id(), n ^ nanos);
        let flags = shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR;
        match shm::open(name.as_str(), flags, shm::Mode::RUSR | shm::Mode::WUSR) {
            Ok(fd) => {
                shm::unlink(name.as_str())?;
                return Ok(fd);
            }
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free POSIX shared memory name",
    ))
}

impl Deref for SharedMemory {
    type Target = AtomicBytes;

    #[inline]
    fn deref(&self) -> &AtomicBytes {
        self.as_bytes()
    }
}

impl DerefMut for SharedMemory {
    #[inline]
    fn deref_mut(&mut self) -> &mut AtomicBytes {
        self.as_bytes_mut()
    }
}

impl AsRef<AtomicBytes> for SharedMemory {
    #[inline]
    fn as_ref(&self) -> &AtomicBytes {
        self.as_bytes()
    }
}

impl AsFd for SharedMemory {
    #[inline]
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl fmt::Debug for SharedMemory {
    /// Shows the fd, address and length; the contents may be changing, so
    /// they are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("fd", &self.fd.as_raw_fd())
            .field("ptr", &self.map.ptr)
            .field("len", &self.map.len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The POSIX shm fallback is the only path on systems without memfd;
    // exercise it here, where it is otherwise unused.
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot shm_open or mmap")]
    fn shm_fallback_maps_zeroed_shared_memory() {
        let fd = shm_anonymous().unwrap();
        rustix::fs::ftruncate(&fd, 8192).unwrap();
        let twin = fd.try_clone().unwrap();
        let a = SharedMemory::map(fd, 8192).unwrap();
        let b = SharedMemory::from_fd(twin).unwrap();
        assert_eq!(b.len(), 8192);
        assert_eq!(a.to_vec(crate::Ordering::Relaxed), std::vec![0; 8192]);
        a.write_at(4000, b"shared").unwrap();
        assert_eq!(b.read_obj::<[u8; 6]>(4000).unwrap(), *b"shared");
        assert!(!a.is_size_sealed());
    }
}
