"""Real pip-installed packages in the sandbox: python-magic (the host's
libmagic) and pycryptodome (its own libraries inside the package).

    scripts/packages.sh        # pip install --target target/packages ...
    wasmffi run --site target/packages --allow-lib libmagic.so.1 \
        --allow-lib "$PWD/target/packages" examples/packages_demo.py
"""
import platform

import magic
from Crypto.Cipher import AES
from Crypto.Hash import SHA256

with open(__file__, "rb") as f:
    source = f.read()
print("running on", platform.system(), platform.machine())
print("this file is:", magic.from_buffer(source))
print("its SHA-256:", SHA256.new(source).hexdigest())
key = bytes(range(16))
sealed = AES.new(key, AES.MODE_EAX, nonce=bytes(16))
ciphertext, tag = sealed.encrypt_and_digest(b"hello from the sandbox")
opened = AES.new(key, AES.MODE_EAX, nonce=bytes(16)).decrypt_and_verify(ciphertext, tag)
print("AES-EAX round trip:", opened.decode())
