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
#[cfg(all(feature = "memmap2", any(target_os = "linux", target_os = "android")))]
mod mmap_raw;
#[cfg(feature = "std")]
mod page;
mod raw;
mod read_only_bytes;
#[cfg(target_has_atomic = "64")]
mod seqlock;
#[cfg(all(feature = "std", unix))]
mod shared_memory;

pub use crate::atomic_bytes::AtomicBytes;
pub use crate::atomic_per_byte::AtomicPerByte;
pub use crate::error::Error;
#[cfg(feature = "std")]
pub use crate::page::{AllocError, PAGE_SIZE, Page};
pub use crate::raw::{copy, fill, load, store, try_copy, try_fill, try_load, try_store};
pub use crate::read_only_bytes::ReadOnlyBytes;
#[cfg(target_has_atomic = "64")]
pub use crate::seqlock::{ReadTimeout, SeqLock, Timeout};
#[cfg(all(feature = "std", unix))]
pub use crate::shared_memory::{MapOptions, ReadOnlySharedMemory, SharedMemory};
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

    /// Makes the public functions dispatch, from now on and in every
    /// thread, exactly as on a CPU without the named features:
    /// comma-separated `avx512`, `avx2` (which implies `avx512`), `erms`,
    /// `fsrm`. Returns the first name it does not know (on targets other
    /// than x86_64, every name). Features can only be removed, never added,
    /// so every dispatch stays one this CPU supports.
    ///
    /// This is how the benchmarks measure every x86_64 CPU class on one
    /// machine (`BYTEWISE_MASK=avx512 cargo bench --bench compare`).
    pub fn disable(names: &str) -> Result<(), &str> {
        crate::imp::disable(names)
    }

    /// The CPU features the public functions dispatch on now (after
    /// [`disable`]), for benchmark headers.
    pub fn features() -> impl Iterator<Item = &'static str> {
        crate::imp::features()
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
