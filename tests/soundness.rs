//! The defined-behaviour side of the soundness rules: each program here is
//! what a reproducer of an unsound use turned into once the API made the
//! unsound form unrepresentable (those are `compile_fail` doctests on the
//! items whose bounds or borrows reject them). Miri runs this file under
//! Stacked Borrows and again under Tree Borrows (`ci/miri.sh`).

mod common;

#[path = "../examples/ring/spsc.rs"]
mod spsc;

use core::sync::atomic::AtomicBool;
use core::time::Duration;
use std::thread;

use bytemuck::{Pod, Zeroable};
use bytewise::{AtomicBytes, AtomicPerByte, Error, Ordering, SeqLock, Timeout};
use common::iters;

/// An 8-aligned, zeroed byte region of `words` u64s.
fn region(words: usize) -> Vec<u64> {
    vec![0; words]
}

// ---------------------------------------------------------------------------
// AtomicPerByte: the bytes are always initialised
// ---------------------------------------------------------------------------

/// `uninit()` then `load_value()` used to read uninitialised bytes through
/// `AtomicU8` (undefined); now the cell is zero-filled.
#[test]
fn uninit_cell_loads_defined_bytes() {
    let cell = AtomicPerByte::<[u8; 4]>::uninit();
    assert_eq!(cell.load_value(Ordering::Relaxed), [0; 4]);
    // Moved around (into a `Vec`), the bytes stay initialised: `T` has no
    // padding for a move to drop.
    let cells: Vec<AtomicPerByte<[u16; 3]>> = (0..3).map(|_| AtomicPerByte::uninit()).collect();
    let mut out = [core::mem::MaybeUninit::uninit(); 3];
    AtomicPerByte::load_to_slice(&cells, &mut out, Ordering::Acquire);
    // SAFETY: `load_to_slice` initialised every element; any bytes are a
    // valid `[u16; 3]`.
    assert!(out.iter().all(|v| unsafe { v.assume_init() } == [0; 3]));
}

/// Padding-free values through every store form; the padded tuple of the
/// reproducer does not compile (`AtomicPerByte` type docs).
#[test]
fn padding_free_values_store_and_load() {
    #[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
    #[repr(C)]
    struct NoPad {
        a: u8,
        b: u8,
        c: u16,
    }
    let cell = AtomicPerByte::new(NoPad { a: 0, b: 0, c: 0 });
    cell.store(NoPad { a: 1, b: 2, c: 3 }, Ordering::Release);
    assert_eq!(
        cell.load_value(Ordering::Acquire),
        NoPad { a: 1, b: 2, c: 3 }
    );
    cell.store_from(&NoPad { a: 4, b: 5, c: 6 }, Ordering::SeqCst);
    assert_eq!(cell.load_value(Ordering::SeqCst).c, 6);
    let cells = [AtomicPerByte::new('a'), AtomicPerByte::new('b')];
    AtomicPerByte::store_from_slice(&cells, &['x', 'y'], Ordering::Release);
    let y = cells[1].load(Ordering::Acquire);
    // SAFETY: whole `char`s were stored and nothing races.
    assert_eq!(unsafe { y.assume_init() }, 'y');
    let lock = SeqLock::new(NoPad { a: 1, b: 2, c: 3 });
    assert_eq!(lock.read().b, 2);
}

/// `from_mut` over a `Pod` with two threads storing whole values: whatever
/// mixture is left behind is a valid `T`, and Miri sees no race.
#[test]
fn from_mut_pod_with_racing_stores() {
    let mut value = [0u64; 2];
    {
        let cell = AtomicPerByte::from_mut(&mut value);
        thread::scope(|s| {
            for fill in [0x1111_1111_1111_1111u64, 0x2222_2222_2222_2222] {
                s.spawn(move || {
                    for _ in 0..iters(1000, 5) {
                        cell.store([fill; 2], Ordering::Relaxed);
                    }
                });
            }
            for _ in 0..iters(1000, 5) {
                let seen = cell.load_value(Ordering::Relaxed);
                assert!(
                    bytemuck::bytes_of(&seen)
                        .iter()
                        .all(|b| [0, 0x11, 0x22].contains(b))
                );
            }
        });
    }
    let bytes = bytemuck::bytes_of(&value);
    assert!(bytes.iter().all(|b| *b == 0x11 || *b == 0x22), "{value:x?}");
}

