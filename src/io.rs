//! [`std::io`] cursors over [`AtomicBytes`]: a read-once [`Reader`] and a
//! [`Writer`].
//!
//! Both copy with byte-wise atomic accesses (Relaxed), so the bytes may be
//! changed concurrently by other threads, processes or devices while a
//! cursor is used.
//!
//! # Examples
//!
//! ```
//! use std::io::{Read, Write};
//!
//! let mut backing = [0u8; 8];
//! let shared = bytewise::AtomicBytes::from_mut(&mut backing);
//! shared.writer().write_all(b"bytewise")?;
//!
//! let mut text = String::new();
//! shared.reader().read_to_string(&mut text)?;
//! assert_eq!(text, "bytewise");
//! # Ok::<(), std::io::Error>(())
//! ```

use core::fmt;

use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::AtomicBytes;

impl AtomicBytes {
    /// A read-once [`Reader`] over the view, starting at byte 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// let mut backing = *b"abc";
    /// let mut r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
    /// let mut out = Vec::new();
    /// r.read_to_end(&mut out)?;
    /// assert_eq!(out, b"abc");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            bytes: self,
            pos: 0,
        }
    }

    /// A [`Writer`] over the view, starting at byte 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// let mut backing = [0u8; 3];
    /// let shared = bytewise::AtomicBytes::from_mut(&mut backing);
    /// write!(shared.writer(), "{}", 42)?;
    /// assert_eq!(&shared.to_vec(bytewise::Ordering::Relaxed)[..2], b"42");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            bytes: self,
            pos: 0,
        }
    }
}

/// Resolves a seek against a cursor at `pos` over `len` bytes, as
/// [`std::io::Cursor`] does: positions past the end are allowed, negative or
/// overflowing ones are an `InvalidInput` error.
fn resolve(pos: u64, len: usize, style: SeekFrom) -> io::Result<u64> {
    let (base, delta) = match style {
        SeekFrom::Start(n) => return Ok(n),
        SeekFrom::End(d) => (len as u64, d),
        SeekFrom::Current(d) => (pos, d),
    };
    base.checked_add_signed(delta).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "invalid seek to a negative or overflowing position",
        )
    })
}

/// An error of a copy at cursor position `pos` as an `io::Error`, with any
/// fault offset counted from the start of the cursor's view (the position
/// does not advance then).
fn fault(e: crate::Error, pos: u64) -> io::Error {
    io::Error::from(e.shifted(usize::try_from(pos).unwrap_or(usize::MAX)))
}

/// The part of `bytes` at and after `pos`, empty if `pos` is past the end.
fn tail(bytes: &AtomicBytes, pos: u64) -> &AtomicBytes {
    let start = usize::try_from(pos).unwrap_or(usize::MAX).min(bytes.len());
    bytes.get(start..).unwrap_or(AtomicBytes::new(&[]))
}

/// A read-once [`Read`] + [`Seek`] cursor over [`AtomicBytes`], obtained from
/// [`AtomicBytes::reader`].
///
/// Each shared byte is fetched by **at most one** `read` call, in the style
/// of the Linux kernel's `UserSliceReader`:
///
/// - [`read`](Read::read) copies exactly the bytes it returns, with one
///   byte-wise atomic load, and never looks ahead or buffers. Each byte of
///   the result comes from one read of that byte, as if by one relaxed
///   `AtomicU8` load. (Inside one copy a kernel may load some bytes twice,
///   with overlapping wide moves, but it keeps only one of the two values
///   for each byte, so the result is as if each byte were read once.)
/// - [`seek`](Seek::seek) moves forwards only (skipping bytes without reading
///   them). A seek backwards is an `InvalidInput` error and leaves the
///   position unchanged; to read the bytes again, take a new
///   [`reader`](AtomicBytes::reader), which makes the second fetch explicit.
///
/// So data obtained through one `Reader` is one consistent private copy of
/// what each byte held when it was read, even while others write the memory.
/// Reads are Relaxed. A `Reader` is deliberately not `Clone`: a clone could
/// read the same bytes again.
///
/// ```compile_fail,E0599
/// let mut backing = [0u8; 4];
/// let r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
/// let again = r.clone(); // would fetch the same bytes a second time
/// ```
///
/// Seeking past the end is allowed, as for [`std::io::Cursor`]; reads there
/// return `Ok(0)`.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Seek, SeekFrom};
///
/// let mut backing = *b"0123456789";
/// let mut r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
/// let mut two = [0u8; 2];
/// r.read_exact(&mut two)?;
/// assert_eq!(&two, b"01");
/// r.seek(SeekFrom::Current(3))?;             // skip 2, 3, 4 unread
/// r.read_exact(&mut two)?;
/// assert_eq!(&two, b"56");
/// assert!(r.seek(SeekFrom::Start(0)).is_err()); // no going back
/// assert_eq!(r.position(), 7);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Reader<'a> {
    bytes: &'a AtomicBytes,
    pos: u64,
}

