//! Copies of 0 to 64 bytes, inlined into the caller so that short copies pay
//! for no dispatch.
//!
//! Every access sits in a tiny `asm!` block and the length is branched on in
//! Rust, so a constant length folds down to its blocks alone. `load` of
//! exactly 2, 4, 8 or 16 bytes (`read_obj::<u16/u32/u64/u128>`) is one
//! load and one store; other lengths are two overlapping moves.
//!
//! - `load` may touch a byte twice on both sides: two overlapping moves cover
//!   any length in a range with no further branches. Each block loads both
//!   pieces, in address order, and then stores them in the same order, so
//!   every destination byte ends up with the value of the *later* read of its
//!   source byte, and every value written came from a read of that byte made
//!   during the call (see `src/imp/README.md`).
//! - `store` and `copy` write each shared destination byte exactly once:
//!   the length is decomposed into its binary digits (32, 16, 8, 4, 2, 1),
//!   pieces that never overlap.
//! - `fill` does the same with a broadcast byte.
//!
//! Every memory instruction is marked with `ex!` and every block ends its
//! memory accesses at `fixup!()`, with the fault register (`r11`) as an
//! `inout` that the caller's running `fault` value threads through: each
//! function returns 0 or the last faulting address (`imp/extable.rs`).
//!
//! Every `asm!` here uses `options(nostack, preserves_flags)`: plain `mov`
//! and `movdqu` touch no stack and no flags. No block is `pure`, `nomem` or
//! `readonly`: each reads memory that others may change and writes memory.
//! The single-copy atomicity of each access is argued in `src/imp/README.md`
//! (Intel SDM Vol. 3A §9.1.1, AMD APM Vol. 2 §7.3.2: byte accesses are always
//! atomic, and a wider move never accesses a byte partially).

use core::arch::asm;

/// Broadcasts the low 8 bytes of `{v}` (a general-purpose register) to both
/// halves of `{x}` (an xmm register), in the encoding of [`movdqu`].
#[cfg(target_feature = "avx")]
macro_rules! broadcast_q {
    () => {
        "vmovq {x}, {v}\n vpunpcklqdq {x}, {x}, {x}"
    };
}
#[cfg(not(target_feature = "avx"))]
macro_rules! broadcast_q {
    () => {
        "movq {x}, {v}\n punpcklqdq {x}, {x}"
    };
}

/// Copies `N` bytes at offsets `a` and `b` (`a <= b`, both pieces in bounds)
/// with general-purpose moves: two loads, then two stores in the same order.
macro_rules! pair_gpr {
    ($src:expr, $dst:expr, $a:expr, $b:expr, $ptr:literal, $m:literal, $f:ident) => {
        asm!(
            ex!(concat!("mov {x", $m, "}, ", $ptr, " ptr [{s} + {a}]")),
            ex!(concat!("mov {y", $m, "}, ", $ptr, " ptr [{s} + {b}]")),
            ex!(concat!("mov ", $ptr, " ptr [{d} + {a}], {x", $m, "}")),
            ex!(concat!("mov ", $ptr, " ptr [{d} + {b}], {y", $m, "}")),
            fixup!(),
            s = in(reg) $src,
            d = in(reg) $dst,
            a = in(reg) $a,
            b = in(reg) $b,
            x = out(reg) _,
            y = out(reg) _,
            inout("r11") $f,
            options(nostack, preserves_flags),
        )
    };
}

/// Copies one piece of `N` bytes at offset `o` with one load and one store.
macro_rules! piece_gpr {
    ($src:expr, $dst:expr, $o:expr, $ptr:literal, $m:literal, $f:ident) => {
        asm!(
            ex!(concat!("mov {x", $m, "}, ", $ptr, " ptr [{s} + {o}]")),
            ex!(concat!("mov ", $ptr, " ptr [{d} + {o}], {x", $m, "}")),
            fixup!(),
            s = in(reg) $src,
            d = in(reg) $dst,
            o = in(reg) $o,
            x = out(reg) _,
            inout("r11") $f,
            options(nostack, preserves_flags),
        )
    };
}

/// Copies the 16-byte piece at offset `o` with one xmm load and one store.
macro_rules! piece_xmm {
    ($src:expr, $dst:expr, $o:expr, $f:ident) => {
        asm!(
            ex!(concat!(movdqu!(), " {v0}, xmmword ptr [{s} + {o}]")),
            ex!(concat!(movdqu!(), " xmmword ptr [{d} + {o}], {v0}")),
            fixup!(),
            s = in(reg) $src,
            d = in(reg) $dst,
            o = in(reg) $o,
            v0 = out(xmm_reg) _,
            inout("r11") $f,
            options(nostack, preserves_flags),
        )
    };
}

