#!/usr/bin/env bash
# The core builds without std or alloc: on the host with no features, and for
# a bare-metal target with no std library at all (which proves nothing pulls
# std in).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo build --no-default-features"
cargo build --no-default-features
echo "== cargo build --no-default-features --features alloc,bytemuck,zerocopy"
cargo build --no-default-features --features alloc,bytemuck,zerocopy

target=x86_64-unknown-none
rustup target add "$target" >/dev/null 2>&1 || rustup target add "$target"
echo "== cargo build --no-default-features --target $target"
cargo build --no-default-features --features bytemuck --target "$target"

# A target with 32-bit atomics only (no SeqLock there): the cfg'd-out code
# must still build without warnings.
target=thumbv7m-none-eabi
rustup target add "$target" >/dev/null 2>&1 || rustup target add "$target"
echo "== cargo build --no-default-features --target $target"
RUSTFLAGS="-D warnings" cargo build --no-default-features --target "$target"
