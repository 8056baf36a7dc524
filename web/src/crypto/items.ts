// Items (docs/crypto.md section 5.2): a visit reason with its visit type, a note, a message or
// a document description, each under its own key, key-committing, signed by its author; and
// the item key wrapped for each recipient (type 0x04, sealed boxes).
import { EnvelopeType, Reader, UUID_BYTES, bytesEqual, concat, fromUtf8, prefix, u32, utf8, uuidBytes, uuidString } from "./encoding";
import { DecryptionFailed, MalformedEnvelope, WrongContext } from "./errors";
import type { UserKeys } from "./keys";
import * as sodium from "./sodium";
import { KeyPurpose, SubjectKind, checkBinding, type KeyBinding } from "./transparency";

export const PAD_BLOCK = 256;
export const MAX_BODY_BYTES = 65_536;
const COMMITMENT_CONTEXT = "colloque/item-key-commitment/v1";
const SIGNATURE_CONTEXT = "colloque/item-signature/v1";
const CONVERSATION_CONTEXT = "colloque/conversation/v1";
const WRAP_HEADER_BYTES = 39;
const MAX_CIPHERTEXT = MAX_BODY_BYTES + PAD_BLOCK + sodium.TAG_BYTES;
const SEALED_ITEM_KEY_BYTES = sodium.SEAL_OVERHEAD + WRAP_HEADER_BYTES + sodium.KEY_BYTES;

export const ItemKind = { VisitReason: 0x01, Note: 0x02, Message: 0x03, Document: 0x04 } as const;
export type ItemKind = (typeof ItemKind)[keyof typeof ItemKind];

/** Whoever can open a wrap: a user's keys or a group's key of one epoch. */
export interface KeyPairHolder {
  encryptionSecret: Uint8Array;
  binding: KeyBinding;
}

export interface SealedItem {
  itemId: string;
  envelope: Uint8Array;
  wraps: Uint8Array[];
  itemKey: Uint8Array;
}

export interface ItemHeader {
  kind: ItemKind;
  itemId: string;
  contextId: string;
  authorId: string;
}

export interface WrapHeader {
  itemId: string;
  recipientKind: SubjectKind;
  recipientId: string;
  epoch: number;
}

export function visitReasonBody(visitTypeId: string, reason: string): Uint8Array {
  return concat(uuidBytes(visitTypeId), utf8(reason));
}

export function readVisitReason(body: Uint8Array): { visitTypeId: string; reason: string } {
  if (body.length < UUID_BYTES) throw new MalformedEnvelope("visit reason is too short");
  return { visitTypeId: uuidString(body.slice(0, UUID_BYTES)), reason: fromUtf8(body.slice(UUID_BYTES)) };
}

function commitment(itemKey: Uint8Array, itemId: string): Uint8Array {
  return sodium.blake2b(concat(utf8(COMMITMENT_CONTEXT), uuidBytes(itemId)), 32, itemKey);
}

/** The one conversation of a practice and a patient: derived by both sides, never stored. */
export function conversationId(practiceId: string, patientId: string): string {
  const digest = sodium.blake2b(concat(utf8(CONVERSATION_CONTEXT), uuidBytes(practiceId), uuidBytes(patientId)), UUID_BYTES);
  // A UUIDv8 (RFC 9562, custom): a derived id, and still a well-formed UUID for any library.
  digest[6] = ((digest[6] as number) & 0x0f) | 0x80;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  return uuidString(digest);
}

export interface SealRandomness {
  itemKey: Uint8Array;
  nonce: Uint8Array;
  ephemeralSeeds: Uint8Array[] | null; // test vectors only
}

/** Deterministic given its randomness: the test vectors call it directly. */
export function sealItemWith(
  kind: ItemKind,
  itemId: string,
  contextId: string,
  body: Uint8Array,
  author: UserKeys,
  recipients: KeyBinding[],
  random: SealRandomness,
): SealedItem {
  if (body.length > MAX_BODY_BYTES) throw new RangeError("item too large: store it as a document");
  if (recipients.length === 0) throw new RangeError("an item needs at least one recipient");
  if (random.ephemeralSeeds !== null && random.ephemeralSeeds.length !== recipients.length) throw new RangeError("one seed per recipient");
  const header = concat(
    prefix(EnvelopeType.Item),
    Uint8Array.of(kind),
    uuidBytes(itemId),
    uuidBytes(contextId),
    uuidBytes(author.userId),
    commitment(random.itemKey, itemId),
    random.nonce,
  );
  const padded = sodium.pad(body, PAD_BLOCK);
  const signed = concat(header, sodium.aeadEncrypt(padded, header, random.nonce, random.itemKey));
  sodium.wipe(padded);
  const signature = sodium.ed25519Sign(concat(utf8(SIGNATURE_CONTEXT), signed), author.signingSecret);
  const wraps = recipients.map((recipient, i) => wrapWith(random.itemKey, itemId, recipient, random.ephemeralSeeds?.[i] ?? null));
  return { itemId: itemId.toLowerCase(), envelope: concat(signed, signature), wraps, itemKey: random.itemKey };
}

