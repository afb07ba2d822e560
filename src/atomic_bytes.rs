//! [`AtomicBytes`]: a safe view of bytes that others may write concurrently.

use core::fmt;
#[cfg(any(feature = "bytemuck", feature = "zerocopy"))]
use core::mem::MaybeUninit;
use core::ops::{Bound, RangeBounds};
use core::sync::atomic::{AtomicU8, Ordering};

use crate::Error;

/// A slice of bytes that other threads, processes, the kernel or devices may
/// read and write at the same time, accessed only by byte-wise atomic copies.
///
/// `AtomicBytes` is to `[AtomicU8]` what `str` is to `[u8]`: the same memory,
/// with whole-range operations that run at `memcpy` speed instead of one
/// atomic at a time. Every read returns a private copy; validate the copy and
/// use it, and no later change to the shared bytes can reach you.
///
/// Obtain one from [`AtomicBytes::new`] (atomics you own), [`from_mut`]
/// (exclusive bytes), [`from_raw_parts`] (a mapping or foreign buffer), or
/// from the crate's `Page` and `SharedMemory`.
///
/// [`from_mut`]: AtomicBytes::from_mut
/// [`from_raw_parts`]: AtomicBytes::from_raw_parts
///
/// # Examples
///
/// A validated read from shared memory, with no `unsafe`:
///
/// ```
/// use bytewise::AtomicBytes;
/// use core::sync::atomic::AtomicU8;
///
/// #[derive(Clone, Copy, bytemuck::Zeroable, bytemuck::Pod)]
/// #[repr(C)]
/// struct Header { idx: u32, len: u32 }
///
/// let shared: Vec<AtomicU8> = (0..64).map(|_| AtomicU8::new(0)).collect();
/// let shared = AtomicBytes::new(&shared);
/// shared.write_obj(0, &Header { idx: 3, len: 8 })?;
///
/// let h: Header = shared.read_obj(0)?;   // one private copy
/// if h.idx < 4 {                         // validate the copy ...
///     assert_eq!(h.len, 8);              // ... and use that same copy
/// }
/// # Ok::<(), bytewise::Error>(())
/// ```
#[repr(transparent)]
pub struct AtomicBytes([AtomicU8]);

impl AtomicBytes {
    /// Views a slice of atomics as `AtomicBytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::AtomicU8;
    /// let cells = [AtomicU8::new(1), AtomicU8::new(2)];
    /// assert_eq!(bytewise::AtomicBytes::new(&cells).len(), 2);
    /// ```
    #[inline]
    pub const fn new(bytes: &[AtomicU8]) -> &AtomicBytes {
        // SAFETY: `AtomicBytes` is `repr(transparent)` over `[AtomicU8]`, so
        // the pointer cast keeps the metadata (length) and the layout; the
        // lifetime is carried over unchanged.
        unsafe { &*(bytes as *const [AtomicU8] as *const AtomicBytes) }
    }

    /// Views exclusively borrowed bytes as `AtomicBytes`, for as long as the
    /// borrow lasts.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 4];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// view.fill(9, bytewise::Ordering::Relaxed);
    /// assert_eq!(buf, [9; 4]);
    /// ```
    #[inline]
    pub fn from_mut(bytes: &mut [u8]) -> &AtomicBytes {
        let len = bytes.len();
        // SAFETY: `AtomicU8` has the layout and validity of `u8`; a `&mut`
        // gives `len` valid, writable bytes, and the view borrows it for its
        // whole life, so no plain access can happen meanwhile.
        unsafe { Self::from_raw_parts(bytes.as_mut_ptr(), len) }
    }

    /// Views `len` bytes at `ptr` as `AtomicBytes`, for the lifetime `'a`.
    ///
    /// This is how a mapping, a DMA buffer or guest memory becomes a safe
    /// view.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    ///
    /// - `ptr` is non-null, and valid for reads and writes of `len` bytes for
    ///   all of `'a` (it may be dangling when `len` is 0);
    /// - `len` is at most `isize::MAX`;
    /// - during `'a`, every access to the bytes from this process is atomic:
    ///   one of this crate's operations or an atomic access of size 1.
    ///   Other processes, the kernel and devices may write them in any way.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = vec![0u8; 8];
    /// // SAFETY: `buf` is valid for 8 bytes and only used through the view
    /// // until the view's last use.
    /// let view = unsafe { bytewise::AtomicBytes::from_raw_parts(buf.as_mut_ptr(), 8) };
    /// view.write_at(0, b"ok")?;
    /// assert_eq!(&buf[..2], b"ok");
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub unsafe fn from_raw_parts<'a>(ptr: *mut u8, len: usize) -> &'a AtomicBytes {
        // SAFETY: validity, non-null, `len <= isize::MAX` and atomic-only
        // access during `'a` are the caller's preconditions; `AtomicU8` has
        // the layout of `u8`, so any `ptr` is aligned.
        let atoms: &'a [AtomicU8] = unsafe { core::slice::from_raw_parts(ptr.cast(), len) };
        Self::new(atoms)
    }

