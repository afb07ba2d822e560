//! [`SeqLock<T>`]: a sequence lock whose readers copy the data with byte-wise
//! atomic loads, so that a reader racing with a writer is not a data race.
//!
//! See the type documentation for the protocol and its proof sketch.

use core::fmt;
use core::mem::{MaybeUninit, align_of, offset_of, size_of};
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use core::time::Duration;

use bytemuck::{NoUninit, Pod};

use crate::{AtomicBytes, AtomicPerByte, Error};

// The counter is 64 bits wide on every target, which is why `SeqLock` needs
// 64-bit atomics: with a 32-bit counter, a reader stalled for exactly a
// multiple of 2^31 writes passes its check on a torn copy, and for a `T`
// that is `NoUninit` but not `Pod` (a `NonZeroU32`, a `char`) a torn copy
// can be an invalid value. 2^63 writes cannot happen.
type Seq = u64;
type AtomicSeq = core::sync::atomic::AtomicU64;

/// A sequence lock: any number of readers take consistent snapshots of a
/// `T: bytemuck::NoUninit` (a `Copy` type without padding) without blocking
/// the writer, and writers are serialised.
///
/// A reader copies the value out with byte-wise atomic loads and checks a
/// sequence counter before and after; if a write overlapped the copy, it
/// throws the copy away and retries. Readers never write shared memory, so
/// they do not contend with each other and never block a writer. The price:
/// a writer that writes back to back, with no pause between writes, can
/// starve readers (see *Progress*). See the
/// sections below for the protocol, the reason for each memory ordering,
/// and how this differs from crossbeam's `AtomicCell` and the `seqlock`
/// crate (which read with `read_volatile`, a data race).
///
/// # The protocol
///
/// This is the seqlock of C++ P1478, the paper's motivating example, written
/// with the crate's byte-wise atomic copies. The sequence counter `seq` is even
/// while the data is stable and odd while a writer is writing it.
///
/// Reader (`read`, `try_read`, `read_timeout`):
///
/// 1. `s1 = seq.load(Acquire)`; if `s1` is odd, a write is running: retry.
/// 2. Copy the data into a private `MaybeUninit<T>` with the byte-wise atomic
///    `load(Acquire)`: relaxed per-byte loads, then `fence(Acquire)`.
/// 3. `s2 = seq.load(Relaxed)`. If `s1 != s2`, a write overlapped the copy:
///    discard it and retry. Otherwise the copy is one writer's complete value,
///    and only now does it become a `T`.
///
/// Writer (`write`, `update`):
///
/// 1. `seq.compare_exchange(s, s + 1, Acquire, Relaxed)` from an even `s`:
///    this both announces the write to readers and excludes other writers.
///    There is no second lock; a writer that finds `seq` odd backs off and
///    tries again.
/// 2. `fence(Release)`, then the byte-wise atomic data store (relaxed
///    per-byte stores). `AtomicPerByte::store(.., Release)` is exactly this.
/// 3. `seq.store(s + 2, Release)`.
///
/// # Why each ordering is needed
///
/// - **Reader's first load, `Acquire`:** it reads the value published by the
///   last writer's final `Release` store, so that writer's data stores happen
///   before the copy and every byte is at least that new. It also keeps the
///   data loads from moving above it.
/// - **Data load, `Acquire` (the fence after the copy):** it keeps the second
///   sequence load from moving above the data loads, and it is the half of a
///   fence-to-fence synchronisation with the writer's `fence(Release)`. If any
///   byte of the copy came from a newer writer, that writer's fence
///   synchronises with this one, so its CAS (which made `seq` odd) happens
///   before the second sequence load, and by coherence that load cannot
///   return `s1` any more. This is why a matching `s2` proves that no byte came
///   from a newer write.
/// - **Reader's second load, `Relaxed`:** the fence before it already orders
///   it; a stronger load would add nothing.
/// - **Writer's CAS, `Acquire`:** it reads the previous writer's `Release`
///   store, so the previous writer's data stores happen before this writer's.
///   Without it, the new data bytes could be ordered before the old ones in
///   memory order (a later writer's value lost), and `update` could compute
///   its new value from stale data.
/// - **Writer's `fence(Release)` before the data:** a release *CAS* would only
///   order what comes before the CAS. The fence is what orders the odd
///   sequence value before the data stores, as seen by a reader whose acquire
///   fence follows a load of one of those bytes (see above).
/// - **Writer's final store, `Release`:** it publishes the data stores to the
///   next reader's first load and the next writer's CAS.
///
/// # Progress
///
/// Writers never wait for readers. Readers wait for writers: `read` retries
/// until one copy fits between two writes, polling the counter a few times
/// with `spin_loop` and then (with `std`) calling `yield_now` between polls.
/// Each writer holds the counter odd from its CAS to its release store, and
/// a writer that writes again at once makes it odd again right away. `write`
/// keeps that window short: a value of up to 64 bytes is copied (on x86_64)
/// in pieces the CPU forwards from the stores that built it, and a longer
/// one is put in memory before the CAS, so the copy under the lock does not
/// stall.
///
/// Under a writer that never rests, readers progress only in the gaps
/// between writes, and how the gaps fall is chaotic: in the README's
/// benchmark the reads per second of every seqlock there, this one
/// included, change several-fold from one run to the next. Use
/// [`try_read`](SeqLock::try_read) or [`read_timeout`](SeqLock::read_timeout)
/// where a bounded wait matters, and a `RwLock` for data that is written as
/// often as it is read.
///
/// # Compared with other Rust seqlocks
///
/// crossbeam's `AtomicCell<T>` (for a `T` with no native atomic of its size,
/// through a global table of striped sequence locks) and the `seqlock` crate
/// use the same protocol, but read the data with `ptr::read_volatile` while a
/// writer may be writing it with plain stores. In Rust's memory model that
/// race is undefined behaviour even though the torn value is discarded
/// (crossbeam's source says as much), and Miri reports it: volatile does not
/// make an access atomic. Here every access to the data is a byte-wise atomic
/// operation on both sides, so the race is defined: a torn copy is possible
/// and is detected by the sequence check, and the copy is held as
/// `MaybeUninit<T>` until the check passes. Other differences:
///
/// - the `seqlock` crate serialises writers with a separate mutex; crossbeam
///   makes `seq` itself a spin lock (swap to 1). Here the CAS on `seq` is the
///   writer lock, so the type is just the counter and the data, `#[repr(C)]`,
///   which is what lets it live in memory shared between processes;
/// - crossbeam's lock table is shared by unrelated cells (by address), so two
///   hot cells can contend; a `SeqLock` has its own counter;
/// - a volatile read of a byte array compiles to one load per byte; the
///   crate's copy kernels move the data in wide, per-byte-atomic chunks.
///
/// # Across processes
///
/// [`SeqLock::from_bytes`] views a region of shared memory (an
/// [`AtomicBytes`], e.g. a `SharedMemory` mapping) as a `SeqLock<T>`, and
/// [`SeqLock::init_in`] initialises one there. Both take the region by
/// `&mut` (no other access to those bytes from this process while the lock
/// is in use) and need `T: bytemuck::Pod`: the other process may store any
/// bytes, and a `T` without padding never carries uninitialised bytes (our
/// stack) into memory the other process reads.
///
/// What a writer in another process, buggy or hostile, **can** do to a
/// reader:
///
/// - make it return any bit pattern of `T`, which is a valid `T` but may be
///   nonsense: validate what you read;
/// - make it return a **torn** value: the sequence check only works when the
///   writer follows the protocol. A writer that stores data without making
///   `seq` odd, or that puts `seq` back to an old value, passes the check with
///   a mix of bytes. The check is a consistency protocol between cooperating
///   writers, not a security boundary;
/// - starve it: keep `seq` odd (or change it all the time) and [`read`] spins
///   forever. Use [`try_read`], which returns at once, or [`read_timeout`],
///   which reports the stall as a [`Timeout`];
/// - block writers in this process the same way: [`write`] and [`update`]
///   wait for an even `seq` (sleeping with `std`, so they do not burn a
///   core; spinning without it). Use
///   [`try_write`] / [`try_update`], which return at once, or
///   [`write_timeout`] / [`update_timeout`]. After a writer died holding
///   the lock, [`SeqLock::init_in`] overwrites the value and resets the lock;
/// - set `seq` to any value: all arithmetic on it wraps, so nothing panics.
///
/// What it **cannot** do:
///
/// - cause undefined behaviour in the reader: every access is atomic, the
///   region's size and alignment are checked once, and every byte pattern is
///   a valid `T`;
/// - change a value after `read` returned it: the result is a private copy,
///   never re-read from the shared memory (no double fetch), so what you
///   validated is what you use;
/// - make [`try_read`], [`read_timeout`], [`try_write`] or [`write_timeout`]
///   wait on the lock beyond their bound. One caveat: the copy itself can
///   block where touching the memory can. Memory from
///   `SharedMemory::create` (a memfd) is ordinary RAM, but a page of a
///   mapped *file* is read in on the first touch, and if the file lives on
///   FUSE, NFS or a device a peer controls, that page fault can take as
///   long as the peer likes. No timeout can interrupt a page fault.
///
/// [`read`]: SeqLock::read
/// [`try_write`]: SeqLock::try_write
/// [`write_timeout`]: SeqLock::write_timeout
/// [`try_update`]: SeqLock::try_update
/// [`update_timeout`]: SeqLock::update_timeout
/// [`try_read`]: SeqLock::try_read
/// [`read_timeout`]: SeqLock::read_timeout
/// [`write`]: SeqLock::write
/// [`update`]: SeqLock::update
///
/// # Layout
///
/// `#[repr(C)]`: the sequence counter at offset 0, then the data at
/// [`DATA_OFFSET`](Self::DATA_OFFSET). The counter is a `u64`, so
/// `SeqLock` exists only on targets with 64-bit atomics. A narrower counter
/// would let a reader descheduled between its two sequence loads for exactly
/// a multiple of 2³¹ writes (about 20 seconds of back-to-back 10 ns writes)
/// accept a torn copy, which for a `T` with invalid bit patterns would be an
/// invalid value; with a `u64` it would take centuries.
///
/// # `Send` and `Sync`
///
/// `SeqLock<T>` is `Send` and `Sync` when `T: Send`. `T: Sync` is not needed:
/// readers never get a `&T` into the lock, only their own copy. Handing out
/// copies of a `T: NoUninit + Send` (so `Copy`) in other threads is what `T: Send` already
/// allows (copy it, then send the copy).
///
/// ```compile_fail,E0277
/// fn assert_sync<S: Sync>() {}
/// assert_sync::<bytewise::SeqLock<*const u8>>(); // raw pointers are not Send
/// ```
///
/// # Padding
///
/// `T: bytemuck::NoUninit`: no padding, so every byte the lock copies is
/// initialised, on every path (the portable one reads each byte through
/// `AtomicU8`, where an uninitialised byte would be undefined behaviour).
/// Integers, floats, arrays of them, `#[repr(C)]` structs without gaps
/// (derive `NoUninit` or `Pod`). A padded type does not compile:
///
/// ```compile_fail,E0277
/// let lock = bytewise::SeqLock::new((1u8, 2u16)); // one padding byte
/// ```
///
/// # Examples
///
/// ```
/// use bytewise::SeqLock;
/// use std::sync::Arc;
///
/// let position = Arc::new(SeqLock::new([0.0f64; 3]));
/// let writer = {
///     let position = Arc::clone(&position);
///     std::thread::spawn(move || {
///         for i in 1..=100 {
///             let x = i as f64;
///             position.write([x, 2.0 * x, 3.0 * x]);
///         }
///     })
/// };
/// for _ in 0..100 {
///     let [x, y, z] = position.read(); // never a mix of two writes
///     assert_eq!((y, z), (2.0 * x, 3.0 * x));
/// }
/// writer.join().unwrap();
/// assert_eq!(position.read(), [100.0, 200.0, 300.0]);
/// ```
#[repr(C)]
pub struct SeqLock<T> {
    seq: AtomicSeq,
    data: AtomicPerByte<T>,
}

