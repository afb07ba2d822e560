//! Loads that return the value (`AtomicPerByte::load`, `load_value`,
//! `SeqLock::read`): on x86_64, values of 8 to 64 bytes in steps of 8 are
//! built in registers (`imp::load_value`), every other size goes through a
//! buffer. Each size from 1 to 72 bytes, at every offset 0 to 15 from an
//! 8-aligned base, must return exactly the bytes stored, and a `SeqLock`
//! read must return each written value whole.

use bytewise::{AtomicPerByte, Ordering::Acquire, Ordering::Relaxed};

/// Checks `[u8; N]` at every offset of a 16-aligned buffer.
fn check<const N: usize>() {
    #[repr(C, align(16))]
    struct Buf([u8; 96]);
    for offset in 0..16 {
        let mut buf = Buf([0xEE; 96]);
        let mut pattern = [0u8; N];
        for (i, b) in pattern.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(offset as u8 + 1);
        }
        let place: &mut [u8; N] = (&mut buf.0[offset..offset + N]).try_into().unwrap();
        let cell = AtomicPerByte::from_mut(place);
        cell.store(pattern, Relaxed);
        // SAFETY: every byte of a `[u8; N]` is valid, and `load` returns
        // initialised bytes (the cell's invariant).
        let got = unsafe { cell.load(Acquire).assume_init() };
        assert_eq!(got, pattern, "load of {N} bytes at offset {offset}");
        assert_eq!(
            cell.load_value(Relaxed),
            pattern,
            "load_value, {N} at {offset}"
        );
        // The bytes around the cell are untouched.
        assert!(
            buf.0[..offset].iter().all(|&b| b == 0xEE),
            "{N} at {offset}"
        );
        assert!(
            buf.0[offset + N..].iter().all(|&b| b == 0xEE),
            "{N} at {offset}"
        );
    }
}

macro_rules! sizes {
    ($($n:literal)*) => { $(check::<$n>();)* };
}

#[test]
fn every_size_and_offset_returns_the_stored_bytes() {
    sizes!(1 2 3 4 5 6 7 8 9 12 15 16 17 23 24 25 31 32 33 40 47 48 49 56 63 64 65 72);
}

/// `SeqLock::read` of register-sized values (16, 32, 64 bytes) and of a
/// buffered one (72 bytes) while a writer stores values whose words are all
/// equal: a read mixing two writes would show two different words.
#[cfg(all(feature = "std", target_has_atomic = "64"))]
#[test]
fn seqlock_reads_are_whole_values() {
    fn run<const W: usize>() {
        let lock = bytewise::SeqLock::new([0u64; W]);
        let stop = core::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut i = 0u64;
                while !stop.load(Relaxed) {
                    i += 1;
                    lock.write([i; W]);
                }
            });
            let reads = if cfg!(miri) { 20 } else { 200_000 };
            let torn = (0..reads).find_map(|_| {
                let v = lock.read();
                (!v.iter().all(|&w| w == v[0])).then_some(v)
            });
            // Stop the writer before asserting: a panic here would leave
            // the scope waiting for it forever.
            stop.store(true, Relaxed);
            assert!(torn.is_none(), "torn read: {torn:?}");
        });
    }
    run::<2>();
    run::<4>();
    run::<8>();
    run::<9>();
}
