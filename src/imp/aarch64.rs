//! aarch64 kernels in inline assembly.
//!
//! Two implementations of the kernel contract (see `imp/mod.rs`):
//!
//! - `neon`: 64-byte blocks moved with two `ldp`/`stp` pairs of 128-bit `q`
//!   registers, then a tail of at most one 32-byte pair, one 16-byte `q`
//!   access and one each of 8, 4, 2 and 1 bytes in general-purpose registers.
//!   `fill` replicates the byte with `dup` and stores `q` registers. This is
//!   what the public functions use whenever the target has Advanced SIMD
//!   (always on `aarch64-unknown-linux-gnu`, `-apple-darwin`, `-pc-windows-*`).
//! - `scalar`: general-purpose registers only: 16-byte `ldp`/`stp` of two `x`
//!   registers, then the same 8/4/2/1 tail. It is the public path on targets
//!   without Advanced SIMD (such as `aarch64-unknown-none-softfloat`) and a
//!   second implementation for the differential tests everywhere.
//!
//! # Why every access is byte-wise atomic
//!
//! Arm Architecture Reference Manual for A-profile (DDI 0487), B2.2.1
//! "Requirements for single-copy atomicity": a load or store of a single
//! general-purpose register that is aligned to its size is single-copy atomic,
//! so every byte access (`ldrb`/`strb`, always aligned) is; every access that
//! the rules do not make single-copy atomic as a whole (unaligned `ldr`/`ldp`,
//! any `q` register access) is regarded as a stream of single-copy atomic
//! accesses to bytes, with no atomicity between different bytes. So each byte
//! any instruction here touches is read or written by a single-copy atomic
//! access of that byte, which is exactly how a relaxed `AtomicU8` access
//! compiles on aarch64 (a plain `ldrb`/`strb`). FEAT_LSE2 would make aligned
//! 16-byte accesses atomic as a whole; we need only the byte-granular
//! guarantee, which every Armv8-A core gives, so FEAT_LSE2 is not required.
//!
//! # Why each byte is accessed exactly once
//!
//! No access overlaps another: the length is consumed from the bottom up,
//! first in 64-byte (or 16-byte) blocks counted by `len >> 6` (`len >> 4`),
//! then by testing bits 5..0 of `len` (`tbz`), each set bit moving exactly
//! that many bytes and advancing both pointers by that amount (post-index
//! addressing). Bit `k` of `len` is unchanged by subtracting whole blocks of
//! `2^6` bytes, so the tail moves exactly `len mod 64` bytes after the blocks.
//! A shared byte is therefore never read twice nor written twice (an
//! overlapping tail store would write a shared byte twice, which a concurrent
//! reader could see as "old, new, old" and which no single `AtomicU8` store
//! can produce; see `src/imp/README.md`).
//!
//! # Memory types
//!
//! Unaligned accesses are architecturally allowed to Normal memory when
//! `SCTLR_ELx.A` is 0, as on every mainstream aarch64 OS. The kernels are not
//! meant for Device memory (MMIO), where unaligned accesses fault; neither is
//! `memcpy`.

use core::arch::asm;

use super::Kernel;
use super::alloc_free::KernelList;

