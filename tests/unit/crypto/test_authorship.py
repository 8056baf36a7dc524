"""author_standing: every branch, and the member roles kept in step with the server's policy."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from colloque.authorization.policy import PRACTICE_ROLES, Action
from colloque.crypto.authorship import MEMBER_WRITERS, Standing, author_standing
from colloque.crypto.errors import AuthorNotAllowed, CryptoError
from colloque.crypto.items import ItemKind
from colloque.crypto.statements import MembershipChain, Role

HOLDER, DOCTOR, DESK, ADMIN, GONE, MOVED = (uuid4() for _ in range(6))
CHAIN = MembershipChain(
    uuid4(),
    {
        ADMIN: ((1, Role.ADMIN),),
        DOCTOR: ((2, Role.PRACTITIONER),),
        DESK: ((3, Role.SECRETARY),),
        GONE: ((4, Role.PRACTITIONER), (6, Role.REMOVED)),
        MOVED: ((5, Role.PRACTITIONER), (7, Role.SECRETARY)),
    },
    7,
    bytes(32),
)


def standing(kind: ItemKind, author: UUID, *, chain: MembershipChain | None = CHAIN) -> Standing:
    return author_standing(kind, author, holder_id=HOLDER, chain=chain)


@pytest.mark.parametrize("kind", [ItemKind.VISIT_REASON, ItemKind.MESSAGE, ItemKind.DOCUMENT])
def test_the_holder_writes_reasons_messages_and_documents(kind: ItemKind) -> None:
    assert standing(kind, HOLDER) is Standing.HOLDER
    assert standing(kind, HOLDER, chain=None) is Standing.HOLDER


def test_the_holder_writes_no_notes() -> None:
    with pytest.raises(AuthorNotAllowed):
        standing(ItemKind.NOTE, HOLDER)


def test_a_patient_without_holder_has_none_to_match() -> None:
    with pytest.raises(AuthorNotAllowed):
        author_standing(ItemKind.MESSAGE, uuid4(), holder_id=None, chain=None)


@pytest.mark.parametrize("member", [ADMIN, DOCTOR, DESK])
@pytest.mark.parametrize("kind", [ItemKind.VISIT_REASON, ItemKind.MESSAGE])
def test_every_member_books_and_writes_messages(member: UUID, kind: ItemKind) -> None:
    assert standing(kind, member) is Standing.MEMBER


@pytest.mark.parametrize("kind", [ItemKind.NOTE, ItemKind.DOCUMENT])
def test_only_practitioners_write_notes_and_documents(kind: ItemKind) -> None:
    assert standing(kind, DOCTOR) is Standing.MEMBER
    for member in (ADMIN, DESK):
        with pytest.raises(AuthorNotAllowed):
            standing(kind, member)


def test_a_removed_member_is_a_former_member() -> None:
    assert standing(ItemKind.NOTE, GONE) is Standing.FORMER_MEMBER
    assert standing(ItemKind.MESSAGE, GONE) is Standing.FORMER_MEMBER


def test_a_practitioner_moved_to_the_desk_is_a_former_note_writer() -> None:
    assert standing(ItemKind.NOTE, MOVED) is Standing.FORMER_MEMBER
    assert standing(ItemKind.MESSAGE, MOVED) is Standing.MEMBER


def test_an_account_the_chain_never_attested_is_refused() -> None:
    stranger = uuid4()
    for kind in ItemKind:
        with pytest.raises(AuthorNotAllowed) as raised:
            standing(kind, stranger)
        assert isinstance(raised.value, CryptoError)
        assert str(stranger) not in str(raised.value)
    with pytest.raises(AuthorNotAllowed):
        standing(ItemKind.MESSAGE, stranger, chain=None)


def test_member_writers_follow_the_policy() -> None:
    by_name = {role.name: role for role in Role}
    writes = {
        ItemKind.NOTE: Action.PRACTICE_CLINICAL_WRITE,
        ItemKind.DOCUMENT: Action.PRACTICE_CLINICAL_WRITE,
        ItemKind.MESSAGE: Action.PRACTICE_MESSAGE_SEND,
        ItemKind.VISIT_REASON: Action.PRACTICE_APPOINTMENT_BOOK,
    }
    for kind, action in writes.items():
        assert {by_name[role.name] for role in PRACTICE_ROLES[action]} == MEMBER_WRITERS[kind]
