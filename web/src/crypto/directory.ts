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

import { KeysChanged, ProofInvalid, UnsignedMemberships } from "./errors";
import {
  EndorsementKind,
  endorsementFromLeaf,
  groupEpochFromLeaf,
  membershipFromLeaf,
  signingKeysOf,
  verifyGroupEpoch,
  verifyKeyChain,
  verifyMembershipChain,
  type ChainEpoch,
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
    const leaves = field<unknown[]>(answer, "chain").map((out) => {
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
    return { bindings, leaves };
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
      if (confirmed === undefined || !since.includes(confirmed.replace(/\s/g, ""))) throw new KeysChanged("a member's keys were reset; compare fingerprints");
    }
    return chain;
  }

  private signingKeys(signers: Set<string>): KeyBinding[] {
    const keys: KeyBinding[] = [];
    for (const signer of signers) {
      const [accountId, epochText] = signer.split(":") as [string, string];
      const chain = this.userChain(accountId);
      const epoch = Number(epochText);
      const link = chain[epoch - 1];
      if (link === undefined) throw new ProofInvalid("no key of the signer's epoch");
      keys.push(link.signing);
    }
    return keys;
  }

  /** Asks for every signer's keys at once, so that the page needs one more round, not one per signer. */
  private prefetch(paths: string[]): void {
    const missing = paths.filter((p) => !(p in this.answers));
    if (missing.length > 0) throw new NeedAnswers(missing);
  }

  private membershipChain(practiceId: string, leaves: Uint8Array[]): MembershipChain {
    const links = leaves.filter((leaf) => leaf[1] === MEMBERSHIP_TYPE).map(membershipFromLeaf);
    const id = practiceId.toLowerCase();
    if (links.length < (this.state.membershipSequences[id] ?? 0)) throw new ProofInvalid("the membership chain went back");
    // Sealing for a practice whose members nobody signed would trust the server's word on who
    // holds its key (issue 10, attacks 2, 6 and 7): refused outright.
    if (links.length === 0) throw new UnsignedMemberships("this practice does not sign its memberships");
    const signers = new Set(links.map((link) => `${link.signerId}:${link.signerEpoch}`));
    this.prefetch([...signers].map((s) => `/api/v1/key-directory/users/${s.split(":")[0] as string}`));
    const chain = verifyMembershipChain(id, links, signingKeysOf(this.signingKeys(signers)));
    this.state.membershipSequences[id] = chain.sequence;
    return chain;
  }

  /** The practice's verified membership chain, as served with its keys (which its patients may
   * read), for deciding who may have written an item. Null when the practice has no key group
   * (the page passes the server's 404 as a null answer) or signed no membership yet: then only
   * the holder can have written anything. */
  practiceMembers(practiceId: string): MembershipChain | null {
    const id = practiceId.toLowerCase();
    const path = `/api/v1/key-directory/practices/${id}`;
    if (this.answer(path) === null) return null;
    const { leaves } = this.subject(path, SubjectKind.Group, id);
    if (!leaves.some((leaf) => leaf[1] === MEMBERSHIP_TYPE)) {
      if ((this.state.membershipSequences[id] ?? 0) > 0) throw new ProofInvalid("the membership chain went back");
      return null;
    }
    return this.membershipChain(id, leaves);
  }

  /** A user's current signing key, from their endorsed chain (a reset only once confirmed). */
  signingKey(userId: string): KeyBinding {
    const chain = this.userChain(userId);
    return (chain[chain.length - 1] as ChainEpoch).signing;
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
    const chain = this.membershipChain(id, leaves);
    const statement = leaves
      .filter((leaf) => leaf[1] === GROUP_EPOCH_TYPE)
      .map(groupEpochFromLeaf)
      .find((s) => s.epoch === binding.epoch);
    const listed = field<{ epoch: number; members: { account_id: string; encryption_epoch: number }[] }[]>(this.answer(path), "epoch_members").find(
      (e) => e.epoch === binding.epoch,
    );
    if (statement === undefined || listed === undefined) throw new ProofInvalid("a group epoch without its signed statement");
    const members = listed.members.map((m) => ({ memberId: m.account_id, encryptionEpoch: m.encryption_epoch }));
    const signer = this.signingKeys(new Set([`${statement.signerId}:${statement.signerEpoch}`]));
    verifyGroupEpoch(statement, binding, chain, members, signingKeysOf(signer));
    this.state.groupEpochs[id] = binding.epoch;
    return binding;
  }
}

function sameBinding(a: KeyBinding, b: KeyBinding | undefined): boolean {
  return b !== undefined && a.epoch === b.epoch && a.purpose === b.purpose && toB64(a.publicKey) === toB64(b.publicKey);
}
