// The key directory, client side (docs/crypto.md section 5.5): key bindings (type 0x07) as
// RFC 9162 leaves with SHA-256, inclusion and consistency proof verification, C2SP signed-note
// checkpoints, fingerprints. Every verification throws; none returns a boolean.
import { EnvelopeType, MAX_U32, Reader, bytesEqual, concat, fromBase64, prefix, toBase64, u32, utf8, uuidBytes } from "./encoding";
import { InvalidPublicKey, MalformedEnvelope, ProofInvalid, SignatureInvalid } from "./errors";
import * as sodium from "./sodium";

export const HASH_BYTES = 32;
export const LEAF_BYTES = 56;
const FINGERPRINT_CONTEXT = "colloque/fingerprint/v1";
const FINGERPRINT_BYTES = 30;
const SIGNATURE_TYPE_ED25519 = 0x01;
const MAX_NOTE_CHARS = 16 * 1024;
// eslint-disable-next-line no-control-regex
const ORIGIN = /^[^\s+\x00-\x1f]+$/u;
const TREE_SIZE = /^(0|[1-9][0-9]{0,18})$/;
const EM_DASH = "\u2014";

export const SubjectKind = { User: 0x01, Group: 0x02 } as const;
export type SubjectKind = (typeof SubjectKind)[keyof typeof SubjectKind];
export const KeyPurpose = { Encryption: 0x01, Signing: 0x02 } as const;
export type KeyPurpose = (typeof KeyPurpose)[keyof typeof KeyPurpose];

/** A public key and whom it belongs to: one leaf of the key directory. */
export interface KeyBinding {
  subjectKind: SubjectKind;
  subjectId: string;
  purpose: KeyPurpose;
  epoch: number;
  publicKey: Uint8Array;
}

export function checkBinding(binding: KeyBinding): KeyBinding {
  const kinds: number[] = Object.values(SubjectKind);
  const purposes: number[] = Object.values(KeyPurpose);
  if (!kinds.includes(binding.subjectKind) || !purposes.includes(binding.purpose)) {
    throw new MalformedEnvelope("unknown subject kind or key purpose");
  }
  if (binding.publicKey.length !== 32) throw new InvalidPublicKey("a public key is 32 bytes");
  if (!Number.isInteger(binding.epoch) || binding.epoch < 0 || binding.epoch > MAX_U32) {
    throw new MalformedEnvelope("the epoch must fit in 32 bits");
  }
  uuidBytes(binding.subjectId);
  return binding;
}

export function bindingToLeaf(binding: KeyBinding): Uint8Array {
  checkBinding(binding);
  return concat(
    prefix(EnvelopeType.KeyBinding),
    Uint8Array.of(binding.subjectKind),
    uuidBytes(binding.subjectId),
    Uint8Array.of(binding.purpose),
    u32(binding.epoch),
    binding.publicKey,
  );
}

export function bindingFromLeaf(leaf: Uint8Array): KeyBinding {
  const reader = new Reader(leaf, EnvelopeType.KeyBinding);
  const subjectKind = reader.u8() as SubjectKind;
  const subjectId = reader.uuid();
  const purpose = reader.u8() as KeyPurpose;
  const epoch = reader.u32();
  const publicKey = reader.take(32);
  reader.end();
  return checkBinding({ subjectKind, subjectId, purpose, epoch, publicKey });
}

export function leafHash(leaf: Uint8Array): Uint8Array {
  return sodium.sha256(concat(Uint8Array.of(0x00), leaf));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sodium.sha256(concat(Uint8Array.of(0x01), left, right));
}

export function emptyRoot(): Uint8Array {
  return sodium.sha256(new Uint8Array(0));
}

/** MTH(D[n]) over leaf hashes (for tests and small trees: the server keeps the log). */
export function treeRoot(leafHashes: Uint8Array[]): Uint8Array {
  const subtree = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return leafHashes[lo] as Uint8Array;
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    return nodeHash(subtree(lo, lo + k), subtree(lo + k, hi));
  };
  return leafHashes.length === 0 ? emptyRoot() : subtree(0, leafHashes.length);
}

