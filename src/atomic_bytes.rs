//! [`AtomicBytes`]: a safe view of bytes that others may write concurrently.

use core::fmt;
use core::mem::MaybeUninit;
use core::ops::{Bound, RangeBounds};
#[cfg(target_has_atomic = "32")]
use core::sync::atomic::AtomicU32;
#[cfg(target_has_atomic = "64")]
use core::sync::atomic::AtomicU64;
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
    /// The view is returned as `&mut`, like `AtomicU8::from_mut` in std: use
    /// it as a shared `&AtomicBytes` (it coerces), or carve it with
    /// [`split_at_mut`](Self::split_at_mut) and friends.
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
    pub fn from_mut(bytes: &mut [u8]) -> &mut AtomicBytes {
        let len = bytes.len();
        let ptr = bytes.as_mut_ptr();
        // SAFETY: `AtomicBytes` is `repr(transparent)` over `[AtomicU8]`, and
        // `AtomicU8` has the size, alignment and validity of `u8`; the `&mut`
        // gives `len` valid, writable bytes, borrowed exclusively for the
        // returned lifetime, so no plain access can happen meanwhile.
        unsafe { &mut *(core::ptr::slice_from_raw_parts_mut(ptr, len) as *mut AtomicBytes) }
    }

    /// Views an exclusively borrowed slice of atomics as `AtomicBytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::AtomicU8;
    /// let mut cells = [const { AtomicU8::new(0) }; 16];
    /// let view = bytewise::AtomicBytes::new_mut(&mut cells);
    /// let (head, _rest) = view.split_at_mut(8)?;
    /// assert_eq!(head.len(), 8);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub fn new_mut(bytes: &mut [AtomicU8]) -> &mut AtomicBytes {
        // SAFETY: `AtomicBytes` is `repr(transparent)` over `[AtomicU8]`, so
        // the pointer cast keeps the length and the layout; the exclusive
        // borrow is carried over unchanged.
        unsafe { &mut *(bytes as *mut [AtomicU8] as *mut AtomicBytes) }
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

    /// The sub-view of `len` bytes at `offset`: [`get`](Self::get) with an
    /// error that says what was asked for, for code that propagates it with
    /// `?` (a ring's slot, a descriptor in guest memory).
    ///
    /// This is the bounds check behind every offset-taking method of the
    /// crate, so a sub-view and a direct `read_at` accept exactly the same
    /// offsets.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + len` is not inside the
    /// view, including when `offset + len` overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Error};
    ///
    /// let mut buf = *b"header|payload";
    /// let view = AtomicBytes::from_mut(&mut buf);
    /// let payload = view.range(7, 7)?;
    /// assert_eq!(payload.read_obj::<[u8; 7]>(0)?, *b"payload");
    /// assert_eq!(
    ///     view.range(usize::MAX, 2).unwrap_err(),
    ///     Error::OutOfBounds { offset: usize::MAX, len: 2, size: 14 },
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn range(&self, offset: usize, len: usize) -> Result<&AtomicBytes, Error> {
        Error::check_range(offset, len, self.len())?;
        Ok(Self::new(&self.0[offset..offset + len]))
    }

    // --- exclusive carving ---
    //
    // A typed atomic view of some bytes (a `SeqLock` counter, an
    // `AtomicU64`) must own them in this process: a 1-byte access racing
    // with an 8-byte atomic on the same bytes is a mixed-size race, which
    // Rust's memory model leaves undefined. So typed views are carved from
    // `&mut AtomicBytes`, the way `split_at_mut` carves slices; the borrow
    // checker then keeps every other access of this process away while the
    // view lives. Other processes are outside the model, as for all shared
    // memory.

    /// Divides the view into `..mid` and `mid..`, both shared.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] (`offset` `mid`, `len` 0) if `mid > len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = *b"headbody";
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// let (head, body) = view.split_at(4)?;
    /// assert_eq!(head.to_vec(bytewise::Ordering::Relaxed), b"head");
    /// assert_eq!(body.len(), 4);
    /// assert!(view.split_at(9).is_err());
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub fn split_at(&self, mid: usize) -> Result<(&AtomicBytes, &AtomicBytes), Error> {
        match self.0.split_at_checked(mid) {
            Some((a, b)) => Ok((Self::new(a), Self::new(b))),
            None => Err(self.split_error(mid)),
        }
    }

    /// Divides an exclusively borrowed view into `..mid` and `mid..`, each
    /// held exclusively: carve a region into typed views
    /// ([`as_atomic_u64`](Self::as_atomic_u64), `SeqLock::from_bytes`) and
    /// byte ranges that stay usable.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] (`offset` `mid`, `len` 0) if `mid > len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Ordering};
    ///
    /// let mut backing = [0u64; 4];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let (counter, data) = region.split_at_mut(8)?;
    /// let counter = counter.as_atomic_u64()?;      // a native atomic ...
    /// data.write_at(0, b"payload")?;               // ... next to bytes still in use
    /// counter.fetch_add(1, Ordering::Release);
    /// assert_eq!(counter.load(Ordering::Acquire), 1);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub fn split_at_mut(
        &mut self,
        mid: usize,
    ) -> Result<(&mut AtomicBytes, &mut AtomicBytes), Error> {
        let err = self.split_error(mid);
        match self.0.split_at_mut_checked(mid) {
            Some((a, b)) => Ok((Self::new_mut(a), Self::new_mut(b))),
            None => Err(err),
        }
    }

    /// The error of a split at `mid` that is out of bounds.
    #[inline]
    fn split_error(&self, mid: usize) -> Error {
        Error::OutOfBounds {
            offset: mid,
            len: 0,
            size: self.len(),
        }
    }

    /// An exclusively borrowed sub-view, or `None` if `range` is out of
    /// bounds or decreasing.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 8];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// let tail = view.get_mut(4..).unwrap();
    /// tail.fill(1, bytewise::Ordering::Relaxed);
    /// assert!(view.get_mut(..9).is_none());
    /// assert_eq!(buf, [0, 0, 0, 0, 1, 1, 1, 1]);
    /// ```
    #[inline]
    pub fn get_mut(&mut self, range: impl RangeBounds<usize>) -> Option<&mut AtomicBytes> {
        let bounds: (Bound<usize>, Bound<usize>) =
            (range.start_bound().cloned(), range.end_bound().cloned());
        self.0.get_mut(bounds).map(Self::new_mut)
    }

    /// The first 4 bytes as a native [`AtomicU32`], for as long as the view
    /// is borrowed.
    ///
    /// Head and tail indices of a ring, a doorbell, a futex word in shared
    /// memory. Sound because the view is held exclusively: nothing else in
    /// this process can access those bytes with a different size while the
    /// atomic lives (carve the region with
    /// [`split_at_mut`](Self::split_at_mut) first to keep the rest). Other
    /// processes use the same bytes as their own 4-byte atomic.
    ///
    /// # Errors
    ///
    /// - [`Error::Misaligned`] if the view does not start at a multiple of 4;
    /// - [`Error::OutOfBounds`] (`offset` 0, `len` 4) if it is shorter than 4
    ///   bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Error, Ordering};
    ///
    /// let mut backing = [0u32; 2];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// assert!(matches!(region.get_mut(1..).unwrap().as_atomic_u32(),
    ///                  Err(Error::Misaligned { align: 4, .. })));
    /// let tail = region.as_atomic_u32()?;
    /// tail.store(7, Ordering::Release);
    /// assert_eq!(backing[0], 7);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    ///
    /// When the atomic is gone (and the threads that used it are joined),
    /// the bytes are ordinary `AtomicBytes` again. Miri's weak memory
    /// emulation currently crashes (an internal error, "partially
    /// overlapping store buffer") on a byte-wise store to bytes that
    /// another thread stored through the wider atomic, although the program
    /// is defined; test such programs with
    /// `-Zmiri-disable-weak-memory-emulation`.
    ///
    /// The region stays borrowed while the atomic lives, so a byte-wise
    /// access to the same bytes does not compile:
    ///
    /// ```compile_fail,E0502
    /// let mut backing = [0u32; 2];
    /// let region = bytewise::AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let word = region.as_atomic_u32().unwrap();
    /// region.write_at(0, &[1]).unwrap(); // 1-byte store racing with a 4-byte atomic
    /// word.load(bytewise::Ordering::Relaxed);
    /// ```
    #[cfg(target_has_atomic = "32")]
    #[inline]
    pub fn as_atomic_u32(&mut self) -> Result<&AtomicU32, Error> {
        let ptr = self.atomic_ptr::<AtomicU32>()?;
        // The bytes are initialised (`AtomicU8`s) and interior-mutable; the
        // borrow of `self` is exclusive, so this process accesses them only
        // through the returned atomic while it lives.
        // SAFETY: `atomic_ptr` checked that `ptr` is aligned for `AtomicU32`
        // and that the view has at least 4 bytes, valid for the borrow.
        Ok(unsafe { &*ptr })
    }

    /// The first 8 bytes as a native [`AtomicU64`], for as long as the view
    /// is borrowed. As [`as_atomic_u32`](Self::as_atomic_u32), with 8 bytes
    /// aligned to 8.
    ///
    /// # Errors
    ///
    /// - [`Error::Misaligned`] if the view does not start at a multiple of 8;
    /// - [`Error::OutOfBounds`] (`offset` 0, `len` 8) if it is shorter than 8
    ///   bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Error, Ordering};
    ///
    /// let mut backing = [0u64; 2];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// assert!(matches!(region.get_mut(..7).unwrap().as_atomic_u64(),
    ///                  Err(Error::OutOfBounds { offset: 0, len: 8, size: 7 })));
    /// let (head, tail) = region.split_at_mut(8)?;
    /// let (head, tail) = (head.as_atomic_u64()?, tail.as_atomic_u64()?);
    /// head.store(1, Ordering::Relaxed);
    /// tail.store(2, Ordering::Relaxed);
    /// assert_eq!(backing, [1, 2]);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[cfg(target_has_atomic = "64")]
    #[inline]
    pub fn as_atomic_u64(&mut self) -> Result<&AtomicU64, Error> {
        let ptr = self.atomic_ptr::<AtomicU64>()?;
        // SAFETY: as in `as_atomic_u32`, for 8 bytes aligned for `AtomicU64`.
        Ok(unsafe { &*ptr })
    }

    /// The start of an exclusively held view as a pointer to an `A`,
    /// checked to be aligned for `A` and followed by `size_of::<A>()` bytes.
    #[inline]
    fn atomic_ptr<A>(&mut self) -> Result<*mut A, Error> {
        let ptr = self.0.as_mut_ptr();
        let (addr, align) = (ptr.addr(), core::mem::align_of::<A>());
        if addr % align != 0 {
            return Err(Error::Misaligned { addr, align });
        }
        Error::check_range(0, core::mem::size_of::<A>(), self.len())?;
        Ok(ptr.cast())
    }

    // --- end of exclusive carving ---

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
        self.load_at(offset, dst, Ordering::Relaxed)
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
        self.store_at(offset, src, Ordering::Relaxed)
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
    #[inline]
    pub fn read_obj<T: bytemuck::AnyBitPattern>(&self, offset: usize) -> Result<T, Error> {
        self.load_obj(offset, Ordering::Relaxed)
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
    #[inline]
    pub fn write_obj<T: bytemuck::NoUninit>(&self, offset: usize, value: &T) -> Result<(), Error> {
        self.store_obj(offset, value, Ordering::Relaxed)
    }

    /// [`read_obj`](Self::read_obj) for zerocopy's [`FromBytes`](zerocopy::FromBytes).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] and [`Error::Fault`] as for `read_obj`.
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
        unsafe { self.read_any(offset, Ordering::Relaxed) }
    }

    /// [`write_obj`](Self::write_obj) for zerocopy's
    /// [`IntoBytes`](zerocopy::IntoBytes).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] as for `write_obj`; nothing is written then.
    /// [`Error::Fault`] if the memory faulted.
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

    /// Reads a `T` from `offset` as one private copy.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if `T` is not valid for every initialized byte
    /// pattern of its size.
    #[inline]
    #[track_caller]
    unsafe fn read_any<T>(&self, offset: usize, order: Ordering) -> Result<T, Error> {
        let mut out = MaybeUninit::<T>::uninit();
        self.load_private(offset, &mut out, order)?;
        // SAFETY: `load_private` initialized all bytes of `out`, and the
        // caller guarantees any initialized byte pattern is a valid `T`.
        Ok(unsafe { out.assume_init() })
    }

    /// Copies the `size_of::<B>()` bytes at `offset` into `out` with one
    /// byte-wise atomic load. On `Ok`, every byte of `out` is initialized,
    /// padding included (`out` is written as bytes, in place: validate it
    /// there, since a typed move of a `MaybeUninit` may drop padding bytes).
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`, before the bounds check.
    #[inline]
    #[track_caller]
    fn load_private<B>(
        &self,
        offset: usize,
        out: &mut MaybeUninit<B>,
        order: Ordering,
    ) -> Result<(), Error> {
        crate::raw::check_load_ordering(order);
        let size = core::mem::size_of::<B>();
        // The check alone, not `range`: a `Result` that carries no pointer
        // keeps the shared pointer out of the value this returns into, so
        // the caller's IR shows it reaching the kernel and nothing else.
        Error::check_range(offset, size, self.len())?;
        let src = self.as_ptr().wrapping_add(offset);
        // SAFETY: `src..src + size` lies inside the view (checked above), so
        // it is valid and only accessed atomically; `out` is an exclusive
        // borrow of `size` bytes, so private and disjoint from it.
        unsafe { crate::try_load(src, out.as_mut_ptr().cast(), size, order) }
            .map_err(|e| e.shifted(offset))
    }
}

/// Offset-based copies with an explicit [`Ordering`], for protocols that
/// publish with Release and consume with Acquire (rings, mailboxes). Each
/// checks its ordering as [`load`](AtomicBytes::load) and
/// [`store`](AtomicBytes::store) do: a bad one panics before the bounds
/// check and before any memory is touched.
impl AtomicBytes {
    /// [`read_at`](Self::read_at) with an ordering: copies `dst.len()` bytes
    /// at `offset` into `dst`.
    ///
    /// `Acquire` orders the copy before everything that follows it, as an
    /// `AtomicU8::load(Acquire)` of each byte would (a fence after the copy).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] as for `read_at`; `dst` is untouched then.
    /// [`Error::Fault`] if the memory faulted (see [`crate::fault`]); `dst`
    /// is unspecified then.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Ordering};
    ///
    /// let mut ring = [0u8; 16];
    /// let ring = AtomicBytes::from_mut(&mut ring);
    /// ring.store_at(4, b"msg", Ordering::Release)?;
    /// let mut out = [0u8; 3];
    /// ring.load_at(4, &mut out, Ordering::Acquire)?;
    /// assert_eq!(&out, b"msg");
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn load_at(&self, offset: usize, dst: &mut [u8], order: Ordering) -> Result<(), Error> {
        crate::raw::check_load_ordering(order);
        let src = self.range(offset, dst.len())?;
        // SAFETY: `src` is a valid view of `dst.len()` bytes, only accessed
        // atomically in this process; `dst` is an exclusive borrow, so it is
        // private and cannot overlap a view (views are never `&mut`).
        unsafe { crate::try_load(src.as_ptr(), dst.as_mut_ptr(), dst.len(), order) }
            .map_err(|e| e.shifted(offset))
    }

    /// [`write_at`](Self::write_at) with an ordering: copies `src` into the
    /// view at `offset`.
    ///
    /// `Release` orders everything before it before the copy (a fence before
    /// the copy).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] as for `write_at`; nothing is written then.
    /// [`Error::Fault`] if the memory faulted; some bytes may have been
    /// written then.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Acquire` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 4];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// view.store_at(2, b"ok", bytewise::Ordering::Release)?;
    /// assert_eq!(buf, *b"\0\0ok");
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn store_at(&self, offset: usize, src: &[u8], order: Ordering) -> Result<(), Error> {
        crate::raw::check_store_ordering(order);
        let dst = self.range(offset, src.len())?;
        // SAFETY: `dst` is a valid view of `src.len()` bytes, only accessed
        // atomically in this process; `src` is a shared borrow of plain
        // bytes, initialized and not written concurrently, and cannot
        // overlap a view.
        unsafe { crate::try_store(src.as_ptr(), dst.as_ptr(), src.len(), order) }
            .map_err(|e| e.shifted(offset))
    }

    /// [`read_obj`](Self::read_obj) with an ordering: a `T` from `offset`
    /// (unaligned is fine) as one private copy.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] and [`Error::Fault`] as for `read_obj`.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// A ring consumer: read the producer's index with Acquire, then the
    /// slot it published.
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Ordering};
    ///
    /// let mut mem = [0u8; 64];
    /// let ring = AtomicBytes::from_mut(&mut mem);
    /// // producer
    /// ring.store_obj(8, &0xfeed_u32, Ordering::Relaxed)?;
    /// ring.store_obj(0, &1u32, Ordering::Release)?;
    /// // consumer
    /// if ring.load_obj::<u32>(0, Ordering::Acquire)? == 1 {
    ///     assert_eq!(ring.load_obj::<u32>(8, Ordering::Relaxed)?, 0xfeed);
    /// }
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn load_obj<T: bytemuck::AnyBitPattern>(
        &self,
        offset: usize,
        order: Ordering,
    ) -> Result<T, Error> {
        // SAFETY: `AnyBitPattern` types accept every initialized byte pattern.
        unsafe { self.read_any(offset, order) }
    }

    /// [`write_obj`](Self::write_obj) with an ordering: writes `value` at
    /// `offset` (unaligned is fine).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] as for `write_obj`; nothing is written then.
    /// [`Error::Fault`] if the memory faulted.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Acquire` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = [0u8; 4];
    /// let view = bytewise::AtomicBytes::from_mut(&mut buf);
    /// view.store_obj(0, &7u32, bytewise::Ordering::Release)?;
    /// assert_eq!(view.load_obj::<u32>(0, bytewise::Ordering::Acquire)?, 7);
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn store_obj<T: bytemuck::NoUninit>(
        &self,
        offset: usize,
        value: &T,
        order: Ordering,
    ) -> Result<(), Error> {
        self.store_at(offset, bytemuck::bytes_of(value), order)
    }
}

