// An admin's side of the practice group (docs/crypto.md 5.4, 5.12), as
// colloque.client.PracticeKeys does it, byte for byte: sign the membership chain (its genesis,
// a newcomer, a removal), make an epoch's key (epoch 1, or the next one after a removal) with
// its group epoch statement and one wrap per attested member with a key, seal the current key
// for pending members, and re-wrap item keys from older epochs to the current one. No I/O: the
// worker hands in what the key directory proved, the page posts what comes out.
import { WrongContext } from "./errors";
import * as groups from "./groups";
import { unwrapItemKey, wrapItemKeyFor } from "./items";
import type { UserKeys } from "./keys";
import * as sodium from "./sodium";
import { GENESIS_PREVIOUS, Role, signGroupEpoch, signMembership, type MembershipChain } from "./statements";
import { leafHash, type KeyBinding } from "./transparency";

/** One member's key wrap of an epoch, for the API's `wraps`. */
export interface MemberWrap {
  accountId: string;
  wrap: Uint8Array;
}

/** A member to attest, with the role the practice lists for them. */
export interface Step {
  memberId: string;
  role: Role;
}

/** The chain's links signed after `chain` (or from its genesis), and where it then stands. */
export function signSteps(groupId: string, chain: MembershipChain | null, steps: Step[], signer: UserKeys): { statements: Uint8Array[]; sequence: number; head: Uint8Array } {
  let sequence = chain === null ? 0 : chain.sequence;
  let head = chain === null ? GENESIS_PREVIOUS : chain.head;
  const statements: Uint8Array[] = [];
  for (const step of steps) {
    const statement = signMembership(groupId, sequence + 1, head, step.memberId, step.role, signer);
    statements.push(statement);
    sequence += 1;
    head = leafHash(statement);
  }
  return { statements, sequence, head };
}

/** The genesis of a practice's chain: this admin attests themselves, then every member with a
 * key, with the role the practice lists (trusted once, as a first contact: 5.12). */
export function genesisSteps(me: string, members: Step[]): Step[] {
  const myId = me.toLowerCase();
  return [{ memberId: myId, role: Role.Admin }, ...members.filter((m) => m.memberId.toLowerCase() !== myId)];
}

/** A new key pair for `epoch` of the group. */
export function newGroupKey(groupId: string, epoch: number): groups.GroupKey {
  const secret = sodium.randomBytes(sodium.KEY_BYTES);
  return { groupId: groupId.toLowerCase(), epoch, publicKey: sodium.x25519PublicFromSecret(secret), secret };
}

/** The epoch's wraps for exactly `members` (their proven encryption keys) and its group epoch
 * statement, made at the chain's `sequence` the member list was filtered by. */
export function sealEpoch(key: groups.GroupKey, members: KeyBinding[], sequence: number, signer: UserKeys): { wraps: MemberWrap[]; statement: Uint8Array } {
  const wraps = members.map((member) => ({ accountId: member.subjectId.toLowerCase(), wrap: groups.addMember(key, member) }));
  const statement = signGroupEpoch(
    groups.groupBinding(key),
    sequence,
    members.map((m) => ({ memberId: m.subjectId, encryptionEpoch: m.epoch })),
    signer,
  );
  return { wraps, statement };
}

/** A stale item key wrap as GET .../item-key-wraps/stale lists it. */
export interface StaleWrap {
  itemId: string;
  epoch: number;
  wrap: Uint8Array;
}

/** The item keys of `entries`, each opened with the group key of its epoch and sealed again for
 * `current`; an item once even if several of its wraps are stale, and wraps of an epoch this
 * admin never held left for another member (colloque.client.rewrap). */
export function rewrapItemKeys(entries: StaleWrap[], olderKeys: ReadonlyMap<number, groups.GroupKey>, current: KeyBinding): Uint8Array[] {
  const fresh = new Map<string, Uint8Array>();
  for (const entry of entries) {
    const itemId = entry.itemId.toLowerCase();
    const old = olderKeys.get(entry.epoch);
    if (old === undefined || fresh.has(itemId)) continue;
    if (current.subjectId.toLowerCase() !== old.groupId || current.epoch <= old.epoch) throw new WrongContext("re-wrap towards a newer epoch of the same group");
    const itemKey = unwrapItemKey(entry.wrap, itemId, groups.groupHolder(old));
    try {
      fresh.set(itemId, wrapItemKeyFor(itemKey, itemId, current));
    } finally {
      sodium.wipe(itemKey);
    }
  }
  return [...fresh.values()];
}
