//! A single-producer, single-consumer ring of fixed-size messages in shared
//! memory, with native `AtomicU32` head and tail indices carved from the
//! region (`examples/ring/main.rs` runs it across two processes; the tests
//! run it under Miri with two threads).

use bytewise::{AtomicBytes, Error, Ordering};
use core::sync::atomic::AtomicU32;

/// Bytes per message.
pub(crate) const SLOT: usize = 64;

/// The ring: `head` (next slot to write, owned by the producer), `tail`
/// (next slot to read, owned by the consumer), each on its own cache line,
/// then a power-of-two number of slots. Both indices count messages and wrap
/// at 2³², so `head - tail` is the number of full slots.
pub(crate) struct Ring<'a> {
    head: &'a AtomicU32,
    tail: &'a AtomicU32,
    slots: &'a AtomicBytes,
    mask: u32,
}

impl<'a> Ring<'a> {
    /// Carves a ring out of `region`, which this process then reaches only
    /// through the ring. The peer carves its own mapping the same way.
    pub(crate) fn new(region: &'a mut AtomicBytes) -> Result<Self, Error> {
        let size = region.len();
        let (head, rest) = region.split_at_mut(64)?;
        let (tail, slots) = rest.split_at_mut(64)?;
        let n = (slots.len() / SLOT).min(1 << 16);
        if n == 0 {
            return Err(Error::OutOfBounds {
                offset: 128,
                len: SLOT,
                size,
            });
        }
        let n = 1 << n.ilog2(); // a power of two, so indices may wrap
        Ok(Ring {
            head: head.as_atomic_u32()?,
            tail: tail.as_atomic_u32()?,
            slots: slots.split_at(n * SLOT)?.0,
            mask: n as u32 - 1,
        })
    }

    /// Producer: appends `msg`, or returns `false` if the ring is full.
    pub(crate) fn try_push(&self, msg: &[u8; SLOT]) -> bool {
        let head = self.head.load(Ordering::Relaxed); // ours alone
        // Acquire: the consumer's reads of the slot we reuse are done.
        let tail = self.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail) > self.mask {
            return false; // full (or a peer that broke the ring: we wait)
        }
        let at = (head & self.mask) as usize * SLOT;
        self.slots.write_at(at, msg).expect("slot in bounds");
        // Release: the message bytes before the new head.
        self.head.store(head.wrapping_add(1), Ordering::Release);
        true
    }

    /// Consumer: takes the oldest message into `out`, or returns `false` if
    /// the ring is empty. The copy is private: validate it and use it.
    pub(crate) fn try_pop(&self, out: &mut [u8; SLOT]) -> bool {
        let tail = self.tail.load(Ordering::Relaxed); // ours alone
        // Acquire: the producer's writes of the message are visible.
        let head = self.head.load(Ordering::Acquire);
        if head == tail || head.wrapping_sub(tail) > self.mask + 1 {
            return false; // empty (or a peer that broke the ring)
        }
        let at = (tail & self.mask) as usize * SLOT;
        self.slots.read_at(at, out).expect("slot in bounds");
        // Release: we are done reading the slot before the producer reuses it.
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        true
    }
}

/// Message `i`: its number, then bytes derived from it, so that a mixed or
/// out-of-order message is detected.
pub(crate) fn message(i: u64) -> [u8; SLOT] {
    let mut m = [0u8; SLOT];
    m[..8].copy_from_slice(&i.to_le_bytes());
    for (k, b) in m[8..].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(k as u8);
    }
    m
}
