//! Chooses whether the asm kernels are compiled.
//!
//! Miri cannot run inline assembly, and ThreadSanitizer cannot see it, so both
//! take the portable path. Miri sets `cfg(miri)` itself; for sanitizers we
//! read `CARGO_CFG_SANITIZE` and set `cfg(bytewise_sanitize)`. Setting the
//! environment variable `BYTEWISE_FORCE_PORTABLE=1` at build time selects the
//! portable path everywhere (`cfg(bytewise_force_portable)`), which is how the
//! portable kernel is benchmarked as the crate's default.
//!
//! `cfg(bytewise_x86_64_asm)` / `cfg(bytewise_aarch64_asm)` say which asm
//! kernel set `src/imp/` compiles: x86_64 with SSE2, or aarch64, unless Miri,
//! a sanitizer or the forced portable path rules asm out.
//!
//! `cfg(bytewise_fault)` says that faults are recovered (`src/imp/extable.rs`,
//! `bytewise::fault`): Linux, an asm kernel set (x86_64 with SSE2, or
//! aarch64), feature `std` for the handler, and neither Miri, a sanitizer
//! nor the forced portable path.
//!
//! `cfg(bytewise_no_cmsg_cloexec)` names the systems whose `recvmsg` has no
//! `MSG_CMSG_CLOEXEC` (`src/shared_memory/passing.rs`), so that the list is
//! written once.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BYTEWISE_FORCE_PORTABLE");
    if std::env::var_os("CARGO_CFG_SANITIZE").is_some() {
        println!("cargo:rustc-cfg=bytewise_sanitize");
    }
    let portable = std::env::var_os("BYTEWISE_FORCE_PORTABLE").is_some_and(|v| v == "1");
    if portable {
        println!("cargo:rustc-cfg=bytewise_force_portable");
    }
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let asm = match var("CARGO_CFG_TARGET_ARCH").as_str() {
        "x86_64" => var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "sse2"),
        "aarch64" => true,
        _ => false,
    };
    let asm = asm
        && std::env::var_os("CARGO_CFG_MIRI").is_none()
        && std::env::var_os("CARGO_CFG_SANITIZE").is_none()
        && !portable;
    if asm {
        // One cfg per kernel set, so that src/imp/ names the choice once.
        println!(
            "cargo:rustc-cfg=bytewise_{}_asm",
            var("CARGO_CFG_TARGET_ARCH")
        );
    }
    if var("CARGO_CFG_TARGET_VENDOR") == "apple"
        || ["illumos", "solaris", "aix", "haiku", "nto"]
            .contains(&var("CARGO_CFG_TARGET_OS").as_str())
    {
        println!("cargo:rustc-cfg=bytewise_no_cmsg_cloexec");
    }
    if asm
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && std::env::var_os("CARGO_FEATURE_STD").is_some()
    {
        println!("cargo:rustc-cfg=bytewise_fault");
    }
}
