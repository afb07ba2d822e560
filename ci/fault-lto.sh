#!/usr/bin/env bash
# The exception table must survive the builds that could drop it: fat LTO,
# one codegen unit, and the linker's --gc-sections (ci/fault-lto). Builds
# that binary in release, checks that its `bytewise_extable` section is
# there and holds entries, and runs it: it truncates a mapped file and reads
# past the end through every inlinable path. A dropped table kills it with
# SIGBUS; a recovered fault everywhere prints "fault-lto: ok".
#
# Usage (from anywhere): ci/fault-lto.sh   (Linux x86_64 or aarch64 host)
set -euo pipefail
cd "$(dirname "$0")/fault-lto"

export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,--gc-sections"
echo "== fault-lto: cargo build --release (lto = fat, codegen-units = 1, --gc-sections)"
cargo build --release -q
bin=target/release/bytewise-fault-lto

hex=$(readelf -SW "$bin" | sed -n 's/.* bytewise_extable  *[A-Z]*  *[0-9a-f]*  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
if [ -z "$hex" ]; then
    echo "FAIL: no bytewise_extable section in $bin" >&2
    exit 1
fi
size=$((16#$hex))
echo "bytewise_extable: $((size / 8)) entries"
if [ "$size" -le 8 ]; then
    echo "FAIL: the table holds only its sentinel" >&2
    exit 1
fi
if readelf -rW "$bin" | grep -q bytewise_extable; then
    echo "FAIL: the table needs dynamic relocations" >&2
    exit 1
fi

out=$("$bin" 2>/dev/null)
echo "$out"
[ "$out" = "fault-lto: ok" ]