/// Moves `len` bytes from `src` to `dst` with general-purpose registers only.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `len` is 0, or `src` is valid for reads and `dst` is valid for writes of
///   `len` bytes (no alignment required; Normal memory);
/// - the two regions do not overlap;
/// - the kernel contract's rules on concurrent access hold (`imp/mod.rs`).
#[inline(always)]
unsafe fn move_scalar(src: *const u8, dst: *mut u8, len: usize) -> usize {
    let fault: usize;
    // Bounds: the loop runs `len >> 4` times over 16 bytes, then bit k of
    // `len` (k = 3, 2, 1, 0) moves 2^k bytes, so exactly `len` bytes of each
    // region are accessed, ascending; post-index writeback only moves a
    // pointer past bytes just accessed, and `len == 0` touches no memory.
    // Operands: `src`/`dst` are `inout` because post-indexing changes them;
    // `n`, `a`, `b` are `out` scratch. Options: `nostack` only. Not
    // `nomem`/`readonly` (it reads and writes memory), not `pure` (it must run
    // exactly once), not `preserves_flags` (`subs` writes NZCV).
    // SAFETY: exactly the `len` bytes of each valid region (caller) are
    // accessed, each once (above), by `ldp`/`stp`/`ldr`/`str` and their
    // h/b forms, single-copy atomic per byte (Arm ARM B2.2.1, module docs).
    unsafe {
        asm!(
            "lsr {n}, {len}, #4",
            "cbz {n}, 3f",
            "2:",
            ex!("ldp {a}, {b}, [{src}], #16"),
            "subs {n}, {n}, #1",
            ex!("stp {a}, {b}, [{dst}], #16"),
            "b.ne 2b",
            "3:",
            "tbz {len}, #3, 4f",
            ex!("ldr {a}, [{src}], #8"),
            ex!("str {a}, [{dst}], #8"),
            "4:",
            "tbz {len}, #2, 5f",
            ex!("ldr {a:w}, [{src}], #4"),
            ex!("str {a:w}, [{dst}], #4"),
            "5:",
            "tbz {len}, #1, 6f",
            ex!("ldrh {a:w}, [{src}], #2"),
            ex!("strh {a:w}, [{dst}], #2"),
            "6:",
            "tbz {len}, #0, 7f",
            ex!("ldrb {a:w}, [{src}]"),
            ex!("strb {a:w}, [{dst}]"),
            "7:",
            fixup!(),
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            len = in(reg) len,
            n = out(reg) _,
            a = out(reg) _,
            b = out(reg) _,
            inout("x17") 0usize => fault,
            options(nostack),
        );
    }
    fault
}

/// Stores `byte` to `len` bytes at `dst` with general-purpose registers only.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `len` is 0, or `dst` is valid for writes of `len` bytes (no alignment
///   required; Normal memory);
/// - the kernel contract's rules on concurrent access hold (`imp/mod.rs`).
#[inline(always)]
unsafe fn fill_scalar(dst: *mut u8, byte: u8, len: usize) -> usize {
    let fault: usize;
    // `byte` is passed zero-extended to 64 bits, so multiplying by
    // 0x0101_0101_0101_0101 replicates it into all eight bytes of `v`.
    // Options: `nostack` only (it writes memory, must run once, and `subs`
    // writes NZCV).
    // SAFETY: as in `move_scalar`, exactly `len` bytes from `dst` upwards
    // (valid, caller) are stored, each once, by `stp`/`str`/`strh`/`strb`,
    // single-copy atomic per byte (Arm ARM B2.2.1, module docs).
    unsafe {
        asm!(
            "mul {v}, {byte}, {ones}",
            "lsr {n}, {len}, #4",
            "cbz {n}, 3f",
            "2:",
            ex!("stp {v}, {v}, [{dst}], #16"),
            "subs {n}, {n}, #1",
            "b.ne 2b",
            "3:",
            "tbz {len}, #3, 4f",
            ex!("str {v}, [{dst}], #8"),
            "4:",
            "tbz {len}, #2, 5f",
            ex!("str {v:w}, [{dst}], #4"),
            "5:",
            "tbz {len}, #1, 6f",
            ex!("strh {v:w}, [{dst}], #2"),
            "6:",
            "tbz {len}, #0, 7f",
            ex!("strb {v:w}, [{dst}]"),
            "7:",
            fixup!(),
            dst = inout(reg) dst => _,
            byte = in(reg) u64::from(byte),
            ones = in(reg) 0x0101_0101_0101_0101_u64,
            len = in(reg) len,
            n = out(reg) _,
            v = out(reg) _,
            inout("x17") 0usize => fault,
            options(nostack),
        );
    }
    fault
}

