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
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
