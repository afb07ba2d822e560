//! The safe types' behaviour at their edges: panics on mismatched lengths,
//! overlap, `Debug`, auto traits, padding-free `T` through `AtomicPerByte`,
//! and no allocation in the primitives.
#![allow(clippy::multiple_unsafe_ops_per_block, clippy::std_instead_of_core)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::mem::MaybeUninit;
use std::panic::catch_unwind;
use std::sync::atomic::AtomicU8;

use bytewise::{AtomicBytes, AtomicPerByte, Ordering};

/// Counts allocations made by the current thread.
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; the counter is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

#[test]
fn primitives_and_checked_accessors_do_not_allocate() {
    let size = if cfg!(miri) { 256 } else { 1 << 16 };
    let mut shared = vec![1u8; size];
    let mut private = vec![0u8; size];
    let view = AtomicBytes::from_mut(&mut shared);
    let n = allocations_in(|| {
        for len in [0, 1, 7, 64, 4096, 1 << 16]
            .into_iter()
            .filter(|&l| l <= size)
        {
            // SAFETY: both buffers are valid for `len` bytes and disjoint.
            unsafe {
                bytewise::load(view.as_ptr(), private.as_mut_ptr(), len, Ordering::Acquire);
                bytewise::store(private.as_ptr(), view.as_ptr(), len, Ordering::Release);
                bytewise::fill(view.as_ptr(), 3, len, Ordering::SeqCst);
            }
            view.read_at(0, &mut private[..len]).unwrap();
            view.write_at(0, &private[..len]).unwrap();
            let _ = view.read_obj::<[u64; 4]>(len);
            let _ = view.write_obj(len, &[9u32; 3]);
        }
        let (a, b) = (view.get(..100).unwrap(), view.get(100..200).unwrap());
        b.copy_from(a, Ordering::AcqRel);
    });
    assert_eq!(n, 0, "the primitives allocated");
    // The counter works: a Vec allocates.
    assert!(allocations_in(|| drop(view.to_vec(Ordering::Relaxed))) > 0);
}

#[test]
#[should_panic(expected = "does not match destination slice length")]
fn load_panics_on_length_mismatch() {
    let mut b = [0u8; 4];
    AtomicBytes::from_mut(&mut b).load(&mut [0u8; 3], Ordering::Relaxed);
}

#[test]
fn length_mismatch_and_overlap_write_nothing() {
    let mut b = [5u8; 8];
    let view = AtomicBytes::from_mut(&mut b);
    assert!(catch_unwind(|| view.store(&[1u8; 9], Ordering::Relaxed)).is_err());
    let (a, c) = (view.get(0..4).unwrap(), view.get(2..6).unwrap());
    let r = catch_unwind(|| c.copy_from(a, Ordering::Relaxed));
    assert!(r.is_err(), "overlapping copy_from did not panic");
    assert!(
        catch_unwind(|| view
            .get(0..4)
            .unwrap()
            .copy_from(view.get(0..3).unwrap(), Ordering::Relaxed))
        .is_err()
    );
    assert_eq!(b, [5; 8]);
}

#[test]
fn adjacent_copy_from_is_not_overlap() {
    let mut b = [1, 2, 3, 4, 0, 0, 0, 0u8];
    let view = AtomicBytes::from_mut(&mut b);
    view.get(4..)
        .unwrap()
        .copy_from(view.get(..4).unwrap(), Ordering::SeqCst);
    assert_eq!(b, [1, 2, 3, 4, 1, 2, 3, 4]);
}

#[test]
fn views_report_their_shape() {
    let cells: Vec<AtomicU8> = (0..40).map(AtomicU8::new).collect();
    let view = AtomicBytes::new(&cells);
    assert_eq!(view.len(), 40);
    assert!(!view.is_empty());
    assert!(view.get(40..).unwrap().is_empty());
    assert_eq!(view.as_ptr().cast_const(), cells.as_ptr().cast::<u8>());
    assert_eq!(view.as_atomics().len(), 40);
    let dbg = format!("{:?}", view.get(..3).unwrap());
    assert_eq!(dbg, "AtomicBytes { len: 3, bytes: [0, 1, 2] }");
    let dbg = format!("{view:?}");
    assert!(
        dbg.starts_with("AtomicBytes { len: 40, head: [0, 1, 2") && dbg.ends_with(".. }"),
        "{dbg}"
    );
}

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync + ?Sized>() {}
    send_sync::<AtomicBytes>();
    send_sync::<AtomicPerByte<[u64; 3]>>();
    send_sync::<bytewise::Error>();
    fn error<T: std::error::Error + Copy>() {}
    error::<bytewise::Error>();
}

