#!/usr/bin/env bash
# The real PyPI packages tests/packages.rs runs (their native access is
# ctypes), and the Debian libraries they load: installed into a
# project-local target directory, never the system's site-packages.
# Idempotent: a stamp of the pinned list skips pip when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN=(libmagic1 libzbar0 libsodium23 libopus0 libenchant-2-2 hunspell-en-us
        libarchive13 libmagickwand-6.q16-6 libdmtx0b libudev1 fonts-dejavu-core)
PACKAGES=(python-magic==0.4.27 freetype-py==2.5.1 pyzbar==0.1.9 pysodium==0.7.19
          libnacl==2.1.0 opuslib==3.0.1 pyenchant==3.3.0 libarchive-c==5.3
          Wand==0.7.2 pylibdmtx==0.1.10 pycryptodome==4.4.0 pyudev==0.24.5)
TARGET=target/packages

# shellcheck source=scripts/installs.sh
source scripts/installs.sh
apt_install_missing packages "${DEBIAN[@]}"

stamp="$TARGET/.wasmffi-packages"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${PACKAGES[*]}" ]; then
    echo "packages: pip install --target $TARGET ${PACKAGES[*]}" >&2
    rm -rf "$TARGET"
    # --target never touches the interpreter's own site-packages, so a
    # Debian python's "externally managed" guard does not apply.
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check \
        --no-compile --root-user-action=ignore --target "$TARGET" "${PACKAGES[@]}"
    echo "${PACKAGES[*]}" > "$stamp"
fi
