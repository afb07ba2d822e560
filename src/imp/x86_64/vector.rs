//! Copies and fills of more than 64 bytes: vector loops (SSE2, AVX2,
//! AVX-512), the same loops with non-temporal stores, and `rep movsb` /
//! `rep stosb`.
//!
//! # Shape of every loop
//!
//! Registers: `rsi` = source, `rdi` = destination, `rcx` = bytes left.
//!
//! 1. **Head.** SSE2/AVX2: move 1, 2, 4, 8 (and 16 for AVX2) bytes whenever
//!    the corresponding bit of `rdi` is set, so that `rdi` becomes
//!    `W`-aligned; each move is naturally aligned on the destination and
//!    starts where the previous one ended. AVX-512: one byte-masked move of
//!    the `-rdi mod 64` bytes (always for the non-temporal loop; for the
//!    cached one from 512 bytes on, and below 2 KiB only for co-aligned
//!    pairs or a destination that crosses a page, see `head_mask`).
//! 2. **Body.** Four vectors per iteration while at least `4W` bytes are
//!    left, then one vector at a time while at least `W` are left: unaligned
//!    loads, aligned (or, for short AVX-512 copies, unaligned) stores.
//! 3. **Tail.** Fewer than `W` bytes are left. SSE2/AVX2: move 16, 8, 4, 2,
//!    1 bytes whenever that bit of `rcx` is set. AVX-512: one byte-masked
//!    move (skipped when nothing is left).
//!
//! The backward AVX-512 loop (`copy_avx512_bwd`) is the same mirrored. So
//! every byte of both regions is read and written exactly once: the pieces
//! tile `0..len` without overlap. That is what `store`, `copy` and
//! `fill` need (a shared destination byte must be written once, see
//! `src/imp/README.md`), and `load` uses the same loops.
//!
//! Requires `len >= 64`: the head then consumes fewer than `len` bytes.
//! (`load_mid_avx512`, `load_mid_avx2`, `load_mid_sse2`, `load_avx2` and
//! `load_sse2`, for `load` only, are the routines here whose moves overlap;
//! see their docs.)
//!
//! # `asm!` options
//!
//! - `clobber_abi("C")`: the blocks use rax, rdx, xmm0–xmm3 (and their
//!   ymm/zmm extensions) and the opmask `k1` as scratch, and end with
//!   `vzeroupper`; declaring every caller-saved register clobbered covers all
//!   of that. Each block is the whole body of an `#[inline(never)]` function
//!   compiled without AVX/AVX-512 target features, so no compiler value can
//!   live in a ymm/zmm upper half or an opmask register there, and callers
//!   reach it through an ordinary call (or tail call), across which the SysV
//!   ABI makes all vector and opmask registers caller-saved. The exceptions
//!   are `load_mid_avx512`, `store_mid_avx512`, `load_mid_avx2` and
//!   `store_mid_avx2` (65 to 256 bytes), which are inlined into their
//!   callers and declare every register they write explicitly instead,
//!   whatever target features the caller has (see their docs).
//! - `nostack`: nothing is pushed.
//! - not `preserves_flags`: `test`, `cmp`, `add`, `sub` write the flags.
//! - never `nomem`/`readonly`/`pure`: the blocks read memory that others
//!   may be writing and write memory.
//!
//! Every block is code with local numeric labels (`2:`, `3:` ...) and plain
//! `jcc`/`jmp` only (no computed jumps, no calls, no data in the block), and
//! each instruction that touches the source or the destination is its own
//! assembly statement, wrapped in `ex!` for its exception-table entry
//! (`imp/extable.rs`). Each block ends its memory accesses at `fixup!()`,
//! before its closing `sfence`/`lfence`/`vzeroupper`, and returns the fault
//! register `r11` (0, or the faulting address): an explicit
//! `inout("r11")` output next to `clobber_abi("C")` in the out-of-line
//! blocks, and next to the explicit clobbers in the inlined ones.
//!
//! # Ordering of non-temporal stores
//!
//! `movntdq`/`vmovntdq` stores are weakly ordered: they may pass earlier
//! stores and later stores may pass them (Intel SDM Vol. 3A §9.2.2, "Writes
//! are not reordered with other writes, with the following exceptions:
//! streaming stores ..."; AMD APM Vol. 2 §7.4.2 "Memory Barrier Interaction
//! with Memory Types" and §3.9.1 on `MOVNT*`). On x86 `fence(Release)` and
//! `fence(Acquire)` compile to nothing but a compiler barrier, because plain
//! stores are already ordered. So the NT loops are bracketed by `sfence`:
//! the one before keeps every earlier store (in particular those before the
//! `fence(Release)` of `store`/`copy`/`fill`) visible before any NT store,
//! and the one after makes every NT store globally visible before any later
//! store (the seqlock's closing counter store, or a release that hands a
//! `load` destination to another thread).

use core::arch::asm;

/// `asm!` with all of `xmm0`-`xmm15` (so their `ymm`/`zmm` extensions)
/// clobbered, for the blocks that are inlined into their caller and end
/// with `vzeroupper` (see [`load_mid_avx512`]). The first argument is the
/// template, the rest the other operands and the options.
macro_rules! asm_inline_vec {
    ($tpl:expr, $($ops:tt)*) => {
        asm!(
            $tpl,
            $($ops)*
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
        )
    };
}

/// Head of a copy: align `rdi` to 2, 4, 8 with general-purpose moves.
macro_rules! head_gpr {
    () => {
        concat!(
            "test dil, 1\n jz 2f\n",
            ex!("movzx eax, byte ptr [rsi]"),
            ex!("mov byte ptr [rdi], al"),
            "add rsi, 1\n add rdi, 1\n sub rcx, 1\n 2:\n",
            "test dil, 2\n jz 2f\n",
            ex!("movzx eax, word ptr [rsi]"),
            ex!("mov word ptr [rdi], ax"),
            "add rsi, 2\n add rdi, 2\n sub rcx, 2\n 2:\n",
            "test dil, 4\n jz 2f\n",
            ex!("mov eax, dword ptr [rsi]"),
            ex!("mov dword ptr [rdi], eax"),
            "add rsi, 4\n add rdi, 4\n sub rcx, 4\n 2:\n",
            "test dil, 8\n jz 2f\n",
            ex!("mov rax, qword ptr [rsi]"),
            ex!("mov qword ptr [rdi], rax"),
            "add rsi, 8\n add rdi, 8\n sub rcx, 8\n 2:\n",
        )
    };
}

/// Head step 16 (xmm) of an AVX2 copy, VEX-encoded like the rest of the
/// kernel: a legacy-SSE move after ymm code (before `vzeroupper`) costs a
/// state transition or a merge with the dirty upper halves (Intel
/// optimization manual, "Mixing AVX code with SSE code"); measured 141 ns
/// instead of 10.8 ns for one 256-byte copy on a Zen 3 CPU.
macro_rules! head_16 {
    () => {
        concat!(
            "test dil, 16\n jz 2f\n",
            ex!("vmovdqu xmm0, xmmword ptr [rsi]"),
            ex!("vmovdqa xmmword ptr [rdi], xmm0"),
            "add rsi, 16\n add rdi, 16\n sub rcx, 16\n 2:\n",
        )
    };
}

/// Head of an AVX-512 copy: one byte-masked move of `h = -rdi mod 64` bytes
/// (1 to 63, skipped when 0), so that `rdi` becomes 64-aligned. `k1` holds
/// the mask `(1 << h) - 1`: bytes whose mask bit is 0 are neither read nor
/// written (see `src/imp/README.md`). The non-temporal loops need `always`:
/// `vmovntdq` faults on an unaligned address. With `cached`, the head is
/// skipped, and the copy stays unaligned, when it would cost more than it
/// saves:
///
/// - below 512 bytes: the stores hit L1 anyway;
/// - below 2 KiB when source and destination are not co-aligned mod 64 and
///   the destination does not cross a 4 KiB page: one side splits every
///   line whatever the head does, and the two masked moves (this head and
///   the tail it causes) cost more than aligned stores save. Measured on
///   Zen 5 at 1 KiB, source +64 / destination +3000 and +0 / +1040 from a
///   page: 1.01-1.06x `memcpy` without the head, 0.83x with it. A
///   destination that crosses a page keeps the head: an unaligned zmm store
///   across the page boundary measured 0.73x against 0.92x (+17 / +4001).
///   Co-aligned pairs keep it too: it aligns both sides at once.
macro_rules! head_mask {
    (cached) => {
        concat!(
            "cmp rcx, 512\n jb 2f\n cmp rcx, 2048\n jae 8f\n",
            // Co-aligned mod 64: align.
            "mov eax, esi\n xor eax, edi\n test al, 63\n jz 8f\n",
            // Not co-aligned: skip unless the destination crosses a page.
            "mov eax, edi\n and eax, 4095\n add rax, rcx\n cmp rax, 4096\n jbe 2f\n",
            "8:\n",
            head_mask!(always)
        )
    };
    (always) => {
        concat!(
            "mov rax, rdi\n neg rax\n and eax, 63\n jz 2f\n",
            "xor edx, edx\n bts rdx, rax\n dec rdx\n kmovq k1, rdx\n",
            ex!("vmovdqu8 zmm0 {{k1}} {{z}}, [rsi]"),
            ex!("vmovdqu8 [rdi] {{k1}}, zmm0"),
            "add rsi, rax\n add rdi, rax\n sub rcx, rax\n 2:\n",
        )
    };
}