/// `load` for `len <= 64`.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len <= 64`.
#[inline(always)]
pub(super) unsafe fn load(src: *const u8, dst: *mut u8, len: usize) -> usize {
    debug_assert!(len <= 64);
    let mut fault = 0;
    if len >= 16 {
        if len > 32 {
            // All four loads come before the stores, in address order, and
            // the stores follow in the same order (module docs).
            // SAFETY: 33 <= len <= 64, so the 16-byte pieces at 0, 16,
            // len-32 and len-16 lie in both regions, which are valid
            // (caller); they overlap only each other.
            unsafe {
                asm!(
                    ex!(concat!(movdqu!(), " {v0}, xmmword ptr [{s}]")),
                    ex!(concat!(movdqu!(), " {v1}, xmmword ptr [{s} + 16]")),
                    ex!(concat!(movdqu!(), " {v2}, xmmword ptr [{s} + {n} - 32]")),
                    ex!(concat!(movdqu!(), " {v3}, xmmword ptr [{s} + {n} - 16]")),
                    ex!(concat!(movdqu!(), " xmmword ptr [{d}], {v0}")),
                    ex!(concat!(movdqu!(), " xmmword ptr [{d} + 16], {v1}")),
                    ex!(concat!(movdqu!(), " xmmword ptr [{d} + {n} - 32], {v2}")),
                    ex!(concat!(movdqu!(), " xmmword ptr [{d} + {n} - 16], {v3}")),
                    fixup!(),
                    s = in(reg) src,
                    d = in(reg) dst,
                    n = in(reg) len,
                    v0 = out(xmm_reg) _,
                    v1 = out(xmm_reg) _,
                    v2 = out(xmm_reg) _,
                    v3 = out(xmm_reg) _,
                    inout("r11") fault,
                    options(nostack, preserves_flags),
                );
            }
        } else if len == 16 {
            // Exactly 16 (`read_obj::<u128>`): one move, not two moves of
            // the same bytes.
            // SAFETY: len == 16: the piece at 0 is in bounds of both regions.
            unsafe { piece_xmm!(src, dst, 0usize, fault) }
        } else {
            // SAFETY: 16 < len <= 32: the pieces at 0 and len-16 are in
            // bounds of both regions; loads then stores, in the same order.
            unsafe {
                asm!(
                    ex!(concat!(movdqu!(), " {v0}, xmmword ptr [{s}]")),
                    ex!(concat!(movdqu!(), " {v1}, xmmword ptr [{s} + {n} - 16]")),
                    ex!(concat!(movdqu!(), " xmmword ptr [{d}], {v0}")),
                    ex!(concat!(movdqu!(), " xmmword ptr [{d} + {n} - 16], {v1}")),
                    fixup!(),
                    s = in(reg) src,
                    d = in(reg) dst,
                    n = in(reg) len,
                    v0 = out(xmm_reg) _,
                    v1 = out(xmm_reg) _,
                    inout("r11") fault,
                    options(nostack, preserves_flags),
                );
            }
        }
    } else if len == 8 {
        // Exact powers of two (`read_obj::<u16/u32/u64>`) take one move.
        // SAFETY: len == 8: the piece at 0 is in bounds of both regions.
        unsafe { piece_gpr!(src, dst, 0usize, "qword", "", fault) }
    } else if len > 8 {
        // SAFETY: 8 < len < 16: the 8-byte pieces at 0 and len-8 are in
        // bounds of both regions; loads then stores, in the same order.
        unsafe { pair_gpr!(src, dst, 0usize, len - 8, "qword", "", fault) }
    } else if len == 4 {
        // SAFETY: len == 4: the piece at 0 is in bounds of both regions.
        unsafe { piece_gpr!(src, dst, 0usize, "dword", ":e", fault) }
    } else if len > 4 {
        // SAFETY: 4 < len < 8: the 4-byte pieces at 0 and len-4 are in
        // bounds; loads then stores, in the same order.
        unsafe { pair_gpr!(src, dst, 0usize, len - 4, "dword", ":e", fault) }
    } else if len == 2 {
        // SAFETY: len == 2: the piece at 0 is in bounds of both regions.
        unsafe { piece_gpr!(src, dst, 0usize, "word", ":x", fault) }
    } else if len == 3 {
        // SAFETY: len == 3: the 2-byte pieces at 0 and 1 are in bounds;
        // loads then stores, in the same order.
        unsafe { pair_gpr!(src, dst, 0usize, 1usize, "word", ":x", fault) }
    } else if len == 1 {
        // SAFETY: len == 1: one byte of each region, in bounds.
        fault = unsafe { one(src, dst, 0, fault) };
    }
    fault
}