impl<T> SeqLock<T> {
    /// `size_of::<SeqLock<T>>()`: the number of bytes [`from_bytes`] needs.
    ///
    /// [`from_bytes`]: SeqLock::from_bytes
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::SeqLock;
    /// assert_eq!(SeqLock::<[u64; 8]>::SIZE, 72); // an 8-byte counter, then the data
    /// ```
    pub const SIZE: usize = size_of::<Self>();

    /// `align_of::<SeqLock<T>>()`: the alignment [`from_bytes`] needs (at
    /// least the counter's).
    ///
    /// [`from_bytes`]: SeqLock::from_bytes
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::SeqLock;
    /// assert!(SeqLock::<[u8; 3]>::ALIGN >= 4);
    /// assert_eq!(SeqLock::<u128>::ALIGN, core::mem::align_of::<u128>().max(8));
    /// ```
    pub const ALIGN: usize = align_of::<Self>();

    /// The offset of the data from the start of the lock. Bytes before it
    /// hold the sequence counter (and padding up to `T`'s alignment).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::SeqLock;
    /// assert_eq!(SeqLock::<[u64; 8]>::DATA_OFFSET, 8);
    /// ```
    pub const DATA_OFFSET: usize = offset_of!(Self, data);
}

impl<T: NoUninit> SeqLock<T> {
    /// A lock holding `value`, with the sequence counter at 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::SeqLock;
    ///
    /// static CONFIG: SeqLock<[u32; 4]> = SeqLock::new([1, 2, 3, 4]);
    /// assert_eq!(CONFIG.read(), [1, 2, 3, 4]);
    /// ```
    #[inline]
    pub const fn new(value: T) -> Self {
        SeqLock {
            seq: AtomicSeq::new(0),
            data: AtomicPerByte::new(value),
        }
    }

