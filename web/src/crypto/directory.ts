// The browser's key directory client, the same checks as colloque.client.KeyDirectory
// (docs/crypto.md 5.5, 5.12, 5.13): the pinned log's (and witnesses') signatures on every
// checkpoint, consistency with the largest checkpoint this browser verified before (kept in
// IndexedDB, see state.ts), inclusion of every leaf used, the practice's signed membership chain
// and group epoch statement, and the endorsed key chain of every signer.
//
// The worker has no network (its CSP), so the page fetches for it: a check runs against the
// answers the page holds, and stops with NeedAnswers naming the API paths it is missing. The page
// fetches them and runs the check again; answers are untrusted input either way.
import { fromBase64, toBase64 as toB64 } from "./encoding";

import { KeysChanged, ProofInvalid, StaleEpoch, UnsignedMemberships, type PendingKeyChange } from "./errors";
import { clinicalGroupId } from "./groups";
import {
  EndorsementKind,
  endorsementFromLeaf,
  groupEpochFromLeaf,
  membershipFromLeaf,
  signingKeysOf,
  verifyClinicalEpoch,
  verifyGroupEpoch,
  verifyKeyChain,
  verifyMembershipChain,
  type ChainEpoch,
  type GroupEpochStatement,
  type KeyEndorsement,
  type MembershipChain,
} from "./statements";
import type { DirectoryPin } from "./protocol";
import type { DirectoryState } from "./state";
import {
  KeyPurpose,
  SubjectKind,
  bindingFromLeaf,
  fingerprint,
  leafHash,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyInclusion,
  verifyKeyBinding,
  type Checkpoint,
  type KeyBinding,
} from "./transparency";
import { verifyWitnessedCheckpoint } from "./witness";

const ENDORSEMENT_TYPE = 0x0a;
const MEMBERSHIP_TYPE = 0x0b;
const GROUP_EPOCH_TYPE = 0x0c;

/** The check cannot go on without these API answers (paths under /api/v1/key-directory/). */
export class NeedAnswers extends Error {
  constructor(readonly paths: string[]) {
    super(`need ${paths.join(", ")}`);
  }
}

type Json = Record<string, unknown>;

function field<T>(value: unknown, name: string): T {
  if (typeof value !== "object" || value === null || !(name in value)) throw new ProofInvalid(`the answer has no ${name}`);
  return (value as Json)[name] as T;
}

/** The API's binary values: unpadded base64url (colloque.client.encoding). */
function wire(value: unknown): Uint8Array {
  const text = String(value).replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(text + "=".repeat((4 - (text.length % 4)) % 4));
}

function hashes(value: unknown): Uint8Array[] {
  if (!Array.isArray(value)) throw new ProofInvalid("a proof is not a list");
  return value.map(wire);
}

export class KeyDirectory {
  private checkpoint: Checkpoint | null;

  constructor(
    private readonly pin: DirectoryPin,
    readonly state: DirectoryState,
    private readonly answers: Record<string, unknown>,
    private readonly nowSeconds: number,
  ) {
    this.checkpoint = this.remembered();
  }

  private remembered(): Checkpoint | null {
    const saved = this.state.checkpoint;
    if (saved === null) return null;
    // The same origin under another key is a new log, or an attacker's: never silently re-pinned.
    if (saved.logPublicKey !== toB64(this.pin.logPublicKey)) throw new ProofInvalid("this browser knows this log under another key");
    return verifyCheckpoint(saved.note, this.pin.origin, this.pin.logPublicKey);
  }

  private answer(path: string): unknown {
    if (!(path in this.answers)) throw new NeedAnswers([path]);
    return this.answers[path];
  }

  accept(note: string): Checkpoint {
    const notBefore = this.pin.witnessMaxAgeSeconds === undefined ? 0 : Math.max(0, Math.floor(this.nowSeconds - this.pin.witnessMaxAgeSeconds));
    const witnesses = new Map(Object.entries(this.pin.witnesses));
    const next = verifyWitnessedCheckpoint(note, this.pin.origin, this.pin.logPublicKey, witnesses, this.pin.threshold, BigInt(notBefore));
    const old = this.checkpoint;
    if (old !== null) {
      let proof: Uint8Array[] = [];
      if (old.treeSize < next.treeSize) {
        const path = `/api/v1/key-directory/consistency?from=${old.treeSize}&to=${next.treeSize}`;
        proof = hashes(field(this.answer(path), "proof"));
      }
      // A smaller tree, or another root for the same size (a fork), fails here.
      verifyCheckpointConsistency(old, next, proof);
    }
    if (old === null || next.treeSize > old.treeSize) this.state.checkpoint = { logPublicKey: toB64(this.pin.logPublicKey), note };
    this.checkpoint = next;
    return next;
  }

