#!/usr/bin/env bash
# zlib, 64 MiB compressed and decompressed once: the guest's host-backed zlib
# (host libz) against CPython's zlib natively.
#
#   bench/zlib_bench.sh [path/to/wasmffi] [SIZE_MIB]   (default: target/release/wasmffi, 64)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WASMFFI="${1:-$(dirname "$HERE")/target/release/wasmffi}"
SIZE="${2:-64}"
PY="${PYTHON:-python3}"
[ -x "$WASMFFI" ] || { echo "build first: cargo build --release ($WASMFFI missing)" >&2; exit 1; }
echo "== guest (wasmffi)"
"$WASMFFI" run "$HERE/zlib_bench.py" "$SIZE"
echo "== CPython, native"
"$PY" "$HERE/zlib_bench.py" "$SIZE"