    /// The reader's side of the protocol around one copy: an even counter
    /// before, `copy` (which must load with `Acquire`, so that it comes
    /// before the second counter load), the same counter after. `Ok` with
    /// the copy's result if it is consistent, else the sequence number that
    /// made it fail (odd, or different after the copy).
    #[inline(always)]
    fn checked<R>(&self, copy: impl FnOnce() -> R) -> Result<R, Seq> {
        let s1 = self.seq.load(Acquire);
        if s1 & 1 != 0 {
            return Err(s1);
        }
        let result = copy();
        let s2 = self.seq.load(Relaxed);
        if s1 != s2 {
            return Err(s2);
        }
        Ok(result)
    }

    /// One read attempt into `out`: `Ok` if `out` now holds a consistent
    /// copy (see `checked`).
    ///
    /// Copying into the caller's `MaybeUninit` (rather than returning a `T`)
    /// lets `read` of a large `T` return that very buffer, so the copy lands
    /// in the return slot instead of being copied a second time.
    #[inline(always)]
    fn attempt_into(&self, out: &mut MaybeUninit<T>) -> Result<(), Seq> {
        self.checked(|| self.data.load_to(out, Acquire))
    }

    /// One read attempt: the value, or the sequence number that made it fail.
    ///
    /// The copy is returned by value (`AtomicPerByte::load`), which on
    /// x86_64 builds values of up to 64 bytes in registers: through a
    /// buffer, as `attempt_into` does, a `[u64; 8]` read copied the value
    /// twice.
    #[inline]
    fn attempt(&self) -> Result<T, Seq> {
        let copy = self.checked(|| self.data.load(Acquire))?;
        // SAFETY: the check passed; see `assume_consistent`.
        Ok(unsafe { Self::assume_consistent(copy) })
    }

    /// Turns a copy that passed the sequence check into a `T`.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    ///
    /// - `copy` was filled by a copy that `checked` on `self` returned `Ok` for.
    #[inline(always)]
    unsafe fn assume_consistent(copy: MaybeUninit<T>) -> T {
        // Writers in other processes reach a `SeqLock` only through
        // `from_bytes`/`init_in`, which require `T: Pod`, so any bytes they
        // leave are a valid `T` as well. In this process every write stores
        // a whole `T: NoUninit`, so the bytes of one write are initialised
        // and valid.
        // SAFETY: the check passed (`s1` even, unchanged after the copy), so
        // no writer overlapped the copy (type docs) and every byte comes from
        // the one complete `T` that published `s1`, or from `new`.
        unsafe { copy.assume_init() }
    }

    /// A consistent snapshot of the value, waiting while a write runs.
    ///
    /// Retries while the copy overlaps a write, backing off with
    /// `spin_loop` and then (with `std`) `yield_now`. Never returns a value
    /// built from bytes of two different writes of this process. It does not
    /// return while a writer holds the lock: if that writer may be stuck or
    /// dead (another process), use [`try_read`](Self::try_read) or
    /// [`read_timeout`](Self::read_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = bytewise::SeqLock::new([1u32, 2]);
    /// assert_eq!(lock.read(), [1, 2]);
    /// ```
    #[inline]
    pub fn read(&self) -> T {
        if size_of::<T>() > VALUE_MAX {
            let mut copy = MaybeUninit::<T>::uninit();
            if self.attempt_into(&mut copy).is_err() {
                self.read_slow(&mut copy);
            }
            // SAFETY: `attempt_into` or `read_slow` filled `copy` and the
            // check passed.
            return unsafe { Self::assume_consistent(copy) };
        }
        // Small values: one exit, from the attempt itself, so that the value
        // goes from the copy's registers (see `attempt`) straight to the
        // caller. With a second exit from a slow path the two values were
        // merged through a stack slot, one more copy per read.
        let mut step = 0;
        loop {
            match self.attempt() {
                Ok(value) => return value,
                Err(_) => step = self.wait_even(step),
            }
        }
    }

