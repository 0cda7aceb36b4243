#!/usr/bin/env bash
# Build the wasmffi-native helper for other architectures, for
# `wasmffi run --native-arch ARCH` (host/src/native_helper.rs finds it in
# target/cross/<triple>/release/). Each takes about a minute: the crate does
# not depend on wasmtime. Needs what scripts/setup_cross.sh ARCH installs.
#
#   scripts/native_helpers.sh ARCH...     # aarch64 s390x i686 armhf
set -euo pipefail
cd "$(dirname "$0")/.."

for arch in "$@"; do
    case "$arch" in
        aarch64 | arm64) triple=aarch64-unknown-linux-gnu gcc=aarch64-linux-gnu-gcc multiarch=aarch64-linux-gnu ;;
        s390x) triple=s390x-unknown-linux-gnu gcc=s390x-linux-gnu-gcc multiarch=s390x-linux-gnu ;;
        i686 | i386 | x86) triple=i686-unknown-linux-gnu gcc=i686-linux-gnu-gcc multiarch=i386-linux-gnu ;;
        armhf | armv7 | arm) triple=armv7-unknown-linux-gnueabihf gcc=arm-linux-gnueabihf-gcc multiarch=arm-linux-gnueabihf ;;
        *) echo "native_helpers: unknown architecture '$arch' (aarch64, s390x, i686, armhf)" >&2; exit 2 ;;
    esac
    var="${triple//-/_}"
    upper="${var^^}"
    env "CARGO_TARGET_${upper}_LINKER=$gcc" "CC_${var}=$gcc" \
        "PKG_CONFIG_ALLOW_CROSS_${var}=1" \
        "PKG_CONFIG_LIBDIR_${var}=/usr/lib/$multiarch/pkgconfig:/usr/share/pkgconfig" \
        cargo build --quiet --release -p wasmffi-native --no-default-features --target "$triple" --target-dir target/cross
done
