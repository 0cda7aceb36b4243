#!/usr/bin/env bash
# Install what building and testing wasmffi needs on a fresh Debian machine
# with the Rust toolchain (rustup) already present. Idempotent and quiet when
# everything is there.
set -euo pipefail
# shellcheck source=scripts/installs.sh
source "$(dirname "$0")/installs.sh"

# The guest is built for wasm32-wasip2 (host/build.rs also adds it if missing).
rustup_target_add wasm32-wasip2

# libffi-dev: the host links the system libffi. The others are native
# libraries the tests and later modules call into. libpython3.11-testsuite is
# CPython 3.11's own test suite (/usr/lib/python3.11/ctypes/test/ is run in the
# guest by tests/cpython_ctypes.rs); python3.11 (libpython3.11-stdlib) ships
# its helper library lib-dynload/_ctypes_test.cpython-311-*.so. python3.11 with
# pip also fetches and lays out the CPython guest's interpreter and standard
# library (scripts/cpython_wasi.py, run by host/build.rs).
apt_install_missing setup libffi-dev pkg-config zlib1g-dev libsqlite3-dev python3.11 python3-pip \
    libpython3.11-testsuite

# --- real packages (tests/packages.rs): Debian libraries and pinned PyPI
# --- packages into target/packages; see scripts/packages.sh
"$(dirname "$0")/packages.sh"
# --- end of real packages

# --- --native-arch (tests/native_arch.rs): the cross compilers, libffi and
# --- qemu-user its helpers need; the tests build the helpers themselves
"$(dirname "$0")/native_helpers.sh" --install aarch64 s390x i686

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "setup: installing cargo-nextest" >&2
    cargo install --locked cargo-nextest
fi