    /// After a failed read attempt: waits until the counter is even (no
    /// write running), backing off from `step`; returns the next step.
    #[cold]
    #[inline(never)]
    fn wait_even(&self, step: u32) -> u32 {
        let mut backoff = Backoff { step };
        // Poll the counter (plain loads, which do not disturb the writer's
        // line more than the read itself), so that the next attempt starts
        // as soon as the write is over instead of after a blind back-off.
        while self.seq.load(Relaxed) & 1 != 0 {
            backoff.snooze();
        }
        backoff.step
    }

    /// Retries until an attempt into `out` passes the check, waiting for
    /// an even counter before each (`wait_even`).
    #[cold]
    #[inline(never)]
    fn read_slow(&self, out: &mut MaybeUninit<T>) {
        let mut step = 0;
        loop {
            step = self.wait_even(step);
            if self.attempt_into(out).is_ok() {
                return;
            }
        }
    }

    /// One read attempt: the value, or `None` if a write was running or
    /// overlapped the copy. Never waits for the lock, whatever writers do.
    ///
    /// It still takes as long as touching the memory takes: for memory from
    /// `SharedMemory::create` (a memfd) that is a copy, but a page of a
    /// mapped file is read in by the first access, and a file on FUSE, NFS
    /// or a device a peer controls can make that page fault last as long as
    /// the peer likes.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = bytewise::SeqLock::new(7u64);
    /// assert_eq!(lock.try_read(), Some(7)); // no writer: always succeeds
    /// ```
    #[inline]
    pub fn try_read(&self) -> Option<T> {
        self.attempt().ok()
    }

    /// Like [`read`](Self::read), but gives up after `timeout`.
    ///
    /// The first attempt is made before the clock is read, so a `timeout` of
    /// zero still reads a quiet lock. While it waits it spins briefly, then
    /// yields, then sleeps with growing intervals (up to 1 ms), so a stalled
    /// writer does not cost a core. On failure, [`Timeout`] says whether a
    /// writer held the lock without progress (`Stalled`: it may be stuck,
    /// stopped or killed) or writers kept the value changing (`Contended`).
    ///
    /// # Errors
    ///
    /// [`Timeout`] if no attempt succeeded within `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = bytewise::SeqLock::new([1u8; 16]);
    /// assert_eq!(lock.read_timeout(Duration::from_millis(10)), Ok([1; 16]));
    /// ```
    #[cfg(feature = "std")]
    pub fn read_timeout(&self, timeout: Duration) -> Result<T, Timeout> {
        Deadline::retry(timeout, || self.attempt())
    }

    /// One attempt at the writer lock: moves `seq` from an even `s` to
    /// `s + 1` and returns `s`, or returns the value of `seq` that stopped it
    /// (odd, or changed under the CAS).
    #[inline]
    fn lock_once(&self) -> Result<Seq, Seq> {
        let s = self.seq.load(Relaxed);
        if s & 1 != 0 {
            return Err(s);
        }
        // Acquire: see the type docs (previous writer's data).
        match self
            .seq
            .compare_exchange(s, s.wrapping_add(1), Acquire, Relaxed)
        {
            Ok(_) => Ok(s),
            Err(current) => Err(current),
        }
    }

    /// Takes the writer lock: moves `seq` from an even `s` to `s + 1` and
    /// returns `s`.
    #[inline]
    fn lock(&self) -> Seq {
        let mut s = self.seq.load(Relaxed);
        let mut backoff = Backoff::new();
        loop {
            if s & 1 == 0 {
                // Acquire: see the type docs (previous writer's data).
                match self
                    .seq
                    .compare_exchange_weak(s, s.wrapping_add(1), Acquire, Relaxed)
                {
                    Ok(_) => return s,
                    Err(current) => s = current,
                }
                if s & 1 == 0 {
                    continue;
                }
            }
            backoff.snooze_sleepy();
            s = self.seq.load(Relaxed);
        }
    }

    /// One attempt at the writer lock, as an error for `try_write`.
    #[inline]
    fn try_lock(&self) -> Result<Seq, Timeout> {
        self.lock_once().map_err(|seq| {
            if seq & 1 != 0 {
                Timeout::Stalled {
                    seq: widen(seq),
                    unchanged_for: Duration::ZERO,
                }
            } else {
                Timeout::Contended { attempts: 1 }
            }
        })
    }

    /// The writer lock, or [`Timeout`] after `timeout`.
    #[cfg(feature = "std")]
    fn lock_timeout(&self, timeout: Duration) -> Result<Seq, Timeout> {
        Deadline::retry(timeout, || self.lock_once())
    }

    /// Replaces the value. Concurrent writers are serialised: each write is
    /// complete before the next one starts, and readers see either all of it
    /// or none of it.
    ///
    /// Waits while another writer holds the lock, spinning briefly, then
    /// yielding, then sleeping with growing intervals (without the `std`
    /// feature there is no thread to yield or sleep, and it only spins). A
    /// writer in another
    /// process that died holding the lock makes it wait forever: where that
    /// can happen, use [`try_write`](Self::try_write) or
    /// [`write_timeout`](Self::write_timeout) (see *Across processes* in the
    /// type docs).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = bytewise::SeqLock::new([0u16; 4]);
    /// lock.write([1, 2, 3, 4]);
    /// assert_eq!(lock.read(), [1, 2, 3, 4]);
    /// ```
    #[inline]
    pub fn write(&self, value: T) {
        let Ok(()) = self.write_with(value, || Ok::<_, core::convert::Infallible>(self.lock()));
    }

