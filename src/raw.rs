//! The raw primitives: `load`, `store`, `copy` and `fill`.
//!
//! These carry the proofs; every safe type in the crate is built on them.

use core::sync::atomic::{Ordering, fence};

use crate::Error;
use crate::imp;
use crate::imp::extable::SUPPORTED;

/// The fault a kernel reported, if faults are recovered in this build (the
/// check compiles away where they are not; see `imp/extable.rs`).
#[inline(always)]
fn faulted(fault: usize) -> bool {
    SUPPORTED && fault != 0
}

/// The panic of the infallible functions when their copy faulted: names the
/// address and the likely causes.
#[cold]
#[inline(never)]
#[track_caller]
fn fault_panic(what: &str, fault: usize, shared: usize, len: usize) -> ! {
    panic!(
        "bytewise: {what} of {len} bytes at {shared:#x} faulted at address {fault:#x}: the memory \
         is no longer accessible. Is the mapping shorter than the view (was the file \
         truncated?), or was the page unmapped, protected or poisoned? The try_* functions and \
         the Result-returning methods report this as Error::Fault."
    )
}

/// Panics unless `order` is valid for a load (Relaxed, Acquire or SeqCst).
#[inline]
#[track_caller]
pub(crate) fn check_load_ordering(order: Ordering) {
    match order {
        Ordering::Relaxed | Ordering::Acquire | Ordering::SeqCst => {}
        Ordering::Release => panic!("there is no such thing as a release load"),
        Ordering::AcqRel => panic!("there is no such thing as an acquire-release load"),
        _ => panic!("unsupported ordering {order:?} for a load"),
    }
}

/// Panics unless `order` is valid for a store (Relaxed, Release or SeqCst).
#[inline]
#[track_caller]
pub(crate) fn check_store_ordering(order: Ordering) {
    match order {
        Ordering::Relaxed | Ordering::Release | Ordering::SeqCst => {}
        Ordering::Acquire => panic!("there is no such thing as an acquire store"),
        Ordering::AcqRel => panic!("there is no such thing as an acquire-release store"),
        _ => panic!("unsupported ordering {order:?} for a store"),
    }
}

/// The fence a store-like operation issues before its copy.
#[inline]
fn fence_before(order: Ordering) {
    match order {
        Ordering::Release | Ordering::AcqRel => fence(Ordering::Release),
        Ordering::SeqCst => fence(Ordering::SeqCst),
        _ => {}
    }
}

/// The fence a load-like operation issues after its copy.
#[inline]
fn fence_after(order: Ordering) {
    match order {
        Ordering::Acquire | Ordering::AcqRel => fence(Ordering::Acquire),
        Ordering::SeqCst => fence(Ordering::SeqCst),
        _ => {}
    }
}

/// Debug-checks the pointer preconditions that can be checked cheaply.
#[inline(always)]
#[track_caller]
fn debug_check(src: *const u8, dst: *const u8, len: usize) {
    debug_assert!(!src.is_null() && !dst.is_null(), "bytewise: null pointer");
    debug_assert!(
        len == 0 || {
            let (s, d) = (src.addr(), dst.addr());
            s.checked_add(len).is_some_and(|e| e <= d) || d.checked_add(len).is_some_and(|e| e <= s)
        },
        "bytewise: source and destination overlap"
    );
}