function checkHashes(...hashes: Uint8Array[]): void {
  if (hashes.some((hash) => hash.length !== HASH_BYTES)) throw new ProofInvalid("a hash is not 32 bytes");
}

// Sizes and indexes are below 2^53 in any log we will see; the bit operations below use
// BigInt anyway, so that a hostile size cannot wrap a 32-bit operator.

/** RFC 9162 section 2.1.3.2. */
export function verifyInclusion(args: {
  leafHash: Uint8Array;
  index: number;
  treeSize: number;
  proof: Uint8Array[];
  root: Uint8Array;
}): void {
  checkHashes(args.leafHash, args.root, ...args.proof);
  if (!Number.isSafeInteger(args.index) || !Number.isSafeInteger(args.treeSize) || args.index < 0 || args.index >= args.treeSize) {
    throw new ProofInvalid("leaf index outside the tree");
  }
  let fn = BigInt(args.index);
  let sn = BigInt(args.treeSize - 1);
  let r = args.leafHash;
  for (const p of args.proof) {
    if (sn === 0n) throw new ProofInvalid("inclusion proof is too long");
    if (fn & 1n || fn === sn) {
      r = nodeHash(p, r);
      while (!(fn & 1n) && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || !sodium.equal(r, args.root)) throw new ProofInvalid("inclusion proof does not verify");
}

/** RFC 9162 section 2.1.4.2, with the trivial cases (equal sizes, empty old tree). */
export function verifyConsistency(args: {
  oldSize: number;
  newSize: number;
  oldRoot: Uint8Array;
  newRoot: Uint8Array;
  proof: Uint8Array[];
}): void {
  const { oldSize, newSize, oldRoot, newRoot, proof } = args;
  checkHashes(oldRoot, newRoot, ...proof);
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) {
    throw new ProofInvalid("a log never shrinks");
  }
  if (oldSize === newSize) {
    if (proof.length > 0 || !sodium.equal(oldRoot, newRoot)) throw new ProofInvalid("same size, different roots");
    return;
  }
  if (oldSize === 0) {
    if (proof.length > 0) throw new ProofInvalid("the empty tree needs no proof");
    return;
  }
  if (proof.length === 0) throw new ProofInvalid("consistency proof is empty");
  const path = [...proof];
  const old = BigInt(oldSize);
  if ((old & (old - 1n)) === 0n) path.unshift(oldRoot);
  let fn = old - 1n;
  let sn = BigInt(newSize) - 1n;
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofInvalid("consistency proof is too long");
    if (fn & 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!(fn & 1n) && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || !(sodium.equal(fr, oldRoot) && sodium.equal(sr, newRoot))) {
    throw new ProofInvalid("consistency proof does not verify");
  }
}

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
}

