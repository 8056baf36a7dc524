// Who may author an item (docs/crypto.md 5.2): colloque.crypto.authorship in the browser. A valid
// signature only says which account wrote an item; a hostile operator can make an account of its
// own with properly published keys. Before anything is decrypted, the author's standing is
// decided from the patient's holder and the practice's verified membership chain.
import { AuthorNotAllowed } from "./errors";
import { ItemKind } from "./items";
import { Role, type MembershipChain } from "./statements";

export type Standing = "holder" | "member" | "former member";

const STAFF: readonly Role[] = [Role.Practitioner, Role.Secretary, Role.Admin];

/** Member roles that may write each kind, as authorization/policy.py says for the server. */
const MEMBER_WRITERS: Record<ItemKind, readonly Role[]> = {
  [ItemKind.VisitReason]: STAFF,
  [ItemKind.Note]: [Role.Practitioner],
  [ItemKind.Message]: STAFF,
  [ItemKind.Document]: [Role.Practitioner],
};

/** Kinds the patient's holder may write; never a note, which is the practitioner's. */
const HOLDER_WRITES: readonly ItemKind[] = [ItemKind.VisitReason, ItemKind.Message, ItemKind.Document];

/** The author's standing for an item of `kind`, or AuthorNotAllowed. A member whose current role
 * may write `kind` is a member; one who could at some point of the chain and no longer does is a
 * former member (what they wrote stays readable, marked: the time of writing is not signed). */
export function authorStanding(kind: ItemKind, authorId: string, holderId: string | null, chain: MembershipChain | null): Standing {
  const author = authorId.toLowerCase();
  if (HOLDER_WRITES.includes(kind) && holderId !== null && author === holderId.toLowerCase()) return "holder";
  const changes = chain?.changesOf(author) ?? [];
  const writers = MEMBER_WRITERS[kind];
  const last = changes[changes.length - 1];
  if (last !== undefined && writers.includes(last[1])) return "member";
  if (changes.some(([, role]) => writers.includes(role))) return "former member";
  throw new AuthorNotAllowed("the author may not write this item");
}
