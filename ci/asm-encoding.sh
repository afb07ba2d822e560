#!/usr/bin/env bash
# The encoding rule of the x86_64 kernels, checked on an asm snapshot
# (tests/asm/x86_64.txt, written by ci/asm-snapshot.sh): no legacy-SSE
# encoded instruction on an xmm register (movdqu, movdqa, movq, punpcklqdq,
# movntdq, ... without the VEX "v" prefix) where ymm/zmm code has dirty
# upper halves. Mixing the two costs a state transition or a merge with the
# upper halves on every such instruction (Intel optimization manual,
# "Mixing AVX code with SSE code"; measured 13x slower for a 256-byte AVX2
# copy on a Zen 3 CPU).
#
#   ci/asm-encoding.sh [--strict] FILE...   # check snapshot files
#   ci/asm-encoding.sh --self-test          # the check must reject
#                                           # tests/asm/encoding-mixed.txt
#
# Rules, per function of the snapshot:
# - a kernel (`vector::*`) that uses ymm or zmm registers holds no
#   legacy-SSE xmm instruction at all;
# - any other function (the public entry points, which inline the small
#   paths next to the 65-256 byte vector paths) holds none between a ymm/zmm
#   instruction and the next `vzeroupper` (every inlined vector block ends
#   with one, so the legacy-SSE small paths never run with dirty upper
#   halves);
# - with --strict (a snapshot built with AVX enabled, where the small paths
#   are VEX-encoded too), no function that uses ymm or zmm holds any.
set -euo pipefail
cd "$(dirname "$0")/.."

check() {
    local strict=$1
    shift
    awk -v strict="$strict" '
        function report(msg) { bad++; print FILENAME ": " fn ": " msg ": " $0 }
        /^[^ #].*:$/ { fn = substr($0, 1, length($0) - 1); wide = 0; dirty = 0; next }
        /^    / {
            line = $0
            sub(/^ +/, "", line)
            split(line, w, /[ ,]+/)
            mnem = w[1]
            if (mnem ~ /^(rep|lock|notrack|bnd)$/) mnem = w[2]
            is_wide = (line ~ /[yz]mm[0-9]/)
            is_legacy = (line ~ /xmm[0-9]/ && mnem !~ /^v/)
            if (mnem == "vzeroupper" || mnem == "vzeroall") { dirty = 0; next }
            if (is_wide) { wide = 1; dirty = 1; seen_wide[fn] = 1 }
            if (is_legacy) {
                legacy[fn] = legacy[fn] "\n    " line
                if (dirty) report("legacy-SSE instruction after ymm/zmm code, before vzeroupper")
            }
        }
        END {
            for (f in legacy) {
                if (!(f in seen_wide)) continue
                if (strict || f ~ /::vector::/) {
                    bad++
                    print "function " f " uses ymm/zmm and also legacy-SSE xmm instructions:" legacy[f]
                }
            }
            exit bad > 0
        }' "$@"
}

case "${1:-}" in
    --self-test)
        fixture=tests/asm/encoding-mixed.txt
        if check 0 "$fixture" >/dev/null; then
            echo "asm-encoding: the check accepted $fixture, a kernel that mixes encodings" >&2
            exit 1
        fi
        echo "asm-encoding: self-test ok (rejects $fixture):"
        check 0 "$fixture" | sed 's/^/  /' || true
        ;;
    --strict)
        shift
        check 1 "$@"
        echo "asm-encoding: $* ok (strict)"
        ;;
    "" | --help)
        echo "usage: $0 [--strict] FILE... | --self-test" >&2
        exit 2
        ;;
    *)
        check 0 "$@"
        echo "asm-encoding: $* ok"
        ;;
esac