    /// One attempt to replace the value: returns at once, whatever other
    /// writers do.
    ///
    /// # Errors
    ///
    /// Nothing is written if the attempt found the lock held: held when it
    /// looked, or taken by another writer between that look and its own
    /// compare-exchange ([`Timeout::Stalled`] with `unchanged_for` zero: one
    /// look cannot tell a stuck writer from a busy one); or if another
    /// writer took and released the lock in that window
    /// ([`Timeout::Contended`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, SeqLock, Timeout};
    ///
    /// let lock = SeqLock::new(1u32);
    /// assert_eq!(lock.try_write(2), Ok(()));
    /// assert_eq!(lock.read(), 2);
    ///
    /// // A counter left odd, as by a peer that died in the middle of a write.
    /// let mut backing = [3u64, 0];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let stuck = SeqLock::<u64>::from_bytes(region)?;
    /// assert!(matches!(stuck.try_write(5), Err(Timeout::Stalled { seq: 3, .. })));
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    #[inline]
    pub fn try_write(&self, value: T) -> Result<(), Timeout> {
        self.write_with(value, || self.try_lock())
    }

    /// Like [`write`](Self::write), but gives up after `timeout`.
    ///
    /// One attempt is made before the clock is read. While it waits it spins
    /// briefly, yields, then sleeps with growing intervals (up to 1 ms), so
    /// a writer stalled in another process does not cost this one a core.
    ///
    /// # Errors
    ///
    /// [`Timeout`] if the lock could not be taken within `timeout`:
    /// `Stalled` if at the deadline the counter was odd and had not moved
    /// for at least half of the wait (a writer is stuck, stopped or dead, or
    /// slower than the timeout), `Contended` otherwise (other writers kept
    /// taking the lock). Nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = bytewise::SeqLock::new([0u8; 8]);
    /// lock.write_timeout(*b"deadline", Duration::from_millis(10))?;
    /// assert_eq!(&lock.read(), b"deadline");
    /// # Ok::<(), bytewise::Timeout>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn write_timeout(&self, value: T, timeout: Duration) -> Result<(), Timeout> {
        self.write_with(value, || self.lock_timeout(timeout))
    }

    /// Takes the lock with `lock`, stores `value` and releases the lock.
    #[inline(always)]
    fn write_with<E>(&self, value: T, lock: impl FnOnce() -> Result<Seq, E>) -> Result<(), E> {
        // The byte-wise store copies the value from memory, so the compiler
        // writes it out first, and the copy's loads must then be served from
        // the stores that just wrote it. For values up to 64 bytes on x86_64
        // (`imp::value_store_covers`), `AtomicPerByte::store` loads in pieces
        // that the CPU forwards from those stores at once, so the value can
        // be built after the CAS. Longer values take the wide
        // kernels, whose loads would wait for the stores to reach the cache
        // while the counter is odd; those are put in memory before the lock
        // instead. With a writer that writes back to back, time spent odd is
        // time readers cannot read (see *Progress*).
        if crate::imp::value_store_covers(size_of::<T>()) {
            let s = lock()?;
            // `Release` here is `fence(Release)` and then the byte-wise copy.
            self.data.store(value, Release);
            self.seq.store(s.wrapping_add(2), Release);
        } else {
            let staged = value;
            core::hint::black_box(&staged);
            let s = lock()?;
            // As above.
            self.data.store_from(&staged, Release);
            self.seq.store(s.wrapping_add(2), Release);
        }
        Ok(())
    }

    /// Replaces the value with `f(old)` under the writer lock, and returns
    /// the new value.
    ///
    /// No other write can come between reading `old` and storing the result,
    /// so concurrent `update`s never lose each other's changes. Readers wait
    /// (or retry) while `f` runs, so keep it short. If `f` panics, the value
    /// is left unchanged and the lock is released. Waits for the lock as
    /// [`write`](Self::write) does; see [`try_update`](Self::try_update) and
    /// [`update_timeout`](Self::update_timeout) for bounded waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let counter = bytewise::SeqLock::new([0u64; 2]);
    /// let new = counter.update(|[hits, misses]| [hits + 1, misses]);
    /// assert_eq!(new, [1, 0]);
    /// assert_eq!(counter.read(), [1, 0]);
    /// ```
    pub fn update(&self, f: impl FnOnce(T) -> T) -> T {
        let Ok(new) = self.update_with(f, || Ok::<_, core::convert::Infallible>(self.lock()));
        new
    }

    /// [`update`](Self::update) with one attempt at the lock: returns at
    /// once, whatever other writers do.
    ///
    /// # Errors
    ///
    /// As for [`try_write`](Self::try_write); `f` is not called then.
    ///
    /// # Examples
    ///
    /// ```
    /// let counter = bytewise::SeqLock::new(1u64);
    /// assert_eq!(counter.try_update(|n| n + 1), Ok(2));
    /// ```
    pub fn try_update(&self, f: impl FnOnce(T) -> T) -> Result<T, Timeout> {
        self.update_with(f, || self.try_lock())
    }

    /// [`update`](Self::update) that gives up waiting for the lock after
    /// `timeout`, as [`write_timeout`](Self::write_timeout) does.
    ///
    /// # Errors
    ///
    /// As for [`write_timeout`](Self::write_timeout); `f` is not called then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let counter = bytewise::SeqLock::new(1u64);
    /// assert_eq!(counter.update_timeout(|n| n * 10, Duration::from_millis(10)), Ok(10));
    /// ```
    #[cfg(feature = "std")]
    pub fn update_timeout(&self, f: impl FnOnce(T) -> T, timeout: Duration) -> Result<T, Timeout> {
        self.update_with(f, || self.lock_timeout(timeout))
    }

    /// Takes the lock with `lock`, stores `f(old)` and releases the lock.
    #[inline(always)]
    fn update_with<E>(
        &self,
        f: impl FnOnce(T) -> T,
        lock: impl FnOnce() -> Result<Seq, E>,
    ) -> Result<T, E> {
        /// Puts `seq` back to its value before the lock if `f` unwinds; the
        /// data is untouched then, so readers that saw that value stay right.
        struct Abort<'a> {
            seq: &'a AtomicSeq,
            before: Seq,
        }
        impl Drop for Abort<'_> {
            fn drop(&mut self) {
                self.seq.store(self.before, Release);
            }
        }

        let s = lock()?;
        let abort = Abort {
            seq: &self.seq,
            before: s,
        };
        // Relaxed is enough: the CAS in `lock` acquired the previous writer's
        // data, and no one else writes it while we hold the lock.
        let old = self.data.load(Relaxed);
        // SAFETY: we hold the writer lock, so the bytes are exactly what the
        // last writer (or `new`) stored, a complete `T: NoUninit`; writers in
        // other processes are limited to `T: Pod` (see `assume_consistent`).
        let old = unsafe { old.assume_init() };
        let new = f(old);
        core::mem::forget(abort);
        self.data.store(new, Release);
        self.seq.store(s.wrapping_add(2), Release);
        Ok(new)
    }

    /// The value, through an exclusive borrow: no atomics, no waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = bytewise::SeqLock::new(1u32);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.read(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: the returned `&mut T` can only write whole `T: NoUninit`
        // values (no padding), so every byte stays initialised.
        let data = unsafe { self.data.get_mut_uninit() };
        // A lock in another process's memory is only reachable through
        // `&SeqLock` (from `from_bytes`), never through `&mut self`.
        // SAFETY: with no write running (`&mut self` excludes them) the data is
        // a complete `T`: `new` and every write store one, and an unwinding
        // `update` leaves the old one.
        unsafe { data.assume_init_mut() }
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = bytewise::SeqLock::new(*b"done");
    /// assert_eq!(lock.into_inner(), *b"done");
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        // SAFETY: as in `get_mut`; owning `self` excludes running writes.
        unsafe { self.data.into_inner().assume_init() }
    }
}

