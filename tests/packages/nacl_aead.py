"""libnacl (libsodium through ctypes): AEAD, public boxes, hashing, key derivation."""
import libnacl
import libnacl.public
import libnacl.sign

key = bytes(range(32))
nonce = bytes(range(12))
aad = b"header"
ct = libnacl.crypto_aead_chacha20poly1305_ietf_encrypt(b"attack at dawn", aad, nonce, key)
print("aead", ct.hex())
print("plain", libnacl.crypto_aead_chacha20poly1305_ietf_decrypt(ct, aad, nonce, key))
print("sha256", libnacl.crypto_hash_sha256(b"abc").hex())
print("blake2b", libnacl.crypto_generichash(b"abc", key).hex())
print("auth", libnacl.crypto_auth(b"abc", bytes(32)).hex())
signer = libnacl.sign.Signer(bytes(range(100, 132)))
print("signer", signer.hex_vk().decode())
sig = signer.signature(b"message")
print("verified", libnacl.sign.Verifier(signer.hex_vk()).verify(sig + b"message"))
alice = libnacl.public.SecretKey(bytes(range(32)))
bob = libnacl.public.SecretKey(bytes(range(32, 64)))
print("alice pk", alice.hex_pk().decode())
n = bytes(24)
boxed = libnacl.crypto_box(b"hi bob", n, bob.pk, alice.sk)
print("box", boxed.hex())
print("opened", libnacl.crypto_box_open(boxed, n, alice.pk, bob.sk))