/// Copies `len` bytes from shared memory at `src` to private memory at `dst`,
/// reading each source byte with a byte-wise atomic load.
///
/// This is P1478's `atomic_load_per_byte_memcpy` and the concurrent-safe
/// counterpart of [`core::ptr::copy_nonoverlapping`] for a source that others
/// may write at the same time. Each byte of `dst` ends up holding a value the
/// corresponding `src` byte really held during the call (bytes may come from
/// different moments: tearing is possible, but only between bytes). The copy
/// is never elided or re-read later, so validating `dst` and then using it is
/// free of double fetches.
///
/// `order` applies after the copy: `Acquire` issues `fence(Acquire)`,
/// `SeqCst` issues `fence(SeqCst)`, `Relaxed` issues nothing.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
///
/// - `len` is 0 and both pointers are non-null, or `src` is valid for reads
///   and `dst` is valid for writes of `len` bytes; no alignment is required;
/// - `src` points to memory that may be written (derived from `AtomicBytes`,
///   `UnsafeCell`, a `*mut` allocation or a mapping, not from a `&[u8]` or
///   `&T` to memory without interior mutability);
/// - every concurrent access to `src..src+len` from this process is one of
///   this crate's operations or an atomic access of size 1 (other processes,
///   the kernel and devices may write it in any way);
/// - nothing accesses `dst..dst+len` concurrently;
/// - the two regions do not overlap (checked by a debug assertion).
///
/// # Panics
///
/// Panics if `order` is `Release` or `AcqRel`, before touching memory.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let mut backing = [1u8, 2, 3, 4];
/// let shared = AtomicBytes::from_mut(&mut backing);
/// let mut local = [0u8; 4];
/// // SAFETY: `shared` is valid for 4 bytes and only accessed atomically;
/// // `local` is private; they do not overlap.
/// unsafe { bytewise::load(shared.as_ptr(), local.as_mut_ptr(), 4, Ordering::Acquire) };
/// assert_eq!(local, [1, 2, 3, 4]);
/// ```
#[inline]
#[track_caller]
pub unsafe fn load(src: *const u8, dst: *mut u8, len: usize, order: Ordering) {
    check_load_ordering(order);
    debug_check(src, dst, len);
    // SAFETY: the kernel contract (imp/mod.rs) is this function's `# Safety`
    // section: valid, non-overlapping regions, a shared `src` accessed only
    // atomically, a private `dst`.
    let fault = unsafe { imp::load(src, dst, len) };
    if faulted(fault) {
        fault_panic("load", fault, src.addr(), len);
    }
    fence_after(order);
}

/// [`load`] of one whole `T`, returned by value: on x86_64 a 16-, 32- or
/// 64-byte value is built in registers instead of a buffer that is then
/// copied again (see `imp::load_value`).
///
/// # Safety
///
/// As [`load`], with `src` valid for `size_of::<T>()` bytes and the returned
/// value as the private destination.
///
/// # Panics
///
/// As [`load`].
#[inline]
#[track_caller]
pub(crate) unsafe fn load_value<T>(src: *const T, order: Ordering) -> core::mem::MaybeUninit<T> {
    check_load_ordering(order);
    // SAFETY: the kernel contract is this function's `# Safety` section.
    let (value, fault) = unsafe { imp::load_value::<T>(src.cast()) };
    if faulted(fault) {
        fault_panic("load", fault, src.addr(), core::mem::size_of::<T>());
    }
    fence_after(order);
    value
}

/// [`load`] that reports a fault as an error instead of dying by it:
/// `SIGSEGV`/`SIGBUS` raised by the copy (a truncated file, a page that was
/// unmapped, protected or poisoned) makes it return [`Error::Fault`] once
/// the handler is installed (see [`crate::fault`]).
///
/// `offset` is that of a byte that could not be read, counted from `src`.
/// After a fault the contents of `dst` are unspecified. Where
/// [`crate::fault::is_supported`] is false this is `load` and returns `Ok`.
///
/// # Safety
///
/// As [`load`], except that `src..src+len` may contain bytes whose access
/// faults (the memory must still be mapped by this process or have been:
/// the handler recovers faults, not wild pointers into memory that some
/// allocator may reuse).
///
/// # Errors
///
/// [`Error::Fault`] if the copy faulted.
///
/// # Panics
///
/// Panics if `order` is `Release` or `AcqRel`, before touching memory.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let mut backing = [1u8, 2, 3, 4];
/// let shared = AtomicBytes::from_mut(&mut backing);
/// let mut local = [0u8; 4];
/// // SAFETY: as for `load`.
/// unsafe { bytewise::try_load(shared.as_ptr(), local.as_mut_ptr(), 4, Ordering::Acquire) }?;
/// assert_eq!(local, [1, 2, 3, 4]);
/// # Ok::<(), bytewise::Error>(())
/// ```
#[inline]
#[track_caller]
pub unsafe fn try_load(
    src: *const u8,
    dst: *mut u8,
    len: usize,
    order: Ordering,
) -> Result<(), Error> {
    check_load_ordering(order);
    debug_check(src, dst, len);
    // SAFETY: as in `load`; a fault returns instead (kernel contract).
    let fault = unsafe { imp::load(src, dst, len) };
    if faulted(fault) {
        return Err(Error::fault(fault, src.addr(), dst.addr(), len));
    }
    fence_after(order);
    Ok(())
}