  private subject(path: string, kind: SubjectKind, subjectId: string): { bindings: Map<number, KeyBinding>; leaves: Uint8Array[] } {
    const answer = this.answer(path);
    const checkpoint = this.accept(field<string>(answer, "signed_checkpoint"));
    const bindings = new Map<number, KeyBinding>();
    for (const out of field<unknown[]>(answer, "bindings")) {
      const binding = bindingFromLeaf(wire(field<string>(out, "leaf")));
      if (binding.subjectKind !== kind || binding.subjectId.toLowerCase() !== subjectId.toLowerCase()) throw new ProofInvalid("a key of another subject");
      if (field<number>(out, "tree_size") !== checkpoint.treeSize) throw new ProofInvalid("the proof is for another checkpoint");
      verifyKeyBinding(binding, field<number>(out, "leaf_index"), hashes(field(out, "inclusion_proof")), checkpoint);
      bindings.set(binding.purpose, binding);
    }
    return { bindings, leaves: provenLeaves(answer, checkpoint) };
  }

  /** A user's whole endorsed chain, its last epoch the current keys; a reset epoch only once its
   * fingerprint was confirmed in this browser. */
  userChain(userId: string): ChainEpoch[] {
    const { bindings: current, leaves } = this.subject(`/api/v1/key-directory/users/${userId}`, SubjectKind.User, userId);
    const bindings: KeyBinding[] = [];
    const endorsements: KeyEndorsement[] = [];
    for (const leaf of leaves) {
      if (leaf[1] === ENDORSEMENT_TYPE) endorsements.push(endorsementFromLeaf(leaf));
      else bindings.push(bindingFromLeaf(leaf));
    }
    const chain = verifyKeyChain(userId, bindings, endorsements);
    const last = chain[chain.length - 1];
    if (last === undefined || !sameBinding(last.encryption, current.get(KeyPurpose.Encryption)) || !sameBinding(last.signing, current.get(KeyPurpose.Signing))) {
      throw new ProofInvalid("the current keys are not the end of their chain");
    }
    const reset = chain.map((e) => e.kind).lastIndexOf(EndorsementKind.Reset);
    if (reset >= 0) {
      const since = chain.slice(reset).map((e) => fingerprint([e.encryption, e.signing]).replace(/\s/g, ""));
      const confirmed = this.state.confirmed[userId.toLowerCase()];
      if (confirmed === undefined || !since.includes(confirmed.replace(/\s/g, ""))) {
        // The current epoch's fingerprint, as colloque.client.KeysChanged gives it: the one the
        // member's own device shows.
        throw new KeysChanged([{ userId: userId.toLowerCase(), epoch: last.encryption.epoch, fingerprint: fingerprint([last.encryption, last.signing]) }]);
      }
    }
    return chain;
  }

  /** Each signer's ("account:epoch") signing key. Every unconfirmed reset among them is reported
   * in one KeysChanged, so that a person confirms them together rather than one per attempt. */
  private signingKeys(signers: Set<string>): KeyBinding[] {
    const keys: KeyBinding[] = [];
    const changed: PendingKeyChange[] = [];
    for (const signer of signers) {
      const [accountId, epochText] = signer.split(":") as [string, string];
      let chain: ChainEpoch[];
      try {
        chain = this.userChain(accountId);
      } catch (error) {
        if (!(error instanceof KeysChanged)) throw error;
        changed.push(...error.changes.filter((c) => !changed.some((seen) => seen.userId === c.userId)));
        continue;
      }
      const epoch = Number(epochText);
      const link = chain[epoch - 1];
      if (link === undefined) throw new ProofInvalid("no key of the signer's epoch");
      keys.push(link.signing);
    }
    if (changed.length > 0) throw new KeysChanged(changed);
    return keys;
  }

  /** Asks for every signer's keys at once, so that the page needs one more round, not one per signer. */
  private prefetch(paths: string[]): void {
    const missing = paths.filter((p) => !(p in this.answers));
    if (missing.length > 0) throw new NeedAnswers(missing);
  }

