//! Input pieces shared by the fuzz targets.
#![allow(dead_code)]

use libfuzzer_sys::arbitrary::{self, Arbitrary};

/// An offset or a length: small, mid-sized, just below `usize::MAX`, or any
/// `usize`, so that bounds checks and overflowing sums are exercised as
/// often as in-bounds accesses.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    Small(u8),
    Mid(u16),
    NearMax(u8),
    Any(usize),
}

impl Num {
    pub fn get(self) -> usize {
        match self {
            Num::Small(x) => x.into(),
            Num::Mid(x) => x.into(),
            Num::NearMax(x) => usize::MAX - usize::from(x),
            Num::Any(x) => x,
        }
    }
}

/// An ordering valid for a load.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum LoadOrder {
    Relaxed,
    Acquire,
    SeqCst,
}

impl From<LoadOrder> for bytewise::Ordering {
    fn from(o: LoadOrder) -> Self {
        match o {
            LoadOrder::Relaxed => bytewise::Ordering::Relaxed,
            LoadOrder::Acquire => bytewise::Ordering::Acquire,
            LoadOrder::SeqCst => bytewise::Ordering::SeqCst,
        }
    }
}

/// An ordering valid for a store.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum StoreOrder {
    Relaxed,
    Release,
    SeqCst,
}

impl From<StoreOrder> for bytewise::Ordering {
    fn from(o: StoreOrder) -> Self {
        match o {
            StoreOrder::Relaxed => bytewise::Ordering::Relaxed,
            StoreOrder::Release => bytewise::Ordering::Release,
            StoreOrder::SeqCst => bytewise::Ordering::SeqCst,
        }
    }
}

/// The model's answer to "is `offset..offset + len` inside `size` bytes?".
pub fn in_bounds(
    offset: usize,
    len: usize,
    size: usize,
) -> Result<core::ops::Range<usize>, bytewise::Error> {
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(offset..end),
        _ => Err(bytewise::Error::OutOfBounds { offset, len, size }),
    }
}
