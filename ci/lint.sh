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
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
