//! x86_64 kernels in inline assembly.
//!
//! `rep movsb` / `rep stosb`: the string instructions access memory one byte
//! at a time architecturally (Intel SDM Vol. 1 §7.3.9.3 and Vol. 3A §9.1.1:
//! the fast-string microcode may group stores, but each byte is written
//! exactly once and no byte is read or written partially). So each byte is
//! accessed as if by a relaxed `AtomicU8` operation.

use super::Kernel;
use super::alloc_free::KernelList;
use core::arch::asm;

/// `rep movsb` on both sides.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
unsafe fn rep_movsb(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY:
    // - the caller guarantees `src`/`dst` are valid for `len` bytes and do not
    //   overlap, so `rep movsb` with DF=0 (guaranteed clear on entry to asm by
    //   the Rust inline-asm rules) stays in bounds;
    // - every byte is read and written once by the string instruction, which
    //   is single-copy atomic per byte (module docs);
    // - `nostack`: no stack use; `preserves_flags` is not claimed because the
    //   instruction set architecture leaves arithmetic flags unchanged but we
    //   do not rely on it.
    unsafe {
        asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rsi") src => _,
            inout("rdi") dst => _,
            options(nostack),
        );
    }
}

/// Byte-wise atomic reads of `src`, plain writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
pub(crate) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { rep_movsb(src, dst, len) }
}

/// Plain reads of `src`, byte-wise atomic writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
pub(crate) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { rep_movsb(src, dst, len) }
}

/// Byte-wise atomic on both sides.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
pub(crate) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { rep_movsb(src, dst, len) }
}

/// Byte-wise atomic writes of `byte`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
pub(crate) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) {
    // SAFETY:
    // - the caller guarantees `dst` is valid for `len` bytes of writes;
    // - `rep stosb` writes each byte once (module docs); DF=0 on asm entry.
    unsafe {
        asm!(
            "rep stosb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            in("al") byte,
            options(nostack),
        );
    }
}

const REP_MOVSB: Kernel = Kernel { name: "rep_movsb", load, store, copy, fill };

/// Appends the asm kernels this CPU supports.
pub(crate) fn supported_kernels(list: &mut KernelList) {
    list.push(REP_MOVSB);
}