// ---------------------------------------------------------------------------
// Exclusive carving
// ---------------------------------------------------------------------------

#[test]
fn split_and_get_mut_check_their_input() {
    let mut backing = region(4);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    assert_eq!(
        bytes.split_at(33).unwrap_err(),
        Error::OutOfBounds {
            offset: 33,
            len: 0,
            size: 32
        }
    );
    assert_eq!(
        bytes.split_at_mut(usize::MAX).unwrap_err(),
        Error::OutOfBounds {
            offset: usize::MAX,
            len: 0,
            size: 32
        }
    );
    let (a, b) = bytes.split_at_mut(32).unwrap();
    assert_eq!((a.len(), b.len()), (32, 0));
    let (a, b) = bytes.split_at(0).unwrap();
    assert_eq!((a.len(), b.len()), (0, 32));
    #[allow(clippy::reversed_empty_ranges)] // decreasing on purpose
    let decreasing = 3..2;
    assert!(bytes.get_mut(decreasing).is_none());
    assert!(bytes.get_mut(..=32).is_none());
    assert_eq!(bytes.get_mut(..=31).unwrap().len(), 32);

    let base = bytes.as_ptr().addr();
    assert_eq!(
        bytes.get_mut(4..).unwrap().as_atomic_u64().unwrap_err(),
        Error::Misaligned {
            addr: base + 4,
            align: 8
        }
    );
    assert_eq!(
        bytes.get_mut(2..).unwrap().as_atomic_u32().unwrap_err(),
        Error::Misaligned {
            addr: base + 2,
            align: 4
        }
    );
    assert_eq!(
        bytes.get_mut(..3).unwrap().as_atomic_u32().unwrap_err(),
        Error::OutOfBounds {
            offset: 0,
            len: 4,
            size: 3
        }
    );
    assert_eq!(
        bytes
            .get_mut(24..)
            .unwrap()
            .as_atomic_u64()
            .unwrap()
            .load(Ordering::Relaxed),
        0
    );
    // Nothing was written by any of it.
    assert_eq!(backing, [0; 4]);
}

/// Native atomics and byte-wise accesses side by side, on carved pieces of
/// one region: no mixed-size race (Miri would report one).
#[test]
fn native_atomics_next_to_bytewise_bytes() {
    let mut backing = region(8);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let (counter, rest) = bytes.split_at_mut(8).unwrap();
    let (word, data) = rest.split_at_mut(8).unwrap();
    let counter = counter.as_atomic_u64().unwrap();
    let word = word.as_atomic_u32().unwrap();
    let rounds = iters(1000, 20);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                data.write_at(0, &[i as u8; 48]).unwrap();
                counter.fetch_add(1, Ordering::Release);
            }
        });
        s.spawn(|| {
            for _ in 0..rounds {
                word.fetch_add(2, Ordering::Relaxed);
                let mut out = [0u8; 48];
                data.read_at(0, &mut out).unwrap();
                let _ = format!("{data:?}");
            }
        });
    });
    assert_eq!(counter.load(Ordering::Acquire), rounds as u64);
    assert_eq!(word.load(Ordering::Acquire), 2 * rounds as u32);
}

/// The three mixed-size races of the review (a lock's counter against the
/// region's byte accesses, against `Debug`, and two overlapping locks) as
/// carving makes them: the lock's bytes and the rest are disjoint, and the
/// rest stays in use while the lock is written.
#[test]
fn seqlock_carved_next_to_live_bytes() {
    let mut backing = region(8);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let (first, rest) = bytes.split_at_mut(SeqLock::<u64>::SIZE).unwrap();
    let (second, tail) = rest.split_at_mut(SeqLock::<u64>::SIZE).unwrap();
    let a = SeqLock::init_in(first, 1u64).unwrap();
    let b = SeqLock::init_in(second, 2u64).unwrap();
    let rounds = iters(500, 10) as u64;
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                a.write(i);
                b.write(i + 1);
            }
        });
        s.spawn(|| {
            for _ in 0..rounds {
                let mut out = [0u8; 8];
                tail.read_at(0, &mut out).unwrap();
                tail.write_at(8, &[0xAA]).unwrap();
                let _ = format!("{tail:?}");
                let (x, y) = (a.read(), b.read());
                assert!(x < rounds && y <= rounds);
            }
        });
    });
    assert_eq!((a.read(), b.read()), (rounds - 1, rounds));
}