/// Validated typed reads, for types with invalid bit patterns (enums,
/// `bool`, `char`, `NonZero*`): one byte-wise atomic copy into private
/// memory, then the type's own check on that copy.
///
/// The shared bytes are never validated in place and never read twice, and
/// no value of the type is made from a copy that fails the check. Checking
/// shared memory with `bytemuck::checked` or zerocopy's `TryFromBytes`
/// directly would do neither: it races, and a later read of a field fetches
/// it again, after the check (a double fetch).
impl AtomicBytes {
    /// Reads a `T` from `offset` (unaligned is fine) as one private copy
    /// (Relaxed), and returns it if the copy is a valid `T` by
    /// [`CheckedBitPattern::is_valid_bit_pattern`](bytemuck::CheckedBitPattern::is_valid_bit_pattern).
    ///
    /// # Errors
    ///
    /// - [`Error::OutOfBounds`] if the `size_of::<T>()` bytes at `offset` are
    ///   not inside the view (including when the sum overflows); nothing is
    ///   read then.
    /// - [`Error::InvalidBitPattern`] if the copy is not a valid `T`.
    /// - [`Error::Fault`] if the memory faulted (see [`crate::fault`]).
    ///
    /// # Examples
    ///
    /// A descriptor that a peer process fills in, read out of shared memory
    /// with no `unsafe`. A bad `kind` or `last` is an error, and the value
    /// that passed the check is the one that is used:
    ///
    /// ```
    /// use bytemuck::{CheckedBitPattern, NoUninit};
    /// use bytewise::{Error, SharedMemory};
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq, NoUninit, CheckedBitPattern)]
    /// #[repr(u8)]
    /// enum Kind { Read = 1, Write = 2 }
    ///
    /// #[derive(Clone, Copy, Debug, NoUninit, CheckedBitPattern)]
    /// #[repr(C)]
    /// struct Descriptor { addr: u64, len: u32, kind: Kind, last: bool, _pad: [u8; 2] }
    ///
    /// let shm = SharedMemory::create(4096)?;
    /// let d = Descriptor { addr: 0x1000, len: 512, kind: Kind::Write, last: true, _pad: [0; 2] };
    /// shm.write_obj(64, &d)?; // the peer's side
    ///
    /// let d: Descriptor = shm.read_obj_checked(64)?;   // one copy, validated
    /// assert_eq!((d.kind, d.last), (Kind::Write, true)); // the same copy, used
    ///
    /// shm.write_at(64 + 12, &[7])?; // a hostile peer writes a bad `kind`
    /// assert_eq!(
    ///     shm.read_obj_checked::<Descriptor>(64).unwrap_err(),
    ///     Error::InvalidBitPattern { offset: 64, len: 16 },
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn read_obj_checked<T: bytemuck::CheckedBitPattern>(
        &self,
        offset: usize,
    ) -> Result<T, Error> {
        self.load_obj_checked(offset, Ordering::Relaxed)
    }

    /// [`read_obj_checked`](Self::read_obj_checked) with an ordering; also
    /// the implementation behind the checked reads of the `io` reader and
    /// `AtomicPerByte`.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`.
    #[inline]
    #[track_caller]
    pub(crate) fn load_obj_checked<T: bytemuck::CheckedBitPattern>(
        &self,
        offset: usize,
        order: Ordering,
    ) -> Result<T, Error> {
        // `CheckedBitPattern` promises that `T` and `T::Bits` have the same
        // layout; the reads below rely on the size part, so check it.
        const {
            assert!(core::mem::size_of::<T>() == core::mem::size_of::<T::Bits>());
        }
        let mut bits = MaybeUninit::<T::Bits>::uninit();
        self.load_private(offset, &mut bits, order)?;
        // SAFETY: `load_private` initialized every byte of `bits` (padding
        // included), and `Bits: AnyBitPattern` accepts any initialized bytes.
        let copy: &T::Bits = unsafe { bits.assume_init_ref() };
        if !T::is_valid_bit_pattern(copy) {
            return Err(Error::InvalidBitPattern {
                offset,
                len: core::mem::size_of::<T>(),
            });
        }
        // SAFETY: `bits` holds `size_of::<T>()` initialized bytes (asserted
        // equal to the size of `Bits`), which `is_valid_bit_pattern` accepted
        // as a `T` (the trait's contract); `read_unaligned` needs no
        // alignment. The bytes are the private copy, not shared memory.
        Ok(unsafe { bits.as_ptr().cast::<T>().read_unaligned() })
    }

    /// Reads a `T` from `offset` (unaligned is fine) as one private copy
    /// (Relaxed), and returns it if zerocopy's
    /// [`TryFromBytes`](zerocopy::TryFromBytes) accepts the copy.
    ///
    /// # Errors
    ///
    /// - [`Error::OutOfBounds`] if the `size_of::<T>()` bytes at `offset` are
    ///   not inside the view; nothing is read then.
    /// - [`Error::InvalidBitPattern`] if the copy is not a valid `T`.
    /// - [`Error::Fault`] if the memory faulted (see [`crate::fault`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Error};
    /// use zerocopy::{Immutable, IntoBytes, KnownLayout, TryFromBytes};
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq, TryFromBytes, IntoBytes, Immutable, KnownLayout)]
    /// #[repr(u8)]
    /// enum Kind { Read = 1, Write = 2 }
    ///
    /// #[derive(Debug, TryFromBytes, IntoBytes, Immutable, KnownLayout)]
    /// #[repr(C)]
    /// struct Descriptor { len: u16, kind: Kind, last: bool }
    ///
    /// let mut mem = [0u8; 8];
    /// let shared = AtomicBytes::from_mut(&mut mem);
    /// shared.write_at(2, &[4, 0, 2, 1])?;
    /// let d: Descriptor = shared.try_read_obj(2)?;
    /// assert_eq!((d.len, d.kind, d.last), (4, Kind::Write, true));
    ///
    /// shared.write_at(5, &[2])?; // `last` is neither 0 nor 1
    /// assert_eq!(
    ///     shared.try_read_obj::<Descriptor>(2).unwrap_err(),
    ///     Error::InvalidBitPattern { offset: 2, len: 4 },
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    #[cfg(feature = "zerocopy")]
    #[inline]
    pub fn try_read_obj<T: zerocopy::TryFromBytes>(&self, offset: usize) -> Result<T, Error> {
        let size = core::mem::size_of::<T>();
        let mut copy = MaybeUninit::<T>::uninit();
        self.load_private(offset, &mut copy, Ordering::Relaxed)?;
        // SAFETY: `load_private` initialized all `size` bytes of `copy`, which
        // has not been moved since; the slice borrows that private local.
        let bytes = unsafe { core::slice::from_raw_parts(copy.as_ptr().cast::<u8>(), size) };
        // zerocopy's own check, on the private bytes; the length is exact, so
        // the only possible failure is an invalid bit pattern.
        T::try_read_from_bytes(bytes).map_err(|_| Error::InvalidBitPattern { offset, len: size })
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

impl<'a> From<&'a mut [u8]> for &'a mut AtomicBytes {
    fn from(bytes: &'a mut [u8]) -> Self {
        AtomicBytes::from_mut(bytes)
    }
}
