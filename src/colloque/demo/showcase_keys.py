"""The showcase's end-to-end encryption, done as the demo users' devices would do it.

The demo knows its users' passwords, so it can unlock their keys as their clients would, make the
practice's key group for its members (with signed memberships and a signed group epoch, as the
admin's client would) and its practitioners' group (as a practitioner's client would, so that
the demo practitioner writes notes at once), and seal each showcase booking's reason for the
patient and the practice: a demo login then opens real ciphertext, and the database holds no
reason in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.orm import Session

from colloque.accounts.models import Account, Credentials, KeyBundleRow
from colloque.booking.reasons import SealedReason
from colloque.config import Settings
from colloque.crypto.groups import GroupKey, clinical_group_id, create_group
from colloque.crypto.items import seal_visit_reason
from colloque.crypto.keys import UserKeys, unlock_with_kek
from colloque.crypto.login import KdfParams, derive_login_keys
from colloque.crypto.statements import (
    GENESIS_PREVIOUS,
    MembershipStatement,
    Role,
    sign_group_epoch,
    sign_membership,
)
from colloque.keydirectory.config import LogKey
from colloque.practicekeys.groups import CLINICAL
from colloque.practicekeys.memberships import do_append_memberships, stored_chain
from colloque.practicekeys.services import MemberWrap, do_create_group
from colloque.principal import Principal


def unlock(session: Session, account: Account, password: str) -> UserKeys:
    """What a login does on the device: derive the KEK from the password, open the key bundle."""
    credentials = session.get_one(Credentials, account.account_id)
    bundle = session.get_one(KeyBundleRow, account.account_id)
    kek = derive_login_keys(password, KdfParams.from_bytes(credentials.kdf_params)).kek
    return unlock_with_kek(bundle.sealed_by_password, user_id=account.account_id, kek=kek)


def make_practice_group(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    creator: Principal,
    admin: UserKeys,
    members: Sequence[tuple[UserKeys, Role]],
) -> GroupKey:
    """Epoch 1 of the practice's key group, as the admin's client makes it in a practice that signs
    its memberships: the genesis and one statement per member (``members`` with their roles, the
    admin first), then the key wrapped for them with its group epoch statement."""
    log = LogKey.from_settings(Settings())
    chain: list[MembershipStatement] = []
    for keys, role in members:
        chain.append(
            sign_membership(
                group_id=practice_id,
                sequence=len(chain) + 1,
                previous=chain[-1].leaf_hash() if chain else GENESIS_PREVIOUS,
                member_id=keys.user_id,
                role=role,
                signer=admin,
            )
        )
    do_append_memberships(
        session,
        now=now,
        principal=creator,
        practice_id=practice_id,
        leaves=[statement.to_leaf() for statement in chain],
        log=log,
    )
    bindings = [keys.encryption_binding() for keys, _role in members]
    rotation = create_group(practice_id, members=bindings)
    statement = sign_group_epoch(
        group_key=rotation.group_key.encryption_binding(),
        membership_sequence=len(chain),
        members=[(b.subject_id, b.epoch) for b in bindings],
        signer=admin,
    )
    do_create_group(
        session,
        now=now,
        principal=creator,
        practice_id=practice_id,
        public_key=rotation.group_key.public_key,
        wraps=[MemberWrap(member, wrap) for member, wrap in rotation.wraps.items()],
        log=log,
        statement=statement.to_leaf(),
    )
    return rotation.group_key


def make_clinical_group(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    creator: Principal,
    practitioner: UserKeys,
    practitioners: Sequence[UserKeys],
) -> GroupKey:
    """Epoch 1 of the practitioners' group (notes), as ``practitioner``'s client makes it once
    the practice's chain attests them: wrapped for ``practitioners``, signed by ``practitioner``."""
    bindings = [keys.encryption_binding() for keys in practitioners]
    rotation = create_group(clinical_group_id(practice_id), members=bindings)
    statement = sign_group_epoch(
        group_key=rotation.group_key.encryption_binding(),
        membership_sequence=len(stored_chain(session, practice_id=practice_id)),
        members=[(b.subject_id, b.epoch) for b in bindings],
        signer=practitioner,
    )
    do_create_group(
        session,
        now=now,
        principal=creator,
        practice_id=practice_id,
        public_key=rotation.group_key.public_key,
        wraps=[MemberWrap(member, wrap) for member, wrap in rotation.wraps.items()],
        log=LogKey.from_settings(Settings()),
        statement=statement.to_leaf(),
        group=CLINICAL,
    )
    return rotation.group_key


def seal_reason(
    *,
    author: UserKeys,
    holder: UserKeys,
    group: GroupKey,
    visit_type_id: UUID,
    reason: str,
) -> tuple[UUID, SealedReason]:
    """A fresh appointment id and the reason sealed for it, as the booking client sends them."""
    appointment_id = uuid4()
    sealed = seal_visit_reason(
        item_id=uuid4(),
        appointment_id=appointment_id,
        visit_type_id=visit_type_id,
        reason=reason,
        author=author,
        recipients=[holder.encryption_binding(), group.encryption_binding()],
    )
    return appointment_id, SealedReason(envelope=sealed.envelope, wraps=sealed.wraps)
