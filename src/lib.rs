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
mod imp;
#[cfg(feature = "std")]
pub mod io;
#[cfg(all(feature = "memmap2", any(target_os = "linux", target_os = "android")))]
mod mmap_raw;
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
pub use crate::raw::{copy, fill, load, store};
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
}