impl<T: Pod> SeqLock<T> {
    /// Views the first [`SIZE`](Self::SIZE) bytes of `bytes` as a `SeqLock<T>`,
    /// typically one that lives in memory shared with other processes.
    ///
    /// Nothing is read or written. If the region may hold garbage (a fresh
    /// file, a lock whose writer died), set it up with
    /// [`init_in`](Self::init_in) instead. See the type docs for what another
    /// process that writes the region can and cannot do to a reader.
    ///
    /// # Why `&mut` and `Pod`
    ///
    /// - **`&mut AtomicBytes`:** the lock's counter is an 8-byte (or 4-byte)
    ///   atomic, and its padding bytes are outside any atomic. Within this
    ///   process nothing else may touch those bytes while the lock is in use:
    ///   a 1-byte access racing with the counter is a mixed-size race, and a
    ///   write to the padding under a `&SeqLock` is undefined behaviour. The
    ///   borrow makes both impossible: the region is unusable in this process
    ///   until the returned lock is dropped. To keep using the rest of a
    ///   region, carve it first with
    ///   [`AtomicBytes::split_at_mut`]. Other processes are outside this
    ///   rule, as they are for all shared memory.
    /// - **`T: Pod`:** whoever else writes the region may store any bytes, so
    ///   every byte pattern must be a valid `T`; and `T` must have no padding,
    ///   so that a write never copies uninitialised bytes (stack contents of
    ///   the writer) into memory another process reads.
    ///
    /// A region can be carved only once at a time, and a type with padding
    /// does not compile:
    ///
    /// ```compile_fail,E0499
    /// use bytewise::{AtomicBytes, SeqLock};
    /// let mut backing = [0u64; 4];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let a = SeqLock::<u64>::from_bytes(region).unwrap();
    /// // A second lock over the same bytes (here at offset 8, overlapping
    /// // `a`'s data with its counter) would race an 8-byte counter with
    /// // byte-wise data accesses.
    /// let b = SeqLock::<u64>::from_bytes(region.get_mut(8..).unwrap()).unwrap();
    /// a.write(1);
    /// b.write(2);
    /// ```
    ///
    /// ```compile_fail,E0502
    /// use bytewise::{AtomicBytes, SeqLock};
    /// let mut backing = [0u64; 2];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let lock = SeqLock::<u64>::from_bytes(region).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| lock.write(1));
    ///     // 1-byte loads of the counter racing with its 8-byte store.
    ///     s.spawn(|| region.read_at(0, &mut [0; 8]).unwrap());
    /// });
    /// ```
    ///
    /// ```compile_fail,E0502
    /// use bytewise::{AtomicBytes, SeqLock};
    /// let mut backing = [0u64; 2];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let lock = SeqLock::<u64>::from_bytes(region).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| lock.write(1));
    ///     s.spawn(|| format!("{region:?}")); // `Debug` reads the bytes too
    /// });
    /// ```
    ///
    /// ```compile_fail,E0502
    /// use bytewise::{AtomicBytes, SeqLock};
    /// let mut backing = [0u64; 2];
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let lock = SeqLock::<u8>::from_bytes(region).unwrap();
    /// lock.read();
    /// // 1-byte write to the lock's padding (bytes 9 to 16) while `lock` lives.
    /// region.write_at(12, &[0xAA]).unwrap();
    /// lock.read();
    /// ```
    ///
    /// ```compile_fail,E0277
    /// #[derive(Clone, Copy, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Padded { kind: u8, value: u64 } // 7 padding bytes: cannot be `Pod`
    /// unsafe impl bytemuck::AnyBitPattern for Padded {} // allowed: padding reads as any byte
    ///
    /// let mut backing = [0u64; 4];
    /// let region = bytewise::AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// let lock: &bytewise::SeqLock<Padded> = bytewise::SeqLock::from_bytes(region).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// - [`Error::Misaligned`] if `bytes` does not start at a multiple of
    ///   [`ALIGN`](Self::ALIGN);
    /// - [`Error::OutOfBounds`] (`offset` 0, `len` [`SIZE`](Self::SIZE)) if
    ///   `bytes` is shorter than [`SIZE`](Self::SIZE).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, Error, SeqLock};
    ///
    /// let mut backing = [0u64; 16]; // 8-aligned, zeroed: an unlocked [u64; 8] lock
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    ///
    /// let lock = SeqLock::<[u64; 8]>::from_bytes(region)?;
    /// lock.write([5; 8]);
    /// let again = SeqLock::<[u64; 8]>::from_bytes(region)?; // e.g. in another process
    /// assert_eq!(again.read(), [5; 8]);
    ///
    /// assert!(matches!(SeqLock::<[u64; 8]>::from_bytes(region.get_mut(1..).unwrap()),
    ///                  Err(Error::Misaligned { align: 8, .. })));
    /// assert!(matches!(SeqLock::<[u64; 8]>::from_bytes(region.get_mut(..64).unwrap()),
    ///                  Err(Error::OutOfBounds { offset: 0, len: 72, size: 64 })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn from_bytes(bytes: &mut AtomicBytes) -> Result<&Self, Error> {
        let addr = bytes.as_ptr().addr();
        if addr % Self::ALIGN != 0 {
            return Err(Error::Misaligned {
                addr,
                align: Self::ALIGN,
            });
        }
        Error::check_range(0, Self::SIZE, bytes.len())?;
        let ptr = (bytes as *mut AtomicBytes).cast::<Self>();
        // Every byte of `AtomicBytes` is an initialised `AtomicU8` inside an
        // `UnsafeCell`. `Self` touches the counter only through `AtomicSeq`
        // and the data only through `AtomicPerByte`, whose bytes must be
        // initialised (they are) and a valid `T` when a read passes the
        // check (any bytes are: `T: Pod`). The padding bytes are never
        // accessed. The exclusive borrow, held for the returned lifetime,
        // keeps every other access of this process away (see above).
        // SAFETY: `ptr` comes from a `&mut` to at least `SIZE` bytes (checked
        // above), is aligned for `Self` (checked above) and valid for the
        // returned lifetime; the region is interior-mutable where `Self` is,
        // and any initialised bytes are a valid `Self` (see above).
        Ok(unsafe { &*ptr })
    }

    /// Like [`from_bytes`](Self::from_bytes), and stores `value` as a write
    /// would, whatever the region held before.
    ///
    /// This is how a region is set up before it is shared, and how a lock is
    /// recovered after its writer died holding it: the counter moves on to
    /// the next even value (it never goes back, so readers of the old value
    /// retry). Unlike [`write`](Self::write) it does not wait for the lock,
    /// so it must not run while another process may be writing: the two
    /// writes could then mix (still no undefined behaviour, as every byte
    /// pattern is a valid `T`).
    ///
    /// # Errors
    ///
    /// As for [`from_bytes`](Self::from_bytes); nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicBytes, SeqLock};
    ///
    /// let mut backing = [u64::MAX; 4]; // garbage: the counter is odd ("locked")
    /// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    /// assert_eq!(SeqLock::<[u32; 2]>::from_bytes(region)?.try_read(), None);
    ///
    /// let lock = SeqLock::init_in(region, [7u32, 8])?;
    /// assert_eq!(lock.try_read(), Some([7, 8]));
    /// # Ok::<(), bytewise::Error>(())
    /// ```
    pub fn init_in(bytes: &mut AtomicBytes, value: T) -> Result<&Self, Error> {
        let lock = Self::from_bytes(bytes)?;
        let odd = lock.seq.load(Relaxed) | 1;
        lock.seq.store(odd, Relaxed);
        lock.data.store(value, Release);
        lock.seq.store(odd.wrapping_add(1), Release);
        Ok(lock)
    }
}

