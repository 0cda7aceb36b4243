#!/usr/bin/env bash
# sqlite3, the guest's host-backed `_sqlite3` against CPython's own over the
# same libsqlite3: 1,000,000 rows inserted and queried, and a query calling a
# Python function once per row (bench/sqlite_bench.py), ratios printed.
#
#   bench/sqlite_bench.sh [path/to/wasmffi] [ROWS]   (default: target/release/wasmffi, 1000000)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WASMFFI="${1:-$(dirname "$HERE")/target/release/wasmffi}"
ROWS="${2:-1000000}"
PY="${PYTHON:-python3}"
[ -x "$WASMFFI" ] || { echo "build first: cargo build --release ($WASMFFI missing)" >&2; exit 1; }
field() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
ratio() { awk -v g="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", g / n; else print "n/a" }'; }
guest="$("$WASMFFI" run "$HERE/sqlite_bench.py" "$ROWS")"
native="$("$PY" "$HERE/sqlite_bench.py" "$ROWS")"
for key in insert_s query_s python_function_s function_call_ns; do
    g="$(field "$guest" "$key")"; n="$(field "$native" "$key")"
    echo "sqlite3 $ROWS rows $key: guest=$g cpython=$n ratio=$(ratio "$g" "$n")x"
done
