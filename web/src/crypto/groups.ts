// Practice key groups, member side (docs/crypto.md section 5.4): one X25519 key pair per epoch,
// sealed for every member (type 0x05). Opening refuses an epoch older than the last one this
// client saw, so that a server replaying an old envelope as current is caught. A practice has a
// second group, its practitioners' ("clinical") group, whose id is derived from the practice's.
import { EnvelopeType, MAX_U32, Reader, UUID_BYTES, bytesEqual, concat, prefix, u32, utf8, uuidBytes, uuidString } from "./encoding";
import { DecryptionFailed, StaleEpoch, WrongContext } from "./errors";
import type { KeyPairHolder } from "./items";
import type { UserKeys } from "./keys";
import * as sodium from "./sodium";
import { KeyPurpose, SubjectKind, checkBinding, type KeyBinding } from "./transparency";

export const FIRST_EPOCH = 1;
const CLINICAL_GROUP_CONTEXT = "colloque/clinical-group/v1";
const HEADER_BYTES = 70;
const SEALED_BYTES = sodium.SEAL_OVERHEAD + HEADER_BYTES + 32;

/** A group's key pair for one epoch, as a member's worker holds it. */
export interface GroupKey {
  groupId: string;
  epoch: number;
  publicKey: Uint8Array;
  secret: Uint8Array;
}

/** The id of a practice's practitioners-only group (notes), as
 * colloque.crypto.groups.clinical_group_id derives it: never chosen by a server, so that it
 * cannot point a practitioner's browser at a group of its choosing. */
export function clinicalGroupId(practiceId: string): string {
  const digest = sodium.blake2b(concat(utf8(CLINICAL_GROUP_CONTEXT), uuidBytes(practiceId)), UUID_BYTES);
  // A UUIDv8 (RFC 9562, custom), as conversation ids are: derived, and still a well-formed UUID.
  digest[6] = ((digest[6] as number) & 0x0f) | 0x80;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  return uuidString(digest);
}

export function groupBinding(key: GroupKey): KeyBinding {
  return { subjectKind: SubjectKind.Group, subjectId: key.groupId, purpose: KeyPurpose.Encryption, epoch: key.epoch, publicKey: key.publicKey };
}

export function groupHolder(key: GroupKey): KeyPairHolder {
  return { encryptionSecret: key.secret, binding: groupBinding(key) };
}

export interface GroupWrapHeader {
  groupId: string;
  epoch: number;
  publicKey: Uint8Array;
  memberId: string;
}

function parse(wrap: Uint8Array): { header: GroupWrapHeader; clear: Uint8Array; sealed: Uint8Array } {
  const reader = new Reader(wrap, EnvelopeType.GroupKeyWrap);
  const header = { groupId: reader.uuid(), epoch: reader.u32(), publicKey: reader.take(32), memberId: reader.uuid() };
  const clear = reader.consumed();
  const sealed = reader.take(SEALED_BYTES);
  reader.end();
  return { header, clear, sealed };
}

/** The clear header, length checked: what a server reads without a key. */
export function readGroupWrapHeader(wrap: Uint8Array): GroupWrapHeader {
  return parse(wrap).header;
}

/** `expected` is the group's current encryption binding from the key directory;
 * `lastSeenEpoch` the highest epoch this client opened for the group (0 if none). */
export function openGroupKey(wrap: Uint8Array, expected: KeyBinding, member: UserKeys, lastSeenEpoch: number): GroupKey {
  checkBinding(expected);
  const { header, clear, sealed } = parse(wrap);
  if (header.groupId !== expected.subjectId.toLowerCase() || expected.subjectKind !== SubjectKind.Group) {
    throw new WrongContext("a key of another group");
  }
  if (header.memberId !== member.userId.toLowerCase()) throw new WrongContext("a wrap for another member");
  if (header.epoch < lastSeenEpoch) throw new StaleEpoch("an older group key presented as current");
  if (header.epoch !== expected.epoch || !bytesEqual(header.publicKey, expected.publicKey)) {
    throw new WrongContext("not the group key the key directory vouches for");
  }
  const inner = sodium.sealOpen(sealed, member.encryptionPublic, member.encryptionSecret);
  if (!bytesEqual(inner.slice(0, HEADER_BYTES), clear)) throw new WrongContext("group key wrap header does not match its sealed copy");
  const secret = inner.slice(HEADER_BYTES);
  sodium.wipe(inner);
  if (!bytesEqual(sodium.x25519PublicFromSecret(secret), header.publicKey)) {
    sodium.wipe(secret);
    throw new DecryptionFailed("the sealed group key does not match its public key");
  }
  return { groupId: header.groupId, epoch: header.epoch, publicKey: header.publicKey, secret };
}

/** Deterministic given its seed: the test vectors rebuild the stored wraps with it. */
export function wrapGroupKeyWith(key: GroupKey, member: KeyBinding, ephemeralSeed: Uint8Array | null): Uint8Array {
  checkBinding(member);
  if (member.subjectKind !== SubjectKind.User || member.purpose !== KeyPurpose.Encryption) throw new RangeError("members are users' encryption keys");
  if (key.epoch < FIRST_EPOCH || key.epoch > MAX_U32) throw new RangeError("bad epoch");
  const header = concat(prefix(EnvelopeType.GroupKeyWrap), uuidBytes(key.groupId), u32(key.epoch), key.publicKey, uuidBytes(member.subjectId));
  const plaintext = concat(header, key.secret);
  const sealed = ephemeralSeed === null ? sodium.seal(plaintext, member.publicKey) : sodium.sealWithEphemeralSeed(plaintext, member.publicKey, ephemeralSeed);
  sodium.wipe(plaintext);
  return concat(header, sealed);
}

/** A member's worker seals the current group key for a newcomer. */
export function addMember(key: GroupKey, member: KeyBinding): Uint8Array {
  return wrapGroupKeyWith(key, member, null);
}
