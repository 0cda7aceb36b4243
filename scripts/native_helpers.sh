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
# shellcheck source=scripts/installs.sh
source scripts/installs.sh

install=""
if [ "${1:-}" = "--install" ]; then
    install=1
    shift
fi

for arch in "$@"; do
    (
        # shellcheck source=scripts/cross_env.sh
        source scripts/cross_env.sh "$arch"
        if [ -n "$install" ]; then
            dpkg_add_architecture native_helpers "$CROSS_DEB_ARCH"
            apt_install_missing native_helpers --no-install-recommends \
                "gcc-$CROSS_GNU_TRIPLE" "libc6-dev-$CROSS_DEB_ARCH-cross" "libffi-dev:$CROSS_DEB_ARCH" qemu-user
            # zlib for tests/native_arch.rs's library tests, where the mirror's :ARCH build
            # is the host's zlib1g version (multiarch needs both the same; s390x on
            # Debian 12 lacks the security update): else the tests expect a clear refusal.
            zlib_candidate=$(apt-cache policy "zlib1g:$CROSS_DEB_ARCH" | awk '/Candidate:/ {print $2}')
            if [ "$zlib_candidate" = "$(dpkg-query -W -f='${Version}' "zlib1g:$(dpkg --print-architecture)" 2>/dev/null)" ]; then
                apt_install_missing native_helpers --no-install-recommends "zlib1g:$CROSS_DEB_ARCH"
            fi
            rustup_target_add "$CROSS_RUST_TARGET"
        else
            cargo build --quiet --release -p wasmffi-native --no-default-features \
                --target "$CROSS_RUST_TARGET" --target-dir target/cross
        fi
    )
done
