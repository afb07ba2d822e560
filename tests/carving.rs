//! A region stays usable after a typed view carved from it is gone.
//!
//! Carving (`split_at_mut`, `as_atomic_u32`/`as_atomic_u64`,
//! `SeqLock::from_bytes`) takes the region by `&mut`, so nothing else in
//! this process touches those bytes while the view lives. Once the borrow
//! ends (and the threads that used the view are joined), the same bytes are
//! accessed byte-wise again or carved another way. Rust allows that:
//! mixed-size atomic accesses are undefined only when they race, and the
//! join orders them (`core::sync::atomic`, "mixed-size accesses"). These
//! tests run each such sequence under Miri, Stacked and Tree Borrows
//! (`ci/miri.sh`).
//!
//! Miri's weak memory emulation crashes (an internal compiler error, "cannot
//! have partially overlapping store buffer when previous write was atomic")
//! when a byte-wise store follows a wider atomic store that another thread
//! made, however well synchronised; the tests marked `ignore` under Miri
//! are that case, and `ci/miri.sh` runs them with
//! `-Zmiri-disable-weak-memory-emulation` (the race detector and the
//! aliasing models still run).

use core::sync::atomic::AtomicU8;
use std::thread;

use bytewise::{AtomicBytes, Ordering, ReadOnlyBytes, SeqLock};

/// A lock carved from the head of a region, raced by readers, a writer and
/// `Debug` while the tail is written; then the whole region, the lock's
/// padding included, is written and read byte-wise by two threads, and the
/// lock is carved again. The padding of a `SeqLock<u8>` (bytes 9 to 16) is
/// frozen only while a `&SeqLock` lives.
#[test]
fn seqlock_carved_again_after_bytewise_use() {
    let mut backing = [0u64; 4];
    let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    for round in 0..3u8 {
        {
            let (head, tail) = region.split_at_mut(16).unwrap();
            let lock = SeqLock::<u8>::from_bytes(head).unwrap();
            thread::scope(|s| {
                s.spawn(|| lock.write(round));
                s.spawn(|| lock.read());
                s.spawn(|| format!("{lock:?}"));
                s.spawn(|| tail.write_at(0, &[round; 16]).unwrap());
            });
            assert_eq!(lock.read(), round);
        }
        region.write_at(9, &[0xAA; 7]).unwrap(); // the lock's padding
        thread::scope(|s| {
            s.spawn(|| region.to_vec(Ordering::Relaxed));
            s.spawn(|| region.read_obj::<[u8; 16]>(8).unwrap());
        });
    }
    assert_eq!(backing[2], u64::from_ne_bytes([2; 8]));
}

/// A region whose backing store is typed `[AtomicU8]` (not plain bytes)
/// carved into a `SeqLock<u64>`, whose 8-byte counter then covers eight of
/// those atomics; after the lock is gone they are read as `AtomicU8`s again.
#[test]
fn atomics_typed_backing_carved_into_a_lock() {
    #[repr(align(8))]
    struct Backing([AtomicU8; 24]);
    let mut backing = Backing([const { AtomicU8::new(0) }; 24]);
    {
        let region = AtomicBytes::new_mut(&mut backing.0);
        let lock = SeqLock::<u64>::from_bytes(region).unwrap();
        thread::scope(|s| {
            s.spawn(|| lock.write(3));
            s.spawn(|| lock.read());
        });
    }
    assert_eq!(backing.0[0].load(Ordering::Relaxed), 2); // the counter, low byte
    let shared = AtomicBytes::new(&backing.0);
    assert_eq!(shared.read_obj::<u64>(8).unwrap(), 3);
}