    /// The number of bytes.
    #[inline]
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the view has no bytes.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first byte's address, with write permission (for [`crate::load`]
    /// and friends, or to hand to a device).
    #[inline]
    pub const fn as_ptr(&self) -> *mut u8 {
        self.0.as_ptr().cast::<u8>().cast_mut()
    }

    /// The underlying atomics.
    #[inline]
    pub const fn as_atomics(&self) -> &[AtomicU8] {
        &self.0
    }

    /// A sub-view, or `None` if `range` is out of bounds or decreasing.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 8];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// assert_eq!(view.get(2..6).map(|v| v.len()), Some(4));
    /// assert!(view.get(6..9).is_none());
    /// ```
    #[inline]
    pub fn get(&self, range: impl RangeBounds<usize>) -> Option<&AtomicBytes> {
        let bounds: (Bound<usize>, Bound<usize>) =
            (range.start_bound().cloned(), range.end_bound().cloned());
        self.0.get(bounds).map(Self::new)
    }

    /// The sub-view `offset..offset + len`, or [`Error::OutOfBounds`] if it
    /// is not inside the view, including when the sum overflows. The bounds
    /// check behind every offset-taking method here and in `Page`.
    #[inline]
    pub(crate) fn range(&self, offset: usize, len: usize) -> Result<&AtomicBytes, Error> {
        Error::check_range(offset, len, self.len())?;
        Ok(Self::new(&self.0[offset..offset + len]))
    }

    /// Copies the whole view into `dst`, byte-wise atomic on the shared side.
    ///
    /// # Panics
    ///
    /// Panics if `dst.len() != self.len()` (as `copy_from_slice` does), or if
    /// `order` is `Release` or `AcqRel`; nothing is copied then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = *b"abcd";
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// let mut out = [0u8; 4];
    /// view.load(&mut out, bytewise::Ordering::Acquire);
    /// assert_eq!(&out, b"abcd");
    /// ```
    #[inline]
    #[track_caller]
    pub fn load(&self, dst: &mut [u8], order: Ordering) {
        assert_len(self.len(), dst.len());
        // SAFETY: `self` is valid and, being `[AtomicU8]`, only accessed
        // atomically; `dst` is an exclusive borrow, so private and disjoint
        // from `self`.
        unsafe { crate::load(self.as_ptr(), dst.as_mut_ptr(), dst.len(), order) }
    }

