//! [`ReadOnlyBytes`]: the read half of [`AtomicBytes`], for memory this
//! process must not (or cannot) write.

use core::fmt;
use core::ops::RangeBounds;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::{AtomicBytes, Error};

/// Bytes that others may write at any time but that this process only
/// reads: [`AtomicBytes`] without its writing methods.
///
/// A read-only mapping ([`ReadOnlySharedMemory`]) dereferences to this type,
/// so a write through it does not compile instead of raising `SIGSEGV`. It
/// is also a way to hand a reader a view it cannot write with, from any
/// `&AtomicBytes` ([`ReadOnlyBytes::new`]).
///
/// Every method reads with the same byte-wise atomic copies as
/// `AtomicBytes` and returns a private copy; the semantics, errors and
/// panics are those of the `AtomicBytes` method of the same name.
///
/// # Read-only memory
///
/// The bytes may be mapped without write permission (`PROT_READ`). The
/// copies behind every method are, per shared byte, a relaxed load of at
/// most one byte, followed by at most a fence for `Acquire` and `SeqCst`;
/// Rust defines relaxed atomic loads of up to 4 bytes (8 on 64-bit targets)
/// on read-only memory (see "Atomic accesses to read-only memory" in
/// [`core::sync::atomic`]), and the assembly kernels read with plain load
/// instructions. No method of this type stores, compares-and-exchanges or
/// otherwise writes, and none hands out `&AtomicBytes` or `&[AtomicU8]`,
/// through which safe code could.
///
/// # Faults
///
/// Memory that disappears under a read (a truncated file behind a read-only
/// mapping, an unmapped or poisoned page) makes the `Result`-returning
/// methods return [`Error::Fault`] with the offset from the start of the
/// view, and the infallible ones panic, once the fault handler is installed
/// (every [`ReadOnlySharedMemory`] constructor does it; see
/// [`crate::fault`]).
///
/// [`ReadOnlySharedMemory`]: crate::ReadOnlySharedMemory
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering, ReadOnlyBytes};
///
/// let mut buf = *b"header:payload";
/// let ro = ReadOnlyBytes::new(AtomicBytes::from_mut(&mut buf));
/// assert_eq!(ro.read_obj::<[u8; 6]>(0)?, *b"header");
/// let mut out = [0u8; 7];
/// ro.read_at(7, &mut out)?;
/// assert_eq!(&out, b"payload");
/// assert_eq!(ro.get(7..).unwrap().to_vec(Ordering::Acquire), b"payload");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// There is no way to write:
///
/// ```compile_fail,E0599
/// # let mut buf = [0u8; 4];
/// let ro = bytewise::ReadOnlyBytes::new(bytewise::AtomicBytes::from_mut(&mut buf));
/// ro.write_at(0, b"no")?;
/// # Ok::<(), bytewise::Error>(())
/// ```
#[repr(transparent)]
pub struct ReadOnlyBytes(AtomicBytes);

