//! Copies and fills of more than 64 bytes: vector loops (SSE2, AVX2,
//! AVX-512), the same loops with non-temporal stores, and `rep movsb` /
//! `rep stosb`.
//!
//! # Shape of every loop
//!
//! Registers: `rsi` = source, `rdi` = destination, `rcx` = bytes left.
//!
//! 1. **Head.** Move 1, 2, 4, 8, 16 and 32 bytes (as far as below the vector
//!    width `W`) whenever the corresponding bit of `rdi` is set, so that
//!    `rdi` becomes `W`-aligned. Each move is naturally aligned on the
//!    destination and starts where the previous one ended.
//! 2. **Body.** Four vectors per iteration while at least `4W` bytes are
//!    left, then one vector at a time while at least `W` are left: unaligned
//!    loads, aligned stores.
//! 3. **Tail.** Fewer than `W` bytes are left; move 32, 16, 8, 4, 2, 1
//!    bytes whenever that bit of `rcx` is set.
//!
//! So every byte of both regions is read and written exactly once: the
//! pieces tile `0..len` without overlap. That is what `store`, `copy` and
//! `fill` need (a shared destination byte must be written once, see
//! `src/imp/README.md`), and `load` uses the same loops.
//!
//! Requires `len >= 64`: the head then consumes fewer than `len` bytes.
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
//!   ABI makes all vector and opmask registers caller-saved.
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

/// Head of a copy: align `rdi` to 2, 4, 8 with general-purpose moves.
macro_rules! head_gpr {
    () => {
        concat!(
            "test dil, 1\n jz 2f\n",
            "movzx eax, byte ptr [rsi]\n mov byte ptr [rdi], al\n",
            "add rsi, 1\n add rdi, 1\n sub rcx, 1\n 2:\n",
            "test dil, 2\n jz 2f\n",
            "movzx eax, word ptr [rsi]\n mov word ptr [rdi], ax\n",
            "add rsi, 2\n add rdi, 2\n sub rcx, 2\n 2:\n",
            "test dil, 4\n jz 2f\n",
            "mov eax, dword ptr [rsi]\n mov dword ptr [rdi], eax\n",
            "add rsi, 4\n add rdi, 4\n sub rcx, 4\n 2:\n",
            "test dil, 8\n jz 2f\n",
            "mov rax, qword ptr [rsi]\n mov qword ptr [rdi], rax\n",
            "add rsi, 8\n add rdi, 8\n sub rcx, 8\n 2:\n",
        )
    };
}

/// Head step 16 (xmm) of a copy.
macro_rules! head_16 {
    () => {
        concat!(
            "test dil, 16\n jz 2f\n",
            "movdqu xmm0, xmmword ptr [rsi]\n movdqa xmmword ptr [rdi], xmm0\n",
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
            "vmovdqu8 zmm0 {{k1}} {{z}}, [rsi]\n vmovdqu8 [rdi] {{k1}}, zmm0\n",
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
            "vmovdqu8 zmm0 {{k1}} {{z}}, [rsi]\n vmovdqu8 [rdi] {{k1}}, zmm0\n 2:\n",
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
            "vmovdqu8 [rdi] {{k1}}, zmm0\n",
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
            "vmovdqu8 [rdi] {{k1}}, zmm0\n 2:\n",
        )
    };
}

/// Tail of a copy: 8, 4, 2, 1 bytes according to the bits of `rcx`.
macro_rules! tail_gpr {
    () => {
        concat!(
            "test cl, 8\n jz 2f\n",
            "mov rax, qword ptr [rsi]\n mov qword ptr [rdi], rax\n",
            "add rsi, 8\n add rdi, 8\n 2:\n",
            "test cl, 4\n jz 2f\n",
            "mov eax, dword ptr [rsi]\n mov dword ptr [rdi], eax\n",
            "add rsi, 4\n add rdi, 4\n 2:\n",
            "test cl, 2\n jz 2f\n",
            "movzx eax, word ptr [rsi]\n mov word ptr [rdi], ax\n",
            "add rsi, 2\n add rdi, 2\n 2:\n",
            "test cl, 1\n jz 2f\n",
            "movzx eax, byte ptr [rsi]\n mov byte ptr [rdi], al\n 2:\n",
        )
    };
}

