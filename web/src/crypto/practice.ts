// A practice member's side of the practice group (docs/crypto.md 5.4, 5.12): the group keys this
// member's wraps open, the current one only as the key directory proves it (its binding, signed
// epoch statement and membership chain), older ones to open item keys not re-wrapped yet (never
// to encrypt to), as colloque.client.PracticeKeys.open_group_key and older_group_keys; and the
// items sealed for the group opened with them, each author's standing checked first. The agenda
// opens its visit reasons here, and a patient's record in the practice its notes, messages and
// documents' descriptions. The practitioners-only group (notes) is opened the same way, its key
// proven as a practitioner-made epoch (KeyDirectory.clinicalKey).
import { authorStanding, type Standing } from "./authorship";
import type { KeyDirectory } from "./directory";
import { WrongContext } from "./errors";
import * as groups from "./groups";
import { ItemKind, openItem, readItemHeader, readVisitReason, readWrapHeader, unwrapItemKey } from "./items";
import { signingBinding, type UserKeys } from "./keys";
import type { MembershipChain } from "./statements";
import * as sodium from "./sodium";
import { KeyPurpose, SubjectKind, type KeyBinding } from "./transparency";

/** The group keys one member opened, by epoch, of the practice group or of the practice's
 * practitioners-only group (notes); `wipe` when done with them. */
export class PracticeKeys {
  private constructor(
    readonly groupId: string,
    private readonly byEpoch: Map<number, groups.GroupKey>,
  ) {}

  /** `wraps`: the member's wraps of every epoch, as GET .../key-group lists them. The current
   * epoch's must be there and match the key the directory proves (which also refuses an epoch
   * older than one this browser verified); an older epoch's wrap is opened as the key its header
   * names, only to open items sealed to it. */
  static open(directory: KeyDirectory, practiceId: string, member: UserKeys, wraps: Uint8Array[]): PracticeKeys {
    return PracticeKeys.openAt(directory.practiceKey(practiceId), member, wraps);
  }

  /** The same for the practitioners-only group, from GET .../clinical-key-group's wraps, its
   * current key as the directory proves it (made by a practitioner, for practitioners only). */
  static openClinical(directory: KeyDirectory, practiceId: string, member: UserKeys, wraps: Uint8Array[]): PracticeKeys {
    return PracticeKeys.openAt(directory.clinicalKey(practiceId), member, wraps);
  }

  private static openAt(current: KeyBinding, member: UserKeys, wraps: Uint8Array[]): PracticeKeys {
    const groupId = current.subjectId.toLowerCase();
    const byEpoch = new Map<number, groups.GroupKey>();
    try {
      for (const wrap of wraps) {
        const header = groups.readGroupWrapHeader(wrap);
        if (header.epoch > current.epoch || byEpoch.has(header.epoch)) continue;
        const expected: KeyBinding =
          header.epoch === current.epoch
            ? current
            : { subjectKind: SubjectKind.Group, subjectId: groupId, purpose: KeyPurpose.Encryption, epoch: header.epoch, publicKey: header.publicKey };
        byEpoch.set(header.epoch, groups.openGroupKey(wrap, expected, member, 0));
      }
    } catch (error) {
      for (const key of byEpoch.values()) sodium.wipe(key.secret);
      throw error;
    }
    if (!byEpoch.has(current.epoch)) {
      for (const key of byEpoch.values()) sodium.wipe(key.secret);
      throw new WrongContext("no wrap of the current group key for this member");
    }
    return new PracticeKeys(groupId, byEpoch);
  }

  /** The opened keys by epoch, for an admin's re-wrap after a rotation (group-admin.ts); they
   * never leave the worker. */
  keysByEpoch(): ReadonlyMap<number, groups.GroupKey> {
    return this.byEpoch;
  }

  /** The item key of `itemId` from its wraps for this group, newest epoch first. */
  unwrap(itemId: string, wraps: Uint8Array[]): Uint8Array {
    const ours = wraps
      .map((wrap) => ({ wrap, header: readWrapHeader(wrap) }))
      .filter(({ header }) => header.recipientKind === SubjectKind.Group && header.recipientId === this.groupId && this.byEpoch.has(header.epoch))
      .sort((a, b) => b.header.epoch - a.header.epoch)[0];
    if (ours === undefined) throw new WrongContext("no wrap of this item is for a group key this member holds");
    return unwrapItemKey(ours.wrap, itemId, groups.groupHolder(this.byEpoch.get(ours.header.epoch) as groups.GroupKey));
  }

  wipe(): void {
    for (const key of this.byEpoch.values()) sodium.wipe(key.secret);
    this.byEpoch.clear();
  }
}

/** Who may have written the items a member reads, and their proven signing keys, each author
 * looked up once however many items they wrote. */
export class Authors {
  private readonly keys = new Map<string, KeyBinding>();

  constructor(
    private readonly directory: KeyDirectory,
    private readonly members: MembershipChain | null,
    private readonly me: UserKeys,
  ) {}

  /** The author's standing (AuthorNotAllowed before anything is decrypted), then their key. */
  check(kind: ItemKind, authorId: string, holderId: string | null): { standing: Standing; key: KeyBinding } {
    const author = authorId.toLowerCase();
    const standing = authorStanding(kind, author, holderId, this.members);
    let key = this.keys.get(author);
    if (key === undefined) {
      key = author === this.me.userId.toLowerCase() ? signingBinding(this.me) : this.directory.signingKeyOf(author);
      this.keys.set(author, key);
    }
    return { standing, key };
  }
}

/** An appointment's sealed visit reason as the agenda lists it, with its holder's id. */
export interface GroupReason {
  appointmentId: string;
  itemId: string;
  envelope: Uint8Array;
  wraps: Uint8Array[];
  /** The patient's holder, as the server names it (it knows who holds a patient, 5.2). */
  holderId: string | null;
}

/** An item sealed for the practice group, as the API lists it (every wrap the member may see). */
export interface GroupItem {
  itemId: string;
  envelope: Uint8Array;
  wraps: Uint8Array[];
}

/** One item opened with the practice's keys: the author's standing first (nothing decrypted for
 * an author who may not write this kind), then the signature, then the content. `contextId`: the
 * appointment, patient or conversation the item must belong to. */
export function openGroupItem(
  keys: PracticeKeys,
  authors: Authors,
  kind: ItemKind,
  item: GroupItem,
  contextId: string,
  holderId: string | null,
): { body: Uint8Array; authorId: string; standing: Standing } {
  const authorId = readItemHeader(item.envelope).authorId;
  const { standing, key } = authors.check(kind, authorId, holderId);
  const itemKey = keys.unwrap(item.itemId, item.wraps);
  try {
    return { body: openItem(item.envelope, kind, itemKey, item.itemId, contextId, key), authorId, standing };
  } finally {
    sodium.wipe(itemKey);
  }
}

/** One reason opened with the practice's keys: standing, signature, then content. */
export function openGroupReason(keys: PracticeKeys, authors: Authors, item: GroupReason): { visitTypeId: string; reason: string; authorId: string; standing: Standing } {
  const { body, authorId, standing } = openGroupItem(keys, authors, ItemKind.VisitReason, item, item.appointmentId, item.holderId);
  return { ...readVisitReason(body), authorId, standing };
}
