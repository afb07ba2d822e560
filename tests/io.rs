//! The `std::io` cursors over `AtomicBytes`: the read-once property of
//! `Reader` (with negative controls showing the checker catches a cursor that
//! reads a byte twice), Seek semantics, and `Writer` checked differentially
//! against `std::io::Cursor<&mut [u8]>`. Runs under Miri.
#![cfg(feature = "std")]

mod common;

use std::io::{self, Cursor, ErrorKind, Read, Seek, SeekFrom, Write};

use bytewise::io::{Reader, Writer};
use bytewise::{AtomicBytes, Ordering};
use common::iters;

/// Reads `r` to the end in chunks of the given sizes (cycled) and checks the
/// read-once property on a view whose byte `i` is `i as u8` (so every byte
/// names its own position; the view must be at most 256 bytes):
///
/// - no position is returned twice (counted in `seen`),
/// - every position is returned exactly once by the end,
/// - the stream position advances by exactly the number of bytes returned.
///
/// Returns the concatenated bytes, or a description of the first violation.
fn read_once_checked<R: Read + Seek>(
    r: &mut R,
    len: usize,
    chunks: &[usize],
) -> Result<Vec<u8>, String> {
    let mut seen = vec![0u32; len];
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    for &c in chunks.iter().cycle() {
        let before = r.stream_position().map_err(|e| e.to_string())?;
        let n = r.read(&mut buf[..c]).map_err(|e| e.to_string())?;
        let after = r.stream_position().map_err(|e| e.to_string())?;
        if after != before + n as u64 {
            return Err(format!("position moved {before} -> {after} for {n} bytes"));
        }
        if n == 0 && c > 0 {
            break;
        }
        for &b in &buf[..n] {
            let count = &mut seen[usize::from(b)];
            *count += 1;
            if *count > 1 {
                return Err(format!("byte at position {b} was read {count} times"));
            }
        }
        out.extend_from_slice(&buf[..n]);
    }
    if let Some(missing) = seen.iter().position(|&c| c == 0) {
        return Err(format!("byte at position {missing} was never read"));
    }
    Ok(out)
}

fn identity(len: usize) -> Vec<u8> {
    (0..len).map(|i| i as u8).collect()
}

#[test]
fn reader_reads_each_byte_exactly_once_in_any_chunking() {
    let mut backing = identity(256);
    let view = AtomicBytes::from_mut(&mut backing);
    for chunks in [&[1][..], &[3], &[64], &[7, 1, 13, 2], &[0, 5]] {
        let out = read_once_checked(&mut view.reader(), 256, chunks).unwrap();
        assert_eq!(out, identity(256), "chunks {chunks:?}");
    }
    let mut r = view.reader();
    let mut all = Vec::new();
    assert_eq!(r.read_to_end(&mut all).unwrap(), 256);
    assert_eq!(all, identity(256));
    assert_eq!(r.read(&mut [0; 4]).unwrap(), 0, "nothing after the end");
}

/// A cursor that re-reads: after each read it steps back one byte, as a
/// cursor with an overlapping read-ahead or a double fetch would.
struct Rereading<'a>(Cursor<&'a [u8]>);

impl Read for Rereading<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        if n > 1 {
            self.0.seek(SeekFrom::Current(-1))?;
            return Ok(n); // the last byte will come again
        }
        Ok(n)
    }
}

impl Seek for Rereading<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

#[test]
fn read_once_checker_catches_a_rereading_cursor() {
    // Negative controls: the checker above must reject a cursor that returns
    // a byte twice, whether the position lies about it or not.
    let data = identity(256);
    let err = read_once_checked(&mut Rereading(Cursor::new(&data)), 256, &[8]).unwrap_err();
    assert!(err.contains("position moved"), "{err}");

    /// Re-reads one byte but keeps the position consistent: its third read
    /// starts one byte early (an overlapping read-ahead) and still advances
    /// by the number of bytes returned.
    struct Overlapping<'a>(&'a [u8], usize, u32);
    impl Read for Overlapping<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.2 += 1;
            let start = if self.2 == 3 { self.1 - 1 } else { self.1 };
            let n = buf.len().min(self.0.len() - start);
            buf[..n].copy_from_slice(&self.0[start..start + n]);
            self.1 = (self.1 + n).min(self.0.len());
            Ok(n)
        }
    }
    impl Seek for Overlapping<'_> {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            assert_eq!(
                pos,
                SeekFrom::Current(0),
                "the checker only asks for the position"
            );
            Ok(self.1 as u64)
        }
    }
    let err = read_once_checked(&mut Overlapping(&data, 0, 0), 256, &[8]).unwrap_err();
    assert_eq!(err, "byte at position 15 was read 2 times");
}