/// Copies one byte at offset `o`.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `src + o` is valid for a one-byte read and `dst + o` for a one-byte
///   write, under the kernel contract in `imp/mod.rs`.
#[inline(always)]
unsafe fn one(src: *const u8, dst: *mut u8, o: usize, mut fault: usize) -> usize {
    // SAFETY: one byte in bounds of each region (caller); a byte access is
    // always single-copy atomic.
    unsafe {
        asm!(
            ex!("movzx {x:e}, byte ptr [{s} + {o}]"),
            ex!("mov byte ptr [{d} + {o}], {x:l}"),
            fixup!(),
            s = in(reg) src,
            d = in(reg) dst,
            o = in(reg) o,
            x = out(reg) _,
            inout("r11") fault,
            options(nostack, preserves_flags),
        );
    }
    fault
}

/// `store_value` for `len <= 64`: like [`copy`], but with pieces of at most
/// 8 bytes.
///
/// The source is a value the compiler has just written to the stack, usually
/// with 8-byte stores (or wider ones). A 16-byte load that spans two earlier
/// stores cannot take its data from the store buffer and waits until both
/// stores have reached the cache; an 8-byte load inside one store is
/// forwarded at once. Under `SeqLock::write` that wait happens while the
/// counter is odd. Measured with `cargo bench --bench seqlock` on the project
/// machine, `[u64; 8]`: write latency 7.8 ns with [`copy`] and a value staged
/// before the lock, 4.9 ns with this path and no staging. The price is twice
/// as many stores, which halves the throughput of back-to-back 64-byte stores
/// (33.8 to 16.9 GB/s in `cargo bench --bench compare`), so the bulk `store`
/// keeps [`copy`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len <= 64`.
#[inline(always)]
pub(super) unsafe fn store_value(src: *const u8, dst: *mut u8, len: usize) -> usize {
    debug_assert!(len <= 64);
    let mut fault = 0;
    let mut o = 0;
    while o + 8 <= len {
        // SAFETY: `o + 8 <= len`: the piece lies in both regions, which the
        // caller's contract makes valid; pieces never overlap.
        unsafe { piece_gpr!(src, dst, o, "qword", "", fault) }
        o += 8;
    }
    // SAFETY: `o == len & !7`: the pieces above covered `0..o`, once.
    unsafe { tail(src, dst, o, len, fault) }
}

/// Moves the last `len % 8` bytes, `o..len`, in pieces of 4, 2 and 1 bytes,
/// each byte once: the common end of [`copy`] and [`store_value`].
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `o == len & !7`.
#[inline(always)]
unsafe fn tail(src: *const u8, dst: *mut u8, mut o: usize, len: usize, mut fault: usize) -> usize {
    debug_assert_eq!(o, len & !7);
    if len & 4 != 0 {
        // SAFETY: o + 4 <= len: in bounds, disjoint from the other pieces.
        unsafe { piece_gpr!(src, dst, o, "dword", ":e", fault) }
        o += 4;
    }
    if len & 2 != 0 {
        // SAFETY: o + 2 <= len: in bounds, disjoint from the other pieces.
        unsafe { piece_gpr!(src, dst, o, "word", ":x", fault) }
        o += 2;
    }
    if len & 1 != 0 {
        // SAFETY: o + 1 == len: the last byte, in bounds.
        fault = unsafe { one(src, dst, o, fault) };
    }
    fault
}