impl<'a> Reader<'a> {
    /// The current position: the number of bytes read or skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// let mut backing = [0u8; 4];
    /// let mut r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
    /// r.read_exact(&mut [0; 3])?;
    /// assert_eq!(r.position(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The number of bytes left before the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// let mut backing = [0u8; 4];
    /// let mut r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
    /// r.read_exact(&mut [0; 3])?;
    /// assert_eq!(r.remaining(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn remaining(&self) -> usize {
        tail(self.bytes, self.pos).len()
    }

    /// The whole underlying view.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut backing = [0u8; 4];
    /// let r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
    /// assert_eq!(r.get_ref().len(), 4);
    /// ```
    #[inline]
    pub fn get_ref(&self) -> &'a AtomicBytes {
        self.bytes
    }
}

/// Typed reads: each reads the next `size_of::<T>()` bytes once, as
/// [`read_exact`](Read::read_exact) does, into a private copy.
impl Reader<'_> {
    /// Reads the next `T` (unaligned is fine) as one private copy.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if fewer than `size_of::<T>()` bytes remain; nothing
    /// is read then and the reader moves to the end, as `read_exact` does.
    /// `Other`, wrapping [`Error::Fault`](crate::Error::Fault) with the
    /// offset from the start of the view, if the memory faulted (see
    /// [`crate::fault`]); the position does not move then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut backing = [1u8, 0, 2, 0, 0, 0];
    /// let mut r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
    /// assert_eq!(r.read_obj::<u16>()?, u16::from_le(1));
    /// assert_eq!(r.read_obj::<u32>()?, u32::from_le(2));
    /// assert!(r.read_obj::<u8>().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_obj<T: bytemuck::AnyBitPattern>(&mut self) -> io::Result<T> {
        let offset = self.next_obj(core::mem::size_of::<T>())?;
        let value = self.bytes.read_obj(offset)?;
        self.pos += core::mem::size_of::<T>() as u64;
        Ok(value)
    }

    /// Reads the next `T` as one private copy and returns it if the copy is
    /// a valid `T`, as [`AtomicBytes::read_obj_checked`] does.
    ///
    /// The bytes count as read either way: an invalid copy moves the reader
    /// past them, so they are never fetched twice.
    ///
    /// # Errors
    ///
    /// - `UnexpectedEof` as for [`read_obj`](Self::read_obj);
    /// - `InvalidData`, wrapping [`Error::InvalidBitPattern`](crate::Error::InvalidBitPattern),
    ///   if the copy is not a valid `T`;
    /// - `Other`, wrapping [`Error::Fault`](crate::Error::Fault), as for
    ///   [`read_obj`](Self::read_obj).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    ///
    /// let mut backing = [1u8, 2, 1];
    /// let mut r = bytewise::AtomicBytes::from_mut(&mut backing).reader();
    /// assert!(r.read_obj_checked::<bool>()?);
    /// assert_eq!(r.read_obj_checked::<bool>().unwrap_err().kind(), ErrorKind::InvalidData);
    /// assert!(r.read_obj_checked::<bool>()?); // moved past the bad byte
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_obj_checked<T: bytemuck::CheckedBitPattern>(&mut self) -> io::Result<T> {
        let offset = self.next_obj(core::mem::size_of::<T>())?;
        let value = self.bytes.read_obj_checked(offset);
        if let Ok(_) | Err(crate::Error::InvalidBitPattern { .. }) = value {
            self.pos += core::mem::size_of::<T>() as u64;
        }
        value.map_err(|e| match e {
            crate::Error::InvalidBitPattern { .. } => io::Error::new(io::ErrorKind::InvalidData, e),
            e => e.into(),
        })
    }

    /// The offset of the next `size` bytes, or `UnexpectedEof` (moving to
    /// the end) if fewer remain.
    fn next_obj(&mut self, size: usize) -> io::Result<usize> {
        if self.remaining() < size {
            self.pos = self.pos.max(self.bytes.len() as u64);
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "failed to fill whole buffer",
            ));
        }
        // The position clamped to the end (a reader may seek past it).
        Ok(self.bytes.len() - self.remaining())
    }
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = tail(self.bytes, self.pos);
        let n = rest.len().min(buf.len());
        if let (Some(src), Some(dst)) = (rest.get(..n), buf.get_mut(..n)) {
            src.read_at(0, dst).map_err(|e| fault(e, self.pos))?;
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads exactly `buf.len()` bytes. If fewer remain, returns
    /// `UnexpectedEof` without reading any of them and moves to the end, as
    /// [`std::io::Cursor`] does.
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let rest = tail(self.bytes, self.pos);
        match rest.get(..buf.len()) {
            Some(src) => {
                src.read_at(0, buf).map_err(|e| fault(e, self.pos))?;
                self.pos += buf.len() as u64;
                Ok(())
            }
            None => {
                self.pos = self.pos.max(self.bytes.len() as u64);
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "failed to fill whole buffer",
                ))
            }
        }
    }
}

