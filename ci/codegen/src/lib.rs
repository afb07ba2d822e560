//! Shapes that LLVM turns into double fetches when the copy out of shared
//! memory is a plain copy, each written three ways:
//!
//! - `*_load`: the copy is `bytewise::load`;
//! - `*_read_obj`: the copy is `AtomicBytes::read_obj` (or
//!   `read_obj_checked`, for the descriptor of shape (d));
//! - `*_plain`: the copy is `ptr::copy_nonoverlapping`, or for shape (d)
//!   `bytemuck::checked::try_from_bytes` on the shared bytes (the negative
//!   control: `check-ir` must report it).
//!
//! Every checked function is `#[unsafe(no_mangle)]` and takes the shared
//! memory as its first argument, which is what `check-ir` tracks. The
//! `asm_*` wrappers at the end exist for the aarch64 asm snapshot
//! (`ci/asm-snapshot-aarch64.sh`).

use bytewise::{AtomicBytes, Ordering};
use core::mem::{MaybeUninit, size_of};

/// The size of the table that `idx` indexes.
pub const LEN: usize = 64;

/// A 64-byte header, as a request in a shared ring might carry.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Header {
    /// Validated against [`LEN`] before use.
    pub idx: u32,
    /// Unvalidated payload.
    pub kind: u32,
    /// Unvalidated payload.
    pub payload: [u64; 7],
}

/// An 8-byte header.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Small {
    /// Validated against [`LEN`] before use.
    pub idx: u32,
    /// Unvalidated payload.
    pub len: u32,
}

// SAFETY (both impls, for `Header` and `Small`): `repr(C)` structs of
// integers with no padding (4 + 4 + 7 * 8 = 64 bytes, 8-aligned; 4 + 4 = 8
// bytes, 4-aligned), so every bit pattern is valid, all-zero included, and
// they are `Copy + 'static`. (Written by hand so that this crate does not
// build `syn` for the derive at every optimization level.)
unsafe impl bytemuck::Zeroable for Header {}
// SAFETY: see above.
unsafe impl bytemuck::Pod for Header {}
// SAFETY: see above.
unsafe impl bytemuck::Zeroable for Small {}
// SAFETY: see above.
unsafe impl bytemuck::Pod for Small {}

impl Header {
    /// The validation of shape (b): a non-inlined `&self` method.
    #[inline(never)]
    pub fn is_valid(&self) -> bool {
        (self.idx as usize) < LEN
    }
}

/// The consumer of shape (a): takes the header by value and trusts `idx`.
///
/// # Safety
///
/// Behavior is undefined if `h.idx >= LEN`.
#[inline(never)]
pub unsafe fn consume(h: Header, table: &[u8; LEN]) -> u8 {
    // SAFETY: the caller validated `h.idx < LEN`.
    unsafe { *table.get_unchecked(h.idx as usize) }
}

/// `size_of::<T>()` bytes of `shared` copied with `bytewise::load`.
///
/// # Safety
///
/// `shared` is valid for reads of `size_of::<T>()` bytes and only accessed
/// atomically by others.
#[inline(always)]
unsafe fn bytewise_copy<T: bytemuck::AnyBitPattern>(shared: *const T) -> T {
    let mut v = MaybeUninit::<T>::uninit();
    // SAFETY: the caller's guarantee; `v` is private and `size_of::<T>()` long.
    unsafe {
        bytewise::load(
            shared.cast(),
            v.as_mut_ptr().cast(),
            size_of::<T>(),
            Ordering::Relaxed,
        )
    };
    // SAFETY: `load` initialized every byte; any bit pattern is a valid `T`.
    unsafe { v.assume_init() }
}

/// `size_of::<T>()` bytes of `shared` copied with `copy_nonoverlapping`.
///
/// # Safety
///
/// `shared` is valid for reads of `size_of::<T>()` bytes (racing writes make
/// this UB: that is the point of the negative control).
#[inline(always)]
unsafe fn plain_copy<T: bytemuck::AnyBitPattern>(shared: *const T) -> T {
    let mut v = MaybeUninit::<T>::uninit();
    // SAFETY: the caller's guarantee; `v` is private and `size_of::<T>()` long.
    unsafe { core::ptr::copy_nonoverlapping(shared, v.as_mut_ptr(), 1) };
    // SAFETY: every byte was copied; any bit pattern is a valid `T`.
    unsafe { v.assume_init() }
}

// ---- shape (a): validate a field, pass the copy by value -------------------

/// Shape (a) with the validated copy consumed by value.
#[inline(always)]
fn shape_a(h: Header, table: &[u8; LEN]) -> u8 {
    if (h.idx as usize) < LEN {
        // SAFETY: `h.idx < LEN` was just checked on this very copy.
        unsafe { consume(h, table) }
    } else {
        0
    }
}

