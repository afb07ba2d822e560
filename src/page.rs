//! [`Page`]: the Linux kernel's Rust `Page` type, in user space.

use core::fmt;
use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use core::alloc::Layout;

use crate::{AtomicBytes, Error};

/// The size of a [`Page`] in bytes, and its alignment.
///
/// # Examples
///
/// ```
/// let page = bytewise::Page::alloc()?;
/// assert_eq!(page.as_bytes().len(), bytewise::PAGE_SIZE);
/// assert_eq!(page.as_ptr().addr() % bytewise::PAGE_SIZE, 0);
/// # Ok::<(), bytewise::AllocError>(())
/// ```
pub const PAGE_SIZE: usize = 4096;

/// The allocator could not provide a [`Page`].
///
/// The counterpart of the kernel's `AllocError`; it converts into an
/// [`std::io::Error`] of kind [`OutOfMemory`](std::io::ErrorKind::OutOfMemory).
///
/// # Examples
///
/// ```
/// let err = bytewise::AllocError;
/// assert_eq!(err.to_string(), "memory allocation of a page failed");
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::OutOfMemory);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AllocError;

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("memory allocation of a page failed")
    }
}

impl core::error::Error for AllocError {}

impl From<AllocError> for std::io::Error {
    fn from(e: AllocError) -> Self {
        std::io::Error::new(std::io::ErrorKind::OutOfMemory, e)
    }
}

/// One zeroed, [`PAGE_SIZE`]-aligned page of memory that other threads, or a
/// device you hand [`as_ptr`](Page::as_ptr) to, may read and write
/// concurrently.
///
/// This is the Linux kernel's Rust `Page` type with its byte-wise atomic
/// methods, in user space, with the same method names and argument order.
/// Every offset-based method checks that `offset..offset + len` lies inside
/// the page (an overflowing sum included) and returns
/// [`Error::OutOfBounds`] without touching any memory otherwise, where the
/// kernel returns `EINVAL`.
///
/// | kernel `kernel::page::Page` | `bytewise::Page` |
/// |---|---|
/// | `Page::alloc_page(flags) -> Result<Page, AllocError>` | [`Page::alloc()`](Page::alloc) `-> Result<Page, AllocError>` |
/// | `unsafe read_raw(dst, offset, len) -> Result` | [`unsafe read_raw(dst, offset, len)`](Page::read_raw) `-> Result<(), Error>` |
/// | `unsafe write_raw(src, offset, len) -> Result` | [`unsafe write_raw(src, offset, len)`](Page::write_raw) `-> Result<(), Error>` |
/// | `unsafe fill_zero_raw(offset, len) -> Result` | [`fill_zero(offset, len)`](Page::fill_zero) `-> Result<(), Error>`, safe: byte-wise atomic |
/// | `unsafe read_bytewise_atomic(dst, offset, len) -> Result` | [`unsafe read_bytewise_atomic(dst, offset, len)`](Page::read_bytewise_atomic) `-> Result<(), Error>` |
/// | `unsafe write_bytewise_atomic(src, offset, len) -> Result` | [`unsafe write_bytewise_atomic(src, offset, len)`](Page::write_bytewise_atomic) `-> Result<(), Error>` |
/// | `unsafe copy_from_user_slice_raw(reader, offset, len) -> Result` | [`copy_from_reader(reader, offset, len)`](Page::copy_from_reader) `-> io::Result<()>`, safe: byte-wise atomic |
/// | `as_ptr()` (the `struct page`) | [`as_ptr()`](Page::as_ptr) (the first byte) |
/// | mapping the page, then a slice | [`as_bytes()`](Page::as_bytes) `-> &AtomicBytes` |
/// | `EINVAL` | [`Error::OutOfBounds`] |
///
/// The `*_raw` methods are plain copies: as in the kernel, the caller
/// promises that nothing races with them. The `*_bytewise_atomic` methods are
/// byte-wise atomic on both sides and may race with anything that is itself
/// atomic. The safe methods, and everything on [`as_bytes`](Page::as_bytes),
/// are byte-wise atomic on the page.
///
/// The page is freed when the `Page` is dropped.
///
/// # Examples
///
/// ```
/// use bytewise::{Error, Page, PAGE_SIZE};
///
/// let page = Page::alloc()?;
/// let msg = *b"hello";
/// // SAFETY: `msg` is valid for 5 bytes and nothing else uses the page yet.
/// unsafe { page.write_raw(msg.as_ptr(), 100, msg.len()) }?;
///
/// let mut out = [0u8; 5];
/// // SAFETY: `out` is a private local, valid for 5 bytes; the page may be
/// // written concurrently by atomic accessors.
/// unsafe { page.read_bytewise_atomic(out.as_mut_ptr(), 100, out.len()) }?;
/// assert_eq!(&out, b"hello");
///
/// // The kernel's EINVAL: out of range, nothing copied.
/// assert!(matches!(page.fill_zero(PAGE_SIZE - 1, 2), Err(Error::OutOfBounds { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Page {
    ptr: NonNull<u8>,
}