/// `store` and `copy` for `len <= 64`: every byte of both regions is accessed
/// exactly once.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `len <= 64`.
#[inline(always)]
pub(super) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize) -> usize {
    debug_assert!(len <= 64);
    let mut fault = 0;
    // `o` is the sum of the binary digits of `len` handled so far, so each
    // piece `o..o+k` starts where the previous one ended and `o + k <= len`.
    let mut o: usize = 0;
    if len & 64 != 0 {
        // SAFETY: len == 64: four disjoint 16-byte pieces covering 0..64,
        // in bounds of both regions.
        unsafe {
            asm!(
                ex!(concat!(movdqu!(), " {v0}, xmmword ptr [{s}]")),
                ex!(concat!(movdqu!(), " {v1}, xmmword ptr [{s} + 16]")),
                ex!(concat!(movdqu!(), " {v2}, xmmword ptr [{s} + 32]")),
                ex!(concat!(movdqu!(), " {v3}, xmmword ptr [{s} + 48]")),
                ex!(concat!(movdqu!(), " xmmword ptr [{d}], {v0}")),
                ex!(concat!(movdqu!(), " xmmword ptr [{d} + 16], {v1}")),
                ex!(concat!(movdqu!(), " xmmword ptr [{d} + 32], {v2}")),
                ex!(concat!(movdqu!(), " xmmword ptr [{d} + 48], {v3}")),
                fixup!(),
                s = in(reg) src,
                d = in(reg) dst,
                v0 = out(xmm_reg) _,
                v1 = out(xmm_reg) _,
                v2 = out(xmm_reg) _,
                v3 = out(xmm_reg) _,
                inout("r11") fault,
                options(nostack, preserves_flags),
            );
        }
        return fault;
    }
    if len & 32 != 0 {
        // SAFETY: o == 0 and 32 <= len: two disjoint 16-byte pieces in bounds.
        unsafe {
            asm!(
                ex!(concat!(movdqu!(), " {v0}, xmmword ptr [{s}]")),
                ex!(concat!(movdqu!(), " {v1}, xmmword ptr [{s} + 16]")),
                ex!(concat!(movdqu!(), " xmmword ptr [{d}], {v0}")),
                ex!(concat!(movdqu!(), " xmmword ptr [{d} + 16], {v1}")),
                fixup!(),
                s = in(reg) src,
                d = in(reg) dst,
                v0 = out(xmm_reg) _,
                v1 = out(xmm_reg) _,
                inout("r11") fault,
                options(nostack, preserves_flags),
            );
        }
        o = 32;
    }
    if len & 16 != 0 {
        // SAFETY: o + 16 <= len (binary digits, see above): in bounds, and
        // disjoint from every other piece.
        unsafe { piece_xmm!(src, dst, o, fault) }
        o += 16;
    }
    if len & 8 != 0 {
        // SAFETY: o + 8 <= len: in bounds, disjoint from the other pieces.
        unsafe { piece_gpr!(src, dst, o, "qword", "", fault) }
        o += 8;
    }
    // SAFETY: the pieces above covered `0..o`, once, and `o == len & !7`.
    unsafe { tail(src, dst, o, len, fault) }
}

/// Stores one piece of the broadcast value `v` at offset `o`.
macro_rules! fill_gpr {
    ($dst:expr, $o:expr, $v:expr, $ptr:literal, $m:literal, $f:ident) => {
        asm!(
            ex!(concat!("mov ", $ptr, " ptr [{d} + {o}], {v", $m, "}")),
            fixup!(),
            d = in(reg) $dst,
            o = in(reg) $o,
            v = in(reg) $v,
            inout("r11") $f,
            options(nostack, preserves_flags),
        )
    };
}

