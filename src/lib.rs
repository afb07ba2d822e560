#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
#![cfg_attr(
    test,
    allow(
        clippy::undocumented_unsafe_blocks,
        clippy::multiple_unsafe_ops_per_block
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod atomic_bytes;
mod atomic_per_byte;
mod error;
#[cfg(feature = "std")]
pub mod fault;
mod imp;
#[cfg(feature = "std")]
pub mod io;
#[cfg(feature = "std")]
mod page;
mod raw;
#[cfg(any(target_has_atomic = "64", target_has_atomic = "32"))]
mod seqlock;
#[cfg(all(feature = "std", unix))]
mod shared_memory;

pub use crate::atomic_bytes::AtomicBytes;
pub use crate::atomic_per_byte::AtomicPerByte;
pub use crate::error::Error;
#[cfg(feature = "std")]
pub use crate::page::{AllocError, PAGE_SIZE, Page};
pub use crate::raw::{copy, fill, load, store, try_copy, try_fill, try_load, try_store};
#[cfg(all(
    feature = "std",
    any(target_has_atomic = "64", target_has_atomic = "32")
))]
pub use crate::seqlock::ReadTimeout;
#[cfg(any(target_has_atomic = "64", target_has_atomic = "32"))]
pub use crate::seqlock::SeqLock;
#[cfg(all(feature = "std", unix))]
pub use crate::shared_memory::SharedMemory;
pub use core::sync::atomic::Ordering;

/// Test-only hook: every kernel this build has that the CPU supports.
///
/// Not part of the public API and not covered by semver: the conformance and
/// differential tests use it to run one suite against each implementation.
#[doc(hidden)]
pub mod __kernels {
    pub use crate::imp::Kernel;
    pub use crate::imp::alloc_free::KernelList;

    /// The portable kernel first, then every asm kernel this CPU supports.
    pub fn all() -> KernelList {
        crate::imp::kernels()
    }

    /// A one-byte read whose `asm!` block has a fixup but no exception-table
    /// entry: the negative control of the fault tests (a fault here kills
    /// the process). Returns 0.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    /// - `src` is valid for a one-byte read.
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    pub unsafe fn read_byte_without_entry(src: *const u8) -> usize {
        // SAFETY: the caller's contract.
        unsafe { crate::imp::extable::read_byte_without_entry(src) }
    }

    /// The same read with its entry: returns the faulting address, or 0.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    /// - `src` is valid for a one-byte read, or lies in memory of this
    ///   process whose access faults while the fault handler is installed.
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    pub unsafe fn read_byte_with_entry(src: *const u8) -> usize {
        // SAFETY: the caller's contract.
        unsafe { crate::imp::extable::read_byte_with_entry(src) }
    }
}