/// `SeqLock<u8>` has padding after its data. With the lock carved, writes to
/// the bytes after it (the reproducer wrote to the padding itself) happen
/// while the lock is read, under both aliasing models.
#[test]
fn seqlock_padding_is_never_touched_by_the_region() {
    let mut backing = region(4);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let (lock_bytes, rest) = bytes.split_at_mut(SeqLock::<u8>::SIZE).unwrap();
    let lock = SeqLock::init_in(lock_bytes, 5u8).unwrap();
    assert_eq!(lock.read(), 5);
    rest.write_at(0, &[0xAA]).unwrap();
    assert_eq!(lock.read(), 5);
    lock.write(6);
    assert_eq!(lock.read(), 6);
    // After the lock's last use the whole region is ours again.
    let mut all = [0u8; 32];
    bytes.read_at(0, &mut all).unwrap();
    assert_eq!(all[SeqLock::<u8>::DATA_OFFSET], 6);
    assert_eq!(all[SeqLock::<u8>::SIZE], 0xAA);
}

// ---------------------------------------------------------------------------
// No information leak: Pod messages carry no stack bytes
// ---------------------------------------------------------------------------

/// The byte the "secret" is made of. No field of the messages below, and no
/// counter value reached, contains it.
const SECRET: u8 = 0xEE;

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
struct Msg {
    kind: u8,
    /// Explicit, so `Msg` is `Pod`; the padded `{ kind: u8, value: u64 }`
    /// of the reproducer does not compile (`SeqLock::from_bytes` docs).
    reserved: [u8; 7],
    value: u64,
}

/// Leaves secret bytes in the stack below the caller, where the next call's
/// locals (a padded message, if one could exist) would be built.
#[inline(never)]
fn scribble_secret() {
    let secret = [SECRET; 2048];
    core::hint::black_box(&secret);
}

#[inline(never)]
fn write_message(lock: &SeqLock<Msg>, i: u64) {
    lock.write(Msg {
        kind: (i % 7) as u8,
        reserved: [0; 7],
        value: i % 0xE0,
    });
}

#[test]
fn pod_messages_leak_no_stack_bytes() {
    let mut backing = region(8);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let (lock_bytes, _) = bytes.split_at_mut(SeqLock::<Msg>::SIZE).unwrap();
    let lock = SeqLock::init_in(lock_bytes, Msg::zeroed()).unwrap();
    let writes = iters(1000, 100) as u64;
    for i in 0..writes {
        scribble_secret();
        write_message(lock, i);
    }
    let shared = bytemuck::cast_slice::<u64, u8>(&backing);
    let leaked = shared.iter().filter(|&&b| b == SECRET).count();
    assert_eq!(
        leaked, 0,
        "{leaked} secret bytes reached the region: {shared:x?}"
    );
}

// ---------------------------------------------------------------------------
// Bounded writers against a stalled lock
// ---------------------------------------------------------------------------

/// A counter left odd (a writer in another process died mid-write): a writer
/// thread and a reader thread both give up within their bounds, and nothing
/// is written.
#[test]
fn stalled_lock_bounds_writers_and_readers() {
    let mut backing = region(2);
    backing[0] = 5; // odd: held by nobody alive
    backing[1] = 42;
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let lock = SeqLock::<u64>::from_bytes(bytes).unwrap();
    let timeout = Duration::from_millis(if cfg!(miri) { 2 } else { 50 });
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let writer = s.spawn(|| {
            assert_eq!(
                lock.try_write(1),
                Err(Timeout::Stalled {
                    seq: 5,
                    unchanged_for: Duration::ZERO
                })
            );
            assert!(matches!(
                lock.try_update(|v| v + 1),
                Err(Timeout::Stalled { seq: 5, .. })
            ));
            match lock.write_timeout(2, timeout) {
                Err(Timeout::Stalled {
                    seq: 5,
                    unchanged_for,
                }) => assert!(unchanged_for >= timeout),
                other => panic!("{other:?}"),
            }
            assert!(lock.update_timeout(|v| v + 1, timeout).is_err());
        });
        let reader = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(lock.try_read(), None);
                assert!(matches!(
                    lock.read_timeout(timeout),
                    Err(Timeout::Stalled { seq: 5, .. })
                ));
            }
        });
        // Stop the reader whatever the writer did, then report: a writer
        // that failed must not leave the scope waiting on the reader.
        let wrote = writer.join();
        stop.store(true, Ordering::Relaxed);
        reader.join().unwrap();
        wrote.unwrap();
    });
    assert_eq!(backing, [5, 42]); // nothing written, the counter untouched
}