/// Forwards read methods to the wrapped `AtomicBytes`, keeping their
/// signatures.
macro_rules! forward_reads {
    ($(
        $(#[$attr:meta])*
        fn $name:ident $(<$T:ident: $bound:path>)? (&self $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)?;
    )*) => {$(
        $(#[$attr])*
        #[inline]
        pub fn $name $(<$T: $bound>)? (&self $(, $arg: $ty)*) $(-> $ret)? {
            self.0.$name $(::<$T>)? ($($arg),*)
        }
    )*};
}

impl ReadOnlyBytes {
    /// Views `bytes` without its writing methods.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [7u8; 3];
    /// let ro = bytewise::ReadOnlyBytes::new(bytewise::AtomicBytes::from_mut(&mut buf));
    /// assert_eq!(ro.len(), 3);
    /// ```
    #[inline]
    pub const fn new(bytes: &AtomicBytes) -> &ReadOnlyBytes {
        // SAFETY: `ReadOnlyBytes` is `repr(transparent)` over `AtomicBytes`,
        // so the pointer cast keeps the metadata (length) and the layout; the
        // lifetime is carried over unchanged.
        unsafe { &*(bytes as *const AtomicBytes as *const ReadOnlyBytes) }
    }

    /// Views `len` bytes at `ptr`, which may be mapped read-only, for the
    /// lifetime `'a`.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    ///
    /// - `ptr` is non-null and valid for reads of `len` bytes for all of
    ///   `'a` (it may be dangling when `len` is 0); the pages need not be
    ///   writable (`PROT_READ` is fine);
    /// - `ptr` is not derived from a reference to bytes without interior
    ///   mutability (`&[u8]`, `&T`, an immutable `static`): Rust treats
    ///   those as frozen, and viewing them as atomics is undefined behaviour
    ///   even if nothing writes. A mapping, an `UnsafeCell`, `AtomicBytes`
    ///   or an allocation's raw pointer is fine;
    /// - `len` is at most `isize::MAX`;
    /// - during `'a`, every access to the bytes from this process is atomic:
    ///   one of this crate's operations or an atomic access of size 1.
    ///   Other processes, the kernel and devices may write them in any way.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = vec![1u8, 2, 3];
    /// // SAFETY: `Vec::as_ptr` makes no reference to the bytes; they are
    /// // valid for 3 bytes of reads while the view is used, and only the
    /// // view reads them meanwhile.
    /// let ro = unsafe { bytewise::ReadOnlyBytes::from_raw_parts(buf.as_ptr(), 3) };
    /// assert_eq!(ro.read_obj::<u8>(2)?, 3);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub unsafe fn from_raw_parts<'a>(ptr: *const u8, len: usize) -> &'a ReadOnlyBytes {
        // `AtomicU8` has the layout of `u8`, so any `ptr` is aligned. A shared
        // reference to atomics in memory that cannot be written is fine as long
        // as nothing writes through it: this one is kept inside `ReadOnlyBytes`,
        // whose methods only load (relaxed, one byte at a time: type docs).
        // SAFETY: non-null, readable for `len <= isize::MAX` bytes during `'a`,
        // not frozen by a reference, and accessed only atomically (caller).
        let atoms: &'a [AtomicU8] = unsafe { core::slice::from_raw_parts(ptr.cast(), len) };
        Self::new(AtomicBytes::new(atoms))
    }

    /// The first byte's address, for reading only.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 2];
    /// let p = buf.as_ptr();
    /// let ro = bytewise::ReadOnlyBytes::new(bytewise::AtomicBytes::from_mut(&mut buf));
    /// assert_eq!(ro.as_ptr(), p);
    /// ```
    #[inline]
    pub const fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr().cast_const()
    }

    /// A sub-view, or `None` if `range` is out of bounds or decreasing (see
    /// [`AtomicBytes::get`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = *b"abcdef";
    /// let ro = bytewise::ReadOnlyBytes::new(bytewise::AtomicBytes::from_mut(&mut buf));
    /// assert_eq!(ro.get(2..4).map(|v| v.to_vec(bytewise::Ordering::Relaxed)), Some(b"cd".to_vec()));
    /// assert!(ro.get(4..7).is_none());
    /// ```
    #[inline]
    pub fn get(&self, range: impl RangeBounds<usize>) -> Option<&ReadOnlyBytes> {
        self.0.get(range).map(Self::new)
    }

    forward_reads! {
        /// The number of bytes (see [`AtomicBytes::len`]).
        fn len(&self) -> usize;
        /// Whether the view has no bytes (see [`AtomicBytes::is_empty`]).
        fn is_empty(&self) -> bool;
        /// Copies the whole view into `dst` (see [`AtomicBytes::load`]).
        ///
        /// # Panics
        ///
        /// Panics if `dst.len() != self.len()`, or if `order` is `Release`
        /// or `AcqRel`; nothing is copied then.
        #[track_caller]
        fn load(&self, dst: &mut [u8], order: Ordering);
        /// A private copy of the whole view (see [`AtomicBytes::to_vec`]).
        ///
        /// # Panics
        ///
        /// Panics if `order` is `Release` or `AcqRel`.
        #[cfg(feature = "alloc")]
        #[track_caller]
        fn to_vec(&self, order: Ordering) -> alloc::vec::Vec<u8>;
        /// Copies `dst.len()` bytes from `offset` into `dst`, Relaxed (see
        /// [`AtomicBytes::read_at`]).
        ///
        /// # Errors
        ///
        /// [`Error::OutOfBounds`] if the range is not inside the view;
        /// `dst` is untouched then. [`Error::Fault`] if the memory faulted
        /// (a truncated file, see [`crate::fault`]); `dst` is unspecified
        /// then.
        fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error>;
        /// Reads a `T` from `offset` as one private copy (see
        /// [`AtomicBytes::read_obj`]).
        ///
        /// # Errors
        ///
        /// [`Error::OutOfBounds`] if the `T` is not inside the view;
        /// [`Error::Fault`] if the memory faulted.
        fn read_obj<T: bytemuck::AnyBitPattern>(&self, offset: usize) -> Result<T, Error>;
        /// Reads a `T` from `offset` as one private copy (see
        /// [`AtomicBytes::read_obj_zerocopy`]).
        ///
        /// # Errors
        ///
        /// [`Error::OutOfBounds`] if the `T` is not inside the view;
        /// [`Error::Fault`] if the memory faulted.
        #[cfg(feature = "zerocopy")]
        fn read_obj_zerocopy<T: zerocopy::FromBytes>(&self, offset: usize) -> Result<T, Error>;
    }
}

impl fmt::Debug for ReadOnlyBytes {
    /// As for [`AtomicBytes`]: the length and up to the first 32 bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadOnlyBytes").field(&&self.0).finish()
    }
}

impl<'a> From<&'a AtomicBytes> for &'a ReadOnlyBytes {
    fn from(bytes: &'a AtomicBytes) -> Self {
        ReadOnlyBytes::new(bytes)
    }
}

/// The same view from an exclusive borrow (what
/// [`AtomicBytes::from_mut`] returns); the borrow is shared from then on.
impl<'a> From<&'a mut AtomicBytes> for &'a ReadOnlyBytes {
    fn from(bytes: &'a mut AtomicBytes) -> Self {
        ReadOnlyBytes::new(bytes)
    }
}

impl AsRef<ReadOnlyBytes> for AtomicBytes {
    fn as_ref(&self) -> &ReadOnlyBytes {
        ReadOnlyBytes::new(self)
    }
}