/// Byte-wise stores by two other threads, joined, then a native `AtomicU64`
/// carved over the same bytes.
#[test]
fn bytewise_then_native_atomic() {
    let mut backing = [0u64; 2];
    let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    {
        let shared: &AtomicBytes = region;
        thread::scope(|s| {
            s.spawn(|| shared.write_at(3, &[1]).unwrap());
            s.spawn(|| shared.get(8..).unwrap().fill(9, Ordering::Relaxed));
        });
    }
    let word = region.as_atomic_u64().unwrap();
    word.fetch_add(1, Ordering::Relaxed);
    let expected = u64::from_ne_bytes([0, 0, 0, 1, 0, 0, 0, 0]) + 1;
    assert_eq!(word.load(Ordering::Relaxed), expected);
    assert_eq!(backing, [expected, u64::from_ne_bytes([9; 8])]);
}

/// A native `AtomicU64` used by two threads, joined; then the same bytes are
/// read and written byte-wise and carved as an `AtomicU32`.
#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's weak memory emulation crashes on this defined program; ci/miri.sh runs it with -Zmiri-disable-weak-memory-emulation"
)]
fn native_atomic_then_bytewise() {
    let mut backing = [0u64; 2];
    let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    {
        let (word, rest) = region.split_at_mut(8).unwrap();
        let word = word.as_atomic_u64().unwrap();
        thread::scope(|s| {
            s.spawn(|| word.fetch_add(1, Ordering::Relaxed));
            s.spawn(|| word.fetch_add(1, Ordering::Relaxed));
            s.spawn(|| rest.fill(7, Ordering::Relaxed));
        });
    }
    thread::scope(|s| {
        s.spawn(|| assert_eq!(region.read_obj::<u64>(0).unwrap(), 2));
        s.spawn(|| assert_eq!(region.read_obj::<u64>(0).unwrap(), 2));
    });
    region.write_at(3, &[1]).unwrap();
    let half = region.as_atomic_u32().unwrap();
    half.fetch_add(1, Ordering::Relaxed);
    // The counter's bytes, then byte 3 overwritten, then the low 4 bytes
    // incremented as one `u32`.
    let mut bytes = 2u64.to_ne_bytes();
    bytes[3] = 1;
    let low = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) + 1;
    bytes[..4].copy_from_slice(&low.to_ne_bytes());
    assert_eq!(
        backing,
        [u64::from_ne_bytes(bytes), u64::from_ne_bytes([7; 8])]
    );
}

/// A lock used by two threads, joined; then its counter is overwritten
/// byte-wise (as a setup step that resets a region does) and the lock is
/// carved again over the fresh counter.
#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's weak memory emulation crashes on this defined program; ci/miri.sh runs it with -Zmiri-disable-weak-memory-emulation"
)]
fn seqlock_counter_reset_bytewise() {
    let mut backing = [0u64; 2];
    let region = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    {
        let lock = SeqLock::<u64>::from_bytes(region).unwrap();
        thread::scope(|s| {
            s.spawn(|| lock.write(1));
            s.spawn(|| lock.update(|v| v + 1));
        });
    }
    region.write_at(0, &[0; 8]).unwrap(); // counter back to 0
    let lock = SeqLock::<u64>::from_bytes(region).unwrap();
    assert_eq!(lock.try_read().map(|v| v == 1 || v == 2), Some(true));
    lock.write(7);
    assert_eq!(lock.read(), 7);
}

/// `ReadOnlyBytes::from_raw_parts` over a `Vec`'s raw pointer (no reference
/// to the bytes is made), read by two threads with both load orderings;
/// once the view is gone the `Vec` is written plainly again.
#[test]
fn read_only_view_of_a_vec_then_plain_writes() {
    let mut v = vec![1u8, 2, 3];
    {
        // SAFETY: `Vec::as_ptr` makes no reference to the elements; they are
        // valid for 3 bytes while the view is used, and nothing writes them
        // until it is gone.
        let ro = unsafe { ReadOnlyBytes::from_raw_parts(v.as_ptr(), 3) };
        thread::scope(|s| {
            s.spawn(|| assert_eq!(ro.to_vec(Ordering::Acquire), [1, 2, 3]));
            s.spawn(|| assert_eq!(ro.read_obj::<[u8; 2]>(1).unwrap(), [2, 3]));
        });
    }
    v[0] = 9;
    assert_eq!(v, [9, 2, 3]);
}
