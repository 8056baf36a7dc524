// Hazardous primitives: the one module that imports libsodium (scripts/web-crypto-boundary
// checks that only the crypto worker reaches it). Each wrapper maps libsodium's failures to our
// errors, so that the recipes never see a libsodium exception. Lengths are checked by the
// envelope parsers; a wrong length reaching libsodium is a bug.
import sodium from "libsodium-wrappers-sumo";

import { DecryptionFailed, InvalidPublicKey, MalformedEnvelope, OutOfMemory, SignatureInvalid } from "./errors";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = 48;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
const ARGON2ID13 = 2;
const BOX_NONCE_BYTES = 24;

let loaded: Promise<void> | undefined;

/** libsodium compiles its WebAssembly on first use, once per worker. */
export function ready(): Promise<void> {
  loaded ??= sodium.ready;
  return loaded;
}

export function version(): string {
  return sodium.sodium_version_string();
}

export function randomBytes(size: number): Uint8Array {
  return sodium.randombytes_buf(size);
}

/** Constant-time comparison, for secrets and values derived from them. */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium.memcmp(a, b);
}

export function aeadEncrypt(plaintext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
}

export function aeadDecrypt(ciphertext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    throw new DecryptionFailed("decryption failed");
  }
}

/** ISO/IEC 7816-4 padding to a multiple of `block` (always adds at least one byte). */
export function pad(data: Uint8Array, block: number): Uint8Array {
  return sodium.pad(data, block);
}

export function unpad(data: Uint8Array, block: number): Uint8Array {
  try {
    return sodium.unpad(data, block);
  } catch {
    throw new MalformedEnvelope("bad padding");
  }
}

/** crypto_generichash: BLAKE2b with an optional key. */
export function blake2b(message: Uint8Array, length: number, key: Uint8Array | null = null): Uint8Array {
  return sodium.crypto_generichash(length, message, key);
}

/** crypto_kdf_derive_from_key; the context is 8 ASCII characters. */
export function kdfDerive(key: Uint8Array, subkeyId: number, context: string, length: number = KEY_BYTES): Uint8Array {
  return sodium.crypto_kdf_derive_from_key(length, subkeyId, context, key);
}

export function sha256(data: Uint8Array): Uint8Array {
  return sodium.crypto_hash_sha256(data);
}

/** crypto_pwhash with Argon2id v1.3. The cost is checked by the caller (login.ts): with valid
 * parameters, libsodium fails only when it cannot allocate the memory. */
export function argon2id(password: Uint8Array, salt: Uint8Array, opslimit: number, memlimit: number, length = 32): Uint8Array {
  try {
    return sodium.crypto_pwhash(length, password, salt, opslimit, memlimit, ARGON2ID13);
  } catch {
    throw new OutOfMemory("Argon2id could not allocate its memory");
  }
}

export function x25519PublicFromSecret(secret: Uint8Array): Uint8Array {
  return sodium.crypto_scalarmult_base(secret);
}

/** X25519; refuses low-order points (an all-zero shared secret), as libsodium does. */
export function x25519(secret: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return sodium.crypto_scalarmult(secret, publicKey);
  } catch {
    throw new InvalidPublicKey("public key refused (low order)");
  }
}

/** (public key, libsodium's 64-byte secret key) from a 32-byte seed. */
export function ed25519KeypairFromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const pair = sodium.crypto_sign_seed_keypair(seed);
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return sodium.crypto_sign_detached(message, secretKey);
}

/** Throws unless `signature` is a valid, canonical signature of `message` by `publicKey`
 * (libsodium refuses non-canonical S and small-order R and keys). */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): void {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new SignatureInvalid("signature does not verify");
  }
  let valid = false;
  try {
    valid = sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    valid = false;
  }
  if (!valid) throw new SignatureInvalid("signature does not verify");
}

/** crypto_box_seal: anonymous public-key encryption. */
export function seal(message: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new InvalidPublicKey("not an X25519 public key");
  try {
    return sodium.crypto_box_seal(message, publicKey);
  } catch {
    throw new InvalidPublicKey("public key refused (low order)");
  }
}

/** crypto_box_seal with the ephemeral key pair made from `seed`: TEST VECTORS ONLY (only
 * crypto/testing/ calls it). libsodium's construction: nonce = BLAKE2b-192(epk || pk), then
 * crypto_box_easy with the ephemeral secret key; output epk || box. */
export function sealWithEphemeralSeed(message: Uint8Array, publicKey: Uint8Array, seed: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new InvalidPublicKey("not an X25519 public key");
  const ephemeral = sodium.crypto_box_seed_keypair(seed);
  const nonce = blake2b(concatBytes(ephemeral.publicKey, publicKey), BOX_NONCE_BYTES);
  let box: Uint8Array;
  try {
    box = sodium.crypto_box_easy(message, nonce, publicKey, ephemeral.privateKey);
  } catch {
    throw new InvalidPublicKey("public key refused (low order)");
  }
  return concatBytes(ephemeral.publicKey, box);
}

export function sealOpen(ciphertext: Uint8Array, publicKey: Uint8Array, secret: Uint8Array): Uint8Array {
  try {
    return sodium.crypto_box_seal_open(ciphertext, publicKey, secret);
  } catch {
    throw new DecryptionFailed("decryption failed");
  }
}

// crypto_secretstream_xchacha20poly1305 (documents, docs/crypto.md 5.3). libsodium.js keeps each
// stream's state in its WebAssembly heap and hands out its address.
export const STREAM_HEADER_BYTES = 24;
export const STREAM_OVERHEAD = 17;
export const STREAM_TAG_MESSAGE = 0;
export const STREAM_TAG_FINAL = 3;

export type StreamState = ReturnType<typeof sodium.crypto_secretstream_xchacha20poly1305_init_pull>;

export function streamInitPush(key: Uint8Array): { state: StreamState; header: Uint8Array } {
  return sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
}

export function streamPush(state: StreamState, message: Uint8Array, ad: Uint8Array, final: boolean): Uint8Array {
  return sodium.crypto_secretstream_xchacha20poly1305_push(state, message, ad, final ? STREAM_TAG_FINAL : STREAM_TAG_MESSAGE);
}

export function streamInitPull(header: Uint8Array, key: Uint8Array): StreamState {
  try {
    return sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  } catch {
    throw new MalformedEnvelope("bad stream header");
  }
}

/** One chunk's plaintext and tag; anything that does not authenticate throws. */
export function streamPull(state: StreamState, ciphertext: Uint8Array, ad: Uint8Array): { message: Uint8Array; tag: number } {
  let pulled: { message: Uint8Array; tag: number } | false = false;
  try {
    pulled = sodium.crypto_secretstream_xchacha20poly1305_pull(state, ciphertext, ad);
  } catch {
    pulled = false;
  }
  if (pulled === false) throw new DecryptionFailed("a document chunk does not authenticate");
  return pulled;
}

/** BLAKE2b computed over pieces as they come (a document stream's digest). */
export class Blake2bStream {
  private readonly state: ReturnType<typeof sodium.crypto_generichash_init>;

  constructor(private readonly length: number) {
    this.state = sodium.crypto_generichash_init(null, length);
  }

  update(data: Uint8Array): void {
    sodium.crypto_generichash_update(this.state, data);
  }

  digest(): Uint8Array {
    return sodium.crypto_generichash_final(this.state, this.length);
  }
}

/** Overwrites a secret we no longer need (best effort: JavaScript may have copied it). */
export function wipe(data: Uint8Array): void {
  data.fill(0);
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