#[test]
#[allow(
    clippy::seek_from_current,
    reason = "Current(0) through `seek` is under test"
)]
fn reader_refuses_to_seek_backwards() {
    let mut backing = identity(32);
    let view = AtomicBytes::from_mut(&mut backing);
    let mut r = view.reader();
    r.read_exact(&mut [0; 10]).unwrap();
    for back in [
        SeekFrom::Start(0),
        SeekFrom::Start(9),
        SeekFrom::Current(-1),
        SeekFrom::End(-23),
    ] {
        let err = r.seek(back).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{back:?}");
        assert_eq!(r.position(), 10, "a refused seek does not move");
    }
    // Staying put and moving forwards are fine and skip bytes unread.
    assert_eq!(r.seek(SeekFrom::Current(0)).unwrap(), 10);
    assert_eq!(r.seek(SeekFrom::Start(10)).unwrap(), 10);
    assert_eq!(r.seek(SeekFrom::End(-20)).unwrap(), 12);
    let mut b = [0u8; 1];
    r.read_exact(&mut b).unwrap();
    assert_eq!(b, [12]);
    assert_eq!(r.stream_position().unwrap(), 13);

    // Negative control: std's cursor does go back and re-read, which is what
    // the refusal above prevents.
    let mut std_cursor = Cursor::new(identity(32));
    std_cursor.read_exact(&mut [0; 10]).unwrap();
    assert_eq!(std_cursor.seek(SeekFrom::Start(0)).unwrap(), 0);
    assert!(read_once_checked(&mut view.reader(), 32, &[4]).is_ok());
}