  /** The practice's verified membership chain (null before its genesis), never shorter than the
   * one verified last and passing through its head: a rewritten history of any length is refused,
   * as colloque.client.KeyDirectory.membership_chain does. `alsoSigners` ("account:epoch"): more
   * signers whose keys the caller needs next, fetched and checked in the same round (a reset
   * among them reported with the chain's). */
  private membershipChain(practiceId: string, leaves: Uint8Array[], alsoSigners: string[] = []): { chain: MembershipChain | null; keys: KeyBinding[] } {
    const links = leaves.filter((leaf) => leaf[1] === MEMBERSHIP_TYPE).map(membershipFromLeaf);
    const id = practiceId.toLowerCase();
    const seen = this.state.membershipSequences[id] ?? { sequence: 0, head: null };
    if (links.length < seen.sequence) throw new ProofInvalid("the membership chain went back");
    // Same length or longer is not enough: a rewritten chain must still pass the head seen.
    const atSeen = links[seen.sequence - 1];
    if (seen.head !== null && (atSeen === undefined || toB64(atSeen.leafHash) !== seen.head)) {
      throw new ProofInvalid("the membership chain does not extend the one seen before");
    }
    if (links.length === 0) return { chain: null, keys: [] };
    const signers = new Set([...links.map((link) => `${link.signerId}:${link.signerEpoch}`), ...alsoSigners]);
    this.prefetch([...signers].map((s) => `/api/v1/key-directory/users/${s.split(":")[0] as string}`));
    const keys = this.signingKeys(signers);
    const chain = verifyMembershipChain(id, links, signingKeysOf(keys));
    this.state.membershipSequences[id] = { sequence: chain.sequence, head: toB64(chain.head) };
    return { chain, keys };
  }

  /** Who may have written a patient's items at this practice: its verified membership chain, or
   * null when the practice has no key group (404) or no chain yet, so that only the holder wrote
   * (colloque.client.KeyDirectory.practice_members). */
  practiceMembers(practiceId: string): MembershipChain | null {
    const id = practiceId.toLowerCase();
    const path = `/api/v1/key-directory/practices/${id}`;
    if (this.answer(path) === null) return null;
    const { leaves } = this.subject(path, SubjectKind.Group, id);
    return this.membershipChain(id, leaves).chain;
  }

  /** The practice's verified membership chain while it has no group key yet (null before its
   * genesis), from GET /api/v1/practices/{id}/key-group/memberships, which the page fetches
   * itself: the key directory answers 404 for a practice without a key. An admin creating the
   * group follows it. */
  practiceChainBeforeKey(practiceId: string): MembershipChain | null {
    const id = practiceId.toLowerCase();
    const answer = this.answer(memberships(id));
    const checkpoint = this.accept(field<string>(answer, "signed_checkpoint"));
    return this.membershipChain(id, provenLeaves(answer, checkpoint)).chain;
  }

  /** A user's current signing key, from their endorsed (and, after a reset, confirmed) chain. */
  signingKeyOf(userId: string): KeyBinding {
    const chain = this.userChain(userId);
    return (chain[chain.length - 1] as ChainEpoch).signing;
  }

  /** A user's current encryption key, from their endorsed (and, after a reset, confirmed) chain:
   * the key a member seals for when booking for a patient that user manages. */
  encryptionKeyOf(userId: string): KeyBinding {
    const chain = this.userChain(userId);
    return (chain[chain.length - 1] as ChainEpoch).encryption;
  }

  /** Asks for every listed user's keys at once (one more round for the page, not one each). */
  needUsers(userIds: string[]): void {
    this.prefetch(userIds.map((id) => `/api/v1/key-directory/users/${id.toLowerCase()}`));
  }