impl<T: NoUninit + fmt::Debug> fmt::Debug for SeqLock<T> {
    /// Shows the value from one [`try_read`](SeqLock::try_read), or
    /// `<locked>` if a write was running; it never waits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SeqLock");
        match self.try_read() {
            Some(value) => d.field("value", &value),
            None => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: NoUninit + Default> Default for SeqLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: NoUninit> From<T> for SeqLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

/// Why a bounded [`SeqLock`] operation gave up: [`read_timeout`],
/// [`try_write`], [`write_timeout`], [`try_update`], [`update_timeout`].
///
/// [`read_timeout`]: SeqLock::read_timeout
/// [`try_write`]: SeqLock::try_write
/// [`write_timeout`]: SeqLock::write_timeout
/// [`try_update`]: SeqLock::try_update
/// [`update_timeout`]: SeqLock::update_timeout
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicBytes, SeqLock, Timeout};
/// use std::time::Duration;
///
/// // A counter left odd, as by a writer that died in the middle of a write.
/// let mut backing = [1u64, 0];
/// let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
/// let lock = SeqLock::<u64>::from_bytes(region)?;
/// match lock.read_timeout(Duration::from_millis(5)) {
///     Err(Timeout::Stalled { seq, .. }) => assert_eq!(seq, 1),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(lock.write_timeout(2, Duration::from_millis(5)),
///                  Err(Timeout::Stalled { seq: 1, .. })));
/// # Ok::<(), bytewise::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timeout {
    /// At the deadline a writer held the lock (the counter was odd), and the
    /// counter had not moved for at least half of the wait: the writer is
    /// stuck, stopped or dead, or takes longer than the timeout. A single
    /// attempt (`try_write`, `try_update`) reports this, with `unchanged_for`
    /// zero, whenever it finds the lock held.
    Stalled {
        /// The odd sequence number the writer left.
        seq: u64,
        /// How long the counter had kept that value, as far as we saw.
        unchanged_for: Duration,
    },
    /// Otherwise: the counter kept moving, so writers are making progress,
    /// but every attempt overlapped a write (readers) or found the lock taken
    /// by another writer (writers).
    Contended {
        /// How many attempts were made.
        attempts: u64,
    },
}

/// The former name of [`Timeout`], from when only readers could time out.
pub type ReadTimeout = Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Timeout::Stalled { seq, unchanged_for } => write!(
                f,
                "seqlock timed out: a writer holds the lock (sequence {seq}) without progress for {unchanged_for:?}"
            ),
            Timeout::Contended { attempts } => {
                write!(
                    f,
                    "seqlock timed out: {attempts} attempts all overlapped another write"
                )
            }
        }
    }
}

impl core::error::Error for Timeout {}