#[test]
fn reader_seek_past_end_and_overflow() {
    let mut backing = identity(16);
    let view = AtomicBytes::from_mut(&mut backing);
    let mut r = view.reader();
    assert_eq!(r.remaining(), 16);
    assert_eq!(r.seek(SeekFrom::End(4)).unwrap(), 20);
    assert_eq!(r.remaining(), 0);
    assert_eq!(r.read(&mut [0; 4]).unwrap(), 0);
    assert_eq!(r.seek(SeekFrom::Start(u64::MAX)).unwrap(), u64::MAX);
    assert_eq!(r.read(&mut [0; 4]).unwrap(), 0);
    let err = r.seek(SeekFrom::Current(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "overflow");
    assert_eq!(r.position(), u64::MAX);

    let mut r = view.reader();
    let err = r.seek(SeekFrom::End(-17)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "negative");
    assert_eq!(r.get_ref().len(), 16);
    assert!(format!("{r:?}").contains("pos: 0"));
}

#[test]
fn reader_read_exact_past_end_reads_nothing() {
    let mut backing = identity(8);
    let view = AtomicBytes::from_mut(&mut backing);
    let mut r = view.reader();
    r.read_exact(&mut [0; 5]).unwrap();
    let mut buf = [0xEEu8; 4];
    let err = r.read_exact(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(buf, [0xEE; 4], "no byte was read");
    assert_eq!(r.position(), 8, "moved to the end, as std's Cursor does");
    assert_eq!(r.read(&mut buf).unwrap(), 0);
}

#[test]
fn reader_matches_std_cursor_on_forward_reads() {
    let data: Vec<u8> = (0..300).map(|i| (i * 7 + 3) as u8).collect();
    let mut backing = data.clone();
    let view = AtomicBytes::from_mut(&mut backing);
    let (mut ours, mut std_c) = (view.reader(), Cursor::new(&data[..]));
    let mut rng = 0x2545_f491u32;
    for _ in 0..iters(200, 40) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        let n = (rng % 40) as usize;
        if rng % 5 == 0 {
            let skip = SeekFrom::Current(i64::from(rng % 9));
            assert_eq!(ours.seek(skip).unwrap(), std_c.seek(skip).unwrap());
        } else {
            let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
            assert_eq!(ours.read(&mut a).unwrap(), std_c.read(&mut b).unwrap());
            assert_eq!(a, b);
        }
        assert_eq!(ours.position(), std_c.position());
    }
}

/// One step of a scripted session, applied to both writers.
#[derive(Clone, Copy, Debug)]
enum Op {
    Write(usize),
    WriteAll(usize),
    Seek(SeekFrom),
}

fn apply<W: Write + Seek>(w: &mut W, op: Op, salt: u8) -> Result<u64, ErrorKind> {
    let data: Vec<u8> = (0..64).map(|i| i as u8 ^ salt).collect();
    match op {
        Op::Write(n) => w.write(&data[..n]).map(|n| n as u64).map_err(|e| e.kind()),
        Op::WriteAll(n) => w.write_all(&data[..n]).map(|()| 0).map_err(|e| e.kind()),
        Op::Seek(s) => w.seek(s).map_err(|e| e.kind()),
    }
}

#[test]
fn writer_matches_std_cursor_over_a_mut_slice() {
    // Differential test: the same script on `std::io::Cursor<&mut [u8]>` and
    // on our `Writer` gives the same results, positions and final bytes,
    // including writes at and past the end (Ok(0) / WriteZero) and seeks.
    let len = 50;
    let mut rng = 0x9e37_79b9u32;
    for round in 0..iters(60, 6) {
        let mut std_buf = vec![0u8; len];
        let mut our_buf = vec![0u8; len];
        {
            let mut std_w = Cursor::new(&mut std_buf[..]);
            let shared = AtomicBytes::from_mut(&mut our_buf);
            let mut our_w: Writer<'_> = shared.writer();
            for step in 0..40 {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                let n = (rng >> 8) as usize % 64;
                let op = match rng % 7 {
                    0 => Op::Seek(SeekFrom::Start(u64::from(rng >> 4) % 70)),
                    1 => Op::Seek(SeekFrom::End(i64::from(rng >> 4) % 70 - 60)),
                    2 => Op::Seek(SeekFrom::Current(i64::from(rng >> 4) % 40 - 20)),
                    3 => Op::WriteAll(n),
                    _ => Op::Write(n),
                };
                let salt = step as u8;
                let a = apply(&mut std_w, op, salt);
                let b = apply(&mut our_w, op, salt);
                assert_eq!(a, b, "round {round} step {step}: {op:?}");
                assert_eq!(
                    std_w.position(),
                    our_w.position(),
                    "round {round} step {step}: {op:?}"
                );
            }
            our_w.flush().unwrap();
        }
        assert_eq!(std_buf, our_buf, "round {round}");
    }
}

#[test]
fn writer_past_the_end() {
    let mut backing = [0u8; 4];
    let shared = AtomicBytes::from_mut(&mut backing);
    let mut w = shared.writer();
    assert_eq!(w.write(b"abcdef").unwrap(), 4);
    assert_eq!(w.write(b"g").unwrap(), 0);
    assert_eq!(w.write_all(b"g").unwrap_err().kind(), ErrorKind::WriteZero);
    assert_eq!(w.seek(SeekFrom::Start(100)).unwrap(), 100);
    assert_eq!(w.write(b"h").unwrap(), 0);
    assert_eq!(w.write(b"").unwrap(), 0);
    assert_eq!(w.seek(SeekFrom::Current(-99)).unwrap(), 1);
    w.write_all(b"Z").unwrap();
    assert_eq!(w.get_ref().len(), 4);
    assert!(format!("{w:?}").contains("pos: 2"));
    assert_eq!(shared.to_vec(Ordering::Relaxed), b"aZcd");
}

#[test]
fn cursors_tolerate_a_concurrent_writer() {
    // A thread flips the view between all-0x11 and all-0x22 while a Reader
    // copies it out and a Writer writes 0x33s; every byte read is one of the
    // three values. Miri checks there is no data race.
    let len = iters(4096, 48);
    let rounds = iters(500, 4);
    let mut backing = vec![0x11u8; len];
    let view = AtomicBytes::from_mut(&mut backing);
    std::thread::scope(|s| {
        s.spawn(|| {
            for r in 0..rounds {
                view.fill(if r % 2 == 0 { 0x22 } else { 0x11 }, Ordering::Relaxed);
            }
        });
        s.spawn(|| {
            for _ in 0..rounds {
                let mut w = view.writer();
                w.seek(SeekFrom::Start(len as u64 / 2)).unwrap();
                let _ = w.write(&vec![0x33; len]).unwrap();
            }
        });
        for _ in 0..rounds {
            let mut r: Reader<'_> = view.reader();
            let mut out = Vec::with_capacity(len);
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out.len(), len);
            assert!(out.iter().all(|b| [0x11, 0x22, 0x33].contains(b)));
        }
    });
}