/// Copies `len` bytes from private memory at `src` to shared memory at `dst`,
/// writing each destination byte with a byte-wise atomic store.
///
/// This is P1478's `atomic_store_per_byte_memcpy`. `order` applies before the
/// copy: `Release` issues `fence(Release)`, `SeqCst` issues `fence(SeqCst)`.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
///
/// - `len` is 0 and both pointers are non-null, or `src` is valid for reads
///   and `dst` is valid for writes of `len` bytes; no alignment is required;
/// - every byte of `src..src+len` is initialized;
/// - every concurrent access to `dst..dst+len` from this process is one of
///   this crate's operations or an atomic access of size 1;
/// - nothing writes `src..src+len` concurrently;
/// - the two regions do not overlap (checked by a debug assertion).
///
/// # Panics
///
/// Panics if `order` is `Acquire` or `AcqRel`, before touching memory.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let mut backing = [0u8; 3];
/// let shared = AtomicBytes::from_mut(&mut backing);
/// let msg = *b"hey";
/// // SAFETY: `msg` is initialized and private; `shared` is valid for 3 bytes
/// // and only accessed atomically; they do not overlap.
/// unsafe { bytewise::store(msg.as_ptr(), shared.as_ptr(), 3, Ordering::Release) };
/// assert_eq!(shared.to_vec(Ordering::Acquire), b"hey");
/// ```
#[inline]
#[track_caller]
pub unsafe fn store(src: *const u8, dst: *mut u8, len: usize, order: Ordering) {
    // SAFETY: this function's `# Safety` section is `store_with`'s.
    let fault = unsafe { store_with(imp::store, src, dst, len, order) };
    if faulted(fault) {
        fault_panic("store", fault, dst.addr(), len);
    }
}

/// [`store`] that reports a fault as [`Error::Fault`] (see [`try_load`]).
///
/// `offset` is that of a byte that could not be written, counted from
/// `dst`. After a fault some bytes of `dst` may have been written, each at
/// most once.
///
/// # Safety
///
/// As [`store`], except that `dst..dst+len` may contain bytes whose access
/// faults (see [`try_load`]).
///
/// # Errors
///
/// [`Error::Fault`] if the copy faulted.
///
/// # Panics
///
/// Panics if `order` is `Acquire` or `AcqRel`, before touching memory.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let mut backing = [0u8; 3];
/// let shared = AtomicBytes::from_mut(&mut backing);
/// // SAFETY: as for `store`.
/// unsafe { bytewise::try_store(b"hey".as_ptr(), shared.as_ptr(), 3, Ordering::Release) }?;
/// assert_eq!(shared.to_vec(Ordering::Acquire), b"hey");
/// # Ok::<(), bytewise::Error>(())
/// ```
#[inline]
#[track_caller]
pub unsafe fn try_store(
    src: *const u8,
    dst: *mut u8,
    len: usize,
    order: Ordering,
) -> Result<(), Error> {
    // SAFETY: this function's `# Safety` section is `store_with`'s.
    let fault = unsafe { store_with(imp::store, src, dst, len, order) };
    if faulted(fault) {
        return Err(Error::fault(fault, dst.addr(), src.addr(), len));
    }
    Ok(())
}

