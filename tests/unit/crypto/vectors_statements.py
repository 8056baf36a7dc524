"""Vectors of the signed statements (docs/crypto.md, section 5.12): tests/vectors/statements.json.

Ed25519 is deterministic, so fixed keys give fixed bytes without any hook. The practitioner of
items.json resets to epoch 2 (new keys seq(0x60), seq(0x80)) then rotates to epoch 3 (seq(0xA0),
seq(0xC0)); the practitioner admin builds a membership chain for the group of items.json and
attests its epoch-1 key.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from colloque.crypto import keys, statements, transparency
from colloque.crypto.statements import EndorsementKind, Role
from tests.unit.crypto.vectors import (
    GROUP_ID,
    OURS,
    PATIENT_ID,
    PRACTITIONER_ID,
    SECRETARY_ID,
    _binding_json,
    group_key,
    practitioner,
    secretary,
    seq,
)


def practitioner_at(epoch: int) -> keys.UserKeys:
    starts = {2: (0x60, 0x80), 3: (0xA0, 0xC0)}
    if epoch == 1:
        return practitioner()
    encryption, signing = starts[epoch]
    return keys._keys_from_secrets(PRACTITIONER_ID, epoch, seq(encryption), seq(signing))


def endorsements() -> list[statements.KeyEndorsement]:
    reset, rotated = practitioner_at(2), practitioner_at(3)
    return [
        statements.endorse_keys(
            encryption=reset.encryption_binding(),
            signing=reset.signing_binding(),
            kind=EndorsementKind.RESET,
            signer=reset,
        ),
        statements.endorse_keys(
            encryption=rotated.encryption_binding(),
            signing=rotated.signing_binding(),
            kind=EndorsementKind.ROTATION,
            signer=reset,
        ),
    ]


#: (member, role) of each membership statement, all signed by the practitioner (admin).
MEMBERSHIP_STEPS = (
    (PRACTITIONER_ID, Role.ADMIN),
    (SECRETARY_ID, Role.SECRETARY),
    (PATIENT_ID, Role.PRACTITIONER),
    (PATIENT_ID, Role.REMOVED),
)


def membership_chain() -> list[statements.MembershipStatement]:
    chain: list[statements.MembershipStatement] = []
    for number, (member, role) in enumerate(MEMBERSHIP_STEPS, start=1):
        chain.append(
            statements.sign_membership(
                group_id=GROUP_ID,
                sequence=number,
                previous=chain[-1].leaf_hash() if chain else statements.GENESIS_PREVIOUS,
                member_id=member,
                role=role,
                signer=practitioner(),
            )
        )
    return chain


#: The group epoch statement's members: (member id, encryption epoch), at membership sequence 2.
EPOCH_MEMBERS = ((PRACTITIONER_ID, 1), (SECRETARY_ID, 1))
EPOCH_SEQUENCE = 2


def group_epoch() -> statements.GroupEpochStatement:
    return statements.sign_group_epoch(
        group_key=group_key().encryption_binding(),
        membership_sequence=EPOCH_SEQUENCE,
        members=EPOCH_MEMBERS,
        signer=practitioner(),
    )


def _tampered(leaf: bytes, offsets: dict[str, int]) -> list[dict[str, str]]:
    """The leaf with one bit flipped in each named field: each must fail its signature."""
    out = []
    for field, offset in offsets.items():
        changed = bytearray(leaf)
        changed[offset] ^= 0x01
        out.append({"field": field, "leaf": bytes(changed).hex()})
    return out


def statement_vectors() -> dict[str, Any]:
    ends = endorsements()
    chain = membership_chain()
    epoch = group_epoch()
    return {
        "source": OURS + " Key endorsements (0x0A), membership statements (0x0B) and a group "
        "epoch statement (0x0C), docs/crypto.md section 5.12. Ed25519 is deterministic: fixed "
        "seeds, fixed bytes. Each tampered leaf has one bit flipped in the named field and "
        "must fail verification.",
        "domains": {
            "key_endorsement": statements.ENDORSEMENT_DOMAIN.decode(),
            "membership": statements.MEMBERSHIP_DOMAIN.decode(),
            "group_epoch": statements.GROUP_EPOCH_DOMAIN.decode(),
            "member_set": statements.MEMBER_SET_DOMAIN.decode(),
        },
        "user_epochs": [
            {
                "epoch": epoch_,
                "ed25519_seed": practitioner_at(epoch_).signing_seed.hex(),
                "encryption": _binding_json(practitioner_at(epoch_).encryption_binding()),
                "signing": _binding_json(practitioner_at(epoch_).signing_binding()),
                "encryption_leaf_hash": practitioner_at(epoch_)
                .encryption_binding()
                .leaf_hash()
                .hex(),
                "signing_leaf_hash": practitioner_at(epoch_).signing_binding().leaf_hash().hex(),
            }
            for epoch_ in (1, 2, 3)
        ],
        "endorsements": [
            {
                "epoch": e.epoch,
                "kind": e.kind.name.lower(),
                "signer_epoch": e.signer_epoch,
                "leaf": e.to_leaf().hex(),
                "leaf_hash": e.leaf_hash().hex(),
            }
            for e in ends
        ],
        "endorsement_tampered": _tampered(
            ends[1].to_leaf(), {"epoch": 21, "encryption_leaf_hash": 30, "signature": -1}
        ),
        "signers": {
            "practitioner": _binding_json(practitioner().signing_binding()),
            "secretary": _binding_json(secretary().signing_binding()),
        },
        "membership": [
            {
                "sequence": s.sequence,
                "member_id": str(s.member_id),
                "role": s.role.name.lower(),
                "leaf": s.to_leaf().hex(),
                "leaf_hash": s.leaf_hash().hex(),
            }
            for s in chain
        ],
        "membership_tampered": _tampered(
            chain[1].to_leaf(), {"member_id": 54, "role": 70, "signature": -1}
        ),
        "group_epoch": {
            "group_key": _binding_json(group_key().encryption_binding()),
            "members": [{"member_id": str(m), "encryption_epoch": e} for m, e in EPOCH_MEMBERS],
            "member_set_digest": statements.member_set_digest(EPOCH_MEMBERS).hex(),
            "leaf": epoch.to_leaf().hex(),
            "leaf_hash": epoch.leaf_hash().hex(),
        },
        "group_epoch_tampered": _tampered(
            epoch.to_leaf(), {"public_key": 22, "member_set_digest": 58, "signature": -1}
        ),
    }


def members_of(data: list[dict[str, Any]]) -> list[tuple[UUID, int]]:
    return [(UUID(m["member_id"]), m["encryption_epoch"]) for m in data]


def binding_of(data: dict[str, Any]) -> transparency.KeyBinding:
    return transparency.KeyBinding(
        transparency.SubjectKind(data["subject_kind"]),
        UUID(data["subject_id"]),
        transparency.KeyPurpose(data["purpose"]),
        data["epoch"],
        bytes.fromhex(data["public_key"]),
    )