// SAFETY: a `Page` owns its allocation exclusively; moving it to another
// thread moves that ownership, and nothing about the memory is tied to the
// allocating thread (it is freed with the global allocator).
unsafe impl Send for Page {}

// SAFETY: every safe `&self` method accesses the page only through byte-wise
// atomic operations, which may run concurrently from any number of threads;
// the non-atomic `*_raw` methods are `unsafe` and make the absence of races
// the caller's obligation.
unsafe impl Sync for Page {}

impl Page {
    const LAYOUT: Layout = match Layout::from_size_align(PAGE_SIZE, PAGE_SIZE) {
        Ok(layout) => layout,
        Err(_) => panic!("PAGE_SIZE is a power of two and fits isize"),
    };

    /// Allocates one zeroed page, aligned to [`PAGE_SIZE`].
    ///
    /// # Errors
    ///
    /// [`AllocError`] if the global allocator returns null. It never calls
    /// [`std::alloc::handle_alloc_error`].
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// assert_eq!(page.as_bytes().to_vec(bytewise::Ordering::Relaxed), [0; bytewise::PAGE_SIZE]);
    /// # Ok::<(), bytewise::AllocError>(())
    /// ```
    pub fn alloc() -> Result<Page, AllocError> {
        // SAFETY: `LAYOUT` has a non-zero size (`PAGE_SIZE`).
        let raw = unsafe { std::alloc::alloc_zeroed(Self::LAYOUT) };
        NonNull::new(raw).map(|ptr| Page { ptr }).ok_or(AllocError)
    }