    /// Overwrites the whole view with `src`, byte-wise atomic on the shared
    /// side.
    ///
    /// # Panics
    ///
    /// Panics if `src.len() != self.len()`, or if `order` is `Acquire` or
    /// `AcqRel`; nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 2];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// view.store(&[1, 2], bytewise::Ordering::Release);
    /// assert_eq!(buf, [1, 2]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn store(&self, src: &[u8], order: Ordering) {
        assert_len(self.len(), src.len());
        // SAFETY: `src` is initialized and frozen while borrowed; `self` is
        // valid and only accessed atomically; a `&[u8]` cannot alias the
        // `UnsafeCell`s of `self`, so they do not overlap.
        unsafe { crate::store(src.as_ptr(), self.as_ptr(), src.len(), order) }
    }

    /// Copies all of `src` into this view, byte-wise atomic on both sides.
    ///
    /// # Panics
    ///
    /// Panics if the lengths differ or the two views overlap; nothing is
    /// copied then.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut a, mut b) = ([1u8; 4], [0u8; 4]);
    /// let (a, b) = (bytewise::AtomicBytes::from_mut(&mut a), bytewise::AtomicBytes::from_mut(&mut b));
    /// b.copy_from(a, bytewise::Ordering::AcqRel);
    /// assert_eq!(b.to_vec(bytewise::Ordering::Relaxed), [1; 4]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn copy_from(&self, src: &AtomicBytes, order: Ordering) {
        assert_len(self.len(), src.len());
        let (s, d) = (src.as_ptr().addr(), self.as_ptr().addr());
        let disjoint = self.is_empty() || s + src.len() <= d || d + self.len() <= s;
        assert!(
            disjoint,
            "AtomicBytes::copy_from: source and destination overlap"
        );
        // SAFETY: both views are valid for `len` bytes, accessed only
        // atomically in this process, and do not overlap (checked above).
        unsafe { crate::copy(src.as_ptr(), self.as_ptr(), self.len(), order) }
    }

    /// Sets every byte of the view to `byte`.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Acquire` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [1u8; 3];
    /// bytewise::AtomicBytes::from_mut(&mut buf).fill(0, bytewise::Ordering::Relaxed);
    /// assert_eq!(buf, [0; 3]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn fill(&self, byte: u8, order: Ordering) {
        // SAFETY: `self` is valid for writes of `len` bytes and only accessed
        // atomically in this process.
        unsafe { crate::fill(self.as_ptr(), byte, self.len(), order) }
    }

    /// A private copy of the whole view.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = *b"hi";
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// assert_eq!(view.to_vec(bytewise::Ordering::Acquire), b"hi");
    /// ```
    #[cfg(feature = "alloc")]
    #[track_caller]
    pub fn to_vec(&self, order: Ordering) -> alloc::vec::Vec<u8> {
        crate::raw::check_load_ordering(order);
        let mut v = alloc::vec::Vec::with_capacity(self.len());
        // SAFETY:
        // - `v` has capacity for `len` bytes, is private and cannot overlap
        //   `self` (it was just allocated);
        // - `self` is valid and only accessed atomically in this process.
        unsafe { crate::load(self.as_ptr(), v.as_mut_ptr(), self.len(), order) };
        // SAFETY: `load` initialized all `len` bytes, within capacity.
        unsafe { v.set_len(self.len()) };
        v
    }

    /// Copies `dst.len()` bytes starting at `offset` into `dst` (Relaxed).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + dst.len()` is not inside
    /// the view, including when the sum overflows; `dst` is untouched then.
    /// [`Error::Fault`] if the memory faulted (a truncated file: see
    /// [`crate::fault`]); `dst` is unspecified then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = *b"hello";
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// let mut out = [0u8; 3];
    /// view.read_at(2, &mut out)?;
    /// assert_eq!(&out, b"llo");
    /// assert!(view.read_at(3, &mut out).is_err());
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        let src = self.range(offset, dst.len())?;
        // SAFETY: `src` is a valid view of `dst.len()` bytes, only accessed
        // atomically in this process; `dst` is an exclusive borrow, so it is
        // private and cannot overlap a view (views are never `&mut`).
        unsafe { crate::try_load(src.as_ptr(), dst.as_mut_ptr(), dst.len(), Ordering::Relaxed) }
            .map_err(|e| e.shifted(offset))
    }

    /// Copies `src` into the view starting at `offset` (Relaxed).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + src.len()` is not inside
    /// the view, including when the sum overflows; nothing is written then.
    /// [`Error::Fault`] if the memory faulted (see [`crate::fault`]); some
    /// bytes may have been written then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 4];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// view.write_at(1, b"ab")?;
    /// assert!(view.write_at(usize::MAX, b"ab").is_err());
    /// assert_eq!(buf, [0, b'a', b'b', 0]);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub fn write_at(&self, offset: usize, src: &[u8]) -> Result<(), Error> {
        let dst = self.range(offset, src.len())?;
        // SAFETY: `dst` is a valid view of `src.len()` bytes, only accessed
        // atomically in this process; `src` is a shared borrow of plain
        // bytes, initialized and not written concurrently, and cannot
        // overlap a view.
        unsafe { crate::try_store(src.as_ptr(), dst.as_ptr(), src.len(), Ordering::Relaxed) }
            .map_err(|e| e.shifted(offset))
    }

    /// Reads a `T` from `offset`, which need not be aligned, as one private
    /// copy (Relaxed).
    ///
    /// Returns a value, never a reference: validate it and use it, and the
    /// shared bytes are never read again.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the `size_of::<T>()` bytes at `offset` are
    /// not inside the view; [`Error::Fault`] if the memory faulted.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 9];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// view.write_obj(1, &0x0102_0304u32)?;          // unaligned is fine
    /// assert_eq!(view.read_obj::<u32>(1)?, 0x0102_0304);
    /// assert!(view.read_obj::<u64>(2).is_err());
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[cfg(feature = "bytemuck")]
    #[inline]
    pub fn read_obj<T: bytemuck::AnyBitPattern>(&self, offset: usize) -> Result<T, Error> {
        // SAFETY: `AnyBitPattern` types accept every initialized byte pattern.
        unsafe { self.read_any(offset) }
    }

    /// Writes `value` at `offset`, which need not be aligned (Relaxed).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the `size_of::<T>()` bytes at `offset` are
    /// not inside the view; nothing is written then. [`Error::Fault`] if the
    /// memory faulted.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 4];
    /// bytewise::AtomicBytes::from_mut(&mut buf).write_obj(0, &[1u16, 2])?;
    /// assert_eq!(buf, [1, 0, 2, 0].map(|b: u8| b.to_le()));
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[cfg(feature = "bytemuck")]
    #[inline]
    pub fn write_obj<T: bytemuck::NoUninit>(&self, offset: usize, value: &T) -> Result<(), Error> {
        self.write_at(offset, bytemuck::bytes_of(value))
    }

    /// [`read_obj`](Self::read_obj) for zerocopy's [`FromBytes`](zerocopy::FromBytes).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] as for `read_obj`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [7u8; 4];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// assert_eq!(view.read_obj_zerocopy::<[u8; 2]>(2)?, [7, 7]);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[cfg(feature = "zerocopy")]
    #[inline]
    pub fn read_obj_zerocopy<T: zerocopy::FromBytes>(&self, offset: usize) -> Result<T, Error> {
        // SAFETY: `FromBytes` types accept every initialized byte pattern.
        unsafe { self.read_any(offset) }
    }

    /// [`write_obj`](Self::write_obj) for zerocopy's
    /// [`IntoBytes`](zerocopy::IntoBytes).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] as for `write_obj`; nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 2];
    /// bytewise::AtomicBytes::from_mut(&mut buf).write_obj_zerocopy(0, &[3u8, 4])?;
    /// assert_eq!(buf, [3, 4]);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[cfg(feature = "zerocopy")]
    #[inline]
    pub fn write_obj_zerocopy<T: zerocopy::IntoBytes + zerocopy::Immutable>(
        &self,
        offset: usize,
        value: &T,
    ) -> Result<(), Error> {
        self.write_at(offset, value.as_bytes())
    }

    /// Reads a `T` from `offset` as one private copy (Relaxed).
    ///
    /// # Safety
    ///
    /// Behavior is undefined if `T` is not valid for every initialized byte
    /// pattern of its size.
    #[cfg(any(feature = "bytemuck", feature = "zerocopy"))]
    #[inline]
    unsafe fn read_any<T>(&self, offset: usize) -> Result<T, Error> {
        let size = core::mem::size_of::<T>();
        let src = self.range(offset, size)?;
        let mut out = MaybeUninit::<T>::uninit();
        // SAFETY: `src` is a valid, atomically accessed view of `size` bytes;
        // `out` is a private local of `size` bytes, so it cannot overlap.
        unsafe {
            crate::try_load(
                src.as_ptr(),
                out.as_mut_ptr().cast(),
                size,
                Ordering::Relaxed,
            )
        }
        .map_err(|e| e.shifted(offset))?;
        // SAFETY: `load` initialized all `size` bytes of `out`, and the caller
        // guarantees any initialized byte pattern is a valid `T`.
        Ok(unsafe { out.assume_init() })
    }
}

#[track_caller]
fn assert_len(view: usize, other: usize) {
    assert!(
        view == other,
        "source slice length ({other}) does not match destination slice length ({view})"
    );
}

impl fmt::Debug for AtomicBytes {
    /// Shows the length and up to the first 32 bytes, read Relaxed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut head = [0u8; 32];
        let n = self.len().min(head.len());
        if let Some(v) = self.get(..n) {
            v.load(&mut head[..n], Ordering::Relaxed);
        }
        let mut d = f.debug_struct("AtomicBytes");
        d.field("len", &self.len());
        if self.len() > n {
            d.field("head", &&head[..n]).finish_non_exhaustive()
        } else {
            d.field("bytes", &&head[..n]).finish()
        }
    }
}

impl<'a> From<&'a [AtomicU8]> for &'a AtomicBytes {
    fn from(bytes: &'a [AtomicU8]) -> Self {
        AtomicBytes::new(bytes)
    }
}

impl<'a> From<&'a mut [u8]> for &'a AtomicBytes {
    fn from(bytes: &'a mut [u8]) -> Self {
        AtomicBytes::from_mut(bytes)
    }
}
