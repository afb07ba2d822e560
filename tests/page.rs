//! `Page`: every method, every bounds case with a guard check that nothing
//! was copied on error, and concurrent readers and writers on one page.
//!
//! Runs under Miri too (the page is an ordinary heap allocation); the
//! concurrent test shrinks its counts there, and Miri's leak checker is what
//! would catch a `Drop` that forgot to free.
#![cfg(feature = "std")]

mod common;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering as StdOrdering};
use std::alloc::System;
use std::io::Read;
use std::sync::OnceLock;

use bytewise::{AllocError, Error, Ordering, PAGE_SIZE, Page};
use common::{iters, pattern};

const GUARD: u8 = 0xA5;

/// A global allocator that fails page-aligned allocations on threads that
/// ask it to, so that `Page::alloc`'s error path can be tested.
struct FailPagesOnRequest;

thread_local! {
    static FAIL_PAGE_ALLOCS: Cell<bool> = const { Cell::new(false) };
}

fn failing_now(layout: Layout) -> bool {
    layout.align() == PAGE_SIZE && FAIL_PAGE_ALLOCS.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: every method forwards to `System` unchanged, except that `alloc`
// and `alloc_zeroed` may return null, which the `GlobalAlloc` contract
// allows to signal failure.
unsafe impl GlobalAlloc for FailPagesOnRequest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if failing_now(layout) {
            return core::ptr::null_mut();
        }
        // SAFETY: the caller's `layout` obligations are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if failing_now(layout) {
            return core::ptr::null_mut();
        }
        // SAFETY: the caller's `layout` obligations are passed on unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: every non-null pointer this allocator returned came from
        // `System` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: FailPagesOnRequest = FailPagesOnRequest;

/// `PAGE_SIZE` pattern bytes for `seed` (different seeds give different
/// bytes at most positions). Built from one cached pattern with slice
/// operations, which Miri runs quickly.
fn pat(seed: usize) -> Vec<u8> {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    let base = BASE.get_or_init(|| (0..2 * PAGE_SIZE).map(|i| pattern(0, i)).collect());
    base[seed * 37 % PAGE_SIZE..][..PAGE_SIZE].to_vec()
}

/// A page holding `pat(seed)`.
fn patterned(seed: usize) -> Page {
    let page = Page::alloc().unwrap();
    let bytes = pat(seed);
    // SAFETY: `bytes` has `PAGE_SIZE` initialized bytes; nothing else uses
    // the page yet.
    unsafe { page.write_raw(bytes.as_ptr(), 0, PAGE_SIZE) }.unwrap();
    page
}

/// The page's bytes. A plain copy (`read_raw`): the tests only call it while
/// no other thread uses the page, and Miri runs it as one `memcpy`.
fn snapshot(page: &Page) -> Vec<u8> {
    let mut out = vec![0u8; PAGE_SIZE];
    // SAFETY: `out` has `PAGE_SIZE` bytes; no other thread uses the page.
    unsafe { page.read_raw(out.as_mut_ptr(), 0, PAGE_SIZE) }.unwrap();
    out
}

/// `base` with `range` replaced by `with`.
fn spliced(mut base: Vec<u8>, offset: usize, with: &[u8]) -> Vec<u8> {
    base[offset..offset + with.len()].copy_from_slice(with);
    base
}

/// Every out-of-range `(offset, len)` the kernel answers with `EINVAL`,
/// overflow included.
const BAD: &[(usize, usize)] = &[
    (PAGE_SIZE, 1),
    (0, PAGE_SIZE + 1),
    (1, PAGE_SIZE),
    (PAGE_SIZE - 1, 2),
    (PAGE_SIZE + 1, 0),
    (usize::MAX, 0),
    (usize::MAX, 1),
    (usize::MAX, usize::MAX),
    (1, usize::MAX),
    (2048, usize::MAX - 2047), // offset + len wraps to exactly 0
    (usize::MAX / 2 + 1, usize::MAX / 2 + 1),
];