macro_rules! tail_16 {
    () => {
        concat!(
            "test cl, 16\n jz 2f\n",
            "movdqu xmm0, xmmword ptr [rsi]\n movdqu xmmword ptr [rdi], xmm0\n",
            "add rsi, 16\n add rdi, 16\n 2:\n",
        )
    };
}

/// Body of a copy: 4 vectors per iteration, then 1. `$ld`/`$st` are the
/// load and store mnemonics, `$r` the register prefix, `$w` the width and
/// `$o1..$o3`, `$w4` its multiples, all as string literals.
macro_rules! body_copy {
    ($ld:literal, $st:literal, $r:literal, $w:literal, $o1:literal, $o2:literal, $o3:literal, $w4:literal) => {
        concat!(
            "cmp rcx, ",
            $w4,
            "\n jb 3f\n",
            "4:\n",
            $ld,
            " ",
            $r,
            "0, [rsi]\n",
            $ld,
            " ",
            $r,
            "1, [rsi + ",
            $o1,
            "]\n",
            $ld,
            " ",
            $r,
            "2, [rsi + ",
            $o2,
            "]\n",
            $ld,
            " ",
            $r,
            "3, [rsi + ",
            $o3,
            "]\n",
            $st,
            " [rdi], ",
            $r,
            "0\n",
            $st,
            " [rdi + ",
            $o1,
            "], ",
            $r,
            "1\n",
            $st,
            " [rdi + ",
            $o2,
            "], ",
            $r,
            "2\n",
            $st,
            " [rdi + ",
            $o3,
            "], ",
            $r,
            "3\n",
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
            $ld,
            " ",
            $r,
            "0, [rsi]\n",
            $st,
            " [rdi], ",
            $r,
            "0\n",
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
            "test dil, 1\n jz 2f\n mov byte ptr [rdi], al\n add rdi, 1\n sub rcx, 1\n 2:\n",
            "test dil, 2\n jz 2f\n mov word ptr [rdi], ax\n add rdi, 2\n sub rcx, 2\n 2:\n",
            "test dil, 4\n jz 2f\n mov dword ptr [rdi], eax\n add rdi, 4\n sub rcx, 4\n 2:\n",
            "test dil, 8\n jz 2f\n mov qword ptr [rdi], rax\n add rdi, 8\n sub rcx, 8\n 2:\n",
        )
    };
}

macro_rules! fhead_16 {
    () => {
        "test dil, 16\n jz 2f\n movdqa xmmword ptr [rdi], xmm0\n add rdi, 16\n sub rcx, 16\n 2:\n"
    };
}

macro_rules! ftail_gpr {
    () => {
        concat!(
            "test cl, 8\n jz 2f\n mov qword ptr [rdi], rax\n add rdi, 8\n 2:\n",
            "test cl, 4\n jz 2f\n mov dword ptr [rdi], eax\n add rdi, 4\n 2:\n",
            "test cl, 2\n jz 2f\n mov word ptr [rdi], ax\n add rdi, 2\n 2:\n",
            "test cl, 1\n jz 2f\n mov byte ptr [rdi], al\n 2:\n",
        )
    };
}

macro_rules! ftail_16 {
    () => {
        "test cl, 16\n jz 2f\n movdqu xmmword ptr [rdi], xmm0\n add rdi, 16\n 2:\n"
    };
}