impl Seek for Reader<'_> {
    /// Moves forwards (or stays). Seeking backwards is an `InvalidInput`
    /// error, because the reader fetches each byte in at most one `read`.
    fn seek(&mut self, style: SeekFrom) -> io::Result<u64> {
        let to = resolve(self.pos, self.bytes.len(), style)?;
        if to < self.pos {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bytewise::io::Reader fetches each byte at most once and cannot seek backwards",
            ));
        }
        self.pos = to;
        Ok(to)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.pos)
    }
}

impl fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("len", &self.bytes.len())
            .field("pos", &self.pos)
            .finish()
    }
}

/// A [`Write`] + [`Seek`] cursor over [`AtomicBytes`], obtained from
/// [`AtomicBytes::writer`].
///
/// Writes are byte-wise atomic (Relaxed) and behave like
/// [`std::io::Cursor<&mut [u8]>`](std::io::Cursor): the view never grows, a
/// write at or past the end returns `Ok(0)` (so
/// [`write_all`](Write::write_all) fails with `WriteZero`), and a write that
/// reaches the end is cut short. Seeking works in both directions; a negative
/// or overflowing target is an `InvalidInput` error.
///
/// # Examples
///
/// ```
/// use std::io::{ErrorKind, Seek, SeekFrom, Write};
///
/// let mut backing = [0u8; 4];
/// let shared = bytewise::AtomicBytes::from_mut(&mut backing);
/// let mut w = shared.writer();
/// assert_eq!(w.write(b"abcdef")?, 4);        // cut short at the end
/// assert_eq!(w.write(b"x")?, 0);
/// w.seek(SeekFrom::Start(1))?;
/// w.write_all(b"Z")?;
/// // Fills what is left ("to"), then fails, as `write_all` on std's Cursor does.
/// assert_eq!(w.write_all(b"too long").unwrap_err().kind(), ErrorKind::WriteZero);
/// assert_eq!(shared.to_vec(bytewise::Ordering::Relaxed), b"aZto");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Writer<'a> {
    bytes: &'a AtomicBytes,
    pos: u64,
}

impl<'a> Writer<'a> {
    /// The current position.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// let mut backing = [0u8; 4];
    /// let mut w = bytewise::AtomicBytes::from_mut(&mut backing).writer();
    /// w.write_all(b"ab")?;
    /// assert_eq!(w.position(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The whole underlying view.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut backing = [0u8; 4];
    /// let w = bytewise::AtomicBytes::from_mut(&mut backing).writer();
    /// assert_eq!(w.get_ref().len(), 4);
    /// ```
    #[inline]
    pub fn get_ref(&self) -> &'a AtomicBytes {
        self.bytes
    }
}

impl Write for Writer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let rest = tail(self.bytes, self.pos);
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (rest.get(..n), buf.get(..n)) {
            dst.write_at(0, src).map_err(|e| fault(e, self.pos))?;
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Writer<'_> {
    fn seek(&mut self, style: SeekFrom) -> io::Result<u64> {
        self.pos = resolve(self.pos, self.bytes.len(), style)?;
        Ok(self.pos)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.pos)
    }
}

impl fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("len", &self.bytes.len())
            .field("pos", &self.pos)
            .finish()
    }
}