/// Tail of an AVX-512 copy: one byte-masked move of the `rcx < 64` bytes
/// left, as the *last* `rcx` bytes of a vector that ends where the copy
/// ends (mask `!0 << (64 - rcx)`; the shift count is `-rcx mod 64`). The
/// masked-off lanes then lie on bytes this copy has already moved, not past
/// its end: a masked move whose masked-off lanes cross into the next page
/// measured 0.57x `memcpy` for a 96-byte store ending one byte into a page
/// (Zen 5), the fault suppression taking a slow path.
macro_rules! tail_mask {
    () => {
        concat!(
            "test rcx, rcx\n jz 2f\n",
            "lea rsi, [rsi + rcx - 64]\n lea rdi, [rdi + rcx - 64]\n",
            "mov rdx, -1\n neg ecx\n shl rdx, cl\n kmovq k1, rdx\n",
            ex!("vmovdqu8 zmm0 {{k1}} {{z}}, [rsi]"),
            ex!("vmovdqu8 [rdi] {{k1}}, zmm0"),
            "2:\n",
        )
    };
}

/// Head of an AVX-512 fill (value in `zmm0`), as [`head_mask`].
macro_rules! fhead_mask {
    (from_512) => {
        concat!("cmp rcx, 512\n jb 2f\n", fhead_mask!(always))
    };
    (always) => {
        concat!(
            "mov rdx, rdi\n neg rdx\n and edx, 63\n jz 2f\n",
            "xor esi, esi\n bts rsi, rdx\n dec rsi\n kmovq k1, rsi\n",
            ex!("vmovdqu8 [rdi] {{k1}}, zmm0"),
            "add rdi, rdx\n sub rcx, rdx\n 2:\n",
        )
    };
}

/// Tail of an AVX-512 fill, as [`tail_mask`] (end-aligned).
macro_rules! ftail_mask {
    () => {
        concat!(
            "test rcx, rcx\n jz 2f\n",
            "lea rdi, [rdi + rcx - 64]\n",
            "mov rsi, -1\n neg ecx\n shl rsi, cl\n kmovq k1, rsi\n",
            ex!("vmovdqu8 [rdi] {{k1}}, zmm0"),
            "2:\n",
        )
    };
}

/// Tail of a copy: 8, 4, 2, 1 bytes according to the bits of `rcx`.
macro_rules! tail_gpr {
    () => {
        concat!(
            "test cl, 8\n jz 2f\n",
            ex!("mov rax, qword ptr [rsi]"),
            ex!("mov qword ptr [rdi], rax"),
            "add rsi, 8\n add rdi, 8\n 2:\n",
            "test cl, 4\n jz 2f\n",
            ex!("mov eax, dword ptr [rsi]"),
            ex!("mov dword ptr [rdi], eax"),
            "add rsi, 4\n add rdi, 4\n 2:\n",
            "test cl, 2\n jz 2f\n",
            ex!("movzx eax, word ptr [rsi]"),
            ex!("mov word ptr [rdi], ax"),
            "add rsi, 2\n add rdi, 2\n 2:\n",
            "test cl, 1\n jz 2f\n",
            ex!("movzx eax, byte ptr [rsi]"),
            ex!("mov byte ptr [rdi], al"),
            "2:\n",
        )
    };
}

/// Tail step 16 (xmm) of an AVX2 copy, VEX-encoded (see [`head_16`]).
macro_rules! tail_16 {
    () => {
        concat!(
            "test cl, 16\n jz 2f\n",
            ex!("vmovdqu xmm0, xmmword ptr [rsi]"),
            ex!("vmovdqu xmmword ptr [rdi], xmm0"),
            "add rsi, 16\n add rdi, 16\n 2:\n",
        )
    };
}

/// Body of a copy: 4 vectors per iteration, then 1. `$ld`/`$st` are the
/// load and store mnemonics, `$r` the register prefix, `$w` the width and
/// `$o1..$o3`, `$w4` its multiples and `$w4m1` = `$w4 - 1`, all as string
/// literals.
///
/// No software prefetch: `prefetcht0` 1 KiB ahead measured 4-7% faster in
/// isolation on Zen 5 but up to 16% slower in `cargo bench --bench compare`
/// at 1 MiB, so it was left out.
macro_rules! body_copy {
    ($ld:literal, $st:literal, $r:literal, $w:literal, $o1:literal, $o2:literal, $o3:literal, $w4:literal, $w4m1:literal) => {
        concat!(
            "cmp rcx, ",
            $w4m1,
            "\n jbe 3f\n",
            // The loop starts a 64-byte line and, for 16- and 32-byte
            // vectors, fits in it: `sub -128`, `add -128` and `cmp 127`
            // have 1-byte immediates where `add 128` and `cmp 128` need 4.
            // Where the loop sat across two lines, the same AVX2 copy
            // measured 0.76-0.82x `memcpy` at 1 KiB instead of 1.04-1.09x.
            ".p2align 6\n",
            "4:\n",
            ex!($ld, " ", $r, "0, [rsi]"),
            ex!($ld, " ", $r, "1, [rsi + ", $o1, "]"),
            ex!($ld, " ", $r, "2, [rsi + ", $o2, "]"),
            ex!($ld, " ", $r, "3, [rsi + ", $o3, "]"),
            ex!($st, " [rdi], ", $r, "0"),
            ex!($st, " [rdi + ", $o1, "], ", $r, "1"),
            ex!($st, " [rdi + ", $o2, "], ", $r, "2"),
            ex!($st, " [rdi + ", $o3, "], ", $r, "3"),
            "sub rsi, -",
            $w4,
            "\n sub rdi, -",
            $w4,
            "\n add rcx, -",
            $w4,
            "\n",
            "cmp rcx, ",
            $w4m1,
            "\n ja 4b\n",
            "3:\n cmp rcx, ",
            $w,
            "\n jb 5f\n",
            "6:\n",
            ex!($ld, " ", $r, "0, [rsi]"),
            ex!($st, " [rdi], ", $r, "0"),
            "add rsi, ",
            $w,
            "\n add rdi, ",
            $w,
            "\n sub rcx, ",
            $w,
            "\n",
            "cmp rcx, ",
            $w,
            "\n jae 6b\n",
            "5:\n",
        )
    };
}

/// 128 or 64 bytes at `rsi` to `rdi` with SSE2: eight (or four) `movdqu`
/// loads into `xmm0`-`xmm7`, then the stores with `$st`, in the same order.
/// Eight registers per iteration: the 64-byte SSE2 loop measured 0.86-0.94x
/// `memcpy` at 4 KiB where this gave 0.98-1.00x (Zen 5, SSE2 dispatch).
macro_rules! sse2_block {
    (128, $st:literal) => {
        concat!(
            ex!("movdqu xmm0, [rsi]"),
            ex!("movdqu xmm1, [rsi + 16]"),
            ex!("movdqu xmm2, [rsi + 32]"),
            ex!("movdqu xmm3, [rsi + 48]"),
            ex!("movdqu xmm4, [rsi + 64]"),
            ex!("movdqu xmm5, [rsi + 80]"),
            ex!("movdqu xmm6, [rsi + 96]"),
            ex!("movdqu xmm7, [rsi + 112]"),
            ex!($st, " [rdi], xmm0"),
            ex!($st, " [rdi + 16], xmm1"),
            ex!($st, " [rdi + 32], xmm2"),
            ex!($st, " [rdi + 48], xmm3"),
            ex!($st, " [rdi + 64], xmm4"),
            ex!($st, " [rdi + 80], xmm5"),
            ex!($st, " [rdi + 96], xmm6"),
            ex!($st, " [rdi + 112], xmm7"),
        )
    };
    (64, $st:literal) => {
        concat!(
            ex!("movdqu xmm0, [rsi]"),
            ex!("movdqu xmm1, [rsi + 16]"),
            ex!("movdqu xmm2, [rsi + 32]"),
            ex!("movdqu xmm3, [rsi + 48]"),
            ex!($st, " [rdi], xmm0"),
            ex!($st, " [rdi + 16], xmm1"),
            ex!($st, " [rdi + 32], xmm2"),
            ex!($st, " [rdi + 48], xmm3"),
        )
    };
}