macro_rules! body_fill {
    ($st:literal, $r:literal, $w:literal, $o1:literal, $o2:literal, $o3:literal, $w4:literal) => {
        concat!(
            "cmp rcx, ",
            $w4,
            "\n jb 3f\n",
            "4:\n",
            $st,
            " [rdi], ",
            $r,
            "0\n",
            $st,
            " [rdi + ",
            $o1,
            "], ",
            $r,
            "0\n",
            $st,
            " [rdi + ",
            $o2,
            "], ",
            $r,
            "0\n",
            $st,
            " [rdi + ",
            $o3,
            "], ",
            $r,
            "0\n",
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
            $st,
            " [rdi], ",
            $r,
            "0\n",
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
        pub(super) unsafe fn $name(src: *const u8, dst: *mut u8, len: usize) {
            debug_assert!(len >= 64);
            // SAFETY:
            // - `src..src+len` and `dst..dst+len` are valid and disjoint
            //   (caller); the head, body and tail pieces tile `0..len`
            //   exactly once (module docs), so every access is in bounds and
            //   each byte is read once and written once;
            // - every load and store is single-copy atomic per byte (Intel
            //   SDM Vol. 3A §9.1.1, AMD APM Vol. 2 §7.3.2; see
            //   `src/imp/README.md`), so each byte is accessed as by a
            //   relaxed `AtomicU8` operation;
            // - the instructions exist on this CPU (caller);
            // - options and clobbers: module docs.
            unsafe {
                asm!(
                    $template,
                    inout("rsi") src => _,
                    inout("rdi") dst => _,
                    inout("rcx") len => _,
                    clobber_abi("C"),
                    options(nostack),
                );
            }
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
        pub(super) unsafe fn $name(dst: *mut u8, byte: u8, len: usize) {
            debug_assert!(len >= 64);
            let v = u64::from(byte) * 0x0101_0101_0101_0101;
            // SAFETY:
            // - `dst..dst+len` is valid (caller); the pieces tile `0..len`
            //   exactly once (module docs), so each byte is written once;
            // - every store is single-copy atomic per byte (see
            //   `src/imp/README.md`);
            // - the instructions exist on this CPU (caller);
            // - options and clobbers: module docs.
            unsafe {
                asm!(
                    $template,
                    inout("rdi") dst => _,
                    inout("rcx") len => _,
                    inout("rax") v => _,
                    clobber_abi("C"),
                    options(nostack),
                );
            }
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
        "sfence\n",
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
        "sfence\n",
        "vzeroupper\n",
    )
);

/// `rep movsb`, with `sfence` on both sides when `fenced`.
///
/// The fast-string microcode may issue the stores of one `rep movsb` out of
/// order (Intel SDM Vol. 3A §9.2.4, "Fast-String Operation and Out-of-Order
/// Stores"); bytes are unsequenced in our contract, so that is fine. Intel
/// further guarantees that string operations are not reordered with other
/// stores (§9.2.4.1), but AMD's fast-string implementation switches to
/// streaming stores for large sizes and the APM does not promise the same
/// ordering in those words, so the shared-destination callers pass
/// `fenced = true` to get `sfence` around it (which costs nothing measurable
/// at the sizes where `rep movsb` is chosen).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`.
#[inline(always)]
unsafe fn rep_movsb(src: *const u8, dst: *mut u8, len: usize, fenced: bool) {
    if fenced {
        // SAFETY: `rep movsb` copies `len` bytes ascending (DF is clear on
        // entry to any asm block, per the Rust inline-asm rules), reading and
        // writing each byte exactly once, within the valid regions (caller).
        // Options: `nostack`; not `preserves_flags` to stay conservative
        // about `sfence` and string microcode; never `nomem`/`readonly`.
        unsafe {
            asm!(
                "sfence",
                "rep movsb",
                "sfence",
                inout("rcx") len => _,
                inout("rsi") src => _,
                inout("rdi") dst => _,
                options(nostack),
            );
        }
    } else {
        // SAFETY: as above, without the fences (private destination).
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
}

/// `rep movsb` for a private destination (`load`): no fences needed.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`.
#[inline(never)]
pub(super) unsafe fn rep_movsb_private(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { rep_movsb(src, dst, len, false) }
}

/// `rep movsb` between two `sfence`, for a shared destination.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `src`, `dst`, `len`.
#[inline(never)]
pub(super) unsafe fn rep_movsb_shared(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { rep_movsb(src, dst, len, true) }
}

/// `rep stosb` between two `sfence` (see [`rep_movsb`]).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract in `imp/mod.rs` holds for `dst`, `len`.
#[inline(never)]
pub(super) unsafe fn rep_stosb(dst: *mut u8, byte: u8, len: usize) {
    // SAFETY: `rep stosb` writes `len` bytes ascending (DF clear), each
    // exactly once, inside the valid region (caller). Options as in
    // `rep_movsb`.
    unsafe {
        asm!(
            "sfence",
            "rep stosb",
            "sfence",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            in("al") byte,
            options(nostack),
        );
    }
}