/// A lock that writers keep taking reports `Contended`, not `Stalled`, and a
/// bounded write gets through once the lock is free.
#[test]
fn busy_lock_is_contended_and_bounded_writes_get_through() {
    let lock = SeqLock::new(0u64);
    let rounds = iters(2000, 20) as u64;
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                lock.write(i);
            }
        });
        let mut ok = 0;
        for _ in 0..rounds {
            match lock.write_timeout(7, Duration::from_secs(10)) {
                Ok(()) => ok += 1,
                Err(e) => panic!("a live writer made a 10 s write fail: {e}"),
            }
            let _ = lock.try_write(7);
        }
        assert_eq!(ok, rounds);
    });
    assert!(lock.try_update(|v| v + 1).is_ok());
}

// ---------------------------------------------------------------------------
// The SPSC ring with native atomic indices (examples/ring)
// ---------------------------------------------------------------------------

#[test]
fn ring_two_threads() {
    let mut backing = region((128 + 4 * spsc::SLOT) / 8);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let ring = spsc::Ring::new(bytes).unwrap();
    let n = iters(20_000, 40) as u64;
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..n {
                while !ring.try_push(&spsc::message(i)) {
                    thread::yield_now();
                }
            }
        });
        let mut msg = [0u8; spsc::SLOT];
        for i in 0..n {
            while !ring.try_pop(&mut msg) {
                thread::yield_now();
            }
            assert!(msg == spsc::message(i), "message {i}: {msg:?}");
        }
    });
    let mut msg = [0u8; spsc::SLOT];
    assert!(!ring.try_pop(&mut msg)); // empty again
}

#[test]
fn ring_rejects_a_region_too_small() {
    let mut backing = region(16 + 7); // 184 bytes: no room for one slot
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    assert!(spsc::Ring::new(bytes).is_err());
}

/// Negative control for the leak test: the padded message of the
/// reproducer, stored with the raw primitive (which only `unsafe` code can
/// reach now), does carry the scribbled secret into the region. So the
/// scribble-then-scan check above can see a leak. Native x86_64 only: the
/// asm kernels copy padding as the machine does; under Miri or on the
/// portable path reading the padding would be undefined behaviour.
#[test]
#[cfg(all(target_arch = "x86_64", not(miri)))]
fn negative_control_padded_messages_leak_stack_bytes() {
    #[derive(Clone, Copy)]
    #[repr(C)]
    struct Padded {
        kind: u8,
        value: u64,
    }
    #[inline(never)]
    fn write_padded(region: &AtomicBytes, i: u64) {
        let msg = core::mem::MaybeUninit::new(Padded {
            kind: (i % 7) as u8,
            value: i % 0xE0,
        });
        core::hint::black_box(&msg);
        // SAFETY: `msg` is 16 readable bytes (7 of them padding, which the
        // asm kernel copies as the machine does: this is the leak), the
        // region is 16 writable bytes reached only atomically, and they do
        // not overlap.
        unsafe {
            bytewise::store(
                msg.as_ptr().cast(),
                region.as_ptr(),
                size_of::<Padded>(),
                Ordering::Relaxed,
            )
        };
    }
    let mut backing = region(2);
    let bytes = AtomicBytes::from_mut(bytemuck::cast_slice_mut(&mut backing));
    let mut leaked = 0;
    for i in 0..1000 {
        scribble_secret();
        write_padded(bytes, i);
        leaked += bytes
            .to_vec(Ordering::Relaxed)
            .iter()
            .filter(|&&b| b == SECRET)
            .count();
    }
    eprintln!("negative control: {leaked} secret bytes leaked over 1000 padded writes");
    assert!(
        leaked > 0,
        "the scribble-then-scan check could not see a leak"
    );
}
