# Prints sys.argv for tests/cli.rs: `wasmffi run tests/py/argv.py a b` must give
# ['<script path>', 'a', 'b'].
import json
import sys

assert len(sys.argv) >= 1, sys.argv
assert sys.argv[0].endswith("argv.py"), sys.argv
print("ARGV0 " + sys.argv[0])
print("ARGS " + json.dumps(sys.argv[1:]))
print("OK argv")
