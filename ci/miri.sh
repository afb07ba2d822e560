#!/usr/bin/env bash
# Miri: runs the portable kernel (the only one Miri sees: asm is compiled out
# under cfg(miri)) through the conformance, ordering, stress, API, model and
# soundness tests with reduced counts (Stacked Borrows), the soundness, API,
# SeqLock and carving tests again under Tree Borrows, then runs the negative
# controls in tests/miri_negative_control.rs and requires Miri to report
# each race.
#
# Usage: ci/miri.sh            (from anywhere; installs nightly + miri if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=${MIRI_TOOLCHAIN:-nightly}
if ! rustup run "$toolchain" cargo miri --version >/dev/null 2>&1; then
    echo "== installing $toolchain with miri"
    rustup toolchain install "$toolchain" --profile minimal --component miri,rust-src
fi
cargo "+$toolchain" miri setup >/dev/null 2>&1 || cargo "+$toolchain" miri setup

export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"

# Integration tests that Miri runs. Files that need mmap or processes mark
# those tests cfg(not(miri)) themselves.
tests=()
for t in conformance ordering stress api model page io seqlock soundness mapping carving load_value; do
    [ -f "tests/$t.rs" ] && tests+=(--test "$t")
done

echo "== miri: ${tests[*]}"
time cargo "+$toolchain" miri test --lib "${tests[@]}"

# The validated typed reads (bytemuck and zerocopy), including the races
# of a writer flipping an enum byte against them, on the portable path.
echo "== miri: --features zerocopy --test checked"
cargo "+$toolchain" miri test --features zerocopy --test checked

# The SeqLock tests race 2 to 3 threads through the protocol; a different
# scheduler seed gives Miri a different interleaving (and different stale
# values from its weak-memory emulation). The run above used seed 0; these
# are four more, run in parallel by Miri (about 35 s on 2 cores).
echo "== miri: --test seqlock, seeds 1 to 4"
MIRIFLAGS="$MIRIFLAGS -Zmiri-many-seeds=1..5" cargo "+$toolchain" miri test --test seqlock

# The soundness rules (tests/soundness.rs: carving, native atomics next to
# byte-wise bytes, bounded writers on a stalled lock, the ring) and the
# types they bound, again under Tree Borrows: a `&SeqLock`'s padding and
# the `&mut` carving are exactly where the two aliasing models differ.
echo "== miri (Tree Borrows): soundness, api, seqlock"
MIRIFLAGS="$MIRIFLAGS -Zmiri-tree-borrows" cargo "+$toolchain" miri test --test soundness --test api --test seqlock --test carving

# A byte-wise store to bytes that a carved native atomic stored from another
# thread (joined, so defined) crashes Miri's weak memory emulation ("cannot
# have partially overlapping store buffer"); those tests are `ignore`d under
# Miri and run here without it. The race detector and both aliasing models
# still check them.
echo "== miri (no weak memory emulation): carving, ignored tests, Stacked and Tree Borrows"
MIRIFLAGS="$MIRIFLAGS -Zmiri-disable-weak-memory-emulation" cargo "+$toolchain" miri test --test carving -- --ignored
MIRIFLAGS="$MIRIFLAGS -Zmiri-disable-weak-memory-emulation -Zmiri-tree-borrows" cargo "+$toolchain" miri test --test carving -- --ignored

echo "== miri negative controls (each must be rejected)"
for t in plain_copy_races_with_writer mixed_size_atomics_race; do
    log=$(mktemp)
    if cargo "+$toolchain" miri test --test miri_negative_control -- --ignored --exact "$t" >"$log" 2>&1; then
        cat "$log"
        echo "FAIL: Miri accepted the negative control $t; the Miri job cannot catch races" >&2
        exit 1
    fi
    if ! grep -qE 'Data race detected|Race condition detected' "$log"; then
        cat "$log"
        echo "FAIL: $t failed, but not with a race report from Miri" >&2
        exit 1
    fi
    echo "ok: Miri rejected $t: $(grep -m1 -E 'Data race detected|Race condition detected' "$log" | sed 's/^ *//' | cut -c1-150)"
    rm -f "$log"
done
echo "miri: all passed"