/// Head of a fill (value broadcast in rax and in `xmm0`/`ymm0`/`zmm0`).
macro_rules! fhead_gpr {
    () => {
        concat!(
            "test dil, 1\n jz 2f\n",
            ex!("mov byte ptr [rdi], al"),
            "add rdi, 1\n sub rcx, 1\n 2:\n",
            "test dil, 2\n jz 2f\n",
            ex!("mov word ptr [rdi], ax"),
            "add rdi, 2\n sub rcx, 2\n 2:\n",
            "test dil, 4\n jz 2f\n",
            ex!("mov dword ptr [rdi], eax"),
            "add rdi, 4\n sub rcx, 4\n 2:\n",
            "test dil, 8\n jz 2f\n",
            ex!("mov qword ptr [rdi], rax"),
            "add rdi, 8\n sub rcx, 8\n 2:\n",
        )
    };
}

macro_rules! fhead_16 {
    () => {
        concat!(
            "test dil, 16\n jz 2f\n",
            ex!("vmovdqa xmmword ptr [rdi], xmm0"),
            "add rdi, 16\n sub rcx, 16\n 2:\n"
        )
    };
}

macro_rules! ftail_gpr {
    () => {
        concat!(
            "test cl, 8\n jz 2f\n",
            ex!("mov qword ptr [rdi], rax"),
            "add rdi, 8\n 2:\n",
            "test cl, 4\n jz 2f\n",
            ex!("mov dword ptr [rdi], eax"),
            "add rdi, 4\n 2:\n",
            "test cl, 2\n jz 2f\n",
            ex!("mov word ptr [rdi], ax"),
            "add rdi, 2\n 2:\n",
            "test cl, 1\n jz 2f\n",
            ex!("mov byte ptr [rdi], al"),
            "2:\n",
        )
    };
}

macro_rules! ftail_16 {
    () => {
        concat!(
            "test cl, 16\n jz 2f\n",
            ex!("vmovdqu xmmword ptr [rdi], xmm0"),
            "add rdi, 16\n 2:\n"
        )
    };
}

macro_rules! body_fill {
    ($st:literal, $r:literal, $w:literal, $o1:literal, $o2:literal, $o3:literal, $w4:literal) => {
        concat!(
            "cmp rcx, ",
            $w4,
            "\n jb 3f\n",
            "4:\n",
            ex!($st, " [rdi], ", $r, "0"),
            ex!($st, " [rdi + ", $o1, "], ", $r, "0"),
            ex!($st, " [rdi + ", $o2, "], ", $r, "0"),
            ex!($st, " [rdi + ", $o3, "], ", $r, "0"),
            "add rdi, ",
            $w4,
            "\n sub rcx, ",
            $w4,
            "\n",
            "cmp rcx, ",
            $w4,
            "\n jae 4b\n",
            "3:\n cmp rcx, ",
            $w,
            "\n jb 5f\n",
            "6:\n",
            ex!($st, " [rdi], ", $r, "0"),
            "add rdi, ",
            $w,
            "\n sub rcx, ",
            $w,
            "\n",
            "cmp rcx, ",
            $w,
            "\n jae 6b\n",
            "5:\n",
        )
    };
}

