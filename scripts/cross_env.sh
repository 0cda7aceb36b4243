# Sourced, not run: `source scripts/cross_env.sh ARCH` sets what building
# wasmffi (or only its native helper) for another Linux architecture and
# running it under qemu-user needs. The one table of architectures the
# scripts know; host/src/policy/native_helper.rs has the run-time one.
#
# CROSS_RUST_TARGET  the Rust target
# CROSS_DEB_ARCH     Debian's name of the architecture (dpkg, `:ARCH` packages)
# CROSS_GNU_TRIPLE   the cross gcc's prefix, and its package's name (gcc-TRIPLE)
# CROSS_MULTIARCH    Debian's multiarch tuple; CROSS_LIBDIR its library directory
# CROSS_QEMU         qemu-user's binary, and its binfmt_misc entry
#
# and exports cargo's per-target linker, C compiler, runner and pkg-config
# variables, so host-side build scripts keep the build machine's tools.

case "${1:?usage: source scripts/cross_env.sh ARCH}" in
    aarch64 | arm64)
        CROSS_RUST_TARGET=aarch64-unknown-linux-gnu CROSS_DEB_ARCH=arm64
        CROSS_GNU_TRIPLE=aarch64-linux-gnu CROSS_MULTIARCH=aarch64-linux-gnu CROSS_QEMU=qemu-aarch64 ;;
    s390x)
        CROSS_RUST_TARGET=s390x-unknown-linux-gnu CROSS_DEB_ARCH=s390x
        CROSS_GNU_TRIPLE=s390x-linux-gnu CROSS_MULTIARCH=s390x-linux-gnu CROSS_QEMU=qemu-s390x ;;
    i686 | i386 | x86)
        CROSS_RUST_TARGET=i686-unknown-linux-gnu CROSS_DEB_ARCH=i386
        CROSS_GNU_TRIPLE=i686-linux-gnu CROSS_MULTIARCH=i386-linux-gnu CROSS_QEMU=qemu-i386 ;;
    armhf | armv7 | arm)
        CROSS_RUST_TARGET=armv7-unknown-linux-gnueabihf CROSS_DEB_ARCH=armhf
        CROSS_GNU_TRIPLE=arm-linux-gnueabihf CROSS_MULTIARCH=arm-linux-gnueabihf CROSS_QEMU=qemu-arm ;;
    *)
        echo "cross_env: unknown architecture '$1' (aarch64, s390x, i686, armhf)" >&2
        return 2 2>/dev/null || exit 2 ;;
esac
CROSS_LIBDIR="/usr/lib/$CROSS_MULTIARCH"

cross_target_var="${CROSS_RUST_TARGET//-/_}"
cross_target_upper="${cross_target_var^^}"
export "CARGO_TARGET_${cross_target_upper}_LINKER=$CROSS_GNU_TRIPLE-gcc"
export "CARGO_TARGET_${cross_target_upper}_RUNNER=$CROSS_QEMU"
export "CC_${cross_target_var}=$CROSS_GNU_TRIPLE-gcc"
export "PKG_CONFIG_ALLOW_CROSS_${cross_target_var}=1"
export "PKG_CONFIG_LIBDIR_${cross_target_var}=$CROSS_LIBDIR/pkgconfig:/usr/share/pkgconfig"
unset cross_target_var cross_target_upper
