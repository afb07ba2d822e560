//! [`AtomicPerByte<T>`]: a `T` that is loaded and stored one atomic byte at a
//! time (the surface of Rust RFC 3301).

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::{MaybeUninit, size_of, size_of_val};
use core::sync::atomic::Ordering;

/// A `T` whose every byte is accessed atomically: readers may race with
/// writers, and then see a value whose bytes come from different writes.
///
/// This is the type Rust RFC 3301 proposes. Loads return `MaybeUninit<T>`,
/// because a racing load can produce a byte combination that is not a valid
/// `T`; check it (a seqlock's sequence number, a checksum) before
/// `assume_init`. For types where every byte pattern is valid,
/// [`load_value`](Self::load_value) does that for you.
///
/// # Padding and uninitialised bytes
///
/// - **asm kernels (x86_64):** bytes are copied as the machine copies them,
///   padding included. No Rust code could read an uninitialised byte
///   atomically, so this is outside the soundness argument in
///   `src/imp/README.md`, as it is for C++ P1478.
/// - **portable kernel (Miri, sanitizers, other architectures):** the shared
///   side is read and written through `AtomicU8`, and an `AtomicU8` holding an
///   uninitialised byte is undefined behaviour.
///
/// So `T` is fully supported when it has no padding and is never
/// [`uninit`](Self::uninit)-read: integers, arrays of them, `#[repr(C)]`
/// structs without padding, any `bytemuck::NoUninit` type. The tests cover
/// exactly those under Miri.
///
/// # Examples
///
/// ```
/// use bytewise::{AtomicPerByte, Ordering};
///
/// let cell = AtomicPerByte::new([0u64; 4]);
/// cell.store([1, 2, 3, 4], Ordering::Release);
/// // SAFETY: no other thread writes `cell`, so the load is not torn.
/// let v = unsafe { cell.load(Ordering::Acquire).assume_init() };
/// assert_eq!(v, [1, 2, 3, 4]);
/// ```
#[repr(transparent)]
pub struct AtomicPerByte<T> {
    inner: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: every access through `&AtomicPerByte<T>` is byte-wise atomic (the
// kernels' contract), so concurrent `&` access is race-free; values of `T` are
// moved between threads by `store`/`load`, which needs `T: Send`.
unsafe impl<T: Send> Sync for AtomicPerByte<T> {}

impl<T> AtomicPerByte<T> {
    /// A cell holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// static CELL: bytewise::AtomicPerByte<u32> = bytewise::AtomicPerByte::new(5);
    /// assert_eq!(CELL.load_value(bytewise::Ordering::Relaxed), 5);
    /// ```
    #[inline]
    pub const fn new(value: T) -> Self {
        AtomicPerByte {
            inner: UnsafeCell::new(MaybeUninit::new(value)),
        }
    }

    /// A cell with uninitialised contents.
    ///
    /// Store into it before loading: loading uninitialised bytes is undefined
    /// behaviour on the portable path (see the type docs).
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bytewise::AtomicPerByte::<[u8; 4]>::uninit();
    /// cell.store(*b"abcd", bytewise::Ordering::Relaxed);
    /// assert_eq!(cell.load_value(bytewise::Ordering::Relaxed), *b"abcd");
    /// ```
    #[inline]
    pub const fn uninit() -> Self {
        AtomicPerByte {
            inner: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Loads the value byte-wise atomically.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bytewise::AtomicPerByte::new(7u16);
    /// // SAFETY: nothing writes concurrently, and every u16 is valid anyway.
    /// assert_eq!(unsafe { cell.load(bytewise::Ordering::Acquire).assume_init() }, 7);
    /// ```
    #[inline]
    #[track_caller]
    pub fn load(&self, order: Ordering) -> MaybeUninit<T> {
        let mut out = MaybeUninit::uninit();
        self.load_to(&mut out, order);
        out
    }

    /// Stores `value` byte-wise atomically.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Acquire` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bytewise::AtomicPerByte::new(0u32);
    /// cell.store(9, bytewise::Ordering::Release);
    /// assert_eq!(cell.load_value(bytewise::Ordering::Acquire), 9);
    /// ```
    #[inline]
    #[track_caller]
    pub fn store(&self, value: T, order: Ordering)
    where
        T: Copy,
    {
        let value = MaybeUninit::new(value);
        // SAFETY: as in `store_from`; `value` is a local that was just
        // written, which is what `store_value` is for.
        unsafe {
            crate::raw::store_value(
                value.as_ptr().cast(),
                self.inner.get().cast(),
                size_of::<T>(),
                order,
            );
        }
    }

    /// Loads the value into `dst`.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`; `dst` is untouched then.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::mem::MaybeUninit;
    /// let cell = bytewise::AtomicPerByte::new([1u8; 3]);
    /// let mut out = MaybeUninit::uninit();
    /// cell.load_to(&mut out, bytewise::Ordering::Relaxed);
    /// // SAFETY: every [u8; 3] is valid.
    /// assert_eq!(unsafe { out.assume_init() }, [1; 3]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn load_to(&self, dst: &mut MaybeUninit<T>, order: Ordering) {
        // SAFETY: `self.inner` is `size_of::<T>()` valid bytes in an
        // `UnsafeCell`, only accessed byte-wise atomically through `&self`;
        // `dst` is an exclusive borrow of as many bytes, private and disjoint.
        unsafe {
            crate::load(
                self.inner.get().cast(),
                dst.as_mut_ptr().cast(),
                size_of::<T>(),
                order,
            );
        }
    }

    /// Stores the bytes of `src`.
    ///
    /// `src` must be fully initialised on the portable path (see the type
    /// docs on padding).
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Acquire` or `AcqRel`; nothing is stored then.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::mem::MaybeUninit;
    /// let cell = bytewise::AtomicPerByte::new(0u8);
    /// cell.store_from(&MaybeUninit::new(3), bytewise::Ordering::Relaxed);
    /// assert_eq!(cell.load_value(bytewise::Ordering::Relaxed), 3);
    /// ```
    #[inline]
    #[track_caller]
    pub fn store_from(&self, src: &MaybeUninit<T>, order: Ordering) {
        // SAFETY: `src` is `size_of::<T>()` frozen bytes that cannot alias
        // the `UnsafeCell`; `self.inner` is valid and only accessed atomically;
        // `src` being initialized is the caller's duty on the portable path
        // (type docs), and the asm path copies bytes as the machine does.
        unsafe {
            crate::store(
                src.as_ptr().cast(),
                self.inner.get().cast(),
                size_of::<T>(),
                order,
            );
        }
    }

    /// Loads `this.len()` consecutive cells into `dst` with one copy.
    ///
    /// # Panics
    ///
    /// Panics if the slices have different lengths (as `copy_from_slice`
    /// does) or `order` is `Release` or `AcqRel`; nothing is copied then.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::AtomicPerByte;
    /// use core::mem::MaybeUninit;
    /// let cells = [AtomicPerByte::new(1u32), AtomicPerByte::new(2)];
    /// let mut out = [MaybeUninit::uninit(); 2];
    /// AtomicPerByte::load_to_slice(&cells, &mut out, bytewise::Ordering::Acquire);
    /// // SAFETY: every u32 is valid.
    /// assert_eq!(unsafe { out[1].assume_init() }, 2);
    /// ```
    #[track_caller]
    pub fn load_to_slice(this: &[Self], dst: &mut [MaybeUninit<T>], order: Ordering) {
        assert_eq!(
            this.len(),
            dst.len(),
            "AtomicPerByte::load_to_slice: slice lengths differ"
        );
        // SAFETY: `[AtomicPerByte<T>]` has the layout of `[T]`, so `this` is
        // `size_of_val(dst)` contiguous interior-mutable bytes, only accessed
        // atomically; `dst` is an exclusive borrow of that size, disjoint.
        unsafe {
            crate::load(
                this.as_ptr().cast::<u8>(),
                dst.as_mut_ptr().cast(),
                size_of_val(dst),
                order,
            );
        }
    }

    /// Stores `src` into `this.len()` consecutive cells with one copy.
    ///
    /// # Panics
    ///
    /// Panics if the slices have different lengths or `order` is `Acquire` or
    /// `AcqRel`; nothing is stored then.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::AtomicPerByte;
    /// use core::mem::MaybeUninit;
    /// let cells = [AtomicPerByte::new(0u8), AtomicPerByte::new(0)];
    /// AtomicPerByte::store_from_slice(&cells, &[MaybeUninit::new(4), MaybeUninit::new(5)], bytewise::Ordering::Release);
    /// assert_eq!(cells[1].load_value(bytewise::Ordering::Acquire), 5);
    /// ```
    #[track_caller]
    pub fn store_from_slice(this: &[Self], src: &[MaybeUninit<T>], order: Ordering) {
        assert_eq!(
            this.len(),
            src.len(),
            "AtomicPerByte::store_from_slice: slice lengths differ"
        );
        // SAFETY: `src` is `size_of_val(src)` frozen bytes, disjoint from the
        // interior-mutable `this`, which has the layout of `[T]` and is only
        // accessed atomically.
        unsafe {
            crate::store(
                src.as_ptr().cast(),
                this.as_ptr().cast::<u8>().cast_mut(),
                size_of_val(src),
                order,
            );
        }
    }

    /// Consumes the cell and returns its contents.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bytewise::AtomicPerByte::new(1u8);
    /// // SAFETY: created initialised.
    /// assert_eq!(unsafe { cell.into_inner().assume_init() }, 1);
    /// ```
    #[inline]
    pub fn into_inner(self) -> MaybeUninit<T> {
        self.inner.into_inner()
    }

    /// The contents, through an exclusive borrow (no atomics needed).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = bytewise::AtomicPerByte::new(1u8);
    /// cell.get_mut().write(2);
    /// assert_eq!(cell.load_value(bytewise::Ordering::Relaxed), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut MaybeUninit<T> {
        self.inner.get_mut()
    }

    /// Views an exclusively borrowed `T` as an `AtomicPerByte<T>`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut x = 5u64;
    /// let cell = bytewise::AtomicPerByte::from_mut(&mut x);
    /// cell.store(6, bytewise::Ordering::Relaxed);
    /// assert_eq!(x, 6);
    /// ```
    #[inline]
    pub fn from_mut(value: &mut T) -> &Self {
        // SAFETY: `Self` is `repr(transparent)` over `UnsafeCell<MaybeUninit<T>>`
        // (layout of `T`, a superset of its validity); the `&mut` is exclusive
        // for the returned lifetime, and the cell only stores whole `T`s the
        // caller gave, so `value` holds a `T` again when the borrow ends.
        unsafe { &*(value as *mut T as *const Self) }
    }
}

#[cfg(feature = "bytemuck")]
impl<T: bytemuck::AnyBitPattern> AtomicPerByte<T> {
    /// Loads the value; safe because every byte pattern is a valid `T`.
    ///
    /// The result may still mix bytes of different stores if a store races
    /// with the load.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bytewise::AtomicPerByte::new([3u32; 2]);
    /// assert_eq!(cell.load_value(bytewise::Ordering::Acquire), [3, 3]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn load_value(&self, order: Ordering) -> T {
        let v = self.load(order);
        // SAFETY: `load` initialized every byte of `v`, and `AnyBitPattern`
        // makes every initialized byte pattern a valid `T`.
        unsafe { v.assume_init() }
    }
}

impl<T> fmt::Debug for AtomicPerByte<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicPerByte").finish_non_exhaustive()
    }
}

