#!/usr/bin/env bash
# Cross-build wasmffi (host and tests) for another Linux architecture and run
# the whole test suite under qemu-user, with the very guest the native build
# embeds: the guest is built once, for wasm32-wasip2, and never per host.
#
#   scripts/test_cross.sh ARCH [NEXTEST ARGS...]     # ARCH: aarch64
#
# Needs the native build first (`cargo build --release`: it builds the guest);
# `make test-aarch64` does both. Everything of the stage lives in target/cross
# (its own cargo lock, and the compiled-guest cache: empty it for a cold run).
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:?usage: scripts/test_cross.sh ARCH [NEXTEST ARGS...]}"
shift
scripts/setup_cross.sh "$arch"
# shellcheck source=scripts/cross_env.sh
source scripts/cross_env.sh "$arch"

target_dir=target/cross
native_bin=target/release/wasmffi
cross_bin="$target_dir/$CROSS_RUST_TARGET/release/wasmffi"
native_guest="${WASMFFI_GUEST_WASM:-target/guest/wasm32-wasip2/guest/wasmffi-guest.wasm}"
stdlib="${WASMFFI_CPYTHON_WASI:-$PWD/target/cpython-wasi}/python311.zip"
for built in "$native_bin" "$native_guest" "$stdlib"; do
    [ -f "$built" ] || { echo "test_cross: no $built: run \`cargo build --release\` first" >&2; exit 1; }
done

# Copies of both, so that a guest or standard library rebuilt meanwhile cannot
# slip into this build; copied only when changed, so that cargo does not
# rebuild the host for nothing.
snapshot="$target_dir/guest"
mkdir -p "$snapshot"
cmp -s "$native_guest" "$snapshot/wasmffi-guest.wasm" || cp "$native_guest" "$snapshot/wasmffi-guest.wasm"
cmp -s "$stdlib" "$snapshot/python311.zip" || cp "$stdlib" "$snapshot/python311.zip"
export WASMFFI_GUEST_WASM="$PWD/$snapshot/wasmffi-guest.wasm"
export WASMFFI_CPYTHON_WASI="$PWD/$snapshot"
# The probe (`_probe`) and the tests' truth programs compile C for the machine
# the host runs on: under qemu that is the target, not the build machine.
export CC="$CROSS_GNU_TRIPLE-gcc"
# The cross stage's compiled guests and probe answers, apart from the native ones.
export WASMFFI_CACHE_DIR="$PWD/$target_dir/cache"
# The few assertions that cannot hold at emulated speed say so (tests/common).
export WASMFFI_TEST_EMULATOR="$CROSS_QEMU"
# Tests crash native code on purpose: no core files.
ulimit -c 0

cargo_args=(--release --target "$CROSS_RUST_TARGET" --target-dir "$target_dir")
cargo nextest run "${cargo_args[@]}" --no-run

# The same guest and standard library, byte for byte, in both builds.
python3 - "$WASMFFI_GUEST_WASM" "$WASMFFI_CPYTHON_WASI/python311.zip" -- "$native_bin" "$cross_bin" <<'EOF'
import hashlib, sys
split = sys.argv.index("--")
artifacts, binaries = sys.argv[1:split], sys.argv[split + 1:]
images = {b: open(b, "rb").read() for b in binaries}
for artifact in artifacts:
    data = open(artifact, "rb").read()
    print(f"test_cross: {artifact}: sha256 {hashlib.sha256(data).hexdigest()}", file=sys.stderr)
    for binary, image in images.items():
        if image.find(data) < 0:
            sys.exit(f"test_cross: {binary} does not embed {artifact}: rebuild it")
EOF

# Each test process that finds no compiled guest compiles it (~80 s under
# qemu, no lock between them): compile it once per engine configuration (with
# and without a deadline) before the tests run in parallel.
mkdir -p "$WASMFFI_CACHE_DIR"
warm() { "$CROSS_QEMU" "$cross_bin" run "$@" -c pass || { echo "test_cross: warming the cache failed" >&2; exit 1; }; }
warm &
warm_plain=$!
warm --cpu-time 600s
wait "$warm_plain"

cargo nextest run "${cargo_args[@]}" --no-fail-fast "$@"
