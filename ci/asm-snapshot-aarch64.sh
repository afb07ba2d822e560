#!/usr/bin/env bash
# aarch64 asm snapshot: the generated code of every aarch64 kernel, checked in
# as tests/asm/aarch64.txt, so that any change to it shows up in review.
#
# Usage (from anywhere):
#   ci/asm-snapshot-aarch64.sh           compare; fails and prints a diff if the code changed
#   ci/asm-snapshot-aarch64.sh --bless   regenerate tests/asm/aarch64.txt
#
# Two sources, both compiled for aarch64-unknown-linux-gnu with --emit=asm:
# - bytewise itself (release, one codegen unit): every function of
#   bytewise::imp::aarch64, i.e. the kernels exactly as the kernel table holds
#   them (functions LLVM found identical are merged; the merged name is shown);
# - the asm_* wrappers in ci/codegen: the public functions as a caller's crate
#   gets them inlined at opt-level 3, with the fences each ordering adds.
# Only instructions, labels and the //APP markers are kept. Local labels are
# renumbered per function and symbol hashes removed, so that the snapshot
# changes only when the code does. Needs the Rust target (installed if
# missing) and c++filt (binutils) for demangling; no cross linker.
set -euo pipefail
cd "$(dirname "$0")/.."

bless=0
case "${1:-}" in
--bless) bless=1 ;;
"") ;;
*) echo "usage: $0 [--bless]" >&2; exit 2 ;;
esac

target=aarch64-unknown-linux-gnu
snapshot=tests/asm/aarch64.txt
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" >/dev/null
fi
command -v c++filt >/dev/null || { echo "asm-snapshot: c++filt (binutils) is required" >&2; exit 2; }

dir=$PWD/target/asm-snapshot-aarch64
CARGO_TARGET_DIR=$dir/lib cargo rustc -q --release --lib --target "$target" -- --emit=asm -C codegen-units=1
(cd ci/codegen && CARGO_TARGET_DIR=$dir/wrappers cargo rustc -q --release --lib --target "$target" -- --emit=asm)
lib_s=$(ls -t "$dir"/lib/$target/release/deps/bytewise-*.s | head -n1)
wrap_s=$(ls -t "$dir"/wrappers/$target/release/deps/bytewise_codegen-*.s | head -n1)

# extract FILE REGEX: prints "name<TAB>line" for every kept line of every
# function whose (mangled) symbol matches REGEX.
extract() {
    awk -v pat="$2" '
        function flush_labels() { delete seen; n = 0 }
        function relabel(s,    out, tok) {
            out = ""
            while (match(s, /\.L[A-Za-z_0-9]+/)) {
                tok = substr(s, RSTART, RLENGTH)
                if (!(tok in seen)) seen[tok] = ".L" n++
                out = out substr(s, 1, RSTART - 1) seen[tok]
                s = substr(s, RSTART + RLENGTH)
            }
            return out s
        }
        /^[A-Za-z_$][A-Za-z0-9_$.]*:$/ {
            sym = substr($0, 1, length($0) - 1)
            infn = (sym ~ pat)
            if (infn) flush_labels()
            next
        }
        /^\.Lfunc_end/ { infn = 0; next }
        !infn { next }
        /^[ \t]*\/\/(APP|NO_APP)/ { gsub(/^[ \t]+/, ""); print sym "\t    " $0; next }
        /^[ \t]*\/\// { next }
        /^[ \t]*\./ && !/^\.L[A-Za-z_0-9]+:/ { next }
        /^\.L[A-Za-z_0-9]+:/ { print sym "\t" relabel($0); next }
        /^[ \t]/ {
            line = $0
            sub(/^[ \t]+/, "", line)
            gsub(/\t/, " ", line)
            print sym "\t    " relabel(line)
        }
    ' "$1"
}

generate() {
    echo "# aarch64 asm snapshot of bytewise's kernels (aarch64-unknown-linux-gnu, release)."
    echo "# Regenerate with: ci/asm-snapshot-aarch64.sh --bless"
    {
        extract "$lib_s" '^_ZN8bytewise3imp7aarch64'
        extract "$wrap_s" '^asm_'
    } | awk -F '\t' '
        $1 != cur { if (cur != "") print ""; cur = $1; print "== " $1 }
        { print $2 }
    ' | c++filt | sed -E 's/::h[0-9a-f]{16}//g; s/\.[0-9a-f]{32}\./.<hash>./g; s/17h[0-9a-f]{16}E/17h<hash>E/g; s/Cs[0-9A-Za-z]+_/Cs<hash>_/g'
}

new=$(mktemp)
trap 'rm -f "$new"' EXIT
generate >"$new"
if ! grep -q 'neon::copy' "$new" || ! grep -q '^== asm_load_relaxed' "$new"; then
    echo "asm-snapshot: the kernels were not found in the generated asm" >&2
    exit 2
fi

if [ "$bless" -eq 1 ]; then
    mkdir -p "$(dirname "$snapshot")"
    cp "$new" "$snapshot"
    echo "asm-snapshot: wrote $snapshot ($(grep -c '^== ' "$snapshot") functions, $(rustc -V))"
    exit 0
fi
if [ ! -f "$snapshot" ]; then
    echo "asm-snapshot: $snapshot is missing; run ci/asm-snapshot-aarch64.sh --bless" >&2
    exit 1
fi
if ! diff -u "$snapshot" "$new"; then
    echo "asm-snapshot: the aarch64 code changed (diff above, - checked in, + now; $(rustc -V))." >&2
    echo "If the change is intended, run ci/asm-snapshot-aarch64.sh --bless and commit $snapshot." >&2
    exit 1
fi
echo "asm-snapshot: aarch64 code matches $snapshot"
