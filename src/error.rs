//! The crate's error type.

use core::fmt;

/// Why a checked access was refused. Nothing was written when one of these is
/// returned, and nothing was read except for
/// [`InvalidBitPattern`](Error::InvalidBitPattern), whose bytes were read
/// once and rejected.
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
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}
