"""Who may author an item: the pure half of the standing check made when opening one.

A valid signature only says which account wrote an item; a hostile operator can make an account
of its own with properly published keys. :func:`author_standing` decides, from the patient's
holder and the practice's verified membership chain, whether that account was allowed to write
an item of that kind (docs/crypto.md 5.2, docs/authorization.md).
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from colloque.crypto.errors import AuthorNotAllowed
from colloque.crypto.items import ItemKind
from colloque.crypto.statements import MembershipChain, Role


class Standing(StrEnum):
    HOLDER = "holder"
    MEMBER = "member"
    FORMER_MEMBER = "former member"


_STAFF = frozenset({Role.PRACTITIONER, Role.SECRETARY, Role.ADMIN})

#: Member roles that may write each kind, as authorization/policy.py says for the server
#: (practice:clinical_record:write for notes and documents, practice:message:send for messages,
#: practice:appointment:book for a reason booked by staff); a unit test keeps the two in step.
MEMBER_WRITERS: dict[ItemKind, frozenset[Role]] = {
    ItemKind.VISIT_REASON: _STAFF,
    ItemKind.NOTE: frozenset({Role.PRACTITIONER}),
    ItemKind.MESSAGE: _STAFF,
    ItemKind.DOCUMENT: frozenset({Role.PRACTITIONER}),
}

#: Kinds the patient's holder may write (books online, answers the practice, shares a document
#: such as a prescription or an earlier report); never a note, which is the practitioner's.
HOLDER_WRITES = frozenset({ItemKind.VISIT_REASON, ItemKind.MESSAGE, ItemKind.DOCUMENT})


def author_standing(
    kind: ItemKind, author_id: UUID, *, holder_id: UUID | None, chain: MembershipChain | None
) -> Standing:
    """The author's standing for an item of ``kind``, or :class:`AuthorNotAllowed`.

    A member whose current role may write ``kind`` is a member; one who held such a role at some
    point of the chain and no longer does (removed, or moved to another role) is a former member:
    what they wrote before stays readable, and the time of writing is not signed, so the caller
    shows the standing rather than hiding the item.
    """
    if kind in HOLDER_WRITES and author_id == holder_id:
        return Standing.HOLDER
    changes = () if chain is None else chain.history.get(author_id, ())
    writers = MEMBER_WRITERS[kind]
    if changes and changes[-1][1] in writers:
        return Standing.MEMBER
    if any(role in writers for _, role in changes):
        return Standing.FORMER_MEMBER
    raise AuthorNotAllowed("the author may not write this item")