/// `fill` for `len <= 64`: every byte is written exactly once.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `dst`, `len`;
/// - `len <= 64`.
#[inline(always)]
pub(super) unsafe fn fill(dst: *mut u8, byte: u8, len: usize) -> usize {
    debug_assert!(len <= 64);
    let v = u64::from(byte) * 0x0101_0101_0101_0101;
    let mut fault = 0;
    let mut o = 0;
    if len >= 16 {
        // 16..=64: 16-byte pieces for the multiples of 16, then the digits
        // below 16. `k` is the number of bytes written with xmm stores.
        let k = len & !15;
        // SAFETY:
        // - `k <= len` and `k` is a multiple of 16 in 16..=64: the pieces at
        //   0, 16, ... below `k` are disjoint and in bounds;
        // - `movq`/`punpcklqdq` only touch the scratch register.
        unsafe {
            asm!(
                broadcast_q!(),
                ex!(concat!(movdqu!(), " xmmword ptr [{d}], {x}")),
                "cmp {k}, 32",
                "jb 2f",
                ex!(concat!(movdqu!(), " xmmword ptr [{d} + 16], {x}")),
                "cmp {k}, 48",
                "jb 2f",
                ex!(concat!(movdqu!(), " xmmword ptr [{d} + 32], {x}")),
                "cmp {k}, 64",
                "jb 2f",
                ex!(concat!(movdqu!(), " xmmword ptr [{d} + 48], {x}")),
                "2:",
                fixup!(),
                d = in(reg) dst,
                v = in(reg) v,
                k = in(reg) k,
                x = out(xmm_reg) _,
                // `cmp` writes the flags, so no `preserves_flags`.
                inout("r11") fault,
                options(nostack),
            );
        }
        o = k;
    }
    if len & 8 != 0 {
        // SAFETY: o + 8 <= len: in bounds, disjoint from the other pieces.
        unsafe { fill_gpr!(dst, o, v, "qword", "", fault) }
        o += 8;
    }
    if len & 4 != 0 {
        // SAFETY: o + 4 <= len: in bounds, disjoint from the other pieces.
        unsafe { fill_gpr!(dst, o, v, "dword", ":e", fault) }
        o += 4;
    }
    if len & 2 != 0 {
        // SAFETY: o + 2 <= len: in bounds, disjoint from the other pieces.
        unsafe { fill_gpr!(dst, o, v, "word", ":x", fault) }
        o += 2;
    }
    if len & 1 != 0 {
        // SAFETY: o + 1 == len: the last byte, in bounds.
        unsafe { fill_gpr!(dst, o, v, "byte", ":l", fault) }
    }
    fault
}

/// Defines `$name(src) -> ([u64; $n], fault)`: loads exactly `$n`
/// 8-byte pieces from `src` into general-purpose registers, with the fault
/// register. It is a `load` whose destination is the caller's value
/// itself: a value of 8 to 64 bytes (a multiple of 8) is built in registers
/// and stored once, where the caller wants it, instead of being written to
/// a stack buffer and copied out again.
///
/// Each piece is one 8-byte `mov`, single-copy atomic per byte as every
/// load here; the pieces tile `0..8 * $n` without overlap. 8-byte pieces
/// rather than 16-byte ones: the values this serves are usually 8-aligned,
/// where no 8-byte load splits a cache line but a 16-byte one may.
macro_rules! load_gpr {
    ($name:ident, $n:literal, $($r:ident @ $off:literal),+) => {
        /// See [`load_gpr`].
        ///
        /// # Safety
        ///
        /// Behavior is undefined if any of these is violated:
        /// - `src` is valid for reads of the pieces' bytes and is only
        ///   accessed concurrently as the kernel contract in `imp/mod.rs`
        ///   allows for the shared side of a `load`.
        #[inline(always)]
        pub(super) unsafe fn $name(src: *const u8) -> ([u64; $n], usize) {
            let mut fault = 0;
            $(let $r: u64;)+
            // The block only writes its outputs: `nostack`,
            // `preserves_flags` (moves only).
            // SAFETY: the pieces lie in `src`'s valid bytes (caller); each
            // load is atomic per byte (`src/imp/README.md`).
            unsafe {
                asm!(
                    $(ex!(concat!("mov {", stringify!($r), "}, qword ptr [{s} + ", $off, "]")),)+
                    fixup!(),
                    s = in(reg) src,
                    $($r = out(reg) $r,)+
                    inout("r11") fault,
                    options(nostack, preserves_flags),
                );
            }
            ([$($r),+], fault)
        }
    };
}

load_gpr!(load_gpr1, 1, a @ "0");
load_gpr!(load_gpr2, 2, a @ "0", b @ "8");
load_gpr!(load_gpr3, 3, a @ "0", b @ "8", c @ "16");
load_gpr!(load_gpr4, 4, a @ "0", b @ "8", c @ "16", d @ "24");
load_gpr!(load_gpr5, 5, a @ "0", b @ "8", c @ "16", d @ "24", e @ "32");
load_gpr!(load_gpr6, 6, a @ "0", b @ "8", c @ "16", d @ "24", e @ "32", f @ "40");
load_gpr!(load_gpr7, 7, a @ "0", b @ "8", c @ "16", d @ "24", e @ "32", f @ "40", g @ "48");
load_gpr!(
    load_gpr8,
    8,
    a @ "0",
    b @ "8",
    c @ "16",
    d @ "24",
    e @ "32",
    f @ "40",
    g @ "48",
    h @ "56"
);