/// In-range edge cases.
const GOOD: &[(usize, usize)] = &[
    (0, 0),
    (PAGE_SIZE, 0),
    (0, PAGE_SIZE),
    (PAGE_SIZE - 1, 1),
    (17, 300),
    (4000, 96),
];

fn oob(offset: usize, len: usize) -> Error {
    Error::OutOfBounds {
        offset,
        len,
        size: PAGE_SIZE,
    }
}

#[test]
fn alloc_is_zeroed_aligned_and_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Page>();
    let page = Page::alloc().unwrap();
    assert_eq!(page.as_ptr().addr() % PAGE_SIZE, 0);
    assert_eq!(page.as_ptr(), page.as_bytes().as_ptr());
    assert_eq!(page.as_bytes().len(), PAGE_SIZE);
    assert!(snapshot(&page) == [0; PAGE_SIZE]);
    let debug = format!("{page:?}");
    assert!(
        debug.starts_with("Page {") && debug.contains("4096"),
        "{debug}"
    );
}

#[test]
fn pages_are_distinct_and_dropping_frees() {
    // Under Miri, a missing `dealloc` in `Drop` fails this test as a leak.
    let pages: Vec<Page> = (0..iters(64, 4)).map(|_| Page::alloc().unwrap()).collect();
    for (i, p) in pages.iter().enumerate() {
        p.as_bytes().fill(i as u8, Ordering::Relaxed);
    }
    for (i, p) in pages.iter().enumerate() {
        assert!(snapshot(p) == [i as u8; PAGE_SIZE]);
    }
    drop(pages);
}

#[test]
fn alloc_failure_is_an_alloc_error_not_an_abort() {
    FAIL_PAGE_ALLOCS.with(|f| f.set(true));
    let failed = Page::alloc();
    // Negative control: the allocator fails only page-aligned requests.
    let ordinary = vec![1u8; PAGE_SIZE];
    FAIL_PAGE_ALLOCS.with(|f| f.set(false));
    assert_eq!(failed.unwrap_err(), AllocError);
    assert_eq!(ordinary.len(), PAGE_SIZE);
    assert!(Page::alloc().is_ok());
}

#[test]
fn alloc_error_is_a_std_error() {
    fn assert_error<E: core::error::Error + Send + Sync + 'static>(_: &E) {}
    assert_error(&AllocError);
    assert_eq!(format!("{AllocError:?}"), "AllocError");
    assert_eq!(
        std::io::Error::from(AllocError).kind(),
        std::io::ErrorKind::OutOfMemory
    );
}

#[test]
fn raw_and_atomic_views_agree() {
    // `patterned` and `snapshot` use `write_raw`/`read_raw`; check them once
    // against the atomic view, so that a bug shared by both cannot hide.
    let page = Page::alloc().unwrap();
    let data = pat(1);
    page.as_bytes().store(&data, Ordering::Relaxed);
    assert_eq!(snapshot(&page), data);
    let page = patterned(2);
    assert_eq!(page.as_bytes().to_vec(Ordering::Relaxed), pat(2));
}

#[test]
fn read_raw_copies_in_range() {
    let page = patterned(1);
    for &(offset, len) in GOOD {
        let mut out = vec![GUARD; len + 2];
        // SAFETY: `out` has `len + 2` bytes; nothing writes the page.
        unsafe { page.read_raw(out.as_mut_ptr().wrapping_add(1), offset, len) }.unwrap();
        let want = [&[GUARD][..], &pat(1)[offset..offset + len], &[GUARD]].concat();
        assert!(out == want, "read_raw({offset}, {len})");
    }
}

#[test]
fn write_raw_copies_in_range() {
    for &(offset, len) in GOOD {
        let page = patterned(2);
        let src = pat(3)[..len].to_vec();
        // SAFETY: `src` has `len` initialized bytes; nothing else uses the page.
        unsafe { page.write_raw(src.as_ptr(), offset, len) }.unwrap();
        assert!(
            snapshot(&page) == spliced(pat(2), offset, &src),
            "write_raw({offset}, {len})"
        );
    }
}

