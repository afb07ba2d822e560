#!/usr/bin/env bash
# The README's test command, then the same suite with every feature and with
# none (the no_std core plus whatever tests need no feature).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test"
cargo test
echo "== cargo test --all-features"
cargo test --all-features
echo "== cargo test --release --test mask_registers"
# The opmask check needs the public functions inlined into its AVX-512
# caller, which only happens with optimizations (the test profile is
# opt-level 1).
cargo test --release --test mask_registers
