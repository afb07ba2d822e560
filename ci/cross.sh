#!/usr/bin/env bash
# Runs the whole test suite for aarch64-unknown-linux-gnu under qemu-aarch64.
#
# Usage (from the repository root): ci/cross.sh [extra `cargo test` args]
#
# On a fresh Debian/Ubuntu machine it installs what it needs itself: the Rust
# target, the aarch64 cross gcc (used as the linker) and qemu-user. Every step
# is idempotent and skipped when already done. The linker and runner are
# passed through environment variables for this target only, so native builds
# and .cargo/config are untouched.
set -euo pipefail

target=aarch64-unknown-linux-gnu
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx "$target"; then
    echo "cross: installing the Rust target $target"
    rustup target add "$target" >/dev/null
fi

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
if ! command -v qemu-aarch64 >/dev/null && ! command -v qemu-aarch64-static >/dev/null; then
    need+=(qemu-user)
fi
if ((${#need[@]})); then
    echo "cross: installing ${need[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi

qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$qemu -L /usr/aarch64-linux-gnu"

# One test at a time inside each test binary. qemu-user (7.2 here) races
# when several guest threads create and join threads at once: the ordering
# tests, which start two threads per round, died with a qemu SIGBUS or SIGSEGV
# in 3 of 110 runs with the default parallel harness and in 0 of 200 runs
# serialised, and each of them alone passed 150 of 150. Our own threads still
# run concurrently inside each test, which is what the tests need.
export RUST_TEST_THREADS=1
# Tells the few tests that check the host kernel's bookkeeping (page
# residency after MAP_POPULATE) that qemu-user stands in between.
export BYTEWISE_QEMU_USER=1

echo "cross: cargo test --target $target (runner: $qemu, one test at a time)"
start=$SECONDS
cargo test --target "$target" "$@"
echo "cross: passed in $((SECONDS - start)) s"