/// Moves `len` bytes from `src` to `dst`: 64-byte blocks in `q` registers.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `len` is 0, or `src` is valid for reads and `dst` is valid for writes of
///   `len` bytes (no alignment required; Normal memory);
/// - the two regions do not overlap;
/// - the kernel contract's rules on concurrent access hold (`imp/mod.rs`).
#[cfg(target_feature = "neon")]
#[inline(always)]
unsafe fn move_neon(src: *const u8, dst: *mut u8, len: usize) -> usize {
    let fault: usize;
    // Bounds: the loop runs `len >> 6` times over bytes [0, 64) of the
    // current pointers, advancing both by 64; then bit k of `len` (k = 5..0)
    // moves 2^k bytes with post-index writeback. `len == 0` touches nothing.
    // Operands: `v0`..`v3` are clobbered (caller-saved under AAPCS64);
    // `src`/`dst` are `inout` because they advance; `n`, `a` are `out`
    // scratch. Options: `nostack` only, as in `move_scalar`.
    // SAFETY: exactly the `len` bytes of each valid region (caller) are
    // accessed, each once (above), by `ldp q`/`stp q`/`ldr q`/`str q` and a
    // general-purpose tail, single-copy atomic per byte (Arm ARM B2.2.1).
    unsafe {
        asm!(
            "lsr {n}, {len}, #6",
            "cbz {n}, 3f",
            "2:",
            ex!("ldp q0, q1, [{src}]"),
            ex!("ldp q2, q3, [{src}, #32]"),
            "add {src}, {src}, #64",
            "subs {n}, {n}, #1",
            ex!("stp q0, q1, [{dst}]"),
            ex!("stp q2, q3, [{dst}, #32]"),
            "add {dst}, {dst}, #64",
            "b.ne 2b",
            "3:",
            "tbz {len}, #5, 4f",
            ex!("ldp q0, q1, [{src}], #32"),
            ex!("stp q0, q1, [{dst}], #32"),
            "4:",
            "tbz {len}, #4, 5f",
            ex!("ldr q0, [{src}], #16"),
            ex!("str q0, [{dst}], #16"),
            "5:",
            "tbz {len}, #3, 6f",
            ex!("ldr {a}, [{src}], #8"),
            ex!("str {a}, [{dst}], #8"),
            "6:",
            "tbz {len}, #2, 7f",
            ex!("ldr {a:w}, [{src}], #4"),
            ex!("str {a:w}, [{dst}], #4"),
            "7:",
            "tbz {len}, #1, 8f",
            ex!("ldrh {a:w}, [{src}], #2"),
            ex!("strh {a:w}, [{dst}], #2"),
            "8:",
            "tbz {len}, #0, 9f",
            ex!("ldrb {a:w}, [{src}]"),
            ex!("strb {a:w}, [{dst}]"),
            "9:",
            fixup!(),
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            len = in(reg) len,
            n = out(reg) _,
            a = out(reg) _,
            out("v0") _,
            out("v1") _,
            out("v2") _,
            out("v3") _,
            inout("x17") 0usize => fault,
            options(nostack),
        );
    }
    fault
}

/// Stores `byte` to `len` bytes at `dst`: 64-byte blocks of `q` registers.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `len` is 0, or `dst` is valid for writes of `len` bytes (no alignment
///   required; Normal memory);
/// - the kernel contract's rules on concurrent access hold (`imp/mod.rs`).
#[cfg(target_feature = "neon")]
#[inline(always)]
unsafe fn fill_neon(dst: *mut u8, byte: u8, len: usize) -> usize {
    let fault: usize;
    // `dup v0.16b, w` reads only bits 7..0 of the register, so the
    // unspecified upper bits of the `u8` operand do not matter; `fmov x, d0`
    // copies eight replicated bytes to the general-purpose tail register.
    // Operands: `v0` is clobbered (caller-saved); `dst` is `inout`; `n`, `v`
    // are `out` scratch. Options: `nostack` only, as in `move_scalar`.
    // SAFETY: as in `move_neon`, exactly `len` bytes from `dst` upwards
    // (valid, caller) are stored, each once, by `stp q`/`str q` and a
    // general-purpose tail, single-copy atomic per byte (Arm ARM B2.2.1).
    unsafe {
        asm!(
            "dup v0.16b, {byte:w}",
            "fmov {v}, d0",
            "lsr {n}, {len}, #6",
            "cbz {n}, 3f",
            "2:",
            ex!("stp q0, q0, [{dst}]"),
            ex!("stp q0, q0, [{dst}, #32]"),
            "add {dst}, {dst}, #64",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            "3:",
            "tbz {len}, #5, 4f",
            ex!("stp q0, q0, [{dst}], #32"),
            "4:",
            "tbz {len}, #4, 5f",
            ex!("str q0, [{dst}], #16"),
            "5:",
            "tbz {len}, #3, 6f",
            ex!("str {v}, [{dst}], #8"),
            "6:",
            "tbz {len}, #2, 7f",
            ex!("str {v:w}, [{dst}], #4"),
            "7:",
            "tbz {len}, #1, 8f",
            ex!("strh {v:w}, [{dst}], #2"),
            "8:",
            "tbz {len}, #0, 9f",
            ex!("strb {v:w}, [{dst}]"),
            "9:",
            fixup!(),
            dst = inout(reg) dst => _,
            byte = in(reg) byte,
            len = in(reg) len,
            n = out(reg) _,
            v = out(reg) _,
            out("v0") _,
            inout("x17") 0usize => fault,
            options(nostack),
        );
    }
    fault
}

