# The two commands of the README. Both install what is missing first.
.PHONY: setup demo test test-aarch64 bench

setup:
	@scripts/setup.sh

# Build everything (host, the wasm guest inside it) and run the example.
demo: setup
	cargo run --release -- run --allow-lib libc.so.6 --allow-lib libm.so.6 examples/libm_demo.py

# The whole test suite: unit tests and Python programs run in the guest
# against real native libraries.
test: setup
	cargo nextest run --release --no-fail-fast

# The whole test suite again, cross-built for aarch64 and run under qemu-user
# with the same guest .wasm (scripts/test_cross.sh; installs what it needs).
test-aarch64: setup
	cargo build --release
	scripts/test_cross.sh aarch64

# Side by side with CPython's ctypes on this machine (not a test).
bench: setup
	cargo build --release
	bench/run.sh target/release/wasmffi
