//! The exception table: which kernel instructions may fault, and where each
//! resumes when it does.
//!
//! Every `asm!` block of a kernel marks each memory instruction with
//! [`ex!`]. On Linux (ELF) that emits, right after the instruction, an entry
//! in the section `bytewise_extable`: two 32-bit PC-relative offsets, to the
//! instruction and to the block's fixup label ([`fixup!`], placed at the end
//! of the block, before any closing fence or `vzeroupper`). Each block also
//! has the architecture's *fault register* (below) as an
//! `inout` operand that starts at 0.
//!
//! When one of those instructions faults, the handler in [`handler`]
//! (feature `std`) finds the PC in the table, writes the faulting address
//! (`si_addr`) into the fault register of the interrupted context and sets
//! its PC to the fixup. The block then ends normally, with the fault
//! register non-zero, and the kernel returns that address to `raw.rs`,
//! which turns it into `Error::Fault` (or a panic for the infallible
//! functions). On the normal path the register stays 0: the cost is one
//! zeroing instruction per block and a predicted branch in the caller.
//!
//! PC-relative entries need no dynamic relocations, so the table works in
//! PIE executables and shared objects alike. The section is allocated,
//! read-only and marked `R` (`SHF_GNU_RETAIN`), and the handler refers to
//! it through the linker-defined `__start_`/`__stop_` symbols (which is why
//! its name is a C identifier): either one keeps `--gc-sections` from
//! dropping it, also under fat LTO (`ci/fault-lto.sh` checks such a build).
//!
//! Elsewhere (other operating systems, whose object formats spell sections
//! differently) [`ex!`] emits only the instruction, the fault register stays
//! 0 and a fault behaves as it always did.
//!
//! # The fault register
//!
//! - x86_64: `r11`. No kernel instruction uses it implicitly (string
//!   instructions use `rcx`/`rsi`/`rdi`, shifts `cl`, the vector loops
//!   `rax`/`rdx`/`r8`/`r9`), it carries no argument in the SysV ABI and it
//!   is caller-saved, so fixing it costs the register allocator least; the
//!   normal path pays one `xor r11d, r11d`.
//! - aarch64: `x17` (IP1). It is caller-saved, carries no argument, and is
//!   only used by linker veneers between a call and its target, never
//!   inside an `asm!` block; the normal path pays one `mov x17, xzr`.

/// Marks one memory instruction of a kernel: emits the instruction (the
/// arguments are concatenated) under the local label `70` and, on Linux, an
/// exception-table entry mapping it to the next fixup label `79`.
///
/// The only place the entry format is written. Every instruction of every
/// kernel that touches memory goes through here; `tests/fault.rs` checks
/// every kernel at every length against a `PROT_NONE` page.
#[cfg(target_os = "linux")]
#[allow(unused_macros)] // unused where the portable kernel is the only one
macro_rules! ex {
    ($($insn:expr),+ $(,)?) => {
        concat!(
            "70: ", $($insn,)+ "\n",
            ".pushsection bytewise_extable, \"aR\"\n",
            ".balign 4\n",
            ".long 70b - .\n",
            ".long 79f - .\n",
            ".popsection\n",
        )
    };
}

/// Elsewhere: just the instruction (no table; see the module docs).
#[cfg(not(target_os = "linux"))]
#[allow(unused_macros)]
macro_rules! ex {
    ($($insn:expr),+ $(,)?) => {
        concat!($($insn,)+ "\n")
    };
}

/// The fixup label every [`ex!`] entry of a block resumes at. It goes
/// after the block's last memory instruction and before its closing fences
/// (`sfence`, `lfence`, `vzeroupper`), which then run on both paths.
#[allow(unused_macros)]
macro_rules! fixup {
    () => {
        "79:\n"
    };
}

/// Whether this build recovers faults: Linux, an asm kernel set, feature
/// `std` (the handler needs it). Everywhere else the kernels always return
/// 0 and `raw.rs` compiles the fault checks away.
pub(crate) const SUPPORTED: bool = cfg!(bytewise_fault);

/// The handler (set by `build.rs` where [`SUPPORTED`] holds).
#[cfg(bytewise_fault)]
pub(crate) mod handler;

/// Defines a one-byte read with a fixup, its memory instruction written by
/// `$ex` (`ex!` for the real thing, `concat!` for the control).
macro_rules! read_byte {
    ($(#[$doc:meta])* $name:ident, $ex:ident) => {
        $(#[$doc])*
        #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
        #[inline(never)]
        pub(crate) unsafe fn $name(src: *const u8) -> usize {
            let fault: usize;
            // SAFETY: one byte read (caller), single-copy atomic; with an
            // entry a fault resumes at the fixup with the address in the
            // fault register (module docs), without one it kills.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                core::arch::asm!(
                    $ex!("movzx {x:e}, byte ptr [{s}]"),
                    fixup!(),
                    s = in(reg) src,
                    x = out(reg) _,
                    inout("r11") 0usize => fault,
                    options(nostack, preserves_flags, readonly),
                );
            }
            // SAFETY: as above.
            #[cfg(target_arch = "aarch64")]
            unsafe {
                core::arch::asm!(
                    $ex!("ldrb {x:w}, [{s}]"),
                    fixup!(),
                    s = in(reg) src,
                    x = out(reg) _,
                    inout("x17") 0usize => fault,
                    options(nostack, preserves_flags, readonly),
                );
            }
            fault
        }
    };
}

read_byte!(
    /// A one-byte read with a fixup but *without* its table entry: the
    /// negative control of `tests/fault.rs`, which shows that a fault here
    /// kills the process although the handler is installed, so the table is
    /// what saves the real kernels. Returns the fault register (always 0
    /// when it returns).
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    /// - `src` is valid for a one-byte read (a fault kills the process).
    read_byte_without_entry,
    concat
);

read_byte!(
    /// The same read *with* its entry: the positive twin of
    /// [`read_byte_without_entry`]. Returns the faulting address, or 0.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    /// - `src` is valid for a one-byte read, or the fault handler is
    ///   installed and `src` lies in memory whose access raises
    ///   SIGSEGV/SIGBUS.
    read_byte_with_entry,
    ex
);
