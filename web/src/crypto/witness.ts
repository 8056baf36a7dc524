// Witness cosignatures over key directory checkpoints (docs/crypto.md section 5.12; C2SP
// tlog-cosignature v1, Ed25519). A client that requires k of its pinned witnesses cannot be shown
// a fork or a rollback unless k witnesses collude with the log's operator. Every check throws.
import { concat, fromBase64, toBase64, utf8 } from "./encoding";
import { ProofInvalid, SignatureInvalid } from "./errors";
import * as sodium from "./sodium";
import { checkpointText, parseNote, verifyCheckpoint, type Checkpoint } from "./transparency";

const COSIGNATURE_TYPE_ED25519 = 0x04;
const KEY_ID_BYTES = 4;
const TIMESTAMP_BYTES = 8;
const COSIGNATURE_BYTES = KEY_ID_BYTES + TIMESTAMP_BYTES + 64;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

/** SHA-256(name || 0x0A || 0x04 || public key)[:4]: never the same key's note key ID. */
export function cosignatureKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sodium.sha256(concat(utf8(name), Uint8Array.of(0x0a, COSIGNATURE_TYPE_ED25519), publicKey)).slice(0, KEY_ID_BYTES);
}

/** What a cosignature signs: the header line, the time line, then the checkpoint body. */
export function cosignedMessage(checkpoint: Checkpoint, timestamp: bigint): Uint8Array {
  if (timestamp < 0n || timestamp > MAX_TIMESTAMP) throw new RangeError("a cosignature timestamp is between 0 and 2^63 - 1");
  return utf8(`cosignature/v1\ntime ${timestamp}\n${checkpointText(checkpoint)}`);
}

/** A witness's cosignature line (test vectors and tests; witnesses are servers). */
export function cosign(checkpoint: Checkpoint, name: string, seed: Uint8Array, timestamp: bigint): string {
  const pair = sodium.ed25519KeypairFromSeed(seed);
  const time = new Uint8Array(TIMESTAMP_BYTES);
  new DataView(time.buffer).setBigUint64(0, timestamp);
  const signature = sodium.ed25519Sign(cosignedMessage(checkpoint, timestamp), pair.secretKey);
  return `\u2014 ${name} ${toBase64(concat(cosignatureKeyId(name, pair.publicKey), time, signature))}\n`;
}

export interface Cosignature {
  name: string;
  timestamp: bigint; // POSIX seconds, as the witness says
}

/** Throws unless `encoded` (a signature line's base64, named `name`) is a cosignature of
 * `checkpoint` by the witness key `publicKey`. */
export function verifyCosignature(checkpoint: Checkpoint, name: string, publicKey: Uint8Array, encoded: string): Cosignature {
  let raw: Uint8Array;
  try {
    raw = fromBase64(encoded);
  } catch {
    throw new ProofInvalid("malformed cosignature");
  }
  if (raw.length !== COSIGNATURE_BYTES || !sodium.equal(raw.slice(0, KEY_ID_BYTES), cosignatureKeyId(name, publicKey))) {
    throw new ProofInvalid("not a cosignature by this witness key");
  }
  const timestamp = new DataView(raw.buffer, raw.byteOffset + KEY_ID_BYTES, TIMESTAMP_BYTES).getBigUint64(0);
  if (timestamp > MAX_TIMESTAMP) throw new ProofInvalid("cosignature timestamp out of range");
  try {
    sodium.ed25519Verify(raw.slice(KEY_ID_BYTES + TIMESTAMP_BYTES), cosignedMessage(checkpoint, timestamp), publicKey);
  } catch (error) {
    if (error instanceof SignatureInvalid) throw new ProofInvalid("cosignature does not verify");
    throw error;
  }
  return { name, timestamp };
}

/** The checkpoint, if `note` is signed by the log and cosigned by at least `threshold` distinct
 * witnesses among `witnesses` (name -> Ed25519 public key), each at `notBefore` (POSIX seconds)
 * or later. Lines of other names or keys, and cosignatures that do not verify, are not counted;
 * only the count decides. A threshold of 0 is the log's signature alone. */
export function verifyWitnessedCheckpoint(
  note: string,
  origin: string,
  logPublicKey: Uint8Array,
  witnesses: Map<string, Uint8Array>,
  threshold: number,
  notBefore = 0n,
): Checkpoint {
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > witnesses.size) {
    throw new RangeError("the threshold must be between 0 and the number of witnesses");
  }
  const checkpoint = verifyCheckpoint(note, origin, logPublicKey);
  if (threshold === 0) return checkpoint;
  const cosigned = new Set<string>();
  for (const { name, signature } of parseNote(note).signatures) {
    const publicKey = witnesses.get(name);
    if (publicKey === undefined || cosigned.has(name)) continue;
    let found: Cosignature;
    try {
      found = verifyCosignature(checkpoint, name, publicKey, signature);
    } catch (error) {
      if (error instanceof ProofInvalid) continue;
      throw error;
    }
    if (found.timestamp >= notBefore) cosigned.add(name);
  }
  if (cosigned.size < threshold) throw new ProofInvalid("too few witnesses cosigned this checkpoint");
  return checkpoint;
}
