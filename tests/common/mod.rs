//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

/// Scales an iteration count down under Miri, which is ~1000x slower.
pub fn iters(native: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { native }
}

/// A heap buffer aligned to 64 bytes, so that offsets 0..64 are exactly the
/// misalignments relative to a cache line.
pub struct Aligned {
    words: Vec<Line>,
    len: usize,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

impl Aligned {
    pub fn new(len: usize, fill: u8) -> Self {
        Aligned {
            words: vec![Line([fill; 64]); len.div_ceil(64).max(1)],
            len,
        }
    }

    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.words.as_mut_ptr().cast()
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `words` holds at least `len` initialized bytes.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, exclusively borrowed.
        unsafe { core::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), self.len) }
    }
}

/// A deterministic byte pattern that differs for every `(seed, i)` nearby.
pub fn pattern(seed: usize, i: usize) -> u8 {
    (i.wrapping_mul(31).wrapping_add(seed.wrapping_mul(7)) ^ (i >> 8)) as u8 | 1
}