export function checkpointText(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.treeSize}\n${toBase64(checkpoint.rootHash)}\n`;
}

/** C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sodium.sha256(concat(utf8(name), Uint8Array.of(0x0a, SIGNATURE_TYPE_ED25519), publicKey)).slice(0, 4);
}

export interface NoteSignature {
  name: string;
  signature: string; // base64 of key ID (4) || signature
}

/** Splits a C2SP signed note into its signed text and signature lines (none verified). */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  // eslint-disable-next-line no-control-regex
  if (note.length > MAX_NOTE_CHARS || /[\x00-\x09\x0b-\x1f]/.test(note)) throw new ProofInvalid("malformed note");
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new ProofInvalid("malformed note");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2, -1);
  const signatures = block.split("\n").map((line) => {
    const parts = line.split(" ");
    if (parts.length !== 3 || parts[0] !== EM_DASH || !parts[1] || !parts[2]) {
      throw new ProofInvalid("malformed signature line");
    }
    return { name: parts[1], signature: parts[2] };
  });
  return { text, signatures };
}

function parseCheckpointText(text: string): Checkpoint {
  const lines = text.slice(0, -1).split("\n");
  const [origin, size, root] = lines;
  if (lines.length !== 3 || origin === undefined || size === undefined || root === undefined || !TREE_SIZE.test(size)) {
    throw new ProofInvalid("malformed checkpoint");
  }
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(root);
  } catch {
    throw new ProofInvalid("malformed checkpoint");
  }
  const treeSize = Number(size);
  if (!ORIGIN.test(origin) || !Number.isSafeInteger(treeSize) || rootHash.length !== HASH_BYTES) {
    throw new ProofInvalid("malformed checkpoint");
  }
  const checkpoint = { origin, treeSize, rootHash };
  if (checkpointText(checkpoint) !== text) throw new ProofInvalid("malformed checkpoint"); // non-canonical
  return checkpoint;
}

/** The checkpoint, if `note` carries a valid signature by the log's key. Lines from other keys
 * (witnesses) are ignored; a line from the log's key that does not verify rejects the note, as
 * does a note without one, or a checkpoint of another origin. */
export function verifyCheckpoint(note: string, origin: string, logPublicKey: Uint8Array): Checkpoint {
  const { text, signatures } = parseNote(note);
  const keyId = noteKeyId(origin, logPublicKey);
  let verified = false;
  for (const { name, signature } of signatures) {
    let raw: Uint8Array;
    try {
      raw = fromBase64(signature);
    } catch {
      throw new ProofInvalid("malformed signature line");
    }
    if (name !== origin || !bytesEqual(raw.slice(0, 4), keyId)) continue;
    try {
      sodium.ed25519Verify(raw.slice(4), utf8(text), logPublicKey);
    } catch (error) {
      if (error instanceof SignatureInvalid) throw new ProofInvalid("checkpoint signature does not verify");
      throw error;
    }
    verified = true;
  }
  if (!verified) throw new ProofInvalid("no signature by the log's key");
  const checkpoint = parseCheckpointText(text);
  if (checkpoint.origin !== origin) throw new ProofInvalid("checkpoint of another log");
  return checkpoint;
}

/** Throws unless `binding` is in the log that `checkpoint` (already verified) commits to. */
export function verifyKeyBinding(binding: KeyBinding, leafIndex: number, proof: Uint8Array[], checkpoint: Checkpoint): void {
  verifyInclusion({
    leafHash: leafHash(bindingToLeaf(binding)),
    index: leafIndex,
    treeSize: checkpoint.treeSize,
    proof,
    root: checkpoint.rootHash,
  });
}

/** Throws unless `next` extends `previous` (the log only grew). */
export function verifyCheckpointConsistency(previous: Checkpoint, next: Checkpoint, proof: Uint8Array[]): void {
  if (previous.origin !== next.origin) throw new ProofInvalid("checkpoints of different logs");
  verifyConsistency({
    oldSize: previous.treeSize,
    newSize: next.treeSize,
    oldRoot: previous.rootHash,
    newRoot: next.rootHash,
    proof,
  });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

/** Thirty digits in 6 groups of 5, for people to compare in person (about 100 bits). */
export function fingerprint(bindings: KeyBinding[]): string {
  if (bindings.length === 0) throw new RangeError("a fingerprint needs at least one key");
  const leaves = bindings.map(bindingToLeaf).sort(compareBytes);
  const digest = sodium.blake2b(concat(utf8(FINGERPRINT_CONTEXT), ...leaves), FINGERPRINT_BYTES);
  const groups: string[] = [];
  for (let i = 0; i < FINGERPRINT_BYTES; i += 5) {
    let value = 0n;
    for (const byte of digest.slice(i, i + 5)) value = (value << 8n) | BigInt(byte);
    groups.push((value % 100_000n).toString().padStart(5, "0"));
  }
  return groups.join(" ");
}

/** Throws InvalidPublicKey unless `shown` (as read out, any spacing) is the keys' fingerprint. */
export function checkFingerprint(bindings: KeyBinding[], shown: string): void {
  const expected = utf8(fingerprint(bindings).replaceAll(" ", ""));
  if (!sodium.equal(utf8(shown.split(/\s+/).join("")), expected)) throw new InvalidPublicKey("fingerprints differ");
}