/// Shape (a) with `bytewise::load`.
///
/// # Safety
///
/// `shared` is valid for reads of 64 bytes, only accessed atomically by others.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn a_load(shared: *const Header, table: &[u8; LEN]) -> u8 {
    // SAFETY: the caller's guarantee.
    shape_a(unsafe { bytewise_copy(shared) }, table)
}

/// Shape (a) with `AtomicBytes::read_obj`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn a_read_obj(shared: &AtomicBytes, table: &[u8; LEN]) -> u8 {
    match shared.read_obj::<Header>(0) {
        Ok(h) => shape_a(h, table),
        Err(_) => 0,
    }
}

/// Shape (a) with `copy_nonoverlapping` (negative control).
///
/// # Safety
///
/// `shared` is valid for reads of 64 bytes and nobody writes it.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn a_plain(shared: *const Header, table: &[u8; LEN]) -> u8 {
    // SAFETY: the caller's guarantee.
    shape_a(unsafe { plain_copy(shared) }, table)
}

// ---- shape (b): validate through `&self`, then `*out = copy` ---------------

#[inline(always)]
fn shape_b(h: Header, out: &mut Header) -> bool {
    if h.is_valid() {
        *out = h;
        true
    } else {
        false
    }
}

/// Shape (b) with `bytewise::load`.
///
/// # Safety
///
/// `shared` is valid for reads of 64 bytes, only accessed atomically by others.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn b_load(shared: *const Header, out: &mut Header) -> bool {
    // SAFETY: the caller's guarantee.
    shape_b(unsafe { bytewise_copy(shared) }, out)
}

/// Shape (b) with `AtomicBytes::read_obj`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn b_read_obj(shared: &AtomicBytes, out: &mut Header) -> bool {
    match shared.read_obj::<Header>(0) {
        Ok(h) => shape_b(h, out),
        Err(_) => false,
    }
}

/// Shape (b) with `copy_nonoverlapping` (negative control).
///
/// # Safety
///
/// `shared` is valid for reads of 64 bytes and nobody writes it.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn b_plain(shared: *const Header, out: &mut Header) -> bool {
    // SAFETY: the caller's guarantee.
    shape_b(unsafe { plain_copy(shared) }, out)
}

// ---- shape (c): an 8-byte header whose copy escapes ------------------------

/// The escape of shape (c): the copy's address leaks to code the optimizer
/// cannot see through.
#[inline(never)]
pub fn escape(h: &Small) {
    core::hint::black_box(h);
}

#[inline(always)]
fn shape_c(h: Small) -> u32 {
    if (h.idx as usize) < LEN {
        escape(&h);
        h.idx
    } else {
        u32::MAX
    }
}

/// Shape (c) with `bytewise::load`.
///
/// # Safety
///
/// `shared` is valid for reads of 8 bytes, only accessed atomically by others.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn c_load(shared: *const Small) -> u32 {
    // SAFETY: the caller's guarantee.
    shape_c(unsafe { bytewise_copy(shared) })
}

/// Shape (c) with `AtomicBytes::read_obj`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn c_read_obj(shared: &AtomicBytes) -> u32 {
    match shared.read_obj::<Small>(0) {
        Ok(h) => shape_c(h),
        Err(_) => u32::MAX,
    }
}

/// Shape (c) with `copy_nonoverlapping` (negative control).
///
/// # Safety
///
/// `shared` is valid for reads of 8 bytes and nobody writes it.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn c_plain(shared: *const Small) -> u32 {
    // SAFETY: the caller's guarantee.
    shape_c(unsafe { plain_copy(shared) })
}

// ---- shape (d): a checked read of a descriptor with an enum and a bool ------

/// The kind of a [`Desc`]: only 1 and 2 are valid.
#[repr(u8)]
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A read request.
    Read = 1,
    /// A write request.
    Write = 2,
}

/// A 16-byte descriptor with fields that not every bit pattern fits.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Desc {
    /// Validated against [`LEN`] before use.
    pub idx: u32,
    /// Validated by the checked read.
    pub kind: Kind,
    /// Validated by the checked read.
    pub last: bool,
    /// Explicit padding.
    pub pad: [u8; 2],
    /// Unvalidated payload.
    pub addr: u64,
}

/// The bits of a [`Desc`], for its `CheckedBitPattern` impl.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DescBits {
    idx: u32,
    kind: u8,
    last: u8,
    pad: [u8; 2],
    addr: u64,
}

// SAFETY: `DescBits` is a `repr(C)` struct of integers with no padding
// (4 + 1 + 1 + 2 + 8 = 16 bytes, 8-aligned): every bit pattern is valid.
unsafe impl bytemuck::Zeroable for DescBits {}
// SAFETY: see above.
unsafe impl bytemuck::Pod for DescBits {}

