//! The process-wide SIGSEGV/SIGBUS handler (Linux, feature `std`).
//!
//! - **Ours:** the signal was raised by the CPU (`si_code > 0`) at a PC that
//!   the exception table lists. The handler writes `si_addr` into the fault
//!   register of the interrupted context, sets its PC to the entry's fixup
//!   and returns; the kernel's `asm!` block then ends normally (see
//!   `extable.rs` and the soundness section of `src/imp/README.md`).
//! - **Not ours:** the action that was installed before ours gets it. A
//!   handler is called as it asked to be (`SA_SIGINFO` or not). `SIG_DFL`
//!   (and `SIG_IGN`, which cannot ignore a synchronous fault) is restored
//!   and the handler returns, so the instruction faults again and the
//!   process dies by the same signal as without us; a signal sent by
//!   `kill` is re-raised instead.
//!
//! Async-signal-safe: the handler reads atomics and the table, writes the
//! context it was given, and calls only `sigaction` and `raise`. No
//! allocation, no locks.

use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// One table entry: offsets from each field's own address to the faulting
/// instruction and to its fixup (`.long 70b - .`, `.long 79f - .`).
#[repr(C)]
struct Entry {
    insn: i32,
    fixup: i32,
}

/// The signals we handle, and the index of each in [`PREV`].
const SIGNALS: [c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// The action installed before ours, per signal: the handler address
/// (`SIG_DFL` = 0, `SIG_IGN` = 1) and its `sa_flags`. Written before our
/// handler is installed, read by it.
static PREV: [[AtomicUsize; 2]; 2] = [
    [AtomicUsize::new(0), AtomicUsize::new(0)],
    [AtomicUsize::new(0), AtomicUsize::new(0)],
];

/// The outcome of the one installation: `Ok` or the `errno` of `sigaction`.
static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

/// The table's bounds, from the linker-defined `__start_`/`__stop_`
/// symbols. The same block emits a sentinel entry (offsets 0, pointing into
/// the table itself, never at code), so the section exists in every link
/// that contains this function, even one without any kernel.
fn table() -> (*const Entry, *const Entry) {
    /// The sentinel entry and the visibility of the bounds, for both
    /// architectures.
    macro_rules! sentinel {
        () => {
            concat!(
                ".pushsection bytewise_extable, \"aR\"\n",
                ".balign 4\n",
                ".long 0\n",
                ".long 0\n",
                ".popsection\n",
                ".hidden __start_bytewise_extable\n",
                ".hidden __stop_bytewise_extable\n",
            )
        };
    }
    let (start, stop): (usize, usize);
    // SAFETY: address computations only; the sentinel is data in our own
    // section. `.hidden` binds the references within this executable or
    // shared object, whose table is the one to search.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!(
            sentinel!(),
            "lea {s}, [rip + __start_bytewise_extable]",
            "lea {e}, [rip + __stop_bytewise_extable]",
            s = out(reg) start,
            e = out(reg) stop,
            options(nomem, nostack, preserves_flags),
        );
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!(
            sentinel!(),
            "adrp {s}, __start_bytewise_extable",
            "add {s}, {s}, :lo12:__start_bytewise_extable",
            "adrp {e}, __stop_bytewise_extable",
            "add {e}, {e}, :lo12:__stop_bytewise_extable",
            s = out(reg) start,
            e = out(reg) stop,
            options(nomem, nostack, preserves_flags),
        );
    }
    (start as *const Entry, stop as *const Entry)
}

/// The fixup for a faulting `pc`, if the table lists it. A linear scan:
/// faults are rare, the table holds a few thousand entries at most, and a
/// sorted table would need a build step.
fn lookup(pc: usize) -> Option<usize> {
    let (mut e, stop) = table();
    while e < stop {
        // SAFETY: `e` lies in `start..stop`, the linker-built array of
        // 8-byte entries (4-aligned), which is read-only data of this image.
        let entry = unsafe { &*e };
        let base = ptr::from_ref(&entry.insn).addr();
        if base.wrapping_add_signed(entry.insn as isize) == pc {
            let fix = ptr::from_ref(&entry.fixup).addr();
            return Some(fix.wrapping_add_signed(entry.fixup as isize));
        }
        // SAFETY: `e < stop`, so one past it is at most `stop`.
        e = unsafe { e.add(1) };
    }
    None
}

/// Reads the PC of an interrupted context.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `ctx` is the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler.
unsafe fn pc(ctx: *mut c_void) -> usize {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: `uc` is the kernel's context (caller), valid for reads.
    #[cfg(target_arch = "x86_64")]
    let pc = unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as usize };
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    let pc = unsafe { (*uc).uc_mcontext.pc as usize };
    pc
}

