#!/usr/bin/env bash
# Formatting, clippy with -D warnings (every target, feature sets that change
# the code), and docs with -D warnings.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== clippy (all features, all targets)"
cargo clippy --all-features --all-targets -- -D warnings
echo "== clippy (no default features, library)"
cargo clippy --no-default-features --lib -- -D warnings
# The kernels are chosen by cfg, so the host build above never sees the
# aarch64 file or the portable dispatch; lint those too (checking needs only
# the Rust target, no linker). A separate target dir keeps the env switch
# from rebuilding the host's artifacts.
echo "== clippy (aarch64 and portable-only paths, library)"
rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
cargo clippy --target aarch64-unknown-linux-gnu --all-features --lib -- -D warnings
BYTEWISE_FORCE_PORTABLE=1 cargo clippy --all-features --lib --target-dir target/lint-portable -- -D warnings
# Targets we cannot run here: the fault handler and the exception table are
# Linux-only and cfg'd out elsewhere, so lint those builds too, or that code
# rots unseen (checking needs only the Rust standard library of the target).
for t in x86_64-unknown-freebsd x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu; do
    echo "== clippy ($t, library)"
    rustup target add "$t" >/dev/null 2>&1 || true
    cargo clippy --target "$t" --all-features --lib -- -D warnings
done
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
