"""pysodium (libsodium): deterministic keys, signatures, hashing, secret boxes."""
import pysodium

seed = bytes(range(32))
pk, sk = pysodium.crypto_sign_seed_keypair(seed)
print("sign pk", pk.hex())
message = b"wasmffi runs real packages"
signed = pysodium.crypto_sign(message, sk)
print("signed", signed[:16].hex(), len(signed))
print("opened", pysodium.crypto_sign_open(signed, pk))
detached = pysodium.crypto_sign_detached(message, sk)
pysodium.crypto_sign_verify_detached(detached, message, pk)
try:
    pysodium.crypto_sign_verify_detached(detached, message + b"!", pk)
except ValueError as e:
    print("forgery refused:", type(e).__name__)
print("generichash", pysodium.crypto_generichash(message, outlen=32).hex())
key = bytes(range(32, 64))
nonce = bytes(24)
box = pysodium.crypto_secretbox(message, nonce, key)
print("secretbox", box.hex())
print("unboxed", pysodium.crypto_secretbox_open(box, nonce, key))
bpk, bsk = pysodium.crypto_box_seed_keypair(bytes(32))
print("box pk", bpk.hex())
print("scalarmult", pysodium.crypto_scalarmult_curve25519_base(bytes(range(1, 33))).hex())
