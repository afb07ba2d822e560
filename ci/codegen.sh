#!/usr/bin/env bash
# Double-fetch codegen check.
#
# Compiles the shapes in ci/codegen/src/lib.rs (the ones LLVM turns into
# double fetches when the copy out of shared memory is a plain copy) to
# optimized LLVM IR at opt-level 3, 1 and s, for the host and for aarch64,
# and runs ci/codegen's `check-ir` on them:
#
# - every `bytewise` variant (`*_load`, `*_read_obj`) must be clean: its shared
#   pointer is never read by a plain `load`, never the source of an
#   `llvm.memcpy`, and never passed to a call other than bytewise's kernels
#   (inline asm, atomics and `bytewise::imp::*` are fine);
# - every `copy_nonoverlapping` variant (`*_plain`) is the negative control
#   and must FAIL the same check, or this script fails: a checker that cannot
#   see the bug proves nothing.
#
# The portable kernel is checked too (BYTEWISE_FORCE_PORTABLE=1, host, O3).
# The checker's own unit tests (one negative control per rule) run first.
#
# Usage (from anywhere): ci/codegen.sh
set -euo pipefail
cd "$(dirname "$0")/codegen"

host=$(rustc -vV | sed -n 's/^host: //p')
targets=("$host")
if [ "$host" != aarch64-unknown-linux-gnu ]; then
    if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
        rustup target add aarch64-unknown-linux-gnu >/dev/null
    fi
    targets+=(aarch64-unknown-linux-gnu)
fi

clean=(a_load a_read_obj b_load b_read_obj c_load c_read_obj d_read_obj_checked)
negative=(a_plain b_plain c_plain d_plain)

echo "== check-ir unit tests (one negative control per rule)"
if ! unit=$(cargo test -q --bin check-ir 2>&1); then
    echo "$unit"
    echo "FAIL: check-ir's own tests fail" >&2
    exit 1
fi
grep -E '^test result' <<<"$unit"
cargo build -q --release --bin check-ir
checker=$PWD/target/release/check-ir

failed=0
double_fetches=0
negatives_run=0

# emit_ir TARGET OPT [ENV...]: builds the IR and prints the .ll path.
emit_ir() {
    local target=$1 opt=$2 tag=$3
    shift 3
    local dir=$PWD/target/ir/$target-o$opt$tag
    env "$@" CARGO_TARGET_DIR="$dir" CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
        cargo rustc -q --release --lib --target "$target" -- --emit=llvm-ir >&2
    local ll
    ll=$(find "$dir/$target/release/deps" -name 'bytewise_codegen-*.ll' -newer Cargo.toml | head -n1)
    if [ -z "$ll" ]; then
        ll=$(find "$dir/$target/release/deps" -name 'bytewise_codegen-*.ll' | head -n1)
    fi
    [ -n "$ll" ] || { echo "codegen: no IR produced for $target O$opt" >&2; exit 2; }
    echo "$ll"
}

check_config() {
    local target=$1 opt=$2 tag=$3
    shift 3
    echo "== $target opt-level=$opt${tag:+ ($tag)}"
    local ll
    ll=$(emit_ir "$target" "$opt" "$tag" "$@")
    if ! "$checker" "$ll" "${clean[@]}"; then
        echo "FAIL: a bytewise variant reads the shared pointer outside the kernels ($ll)" >&2
        failed=1
    fi
    for f in "${negative[@]}"; do
        local out rc=0
        out=$("$checker" "$ll" "$f") || rc=$?
        negatives_run=$((negatives_run + 1))
        case $rc in
        1)
            if grep -q 'double fetch' <<<"$out"; then
                double_fetches=$((double_fetches + 1))
                echo "ok   $f: negative control rejected; double fetch:"
            else
                echo "ok   $f: negative control rejected (plain reads of the shared pointer):"
            fi
            grep -E '^     ' <<<"$out" | cut -c1-220 | sed 's/^/    /'
            ;;
        0)
            echo "$out"
            echo "FAIL: negative control $f passed the check: the checker cannot see a plain copy" >&2
            failed=1
            ;;
        *)
            echo "$out"
            echo "FAIL: check-ir could not analyse $f (exit $rc)" >&2
            failed=1
            ;;
        esac
    done
}

start=$SECONDS
for target in "${targets[@]}"; do
    for opt in 3 1 s; do
        check_config "$target" "$opt" ""
    done
done
check_config "$host" 3 "-portable" BYTEWISE_FORCE_PORTABLE=1

echo "== negative controls: $negatives_run run, all rejected unless FAIL above; a real double fetch shown in $double_fetches"
if [ "$double_fetches" -eq 0 ]; then
    echo "warning: LLVM double-fetched none of the negative controls; the shapes may need updating" >&2
fi
if [ "$failed" -ne 0 ]; then
    echo "codegen: FAILED" >&2
    exit 1
fi
echo "codegen: passed in $((SECONDS - start)) s"