#[derive(Clone, Copy, Debug, PartialEq, Default, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
struct NoPadding {
    a: u32,
    b: u16,
    c: [u8; 2],
    d: u64,
}

#[test]
fn atomic_per_byte_round_trips_padding_free_types() {
    let cell = AtomicPerByte::new(NoPadding {
        a: 1,
        b: 2,
        c: [3, 4],
        d: 5,
    });
    assert_eq!(
        cell.load_value(Ordering::Acquire),
        NoPadding {
            a: 1,
            b: 2,
            c: [3, 4],
            d: 5
        }
    );
    cell.store(NoPadding::default(), Ordering::SeqCst);
    assert_eq!(cell.load_value(Ordering::SeqCst), NoPadding::default());

    let cells: Vec<AtomicPerByte<u32>> = (0..5).map(AtomicPerByte::new).collect();
    let mut out = [MaybeUninit::uninit(); 5];
    AtomicPerByte::load_to_slice(&cells, &mut out, Ordering::Acquire);
    // SAFETY: `load_to_slice` initialized every element, and every u32 is valid.
    assert_eq!(out.map(|v| unsafe { v.assume_init() }), [0, 1, 2, 3, 4]);
    AtomicPerByte::store_from_slice(&cells, &[9; 5], Ordering::Release);
    assert!(cells.iter().all(|c| c.load_value(Ordering::Relaxed) == 9));

    let mut x = 1u64;
    AtomicPerByte::from_mut(&mut x).store(2, Ordering::Relaxed);
    assert_eq!(x, 2);
    let mut owned = AtomicPerByte::new(3u8);
    *owned.get_mut() = 4;
    // SAFETY: initialized above.
    assert_eq!(unsafe { owned.into_inner().assume_init() }, 4);
    assert_eq!(
        format!("{:?}", AtomicPerByte::new(1u8)),
        "AtomicPerByte { .. }"
    );
    // Zero-sized types copy nothing.
    AtomicPerByte::new(()).store((), Ordering::SeqCst);
}

#[test]
#[should_panic(expected = "slice lengths differ")]
fn load_to_slice_panics_on_length_mismatch() {
    let cells = [AtomicPerByte::new(1u8), AtomicPerByte::new(2)];
    AtomicPerByte::load_to_slice(&cells, &mut [MaybeUninit::uninit(); 3], Ordering::Relaxed);
}

#[test]
#[should_panic(expected = "slice lengths differ")]
fn store_from_slice_panics_on_length_mismatch() {
    let cells = [AtomicPerByte::new(1u8)];
    AtomicPerByte::store_from_slice(&cells, &[], Ordering::Relaxed);
}

/// Concurrent stores of whole values and loads: under Miri this is the
/// check that `AtomicPerByte` is data-race free for padding-free types.
#[test]
fn atomic_per_byte_races_are_defined() {
    let cell = AtomicPerByte::new([0u32; 4]);
    let rounds = if cfg!(miri) { 5 } else { 10_000 };
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                cell.store([i % 200; 4], Ordering::Release);
            }
        });
        s.spawn(|| {
            for _ in 0..rounds {
                let v = cell.load_value(Ordering::Acquire);
                // Tearing between bytes is allowed; a byte value that was
                // never written is not. Every stored u32 is below 200, so
                // only the low byte of each may be non-zero.
                let bytes: [u8; 16] = bytemuck::cast(v);
                for (k, &b) in bytes.iter().enumerate() {
                    let low = k % 4 == if cfg!(target_endian = "little") { 0 } else { 3 };
                    assert!(if low { b < 200 } else { b == 0 }, "byte {k} = {b}");
                }
            }
        });
    });
}
