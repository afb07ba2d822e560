//! Chooses whether the asm kernels are compiled.
//!
//! Miri cannot run inline assembly, and ThreadSanitizer cannot see it, so both
//! take the portable path. Miri sets `cfg(miri)` itself; for sanitizers we
//! read `CARGO_CFG_SANITIZE` and set `cfg(bytewise_sanitize)`. Setting the
//! environment variable `BYTEWISE_FORCE_PORTABLE=1` at build time selects the
//! portable path everywhere (`cfg(bytewise_force_portable)`), which is how the
//! portable kernel is benchmarked as the crate's default.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BYTEWISE_FORCE_PORTABLE");
    if std::env::var_os("CARGO_CFG_SANITIZE").is_some() {
        println!("cargo:rustc-cfg=bytewise_sanitize");
    }
    if std::env::var_os("BYTEWISE_FORCE_PORTABLE").is_some_and(|v| v == "1") {
        println!("cargo:rustc-cfg=bytewise_force_portable");
    }
}
