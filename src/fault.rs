//! Faults become errors: a page that disappears under a copy makes it return
//! [`Error::Fault`](crate::Error::Fault) instead of killing the process.
//!
//! A mapping can lose pages under a reader: another process truncates the
//! file, the disk or NFS server fails, a page is poisoned by a memory error,
//! a peer `mprotect`s or unmaps what it shared. Plain loads then raise
//! `SIGBUS` or `SIGSEGV`, and the process dies. The kernel's own copies
//! from user memory survive the same thing through an exception table; this
//! crate does the same in user space:
//!
//! - every instruction of the copy kernels that touches memory is listed,
//!   with a place to resume, in a table built by the linker;
//! - a process-wide `SIGSEGV`/`SIGBUS` handler ([`install_handler`]) looks
//!   up the faulting instruction; if it is one of ours, the copy stops there
//!   and returns the faulting address, which becomes `Error::Fault`;
//! - any other fault goes to the handler installed before (Rust's
//!   stack-overflow handler, or your own), or takes the default action with
//!   the same signal, exactly as without this crate.
//!
//! The fast path pays nothing measurable: no syscall, no `sigsetjmp`, no
//! check whether the handler is installed.
//!
//! Who reports faults: [`try_load`](crate::try_load),
//! [`try_store`](crate::try_store), [`try_copy`](crate::try_copy),
//! [`try_fill`](crate::try_fill); every `Result`-returning method of
//! [`AtomicBytes`](crate::AtomicBytes); `Page::read_bytewise_atomic` and
//! `write_bytewise_atomic` for the caller's pointer; the [`io`](crate::io)
//! cursors. The infallible functions (`load`, `AtomicBytes::load`,
//! `AtomicPerByte`'s methods, ...) panic with a message naming the address
//! instead of dying by a signal.
//!
//! Supported on Linux x86_64 and aarch64 with the asm kernels. Elsewhere
//! (other targets, the portable kernel, Miri) [`is_supported`] is `false`,
//! [`install_handler`] does nothing, and a fault kills the process as
//! before.
//!
//! # Examples
//!
//! ```
//! use bytewise::{Error, SharedMemory};
//!
//! // Constructors of SharedMemory install the handler themselves.
//! let shm = SharedMemory::create(4096)?;
//! let mut buf = [0u8; 16];
//! match shm.read_at(0, &mut buf) {
//!     Ok(()) => {}
//!     Err(Error::Fault { offset, .. }) => eprintln!("byte {offset} is gone"),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

/// Installs the process-wide `SIGSEGV`/`SIGBUS` handler that turns faults of
/// this crate's copies into [`Error::Fault`](crate::Error::Fault).
///
/// Idempotent and thread-safe: the first call installs, later calls return
/// its outcome. Every [`SharedMemory`](crate::SharedMemory) constructor
/// calls it; call it yourself for memory of your own (your own `mmap`, a
/// DMA buffer, a mapping handed over by a library).
///
/// The handler remembers the action that was installed before it and
/// passes every fault that is not ours on to it. Install your own
/// `SIGSEGV`/`SIGBUS` handlers *before* this one (Rust's own stack-overflow
/// handler is installed before `main`); a handler installed later replaces
/// ours, and our copies then die by the signal again unless that handler
/// chains to ours.
///
/// Does nothing and returns `Ok(())` where [`is_supported`] is `false`.
///
/// # Errors
///
/// The `sigaction` error, if the kernel refuses to install the handler.
///
/// # Examples
///
/// ```
/// bytewise::fault::install_handler()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn install_handler() -> std::io::Result<()> {
    #[cfg(bytewise_fault)]
    return crate::imp::extable::handler::install();
    #[cfg(not(bytewise_fault))]
    Ok(())
}

/// Whether faults are recovered in this build and on this target: Linux
/// x86_64 or aarch64 with the asm kernels (not the portable kernel, not
/// under Miri or a sanitizer).
///
/// This says what the build can do; [`install_handler`] still has to run
/// (a [`SharedMemory`](crate::SharedMemory) constructor does it).
///
/// # Examples
///
/// ```
/// if bytewise::fault::is_supported() {
///     bytewise::fault::install_handler()?;
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use]
pub const fn is_supported() -> bool {
    crate::imp::extable::SUPPORTED
}