/// Defines an `#[inline(never)]` copy function over one asm template.
macro_rules! copy_fn {
    ($(#[$attr:meta])* $name:ident, $template:expr) => {
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// Behavior is undefined if any of these is violated:
        /// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`,
        ///   `len`;
        /// - `len >= 64`;
        /// - the CPU supports the instructions used (checked by the caller
        ///   through `detect::features`).
        #[inline(never)]
        pub(super) unsafe fn $name(src: *const u8, dst: *mut u8, len: usize) -> usize {
            debug_assert!(len >= 64);
            let fault: usize;
            // Options and clobbers: module docs. Every load and store is
            // single-copy atomic per byte (Intel SDM Vol. 3A §9.1.1, AMD APM
            // Vol. 2 §7.3.2; `src/imp/README.md`).
            // SAFETY: the regions are valid and disjoint and the instructions
            // exist on this CPU (caller); the head, body and tail pieces tile
            // `0..len` once (module docs), each access atomic per byte.
            unsafe {
                asm!(
                    $template,
                    inout("rsi") src => _,
                    inout("rdi") dst => _,
                    inout("rcx") len => _,
                    inout("r11") 0usize => fault,
                    clobber_abi("C"),
                    options(nostack),
                );
            }
            fault
        }
    };
}

/// Defines an `#[inline(never)]` fill function over one asm template; the
/// template starts with the broadcast value in rax.
macro_rules! fill_fn {
    ($(#[$attr:meta])* $name:ident, $template:expr) => {
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// Behavior is undefined if any of these is violated:
        /// - the kernel contract in `imp/mod.rs` holds for `dst`, `len`;
        /// - `len >= 64`;
        /// - the CPU supports the instructions used (checked by the caller
        ///   through `detect::features`).
        #[inline(never)]
        pub(super) unsafe fn $name(dst: *mut u8, byte: u8, len: usize) -> usize {
            debug_assert!(len >= 64);
            let fault: usize;
            let v = u64::from(byte) * 0x0101_0101_0101_0101;
            // Options and clobbers: module docs.
            // SAFETY: `dst..dst+len` is valid and the instructions exist on
            // this CPU (caller); the pieces tile `0..len` once (module docs),
            // each store atomic per byte (`src/imp/README.md`).
            unsafe {
                asm!(
                    $template,
                    inout("rdi") dst => _,
                    inout("rcx") len => _,
                    inout("rax") v => _,
                    inout("r11") 0usize => fault,
                    clobber_abi("C"),
                    options(nostack),
                );
            }
            fault
        }
    };
}

copy_fn!(
    /// SSE2 copy: 16-byte `movdqu` loads, `movdqa` stores. An aligned
    /// destination skips the head, and a length left that is a multiple of
    /// 16 the tail, each with one branch (see [`copy_avx2`]).
    copy_sse2,
    concat!(
        "test dil, 15\n jz 8f\n",
        head_gpr!(),
        "8:\n",
        // 128 bytes per iteration (see `load_sse2`), then 64, then the
        // 16-byte loop.
        "cmp rcx, 127\n jbe 3f\n",
        ".p2align 6\n",
        "4:\n",
        sse2_block!(128, "movdqa"),
        "sub rsi, -128\n sub rdi, -128\n add rcx, -128\n cmp rcx, 127\n ja 4b\n",
        "3:\n",
        body_copy!("movdqu", "movdqa", "xmm", "16", "16", "32", "48", "64", "63"),
        "test cl, 15\n jz 9f\n",
        tail_gpr!(),
        "9:\n",
        fixup!(),
    )
);

copy_fn!(
    /// `load` of 64 bytes or more with SSE2, for a private destination: the
    /// shape of [`load_avx2`] with 16-byte moves (the first 16 bytes, then
    /// 128 bytes per iteration with aligned stores, then 64 more if more
    /// than 64 are left, then the last 64 bytes), and the same argument for
    /// the overlap: each step's loads come after the previous step's.
    load_sse2,
    concat!(
        ex!("movdqu xmm4, [rsi]"),
        "lea r8, [rsi + rcx]\n lea r9, [rdi + rcx]\n",
        "mov rax, rdi\n or rax, 15\n inc rax\n sub rax, rdi\n",
        ex!("movdqu [rdi], xmm4"),
        "add rsi, rax\n add rdi, rax\n sub rcx, rax\n",
        "cmp rcx, 127\n jbe 5f\n",
        // One 64-byte line, as in `body_copy`.
        ".p2align 6\n",
        "4:\n",
        sse2_block!(128, "movdqa"),
        "sub rsi, -128\n sub rdi, -128\n add rcx, -128\n cmp rcx, 127\n ja 4b\n",
        // Fewer than 128 left: 64 more if more than 64 are left, so that
        // the last 64 cover the rest.
        "5:\n cmp rcx, 64\n jbe 3f\n",
        sse2_block!(64, "movdqa"),
        "3:\n",
        ex!("movdqu xmm0, [r8 - 64]"),
        ex!("movdqu xmm1, [r8 - 48]"),
        ex!("movdqu xmm2, [r8 - 32]"),
        ex!("movdqu xmm3, [r8 - 16]"),
        ex!("movdqu [r9 - 64], xmm0"),
        ex!("movdqu [r9 - 48], xmm1"),
        ex!("movdqu [r9 - 32], xmm2"),
        ex!("movdqu [r9 - 16], xmm3"),
        fixup!(),
    )
);

copy_fn!(
    /// SSE2 copy with non-temporal `movntdq` stores in the body.
    copy_sse2_nt,
    concat!(
        "sfence\n",
        head_gpr!(),
        body_copy!("movdqu", "movntdq", "xmm", "16", "16", "32", "48", "64", "63"),
        tail_gpr!(),
        fixup!(),
        "sfence\n",
    )
);

copy_fn!(
    /// AVX2 copy: 32-byte `vmovdqu` loads and stores.
    ///
    /// Below 2 KiB the head that aligns the destination is skipped unless
    /// the destination crosses a 4 KiB page, as in `copy_avx512` (see
    /// [`head_mask`]): a `store` of 1 KiB with the destination 3 bytes past
    /// a 32-byte boundary measured 0.60-0.69x `memcpy` with the head and
    /// 0.92-0.94x without it, and 0.66-0.88x against 0.83-0.92x at source
    /// +64, destination +3000 (`-- --at 1024 ... avx2`, AVX2 dispatch). From
    /// 2 KiB, and for a destination crossing a page, the head runs and the
    /// stores are aligned.
    ///
    /// A destination that is already 32-aligned skips the whole head with
    /// one branch, and a length left that is a multiple of 32 skips the
    /// whole tail. Every taken branch ends a fetch block: with the ten
    /// taken branches of an aligned copy stepping through head and tail one
    /// bit at a time, a 1 KiB copy measured 2-4 ns slower than the bare
    /// loop (Zen 5, each kernel called alone: 0.61-0.64x `memcpy` against
    /// 1.1x for the loop); with the two gates and the loop in one 64-byte
    /// line (see `body_copy`), 1.04-1.09x.
    copy_avx2,
    concat!(
        "test dil, 31\n jz 8f\n",
        "cmp rcx, 2048\n jae 7f\n",
        "mov eax, edi\n and eax, 4095\n add rax, rcx\n cmp rax, 4096\n jbe 8f\n",
        "7:\n",
        head_gpr!(),
        head_16!(),
        "8:\n",
        body_copy!("vmovdqu", "vmovdqu", "ymm", "32", "32", "64", "96", "128", "127"),
        "test cl, 31\n jz 9f\n",
        tail_16!(),
        tail_gpr!(),
        "9:\n",
        fixup!(),
        "vzeroupper\n",
    )
);

copy_fn!(
    /// `load` of 128 bytes or more with AVX2, for a private destination:
    /// no branch outside the loop.
    ///
    /// 1. The first 32 bytes, unaligned; then source and destination advance
    ///    by `32 - (dst mod 32)` (1 to 32), so the destination is aligned.
    /// 2. 128 bytes per iteration (four loads, four aligned stores) while at
    ///    least 128 are left.
    /// 3. The last 128 bytes, as four moves that end where the copy ends.
    ///
    /// Steps 1 and 3 overlap step 2, so a source byte may be read twice:
    /// each step's loads come after the previous step's and before its own
    /// stores, so every destination byte ends up with the *later* read, as
    /// in [`load_mid_avx2`] (`src/imp/README.md`, "Overlapping moves"). A
    /// shared destination must not be written twice, so `store` and `copy`
    /// use [`copy_avx2`].
    load_avx2,
    concat!(
        ex!("vmovdqu ymm4, [rsi]"),
        "lea r8, [rsi + rcx]\n lea r9, [rdi + rcx]\n",
        "mov rax, rdi\n or rax, 31\n inc rax\n sub rax, rdi\n",
        ex!("vmovdqu [rdi], ymm4"),
        "add rsi, rax\n add rdi, rax\n sub rcx, rax\n",
        "cmp rcx, 127\n jbe 3f\n",
        // One 64-byte line, as in `body_copy`.
        ".p2align 6\n",
        "4:\n",
        ex!("vmovdqu ymm0, [rsi]"),
        ex!("vmovdqu ymm1, [rsi + 32]"),
        ex!("vmovdqu ymm2, [rsi + 64]"),
        ex!("vmovdqu ymm3, [rsi + 96]"),
        ex!("vmovdqa [rdi], ymm0"),
        ex!("vmovdqa [rdi + 32], ymm1"),
        ex!("vmovdqa [rdi + 64], ymm2"),
        ex!("vmovdqa [rdi + 96], ymm3"),
        "sub rsi, -128\n sub rdi, -128\n add rcx, -128\n cmp rcx, 127\n ja 4b\n",
        "3:\n",
        ex!("vmovdqu ymm0, [r8 - 128]"),
        ex!("vmovdqu ymm1, [r8 - 96]"),
        ex!("vmovdqu ymm2, [r8 - 64]"),
        ex!("vmovdqu ymm3, [r8 - 32]"),
        ex!("vmovdqu [r9 - 128], ymm0"),
        ex!("vmovdqu [r9 - 96], ymm1"),
        ex!("vmovdqu [r9 - 64], ymm2"),
        ex!("vmovdqu [r9 - 32], ymm3"),
        fixup!(),
        "vzeroupper\n",
    )
);

copy_fn!(
    /// AVX-512 copy: 64-byte `vmovdqu64` loads, `vmovdqa64` stores.
    copy_avx512,
    concat!(
        head_mask!(cached),
        body_copy!("vmovdqu64", "vmovdqu64", "zmm", "64", "64", "128", "192", "256", "255"),
        tail_mask!(),
        fixup!(),
        "vzeroupper\n",
    )
);

copy_fn!(
    /// AVX-512 copy with non-temporal `vmovntdq` stores in the body.
    copy_avx512_nt,
    concat!(
        "sfence\n",
        head_mask!(always),
        body_copy!("vmovdqu64", "vmovntdq", "zmm", "64", "64", "128", "192", "256", "255"),
        tail_mask!(),
        fixup!(),
        "sfence\n",
        "vzeroupper\n",
    )
);

copy_fn!(
    /// AVX-512 copy that runs backward, from the end of the buffers.
    ///
    /// Used when the destination is less than 512 bytes ahead of the source
    /// modulo 4 KiB: going forward, each iteration's loads then have the
    /// same page offsets as the previous iteration's stores, still in the
    /// store buffer, and the CPU stalls them on a false dependency ("4K
    /// aliasing"; measured 0.58x memcpy at 16 KiB on Zen 5). Going backward,
    /// the pending stores are at offsets the loads have already passed.
    ///
    /// Same tiling as the forward loops, mirrored: a byte-masked move of the
    /// last `(dst + len) mod 64` bytes (the top lanes of the vector ending at
    /// the end, see [`tail_mask`]) aligns the end, 64-byte moves run
    /// down, and one byte-masked move covers what is left at the start. No
    /// byte is accessed twice.
    copy_avx512_bwd,
    concat!(
        "lea r8, [rsi + rcx]\n lea r9, [rdi + rcx]\n",
        "mov rax, r9\n and eax, 63\n jz 2f\n",
        // The last `rax` bytes of the vector that ends at the end (see
        // `tail_mask`): mask `!((1 << (64 - rax)) - 1)`.
        "mov r10d, 64\n sub r10d, eax\n",
        "xor edx, edx\n bts rdx, r10\n dec rdx\n not rdx\n kmovq k1, rdx\n",
        ex!("vmovdqu8 zmm0 {{k1}} {{z}}, [r8 - 64]"), ex!("vmovdqu8 [r9 - 64] {{k1}}, zmm0"),
        "sub r8, rax\n sub r9, rax\n sub rcx, rax\n",
        "2:\n cmp rcx, 256\n jb 3f\n",
        "4:\n",
        ex!("vmovdqu64 zmm0, [r8 - 64]"), ex!("vmovdqu64 zmm1, [r8 - 128]"),
        ex!("vmovdqu64 zmm2, [r8 - 192]"), ex!("vmovdqu64 zmm3, [r8 - 256]"),
        ex!("vmovdqu64 [r9 - 64], zmm0"), ex!("vmovdqu64 [r9 - 128], zmm1"),
        ex!("vmovdqu64 [r9 - 192], zmm2"), ex!("vmovdqu64 [r9 - 256], zmm3"),
        "sub r8, 256\n sub r9, 256\n sub rcx, 256\n cmp rcx, 256\n jae 4b\n",
        "3:\n cmp rcx, 64\n jb 5f\n",
        "6:\n", ex!("vmovdqu64 zmm0, [r8 - 64]"), ex!("vmovdqu64 [r9 - 64], zmm0"),
        "sub r8, 64\n sub r9, 64\n sub rcx, 64\n cmp rcx, 64\n jae 6b\n",
        "5:\n test rcx, rcx\n jz 7f\n",
        "xor edx, edx\n bts rdx, rcx\n dec rdx\n kmovq k1, rdx\n",
        ex!("vmovdqu8 zmm0 {{k1}} {{z}}, [rsi]"), ex!("vmovdqu8 [rdi] {{k1}}, zmm0"),
        "7:\n",
        fixup!(),
        "vzeroupper\n",
    )
);

copy_fn!(
    /// AVX2 copy that runs backward, from the end of the buffers: the
    /// AVX2 counterpart of [`copy_avx512_bwd`], for the same 4K-aliasing
    /// pairs on CPUs without AVX-512.
    ///
    /// The end is aligned first: 1, 2, 4, 8 and 16 bytes are moved from the
    /// end whenever that bit of the destination's end address is set, so
    /// that it becomes 32-aligned; then 128-byte blocks and 32-byte pieces
    /// run down with aligned stores; the fewer than 32 bytes left at the
    /// start are moved forward by the bits of their count (16 with a VEX
    /// xmm move, then 8, 4, 2, 1). Each piece starts where the previous one
    /// ended, so they tile `0..len`: no byte is accessed twice.
    copy_avx2_bwd,
    concat!(
        "lea r8, [rsi + rcx]\n lea r9, [rdi + rcx]\n",
        "test r9b, 31\n jz 8f\n",
        "test r9b, 1\n jz 2f\n",
        "sub r8, 1\n sub r9, 1\n sub rcx, 1\n",
        ex!("movzx eax, byte ptr [r8]"), ex!("mov byte ptr [r9], al"), "2:\n",
        "test r9b, 2\n jz 2f\n",
        "sub r8, 2\n sub r9, 2\n sub rcx, 2\n",
        ex!("movzx eax, word ptr [r8]"), ex!("mov word ptr [r9], ax"), "2:\n",
        "test r9b, 4\n jz 2f\n",
        "sub r8, 4\n sub r9, 4\n sub rcx, 4\n",
        ex!("mov eax, dword ptr [r8]"), ex!("mov dword ptr [r9], eax"), "2:\n",
        "test r9b, 8\n jz 2f\n",
        "sub r8, 8\n sub r9, 8\n sub rcx, 8\n",
        ex!("mov rax, qword ptr [r8]"), ex!("mov qword ptr [r9], rax"), "2:\n",
        "test r9b, 16\n jz 2f\n",
        "sub r8, 16\n sub r9, 16\n sub rcx, 16\n",
        ex!("vmovdqu xmm0, xmmword ptr [r8]"), ex!("vmovdqa xmmword ptr [r9], xmm0"), "2:\n",
        "8:\n cmp rcx, 127\n jbe 3f\n",
        // One 64-byte line, as in `body_copy`.
        ".p2align 6\n",
        "4:\n",
        ex!("vmovdqu ymm0, [r8 - 32]"), ex!("vmovdqu ymm1, [r8 - 64]"),
        ex!("vmovdqu ymm2, [r8 - 96]"), ex!("vmovdqu ymm3, [r8 - 128]"),
        ex!("vmovdqa [r9 - 32], ymm0"), ex!("vmovdqa [r9 - 64], ymm1"),
        ex!("vmovdqa [r9 - 96], ymm2"), ex!("vmovdqa [r9 - 128], ymm3"),
        "add r8, -128\n add r9, -128\n add rcx, -128\n cmp rcx, 127\n ja 4b\n",
        "3:\n cmp rcx, 32\n jb 5f\n",
        "6:\n", ex!("vmovdqu ymm0, [r8 - 32]"), ex!("vmovdqa [r9 - 32], ymm0"),
        "sub r8, 32\n sub r9, 32\n sub rcx, 32\n cmp rcx, 32\n jae 6b\n",
        "5:\n test cl, 31\n jz 9f\n",
        tail_16!(),
        tail_gpr!(),
        "9:\n",
        fixup!(),
        "vzeroupper\n",
    )
);

fill_fn!(
    /// SSE2 fill.
    fill_sse2,
    concat!(
        "movq xmm0, rax\n punpcklqdq xmm0, xmm0\n",
        fhead_gpr!(),
        body_fill!("movdqa", "xmm", "16", "16", "32", "48", "64"),
        ftail_gpr!(),
        fixup!(),
    )
);

fill_fn!(
    /// SSE2 fill with non-temporal stores in the body.
    fill_sse2_nt,
    concat!(
        "sfence\n",
        "movq xmm0, rax\n punpcklqdq xmm0, xmm0\n",
        fhead_gpr!(),
        body_fill!("movntdq", "xmm", "16", "16", "32", "48", "64"),
        ftail_gpr!(),
        fixup!(),
        "sfence\n",
    )
);

fill_fn!(
    /// AVX2 fill.
    fill_avx2,
    concat!(
        "vmovq xmm0, rax\n vpbroadcastq ymm0, xmm0\n",
        fhead_gpr!(),
        fhead_16!(),
        body_fill!("vmovdqa", "ymm", "32", "32", "64", "96", "128"),
        ftail_16!(),
        ftail_gpr!(),
        fixup!(),
        "vzeroupper\n",
    )
);

fill_fn!(
    /// AVX-512 fill.
    fill_avx512,
    concat!(
        "vpbroadcastq zmm0, rax\n",
        fhead_mask!(from_512),
        body_fill!("vmovdqu64", "zmm", "64", "64", "128", "192", "256"),
        ftail_mask!(),
        fixup!(),
        "vzeroupper\n",
    )
);

fill_fn!(
    /// AVX-512 fill with non-temporal stores in the body.
    fill_avx512_nt,
    concat!(
        "sfence\n",
        "vpbroadcastq zmm0, rax\n",
        fhead_mask!(always),
        body_fill!("vmovntdq", "zmm", "64", "64", "128", "192", "256"),
        ftail_mask!(),
        fixup!(),
        "sfence\n",
        "vzeroupper\n",
    )
);

/// The template of a `load_mid_*` block: `$mov` loads of the registers
/// `$r` from the offsets `$o` and of the registers `$e` from `len - $eo`,
/// then the stores of the same registers in the same order, then `$end`
/// (`vzeroupper` after ymm or zmm moves). The pieces from the start and
/// those ending at `len` may overlap; all loads come first, so every
/// destination byte gets the later read (see [`load_mid_avx512`]).
macro_rules! overlap_tpl {
    ($mov:expr; $($r:literal @ $o:literal),+; $($e:literal @ $eo:literal),+; $end:literal) => {
        concat!(
            $(ex!($mov, " ", $r, ", [{s} + ", $o, "]"),)+
            $(ex!($mov, " ", $e, ", [{s} + {n} - ", $eo, "]"),)+
            $(ex!($mov, " [{d} + ", $o, "], ", $r),)+
            $(ex!($mov, " [{d} + {n} - ", $eo, "], ", $e),)+
            fixup!(),
            $end,
        )
    };
}

/// The body of a `load_mid_*` function: the `$small` template for 65 to
/// 128 bytes, `$large` for 129 to 256 (see [`overlap_tpl`]).
macro_rules! load_mid_body {
    ($src:ident, $dst:ident, $len:ident, $small:expr, $large:expr) => {{
        debug_assert!((65..=256).contains(&$len));
        let fault: usize;
        if $len <= 128 {
            // Clobbers: `xmm0`-`xmm15` (see `load_mid_avx512`); `nostack`;
            // `preserves_flags` (moves only).
            // SAFETY: 65 <= len <= 128 and every piece of `$small` lies in
            // `0..64` or `len - 64..len`, inside both valid regions; the
            // destination is private and the CPU has the instructions
            // (caller); each access is atomic per byte (`src/imp/README.md`).
            unsafe {
                asm_inline_vec!(
                    $small,
                    s = in(reg) $src,
                    d = in(reg) $dst,
                    n = in(reg) $len,
                    inout("r11") 0usize => fault,
                    options(nostack, preserves_flags),
                );
            }
        } else {
            // SAFETY: as above, with 129 <= len <= 256 and the pieces of
            // `$large` in `0..128` and `len - 128..len`.
            unsafe {
                asm_inline_vec!(
                    $large,
                    s = in(reg) $src,
                    d = in(reg) $dst,
                    n = in(reg) $len,
                    inout("r11") 0usize => fault,
                    options(nostack, preserves_flags),
                );
            }
        }
        fault
    }};
}

/// `load` of 65 to 256 bytes with SSE2, for CPUs without AVX2: eight or
/// sixteen unaligned 16-byte moves, the first half from the start and the
/// second half ending at `len`, so they may overlap (the argument of
/// [`load_mid_avx512`]: private destination, all loads before all stores,
/// in the same order). No loop.
///
/// Inlined into the caller, as [`load_mid_avx2`]: as one direct call it
/// measured 0.80x `memcpy` at 200 bytes and 1.02x at 256 (both page
/// offsets 0), inline 0.93-0.95x and 1.20x; at 96 bytes 1.02-1.38x over
/// five placements against 0.78-0.93x (`-- --at`, SSE2 dispatch). The moves are `movdqu!()`: VEX-encoded when the crate is built
/// with AVX (see `x86_64/mod.rs`), so that no legacy-SSE instruction lands
/// next to the caller's AVX code; this path itself only runs on CPUs
/// without AVX2. Clobbers `xmm0`-`xmm15` (see [`load_mid_avx512`]).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`, with
///   `dst` private;
/// - `65 <= len <= 256`.
#[inline(always)]
pub(super) unsafe fn load_mid_sse2(src: *const u8, dst: *mut u8, len: usize) -> usize {
    load_mid_body!(
        src,
        dst,
        len,
        overlap_tpl!(movdqu!();
            "xmm0" @ "0", "xmm1" @ "16", "xmm2" @ "32", "xmm3" @ "48";
            "xmm4" @ "64", "xmm5" @ "48", "xmm6" @ "32", "xmm7" @ "16"; ""),
        overlap_tpl!(movdqu!();
            "xmm0" @ "0", "xmm1" @ "16", "xmm2" @ "32", "xmm3" @ "48",
            "xmm4" @ "64", "xmm5" @ "80", "xmm6" @ "96", "xmm7" @ "112";
            "xmm8" @ "128", "xmm9" @ "112", "xmm10" @ "96", "xmm11" @ "80",
            "xmm12" @ "64", "xmm13" @ "48", "xmm14" @ "32", "xmm15" @ "16"; "")
    )
}

copy_fn!(
    /// `store` and `copy` of 65 to 256 bytes with SSE2, for CPUs without
    /// AVX2: the binary digits of the length from the top, as
    /// [`store_mid_avx2`] with 16-byte moves (256 and 128 bytes with all
    /// loads before the stores; then 64, 32, 16, 8, 4, 2, 1). The pieces
    /// tile `0..len` without overlap: each byte read and written once. One
    /// direct call from `store`, no loop.
    store_mid_sse2,
    concat!(
        "cmp rcx, 128\n jb 5f\n",
        ex!("movdqu xmm0, [rsi]"), ex!("movdqu xmm1, [rsi + 16]"),
        ex!("movdqu xmm2, [rsi + 32]"), ex!("movdqu xmm3, [rsi + 48]"),
        ex!("movdqu xmm4, [rsi + 64]"), ex!("movdqu xmm5, [rsi + 80]"),
        ex!("movdqu xmm6, [rsi + 96]"), ex!("movdqu xmm7, [rsi + 112]"),
        "cmp rcx, 256\n jb 4f\n",
        ex!("movdqu xmm8, [rsi + 128]"), ex!("movdqu xmm9, [rsi + 144]"),
        ex!("movdqu xmm10, [rsi + 160]"), ex!("movdqu xmm11, [rsi + 176]"),
        ex!("movdqu xmm12, [rsi + 192]"), ex!("movdqu xmm13, [rsi + 208]"),
        ex!("movdqu xmm14, [rsi + 224]"), ex!("movdqu xmm15, [rsi + 240]"),
        ex!("movdqu [rdi + 128], xmm8"), ex!("movdqu [rdi + 144], xmm9"),
        ex!("movdqu [rdi + 160], xmm10"), ex!("movdqu [rdi + 176], xmm11"),
        ex!("movdqu [rdi + 192], xmm12"), ex!("movdqu [rdi + 208], xmm13"),
        ex!("movdqu [rdi + 224], xmm14"), ex!("movdqu [rdi + 240], xmm15"),
        "4:\n",
        ex!("movdqu [rdi], xmm0"), ex!("movdqu [rdi + 16], xmm1"),
        ex!("movdqu [rdi + 32], xmm2"), ex!("movdqu [rdi + 48], xmm3"),
        ex!("movdqu [rdi + 64], xmm4"), ex!("movdqu [rdi + 80], xmm5"),
        ex!("movdqu [rdi + 96], xmm6"), ex!("movdqu [rdi + 112], xmm7"),
        "cmp rcx, 256\n jae 9f\n",
        "add rsi, 128\n add rdi, 128\n",
        "5:\n test cl, 64\n jz 2f\n",
        ex!("movdqu xmm0, [rsi]"), ex!("movdqu xmm1, [rsi + 16]"),
        ex!("movdqu xmm2, [rsi + 32]"), ex!("movdqu xmm3, [rsi + 48]"),
        ex!("movdqu [rdi], xmm0"), ex!("movdqu [rdi + 16], xmm1"),
        ex!("movdqu [rdi + 32], xmm2"), ex!("movdqu [rdi + 48], xmm3"),
        "add rsi, 64\n add rdi, 64\n",
        "2:\n test cl, 32\n jz 2f\n",
        ex!("movdqu xmm0, [rsi]"), ex!("movdqu xmm1, [rsi + 16]"),
        ex!("movdqu [rdi], xmm0"), ex!("movdqu [rdi + 16], xmm1"),
        "add rsi, 32\n add rdi, 32\n",
        "2:\n test cl, 31\n jz 9f\n",
        "test cl, 16\n jz 2f\n",
        ex!("movdqu xmm0, [rsi]"), ex!("movdqu [rdi], xmm0"),
        "add rsi, 16\n add rdi, 16\n",
        "2:\n",
        tail_gpr!(),
        "9:\n",
        fixup!(),
    )
);

copy_fn!(
    /// `load`, `store` and `copy` of 257 to 512 bytes with AVX-512: `q` = 4
    /// to 7 whole 64-byte pieces from the start (`q = (len - 1) / 64`) and
    /// the top `len - 64 * q` lanes of the vector that ends at `len` (see
    /// [`tail_mask`]), all loads before the stores, no loop. The pieces
    /// tile `0..len` without overlap: each byte read once and written once.
    /// Measured (Zen 5, ratio to `memcpy`): 1.09-1.34x at 300 and 400
    /// bytes where the forward loop gave 0.73-0.8x at 512; for `load`,
    /// eight overlapping unmasked moves (as at 65-256 bytes) measured
    /// 0.79-0.92x at 300 and 400 bytes, so `load` uses this too.
    store_avx512_512,
    concat!(
        // k1 = the top r = ((len - 1) & 63) + 1 bits: NOT of the low
        // 64 - r = 63 - ((len - 1) & 63) bits.
        "lea rax, [rcx - 1]\n and eax, 63\n mov r8d, 63\n sub r8d, eax\n",
        "xor edx, edx\n bts rdx, r8\n dec rdx\n not rdx\n kmovq k1, rdx\n",
        ex!("vmovdqu64 zmm0, [rsi]"), ex!("vmovdqu64 zmm1, [rsi + 64]"),
        ex!("vmovdqu64 zmm2, [rsi + 128]"), ex!("vmovdqu64 zmm3, [rsi + 192]"),
        "cmp rcx, 320\n jbe 2f\n", ex!("vmovdqu64 zmm4, [rsi + 256]"),
        "cmp rcx, 384\n jbe 2f\n", ex!("vmovdqu64 zmm5, [rsi + 320]"),
        "cmp rcx, 448\n jbe 2f\n", ex!("vmovdqu64 zmm6, [rsi + 384]"),
        "2:\n", ex!("vmovdqu8 zmm7 {{k1}} {{z}}, [rsi + rcx - 64]"),
        ex!("vmovdqu64 [rdi], zmm0"), ex!("vmovdqu64 [rdi + 64], zmm1"),
        ex!("vmovdqu64 [rdi + 128], zmm2"), ex!("vmovdqu64 [rdi + 192], zmm3"),
        "cmp rcx, 320\n jbe 2f\n", ex!("vmovdqu64 [rdi + 256], zmm4"),
        "cmp rcx, 384\n jbe 2f\n", ex!("vmovdqu64 [rdi + 320], zmm5"),
        "cmp rcx, 448\n jbe 2f\n", ex!("vmovdqu64 [rdi + 384], zmm6"),
        "2:\n", ex!("vmovdqu8 [rdi + rcx - 64] {{k1}}, zmm7"),
        fixup!(),
        "vzeroupper\n",
    )
);

/// `load` of 65 to 256 bytes with AVX-512: two or four unaligned 64-byte
/// moves that may overlap, no loop and no mask.
///
/// Only for `load`, whose destination is private: a source byte covered by
/// two moves is read twice, and both loads come before both stores, in the
/// same order, so the destination keeps the value of the *later* read (see
/// `src/imp/README.md`, "Overlapping moves"). A shared destination must not
/// be written twice, so `store` and `copy` use [`copy_avx512`].
///
/// Inlined into the caller: a call costs a store of the return address,
/// and at these lengths the copy is bound by the store throughput (one
/// store per cycle, a zmm store taking two on Zen 5). The blocks name
/// `zmm0`-`zmm3` and end with `vzeroupper`, which zeroes the upper halves
/// of all of `ymm0`-`ymm15`, so they declare all of `xmm0`-`xmm15` clobbered
/// (a clobber of `xmmN` covers the whole `zmmN`): the compiler then keeps
/// no value in any of them across the block, whatever target features the
/// caller is compiled with. `zmm16`-`zmm31` and the opmask registers are
/// not touched.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`, with
///   `dst` private;
/// - `65 <= len <= 256`;
/// - the CPU supports AVX-512F (checked by the caller).
#[inline(always)]
pub(super) unsafe fn load_mid_avx512(src: *const u8, dst: *mut u8, len: usize) -> usize {
    load_mid_body!(
        src,
        dst,
        len,
        overlap_tpl!("vmovdqu64"; "zmm0" @ "0"; "zmm1" @ "64"; "vzeroupper"),
        overlap_tpl!("vmovdqu64";
            "zmm0" @ "0", "zmm1" @ "64";
            "zmm2" @ "128", "zmm3" @ "64"; "vzeroupper")
    )
}

/// `load` of 65 to 256 bytes with AVX2: four or eight unaligned 32-byte
/// moves that may overlap, VEX-encoded throughout, no loop.
///
/// The AVX2 counterpart of [`load_mid_avx512`], with the same argument for
/// the overlap (private destination; all loads, then all stores in the same
/// order) and the same clobbers (`xmm0`-`xmm15`, `vzeroupper` at the end).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`, with
///   `dst` private;
/// - `65 <= len <= 256`;
/// - the CPU supports AVX2 (checked by the caller).
#[inline(always)]
pub(super) unsafe fn load_mid_avx2(src: *const u8, dst: *mut u8, len: usize) -> usize {
    load_mid_body!(
        src,
        dst,
        len,
        overlap_tpl!("vmovdqu"; "ymm0" @ "0", "ymm1" @ "32"; "ymm2" @ "64", "ymm3" @ "32"; "vzeroupper"),
        overlap_tpl!("vmovdqu";
            "ymm0" @ "0", "ymm1" @ "32", "ymm2" @ "64", "ymm3" @ "96";
            "ymm4" @ "128", "ymm5" @ "96", "ymm6" @ "64", "ymm7" @ "32"; "vzeroupper")
    )
}

/// `store` and `copy` of 65 to 256 bytes with AVX2, inlined into the caller
/// like [`load_mid_avx2`]: no alignment head, no loop.
///
/// The length is consumed by its binary digits from the top: 256 bytes as
/// eight ymm loads and then eight stores, 128 as four loads and four
/// stores, 64 as two moves, 32 as one, 16 with one VEX xmm move, then 8, 4,
/// 2, 1 with general-purpose moves (skipped at once when the length is a
/// multiple of 32). The pieces tile `0..len` in order without overlap, so
/// each byte of both regions is read once and written once. Each step is
/// one test of a bit of the length and a branch that always goes the same
/// way for a given length. A loop over 128-byte blocks instead measured
/// 0.48x `memcpy` at 256 bytes (Zen 5, AVX2 dispatch), this 0.9x or more.
///
/// Writes `rax`, `rcx`, `rsi`, `rdi` (operands) and `xmm0`-`xmm15` (see
/// [`load_mid_avx512`]), and the flags. No opmask register.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `65 <= len <= 256`;
/// - the CPU supports AVX2 (checked by the caller).
#[inline(always)]
pub(super) unsafe fn store_mid_avx2(src: *const u8, dst: *mut u8, len: usize) -> usize {
    debug_assert!((65..=256).contains(&len));
    let fault: usize;
    // The steps below move 256 bytes (len == 256) or 128 bytes (len >= 128)
    // and then the pieces 64, 32, 16, 8, 4, 2, 1 whose bits are set in what
    // is left (len < 256 there, so bits 6..0 of `rcx`), each starting where
    // the previous one ended. Clobbers: the four operands, `xmm0`-`xmm15`;
    // `nostack`; not `preserves_flags` (`cmp`, `test`, `add`, `sub`).
    // SAFETY: the steps tile `0..len` inside both valid regions (caller);
    // AVX2 is present (caller); each access is atomic per byte (imp README).
    unsafe {
        asm_inline_vec!(
            concat!(
                "cmp rcx, 128\n jb 5f\n",
                // 128 to 256: the first 128 bytes, and for exactly 256 the
                // next 128, all loads before the stores.
                ex!("vmovdqu ymm0, [rsi]"), ex!("vmovdqu ymm1, [rsi + 32]"),
                ex!("vmovdqu ymm2, [rsi + 64]"), ex!("vmovdqu ymm3, [rsi + 96]"),
                "cmp rcx, 256\n jb 4f\n",
                ex!("vmovdqu ymm4, [rsi + 128]"), ex!("vmovdqu ymm5, [rsi + 160]"),
                ex!("vmovdqu ymm6, [rsi + 192]"), ex!("vmovdqu ymm7, [rsi + 224]"),
                ex!("vmovdqu [rdi], ymm0"), ex!("vmovdqu [rdi + 32], ymm1"),
                ex!("vmovdqu [rdi + 64], ymm2"), ex!("vmovdqu [rdi + 96], ymm3"),
                ex!("vmovdqu [rdi + 128], ymm4"), ex!("vmovdqu [rdi + 160], ymm5"),
                ex!("vmovdqu [rdi + 192], ymm6"), ex!("vmovdqu [rdi + 224], ymm7"),
                "jmp 9f\n",
                "4:\n",
                ex!("vmovdqu [rdi], ymm0"), ex!("vmovdqu [rdi + 32], ymm1"),
                ex!("vmovdqu [rdi + 64], ymm2"), ex!("vmovdqu [rdi + 96], ymm3"),
                "add rsi, 128\n add rdi, 128\n",
                // Fewer than 128 bytes left: bits 6..0 of `rcx`.
                "5:\n test cl, 64\n jz 2f\n",
                ex!("vmovdqu ymm0, [rsi]"), ex!("vmovdqu ymm1, [rsi + 32]"),
                ex!("vmovdqu [rdi], ymm0"), ex!("vmovdqu [rdi + 32], ymm1"),
                "add rsi, 64\n add rdi, 64\n",
                "2:\n test cl, 32\n jz 2f\n",
                ex!("vmovdqu ymm0, [rsi]"), ex!("vmovdqu [rdi], ymm0"),
                "add rsi, 32\n add rdi, 32\n",
                "2:\n test cl, 31\n jz 9f\n",
                tail_16!(),
                tail_gpr!(),
                "9:\n",
                fixup!(),
                "vzeroupper",
            ),
            inout("rsi") src => _,
            inout("rdi") dst => _,
            inout("rcx") len => _,
            out("rax") _,
            inout("r11") 0usize => fault,
            options(nostack),
        );
    }
    fault
}

/// The template of [`store_mid_avx512`] for `$q` whole 64-byte pieces
/// (1 to 3) followed by one byte-masked piece: the last `tail = len - 64 *
/// $q` bytes of the vector that ends at `len` (mask `k1` = the top `tail`
/// bits, built from `c` = `64 - tail`; see [`tail_mask`] for why the
/// masked-off lanes lie before the end, not past it): every load first,
/// then every store in the same order.
macro_rules! store_mid_tpl {
    (1) => {
        concat!(
            store_mid_tpl!(mask),
            ex!("vmovdqu64 zmm0, [{s}]"),
            ex!("vmovdqu8 zmm1 {{k1}} {{z}}, [{s} + {n} - 64]"),
            ex!("vmovdqu64 [{d}], zmm0"),
            ex!("vmovdqu8 [{d} + {n} - 64] {{k1}}, zmm1"),
            fixup!(),
            "vzeroupper",
        )
    };
    (2) => {
        concat!(
            store_mid_tpl!(mask),
            ex!("vmovdqu64 zmm0, [{s}]"),
            ex!("vmovdqu64 zmm1, [{s} + 64]"),
            ex!("vmovdqu8 zmm2 {{k1}} {{z}}, [{s} + {n} - 64]"),
            ex!("vmovdqu64 [{d}], zmm0"),
            ex!("vmovdqu64 [{d} + 64], zmm1"),
            ex!("vmovdqu8 [{d} + {n} - 64] {{k1}}, zmm2"),
            fixup!(),
            "vzeroupper",
        )
    };
    (3) => {
        concat!(
            store_mid_tpl!(mask),
            ex!("vmovdqu64 zmm0, [{s}]"),
            ex!("vmovdqu64 zmm1, [{s} + 64]"),
            ex!("vmovdqu64 zmm2, [{s} + 128]"),
            ex!("vmovdqu8 zmm3 {{k1}} {{z}}, [{s} + {n} - 64]"),
            ex!("vmovdqu64 [{d}], zmm0"),
            ex!("vmovdqu64 [{d} + 64], zmm1"),
            ex!("vmovdqu64 [{d} + 128], zmm2"),
            ex!("vmovdqu8 [{d} + {n} - 64] {{k1}}, zmm3"),
            fixup!(),
            "vzeroupper",
        )
    };
    (mask) => {
        "mov {m}, -1\n shl {m}, cl\n kmovq k1, {m}\n"
    };
}

/// `store` and `copy` of 65 to 256 bytes with AVX-512, inlined into the
/// caller like [`load_mid_avx512`]: one to three whole 64-byte moves and a
/// byte-masked move of the last 1 to 64 bytes. The pieces tile `0..len`
/// without overlap, so each byte is read once and written once, as a
/// shared destination requires. All loads come before all stores: with the
/// stores interleaved, a destination 64 bytes ahead of the source modulo
/// 4 KiB made each load wait on the store just issued to the same page
/// offset (4K aliasing; measured 0.37x `memcpy` at 256 B).
///
/// Besides `xmm0`-`xmm15` the block writes the opmask `k1`, and always
/// declares it clobbered with `out("k1") _`. This crate is compiled without
/// AVX-512F, but its callers may not be: a function with
/// `#[target_feature(enable = "avx512f")]` (or a crate built with
/// `-C target-cpu=native`) that inlines `store` may keep a mask in `k1`
/// across it. A discarded explicit-register output needs no target feature
/// (rustc passes it to LLVM as a plain clobber, `~{k1}`), and LLVM then
/// keeps the caller's masks out of `k1` across the block
/// (`tests/mask_registers.rs` fails without the clobber).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`;
/// - `65 <= len <= 256`;
/// - the CPU supports AVX-512F and AVX-512BW (checked by the caller).
#[inline(always)]
pub(super) unsafe fn store_mid_avx512(src: *const u8, dst: *mut u8, len: usize) -> usize {
    debug_assert!((65..=256).contains(&len));
    let fault: usize;
    // Whole pieces before the masked one, and the shift that leaves
    // `len - 64 * q` (1 to 64) low bits of the mask set.
    let q = (len - 1) / 64;
    let c = 64 * (q + 1) - len;
    /// One block for `$q` whole pieces.
    macro_rules! block {
        ($q:tt) => {{
            // With q = (len - 1) / 64, the whole pieces at 0, 64, ..,
            // 64 * (q - 1) and the vector at len - 64, masked to its top
            // len - 64 * q bytes (those from 64 * q on), tile `0..len` once;
            // masked-off bytes are neither read nor written. Clobbers: `m`, `rcx` (the shift
            // count), `xmm0`-`xmm15` (see [`load_mid_avx512`]) and `k1`;
            // `nostack`; not `preserves_flags` (`shl` writes the flags).
            // SAFETY: the pieces tile `0..len` inside both valid regions;
            // AVX-512F/BW are present (caller); each access is atomic per
            // byte (`src/imp/README.md`).
            unsafe {
                asm_inline_vec!(
                    store_mid_tpl!($q),
                    s = in(reg) src,
                    d = in(reg) dst,
                    n = in(reg) len,
                    m = out(reg) _,
                    inout("rcx") c => _,
                    out("k1") _,
                    inout("r11") 0usize => fault,
                    options(nostack),
                );
            }
        }};
    }
    match q {
        1 => block!(1),
        2 => block!(2),
        _ => block!(3),
    }
    fault
}

/// `rep movsb` for `load`: a shared source, a private destination; followed
/// by `sfence` and `lfence`.
///
/// The fast-string microcode may perform the accesses of one `rep movsb`
/// out of order (Intel SDM Vol. 3A §9.2.4, "Fast-String Operation and
/// Out-of-Order Stores"); bytes are unsequenced in our contract, so that is
/// fine inside the copy. Against the code after it:
///
/// - Intel orders string operations with other stores (§9.2.4.1), but AMD's
///   fast strings may use streaming stores for large sizes, and the AMD APM
///   does not promise the same ordering in those words; the Intel SDM lists
///   string operations among the exceptions to "writes are not reordered
///   with other writes" (§9.2.2). The destination is private, but a later
///   `Release` store may hand it to another thread, which must then see all
///   of it: `sfence` makes every store of the copy globally visible before
///   any later store (Vol. 2 `SFENCE`; AMD APM Vol. 2 §7.4.2, which applies
///   it to write-combined and streaming stores too).
/// - `lfence` keeps every later load after the copy's loads ("no later
///   instruction begins execution until LFENCE completes", Vol. 2 `LFENCE`):
///   a seqlock's re-check of its counter after `load(.., Acquire)`, whose
///   `fence(Acquire)` is only a compiler barrier on x86.
/// - Nothing is needed before the copy: its loads read shared memory, which
///   x86 never reorders with earlier loads, and its stores go to memory no
///   one else looks at until that later `Release` store. (`SeqCst` adds
///   its own `mfence` in `raw.rs`.)
///
/// `mfence` in place of the two fences measured 0.87x `memcpy` at 32 KiB
/// instead of 1.00x (Zen 5): it also waits for the store buffer to drain
/// before any later load.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`.
#[inline(never)]
pub(super) unsafe fn rep_movsb_private(src: *const u8, dst: *mut u8, len: usize) -> usize {
    let fault: usize;
    // Options: `nostack`; not `preserves_flags` (conservative for string
    // microcode); never `nomem`/`readonly`: it reads and writes memory.
    // SAFETY: `rep movsb` copies `len` bytes ascending (DF is clear on entry
    // to asm), each byte once, within the valid regions (caller); each
    // access is atomic per byte (`src/imp/README.md`); the fences touch no
    // memory.
    unsafe {
        asm!(
            ex!("rep movsb"),
            fixup!(),
            "sfence",
            "lfence",
            inout("rcx") len => _,
            inout("rsi") src => _,
            inout("rdi") dst => _,
            inout("r11") 0usize => fault,
            options(nostack),
        );
    }
    fault
}

/// `rep movsb` for a shared destination (`store`, `copy`): as
/// [`rep_movsb_private`], and `sfence` before the copy as well, so that
/// every earlier store (those before `store`'s `fence(Release)`) is
/// globally visible before any store of the copy, which streaming stores
/// would otherwise be allowed to pass.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`.
#[inline(never)]
pub(super) unsafe fn rep_movsb_shared(src: *const u8, dst: *mut u8, len: usize) -> usize {
    let fault: usize;
    // SAFETY: as in `rep_movsb_private`; the fences touch no memory.
    unsafe {
        asm!(
            "sfence",
            ex!("rep movsb"),
            fixup!(),
            "sfence",
            "lfence",
            inout("rcx") len => _,
            inout("rsi") src => _,
            inout("rdi") dst => _,
            inout("r11") 0usize => fault,
            options(nostack),
        );
    }
    fault
}

/// `rep stosb` between two `sfence` (see [`rep_movsb_shared`]; a fill
/// reads no shared memory, so ordering its stores is enough).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `dst`, `len`.
#[inline(never)]
pub(super) unsafe fn rep_stosb(dst: *mut u8, byte: u8, len: usize) -> usize {
    let fault: usize;
    // SAFETY: `rep stosb` writes `len` bytes ascending (DF clear), each
    // exactly once, inside the valid region (caller). Options as in
    // `rep_movsb_private`.
    unsafe {
        asm!(
            "sfence",
            ex!("rep stosb"),
            fixup!(),
            "sfence",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            in("al") byte,
            inout("r11") 0usize => fault,
            options(nostack),
        );
    }
    fault
}