/// A bounded wait: the clock, the counter values seen, and the back-off.
#[cfg(feature = "std")]
struct Deadline {
    start: std::time::Instant,
    timeout: Duration,
    /// The last counter value seen, and when it was first seen.
    last: Seq,
    since: std::time::Instant,
    attempts: u64,
    backoff: Backoff,
}

#[cfg(feature = "std")]
impl Deadline {
    /// Runs `attempt` until it succeeds or `timeout` has passed. The first
    /// attempt runs before the clock is read, so a zero timeout still makes
    /// one; a failed attempt returns the counter value that stopped it.
    fn retry<R>(
        timeout: Duration,
        mut attempt: impl FnMut() -> Result<R, Seq>,
    ) -> Result<R, Timeout> {
        let first = match attempt() {
            Ok(r) => return Ok(r),
            Err(seq) => seq,
        };
        let mut wait = Deadline::new(timeout, first);
        loop {
            wait.failed_or_expired()?;
            match attempt() {
                Ok(r) => return Ok(r),
                Err(seq) => wait.saw(seq),
            }
        }
    }

    /// Starts the clock after a first attempt that saw `first`.
    fn new(timeout: Duration, first: Seq) -> Self {
        let start = std::time::Instant::now();
        Deadline {
            start,
            timeout,
            last: first,
            since: start,
            attempts: 1,
            backoff: Backoff::new(),
        }
    }

    /// Records the counter value a failed attempt saw.
    #[inline]
    fn saw(&mut self, seq: Seq) {
        if seq != self.last {
            self.last = seq;
            self.since = std::time::Instant::now();
        }
    }

    /// After a failed attempt: the error if the time is up, else waits
    /// (spins, yields, then sleeps) before the next attempt.
    fn failed_or_expired(&mut self) -> Result<(), Timeout> {
        let now = std::time::Instant::now();
        let elapsed = now.duration_since(self.start);
        if elapsed >= self.timeout {
            let unchanged_for = now.duration_since(self.since);
            return Err(if self.last & 1 != 0 && unchanged_for >= elapsed / 2 {
                Timeout::Stalled {
                    seq: widen(self.last),
                    unchanged_for,
                }
            } else {
                Timeout::Contended {
                    attempts: self.attempts,
                }
            });
        }
        self.backoff.snooze_sleepy();
        self.attempts += 1;
        Ok(())
    }
}

/// The sequence number as a `u64`, whatever its width on this target.
#[inline]
fn widen(seq: Seq) -> u64 {
    seq
}

/// Back-off for readers and writers that found a write running: the first
/// `SPINS` calls are one `spin_loop` hint each (so that a poll of the
/// counter follows every hint and a short write is noticed at once); after
/// that each call yields the thread with `std` (so that a descheduled writer
/// on a busy machine gets the CPU back), or spins `SPINS` hints without it.
///
/// `SPINS` is small because a reader that polls an odd counter takes the
/// counter's cache line away from the writer, and the writer then needs it
/// back to finish: polling slows down the very write it waits for. With a
/// writer that writes back to back, `[u64; 8]`, 8 runs of `cargo bench
/// --bench seqlock` each (medians; every run swings several-fold): 64 polls
/// before yielding gave readers 0.78x the `seqlock` crate's reads per second
/// and the writer 0.23x its writes; 16 polls 0.92x and 0.35x; 4 polls 0.66x
/// and 0.96x; yielding at once 0.32x and 1.16x. With 4 the writer keeps the
/// `seqlock` crate's pace and readers lose little against the noise. A
/// write of a small value holds the counter odd for about 5 ns, well inside
/// 4 polls, so an uncontended reader still never yields.
/// Up to this size a `SeqLock` read returns the copy by value (built in
/// registers on x86_64, see `imp::load_value`); larger values are copied
/// into their final buffer once, as a by-value copy of them would be a
/// second `memcpy` (a `[u8; 256]` read measured 22.7-24.4 ns that way
/// against 12.1 ns).
const VALUE_MAX: usize = 64;

struct Backoff {
    step: u32,
}

impl Backoff {
    const SPINS: u32 = 4;

    #[inline]
    fn new() -> Self {
        Backoff { step: 0 }
    }

    /// Yields before a sleepy back-off starts to sleep.
    #[cfg(feature = "std")]
    const YIELDS: u32 = 16;
    /// The first sleep of a sleepy back-off; each later one doubles, up to
    /// [`MAX_SLEEP`](Self::MAX_SLEEP).
    #[cfg(feature = "std")]
    const FIRST_SLEEP: Duration = Duration::from_micros(10);
    #[cfg(feature = "std")]
    const MAX_SLEEP: Duration = Duration::from_millis(1);

    #[inline]
    fn snooze(&mut self) {
        if self.step < Self::SPINS {
            core::hint::spin_loop();
            self.step += 1;
        } else {
            #[cfg(feature = "std")]
            std::thread::yield_now();
            #[cfg(not(feature = "std"))]
            for _ in 0..Self::SPINS {
                core::hint::spin_loop();
            }
        }
    }

    /// As [`snooze`](Self::snooze), but after `YIELDS` yields it sleeps,
    /// doubling the sleep each time up to 1 ms. For writers waiting for the
    /// lock and for bounded waits: a writer that finds the counter odd for
    /// that long is waiting for a writer that is descheduled, stopped or
    /// dead (a write holds the lock for nanoseconds), and yielding in a
    /// loop would burn a core (`sched_yield` returns at once on an idle
    /// CPU).
    #[inline]
    fn snooze_sleepy(&mut self) {
        #[cfg(feature = "std")]
        {
            if self.step >= Self::SPINS + Self::YIELDS {
                let doublings = (self.step - Self::SPINS - Self::YIELDS).min(7);
                let sleep = Self::FIRST_SLEEP
                    .saturating_mul(1 << doublings)
                    .min(Self::MAX_SLEEP);
                std::thread::sleep(sleep);
                self.step = self.step.saturating_add(1);
                return;
            }
            if self.step >= Self::SPINS {
                std::thread::yield_now();
                self.step += 1;
                return;
            }
        }
        self.snooze();
    }
}