    /// The page as a safe byte-wise atomic view of [`PAGE_SIZE`] bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// page.as_bytes().write_at(8, b"abc")?;
    /// assert_eq!(page.as_bytes().read_obj::<[u8; 3]>(8)?, *b"abc");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> &AtomicBytes {
        // SAFETY: `ptr` is valid for `PAGE_SIZE` bytes until `Drop` frees it,
        // which cannot happen while `self` is borrowed; every access from this
        // process is atomic except the `*_raw` methods, whose callers promise
        // that nothing runs concurrently with them.
        unsafe { AtomicBytes::from_raw_parts(self.ptr.as_ptr(), PAGE_SIZE) }
    }

    /// The address of the first byte of the page, with write permission.
    ///
    /// Unlike the kernel's `as_ptr`, which returns the `struct page`, this is
    /// the page's memory itself, for handing to [`crate::load`] and friends
    /// or to a device.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// assert_eq!(page.as_ptr(), page.as_bytes().as_ptr());
    /// # Ok::<(), bytewise::AllocError>(())
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Copies `len` bytes at `offset` of the page to `dst` with a plain,
    /// non-atomic copy.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated (the conditions on
    /// memory apply only when `offset..offset + len` is inside the page):
    ///
    /// - `dst` is non-null and valid for writes of `len` bytes;
    /// - `dst..dst + len` does not overlap `offset..offset + len` of the page;
    /// - nothing writes `offset..offset + len` of the page while this runs
    ///   (concurrent reads are fine);
    /// - nothing accesses `dst..dst + len` while this runs.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + len` is not inside the
    /// page or `offset + len` overflows; nothing is copied then.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// page.as_bytes().write_at(0, b"xy")?;
    /// let mut out = [0u8; 2];
    /// // SAFETY: `out` is valid for 2 bytes and nothing writes the page.
    /// unsafe { page.read_raw(out.as_mut_ptr(), 0, 2) }?;
    /// assert_eq!(&out, b"xy");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn read_raw(&self, dst: *mut u8, offset: usize, len: usize) -> Result<(), Error> {
        let src = self.as_bytes().range(offset, len)?.as_ptr();
        // SAFETY: `src` is `len` bytes inside the page; `dst` is valid for
        // `len` bytes, disjoint from them, and nothing else touches either
        // region meanwhile (caller), so this plain copy is race-free.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, len) };
        Ok(())
    }

    /// Copies `len` bytes from `src` to `offset` of the page with a plain,
    /// non-atomic copy.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated (the conditions on
    /// memory apply only when `offset..offset + len` is inside the page):
    ///
    /// - `src` is non-null and valid for reads of `len` initialized bytes;
    /// - `src..src + len` does not overlap `offset..offset + len` of the page;
    /// - nothing reads or writes `offset..offset + len` of the page while this
    ///   runs;
    /// - nothing writes `src..src + len` while this runs.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + len` is not inside the
    /// page or `offset + len` overflows; nothing is copied then.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// let data = [1u8, 2, 3];
    /// // SAFETY: `data` is valid for 3 bytes and nothing else uses the page.
    /// unsafe { page.write_raw(data.as_ptr(), 4093, 3) }?;
    /// // SAFETY: as above; the call fails before touching memory anyway.
    /// assert!(unsafe { page.write_raw(data.as_ptr(), 4094, 3) }.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn write_raw(&self, src: *const u8, offset: usize, len: usize) -> Result<(), Error> {
        let dst = self.as_bytes().range(offset, len)?.as_ptr();
        // SAFETY: `dst` is `len` writable bytes inside the page; `src` is
        // valid for `len` initialized bytes, disjoint from them, and nothing
        // else touches either region meanwhile (caller): a race-free copy.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, len) };
        Ok(())
    }

    /// Sets `len` bytes at `offset` to zero, byte-wise atomic.
    ///
    /// The kernel's `fill_zero_raw` is `unsafe` because it is a plain write;
    /// this one may race with any atomic accessor, so it is safe.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + len` is not inside the
    /// page or `offset + len` overflows; nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// page.as_bytes().fill(0xFF, bytewise::Ordering::Relaxed);
    /// page.fill_zero(1, 2)?;
    /// assert_eq!(page.as_bytes().read_obj::<[u8; 4]>(0)?, [0xFF, 0, 0, 0xFF]);
    /// assert!(page.fill_zero(usize::MAX, 2).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fill_zero(&self, offset: usize, len: usize) -> Result<(), Error> {
        self.as_bytes()
            .range(offset, len)?
            .fill(0, Ordering::Relaxed);
        Ok(())
    }

    /// Copies `len` bytes at `offset` of the page to `dst`, byte-wise atomic
    /// on both sides (Relaxed).
    ///
    /// Both the page and `dst` may be written concurrently, by this crate's
    /// operations or size-1 atomics in this process, or in any way by other
    /// processes, the kernel or devices. Each byte of `dst` ends up holding a
    /// value the page byte held during the call.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated (the conditions on
    /// memory apply only when `offset..offset + len` is inside the page):
    ///
    /// - `dst` is non-null and valid for writes of `len` bytes, except that
    ///   bytes of it may fault (memory this process mapped but can no longer
    ///   write, such as a truncated file): with the fault handler installed
    ///   that returns [`Error::Fault`], see [`crate::fault`];
    /// - `dst` points to memory that may be written through a shared pointer
    ///   (from `as_mut_ptr`, `AtomicBytes`, `UnsafeCell` or a mapping);
    /// - every concurrent access to `dst..dst + len` from this process is one
    ///   of this crate's operations or an atomic access of size 1;
    /// - `dst..dst + len` does not overlap `offset..offset + len` of the page.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + len` is not inside the
    /// page or `offset + len` overflows; nothing is copied then.
    /// [`Error::Fault`] if `dst` faulted (the kernel's `EFAULT`: memory
    /// this process mapped but can no longer write, with the fault handler
    /// installed, see [`crate::fault`]); `offset` then counts from `dst`, and
    /// some bytes may have been copied.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// page.as_bytes().write_at(10, &[7; 4])?;
    /// let mut out = [0u8; 4];
    /// // SAFETY: `out` is a private local, valid for 4 bytes, not in the page.
    /// unsafe { page.read_bytewise_atomic(out.as_mut_ptr(), 10, 4) }?;
    /// assert_eq!(out, [7; 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn read_bytewise_atomic(
        &self,
        dst: *mut u8,
        offset: usize,
        len: usize,
    ) -> Result<(), Error> {
        let src = self.as_bytes().range(offset, len)?;
        // SAFETY: `src` is a view of the page (valid, only accessed
        // atomically); `dst` is valid, only accessed atomically and disjoint
        // from it (caller).
        unsafe { crate::try_copy(src.as_ptr(), dst, len, Ordering::Relaxed) }
    }

    /// Copies `len` bytes from `src` to `offset` of the page, byte-wise
    /// atomic on both sides (Relaxed).
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated (the conditions on
    /// memory apply only when `offset..offset + len` is inside the page):
    ///
    /// - `src` is non-null and valid for reads of `len` bytes, except that
    ///   bytes of it may fault, as for
    ///   [`read_bytewise_atomic`](Self::read_bytewise_atomic);
    /// - `src` points to memory that may be written (from `as_mut_ptr`,
    ///   `AtomicBytes`, `UnsafeCell` or a mapping, not from a `&[u8]`), because
    ///   it is read with atomic accesses;
    /// - every concurrent access to `src..src + len` from this process is one
    ///   of this crate's operations or an atomic access of size 1;
    /// - `src..src + len` does not overlap `offset..offset + len` of the page.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if `offset..offset + len` is not inside the
    /// page or `offset + len` overflows; nothing is copied then.
    /// [`Error::Fault`] if `src` faulted (the kernel's `EFAULT`, as for
    /// [`read_bytewise_atomic`](Self::read_bytewise_atomic)); `offset` then
    /// counts from `src`, and some bytes may have been copied.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// let mut msg = *b"io";
    /// // SAFETY: `msg` is valid, writable (from `as_mut_ptr`), private and
    /// // not in the page.
    /// unsafe { page.write_bytewise_atomic(msg.as_mut_ptr(), 4094, 2) }?;
    /// assert_eq!(page.as_bytes().read_obj::<[u8; 2]>(4094)?, *b"io");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn write_bytewise_atomic(
        &self,
        src: *const u8,
        offset: usize,
        len: usize,
    ) -> Result<(), Error> {
        let dst = self.as_bytes().range(offset, len)?;
        // SAFETY: `dst` is a view of the page (valid, only accessed
        // atomically); `src` is valid, writable, only accessed atomically and
        // disjoint from it (caller).
        unsafe { crate::try_copy(src, dst.as_ptr(), len, Ordering::Relaxed) }
    }

    /// Reads exactly `len` bytes from `reader` and stores them at `offset`,
    /// byte-wise atomic on the page (Relaxed).
    ///
    /// The kernel's `copy_from_user_slice_raw`, with any [`std::io::Read`] in
    /// place of a `UserSliceReader`. The bytes are first read into a private
    /// buffer, so the page is written only if all `len` bytes arrived.
    ///
    /// # Errors
    ///
    /// - [`std::io::ErrorKind::InvalidInput`] wrapping [`Error::OutOfBounds`]
    ///   if `offset..offset + len` is not inside the page; the reader is not
    ///   touched then;
    /// - [`std::io::ErrorKind::UnexpectedEof`] if the reader ends early, and
    ///   any error the reader returns; the page is not written then, but the
    ///   reader may have consumed bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = bytewise::Page::alloc()?;
    /// page.copy_from_reader(&b"from a reader"[..], 0, 4)?; // any `Read`, by value
    /// assert_eq!(page.as_bytes().read_obj::<[u8; 4]>(0)?, *b"from");
    ///
    /// let mut stream = std::io::Cursor::new(b"one two");
    /// page.copy_from_reader(&mut stream, 8, 4)?; // or by `&mut`, to go on reading
    /// page.copy_from_reader(&mut stream, 12, 3)?;
    /// assert_eq!(page.as_bytes().read_obj::<[u8; 7]>(8)?, *b"one two");
    ///
    /// let short = page.copy_from_reader(&b"ab"[..], 0, 3).unwrap_err();
    /// assert_eq!(short.kind(), std::io::ErrorKind::UnexpectedEof);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn copy_from_reader<R: std::io::Read>(
        &self,
        mut reader: R,
        offset: usize,
        len: usize,
    ) -> std::io::Result<()> {
        let dst = self.as_bytes().range(offset, len)?;
        let mut buf = [0u8; PAGE_SIZE];
        let chunk = &mut buf[..len];
        reader.read_exact(chunk)?;
        dst.store(chunk, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc_zeroed(LAYOUT)` and only `drop` frees
        // it; `&mut self` means no view of the page is alive.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Self::LAYOUT) };
    }
}

impl fmt::Debug for Page {
    /// Shows the address; the contents may be changing, so they are not
    /// shown (use `as_bytes()` for a byte-wise atomic snapshot).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("ptr", &self.ptr)
            .field("size", &PAGE_SIZE)
            .finish()
    }
}
