// Who may author an item: the pure half of the standing check made when opening one, as
// colloque.crypto.authorship. A valid signature only says which account wrote an item; a hostile
// operator can make an account of its own with properly published keys. The author must be the
// patient's holder or a member of the practice's verified membership chain whose role may write
// that kind (docs/crypto.md 5.2); anyone else is refused before anything is decrypted.
import { AuthorNotAllowed } from "./errors";
import { ItemKind } from "./items";
import { Role, type MembershipChain } from "./statements";

export type Standing = "holder" | "member" | "former member";

const STAFF: readonly Role[] = [Role.Practitioner, Role.Secretary, Role.Admin];

/** Member roles that may write each kind (the server's policy: practice:appointment:book,
 * practice:clinical_record:write, practice:message:send), as colloque.crypto.authorship has them. */
export const MEMBER_WRITERS: Record<ItemKind, readonly Role[]> = {
  [ItemKind.VisitReason]: STAFF,
  [ItemKind.Note]: [Role.Practitioner],
  [ItemKind.Message]: STAFF,
  [ItemKind.Document]: [Role.Practitioner],
};

/** Kinds the patient's holder may write (books online, answers the practice, shares a document
 * such as a prescription or an earlier report); never a note, which is the practitioner's. */
export const HOLDER_WRITES: readonly ItemKind[] = [ItemKind.VisitReason, ItemKind.Message, ItemKind.Document];

/** The author's standing, or AuthorNotAllowed. A member who held a writing role at some point
 * and no longer does is a former member: what they wrote stays readable, marked as such. */
export function authorStanding(kind: ItemKind, authorId: string, holderId: string | null, chain: MembershipChain | null): Standing {
  const author = authorId.toLowerCase();
  if (HOLDER_WRITES.includes(kind) && author === holderId?.toLowerCase()) return "holder";
  const roles = chain === null ? [] : chain.rolesOf(author);
  const writers = MEMBER_WRITERS[kind];
  const current = roles[roles.length - 1];
  if (current !== undefined && writers.includes(current)) return "member";
  if (roles.some((role) => writers.includes(role))) return "former member";
  throw new AuthorNotAllowed("the author may not write this item");
}