/// [`store`] for a `src` that is a value the caller has just built (a `T`
/// taken by value): the kernels may then move it in pieces that the CPU
/// forwards from the stores that wrote it (`imp::store_value`).
///
/// # Safety
///
/// As [`store`].
#[inline]
#[track_caller]
pub(crate) unsafe fn store_value(src: *const u8, dst: *mut u8, len: usize, order: Ordering) {
    // SAFETY: the caller upholds `store`'s contract, which is `store_with`'s.
    let fault = unsafe { store_with(imp::store_value, src, dst, len, order) };
    if faulted(fault) {
        fault_panic("store", fault, dst.addr(), len);
    }
}

/// The body of [`store`] and [`store_value`], with the kernel to use.
///
/// # Safety
///
/// As [`store`]; `kernel` has the kernel contract of `imp/mod.rs` for
/// `store`. Returns the kernel's result (0 or the faulting address).
#[inline(always)]
#[track_caller]
unsafe fn store_with(
    kernel: unsafe fn(*const u8, *mut u8, usize) -> usize,
    src: *const u8,
    dst: *mut u8,
    len: usize,
    order: Ordering,
) -> usize {
    check_store_ordering(order);
    debug_check(src, dst, len);
    fence_before(order);
    // SAFETY: the kernel contract (imp/mod.rs) is this function's `# Safety`
    // section: valid, non-overlapping regions, an initialized private `src`,
    // a shared `dst` accessed only atomically.
    unsafe { kernel(src, dst, len) }
}

/// Copies `len` bytes between two shared regions, byte-wise atomic on both
/// sides.
///
/// Every ordering is accepted: `Release`, `AcqRel` and `SeqCst` fence before
/// the copy, `Acquire`, `AcqRel` and `SeqCst` fence after it.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
///
/// - `len` is 0 and both pointers are non-null, or `src` is valid for reads
///   and `dst` is valid for writes of `len` bytes; no alignment is required;
/// - `src` points to memory that may be written (see [`load`]);
/// - every concurrent access to either region from this process is one of
///   this crate's operations or an atomic access of size 1;
/// - the two regions do not overlap (checked by a debug assertion).
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let (mut a, mut b) = ([7u8; 8], [0u8; 8]);
/// let (a, b) = (AtomicBytes::from_mut(&mut a), AtomicBytes::from_mut(&mut b));
/// // SAFETY: both views are valid for 8 bytes, only accessed atomically and
/// // do not overlap.
/// unsafe { bytewise::copy(a.as_ptr(), b.as_ptr(), 8, Ordering::SeqCst) };
/// assert_eq!(b.to_vec(Ordering::Relaxed), [7; 8]);
/// ```
#[inline]
#[track_caller]
pub unsafe fn copy(src: *const u8, dst: *mut u8, len: usize, order: Ordering) {
    debug_check(src, dst, len);
    fence_before(order);
    // SAFETY: the kernel contract (imp/mod.rs) is this function's `# Safety`
    // section: valid, non-overlapping regions, both accessed only atomically.
    let fault = unsafe { imp::copy(src, dst, len) };
    if faulted(fault) {
        fault_panic("copy", fault, src.addr(), len);
    }
    fence_after(order);
}

