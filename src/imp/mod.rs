//! The unsafe core: one set of copy kernels per architecture, chosen here.
//!
//! Every implementation exposes the same four functions with the same
//! contract, documented once below. The public primitives in `crate::raw`
//! check the ordering, issue the fences and then call exactly one of these.
//!
//! - `portable` is always compiled, so it can be tested against the others;
//!   it is the only path under Miri and sanitizers (see `build.rs`).
//! - `x86_64` and `aarch64` hold the inline-asm kernels. x86_64 targets built
//!   without SSE2 (such as `x86_64-unknown-none`, a soft-float target) take
//!   the portable path, since the vector kernels need the xmm registers.
//!
//! See `src/imp/README.md` for the soundness argument.
//!
//! # The kernel contract
//!
//! For `load(src, dst, len)`, `store(src, dst, len)`, `copy(src, dst, len)`
//! and `fill(dst, byte, len)`, behavior is undefined if any of these is
//! violated:
//!
//! - `len` is 0, or `src` is valid for reads of `len` bytes and `dst` is valid
//!   for writes of `len` bytes (no alignment is required);
//! - the two regions do not overlap;
//! - the *shared* side (`src` of `load`, `dst` of `store` and `fill`, both
//!   sides of `copy`) is only accessed concurrently by this crate's
//!   operations, by size-1 atomics, or by agents outside the abstract machine
//!   (other processes, the kernel, devices);
//! - the *private* side is not accessed concurrently by anyone, and for
//!   `store` every byte of `src` is initialized.
//!
//! `store_value(src, dst, len)` has `store`'s contract. It is for a `src`
//! that the caller has just written (a value passed by value), and may move
//! it in narrower pieces so that the loads are served from the store buffer;
//! `value_store_covers(len)` says whether it does for that length.
//!
//! Every kernel returns 0, or the address that faulted: an asm kernel whose
//! memory access raises SIGSEGV/SIGBUS while the fault handler is installed
//! stops there and returns `si_addr` (see `extable.rs`; always 0 where
//! `extable::SUPPORTED` is false). After a fault, a `load` destination is
//! unspecified and some shared bytes of a `store`/`copy`/`fill` may have
//! been written, each at most once.
//!
//! Each byte of the shared side is accessed as if by one relaxed `AtomicU8`
//! operation. Stores (`store`, `copy`, `fill`) write each shared byte exactly
//! once. Loads may read some shared bytes twice within one copy (two
//! overlapping moves cover a short length), but each byte of the result comes
//! from one read of that byte, so the result is as if each byte were read
//! once (`README.md`, "Each shared byte is accessed once"). The contract needs no fences from the
//! kernels (`raw.rs` places them); a kernel may fence internally, which only
//! strengthens ordering (the x86_64 non-temporal and `rep movsb` paths do).

#[macro_use]
pub(crate) mod extable;
pub(crate) mod portable;

#[cfg(bytewise_x86_64_asm)]
pub(crate) mod x86_64;

#[cfg(bytewise_x86_64_asm)]
pub(crate) use self::x86_64 as selected;

#[cfg(bytewise_aarch64_asm)]
pub(crate) mod aarch64;

#[cfg(bytewise_aarch64_asm)]
pub(crate) use self::aarch64 as selected;

#[cfg(not(any(bytewise_x86_64_asm, bytewise_aarch64_asm)))]
pub(crate) use self::portable as selected;

pub(crate) use self::selected::{copy, fill, load, store, store_value};
// Only `SeqLock` asks, and it needs 64-bit atomics.
#[cfg(target_has_atomic = "64")]
pub(crate) use self::selected::value_store_covers;

/// `load` of one whole `T` at `src`, returned by value, with the fault
/// address (0 if none): the kernel contract of `load` with the returned
/// value as the private destination. The x86_64 kernels build 16-, 32- and
/// 64-byte values in registers (`x86_64::load_value`); everything else
/// loads into the value's own buffer.
///
/// # Safety
///
/// Behavior is undefined if any of these is violated:
/// - the kernel contract holds for `src` and `size_of::<T>()` bytes as the
///   shared side of a `load`.
#[inline(always)]
pub(crate) unsafe fn load_value<T>(src: *const u8) -> (core::mem::MaybeUninit<T>, usize) {
    #[cfg(bytewise_x86_64_asm)]
    // SAFETY: the caller's contract.
    if let Some(v) = unsafe { x86_64::load_value::<T>(src) } {
        return v;
    }
    let mut v = core::mem::MaybeUninit::<T>::uninit();
    // SAFETY: the caller's contract; `v` is private and `size_of::<T>()`
    // bytes long.
    let fault = unsafe { load(src, v.as_mut_ptr().cast(), core::mem::size_of::<T>()) };
    (v, fault)
}

