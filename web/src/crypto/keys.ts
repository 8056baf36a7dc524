// A user's key pairs and their two sealed copies (docs/crypto.md section 5.1): under the login
// KEK (type 0x01) and under a recovery code (type 0x02), plus the recovery code's text format.
import { EnvelopeType, MAX_U32, Reader, bytesEqual, concat, prefix, u32, uuidBytes } from "./encoding";
import { DecryptionFailed, MalformedEnvelope, WrongContext } from "./errors";
import { INTERACTIVE_COST, KDF_PARAMS_BYTES, SALT_BYTES, kdfParamsFromBytes, kdfParamsToBytes, stretch, type Argon2Cost, type KdfParams } from "./login";
import * as sodium from "./sodium";
import { KeyPurpose, SubjectKind, type KeyBinding } from "./transparency";

const RECOVERY_CONTEXT = "CQ-recov";
const RECOVERY_KEY_ID = 1;
export const RECOVERY_CODE_BYTES = 20;
export const FIRST_EPOCH = 1;
const PLAINTEXT_BYTES = 64;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A user's unlocked key pairs: they live in the worker's memory only. */
export interface UserKeys {
  userId: string;
  epoch: number;
  encryptionPublic: Uint8Array;
  encryptionSecret: Uint8Array;
  signingPublic: Uint8Array;
  signingSeed: Uint8Array;
  signingSecret: Uint8Array; // libsodium's 64-byte form, derived from the seed
}

export function encryptionBinding(keys: UserKeys): KeyBinding {
  return {
    subjectKind: SubjectKind.User,
    subjectId: keys.userId,
    purpose: KeyPurpose.Encryption,
    epoch: keys.epoch,
    publicKey: keys.encryptionPublic,
  };
}

export function signingBinding(keys: UserKeys): KeyBinding {
  return { subjectKind: SubjectKind.User, subjectId: keys.userId, purpose: KeyPurpose.Signing, epoch: keys.epoch, publicKey: keys.signingPublic };
}

export function wipeKeys(keys: UserKeys): void {
  sodium.wipe(keys.encryptionSecret);
  sodium.wipe(keys.signingSeed);
  sodium.wipe(keys.signingSecret);
}

/** What the server stores for a user. */
export interface KeyBundle {
  userId: string;
  epoch: number;
  encryptionPublic: Uint8Array;
  signingPublic: Uint8Array;
  sealedByPassword: Uint8Array;
  sealedByRecovery: Uint8Array;
}

// Recovery codes ------------------------------------------------------------------------------

/** 20 random bytes shown once as RFC 4648 base32 (no padding) in 8 groups of 4 joined by "-". */
export function recoveryCodeText(raw: Uint8Array): string {
  if (raw.length !== RECOVERY_CODE_BYTES) throw new RangeError("a recovery code is 20 bytes");
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of raw) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return (out.match(/.{4}/g) ?? []).join("-");
}

