// Login derivation (docs/crypto.md section 4): password -> Argon2id master key -> the
// authentication key (sent to the server) and the KEK (never leaves the worker).
import { EnvelopeType, Reader, concat, prefix, u32, utf8 } from "./encoding";
import { MalformedEnvelope, WeakParameters } from "./errors";
import * as sodium from "./sodium";

const MIB = 1024 * 1024;
export const SALT_BYTES = 16;
export const KDF_PARAMS_BYTES = 27;
const ALGORITHM_ARGON2ID13 = 0x02;
const LOGIN_CONTEXT = "CQ-login";
const AUTH_KEY_ID = 1;
const KEK_ID = 2;

export interface Argon2Cost {
  opslimit: number;
  memlimit: number; // bytes, as libsodium takes it
}

export const INTERACTIVE_COST: Argon2Cost = { opslimit: 3, memlimit: 64 * MIB };
/** OWASP ASVS 5.0 / Password Storage Cheat Sheet floor for Argon2id: m >= 19 MiB, t >= 2. */
export const ASVS_MINIMUM_COST: Argon2Cost = { opslimit: 2, memlimit: 19 * MIB };
/** Above this the client refuses, so that a server cannot make it hang or exhaust memory. */
export const MAXIMUM_COST: Argon2Cost = { opslimit: 10, memlimit: 1024 * MIB };

/** A malicious server handing out weak parameters would make the authentication key it
 * receives cheap to brute-force: the floor is the client's defence. */
export function checkCost(cost: Argon2Cost, insecureAllowWeakCost = false): void {
  const tooWeak = cost.opslimit < ASVS_MINIMUM_COST.opslimit || cost.memlimit < ASVS_MINIMUM_COST.memlimit;
  if (tooWeak && !insecureAllowWeakCost) throw new WeakParameters("Argon2id parameters are below the accepted minimum");
  if (cost.opslimit > MAXIMUM_COST.opslimit || cost.memlimit > MAXIMUM_COST.memlimit) {
    throw new WeakParameters("Argon2id parameters are above the accepted maximum");
  }
}

export interface KdfParams {
  salt: Uint8Array;
  cost: Argon2Cost;
}

export function kdfParamsToBytes(params: KdfParams): Uint8Array {
  if (params.salt.length !== SALT_BYTES) throw new RangeError("the salt must be 16 bytes");
  return concat(
    prefix(EnvelopeType.KdfParams),
    Uint8Array.of(ALGORITHM_ARGON2ID13),
    u32(params.cost.opslimit),
    u32(params.cost.memlimit),
    params.salt,
  );
}

/** Parses without judging the cost: derivation does that. */
export function kdfParamsFromBytes(data: Uint8Array): KdfParams {
  const reader = new Reader(data, EnvelopeType.KdfParams);
  if (reader.u8() !== ALGORITHM_ARGON2ID13) throw new MalformedEnvelope("unsupported key-derivation algorithm");
  const opslimit = reader.u32();
  const memlimit = reader.u32();
  const salt = reader.take(SALT_BYTES);
  reader.end();
  return { salt, cost: { opslimit, memlimit } };
}

/** Argon2id of `secret` under `params` (cost checked first): the 32-byte master key. */
export function stretch(secret: Uint8Array, params: KdfParams, insecureAllowWeakCost = false): Uint8Array {
  checkCost(params.cost, insecureAllowWeakCost);
  return sodium.argon2id(secret, params.salt, params.cost.opslimit, params.cost.memlimit);
}

export interface LoginKeys {
  authKey: Uint8Array;
  kek: Uint8Array;
}

export function passwordBytes(password: string): Uint8Array {
  return utf8(password.normalize("NFC"));
}

export function deriveLoginKeys(password: string, params: KdfParams | Uint8Array, insecureAllowWeakCost = false): LoginKeys {
  const parsed = params instanceof Uint8Array ? kdfParamsFromBytes(params) : params;
  const secret = passwordBytes(password);
  const master = stretch(secret, parsed, insecureAllowWeakCost);
  sodium.wipe(secret);
  const keys = {
    authKey: sodium.kdfDerive(master, AUTH_KEY_ID, LOGIN_CONTEXT),
    kek: sodium.kdfDerive(master, KEK_ID, LOGIN_CONTEXT),
  };
  sodium.wipe(master);
  return keys;
}
