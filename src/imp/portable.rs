//! The portable kernels: one relaxed `AtomicU8` access per shared byte.
//!
//! This is the implementation Miri and the sanitizers check, the fallback on
//! architectures without asm kernels, and the reference every asm kernel is
//! tested against.
//!
//! # Why bytes and not words
//!
//! A faster portable path would read the shared side with `AtomicUsize`. But a
//! writer in the same process may use `AtomicU8` (the contract allows it, and
//! this crate's own portable stores are byte-sized), and racing atomics of
//! different sizes are undefined behaviour in Rust's memory model: Miri
//! reports them. So every shared byte is one `AtomicU8` operation, exactly as
//! the contract describes the semantics.
//!
//! # What it costs
//!
//! LLVM vectorizes no atomic loop, so the shared side moves one byte per
//! instruction. The private side is batched: `load` gathers eight bytes into a
//! register and writes them with one unaligned store, and `store` reads eight
//! private bytes with one unaligned load. On the project's x86_64 machine this
//! runs at roughly 1 byte per cycle, about 0.05–0.2× of `memcpy` depending on
//! size; the asm kernels exist to close that gap.

use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

use super::Kernel;

// Every kernel here returns 0: a fault in this kernel is not recovered (it
// is the path under Miri and sanitizers, and plain Rust atomics have no
// exception-table entries), see `extable.rs`.

/// The portable kernels as a [`Kernel`] table.
pub(crate) const KERNEL: Kernel = Kernel {
    name: "portable",
    load,
    store,
    copy,
    fill,
};

/// The shared byte at `p`, as an atomic.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `p` is valid for reads and writes of one byte for `'a` (it is memory that
///   may be written: see the kernel contract in `imp/mod.rs`);
/// - every concurrent access to `*p` during `'a` is atomic.
#[inline(always)]
unsafe fn shared<'a>(p: *const u8) -> &'a AtomicU8 {
    // SAFETY: `AtomicU8` has the alignment of `u8`, so any byte pointer is
    // aligned; validity and atomic-only concurrent access are this
    // function's own preconditions.
    unsafe { AtomicU8::from_ptr(p.cast_mut()) }
}

const CHUNK: usize = 8;

/// Byte-wise atomic reads of `src`, plain writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
pub(crate) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
    let mut i = 0;
    while i + CHUNK <= len {
        let mut buf = [0u8; CHUNK];
        for (j, b) in buf.iter_mut().enumerate() {
            // SAFETY: `i + j < len`, so `src + i + j` is inside the shared
            // region, which the caller guarantees is valid and atomically
            // accessed.
            *b = unsafe { shared(src.wrapping_add(i + j)) }.load(Relaxed);
        }
        // SAFETY: `i + CHUNK <= len` and `dst` is valid for `len` bytes of
        // writes and private; `write_unaligned` needs no alignment.
        unsafe {
            dst.wrapping_add(i)
                .cast::<[u8; CHUNK]>()
                .write_unaligned(buf)
        };
        i += CHUNK;
    }
    while i < len {
        // SAFETY: `i < len`: in bounds of the shared region (see above).
        let b = unsafe { shared(src.wrapping_add(i)) }.load(Relaxed);
        // SAFETY: `i < len`: in bounds of the private destination.
        unsafe { dst.wrapping_add(i).write(b) };
        i += 1;
    }
    0
}

/// Plain reads of `src`, byte-wise atomic writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`; every byte of `src` must be
/// initialized.
pub(crate) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
    let mut i = 0;
    while i + CHUNK <= len {
        // SAFETY: `i + CHUNK <= len`; `src` is private, valid for `len` bytes
        // of reads and initialized; `read_unaligned` needs no alignment.
        let buf = unsafe { src.wrapping_add(i).cast::<[u8; CHUNK]>().read_unaligned() };
        for (j, b) in buf.into_iter().enumerate() {
            // SAFETY: `i + j < len`: in bounds of the shared destination,
            // which the caller guarantees is valid and atomically accessed.
            unsafe { shared(dst.wrapping_add(i + j)) }.store(b, Relaxed);
        }
        i += CHUNK;
    }
    while i < len {
        // SAFETY: `i < len`: in bounds of the private, initialized source.
        let b = unsafe { src.wrapping_add(i).read() };
        // SAFETY: `i < len`: in bounds of the shared destination.
        unsafe { shared(dst.wrapping_add(i)) }.store(b, Relaxed);
        i += 1;
    }
    0
}

/// Byte-wise atomic reads of `src` and writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
pub(crate) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) -> usize {
    for i in 0..len {
        // SAFETY: `i < len`: in bounds of the shared source.
        let b = unsafe { shared(src.wrapping_add(i)) }.load(Relaxed);
        // SAFETY: `i < len`: in bounds of the shared destination.
        unsafe { shared(dst.wrapping_add(i)) }.store(b, Relaxed);
    }
    0
}

/// Byte-wise atomic writes of `byte` to `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
pub(crate) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
    for i in 0..len {
        // SAFETY: `i < len`: in bounds of the shared destination.
        unsafe { shared(dst.wrapping_add(i)) }.store(byte, Relaxed);
    }
    0
}

/// `store` for a value just built by the caller: no separate path here (see
/// the x86_64 `store_value`), so staging a value before a lock still pays.
/// Used only where this is the selected path.
#[allow(unused_imports)]
pub(crate) use self::store as store_value;

/// Whether `store_value` handles a value of `len` bytes specially: never.
#[allow(dead_code)]
#[inline(always)]
pub(crate) const fn value_store_covers(_len: usize) -> bool {
    false
}