#[test]
fn bytewise_atomic_methods_copy_in_range() {
    for &(offset, len) in GOOD {
        let page = patterned(4);
        let mut out = vec![GUARD; len];
        // SAFETY: `out` is a private Vec of `len` bytes, not in the page.
        unsafe { page.read_bytewise_atomic(out.as_mut_ptr(), offset, len) }.unwrap();
        assert!(
            out[..] == pat(4)[offset..offset + len],
            "read_bytewise_atomic({offset}, {len})"
        );

        let mut src = pat(5)[..len].to_vec();
        // SAFETY: `src` is a private, writable Vec of `len` bytes.
        unsafe { page.write_bytewise_atomic(src.as_mut_ptr(), offset, len) }.unwrap();
        assert!(
            snapshot(&page) == spliced(pat(4), offset, &src),
            "write_bytewise_atomic({offset}, {len})"
        );
    }
}

#[test]
fn fill_zero_zeroes_exactly_the_range() {
    for &(offset, len) in GOOD {
        let page = patterned(6);
        page.fill_zero(offset, len).unwrap();
        assert!(
            snapshot(&page) == spliced(pat(6), offset, &vec![0; len]),
            "fill_zero({offset}, {len})"
        );
    }
}

#[test]
fn copy_from_reader_copies_in_range() {
    let data = [pat(7), pat(8)].concat();
    for &(offset, len) in GOOD {
        let page = Page::alloc().unwrap();
        let mut reader = &data[..];
        page.copy_from_reader(&mut reader, offset, len).unwrap();
        assert_eq!(reader.len(), data.len() - len, "consumed exactly len bytes");
        let want = spliced(vec![0; PAGE_SIZE], offset, &data[..len]);
        assert!(snapshot(&page) == want, "copy_from_reader({offset}, {len})");
    }
}

#[test]
fn copy_from_a_short_or_failing_reader_writes_nothing() {
    let page = patterned(8);
    let before = snapshot(&page);
    let err = page
        .copy_from_reader(&mut &[1u8; 10][..], 0, 11)
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("broken"))
        }
    }
    let err = page.copy_from_reader(&mut Failing, 5, 1).unwrap_err();
    assert_eq!(err.to_string(), "broken");
    assert_eq!(snapshot(&page), before);

    // Negative control: a successful copy does change the page, so the
    // comparison above can fail.
    page.copy_from_reader(&mut &[0u8; 1][..], 0, 1).unwrap();
    assert_ne!(snapshot(&page), before);
}

#[test]
fn out_of_bounds_is_an_error_and_copies_nothing() {
    // Big buffers, so even a wrong copy of `PAGE_SIZE + 1` bytes would stay
    // inside them and be caught by the guard comparison instead of crashing.
    let big = 2 * PAGE_SIZE + 2;
    for &(offset, len) in BAD {
        let page = patterned(9);
        let before = pat(9);

        let mut dst = vec![GUARD; big];
        // SAFETY: out of range, so nothing is accessed; `dst` is valid anyway.
        let r = unsafe { page.read_raw(dst.as_mut_ptr(), offset, len) };
        assert_eq!(r, Err(oob(offset, len)));
        // SAFETY: as above.
        let r = unsafe { page.read_bytewise_atomic(dst.as_mut_ptr(), offset, len) };
        assert_eq!(r, Err(oob(offset, len)));
        assert!(
            dst == vec![GUARD; big],
            "read({offset}, {len}) wrote to dst"
        );

        let mut src = vec![0x5A; big];
        // SAFETY: out of range, so nothing is accessed; `src` is valid anyway.
        let r = unsafe { page.write_raw(src.as_ptr(), offset, len) };
        assert_eq!(r, Err(oob(offset, len)));
        // SAFETY: as above.
        let r = unsafe { page.write_bytewise_atomic(src.as_mut_ptr(), offset, len) };
        assert_eq!(r, Err(oob(offset, len)));
        assert_eq!(page.fill_zero(offset, len), Err(oob(offset, len)));

        let mut reader = &src[..];
        let err = page.copy_from_reader(&mut reader, offset, len).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(
            err.get_ref().and_then(|e| e.downcast_ref::<Error>()),
            Some(&oob(offset, len))
        );
        assert_eq!(
            reader.len(),
            big,
            "copy_from_reader({offset}, {len}) consumed the reader"
        );

        assert_eq!(
            snapshot(&page),
            before,
            "({offset}, {len}) changed the page"
        );
    }
}