/// One implementation of the four kernels, as function pointers. Each
/// returns 0, or the address that faulted (see the kernel contract).
///
/// Used by the test-only hook [`crate::__kernels`] so that one conformance
/// suite can run against every implementation the CPU supports.
#[derive(Clone, Copy)]
pub struct Kernel {
    /// A short, stable name such as `"portable"` or `"avx2"`.
    pub name: &'static str,
    /// Byte-wise atomic reads of `src`, plain writes of `dst`.
    pub load: unsafe fn(*const u8, *mut u8, usize) -> usize,
    /// Plain reads of `src`, byte-wise atomic writes of `dst`.
    pub store: unsafe fn(*const u8, *mut u8, usize) -> usize,
    /// Byte-wise atomic on both sides.
    pub copy: unsafe fn(*const u8, *mut u8, usize) -> usize,
    /// Byte-wise atomic writes of `dst`.
    pub fill: unsafe fn(*mut u8, u8, usize) -> usize,
}

impl core::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Kernel")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The CPU feature bits the dispatch uses, and how to mask them: the x86_64
/// kernels' on x86_64, none elsewhere.
#[cfg(bytewise_x86_64_asm)]
use self::x86_64::{disable as disable_bits, feature_bit, feature_bits, feature_names};

/// No features to mask off x86_64 (aarch64 decides at compile time).
#[cfg(not(bytewise_x86_64_asm))]
mod no_features {
    pub(super) fn feature_bit(_: &str) -> Option<u8> {
        None
    }
    pub(super) fn disable_bits(_: u8) {}
    pub(super) fn feature_bits() -> u8 {
        0
    }
    pub(super) fn feature_names(_: u8) -> impl Iterator<Item = &'static str> {
        core::iter::empty()
    }
}
#[cfg(not(bytewise_x86_64_asm))]
use self::no_features::{disable_bits, feature_bit, feature_bits, feature_names};

/// Makes the public functions dispatch from now on as on a CPU without the
/// features named in `names` (comma-separated: `avx512`, `avx2`, `erms`,
/// `fsrm`); returns the first unknown name, and then removes nothing. Only
/// x86_64 has such features: elsewhere every non-empty name is unknown.
pub(crate) fn disable(names: &str) -> Result<(), &str> {
    let mut remove = 0;
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        remove |= feature_bit(name).ok_or(name)?;
    }
    disable_bits(remove);
    Ok(())
}

/// The names of the CPU features the public functions dispatch on.
pub(crate) fn features() -> impl Iterator<Item = &'static str> {
    feature_names(feature_bits())
}

/// Every kernel this build contains that the running CPU supports, the
/// portable one first and the one the public functions use last.
pub(crate) fn kernels() -> alloc_free::KernelList {
    let mut list = alloc_free::KernelList::new();
    list.push(portable::KERNEL);
    #[cfg(bytewise_x86_64_asm)]
    selected::supported_kernels(&mut list);
    #[cfg(bytewise_aarch64_asm)]
    selected::supported_kernels(&mut list);
    list
}

pub(crate) mod alloc_free {
    //! A tiny fixed-capacity list, so that the kernel hook works in `no_std`.
    use super::Kernel;

    const CAP: usize = 16;

    /// A fixed-capacity list of kernels.
    #[derive(Clone, Copy, Debug)]
    pub struct KernelList {
        items: [Option<Kernel>; CAP],
        len: usize,
    }

    impl KernelList {
        pub(crate) const fn new() -> Self {
            KernelList {
                items: [None; CAP],
                len: 0,
            }
        }

        /// Appends `kernel`; panics if the list is full (a build error in
        /// practice: the list is filled from a fixed table).
        pub(crate) fn push(&mut self, kernel: Kernel) {
            assert!(self.len < CAP, "too many kernels");
            self.items[self.len] = Some(kernel);
            self.len += 1;
        }

        /// The kernels, in order.
        pub fn iter(&self) -> impl Iterator<Item = Kernel> + '_ {
            self.items[..self.len].iter().flatten().copied()
        }

        /// The kernel called `name`, if this CPU supports it.
        pub fn get(&self, name: &str) -> Option<Kernel> {
            self.iter().find(|k| k.name == name)
        }
    }
}
