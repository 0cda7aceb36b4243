#!/usr/bin/env bash
# Install what cross-building wasmffi for another Linux architecture and
# running it under qemu-user needs, on a Debian machine (as root, or with sudo).
# Idempotent and quiet when everything is there.
#
#   scripts/setup_cross.sh ARCH        # ARCH: aarch64 (see scripts/cross_env.sh)
#
# What: Debian's multiarch for ARCH, the cross C compiler and libc, the `:ARCH`
# libraries the host links and the tests load (libffi, zlib, sqlite3, and
# libpython3.11-stdlib for CPython's _ctypes_test helper), qemu-user registered
# with binfmt_misc (the host re-executes itself for --isolate-native, and the
# tests run the CLI and compiled C programs: the kernel must hand those to
# qemu), and the Rust standard library for the target.
# Installing `:ARCH` libraries upgrades the matching amd64 ones in step.
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:?usage: scripts/setup_cross.sh ARCH}"
# shellcheck source=scripts/cross_env.sh
source scripts/cross_env.sh "$arch"

# shellcheck source=scripts/installs.sh
source scripts/installs.sh

dpkg_add_architecture setup_cross "$CROSS_DEB_ARCH"
apt_install_missing setup_cross --no-install-recommends \
    "gcc-$CROSS_GNU_TRIPLE" "libc6-dev-$CROSS_DEB_ARCH-cross" \
    "libffi-dev:$CROSS_DEB_ARCH" "zlib1g-dev:$CROSS_DEB_ARCH" \
    "libsqlite3-dev:$CROSS_DEB_ARCH" "libpython3.11-stdlib:$CROSS_DEB_ARCH" \
    qemu-user binfmt-support qemu-user-binfmt

# binfmt_misc is not mounted in every container; qemu-user-binfmt's entries are
# registered by update-binfmts once it is.
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
    echo "setup_cross: mounting binfmt_misc" >&2
    $APT_SUDO mount -t binfmt_misc binfmt_misc "$binfmt"
fi
if ! grep -qx enabled "$binfmt/$CROSS_QEMU" 2>/dev/null; then
    echo "setup_cross: registering $CROSS_QEMU with binfmt_misc" >&2
    $APT_SUDO update-binfmts --import "$CROSS_QEMU" >/dev/null 2>&1 || true
    $APT_SUDO update-binfmts --enable "$CROSS_QEMU"
fi

rustup_target_add "$CROSS_RUST_TARGET"
