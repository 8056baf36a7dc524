"""Signed statements: the stored vectors verify, and every refusal path refuses."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest

from colloque.crypto import groups, statements
from colloque.crypto.errors import (
    CryptoError,
    MalformedEnvelope,
    ProofInvalid,
    SignatureInvalid,
    WrongContext,
)
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.statements import (
    EndorsementKind,
    GroupEpochStatement,
    KeyEndorsement,
    MembershipStatement,
    Role,
)
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from tests.unit.crypto import vectors_statements as vs
from tests.unit.crypto.helpers import flip, new_user
from tests.unit.crypto.vectors import (
    GROUP_ID,
    PATIENT_ID,
    PRACTITIONER_ID,
    SECRETARY_ID,
    group_key,
    load,
    patient,
    practitioner,
    secretary,
)

SIGNING_KEYS = {(PRACTITIONER_ID, 1): practitioner().signing_binding()}


def _bindings(epochs: tuple[int, ...] = (1, 2, 3)) -> list[KeyBinding]:
    out = []
    for epoch in epochs:
        keys = vs.practitioner_at(epoch)
        out += [keys.encryption_binding(), keys.signing_binding()]
    return out


# Vectors -------------------------------------------------------------------------------------------


def test_stored_vectors_verify() -> None:
    v = load("statements")
    ends = [KeyEndorsement.from_leaf(bytes.fromhex(e["leaf"])) for e in v["endorsements"]]
    bindings = [vs.binding_of(b) for e in v["user_epochs"] for b in (e["encryption"], e["signing"])]
    chain = statements.verify_key_chain(PRACTITIONER_ID, bindings, ends)
    assert [link.kind for link in chain] == [None, EndorsementKind.RESET, EndorsementKind.ROTATION]
    links = [MembershipStatement.from_leaf(bytes.fromhex(s["leaf"])) for s in v["membership"]]
    keys = {(PRACTITIONER_ID, 1): vs.binding_of(v["signers"]["practitioner"])}
    verified = statements.verify_membership_chain(GROUP_ID, links, signing_keys=keys)
    assert verified.head.hex() == v["membership"][-1]["leaf_hash"]
    assert verified.members() == {PRACTITIONER_ID: Role.ADMIN, SECRETARY_ID: Role.SECRETARY}
    epoch = GroupEpochStatement.from_leaf(bytes.fromhex(v["group_epoch"]["leaf"]))
    members = vs.members_of(v["group_epoch"]["members"])
    assert statements.member_set_digest(members).hex() == v["group_epoch"]["member_set_digest"]
    statements.verify_group_epoch(
        epoch,
        group_key=vs.binding_of(v["group_epoch"]["group_key"]),
        chain=verified,
        members=members,
        signing_keys=keys,
    )


def _refused(kind: str, leaf: bytes, v: dict[str, Any]) -> None:
    keys = {(PRACTITIONER_ID, 1): vs.binding_of(v["signers"]["practitioner"])}
    if kind == "endorsement":
        ends = vs.endorsements()
        statements.verify_key_chain(
            PRACTITIONER_ID, _bindings(), [ends[0], KeyEndorsement.from_leaf(leaf)]
        )
    elif kind == "membership":
        links = vs.membership_chain()
        links[1] = MembershipStatement.from_leaf(leaf)
        statements.verify_membership_chain(GROUP_ID, links[:2], signing_keys=keys)
    else:
        chain = statements.verify_membership_chain(
            GROUP_ID, vs.membership_chain(), signing_keys=keys
        )
        statements.verify_group_epoch(
            GroupEpochStatement.from_leaf(leaf),
            group_key=group_key().encryption_binding(),
            chain=chain,
            members=vs.EPOCH_MEMBERS,
            signing_keys=keys,
        )


@pytest.mark.parametrize("kind", ["endorsement", "membership", "group_epoch"])
def test_tampered_vectors_are_refused(kind: str) -> None:
    v = load("statements")
    for tampered in v[f"{kind}_tampered"]:
        with pytest.raises(CryptoError):
            _refused(kind, bytes.fromhex(tampered["leaf"]), v)


# Parsing and construction --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leaf", "parse", "offset"),
    [
        (vs.endorsements()[0].to_leaf(), KeyEndorsement.from_leaf, 22),
        (vs.membership_chain()[0].to_leaf(), MembershipStatement.from_leaf, 70),
    ],
)
def test_unknown_kind_or_role_is_malformed(leaf: bytes, parse: Any, offset: int) -> None:
    with pytest.raises(MalformedEnvelope):
        parse(flip(leaf, offset, 0x80))


@pytest.mark.parametrize(
    ("leaf", "parse"),
    [
        (vs.endorsements()[0].to_leaf(), KeyEndorsement.from_leaf),
        (vs.membership_chain()[0].to_leaf(), MembershipStatement.from_leaf),
        (vs.group_epoch().to_leaf(), GroupEpochStatement.from_leaf),
    ],
)
def test_short_long_and_foreign_leaves_are_malformed(leaf: bytes, parse: Any) -> None:
    for bad in (leaf[:-1], leaf + b"\x00", flip(leaf, 1, 0x0F)):
        with pytest.raises(MalformedEnvelope):
            parse(bad)


def test_sizes() -> None:
    assert len(vs.endorsements()[0].to_leaf()) == statements.ENDORSEMENT_BYTES == 155
    assert len(vs.membership_chain()[0].to_leaf()) == statements.MEMBERSHIP_BYTES == 155
    assert len(vs.group_epoch().to_leaf()) == statements.GROUP_EPOCH_BYTES == 174


@pytest.mark.parametrize(
    "change",
    [{"epoch": 2**32}, {"encryption_leaf_hash": b"x"}, {"signature": b"x"}],
)
def test_endorsement_fields_are_checked(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"bytes|bits"):
        dataclasses.replace(vs.endorsements()[0], **change)


@pytest.mark.parametrize("change", [{"sequence": -1}, {"previous": b""}, {"signature": b""}])
def test_membership_fields_are_checked(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"bytes|bits"):
        dataclasses.replace(vs.membership_chain()[0], **change)


@pytest.mark.parametrize("change", [{"epoch": -1}, {"public_key": b""}, {"signature": b""}])
def test_group_epoch_fields_are_checked(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"bytes|bits"):
        dataclasses.replace(vs.group_epoch(), **change)


def test_endorse_needs_one_users_pair_and_the_right_signer() -> None:
    two, three = vs.practitioner_at(2), vs.practitioner_at(3)
    other = new_user()
    mixed = [
        (two.encryption_binding(), three.signing_binding()),
        (two.signing_binding(), two.signing_binding()),
        (two.encryption_binding(), other.signing_binding()),
        (group_key().encryption_binding(), two.signing_binding()),
    ]
    for encryption, signing in mixed:
        with pytest.raises(ValueError, match="one user and epoch"):
            statements.endorse_keys(
                encryption=encryption, signing=signing, kind=EndorsementKind.RESET, signer=two
            )
    for kind, signer in [
        (EndorsementKind.RESET, practitioner()),
        (EndorsementKind.ROTATION, two),
        (EndorsementKind.ROTATION, other),
    ]:
        with pytest.raises(ValueError, match="epoch"):
            statements.endorse_keys(
                encryption=two.encryption_binding(),
                signing=two.signing_binding(),
                kind=kind,
                signer=signer,
            )
    first = practitioner()
    with pytest.raises(ValueError, match="epoch"):
        statements.endorse_keys(
            encryption=first.encryption_binding(),
            signing=first.signing_binding(),
            kind=EndorsementKind.RESET,
            signer=first,
        )


# Key endorsements ----------------------------------------------------------------------------------


def test_verify_endorsement_refusals() -> None:
    reset, rotation = vs.endorsements()
    two, three = vs.practitioner_at(2), vs.practitioner_at(3)
    enc, sig = three.encryption_binding(), three.signing_binding()
    ok = {"encryption": enc, "signing": sig, "signer": two.signing_binding()}
    statements.verify_endorsement(rotation, **ok)
    cases: list[tuple[KeyEndorsement, dict[str, Any], type[CryptoError]]] = [
        (rotation, {**ok, "signing": two.signing_binding()}, WrongContext),
        (reset, ok, WrongContext),
        (dataclasses.replace(rotation, signing_leaf_hash=bytes(32)), ok, ProofInvalid),
        (dataclasses.replace(rotation, signer_epoch=3), ok, ProofInvalid),
        (rotation, {**ok, "signer": sig}, ProofInvalid),
        (rotation, {**ok, "signer": vs.practitioner_at(2).encryption_binding()}, WrongContext),
        (rotation, {**ok, "signer": new_user().signing_binding()}, ProofInvalid),
        (dataclasses.replace(rotation, signature=bytes(64)), ok, SignatureInvalid),
    ]
    for endorsement, arguments, error in cases:
        with pytest.raises(error):
            statements.verify_endorsement(endorsement, **arguments)


def test_a_reset_signed_by_another_key_is_refused() -> None:
    two = vs.practitioner_at(2)
    forged = statements.endorse_keys(
        encryption=two.encryption_binding(),
        signing=two.signing_binding(),
        kind=EndorsementKind.RESET,
        signer=two,
    )
    mallory = dataclasses.replace(new_user(PRACTITIONER_ID), epoch=2)
    other = statements.endorse_keys(
        encryption=mallory.encryption_binding(),
        signing=mallory.signing_binding(),
        kind=EndorsementKind.RESET,
        signer=mallory,
    )
    spliced = dataclasses.replace(
        other,
        encryption_leaf_hash=forged.encryption_leaf_hash,
        signing_leaf_hash=forged.signing_leaf_hash,
    )
    with pytest.raises(SignatureInvalid):
        statements.verify_key_chain(PRACTITIONER_ID, _bindings((1, 2)), [spliced])


def test_key_chain_refusals() -> None:
    reset, rotation = vs.endorsements()
    stranger = new_user().encryption_binding()
    cases: list[tuple[list[KeyBinding], list[KeyEndorsement], type[CryptoError]]] = [
        ([*_bindings(), stranger], [reset, rotation], WrongContext),
        ([*_bindings(), _bindings()[0]], [reset, rotation], ProofInvalid),
        (_bindings(), [reset, rotation, rotation], ProofInvalid),
        (_bindings((1, 3)), [rotation], ProofInvalid),
        (_bindings((2, 3)), [reset, rotation], ProofInvalid),
        (_bindings(), [reset], ProofInvalid),
        (_bindings((1, 2)), [reset, rotation], ProofInvalid),
        (_bindings()[:-1], [reset, rotation], ProofInvalid),
        (_bindings(), [rotation], ProofInvalid),
    ]
    for bindings, ends, error in cases:
        with pytest.raises(error):
            statements.verify_key_chain(PRACTITIONER_ID, bindings, ends)


def test_key_chain_of_epoch_one_alone() -> None:
    chain = statements.verify_key_chain(PRACTITIONER_ID, _bindings((1,)), [])
    assert [(c.encryption.epoch, c.kind) for c in chain] == [(1, None)]
    assert statements.verify_key_chain(PRACTITIONER_ID, [], []) == []


def test_a_rotation_must_be_signed_by_the_previous_epoch() -> None:
    three = vs.practitioner_at(3)
    signed_by_new = dataclasses.replace(
        statements.endorse_keys(
            encryption=three.encryption_binding(),
            signing=three.signing_binding(),
            kind=EndorsementKind.RESET,
            signer=three,
        ),
        kind=EndorsementKind.ROTATION,
        signer_epoch=2,
    )
    with pytest.raises(SignatureInvalid):
        statements.verify_key_chain(
            PRACTITIONER_ID, _bindings(), [vs.endorsements()[0], signed_by_new]
        )


# Membership chains ---------------------------------------------------------------------------------


def _link(
    chain: list[MembershipStatement], member: uuid.UUID, role: Role, signer: Any = None
) -> list[MembershipStatement]:
    return [
        *chain,
        statements.sign_membership(
            group_id=GROUP_ID,
            sequence=len(chain) + 1,
            previous=chain[-1].leaf_hash() if chain else statements.GENESIS_PREVIOUS,
            member_id=member,
            role=role,
            signer=signer or practitioner(),
        ),
    ]


def test_membership_chain_states_and_sequences() -> None:
    chain = statements.verify_membership_chain(
        GROUP_ID, vs.membership_chain(), signing_keys=SIGNING_KEYS
    )
    assert chain.sequence == 4
    assert chain.role_at(PATIENT_ID, 2) is Role.REMOVED  # not attested yet
    assert chain.role_at(PATIENT_ID, 3) is Role.PRACTITIONER
    assert chain.role_at(PATIENT_ID, 4) is Role.REMOVED
    assert chain.role_at(SECRETARY_ID, 4) is Role.SECRETARY
    for sequence in (0, 5):
        with pytest.raises(ProofInvalid):
            chain.role_at(PATIENT_ID, sequence)


def test_membership_chain_refusals() -> None:
    good = vs.membership_chain()
    other_group = dataclasses.replace(good[0], group_id=uuid.uuid4())
    keys = {**SIGNING_KEYS, (SECRETARY_ID, 1): secretary().signing_binding()}
    cases: list[tuple[list[MembershipStatement], type[CryptoError]]] = [
        ([], ProofInvalid),
        ([other_group], WrongContext),
        ([good[1]], ProofInvalid),  # sequence 2 first
        ([good[0], good[2]], ProofInvalid),  # a gap
        ([good[0], dataclasses.replace(good[1], previous=bytes(32))], ProofInvalid),
        (_link([], SECRETARY_ID, Role.ADMIN), ProofInvalid),  # genesis for somebody else
        (_link([], PRACTITIONER_ID, Role.PRACTITIONER), ProofInvalid),  # genesis not admin
        (_link(good[:2], PATIENT_ID, Role.ADMIN, secretary()), ProofInvalid),  # not an admin
        (_link([], SECRETARY_ID, Role.ADMIN, secretary()), ProofInvalid),  # no proven key
        ([dataclasses.replace(good[0], signature=bytes(64))], SignatureInvalid),
        (_link(good[:1], PRACTITIONER_ID, Role.REMOVED), ProofInvalid),  # the last admin
    ]
    for chain, error in cases:
        signing = keys if chain and chain[0].signer_id == PRACTITIONER_ID else SIGNING_KEYS
        with pytest.raises(error):
            statements.verify_membership_chain(GROUP_ID, chain, signing_keys=signing)


def test_an_admin_can_hand_over_then_leave() -> None:
    chain = _link(vs.membership_chain()[:2], SECRETARY_ID, Role.ADMIN)
    chain = _link(chain, PRACTITIONER_ID, Role.REMOVED, secretary())
    keys = {**SIGNING_KEYS, (SECRETARY_ID, 1): secretary().signing_binding()}
    verified = statements.verify_membership_chain(GROUP_ID, chain, signing_keys=keys)
    assert verified.members() == {SECRETARY_ID: Role.ADMIN}


# Group epochs --------------------------------------------------------------------------------------


def test_member_set_digest_refuses_duplicates_and_ignores_order() -> None:
    members = list(vs.EPOCH_MEMBERS)
    assert statements.member_set_digest(members) == statements.member_set_digest(members[::-1])
    with pytest.raises(ValueError, match="twice"):
        statements.member_set_digest([*members, members[0]])


def test_sign_group_epoch_needs_a_group_key() -> None:
    with pytest.raises(ValueError, match="group"):
        statements.sign_group_epoch(
            group_key=practitioner().encryption_binding(),
            membership_sequence=1,
            members=[],
            signer=practitioner(),
        )


def test_group_epoch_refusals() -> None:
    chain = statements.verify_membership_chain(
        GROUP_ID, vs.membership_chain(), signing_keys=SIGNING_KEYS
    )
    good = vs.group_epoch()
    key = group_key().encryption_binding()
    ok: dict[str, Any] = {
        "group_key": key,
        "chain": chain,
        "members": vs.EPOCH_MEMBERS,
        "signing_keys": SIGNING_KEYS,
    }
    statements.verify_group_epoch(good, **ok)
    by_secretary = statements.sign_group_epoch(
        group_key=key, membership_sequence=2, members=vs.EPOCH_MEMBERS, signer=secretary()
    )
    late = statements.sign_group_epoch(
        group_key=key,
        membership_sequence=3,
        members=[*vs.EPOCH_MEMBERS, (PATIENT_ID, 1)],
        signer=practitioner(),
    )
    after_removal = dataclasses.replace(late, membership_sequence=4)
    other_chain = dataclasses.replace(chain, group_id=uuid.uuid4())
    cases: list[tuple[GroupEpochStatement, dict[str, Any], type[CryptoError]]] = [
        (good, {**ok, "group_key": practitioner().encryption_binding()}, WrongContext),
        (dataclasses.replace(good, group_id=uuid.uuid4()), ok, WrongContext),
        (good, {**ok, "chain": other_chain}, WrongContext),
        (dataclasses.replace(good, epoch=2), ok, ProofInvalid),
        (dataclasses.replace(good, public_key=bytes(32)), ok, ProofInvalid),
        (dataclasses.replace(good, membership_sequence=9), ok, ProofInvalid),
        (by_secretary, ok, ProofInvalid),
        (dataclasses.replace(good, signer_epoch=2), ok, ProofInvalid),
        (dataclasses.replace(good, signature=bytes(64)), ok, SignatureInvalid),
        (good, {**ok, "members": [*vs.EPOCH_MEMBERS, vs.EPOCH_MEMBERS[0]]}, ProofInvalid),
        (good, {**ok, "members": vs.EPOCH_MEMBERS[:1]}, ProofInvalid),
        (good, {**ok, "members": [(PRACTITIONER_ID, 2), (SECRETARY_ID, 1)]}, ProofInvalid),
        (after_removal, {**ok, "members": [*vs.EPOCH_MEMBERS, (PATIENT_ID, 1)]}, CryptoError),
    ]
    for statement, arguments, error in cases:
        with pytest.raises(error):
            statements.verify_group_epoch(statement, **arguments)
    statements.verify_group_epoch(late, **{**ok, "members": [*vs.EPOCH_MEMBERS, (PATIENT_ID, 1)]})


def test_a_removed_member_in_a_properly_signed_epoch_is_refused() -> None:
    chain = statements.verify_membership_chain(
        GROUP_ID, vs.membership_chain(), signing_keys=SIGNING_KEYS
    )
    members = [*vs.EPOCH_MEMBERS, (PATIENT_ID, 1)]
    signed = statements.sign_group_epoch(
        group_key=group_key().encryption_binding(),
        membership_sequence=4,
        members=members,
        signer=practitioner(),
    )
    with pytest.raises(ProofInvalid, match="not an attested member"):
        statements.verify_group_epoch(
            signed,
            group_key=group_key().encryption_binding(),
            chain=chain,
            members=members,
            signing_keys=SIGNING_KEYS,
        )
    stranger = [*vs.EPOCH_MEMBERS, (uuid.uuid4(), 1)]
    signed = statements.sign_group_epoch(
        group_key=group_key().encryption_binding(),
        membership_sequence=4,
        members=stranger,
        signer=practitioner(),
    )
    with pytest.raises(ProofInvalid, match="not an attested member"):
        statements.verify_group_epoch(
            signed,
            group_key=group_key().encryption_binding(),
            chain=chain,
            members=stranger,
            signing_keys=SIGNING_KEYS,
        )


def test_clinical_epochs_are_made_by_and_for_practitioners_only() -> None:
    # At sequence 3 the chain has an admin (PRACTITIONER_ID), a secretary and a practitioner
    # (PATIENT_ID's account, removed at sequence 4).
    chain = statements.verify_membership_chain(
        GROUP_ID, vs.membership_chain(), signing_keys=SIGNING_KEYS
    )
    keys = {**SIGNING_KEYS, (PATIENT_ID, 1): patient().signing_binding()}
    clinical = groups.create_group(
        clinical_group_id(GROUP_ID), members=[patient().encryption_binding()]
    ).group_key.encryption_binding()
    only_practitioner = [(PATIENT_ID, 1)]

    def signed(
        by: Any, members: list[tuple[uuid.UUID, int]], key: KeyBinding = clinical
    ) -> GroupEpochStatement:
        return statements.sign_group_epoch(
            group_key=key, membership_sequence=3, members=members, signer=by
        )

    ok: dict[str, Any] = {"chain": chain, "signing_keys": keys}
    statements.verify_clinical_epoch(
        signed(patient(), only_practitioner),
        group_key=clinical,
        members=only_practitioner,
        **ok,
    )
    with_secretary = [*only_practitioner, (SECRETARY_ID, 1)]
    with_admin = [*only_practitioner, (PRACTITIONER_ID, 1)]
    practice_key = group_key().encryption_binding()
    cases: list[tuple[GroupEpochStatement, KeyBinding, list[tuple[uuid.UUID, int]], str]] = [
        # Only a practitioner makes the key: an admin (who signs the practice's) may not.
        (signed(practitioner(), only_practitioner), clinical, only_practitioner, "role may not"),
        (signed(secretary(), only_practitioner), clinical, only_practitioner, "role may not"),
        # Nobody else is wrapped for, not even an admin of the chain.
        (signed(patient(), with_secretary), clinical, with_secretary, "not an attested member"),
        (signed(patient(), with_admin), clinical, with_admin, "not an attested member"),
        # The practice group's key and statement are not the practitioners' group's.
        (
            signed(patient(), only_practitioner, practice_key),
            practice_key,
            only_practitioner,
            "another group",
        ),
    ]
    for statement, key, members, message in cases:
        with pytest.raises(CryptoError, match=message):
            statements.verify_clinical_epoch(statement, group_key=key, members=members, **ok)
    # And a practitioners' epoch is never taken for the practice's own.
    with pytest.raises(WrongContext):
        statements.verify_group_epoch(
            signed(patient(), only_practitioner),
            group_key=clinical,
            members=only_practitioner,
            **ok,
        )


def test_clinical_group_ids_are_derived_per_practice() -> None:
    assert clinical_group_id(GROUP_ID) != GROUP_ID
    assert clinical_group_id(GROUP_ID) != clinical_group_id(PATIENT_ID)
    assert clinical_group_id(GROUP_ID).version == 8


def test_kinds_and_purposes_are_as_documented() -> None:
    assert [int(k) for k in EndorsementKind] == [1, 2]
    assert [int(r) for r in Role] == [0, 1, 2, 3]
    assert (int(SubjectKind.USER), int(KeyPurpose.SIGNING)) == (1, 2)


def test_a_membership_signature_alone() -> None:
    genesis = vs.membership_chain()[0]
    statements.verify_membership_signature(genesis, signer=practitioner().signing_binding())
    other_epoch = dataclasses.replace(vs.practitioner_at(2), user_id=PRACTITIONER_ID)
    for signer, error in [
        (other_epoch.signing_binding(), ProofInvalid),
        (secretary().signing_binding(), WrongContext),
        (
            dataclasses.replace(practitioner(), signing_public=bytes(32)).signing_binding(),
            CryptoError,
        ),
    ]:
        with pytest.raises(error):
            statements.verify_membership_signature(genesis, signer=signer)


def test_a_group_epoch_signature_alone_and_member_entries() -> None:
    epoch = vs.group_epoch()
    statements.verify_group_epoch_signature(epoch, signer=practitioner().signing_binding())
    other_epoch = vs.practitioner_at(2)
    with pytest.raises(ProofInvalid):
        statements.verify_group_epoch_signature(epoch, signer=other_epoch.signing_binding())
    with pytest.raises(WrongContext):
        statements.verify_group_epoch_signature(epoch, signer=secretary().signing_binding())
    entries = statements.member_entries(vs.EPOCH_MEMBERS)
    assert sorted(statements.parse_member_entries(entries)) == sorted(vs.EPOCH_MEMBERS)
    with pytest.raises(MalformedEnvelope):
        statements.parse_member_entries(entries[:-1])