/// Makes the interrupted context resume at `fixup` with `addr` in the fault
/// register (`r11` on x86_64, `x17` on aarch64; see `extable.rs`).
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - `ctx` is the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler;
/// - `fixup` is the fixup of the table entry for that context's PC.
unsafe fn resume(ctx: *mut c_void, fixup: usize, addr: usize) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: `uc` is the kernel's context (caller), valid for writes; the
    // kernel restores it on return from the handler.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        let gregs = &mut (*uc).uc_mcontext.gregs;
        gregs[libc::REG_R11 as usize] = addr as i64;
        gregs[libc::REG_RIP as usize] = fixup as i64;
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        let mc = &mut (*uc).uc_mcontext;
        mc.regs[17] = addr as u64;
        mc.pc = fixup as u64;
    }
}

/// The handler for SIGSEGV and SIGBUS.
extern "C" fn on_fault(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an `SA_SIGINFO`
    // handler.
    let code = unsafe { (*info).si_code };
    if code > 0 {
        // SAFETY: `ctx` is the kernel's `ucontext_t`.
        let pc = unsafe { pc(ctx) };
        if let Some(fixup) = lookup(pc) {
            // SAFETY: the kernel's `siginfo_t` is valid for reads.
            let info = unsafe { &*info };
            // SAFETY: a CPU-raised SIGSEGV/SIGBUS carries `si_addr`.
            let addr = unsafe { info.si_addr() }.addr();
            // A general-protection fault (a non-canonical address on
            // x86_64) reports 0, which the kernels use for "no fault".
            let addr = if addr == 0 { usize::MAX } else { addr };
            // SAFETY: `ctx` is the kernel's context and `fixup` its entry's.
            unsafe { resume(ctx, fixup, addr) };
            return;
        }
    }
    // SAFETY: called from the handler with the kernel's arguments.
    unsafe { chain(sig, info, ctx, code) }
}

/// Hands a fault that is not ours to the action installed before ours.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the arguments are those the kernel passed to [`on_fault`].
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void, code: c_int) {
    let i = usize::from(sig == libc::SIGBUS);
    let handler = PREV[i][0].load(Ordering::Acquire);
    let flags = PREV[i][1].load(Ordering::Acquire);
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        if handler == libc::SIG_IGN && code <= 0 {
            // A sent signal that was being ignored: keep ignoring it.
            return;
        }
        let mut dfl = empty_action();
        dfl.sa_sigaction = libc::SIG_DFL;
        // SAFETY: `dfl` is a complete action; `sigaction` is
        // async-signal-safe.
        unsafe { libc::sigaction(sig, &dfl, ptr::null_mut()) };
        if code <= 0 {
            // Sent by `kill`: it will not recur by itself. Blocked while we
            // run, it is delivered, with the default action, on return.
            // SAFETY: `raise` is async-signal-safe.
            unsafe { libc::raise(sig) };
        }
        // A fault: returning re-runs the instruction, which faults again
        // and takes the default action with the same signal.
        return;
    }
    if flags & (libc::SA_SIGINFO as usize) != 0 {
        // SAFETY: the previous action was installed with `SA_SIGINFO`, so
        // its address is a three-argument handler; we pass our arguments.
        unsafe {
            let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                core::mem::transmute(handler);
            f(sig, info, ctx);
        }
    } else {
        // SAFETY: without `SA_SIGINFO`, the address is a one-argument
        // handler.
        unsafe {
            let f: extern "C" fn(c_int) = core::mem::transmute(handler);
            f(sig);
        }
    }
}

/// An all-zero action: `SIG_DFL`, no flags, an empty signal mask (Linux
/// represents the empty set as all-zero bits).
fn empty_action() -> libc::sigaction {
    // SAFETY: `sigaction` is a C struct of integers, a function address and
    // a bit set, for all of which zero is a valid value.
    unsafe { core::mem::zeroed() }
}

/// The `errno` of the last failed call.
fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Installs [`on_fault`] for SIGSEGV and SIGBUS, once per process (per
/// image that contains this crate); later calls return the first outcome.
pub(crate) fn install() -> std::io::Result<()> {
    let outcome = *INSTALLED.get_or_init(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            let mut old = empty_action();
            // SAFETY: querying an action with a null new action only
            // writes `old`.
            if unsafe { libc::sigaction(sig, ptr::null(), &mut old) } != 0 {
                return Err(last_errno());
            }
            // Published before our handler can run (it is installed below).
            PREV[i][0].store(old.sa_sigaction, Ordering::Release);
            PREV[i][1].store(old.sa_flags as usize, Ordering::Release);
            let mut new = empty_action();
            let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) = on_fault;
            new.sa_sigaction = handler as usize;
            // `SA_ONSTACK`: run on the thread's alternate stack where there
            // is one (std sets one up for its stack-overflow handler).
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            // SAFETY: `new` is a complete action for a valid three-argument
            // handler with an empty mask (zeroed by `empty_action`).
            if unsafe { libc::sigaction(sig, &new, ptr::null_mut()) } != 0 {
                return Err(last_errno());
            }
        }
        Ok(())
    });
    outcome.map_err(std::io::Error::from_raw_os_error)
}
