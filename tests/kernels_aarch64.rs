//! The aarch64 asm kernels are really compiled in and reach the conformance
//! suite: if the `cfg` wiring in `src/imp/mod.rs` broke, the suite would
//! silently test only the portable kernel. (Miri and sanitizer builds take the
//! portable path on purpose, and so does `BYTEWISE_FORCE_PORTABLE=1`.)

#[test]
fn aarch64_kernels_are_listed() {
    let names: Vec<&str> = bytewise::__kernels::all().iter().map(|k| k.name).collect();
    assert_eq!(names.first(), Some(&"portable"), "{names:?}");
    let asm_expected = cfg!(all(target_arch = "aarch64", not(miri)))
        && option_env!("BYTEWISE_FORCE_PORTABLE") != Some("1");
    if asm_expected {
        assert!(names.contains(&"scalar"), "{names:?}");
        if cfg!(target_feature = "neon") {
            // The public functions use the last kernel in the list.
            assert_eq!(names.last(), Some(&"neon"), "{names:?}");
        }
    } else if cfg!(target_arch = "aarch64") {
        assert_eq!(names, ["portable"]);
    }
}