  /** The practice group's current encryption key, proven, with its signed epoch statement. */
  practiceKey(practiceId: string): KeyBinding {
    const id = practiceId.toLowerCase();
    const path = `/api/v1/key-directory/practices/${id}`;
    const { bindings, leaves } = this.subject(path, SubjectKind.Group, id);
    const binding = bindings.get(KeyPurpose.Encryption);
    if (binding === undefined) throw new ProofInvalid("the practice has no key");
    if (binding.epoch < (this.state.groupEpochs[id] ?? 0)) throw new ProofInvalid("an older group key than one already verified");
    const statement = leaves
      .filter((leaf) => leaf[1] === GROUP_EPOCH_TYPE)
      .map(groupEpochFromLeaf)
      .find((s) => s.epoch === binding.epoch);
    const { chain, keys } = this.membershipChain(id, leaves, statement === undefined ? [] : [`${statement.signerId}:${statement.signerEpoch}`]);
    // Sealing for a practice whose members nobody signed would trust the server's word on who
    // holds its key (issue 10, attacks 2, 6 and 7): refused outright.
    if (chain === null) throw new UnsignedMemberships("this practice does not sign its memberships");
    const listed = field<{ epoch: number; members: { account_id: string; encryption_epoch: number }[] }[]>(this.answer(path), "epoch_members").find(
      (e) => e.epoch === binding.epoch,
    );
    if (statement === undefined || listed === undefined) throw new ProofInvalid("a group epoch without its signed statement");
    const members = listed.members.map((m) => ({ memberId: m.account_id, encryptionEpoch: m.encryption_epoch }));
    verifyGroupEpoch(statement, binding, chain, members, signingKeysOf(keys));
    this.state.groupEpochs[id] = binding.epoch;
    return binding;
  }

  /** The practice's practitioners-only group's current encryption key, proven (its leaves under
   * the derived group id, GET .../practices/{id}/clinical), with its group epoch statement
   * verified over the practice's own membership chain: made by a practitioner, wrapped for
   * practitioners only. Never of an epoch older than one this browser verified for that group. */
  clinicalKey(practiceId: string): KeyBinding {
    const id = practiceId.toLowerCase();
    const groupId = clinicalGroupId(id);
    const path = clinicalPath(id);
    const { bindings, leaves } = this.subject(path, SubjectKind.Group, groupId);
    const binding = bindings.get(KeyPurpose.Encryption);
    if (binding === undefined) throw new ProofInvalid("the practitioners' group has no key");
    if (binding.epoch < (this.state.groupEpochs[groupId] ?? 0)) throw new StaleEpoch("an older group key than one already verified");
    const statement = epochStatement(leaves, groupId, binding.epoch);
    const practice = this.subject(`/api/v1/key-directory/practices/${id}`, SubjectKind.Group, id);
    const { chain, keys } = this.membershipChain(id, practice.leaves, statement === undefined ? [] : [`${statement.signerId}:${statement.signerEpoch}`]);
    if (chain === null) throw new UnsignedMemberships("this practice does not sign its memberships");
    const listed = field<{ epoch: number; members: { account_id: string; encryption_epoch: number }[] }[]>(this.answer(path), "epoch_members").find(
      (e) => e.epoch === binding.epoch,
    );
    if (statement === undefined || listed === undefined) throw new ProofInvalid("a group epoch without its signed statement");
    const members = listed.members.map((m) => ({ memberId: m.account_id, encryptionEpoch: m.encryption_epoch }));
    verifyClinicalEpoch(statement, binding, chain, members, signingKeysOf(keys));
    this.state.groupEpochs[groupId] = binding.epoch;
    return binding;
  }
}

/** Where the key directory serves a practice's practitioners-only group. */
export function clinicalPath(practiceId: string): string {
  return `/api/v1/key-directory/practices/${practiceId.toLowerCase()}/clinical`;
}

/** The group epoch statement of `groupId` for `epoch` among proven leaves, if there is one. */
function epochStatement(leaves: Uint8Array[], groupId: string, epoch: number): GroupEpochStatement | undefined {
  return leaves
    .filter((leaf) => leaf[1] === GROUP_EPOCH_TYPE)
    .map(groupEpochFromLeaf)
    .find((s) => s.groupId === groupId && s.epoch === epoch);
}

/** Where a practice's membership chain is read before the practice has a key. */
function memberships(practiceId: string): string {
  return `/api/v1/practices/${practiceId.toLowerCase()}/key-group/memberships`;
}

/** Every leaf of an answer's `chain`, each proven included in `checkpoint`. */
function provenLeaves(answer: unknown, checkpoint: Checkpoint): Uint8Array[] {
  return field<unknown[]>(answer, "chain").map((out) => {
    const leaf = wire(field<string>(out, "leaf"));
    verifyInclusion({
      leafHash: leafHash(leaf),
      index: field<number>(out, "leaf_index"),
      treeSize: checkpoint.treeSize,
      proof: hashes(field(out, "inclusion_proof")),
      root: checkpoint.rootHash,
    });
    return leaf;
  });
}

function sameBinding(a: KeyBinding, b: KeyBinding | undefined): boolean {
  return b !== undefined && a.epoch === b.epoch && a.purpose === b.purpose && toB64(a.publicKey) === toB64(b.publicKey);
}