/** Accepts any case, spaces and hyphens; throws MalformedEnvelope otherwise. */
export function parseRecoveryCode(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, "").replaceAll("-", "").toUpperCase();
  if (compact.length !== 32) throw new MalformedEnvelope("a recovery code has 32 characters");
  const out = new Uint8Array(RECOVERY_CODE_BYTES);
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const ch of compact) {
    const digit = BASE32.indexOf(ch);
    if (digit < 0) throw new MalformedEnvelope("not a recovery code");
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

function recoveryKey(code: Uint8Array, params: KdfParams, insecureAllowWeakCost: boolean): Uint8Array {
  const master = stretch(code, params, insecureAllowWeakCost);
  const key = sodium.kdfDerive(master, RECOVERY_KEY_ID, RECOVERY_CONTEXT);
  sodium.wipe(master);
  return key;
}

// Sealing and opening ---------------------------------------------------------------------------

export function keysFromSecrets(userId: string, epoch: number, encryptionSecret: Uint8Array, signingSeed: Uint8Array): UserKeys {
  const signing = sodium.ed25519KeypairFromSeed(signingSeed);
  return {
    userId,
    epoch,
    encryptionPublic: sodium.x25519PublicFromSecret(encryptionSecret),
    encryptionSecret,
    signingPublic: signing.publicKey,
    signingSeed,
    signingSecret: signing.secretKey,
  };
}

export function sealKeys(keys: UserKeys, key: Uint8Array, recoveryParams: KdfParams | null, nonce: Uint8Array): Uint8Array {
  const type = recoveryParams === null ? EnvelopeType.PrivateKeysLogin : EnvelopeType.PrivateKeysRecovery;
  const header = concat(
    prefix(type),
    uuidBytes(keys.userId),
    u32(keys.epoch),
    keys.encryptionPublic,
    keys.signingPublic,
    recoveryParams === null ? new Uint8Array(0) : kdfParamsToBytes(recoveryParams),
    nonce,
  );
  const plaintext = concat(keys.encryptionSecret, keys.signingSeed);
  const sealed = concat(header, sodium.aeadEncrypt(plaintext, header, nonce, key));
  sodium.wipe(plaintext);
  return sealed;
}

interface Parsed {
  userId: string;
  epoch: number;
  encryptionPublic: Uint8Array;
  signingPublic: Uint8Array;
  kdfParams: KdfParams | null;
  nonce: Uint8Array;
  header: Uint8Array;
  ciphertext: Uint8Array;
}

function parse(sealed: Uint8Array, byRecovery: boolean, userId: string): Parsed {
  const reader = new Reader(sealed, byRecovery ? EnvelopeType.PrivateKeysRecovery : EnvelopeType.PrivateKeysLogin);
  const sealedFor = reader.uuid();
  const epoch = reader.u32();
  const encryptionPublic = reader.take(32);
  const signingPublic = reader.take(32);
  const kdfParams = byRecovery ? kdfParamsFromBytes(reader.take(KDF_PARAMS_BYTES)) : null;
  const nonce = reader.take(sodium.NONCE_BYTES);
  const header = reader.consumed();
  const ciphertext = reader.take(PLAINTEXT_BYTES + sodium.TAG_BYTES);
  reader.end();
  if (sealedFor !== userId.toLowerCase()) throw new WrongContext("these keys belong to another user");
  return { userId: sealedFor, epoch, encryptionPublic, signingPublic, kdfParams, nonce, header, ciphertext };
}

function open(parsed: Parsed, key: Uint8Array): UserKeys {
  const plaintext = sodium.aeadDecrypt(parsed.ciphertext, parsed.header, parsed.nonce, key);
  const keys = keysFromSecrets(parsed.userId, parsed.epoch, plaintext.slice(0, 32), plaintext.slice(32));
  sodium.wipe(plaintext);
  // Only whoever holds the key could have sealed such a mismatch.
  if (!bytesEqual(keys.encryptionPublic, parsed.encryptionPublic) || !bytesEqual(keys.signingPublic, parsed.signingPublic)) {
    wipeKeys(keys);
    throw new DecryptionFailed("sealed keys do not match their public keys");
  }
  return keys;
}

export function unlockWithKek(sealedByPassword: Uint8Array, userId: string, kek: Uint8Array): UserKeys {
  return open(parse(sealedByPassword, false, userId), kek);
}

export function unlockWithRecoveryCode(sealedByRecovery: Uint8Array, userId: string, code: string | Uint8Array, insecureAllowWeakCost = false): UserKeys {
  const raw = typeof code === "string" ? parseRecoveryCode(code) : code;
  const parsed = parse(sealedByRecovery, true, userId);
  const key = recoveryKey(raw, parsed.kdfParams as KdfParams, insecureAllowWeakCost);
  try {
    return open(parsed, key);
  } finally {
    sodium.wipe(key);
  }
}

/** The clear header a server checks: what the sealed copy claims without opening it. */
export function readSealedKeysHeader(
  sealed: Uint8Array,
  userId: string,
  byRecovery = false,
): { epoch: number; encryptionPublic: Uint8Array; signingPublic: Uint8Array } {
  const parsed = parse(sealed, byRecovery, userId);
  return { epoch: parsed.epoch, encryptionPublic: parsed.encryptionPublic, signingPublic: parsed.signingPublic };
}

export interface CreateKeyBundleRandomness {
  encryptionSecret: Uint8Array;
  signingSeed: Uint8Array;
  recoveryCode: Uint8Array;
  recoveryParams: KdfParams;
  loginNonce: Uint8Array;
  recoveryNonce: Uint8Array;
}

/** Deterministic given its randomness: the test vectors call it directly. */
export function createKeyBundleWith(
  userId: string,
  kek: Uint8Array,
  epoch: number,
  random: CreateKeyBundleRandomness,
  insecureAllowWeakCost = false,
): { bundle: KeyBundle; keys: UserKeys; recoveryCode: string } {
  const keys = keysFromSecrets(userId.toLowerCase(), epoch, random.encryptionSecret, random.signingSeed);
  const key = recoveryKey(random.recoveryCode, random.recoveryParams, insecureAllowWeakCost);
  const bundle: KeyBundle = {
    userId: keys.userId,
    epoch,
    encryptionPublic: keys.encryptionPublic,
    signingPublic: keys.signingPublic,
    sealedByPassword: sealKeys(keys, kek, null, random.loginNonce),
    sealedByRecovery: sealKeys(keys, key, random.recoveryParams, random.recoveryNonce),
  };
  sodium.wipe(key);
  return { bundle, keys, recoveryCode: recoveryCodeText(random.recoveryCode) };
}

/** Sign-up (or a key reset, with the next epoch): new key pairs sealed under `kek` and under a
 * new recovery code, to be shown once. */
export function createKeyBundle(
  userId: string,
  kek: Uint8Array,
  epoch: number = FIRST_EPOCH,
  recoveryCost: Argon2Cost = INTERACTIVE_COST,
  insecureAllowWeakCost = false,
): { bundle: KeyBundle; keys: UserKeys; recoveryCode: string } {
  if (!Number.isInteger(epoch) || epoch < FIRST_EPOCH || epoch > MAX_U32) throw new RangeError("a key epoch is between 1 and 2**32 - 1");
  const recoveryCode = sodium.randomBytes(RECOVERY_CODE_BYTES);
  const result = createKeyBundleWith(
    userId,
    kek,
    epoch,
    {
      encryptionSecret: sodium.randomBytes(32),
      signingSeed: sodium.randomBytes(32),
      recoveryCode,
      recoveryParams: { salt: sodium.randomBytes(SALT_BYTES), cost: recoveryCost },
      loginNonce: sodium.randomBytes(sodium.NONCE_BYTES),
      recoveryNonce: sodium.randomBytes(sodium.NONCE_BYTES),
    },
    insecureAllowWeakCost,
  );
  sodium.wipe(recoveryCode);
  return result;
}

/** After a recovery or a password change: the same keys under a new KEK. */
export function sealForKek(keys: UserKeys, kek: Uint8Array): Uint8Array {
  return sealKeys(keys, kek, null, sodium.randomBytes(sodium.NONCE_BYTES));
}

/** A new recovery code for keys already unlocked (renewal, as colloque.crypto.keys's
 * new_recovery_envelope): 160 fresh random bits, a salt of its own, the server's cost. */
export function newRecoveryEnvelope(keys: UserKeys, cost: Argon2Cost = INTERACTIVE_COST, insecureAllowWeakCost = false): { sealedByRecovery: Uint8Array; recoveryCode: string } {
  const code = sodium.randomBytes(RECOVERY_CODE_BYTES);
  const params: KdfParams = { salt: sodium.randomBytes(SALT_BYTES), cost };
  const key = recoveryKey(code, params, insecureAllowWeakCost);
  const sealedByRecovery = sealKeys(keys, key, params, sodium.randomBytes(sodium.NONCE_BYTES));
  sodium.wipe(key);
  const recoveryCode = recoveryCodeText(code);
  sodium.wipe(code);
  return { sealedByRecovery, recoveryCode };
}
