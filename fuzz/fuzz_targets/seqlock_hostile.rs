//! `SeqLock::from_bytes` and `init_in`, then `try_read`, `read_timeout` and
//! `read`, over arbitrary byte content, alignment and length, while a second
//! thread scribbles arbitrary bytes over the region through a second mapping
//! of the same memory (as a hostile peer process would). No panic, no hang:
//! only an `Error` or a value.
//!
//! `read` and `write` wait for an even counter by design, so they run only
//! after the scribbler has stopped and `init_in` has recovered the lock; then
//! they must return exactly what was stored.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use bytemuck::Pod;
use bytewise::{AtomicBytes, Error, SeqLock, SharedMemory};
use libfuzzer_sys::{arbitrary, fuzz_target};

const MAP: usize = 4096;

/// Two mappings of one memfd: `.0` for the lock, `.1` for the scribbler.
/// The lock's mapping is carved exclusively (`&mut`), as `from_bytes`
/// requires; the second mapping plays a peer process writing the same pages.
fn maps() -> MutexGuard<'static, (SharedMemory, SharedMemory)> {
    static MAPS: OnceLock<Mutex<(SharedMemory, SharedMemory)>> = OnceLock::new();
    MAPS.get_or_init(|| {
        use std::os::fd::AsFd;
        let a = SharedMemory::create(MAP).unwrap();
        let fd = a.as_fd().try_clone_to_owned().unwrap();
        let b = SharedMemory::from_fd(fd).unwrap();
        Mutex::new((a, b))
    })
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

#[derive(arbitrary::Arbitrary, Debug)]
enum Ty {
    U64,
    U32x3,
    Bytes100,
}

#[derive(arbitrary::Arbitrary, Debug)]
enum Op {
    TryRead,
    ReadTimeout(u8),
    InitIn(u8),
}

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    ty: Ty,
    start: u8,
    len: u16,
    content: Vec<u8>,
    scribbles: Vec<(u16, Vec<u8>)>,
    ops: Vec<Op>,
    last: u8,
}

fn filled<T: Pod>(byte: u8) -> T {
    let mut v = T::zeroed();
    bytemuck::bytes_of_mut(&mut v).fill(byte);
    v
}

fn run<T: Pod + PartialEq + std::fmt::Debug>(input: &Input) {
    let mut maps = maps();
    let (a, b) = &mut *maps;
    a.fill(0, Relaxed);
    let content = &input.content[..input.content.len().min(MAP)];
    a.write_at(0, content).unwrap();

    let start = usize::from(input.start % 64);
    let len = usize::from(input.len) % (MAP - start + 1);
    let region: &mut AtomicBytes = a.as_bytes_mut().get_mut(start..start + len).unwrap();

    let addr = region.as_ptr().addr();
    let want_err = if !addr.is_multiple_of(SeqLock::<T>::ALIGN) {
        Some(Error::Misaligned {
            addr,
            align: SeqLock::<T>::ALIGN,
        })
    } else if len < SeqLock::<T>::SIZE {
        Some(Error::OutOfBounds {
            offset: 0,
            len: SeqLock::<T>::SIZE,
            size: len,
        })
    } else {
        None
    };
    match (SeqLock::<T>::from_bytes(region).map(|_| ()), want_err) {
        (Err(e), Some(w)) => {
            assert_eq!(e, w);
            assert_eq!(SeqLock::init_in(region, T::zeroed()).unwrap_err(), w);
            return;
        }
        (Ok(()), None) => {}
        (got, want) => panic!("from_bytes: got {got:?}, want {want:?}"),
    }

    let stop = AtomicBool::new(false);
    let b: &SharedMemory = b;
    std::thread::scope(|s| {
        if !input.scribbles.is_empty() {
            s.spawn(|| {
                // Keeps scribbling until the reader is done, at least once.
                loop {
                    for (off, bytes) in input.scribbles.iter().take(16) {
                        let off = usize::from(*off) % MAP;
                        let n = bytes.len().min(MAP - off);
                        b.write_at(off, &bytes[..n]).unwrap();
                    }
                    if stop.load(Relaxed) {
                        break;
                    }
                }
            });
        }
        for op in input.ops.iter().take(32) {
            match op {
                Op::TryRead => {
                    let _ = SeqLock::<T>::from_bytes(region).unwrap().try_read();
                }
                Op::ReadTimeout(us) => {
                    let lock = SeqLock::<T>::from_bytes(region).unwrap();
                    let _ = lock.read_timeout(Duration::from_micros(u64::from(*us) % 200));
                }
                Op::InitIn(v) => {
                    // The scribbler (a peer) writes too: the bytes may mix,
                    // and that is all.
                    assert!(SeqLock::init_in(region, filled::<T>(*v)).is_ok());
                }
            }
        }
        stop.store(true, Relaxed);
    });

    // The peer is gone: recover the lock, and it must work exactly.
    let v = filled::<T>(input.last);
    let lock = SeqLock::init_in(region, v).unwrap();
    assert_eq!(lock.try_read(), Some(v));
    assert_eq!(lock.read(), v);
    let w = filled::<T>(!input.last);
    lock.write(w);
    assert_eq!(lock.read_timeout(Duration::ZERO), Ok(w));
}

fuzz_target!(|input: Input| {
    match input.ty {
        Ty::U64 => run::<u64>(&input),
        Ty::U32x3 => run::<[u32; 3]>(&input),
        Ty::Bytes100 => run::<[u8; 100]>(&input),
    }
});
