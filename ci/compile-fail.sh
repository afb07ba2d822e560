#!/usr/bin/env bash
# compile_fail doctests with their error codes: each unsound program the
# safe API rejects (a padded type, a non-Pod `from_mut`, a region used while
# a lock carved from it lives, ...) must fail to compile for the intended
# reason. Stable rustdoc checks only that they fail; nightly rustdoc also
# checks the pinned error code (```compile_fail,E0277), so a doctest that
# fails for an unrelated reason (a typo) is caught.
#
# Usage: ci/compile-fail.sh     (installs nightly if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=${NIGHTLY_TOOLCHAIN:-nightly}
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal
fi

log=$(mktemp)
cargo "+$toolchain" test --doc 2>&1 | tee "$log"
n=$(grep -c -- '- compile fail ... ok' "$log" || true)
rm -f "$log"
if [ "$n" -lt 15 ]; then
    echo "FAIL: only $n compile_fail doctests ran; expected at least 15" >&2
    exit 1
fi
echo "compile-fail: $n doctests failed to compile with their pinned error codes"
