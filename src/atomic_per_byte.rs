//! [`AtomicPerByte<T>`]: a `T` that is loaded and stored one atomic byte at a
//! time (the surface of Rust RFC 3301).

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::{MaybeUninit, size_of, size_of_val};
use core::sync::atomic::Ordering;

use bytemuck::{AnyBitPattern, NoUninit, Pod};

/// A `T` whose every byte is accessed atomically: readers may race with
/// writers, and then see a value whose bytes come from different writes.
///
/// This is the type Rust RFC 3301 proposes. Loads return `MaybeUninit<T>`,
/// because a racing load can produce a byte combination that is not a valid
/// `T`; check it (a seqlock's sequence number, a checksum) before
/// `assume_init`. For types where every byte pattern is valid,
/// [`load_value`](Self::load_value) does that for you.
///
/// # Soundness: the bytes are always initialised
///
/// The cell keeps one invariant: **every byte it holds is initialised**. A
/// load can therefore always read it through `AtomicU8` (which the portable
/// path, Miri and sanitizers do), and a racing load yields initialised bytes
/// even when they mix several stores. The bounds keep the invariant:
///
/// - everything that puts bytes in takes a padding-free value,
///   `T: bytemuck::NoUninit` ([`new`](Self::new), [`store`](Self::store),
///   [`store_from`](Self::store_from), [`store_from_slice`](Self::store_from_slice));
///   [`uninit`](Self::uninit) zero-fills, and is `NoUninit` too, because a
///   move of the cell would not keep a padded `T`'s padding bytes;
/// - anything that hands out a typed place in the cell needs `T: bytemuck::Pod`
///   ([`get_mut`](Self::get_mut), [`from_mut`](Self::from_mut)): a mixture of
///   bytes of valid `Pod` values is a valid `Pod` value, so a torn store
///   cannot leave an invalid `T` (a null reference, a zero `NonZeroU32`, a
///   pointer of one slice with the length of another) behind;
/// - loads return `MaybeUninit<T>` (RFC 3301), and only
///   [`load_value`](Self::load_value), for `T: bytemuck::AnyBitPattern`,
///   returns a `T`.
///
/// Types with padding or pointers do not compile with these methods:
///
/// ```compile_fail,E0277
/// // (u8, u16) has a padding byte: storing it would copy an uninitialised byte.
/// let cell = bytewise::AtomicPerByte::new((0u8, 0u16));
/// ```
///
/// ```compile_fail,E0277
/// // A torn store of two `&'static [u8]` mixes one's pointer with the other's length.
/// let slice: &'static [u8] = b"abc";
/// let cell = bytewise::AtomicPerByte::new(slice);
/// ```
///
/// The cell is `Sync` only for `T: Send`, because a load in another thread
/// hands it a copy of the value (even a `Pod` type can be `!Send`):
///
/// ```compile_fail,E0277
/// use std::{marker::PhantomData, rc::Rc};
/// fn assert_sync<S: Sync>() {}
/// assert_sync::<bytewise::AtomicPerByte<PhantomData<Rc<u8>>>>();
/// ```
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
    /// Loads the value byte-wise atomically.
    ///
    /// Every byte of the result is initialised, but if a store raced with
    /// the load, the bytes may come from different stores, and they need not
    /// form a valid `T`: check before `assume_init`.
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
        // SAFETY: `self.inner` is `size_of::<T>()` valid, initialised bytes
        // (the type's invariant) in an `UnsafeCell`, only accessed byte-wise
        // atomically through `&self`; the returned value is private.
        unsafe { crate::raw::load_value(self.inner.get().cast_const().cast::<T>(), order) }
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
        // SAFETY: `self.inner` is `size_of::<T>()` valid, initialised bytes
        // (the type's invariant) in an `UnsafeCell`, only accessed byte-wise
        // atomically through `&self`; `dst` is an exclusive borrow of as many
        // bytes, private and disjoint.
        unsafe {
            crate::load(
                self.inner.get().cast(),
                dst.as_mut_ptr().cast(),
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
        // `size_of_val(dst)` contiguous, initialised, interior-mutable bytes,
        // only accessed atomically; `dst` is an exclusive borrow of that
        // size, disjoint.
        unsafe {
            crate::load(
                this.as_ptr().cast::<u8>(),
                dst.as_mut_ptr().cast(),
                size_of_val(dst),
                order,
            );
        }
    }

    /// Consumes the cell and returns its contents.
    ///
    /// Every byte is initialised; whether they form a valid `T` depends on
    /// what was stored (a store of a `T` that no other store raced with does).
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

    /// The contents as `MaybeUninit<T>`, through an exclusive borrow.
    ///
    /// For `T: bytemuck::Pod`, [`get_mut`](Self::get_mut) is the safe form.
    ///
    /// # Safety
    ///
    /// Behavior is undefined if any of these is violated:
    ///
    /// - when the borrow ends, every byte of the contents is initialised
    ///   (the type's invariant: loads read every byte through `AtomicU8`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = bytewise::AtomicPerByte::<char>::new('a');
    /// // SAFETY: a whole `char` is written, so every byte is initialised.
    /// unsafe { cell.get_mut_uninit().write('b') };
    /// // SAFETY: the cell holds the `char` just written.
    /// assert_eq!(unsafe { cell.load(bytewise::Ordering::Relaxed).assume_init() }, 'b');
    /// ```
    #[inline]
    pub unsafe fn get_mut_uninit(&mut self) -> &mut MaybeUninit<T> {
        self.inner.get_mut()
    }
}

