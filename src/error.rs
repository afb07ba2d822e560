//! The crate's error type.

use core::fmt;

/// Why a checked access was refused. Nothing was written when one of these is
/// returned, and nothing was read, except for
/// [`InvalidBitPattern`](Error::InvalidBitPattern), whose bytes were read
/// once and rejected, and [`Fault`](Error::Fault) (see there).
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, Error};
///
/// let mut backing = [0u8; 16];
/// let shared = AtomicBytes::from_mut(&mut backing);
/// let err = shared.write_at(12, &[1, 2, 3, 4, 5]).unwrap_err();
/// assert_eq!(err, Error::OutOfBounds { offset: 12, len: 5, size: 16 });
/// assert_eq!(err.to_string(), "range 12..+5 is out of bounds of 16 bytes");
/// assert_eq!(shared.to_vec(bytewise::Ordering::Relaxed), [0; 16]); // nothing written
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// `offset..offset + len` does not lie within `size` bytes, or
    /// `offset + len` overflows.
    OutOfBounds {
        /// The requested start.
        offset: usize,
        /// The requested length.
        len: usize,
        /// The size of the region.
        size: usize,
    },
    /// An address is not aligned as a type requires.
    Misaligned {
        /// The address.
        addr: usize,
        /// The required alignment.
        align: usize,
    },
    /// The `len` bytes copied from `offset` are not a valid value of the
    /// requested type: a bad enum discriminant, a `bool` that is not 0 or 1,
    /// a zero `NonZero*`, a `char` out of range. The check ran on a private
    /// copy, so this is a fact about the bytes as copied; nothing was
    /// written, and no value of the type was made from them.
    InvalidBitPattern {
        /// The start of the bytes that were copied.
        offset: usize,
        /// The number of bytes copied (the size of the type).
        len: usize,
    },
    /// The memory faulted under the copy (`SIGSEGV` or `SIGBUS`): a mapped
    /// file was truncated, a page was unmapped, protected or poisoned, or
    /// the disk failed. Reported once the fault handler is installed (see
    /// [`crate::fault`]).
    ///
    /// Unlike the other variants, the copy may have been partly done: a
    /// read's destination is unspecified, and a write may have stored some
    /// bytes (each at most once).
    Fault {
        /// A byte that could not be accessed: its offset from the shared
        /// pointer of a raw `try_*` function, or from the start of the view
        /// for `AtomicBytes`' offset-taking methods.
        offset: usize,
    },
}

impl Error {
    /// Checks that `offset..offset + len` lies within `size` bytes.
    #[inline]
    pub(crate) const fn check_range(offset: usize, len: usize, size: usize) -> Result<(), Error> {
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok(()),
            _ => Err(Error::OutOfBounds { offset, len, size }),
        }
    }

    /// The fault at address `addr` of a copy of `len` bytes between the
    /// regions at `a` (the side offsets are counted from) and `b`: its
    /// offset in whichever region holds it. An address in neither (a
    /// general-protection fault reports none) counts as the first byte.
    /// Takes addresses, not pointers: the shared pointer never leaves the
    /// kernels (`ci/codegen.sh` checks that).
    pub(crate) fn fault(addr: usize, a: usize, b: usize, len: usize) -> Error {
        let within = |p: usize| addr.checked_sub(p).filter(|&o| o < len);
        let offset = within(a).or_else(|| within(b)).unwrap_or(0);
        Error::Fault { offset }
    }

    /// The error with any offset moved by `base`: a method of a sub-view at
    /// `base` reports offsets from its own start.
    #[inline]
    pub(crate) const fn shifted(self, base: usize) -> Error {
        match self {
            Error::Fault { offset } => Error::Fault {
                offset: offset.saturating_add(base),
            },
            e => e,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::OutOfBounds { offset, len, size } => {
                write!(f, "range {offset}..+{len} is out of bounds of {size} bytes")
            }
            Error::Misaligned { addr, align } => {
                write!(f, "address {addr:#x} is not aligned to {align} bytes")
            }
            Error::InvalidBitPattern { offset, len } => {
                write!(
                    f,
                    "bytes {offset}..+{len} are not a valid bit pattern for the type read"
                )
            }
            Error::Fault { offset } => write!(
                f,
                "memory fault at byte {offset}: the memory is no longer accessible \
                 (was the file truncated, or the page unmapped, protected or poisoned?)"
            ),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match e {
            // Not the caller's input: the memory went away (the kernel's
            // `EFAULT`/`EIO`, which std has no kind for).
            Error::Fault { .. } => std::io::ErrorKind::Other,
            _ => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e)
    }
}
