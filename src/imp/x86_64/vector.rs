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
//!    the `-rdi mod 64` bytes (from 512 bytes on for the cached loop, always
//!    for the non-temporal one).
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
//! (`load_mid_avx512`, for `load` only, is the one routine here whose moves
//! overlap; see its docs.)
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
//!   are `load_mid_avx512` and `store_mid_avx512` (65 to 256 bytes), which
//!   are inlined into their callers and declare their clobbers explicitly
//!   instead (see their docs).
//! - `nostack`: nothing is pushed.
//! - not `preserves_flags`: `test`, `cmp`, `add`, `sub` write the flags.
//! - never `nomem`/`readonly`/`pure`: the blocks read memory that others
//!   may be writing and write memory.
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

/// Head step 16 (xmm) of a copy.
macro_rules! head_16 {
    () => {
        concat!(
            "test dil, 16\n jz 2f\n",
            ex!("movdqu xmm0, xmmword ptr [rsi]"),
            ex!("movdqa xmmword ptr [rdi], xmm0"),
            "add rsi, 16\n add rdi, 16\n sub rcx, 16\n 2:\n",
        )
    };
}

/// Head of an AVX-512 copy: one byte-masked move of `h = -rdi mod 64` bytes
/// (1 to 63, skipped when 0), so that `rdi` becomes 64-aligned. With
/// `from_512`, copies shorter than 512 bytes skip it and stay unaligned:
/// their stores hit L1 anyway, and the masked move would cost more than it
/// saves. The non-temporal loops need `always`: `vmovntdq` faults on an
/// unaligned address. `k1` holds the mask
/// `(1 << h) - 1`: bytes whose mask bit is 0 are neither read nor written
/// (see `src/imp/README.md`).
macro_rules! head_mask {
    (from_512) => {
        concat!("cmp rcx, 512\n jb 2f\n", head_mask!(always))
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
/// left.
macro_rules! tail_mask {
    () => {
        concat!(
            "test rcx, rcx\n jz 2f\n",
            "xor edx, edx\n bts rdx, rcx\n dec rdx\n kmovq k1, rdx\n",
            ex!("vmovdqu8 zmm0 {{k1}} {{z}}, [rsi]"),
            ex!("vmovdqu8 [rdi] {{k1}}, zmm0"),
            " 2:\n",
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

/// Tail of an AVX-512 fill, as [`tail_mask`].
macro_rules! ftail_mask {
    () => {
        concat!(
            "test rcx, rcx\n jz 2f\n",
            "xor esi, esi\n bts rsi, rcx\n dec rsi\n kmovq k1, rsi\n",
            ex!("vmovdqu8 [rdi] {{k1}}, zmm0"),
            " 2:\n",
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
            " 2:\n",
        )
    };
}

macro_rules! tail_16 {
    () => {
        concat!(
            "test cl, 16\n jz 2f\n",
            ex!("movdqu xmm0, xmmword ptr [rsi]"),
            ex!("movdqu xmmword ptr [rdi], xmm0"),
            "add rsi, 16\n add rdi, 16\n 2:\n",
        )
    };
}

/// Body of a copy: 4 vectors per iteration, then 1. `$ld`/`$st` are the
/// load and store mnemonics, `$r` the register prefix, `$w` the width and
/// `$o1..$o3`, `$w4` its multiples, all as string literals.
///
/// No software prefetch: `prefetcht0` 1 KiB ahead measured 4-7% faster in
/// isolation on Zen 5 but up to 16% slower in `cargo bench --bench compare`
/// at 1 MiB, so it was left out.
macro_rules! body_copy {
    ($ld:literal, $st:literal, $r:literal, $w:literal, $o1:literal, $o2:literal, $o3:literal, $w4:literal) => {
        concat!(
            "cmp rcx, ",
            $w4,
            "\n jb 3f\n",
            "4:\n",
            ex!($ld, " ", $r, "0, [rsi]"),
            ex!($ld, " ", $r, "1, [rsi + ", $o1, "]"),
            ex!($ld, " ", $r, "2, [rsi + ", $o2, "]"),
            ex!($ld, " ", $r, "3, [rsi + ", $o3, "]"),
            ex!($st, " [rdi], ", $r, "0"),
            ex!($st, " [rdi + ", $o1, "], ", $r, "1"),
            ex!($st, " [rdi + ", $o2, "], ", $r, "2"),
            ex!($st, " [rdi + ", $o3, "], ", $r, "3"),
            "add rsi, ",
            $w4,
            "\n add rdi, ",
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

/// Head of a fill (value broadcast in rax and in `xmm0`/`ymm0`/`zmm0`).
macro_rules! fhead_gpr {
    () => {
        concat!(
            "test dil, 1\n jz 2f\n",
            ex!("mov byte ptr [rdi], al"),
            " add rdi, 1\n sub rcx, 1\n 2:\n",
            "test dil, 2\n jz 2f\n",
            ex!("mov word ptr [rdi], ax"),
            " add rdi, 2\n sub rcx, 2\n 2:\n",
            "test dil, 4\n jz 2f\n",
            ex!("mov dword ptr [rdi], eax"),
            " add rdi, 4\n sub rcx, 4\n 2:\n",
            "test dil, 8\n jz 2f\n",
            ex!("mov qword ptr [rdi], rax"),
            " add rdi, 8\n sub rcx, 8\n 2:\n",
        )
    };
}

macro_rules! fhead_16 {
    () => {
        concat!(
            "test dil, 16\n jz 2f\n",
            ex!("movdqa xmmword ptr [rdi], xmm0"),
            " add rdi, 16\n sub rcx, 16\n 2:\n",
        )
    };
}

macro_rules! ftail_gpr {
    () => {
        concat!(
            "test cl, 8\n jz 2f\n",
            ex!("mov qword ptr [rdi], rax"),
            " add rdi, 8\n 2:\n",
            "test cl, 4\n jz 2f\n",
            ex!("mov dword ptr [rdi], eax"),
            " add rdi, 4\n 2:\n",
            "test cl, 2\n jz 2f\n",
            ex!("mov word ptr [rdi], ax"),
            " add rdi, 2\n 2:\n",
            "test cl, 1\n jz 2f\n",
            ex!("mov byte ptr [rdi], al"),
            " 2:\n",
        )
    };
}

macro_rules! ftail_16 {
    () => {
        concat!(
            "test cl, 16\n jz 2f\n",
            ex!("movdqu xmmword ptr [rdi], xmm0"),
            " add rdi, 16\n 2:\n",
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
            let v = u64::from(byte) * 0x0101_0101_0101_0101;
            let fault: usize;
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
    /// SSE2 copy: 16-byte `movdqu` loads, `movdqa` stores.
    copy_sse2,
    concat!(
        head_gpr!(),
        body_copy!("movdqu", "movdqa", "xmm", "16", "16", "32", "48", "64"),
        tail_gpr!(),
        fixup!(),
    )
);

copy_fn!(
    /// SSE2 copy with non-temporal `movntdq` stores in the body.
    copy_sse2_nt,
    concat!(
        "sfence\n",
        head_gpr!(),
        body_copy!("movdqu", "movntdq", "xmm", "16", "16", "32", "48", "64"),
        tail_gpr!(),
        fixup!(),
        "sfence\n",
    )
);

copy_fn!(
    /// AVX2 copy: 32-byte `vmovdqu` loads, `vmovdqa` stores.
    copy_avx2,
    concat!(
        head_gpr!(),
        head_16!(),
        body_copy!("vmovdqu", "vmovdqa", "ymm", "32", "32", "64", "96", "128"),
        tail_16!(),
        tail_gpr!(),
        fixup!(),
        "vzeroupper\n",
    )
);

copy_fn!(
    /// AVX-512 copy: 64-byte `vmovdqu64` loads, `vmovdqa64` stores.
    copy_avx512,
    concat!(
        head_mask!(from_512),
        body_copy!("vmovdqu64", "vmovdqu64", "zmm", "64", "64", "128", "192", "256"),
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
        body_copy!("vmovdqu64", "vmovntdq", "zmm", "64", "64", "128", "192", "256"),
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
    /// last `(dst + len) mod 64` bytes aligns the end, 64-byte moves run
    /// down, and one byte-masked move covers what is left at the start. No
    /// byte is accessed twice.
    copy_avx512_bwd,
    concat!(
        "lea r8, [rsi + rcx]\n lea r9, [rdi + rcx]\n",
        "mov rax, r9\n and eax, 63\n jz 2f\n",
        "xor edx, edx\n bts rdx, rax\n dec rdx\n kmovq k1, rdx\n",
        "sub r8, rax\n sub r9, rax\n sub rcx, rax\n",
        ex!("vmovdqu8 zmm0 {{k1}} {{z}}, [r8]"), ex!("vmovdqu8 [r9] {{k1}}, zmm0"),
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
    debug_assert!((65..=256).contains(&len));
    let mut fault = 0;
    if len <= 128 {
        // Both loads come before both stores, in the same order, so each
        // destination byte gets the later read. Clobbers: every register the
        // template writes (see above); `nostack`; `preserves_flags` (moves).
        // SAFETY: 65 <= len <= 128, so the pieces at 0 and len-64 lie in both
        // valid regions; AVX-512F is present (caller); each access is atomic
        // per byte (`src/imp/README.md`).
        unsafe {
            asm_inline_vec!(
                concat!(
                    ex!("vmovdqu64 zmm0, [{s}]"),
                    ex!("vmovdqu64 zmm1, [{s} + {n} - 64]"),
                    ex!("vmovdqu64 [{d}], zmm0"),
                    ex!("vmovdqu64 [{d} + {n} - 64], zmm1"),
                    fixup!(),
            "vzeroupper",
                ),
                s = in(reg) src,
                d = in(reg) dst,
                n = in(reg) len,
                inout("r11") fault,
                options(nostack, preserves_flags),
            );
        }
    } else {
        // SAFETY: as above, with 129 <= len <= 256 and the pieces at 0, 64,
        // len-128 and len-64: four loads, then four stores in the same order.
        unsafe {
            asm_inline_vec!(
                concat!(
                    ex!("vmovdqu64 zmm0, [{s}]"),
                    ex!("vmovdqu64 zmm1, [{s} + 64]"),
                    ex!("vmovdqu64 zmm2, [{s} + {n} - 128]"),
                    ex!("vmovdqu64 zmm3, [{s} + {n} - 64]"),
                    ex!("vmovdqu64 [{d}], zmm0"),
                    ex!("vmovdqu64 [{d} + 64], zmm1"),
                    ex!("vmovdqu64 [{d} + {n} - 128], zmm2"),
                    ex!("vmovdqu64 [{d} + {n} - 64], zmm3"),
                    fixup!(),
            "vzeroupper",
                ),
                s = in(reg) src,
                d = in(reg) dst,
                n = in(reg) len,
                inout("r11") fault,
                options(nostack, preserves_flags),
            );
        }
    }
    fault
}

/// The template of [`store_mid_avx512`] for `$q` whole 64-byte pieces
/// (1 to 3) followed by one byte-masked piece at `64 * $q` whose mask
/// `k1` (1 to 64 low bits set) is built from `c` = `64 - tail`: every load
/// first, then every store in the same order.
macro_rules! store_mid_tpl {
    (1) => {
        concat!(
            store_mid_tpl!(mask),
            ex!("vmovdqu64 zmm0, [{s}]"),
            ex!("vmovdqu8 zmm1 {{k1}} {{z}}, [{s} + 64]"),
            ex!("vmovdqu64 [{d}], zmm0"),
            ex!("vmovdqu8 [{d} + 64] {{k1}}, zmm1"),
            fixup!(),
            "vzeroupper",
        )
    };
    (2) => {
        concat!(
            store_mid_tpl!(mask),
            ex!("vmovdqu64 zmm0, [{s}]"),
            ex!("vmovdqu64 zmm1, [{s} + 64]"),
            ex!("vmovdqu8 zmm2 {{k1}} {{z}}, [{s} + 128]"),
            ex!("vmovdqu64 [{d}], zmm0"),
            ex!("vmovdqu64 [{d} + 64], zmm1"),
            ex!("vmovdqu8 [{d} + 128] {{k1}}, zmm2"),
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
            ex!("vmovdqu8 zmm3 {{k1}} {{z}}, [{s} + 192]"),
            ex!("vmovdqu64 [{d}], zmm0"),
            ex!("vmovdqu64 [{d} + 64], zmm1"),
            ex!("vmovdqu64 [{d} + 128], zmm2"),
            ex!("vmovdqu8 [{d} + 192] {{k1}}, zmm3"),
            fixup!(),
            "vzeroupper",
        )
    };
    (mask) => {
        "mov {m}, -1\n shr {m}, cl\n kmovq k1, {m}\n"
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
/// Besides `xmm0`-`xmm15` the block writes the opmask `k1`. A caller
/// compiled without AVX-512F cannot hold a value in an opmask register;
/// one compiled with it gets a variant that declares `k1` clobbered (an
/// opmask operand is only accepted with that target feature).
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
    // Whole pieces before the masked one, and the shift that leaves
    // `len - 64 * q` (1 to 64) low bits of the mask set.
    let q = (len - 1) / 64;
    let c = 64 * (q + 1) - len;
    let mut fault = 0;
    /// One block for `$q` whole pieces, in the variant for the caller's
    /// target features.
    macro_rules! block {
        ($q:tt) => {{
            // With q = (len - 1) / 64, the whole pieces at 0, 64, ..,
            // 64 * (q - 1) and the piece at 64 * q, masked to its low
            // len - 64 * q bytes, tile `0..len` once; masked-off bytes are
            // neither read nor written. Clobbers: `m`, `rcx` (the shift
            // count), `xmm0`-`xmm15` (see [`load_mid_avx512`]) and `k1`;
            // `nostack`; not `preserves_flags` (`shr` writes the flags).
            // SAFETY (both variants): the pieces tile `0..len` inside both
            // valid regions; AVX-512F/BW are present (caller); each access is
            // atomic per byte (`src/imp/README.md`).
            #[cfg(target_feature = "avx512f")]
            unsafe {
                asm_inline_vec!(
                    store_mid_tpl!($q),
                    s = in(reg) src,
                    d = in(reg) dst,
                    m = out(reg) _,
                    inout("rcx") c => _,
                    inout("r11") fault,
                    out("k1") _,
                    options(nostack),
                );
            }
            // SAFETY: as above.
            #[cfg(not(target_feature = "avx512f"))]
            unsafe {
                asm_inline_vec!(
                    store_mid_tpl!($q),
                    s = in(reg) src,
                    d = in(reg) dst,
                    m = out(reg) _,
                    inout("rcx") c => _,
                    inout("r11") fault,
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

/// `rep movsb` for a private destination (`load`), followed by `lfence`.
///
/// The fast-string microcode may perform the accesses of one `rep movsb`
/// out of order (Intel SDM Vol. 3A §9.2.4, "Fast-String Operation and
/// Out-of-Order Stores"); bytes are unsequenced in our contract, so that is
/// fine inside the copy. But `load(.., Acquire)` ends with `fence(Acquire)`,
/// which is only a compiler barrier on x86, and the SDM states the ordering
/// of string operations against *stores* (§9.2.4.1: "string operations are
/// not reordered with other store operations") but says nothing as explicit
/// about later *loads*. `lfence` ("no later instruction begins execution
/// until LFENCE completes", Vol. 2 `LFENCE`) keeps every later load (a
/// seqlock's sequence re-check) from being satisfied before the copy's
/// loads, whatever the microcode does. It costs nothing measurable at the
/// sizes (32 KiB and more) where `rep movsb` is used.
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
    // access is atomic per byte (`src/imp/README.md`).
    unsafe {
        asm!(
            ex!("rep movsb"),
            fixup!(),
            "lfence",
            inout("rcx") len => _,
            inout("r11") 0usize => fault,
            inout("rsi") src => _,
            inout("rdi") dst => _,
            options(nostack),
        );
    }
    fault
}

/// `rep movsb` for a shared destination (`store`, `copy`): `sfence` before,
/// `mfence` after.
///
/// Intel orders string operations with other stores (§9.2.4.1), but AMD's
/// fast-string implementation switches to streaming stores for large sizes
/// and the AMD APM does not promise that ordering in the same words, so the
/// copy is fenced like the non-temporal loops: `sfence` before keeps every
/// earlier store (those before `store`'s `fence(Release)`) visible first;
/// `mfence` after makes the copy's stores globally visible before any later
/// store (a seqlock's closing counter store) and, as `lfence` does for
/// [`rep_movsb_private`], keeps later loads after the copy's loads (`copy`
/// with `Acquire`).
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
            "mfence",
            inout("rcx") len => _,
            inout("r11") 0usize => fault,
            inout("rsi") src => _,
            inout("rdi") dst => _,
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
            inout("r11") 0usize => fault,
            inout("rdi") dst => _,
            in("al") byte,
            options(nostack),
        );
    }
    fault
}
