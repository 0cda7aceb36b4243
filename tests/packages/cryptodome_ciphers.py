"""pycryptodome (its own ctypes-loaded libraries inside the package): ciphers, hashes, KDFs."""
from Crypto.Cipher import AES, ChaCha20_Poly1305
from Crypto.Hash import SHA256, SHA3_256, BLAKE2b, HMAC
from Crypto.Protocol.KDF import PBKDF2, scrypt
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa
from Crypto.Util.Padding import pad, unpad

key = bytes(range(16))
iv = bytes(range(16, 32))
data = b"ctypes packages in a sandbox" * 3
ct = AES.new(key, AES.MODE_CBC, iv=iv).encrypt(pad(data, 16))
print("cbc", ct.hex()[:64])
print("back", unpad(AES.new(key, AES.MODE_CBC, iv=iv).decrypt(ct), 16) == data)
gcm = AES.new(key, AES.MODE_GCM, nonce=iv[:12])
gcm.update(b"aad")
c, tag = gcm.encrypt_and_digest(data)
print("gcm", c.hex()[:32], tag.hex())
chacha = ChaCha20_Poly1305.new(key=bytes(32), nonce=bytes(12))
print("chacha", chacha.encrypt_and_digest(b"hello")[1].hex())
print("sha256", SHA256.new(data).hexdigest())
print("sha3", SHA3_256.new(data).hexdigest())
print("blake2b", BLAKE2b.new(digest_bits=256, data=data).hexdigest())
print("hmac", HMAC.new(key, data, SHA256).hexdigest())
print("pbkdf2", PBKDF2(b"password", b"salt", 32, count=1000, hmac_hash_module=SHA256).hex())
print("scrypt", scrypt(b"password", b"salt", 16, N=1024, r=8, p=1).hex())
buf = bytearray(data)
print("bytearray", SHA256.new(buf).hexdigest()[:16], SHA256.new(memoryview(data)).hexdigest()[:16])
signer_key = ECC.construct(curve="ed25519", seed=bytes(range(32)))
sig = eddsa.new(signer_key, "rfc8032").sign(b"message")
print("ed25519", sig.hex()[:32])
print("pub", signer_key.public_key().export_key(format="raw").hex())
