#!/usr/bin/env bash
# Build the wasmffi-native helper for other architectures, for
# `wasmffi run --native-arch ARCH` (host/src/policy/native_helper.rs finds it in
# target/cross/<triple>/release/). Each takes about a minute: the crate does
# not depend on wasmtime.
#
#   scripts/native_helpers.sh ARCH...            # aarch64 s390x i686 armhf
#   scripts/native_helpers.sh --install ARCH...  # only install what they need
#
# --install (Debian, as root or with sudo; idempotent, quiet when done): the
# architecture in dpkg, its cross C compiler and libc, its libffi, qemu-user,
# and the Rust target. Only what the helper needs: running the whole suite on
# another architecture is scripts/setup_cross.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."

install=""
if [ "${1:-}" = "--install" ]; then
    install=1
    shift
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

for arch in "$@"; do
    case "$arch" in
        aarch64 | arm64) triple=aarch64-unknown-linux-gnu gcc=aarch64-linux-gnu-gcc multiarch=aarch64-linux-gnu deb=arm64 ;;
        s390x) triple=s390x-unknown-linux-gnu gcc=s390x-linux-gnu-gcc multiarch=s390x-linux-gnu deb=s390x ;;
        i686 | i386 | x86) triple=i686-unknown-linux-gnu gcc=i686-linux-gnu-gcc multiarch=i386-linux-gnu deb=i386 ;;
        armhf | armv7 | arm) triple=armv7-unknown-linux-gnueabihf gcc=arm-linux-gnueabihf-gcc multiarch=arm-linux-gnueabihf deb=armhf ;;
        *) echo "native_helpers: unknown architecture '$arch' (aarch64, s390x, i686, armhf)" >&2; exit 2 ;;
    esac
    if [ -n "$install" ]; then
        if ! dpkg --print-foreign-architectures | grep -qx "$deb"; then
            echo "native_helpers: adding the $deb architecture to dpkg" >&2
            $SUDO dpkg --add-architecture "$deb"
            $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
        fi
        missing=()
        for pkg in "gcc-${gcc%-gcc}" "libc6-dev-$deb-cross" "libffi-dev:$deb" qemu-user; do
            dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
        done
        if [ ${#missing[@]} -gt 0 ]; then
            echo "native_helpers: installing ${missing[*]}" >&2
            $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
                --no-install-recommends "${missing[@]}"
        fi
        if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$triple"; then
            rustup target add "$triple"
        fi
        continue
    fi
    var="${triple//-/_}"
    upper="${var^^}"
    env "CARGO_TARGET_${upper}_LINKER=$gcc" "CC_${var}=$gcc" \
        "PKG_CONFIG_ALLOW_CROSS_${var}=1" \
        "PKG_CONFIG_LIBDIR_${var}=/usr/lib/$multiarch/pkgconfig:/usr/share/pkgconfig" \
        cargo build --quiet --release -p wasmffi-native --no-default-features --target "$triple" --target-dir target/cross
done