impl<T> From<T> for AtomicPerByte<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: Default> Default for AtomicPerByte<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

#[cfg(feature = "bytemuck")]
impl<T: bytemuck::CheckedBitPattern> AtomicPerByte<T> {
    /// Loads the value as one private copy and returns it if the copy is a
    /// valid `T` (by
    /// [`CheckedBitPattern::is_valid_bit_pattern`](bytemuck::CheckedBitPattern::is_valid_bit_pattern)),
    /// with no `unsafe` for the caller.
    ///
    /// A store that races with the load can produce a copy that mixes bytes
    /// of two values; if that mix is not a valid `T`, this is an error, and
    /// no `T` is made from it. The check runs on the copy, so the value
    /// returned is exactly the value that was checked.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBitPattern`](crate::Error::InvalidBitPattern) (with
    /// `offset` 0) if the copy is not a valid `T`.
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Release` or `AcqRel`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::{AtomicPerByte, Ordering};
    ///
    /// let flag = AtomicPerByte::new(false);
    /// flag.store(true, Ordering::Release);
    /// assert_eq!(flag.load_checked(Ordering::Acquire), Ok(true));
    ///
    /// let letter = AtomicPerByte::new('é');
    /// assert_eq!(letter.load_checked(Ordering::Relaxed), Ok('é'));
    /// ```
    #[inline]
    #[track_caller]
    pub fn load_checked(&self, order: Ordering) -> Result<T, crate::Error> {
        // SAFETY: `self.inner` is `size_of::<T>()` (at most `isize::MAX`)
        // valid, writable bytes in an `UnsafeCell` that live as long as
        // `&self`, and every access to them through `&self` is byte-wise
        // atomic, as the view's accesses are.
        let bytes =
            unsafe { crate::AtomicBytes::from_raw_parts(self.inner.get().cast(), size_of::<T>()) };
        bytes.load_obj_checked(0, order)
    }
}