/// [`copy`] that reports a fault as [`Error::Fault`] (see [`try_load`]).
///
/// `offset` is that of a byte that could not be copied: the faulting
/// address minus `src` or minus `dst`, whichever region it lies in. After a
/// fault some bytes of `dst` may have been written, each at most once.
///
/// # Safety
///
/// As [`copy`], except that either region may contain bytes whose access
/// faults (see [`try_load`]).
///
/// # Errors
///
/// [`Error::Fault`] if the copy faulted.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let (mut a, mut b) = ([7u8; 8], [0u8; 8]);
/// let (a, b) = (AtomicBytes::from_mut(&mut a), AtomicBytes::from_mut(&mut b));
/// // SAFETY: as for `copy`.
/// unsafe { bytewise::try_copy(a.as_ptr(), b.as_ptr(), 8, Ordering::SeqCst) }?;
/// assert_eq!(b.to_vec(Ordering::Relaxed), [7; 8]);
/// # Ok::<(), bytewise::Error>(())
/// ```
#[inline]
#[track_caller]
pub unsafe fn try_copy(
    src: *const u8,
    dst: *mut u8,
    len: usize,
    order: Ordering,
) -> Result<(), Error> {
    debug_check(src, dst, len);
    fence_before(order);
    // SAFETY: as in `copy`; a fault returns instead (kernel contract).
    let fault = unsafe { imp::copy(src, dst, len) };
    if faulted(fault) {
        return Err(Error::fault(fault, src.addr(), dst.addr(), len));
    }
    fence_after(order);
    Ok(())
}

/// Sets `len` bytes of shared memory at `dst` to `byte`, each with a byte-wise
/// atomic store.
///
/// The byte-wise atomic counterpart of [`core::ptr::write_bytes`]. `order`
/// works as for [`store`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
///
/// - `len` is 0 and `dst` is non-null, or `dst` is valid for writes of `len`
///   bytes; no alignment is required;
/// - every concurrent access to `dst..dst+len` from this process is one of
///   this crate's operations or an atomic access of size 1.
///
/// # Panics
///
/// Panics if `order` is `Acquire` or `AcqRel`, before touching memory.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let mut backing = [1u8; 4];
/// let shared = AtomicBytes::from_mut(&mut backing);
/// // SAFETY: `shared` is valid for 4 bytes and only accessed atomically.
/// unsafe { bytewise::fill(shared.as_ptr(), 0xAA, 4, Ordering::Release) };
/// assert_eq!(shared.to_vec(Ordering::Acquire), [0xAA; 4]);
/// ```
#[inline]
#[track_caller]
pub unsafe fn fill(dst: *mut u8, byte: u8, len: usize, order: Ordering) {
    check_store_ordering(order);
    debug_assert!(!dst.is_null(), "bytewise: null pointer");
    fence_before(order);
    // SAFETY: the kernel contract (imp/mod.rs) is this function's `# Safety`
    // section: `dst` valid for `len` bytes and only accessed atomically.
    let fault = unsafe { imp::fill(dst, byte, len) };
    if faulted(fault) {
        fault_panic("fill", fault, dst.addr(), len);
    }
}

/// [`fill`] that reports a fault as [`Error::Fault`] (see [`try_load`]).
///
/// `offset` is that of a byte that could not be written, counted from
/// `dst`. After a fault some bytes may have been written, each at most once.
///
/// # Safety
///
/// As [`fill`], except that `dst..dst+len` may contain bytes whose access
/// faults (see [`try_load`]).
///
/// # Errors
///
/// [`Error::Fault`] if the fill faulted.
///
/// # Panics
///
/// Panics if `order` is `Acquire` or `AcqRel`, before touching memory.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Ordering};
///
/// let mut backing = [1u8; 4];
/// let shared = AtomicBytes::from_mut(&mut backing);
/// // SAFETY: as for `fill`.
/// unsafe { bytewise::try_fill(shared.as_ptr(), 0xAA, 4, Ordering::Release) }?;
/// assert_eq!(shared.to_vec(Ordering::Acquire), [0xAA; 4]);
/// # Ok::<(), bytewise::Error>(())
/// ```
#[inline]
#[track_caller]
pub unsafe fn try_fill(dst: *mut u8, byte: u8, len: usize, order: Ordering) -> Result<(), Error> {
    check_store_ordering(order);
    debug_assert!(!dst.is_null(), "bytewise: null pointer");
    fence_before(order);
    // SAFETY: as in `fill`; a fault returns instead (kernel contract).
    let fault = unsafe { imp::fill(dst, byte, len) };
    if faulted(fault) {
        return Err(Error::fault(fault, dst.addr(), dst.addr(), len));
    }
    Ok(())
}
