// Signed statements in the key directory log (docs/crypto.md section 5.12): who vouches for a new
// key epoch (key endorsements, 0x0A), the hash-linked membership chain of a group (0x0B), and a
// group epoch's key with the members it was wrapped for (0x0C). Each is signed with Ed25519 over
// a domain string and every byte before the signature. Every check throws; none returns a boolean.
import { EnvelopeType, MAX_U32, Reader, concat, prefix, u32, utf8, uuidBytes } from "./encoding";
import { MalformedEnvelope, ProofInvalid, WrongContext } from "./errors";
import { clinicalGroupId } from "./groups";
import * as sodium from "./sodium";
import { HASH_BYTES, KeyPurpose, SubjectKind, bindingToLeaf, leafHash, type KeyBinding } from "./transparency";

const SIGNATURE_BYTES = 64;
const ENDORSEMENT_DOMAIN = "colloque/key-endorsement/v1";
const MEMBERSHIP_DOMAIN = "colloque/membership/v1";
const GROUP_EPOCH_DOMAIN = "colloque/group-epoch/v1";
const MEMBER_SET_DOMAIN = "colloque/member-set/v1";
export const GENESIS_PREVIOUS = new Uint8Array(HASH_BYTES);

export const EndorsementKind = { Rotation: 0x01, Reset: 0x02 } as const;
export type EndorsementKind = (typeof EndorsementKind)[keyof typeof EndorsementKind];
export const Role = { Removed: 0x00, Practitioner: 0x01, Secretary: 0x02, Admin: 0x03 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Whoever signs: a user's unlocked keys (UserKeys fits). */
export interface Signer {
  userId: string;
  epoch: number;
  signingSecret: Uint8Array;
}

function checkU32(...values: number[]): void {
  if (values.some((v) => !Number.isInteger(v) || v < 0 || v > MAX_U32)) throw new RangeError("a number does not fit in 32 bits");
}

function bindingHash(binding: KeyBinding): Uint8Array {
  return leafHash(bindingToLeaf(binding));
}

/** Throws unless `key` is `signer`'s signing key and made `signature`. */
function verifySigned(domain: string, signed: Uint8Array, signature: Uint8Array, key: KeyBinding, signer: string): void {
  if (key.subjectKind !== SubjectKind.User || key.subjectId.toLowerCase() !== signer || key.purpose !== KeyPurpose.Signing) {
    throw new WrongContext("not the signer's signing key");
  }
  sodium.ed25519Verify(signature, concat(utf8(domain), signed), key.publicKey);
}

function sign(domain: string, signed: Uint8Array, signer: Signer): Uint8Array {
  return concat(signed, sodium.ed25519Sign(concat(utf8(domain), signed), signer.signingSecret));
}

/** The signing keys statements were made with, by `${account id}:${signing epoch}`, each already
 * proven in the log by the caller. */
export type SigningKeys = Map<string, KeyBinding>;

export function signingKeysOf(bindings: KeyBinding[]): SigningKeys {
  return new Map(bindings.map((b) => [`${b.subjectId.toLowerCase()}:${b.epoch}`, b]));
}

function signingKey(keys: SigningKeys, signer: string, epoch: number): KeyBinding {
  const key = keys.get(`${signer}:${epoch}`);
  if (key === undefined) throw new ProofInvalid("no proven signing key for the signer");
  return key;
}

// Key endorsements (0x0A) -----------------------------------------------------------------------

export interface KeyEndorsement {
  userId: string;
  epoch: number;
  kind: EndorsementKind;
  encryptionLeafHash: Uint8Array;
  signingLeafHash: Uint8Array;
  signerEpoch: number;
  signed: Uint8Array;
  signature: Uint8Array;
}

export function endorsementFromLeaf(leaf: Uint8Array): KeyEndorsement {
  const reader = new Reader(leaf, EnvelopeType.KeyEndorsement);
  const userId = reader.uuid();
  const epoch = reader.u32();
  const kind = reader.u8();
  if (kind !== EndorsementKind.Rotation && kind !== EndorsementKind.Reset) throw new MalformedEnvelope("unknown endorsement kind");
  const encryptionLeafHash = reader.take(32);
  const signingLeafHash = reader.take(32);
  const signerEpoch = reader.u32();
  const signed = reader.consumed();
  const signature = reader.take(SIGNATURE_BYTES);
  reader.end();
  return { userId, epoch, kind, encryptionLeafHash, signingLeafHash, signerEpoch, signed, signature };
}

function epochUser(encryption: KeyBinding, signing: KeyBinding): string | null {
  const ok =
    encryption.subjectKind === SubjectKind.User &&
    encryption.purpose === KeyPurpose.Encryption &&
    signing.purpose === KeyPurpose.Signing &&
    signing.subjectKind === SubjectKind.User &&
    signing.subjectId.toLowerCase() === encryption.subjectId.toLowerCase() &&
    signing.epoch === encryption.epoch;
  return ok ? encryption.subjectId.toLowerCase() : null;
}

/** Vouch for a new key epoch: a rotation by the previous epoch's keys, a reset by the new ones. */
export function endorseKeys(encryption: KeyBinding, signing: KeyBinding, kind: EndorsementKind, signer: Signer): Uint8Array {
  const userId = epochUser(encryption, signing);
  const expected = kind === EndorsementKind.Rotation ? encryption.epoch - 1 : encryption.epoch;
  if (userId === null || signer.userId.toLowerCase() !== userId || signer.epoch !== expected || encryption.epoch < 2) {
    throw new RangeError("a rotation is signed by epoch - 1, a reset by the new keys (epoch > 1)");
  }
  checkU32(encryption.epoch);
  const signed = concat(
    prefix(EnvelopeType.KeyEndorsement),
    uuidBytes(userId),
    u32(encryption.epoch),
    Uint8Array.of(kind),
    bindingHash(encryption),
    bindingHash(signing),
    u32(signer.epoch),
  );
  return sign(ENDORSEMENT_DOMAIN, signed, signer);
}

/** Throws unless `endorsement` names exactly these two bindings and `signer` signed it (the
 * signing binding of the epoch before for a rotation, `signing` itself for a reset). */
export function verifyEndorsement(endorsement: KeyEndorsement, encryption: KeyBinding, signing: KeyBinding, signer: KeyBinding): void {
  const userId = epochUser(encryption, signing);
  if (userId === null) throw new WrongContext("not one user's bindings of one epoch");
  if (endorsement.userId !== userId || endorsement.epoch !== encryption.epoch) throw new WrongContext("an endorsement of another user or epoch");
  if (!sodium.equal(endorsement.encryptionLeafHash, bindingHash(encryption)) || !sodium.equal(endorsement.signingLeafHash, bindingHash(signing))) {
    throw new ProofInvalid("the endorsement names other keys");
  }
  const expected = endorsement.kind === EndorsementKind.Rotation ? encryption.epoch - 1 : encryption.epoch;
  if (endorsement.signerEpoch !== expected || signer.epoch !== expected) throw new ProofInvalid("the endorsement is signed by the wrong epoch");
  verifySigned(ENDORSEMENT_DOMAIN, endorsement.signed, endorsement.signature, signer, userId);
}

export interface ChainEpoch {
  encryption: KeyBinding;
  signing: KeyBinding;
  kind: EndorsementKind | null; // null: epoch 1, trusted on first use
}

/** A user's epochs 1..n, each after the first endorsed; throws on a gap, an extra or a bad link.
 * A reset epoch verifies only as proof of possession: a person must confirm its fingerprint. */
export function verifyKeyChain(userId: string, bindings: KeyBinding[], endorsements: KeyEndorsement[]): ChainEpoch[] {
  const user = userId.toLowerCase();
  const byEpoch = new Map<number, Map<number, KeyBinding>>();
  for (const binding of bindings) {
    if (binding.subjectKind !== SubjectKind.User || binding.subjectId.toLowerCase() !== user) throw new WrongContext("a binding of another subject");
    const pair = byEpoch.get(binding.epoch) ?? new Map<number, KeyBinding>();
    if (pair.has(binding.purpose)) throw new ProofInvalid("two keys for one epoch and purpose");
    pair.set(binding.purpose, binding);
    byEpoch.set(binding.epoch, pair);
  }
  const endorsed = new Map<number, KeyEndorsement>();
  for (const endorsement of endorsements) {
    if (endorsed.has(endorsement.epoch)) throw new ProofInvalid("two endorsements for one epoch");
    endorsed.set(endorsement.epoch, endorsement);
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
  if (epochs.some((epoch, i) => epoch !== i + 1)) throw new ProofInvalid("the key epochs do not run from 1 without gaps");
  const endorsedEpochs = [...endorsed.keys()].sort((a, b) => a - b);
  if (endorsedEpochs.length !== Math.max(epochs.length - 1, 0) || endorsedEpochs.some((epoch, i) => epoch !== i + 2)) {
    throw new ProofInvalid("an epoch without an endorsement, or an endorsement without keys");
  }
  const chain: ChainEpoch[] = [];
  for (const epoch of epochs) {
    const pair = byEpoch.get(epoch) as Map<number, KeyBinding>;
    const encryption = pair.get(KeyPurpose.Encryption);
    const signing = pair.get(KeyPurpose.Signing);
    if (encryption === undefined || signing === undefined) throw new ProofInvalid("an epoch without both keys");
    if (epoch === 1) {
      chain.push({ encryption, signing, kind: null });
      continue;
    }
    const endorsement = endorsed.get(epoch) as KeyEndorsement;
    const signer = endorsement.kind === EndorsementKind.Reset ? signing : (chain[chain.length - 1] as ChainEpoch).signing;
    verifyEndorsement(endorsement, encryption, signing, signer);
    chain.push({ encryption, signing, kind: endorsement.kind });
  }
  return chain;
}

// Membership statements (0x0B) --------------------------------------------------------------------

export interface MembershipStatement {
  groupId: string;
  sequence: number;
  previous: Uint8Array;
  memberId: string;
  role: Role;
  signerId: string;
  signerEpoch: number;
  signed: Uint8Array;
  signature: Uint8Array;
  leafHash: Uint8Array;
}

const ROLES: number[] = Object.values(Role);

export function membershipFromLeaf(leaf: Uint8Array): MembershipStatement {
  const reader = new Reader(leaf, EnvelopeType.Membership);
  const groupId = reader.uuid();
  const sequence = reader.u32();
  const previous = reader.take(32);
  const memberId = reader.uuid();
  const role = reader.u8();
  if (!ROLES.includes(role)) throw new MalformedEnvelope("unknown role");
  const signerId = reader.uuid();
  const signerEpoch = reader.u32();
  const signed = reader.consumed();
  const signature = reader.take(SIGNATURE_BYTES);
  reader.end();
  return { groupId, sequence, previous, memberId, role: role as Role, signerId, signerEpoch, signed, signature, leafHash: leafHash(leaf) };
}

/** Link `sequence` of a group's chain (`previous` is the last link's leaf hash). */
export function signMembership(groupId: string, sequence: number, previous: Uint8Array, memberId: string, role: Role, signer: Signer): Uint8Array {
  checkU32(sequence, signer.epoch);
  if (previous.length !== HASH_BYTES) throw new RangeError("a hash is 32 bytes");
  const signed = concat(
    prefix(EnvelopeType.Membership),
    uuidBytes(groupId),
    u32(sequence),
    previous,
    uuidBytes(memberId),
    Uint8Array.of(role),
    uuidBytes(signer.userId),
    u32(signer.epoch),
  );
  return sign(MEMBERSHIP_DOMAIN, signed, signer);
}

/** A verified chain: each member's role history, so that the state after any sequence can be
 * asked without keeping a copy of it per sequence. */
export class MembershipChain {
  constructor(
    readonly groupId: string,
    /** Per member, [sequence, role] in increasing sequence: the role from that sequence on. */
    private readonly history: Map<string, [number, Role][]>,
    readonly sequence: number,
    readonly head: Uint8Array,
  ) {}

  /** `member`'s role after `sequence` (Removed if never attested by then). */
  roleAt(member: string, sequence: number): Role {
    if (!Number.isInteger(sequence) || sequence < 1 || sequence > this.sequence) throw new ProofInvalid("the chain has no such sequence");
    const changes = this.history.get(member.toLowerCase()) ?? [];
    let lo = 0;
    let hi = changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((changes[mid] as [number, Role])[0] <= sequence) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? Role.Removed : (changes[lo - 1] as [number, Role])[1];
  }

  /** Every role `member` was given, in chain order (empty if never attested). */
  rolesOf(member: string): Role[] {
    return (this.history.get(member.toLowerCase()) ?? []).map(([, role]) => role);
  }

  /** Everyone attested now (removed accounts left out). */
  members(): Map<string, Role> {
    const out = new Map<string, Role>();
    for (const [member, changes] of this.history) {
      const role = (changes[changes.length - 1] as [number, Role])[1];
      if (role !== Role.Removed) out.set(member, role);
    }
    return out;
  }
}

/** Folds a chain into member states, checking every link; throws at the first bad one. Sequence
 * 1 is an admin attesting themselves; each later link is signed by an admin of the state before
 * it and names the previous link's leaf hash; the last admin stays. */
export function verifyMembershipChain(groupId: string, statements: MembershipStatement[], signingKeys: SigningKeys): MembershipChain {
  if (statements.length === 0) throw new ProofInvalid("a membership chain starts with a genesis statement");
  const group = groupId.toLowerCase();
  const roles = new Map<string, Role>();
  const history = new Map<string, [number, Role][]>();
  let admins = 0;
  let previous: Uint8Array = GENESIS_PREVIOUS;
  for (const [index, statement] of statements.entries()) {
    const number = index + 1;
    if (statement.groupId !== group) throw new WrongContext("a statement of another group");
    if (statement.sequence !== number || !sodium.equal(statement.previous, previous)) throw new ProofInvalid("the membership chain is broken");
    if (number === 1) {
      if (statement.memberId !== statement.signerId || statement.role !== Role.Admin) throw new ProofInvalid("the genesis is an admin attesting themselves");
    } else if (roles.get(statement.signerId) !== Role.Admin) {
      throw new ProofInvalid("signed by an account that is not an admin");
    }
    const key = signingKey(signingKeys, statement.signerId, statement.signerEpoch);
    verifySigned(MEMBERSHIP_DOMAIN, statement.signed, statement.signature, key, statement.signerId);
    const before = roles.get(statement.memberId) ?? Role.Removed;
    admins += (statement.role === Role.Admin ? 1 : 0) - (before === Role.Admin ? 1 : 0);
    if (admins === 0) throw new ProofInvalid("the last admin cannot leave");
    roles.set(statement.memberId, statement.role);
    const changes = history.get(statement.memberId) ?? [];
    changes.push([number, statement.role]);
    history.set(statement.memberId, changes);
    previous = statement.leafHash;
  }
  return new MembershipChain(group, history, statements.length, previous);
}

// Group epoch statements (0x0C) -------------------------------------------------------------------

export interface GroupMember {
  memberId: string;
  encryptionEpoch: number;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/** BLAKE2b-256 over the (member id, encryption epoch) pairs a group secret was wrapped for. */
export function memberSetDigest(members: GroupMember[]): Uint8Array {
  const entries = members.map((m) => concat(uuidBytes(m.memberId), u32(m.encryptionEpoch))).sort(compareBytes);
  if (entries.some((entry, i) => i > 0 && compareBytes(entry, entries[i - 1] as Uint8Array) === 0)) throw new RangeError("a member is listed twice");
  return sodium.blake2b(concat(utf8(MEMBER_SET_DOMAIN), ...entries), HASH_BYTES);
}

export interface GroupEpochStatement {
  groupId: string;
  epoch: number;
  publicKey: Uint8Array;
  membershipSequence: number;
  memberDigest: Uint8Array;
  signerId: string;
  signerEpoch: number;
  signed: Uint8Array;
  signature: Uint8Array;
}

export function groupEpochFromLeaf(leaf: Uint8Array): GroupEpochStatement {
  const reader = new Reader(leaf, EnvelopeType.GroupEpoch);
  const groupId = reader.uuid();
  const epoch = reader.u32();
  const publicKey = reader.take(32);
  const membershipSequence = reader.u32();
  const memberDigest = reader.take(32);
  const signerId = reader.uuid();
  const signerEpoch = reader.u32();
  const signed = reader.consumed();
  const signature = reader.take(SIGNATURE_BYTES);
  reader.end();
  return { groupId, epoch, publicKey, membershipSequence, memberDigest, signerId, signerEpoch, signed, signature };
}

/** Attest `groupKey` (the epoch's binding) and the members its secret was wrapped for. */
export function signGroupEpoch(groupKey: KeyBinding, membershipSequence: number, members: GroupMember[], signer: Signer): Uint8Array {
  if (groupKey.subjectKind !== SubjectKind.Group || groupKey.purpose !== KeyPurpose.Encryption) throw new RangeError("a group's encryption binding");
  checkU32(groupKey.epoch, membershipSequence, signer.epoch);
  const signed = concat(
    prefix(EnvelopeType.GroupEpoch),
    uuidBytes(groupKey.subjectId),
    u32(groupKey.epoch),
    groupKey.publicKey,
    u32(membershipSequence),
    memberSetDigest(members),
    uuidBytes(signer.userId),
    u32(signer.epoch),
  );
  return sign(GROUP_EPOCH_DOMAIN, signed, signer);
}

/** Throws unless an admin at the statement's sequence attested exactly this key and these
 * wrapped members, each of them attested (not removed) at that sequence. */
export function verifyGroupEpoch(statement: GroupEpochStatement, groupKey: KeyBinding, chain: MembershipChain, members: GroupMember[], signingKeys: SigningKeys): void {
  verifyEpoch(statement, groupKey, chain.groupId, chain, members, signingKeys, [Role.Admin], [Role.Practitioner, Role.Secretary, Role.Admin]);
}

/** The same for the practice's practitioners-only group (`clinicalGroupId` of the chain's
 * practice), as colloque.crypto.statements.verify_clinical_epoch: signed by a practitioner at the
 * statement's sequence and wrapped for practitioners only, so that no secretary or admin of the
 * chain ever holds the key that opens notes. */
export function verifyClinicalEpoch(statement: GroupEpochStatement, groupKey: KeyBinding, chain: MembershipChain, members: GroupMember[], signingKeys: SigningKeys): void {
  verifyEpoch(statement, groupKey, clinicalGroupId(chain.groupId), chain, members, signingKeys, [Role.Practitioner], [Role.Practitioner]);
}

function verifyEpoch(
  statement: GroupEpochStatement,
  groupKey: KeyBinding,
  groupId: string,
  chain: MembershipChain,
  members: GroupMember[],
  signingKeys: SigningKeys,
  signerRoles: Role[],
  memberRoles: Role[],
): void {
  if (groupKey.subjectKind !== SubjectKind.Group || groupKey.purpose !== KeyPurpose.Encryption) throw new WrongContext("not a group's encryption key");
  const group = groupId.toLowerCase();
  if (statement.groupId !== group || groupKey.subjectId.toLowerCase() !== group) throw new WrongContext("a statement of another group");
  if (statement.epoch !== groupKey.epoch || !sodium.equal(statement.publicKey, groupKey.publicKey)) throw new ProofInvalid("the statement attests another group key");
  const sequence = statement.membershipSequence;
  if (!signerRoles.includes(chain.roleAt(statement.signerId, sequence))) throw new ProofInvalid("signed by an account whose role may not make this group's key");
  const key = signingKey(signingKeys, statement.signerId, statement.signerEpoch);
  verifySigned(GROUP_EPOCH_DOMAIN, statement.signed, statement.signature, key, statement.signerId);
  let digest: Uint8Array;
  try {
    digest = memberSetDigest(members);
  } catch {
    throw new ProofInvalid("a member is listed twice");
  }
  if (!sodium.equal(digest, statement.memberDigest)) throw new ProofInvalid("the group key was wrapped for other members");
  if (members.some((m) => !memberRoles.includes(chain.roleAt(m.memberId, sequence)))) {
    throw new ProofInvalid("wrapped for an account that is not an attested member of this group");
  }
}