impl<T: NoUninit> AtomicPerByte<T> {
    /// A cell holding `value`.
    ///
    /// `T: NoUninit` (no padding): the cell's bytes must all be initialised
    /// (see the type docs).
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

    /// A cell whose contents are unspecified: currently all zero bytes.
    ///
    /// The bytes are initialised (the cell never holds uninitialised bytes,
    /// see the type docs), so loading before the first store is defined; it
    /// returns bytes that need not be a valid `T`, which is why
    /// [`load`](Self::load) returns `MaybeUninit<T>`.
    ///
    /// `T: NoUninit` like [`new`](Self::new): zero-filling a padded `T` would
    /// not last, because moving a `MaybeUninit<T>` (returning the cell from
    /// this function is a move) keeps only the bytes that are not `T`'s
    /// padding, and the padding would be uninitialised again:
    ///
    /// ```compile_fail,E0277
    /// let cell: bytewise::AtomicPerByte<(u8, u16)> = bytewise::AtomicPerByte::uninit();
    /// ```
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bytewise::AtomicPerByte::<[u8; 4]>::uninit();
    /// let _unspecified = cell.load_value(bytewise::Ordering::Relaxed); // defined
    /// cell.store(*b"abcd", bytewise::Ordering::Relaxed);
    /// assert_eq!(cell.load_value(bytewise::Ordering::Relaxed), *b"abcd");
    /// ```
    #[inline]
    pub const fn uninit() -> Self {
        AtomicPerByte {
            inner: UnsafeCell::new(MaybeUninit::zeroed()),
        }
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
    pub fn store(&self, value: T, order: Ordering) {
        let value = MaybeUninit::new(value);
        // SAFETY: as in `store_from`; `value` is a local that was just
        // written (every byte, as `T: NoUninit` has no padding), which is
        // what `store_value` is for.
        unsafe {
            crate::raw::store_value(
                value.as_ptr().cast(),
                self.inner.get().cast(),
                size_of::<T>(),
                order,
            );
        }
    }

    /// Stores the bytes of `*src`.
    ///
    /// The same as [`store`](Self::store), for a value that is already in
    /// memory (nothing is copied to the stack first).
    ///
    /// # Panics
    ///
    /// Panics if `order` is `Acquire` or `AcqRel`; nothing is stored then.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = bytewise::AtomicPerByte::new([0u8; 64]);
    /// cell.store_from(&[3; 64], bytewise::Ordering::Relaxed);
    /// assert_eq!(cell.load_value(bytewise::Ordering::Relaxed), [3; 64]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn store_from(&self, src: &T, order: Ordering) {
        // SAFETY: `src` is `size_of::<T>()` bytes, all initialised
        // (`T: NoUninit`) and frozen while borrowed, so they cannot alias the
        // `UnsafeCell`; `self.inner` is valid and only accessed atomically.
        unsafe {
            crate::store(
                (src as *const T).cast(),
                self.inner.get().cast(),
                size_of::<T>(),
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
    /// let cells = [AtomicPerByte::new(0u8), AtomicPerByte::new(0)];
    /// AtomicPerByte::store_from_slice(&cells, &[4, 5], bytewise::Ordering::Release);
    /// assert_eq!(cells[1].load_value(bytewise::Ordering::Acquire), 5);
    /// ```
    #[track_caller]
    pub fn store_from_slice(this: &[Self], src: &[T], order: Ordering) {
        assert_eq!(
            this.len(),
            src.len(),
            "AtomicPerByte::store_from_slice: slice lengths differ"
        );
        // SAFETY: `src` is `size_of_val(src)` initialised (`T: NoUninit`),
        // frozen bytes, disjoint from the interior-mutable `this`, which has
        // the layout of `[T]` and is only accessed atomically.
        unsafe {
            crate::store(
                src.as_ptr().cast(),
                this.as_ptr().cast::<u8>().cast_mut(),
                size_of_val(src),
                order,
            );
        }
    }
}

impl<T: Pod> AtomicPerByte<T> {
    /// The contents, through an exclusive borrow (no atomics needed).
    ///
    /// `T: Pod`: the cell may hold a mixture of bytes of several stores, and
    /// only for `Pod` types is every such mixture a valid `T`. For other
    /// types see [`get_mut_uninit`](Self::get_mut_uninit).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = bytewise::AtomicPerByte::new(1u8);
    /// *cell.get_mut() += 1;
    /// assert_eq!(cell.load_value(bytewise::Ordering::Relaxed), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: every byte of the cell is initialised (the type's
        // invariant) and every initialised byte pattern is a valid `T: Pod`;
        // a `&mut T` can only write whole, padding-free `T`s back.
        unsafe { self.inner.get_mut().assume_init_mut() }
    }

    /// Views an exclusively borrowed `T` as an `AtomicPerByte<T>`.
    ///
    /// `T: Pod`, because threads may store into the cell at the same time:
    /// the value left behind may mix their bytes, and only for `Pod` types
    /// is every mixture a valid `T`. Types that own memory, references and
    /// types with invalid bit patterns do not compile:
    ///
    /// ```compile_fail,E0277
    /// // Two cells over two boxes, one pointer stored into both: a double free.
    /// let mut a = Box::new(1u64);
    /// let _cell = bytewise::AtomicPerByte::from_mut(&mut a);
    /// ```
    ///
    /// ```compile_fail,E0277
    /// // Zero bytes stored into a `&u8` make a null reference.
    /// let mut r: &u8 = &1;
    /// let _cell = bytewise::AtomicPerByte::from_mut(&mut r);
    /// ```
    ///
    /// ```compile_fail,E0277
    /// // Zero bytes stored into a `NonZeroU32`.
    /// let mut n = core::num::NonZeroU32::new(1).unwrap();
    /// let _cell = bytewise::AtomicPerByte::from_mut(&mut n);
    /// ```
    ///
    /// ```compile_fail,E0308
    /// // `store_from` takes a `&T`: no `MaybeUninit` bytes get in.
    /// let mut x = 5u64;
    /// let cell = bytewise::AtomicPerByte::from_mut(&mut x);
    /// cell.store_from(&core::mem::MaybeUninit::zeroed(), bytewise::Ordering::Relaxed);
    /// ```
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
        // `value` is initialised (a valid `T: Pod` has no padding), which is
        // the cell's invariant, and the cell only stores padding-free `T`s, so
        // when the borrow ends `value` holds initialised bytes, possibly mixed
        // from several stores: a valid `T` because `T: Pod`.
        // SAFETY: `Self` is `repr(transparent)` over `UnsafeCell<MaybeUninit<T>>`
        // (layout of `T`, a superset of its validity); the `&mut` is exclusive
        // for the returned lifetime.
        unsafe { &*(value as *mut T as *const Self) }
    }
}

impl<T: AnyBitPattern> AtomicPerByte<T> {
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
        // SAFETY: `load` initialized every byte of `v` from the cell, whose
        // bytes are always initialised, and `AnyBitPattern` makes every
        // initialized byte pattern a valid `T`.
        unsafe { v.assume_init() }
    }
}

impl<T> fmt::Debug for AtomicPerByte<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicPerByte").finish_non_exhaustive()
    }
}

impl<T: NoUninit> From<T> for AtomicPerByte<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: NoUninit + Default> Default for AtomicPerByte<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

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
        // Every access to the cell through `&self` is byte-wise atomic.
        // SAFETY: `self.inner` is `size_of::<T>()` (<= `isize::MAX`) valid,
        // writable bytes in an `UnsafeCell`, live as long as `&self`.
        let bytes =
            unsafe { crate::AtomicBytes::from_raw_parts(self.inner.get().cast(), size_of::<T>()) };
        bytes.load_obj_checked(0, order)
    }
}