#[test]
fn guard_check_sees_a_write() {
    // Negative control for the guard check above: an in-range call with the
    // same buffers does change them.
    let page = patterned(10);
    let mut dst = vec![GUARD; 8];
    // SAFETY: `dst` has 8 bytes; nothing writes the page.
    unsafe { page.read_raw(dst.as_mut_ptr(), PAGE_SIZE - 8, 8) }.unwrap();
    assert!(dst.iter().any(|&b| b != GUARD));
    let before = snapshot(&page);
    page.fill_zero(PAGE_SIZE - 1, 1).unwrap();
    assert_ne!(snapshot(&page), before);
}

#[test]
fn concurrent_readers_and_writers_on_one_page() {
    // Two writers store whole-range patterns A and B (and zeroes) through
    // every atomic entry point; two readers copy out and check that each byte
    // is one of the values a writer ever stored there. Miri checks the
    // absence of data races.
    let len = iters(PAGE_SIZE, 64);
    let rounds = iters(2000, 6);
    let page = Page::alloc().unwrap();
    let stop = AtomicBool::new(false);
    let a = pat(11)[..len].to_vec();
    let b = pat(12)[..len].to_vec();

    std::thread::scope(|s| {
        let writers: Vec<_> = [&a, &b]
            .into_iter()
            .enumerate()
            .map(|(w, src)| {
                let page = &page;
                s.spawn(move || {
                    let mut private = src.clone();
                    for r in 0..rounds {
                        match (r + w) % 3 {
                            0 => {
                                // SAFETY: `private` is a private, writable Vec
                                // of `len` bytes, not in the page.
                                unsafe { page.write_bytewise_atomic(private.as_mut_ptr(), 0, len) }
                                    .unwrap()
                            }
                            1 => page.as_bytes().write_at(0, &private).unwrap(),
                            _ => page.fill_zero(0, len).unwrap(),
                        }
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut out = vec![0u8; len];
                    let mut checked = 0usize;
                    while !stop.load(StdOrdering::Relaxed) || checked == 0 {
                        // SAFETY: `out` is private, writable and not in the page.
                        unsafe { page.read_bytewise_atomic(out.as_mut_ptr(), 0, len) }.unwrap();
                        for (i, &x) in out.iter().enumerate() {
                            assert!(
                                x == 0 || x == a[i] || x == b[i],
                                "byte {i} = {x:#x}: never stored"
                            );
                        }
                        checked += 1;
                    }
                    checked
                })
            })
            .collect();
        // Stop the readers whatever the writers did, then report: a writer
        // that failed must not leave the scope waiting on the readers.
        let wrote: Vec<_> = writers.into_iter().map(|w| w.join()).collect();
        stop.store(true, StdOrdering::Relaxed);
        for w in wrote {
            w.unwrap();
        }
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
}

/// `copy_from_reader` takes any `Read` by value, as std's functions do, and
/// `&mut R` still works for a reader that is used again afterwards.
#[test]
fn copy_from_reader_takes_readers_by_value_or_by_mut() {
    use std::io::Read;
    let page = Page::alloc().unwrap();
    page.copy_from_reader(std::io::repeat(7).take(3), 0, 3)
        .unwrap();
    page.copy_from_reader(&b"xy"[..], 3, 2).unwrap();
    let mut stream = std::io::Cursor::new(*b"abcd");
    page.copy_from_reader(&mut stream, 5, 2).unwrap();
    page.copy_from_reader(&mut stream, 7, 2).unwrap();
    assert_eq!(stream.position(), 4);
    assert_eq!(
        page.as_bytes().read_obj::<[u8; 9]>(0).unwrap(),
        *b"\x07\x07\x07xyabcd"
    );
}
