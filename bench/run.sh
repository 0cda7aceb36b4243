#!/usr/bin/env bash
# FFI call overhead and warm start: wasmffi's guest (_rawffi) against CPython (ctypes).
#
#   bench/run.sh [path/to/wasmffi]     (default: target/release/wasmffi; build it first)
#
# Environment: N (calls per loop, default 200000), RUNS (start-up runs, default 20),
# PYTHON (default python3).  Builds nothing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
if [ $# -ge 1 ]; then
    WASMFFI="$1"
else
    WASMFFI="$ROOT/target/release/wasmffi"
fi
N="${N:-200000}"
RUNS="${RUNS:-20}"
PY="${PYTHON:-python3}"
LIBC="${WASMFFI_LIBC:-libc.so.6}"

if [ ! -x "$WASMFFI" ]; then
    echo "wasmffi binary not found or not executable: $WASMFFI" >&2
    echo "build it first: cargo build --release" >&2
    exit 1
fi
command -v "$PY" >/dev/null || { echo "$PY not found" >&2; exit 1; }

ns_per_call() {
    # $@: the command; prints the ns_per_call figure or fails with the command's output
    local out
    if ! out="$("$@" 2>&1)"; then
        echo "failed: $*" >&2
        echo "$out" >&2
        return 1
    fi
    local v
    v="$(printf '%s\n' "$out" | awk '$1 == "ns_per_call" { print $2 }')"
    if [ -z "$v" ]; then
        echo "no ns_per_call in the output of: $*" >&2
        echo "$out" >&2
        return 1
    fi
    echo "$v"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

# ---------------------------------------------------------------- call overhead
guest="$(ns_per_call "$WASMFFI" run --allow-lib "$LIBC" "$HERE/labs.py" "$N")"
cpython="$(ns_per_call "$PY" "$HERE/labs.py" "$N")"
echo "labs ns/call: guest=$guest cpython=$cpython ratio=$(ratio "$guest" "$cpython")x"

# ----------------------------------------------------------------- ctypes
# bench/ctypes_bench.py under `import ctypes` in both: labs() with argtypes/restype,
# a Structure c_int field read, create_string_buffer(1 MiB)+memmove+string_at.
ctypes_figures() {
    local out
    if ! out="$("$@" 2>&1)"; then
        echo "failed: $*" >&2
        echo "$out" >&2
        return 1
    fi
    printf '%s\n' "$out"
}
figure() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
g_out="$(ctypes_figures "$WASMFFI" run --allow-lib "$LIBC" "$HERE/ctypes_bench.py" "$N")"
c_out="$(ctypes_figures "$PY" "$HERE/ctypes_bench.py" "$N")"
for key in labs_ns field_ns; do
    g="$(figure "$g_out" "$key")"; c="$(figure "$c_out" "$key")"
    echo "ctypes $key: guest=$g cpython=$c ratio=$(ratio "$g" "$c")x"
done
g="$(figure "$g_out" copy_mib_s)"; c="$(figure "$c_out" copy_mib_s)"
echo "ctypes copy MiB/s (1 MiB buffer+memmove+string_at): guest=$g cpython=$c ratio=$(ratio "$c" "$g")x (time ratio)"

# ------------------------------------------------------------------ warm start
# Mean wall time of RUNS runs of `-c pass`, after one untimed run (which fills
# wasmtime's compilation cache and the OS page cache).
mean_ms() {
    "$PY" - "$RUNS" "$@" <<'PYEOF'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
total = 0.0
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total += time.perf_counter() - t0
print("%.1f" % (total / runs * 1000.0))
PYEOF
}

guest_ms="$(mean_ms "$WASMFFI" run -c pass)"
cpython_ms="$(mean_ms "$PY" -c pass)"
echo "warm start ms (mean of $RUNS): guest=$guest_ms cpython=$cpython_ms ratio=$(ratio "$guest_ms" "$cpython_ms")x"

# ---------------------------------------------------------------- interpreters
# The interpreter's own speed (bench/interp.py): the guest and the machine's
# CPython, net ns per operation.
native_i="$("$PY" "$HERE/interp.py")"
guest_i="$("$WASMFFI" run "$HERE/interp.py")"
for key in loop_add_ns builtin_call_ns python_call_ns method_call_ns attribute_read_ns sorted_cmp_20k_ms; do
    n="$(figure "$native_i" "$key")"; g="$(figure "$guest_i" "$key")"
    echo "interpreter $key: guest=$g cpython=$n ratio=$(ratio "$g" "$n")x"
done

# ------------------------------------------------------------------- callbacks
# qsort of 100 000 ints with a Python comparator, and one callback's cost
# split into the boundary and the interpreter (see bench/callbacks.py).
field() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
guest_cb="$("$WASMFFI" run --allow-lib "$LIBC" "$HERE/callbacks.py")"
raw_cb="$("$WASMFFI" run --allow-lib "$LIBC" "$HERE/callbacks.py" 100000 rawffi)"
cpython_cb="$("$PY" "$HERE/callbacks.py")"
for key in qsort_ms callback_ns boundary_ns python_call_ns; do
    g="$(field "$guest_cb" "$key")"; r="$(field "$raw_cb" "$key")"; c="$(field "$cpython_cb" "$key")"
    echo "callbacks $key: guest-ctypes=$g guest-rawffi=$r cpython-ctypes=$c ratio=$(ratio "$g" "$c")x"
done

# ------------------------------------------------------------ isolated calls
# labs through --isolate-native: every call is a round trip to the helper.
iso="$(ns_per_call "$WASMFFI" run --isolate-native --allow-lib "$LIBC" "$HERE/labs.py" 20000)"
echo "labs ns/call --isolate-native: guest=$iso in-process=$guest ratio=$(ratio "$iso" "$guest")x"

# ------------------------------------------------------------------- sqlite3
# 1,000,000 rows inserted and queried, and a query calling a Python function
# once per row, against CPython's sqlite3 on the same libsqlite3.
"$HERE/sqlite_bench.sh" "$WASMFFI"