export function sealItem(kind: ItemKind, itemId: string, contextId: string, body: Uint8Array, author: UserKeys, recipients: KeyBinding[]): SealedItem {
  return sealItemWith(kind, itemId, contextId, body, author, recipients, {
    itemKey: sodium.randomBytes(sodium.KEY_BYTES),
    nonce: sodium.randomBytes(sodium.NONCE_BYTES),
    ephemeralSeeds: null,
  });
}

export function wrapWith(itemKey: Uint8Array, itemId: string, recipient: KeyBinding, ephemeralSeed: Uint8Array | null): Uint8Array {
  checkBinding(recipient);
  if (recipient.purpose !== KeyPurpose.Encryption) throw new RangeError("wrap for an encryption key, not a signing key");
  if (itemKey.length !== sodium.KEY_BYTES) throw new RangeError("an item key is 32 bytes");
  const header = concat(
    prefix(EnvelopeType.ItemKeyWrap),
    uuidBytes(itemId),
    Uint8Array.of(recipient.subjectKind),
    uuidBytes(recipient.subjectId),
    u32(recipient.epoch),
  );
  const plaintext = concat(header, itemKey);
  const sealed =
    ephemeralSeed === null ? sodium.seal(plaintext, recipient.publicKey) : sodium.sealWithEphemeralSeed(plaintext, recipient.publicKey, ephemeralSeed);
  sodium.wipe(plaintext);
  return concat(header, sealed);
}

export function wrapItemKeyFor(itemKey: Uint8Array, itemId: string, recipient: KeyBinding): Uint8Array {
  return wrapWith(itemKey, itemId, recipient, null);
}

/** Opens a wrap made for `holder`: the clear header must name this item and this holder at its
 * epoch, and match the sealed copy byte for byte (a sealed box has no associated data). */
export function unwrapItemKey(wrap: Uint8Array, itemId: string, holder: KeyPairHolder): Uint8Array {
  const binding = holder.binding;
  const reader = new Reader(wrap, EnvelopeType.ItemKeyWrap);
  const wrappedForItem = reader.uuid();
  const recipientKind = reader.u8();
  const recipientId = reader.uuid();
  const epoch = reader.u32();
  const header = reader.consumed();
  const sealed = reader.take(SEALED_ITEM_KEY_BYTES);
  reader.end();
  if (wrappedForItem !== itemId.toLowerCase()) throw new WrongContext("this key wrap belongs to another item");
  if (recipientKind !== binding.subjectKind || recipientId !== binding.subjectId.toLowerCase() || epoch !== binding.epoch) {
    throw new WrongContext("this key wrap is for another recipient or epoch");
  }
  const inner = sodium.sealOpen(sealed, binding.publicKey, holder.encryptionSecret);
  if (!bytesEqual(inner.slice(0, WRAP_HEADER_BYTES), header)) throw new WrongContext("key wrap header does not match its sealed copy");
  return inner.slice(WRAP_HEADER_BYTES);
}

/** A wrap's clear header, length checked: what a server reads without a key. */
export function readWrapHeader(wrap: Uint8Array): WrapHeader {
  const reader = new Reader(wrap, EnvelopeType.ItemKeyWrap);
  const itemId = reader.uuid();
  const recipientKind = reader.u8();
  if (recipientKind !== SubjectKind.User && recipientKind !== SubjectKind.Group) throw new MalformedEnvelope("unknown recipient kind");
  const recipientId = reader.uuid();
  const epoch = reader.u32();
  reader.take(SEALED_ITEM_KEY_BYTES);
  reader.end();
  return { itemId, recipientKind, recipientId, epoch };
}

interface Parsed {
  header: ItemHeader;
  commitment: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  ciphertext: Uint8Array;
  signed: Uint8Array;
  signature: Uint8Array;
}