// SAFETY: `Desc` has the layout of `DescBits` (same field sizes, offsets and
// alignment, both `repr(C)`), and the check accepts exactly the bit patterns
// that are valid for `kind` (1, 2) and `last` (0, 1).
unsafe impl bytemuck::CheckedBitPattern for Desc {
    type Bits = DescBits;
    fn is_valid_bit_pattern(b: &DescBits) -> bool {
        matches!(b.kind, 1 | 2) && b.last <= 1
    }
}

/// The consumer of shape (d): trusts `idx` and matches on `kind`.
///
/// # Safety
///
/// Behavior is undefined if `d.idx >= LEN`.
#[inline(never)]
pub unsafe fn consume_desc(d: Desc, table: &[u8; LEN]) -> u8 {
    // SAFETY: the caller validated `d.idx < LEN`.
    let byte = unsafe { *table.get_unchecked(d.idx as usize) };
    match d.kind {
        Kind::Read => byte,
        Kind::Write => byte.wrapping_add(u8::from(d.last)) ^ d.addr as u8,
    }
}

/// Shape (d): validate `idx` of a checked copy, use the copy.
#[inline(always)]
fn shape_d(d: &Desc, table: &[u8; LEN]) -> u8 {
    if (d.idx as usize) < LEN {
        // SAFETY: `d.idx < LEN` was just checked.
        unsafe { consume_desc(*d, table) }
    } else {
        0
    }
}

/// Shape (d) with `AtomicBytes::read_obj_checked`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn d_read_obj_checked(shared: &AtomicBytes, table: &[u8; LEN]) -> u8 {
    match shared.read_obj_checked::<Desc>(0) {
        Ok(d) => shape_d(&d, table),
        Err(_) => 0,
    }
}

/// Shape (d) with `bytemuck::checked::try_from_bytes` on the shared bytes
/// (negative control): it validates in place and returns a reference, so
/// every later field read is a fresh fetch of shared memory.
///
/// # Safety
///
/// `shared` is valid for reads of 16 bytes, 8-aligned, and nobody writes it.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn d_plain(shared: *const u8, table: &[u8; LEN]) -> u8 {
    // SAFETY: the caller's guarantee.
    let bytes = unsafe { core::slice::from_raw_parts(shared, size_of::<Desc>()) };
    match bytemuck::checked::try_from_bytes::<Desc>(bytes) {
        Ok(d) => shape_d(d, table),
        Err(_) => 0,
    }
}

// ---- wrappers for the aarch64 asm snapshot ----------------------------------

/// `bytewise::load`, Relaxed: the public path as callers get it inlined.
///
/// # Safety
///
/// As [`bytewise::load`].
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn asm_load_relaxed(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: the caller's guarantee.
    unsafe { bytewise::load(src, dst, len, Ordering::Relaxed) }
}

/// `bytewise::load`, Acquire (a fence after the copy).
///
/// # Safety
///
/// As [`bytewise::load`].
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn asm_load_acquire(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: the caller's guarantee.
    unsafe { bytewise::load(src, dst, len, Ordering::Acquire) }
}

/// `bytewise::load` of a constant 16 bytes, Relaxed.
///
/// # Safety
///
/// As [`bytewise::load`] with `len == 16`.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn asm_load_16(src: *const u8, dst: *mut u8) {
    // SAFETY: the caller's guarantee.
    unsafe { bytewise::load(src, dst, 16, Ordering::Relaxed) }
}

/// `bytewise::store`, Release (a fence before the copy).
///
/// # Safety
///
/// As [`bytewise::store`].
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn asm_store_release(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: the caller's guarantee.
    unsafe { bytewise::store(src, dst, len, Ordering::Release) }
}

/// `bytewise::copy`, SeqCst (fences on both sides).
///
/// # Safety
///
/// As [`bytewise::copy`].
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn asm_copy_seqcst(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: the caller's guarantee.
    unsafe { bytewise::copy(src, dst, len, Ordering::SeqCst) }
}

/// `bytewise::fill`, Relaxed.
///
/// # Safety
///
/// As [`bytewise::fill`].
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn asm_fill_relaxed(dst: *mut u8, byte: u8, len: usize) {
    // SAFETY: the caller's guarantee.
    unsafe { bytewise::fill(dst, byte, len, Ordering::Relaxed) }
}

/// `AtomicBytes::read_obj::<Header>`: bounds check, then the copy.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn asm_read_obj_header(shared: &AtomicBytes, offset: usize) -> Result<Header, bytewise::Error> {
    shared.read_obj(offset)
}