/// The `scalar` kernels (general-purpose registers only).
mod scalar {
    /// Byte-wise atomic reads of `src`, plain writes of `dst`.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `move_scalar`'s safety section.
        unsafe { super::move_scalar(src, dst, len) }
    }

    /// Plain reads of `src`, byte-wise atomic writes of `dst`.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `move_scalar`'s safety section.
        unsafe { super::move_scalar(src, dst, len) }
    }

    /// Byte-wise atomic on both sides.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `move_scalar`'s safety section.
        unsafe { super::move_scalar(src, dst, len) }
    }

    /// Byte-wise atomic writes of `byte`.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `fill_scalar`'s safety section.
        unsafe { super::fill_scalar(dst, byte, len) }
    }
}

/// The `neon` kernels (128-bit Advanced SIMD registers for the bulk).
#[cfg(target_feature = "neon")]
mod neon {
    /// Byte-wise atomic reads of `src`, plain writes of `dst`.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `move_neon`'s safety section.
        unsafe { super::move_neon(src, dst, len) }
    }

    /// Plain reads of `src`, byte-wise atomic writes of `dst`.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `move_neon`'s safety section.
        unsafe { super::move_neon(src, dst, len) }
    }

    /// Byte-wise atomic on both sides.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `move_neon`'s safety section.
        unsafe { super::move_neon(src, dst, len) }
    }

    /// Byte-wise atomic writes of `byte`.
    ///
    /// # Safety
    ///
    /// See the kernel contract in `imp/mod.rs`.
    pub(super) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
        // SAFETY: the kernel contract is `fill_neon`'s safety section.
        unsafe { super::fill_neon(dst, byte, len) }
    }
}

#[cfg(target_feature = "neon")]
use self::neon as best;
#[cfg(not(target_feature = "neon"))]
use self::scalar as best;

/// Byte-wise atomic reads of `src`, plain writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
    // SAFETY: forwarded from the caller (the same kernel contract).
    unsafe { best::load(src, dst, len) }
}

/// Plain reads of `src`, byte-wise atomic writes of `dst`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn store(src: *const u8, dst: *mut u8, len: usize) -> usize {
    // SAFETY: forwarded from the caller (the same kernel contract).
    unsafe { best::store(src, dst, len) }
}

/// Byte-wise atomic on both sides.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) -> usize {
    // SAFETY: forwarded from the caller (the same kernel contract).
    unsafe { best::copy(src, dst, len) }
}

/// Byte-wise atomic writes of `byte`.
///
/// # Safety
///
/// See the kernel contract in `imp/mod.rs`.
#[inline]
pub(crate) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
    // SAFETY: forwarded from the caller (the same kernel contract).
    unsafe { best::fill(dst, byte, len) }
}

/// Appends the asm kernels this build has: `scalar` always, `neon` when the
/// target has Advanced SIMD (a compile-time property on aarch64: there is no
/// aarch64 CPU that runs this target without it).
pub(crate) fn supported_kernels(list: &mut KernelList) {
    list.push(Kernel {
        name: "scalar",
        load: scalar::load,
        store: scalar::store,
        copy: scalar::copy,
        fill: scalar::fill,
    });
    #[cfg(target_feature = "neon")]
    list.push(Kernel {
        name: "neon",
        load: neon::load,
        store: neon::store,
        copy: neon::copy,
        fill: neon::fill,
    });
}

/// `store` for a value just built by the caller: no separate path here (see
/// the x86_64 `store_value`), so staging a value before a lock still pays.
pub(crate) use self::store as store_value;

/// Whether `store_value` handles a value of `len` bytes specially: never.
#[inline(always)]
pub(crate) const fn value_store_covers(_len: usize) -> bool {
    false
}