function parse(envelope: Uint8Array): Parsed {
  const reader = new Reader(envelope, EnvelopeType.Item);
  const kind = reader.u8();
  if (!(Object.values(ItemKind) as number[]).includes(kind)) throw new MalformedEnvelope("unknown item kind");
  const itemId = reader.uuid();
  const contextId = reader.uuid();
  const authorId = reader.uuid();
  const itemCommitment = reader.take(32);
  const nonce = reader.take(sodium.NONCE_BYTES);
  const aad = reader.consumed();
  const ciphertext = reader.takeAllBut(sodium.SIGNATURE_BYTES);
  const signed = reader.consumed();
  const signature = reader.rest();
  if (ciphertext.length < PAD_BLOCK + sodium.TAG_BYTES || ciphertext.length > MAX_CIPHERTEXT) {
    throw new MalformedEnvelope("item ciphertext has an impossible size");
  }
  return { header: { kind: kind as ItemKind, itemId, contextId, authorId }, commitment: itemCommitment, nonce, aad, ciphertext, signed, signature };
}

export function readItemHeader(envelope: Uint8Array): ItemHeader {
  return parse(envelope).header;
}

function checkAuthor(parsed: Parsed, author: KeyBinding): void {
  checkBinding(author);
  if (author.purpose !== KeyPurpose.Signing || author.subjectKind !== SubjectKind.User) throw new RangeError("the author is a user's signing key");
  if (parsed.header.authorId !== author.subjectId.toLowerCase()) throw new WrongContext("item written by someone else");
  sodium.ed25519Verify(parsed.signature, concat(utf8(SIGNATURE_CONTEXT), parsed.signed), author.publicKey);
}

/** Throws unless the envelope is signed by `author` and names it as author (no key needed). */
export function verifyItemSignature(envelope: Uint8Array, author: KeyBinding): void {
  checkAuthor(parse(envelope), author);
}

/** Checks, in the order of docs/crypto.md: version and type, kind, item and context ids, author,
 * signature, commitment; then decrypts and unpads. Returns the body. */
export function openItem(envelope: Uint8Array, kind: ItemKind, itemKey: Uint8Array, itemId: string, contextId: string, author: KeyBinding): Uint8Array {
  const parsed = parse(envelope);
  if (parsed.header.kind !== kind) throw new WrongContext("an item of another kind");
  if (parsed.header.itemId !== itemId.toLowerCase() || parsed.header.contextId !== contextId.toLowerCase()) {
    throw new WrongContext("an item of another appointment, patient or conversation");
  }
  checkAuthor(parsed, author);
  if (!sodium.equal(parsed.commitment, commitment(itemKey, itemId))) {
    throw new DecryptionFailed("the item key is not the one the author committed to");
  }
  const padded = sodium.aeadDecrypt(parsed.ciphertext, parsed.aad, parsed.nonce, itemKey);
  return sodium.unpad(padded, PAD_BLOCK);
}

// A document's description (item kind 0x04, docs/crypto.md section 5.3) -------------------------

const MAX_NAME_BYTES = 1024;
const MAX_MEDIA_TYPE_BYTES = 255;

export interface DocumentInfo {
  name: string;
  mediaType: string;
  digest: Uint8Array;
  streamKey: Uint8Array;
}

export function documentBody(info: DocumentInfo): Uint8Array {
  const name = utf8(info.name);
  const mediaType = utf8(info.mediaType);
  if (info.streamKey.length !== 32 || info.digest.length !== 32) throw new RangeError("a stream key and a digest are 32 bytes");
  if (name.length > MAX_NAME_BYTES || mediaType.length > MAX_MEDIA_TYPE_BYTES || !/^[\x00-\x7f]*$/.test(info.mediaType)) {
    throw new RangeError("file name or media type too long, or media type not ASCII");
  }
  return concat(info.streamKey, info.digest, Uint8Array.of(name.length >> 8, name.length & 0xff), name, mediaType);
}

export function readDocumentBody(body: Uint8Array): DocumentInfo {
  if (body.length < 66) throw new MalformedEnvelope("document description is too short");
  const nameLength = ((body[64] as number) << 8) | (body[65] as number);
  if (nameLength > MAX_NAME_BYTES || body.length < 66 + nameLength) throw new MalformedEnvelope("document description has a bad name length");
  const mediaType = body.slice(66 + nameLength);
  if (mediaType.length > MAX_MEDIA_TYPE_BYTES || !mediaType.every((byte) => byte <= 0x7f)) {
    throw new MalformedEnvelope("document description has a bad media type");
  }
  return {
    streamKey: body.slice(0, 32),
    digest: body.slice(32, 64),
    name: fromUtf8(body.slice(66, 66 + nameLength)),
    mediaType: fromUtf8(mediaType),
  };
}
