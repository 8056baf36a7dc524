"""Keys for the world's people and a practice key group, written straight into their tables.

The key directory and group endpoints belong to another area; these tests need only the rows that
``records`` reads (a key bundle's epoch and public keys, a practice's current epoch).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import delete

from colloque.accounts.config import TEST_COST
from colloque.accounts.models import KeyBundleRow
from colloque.clock import SettableClock
from colloque.crypto.groups import GroupKey, clinical_group_id, create_group, rotate_group_key
from colloque.crypto.keys import UserKeys, create_key_bundle
from colloque.practicekeys.models import PracticeKeyEpoch, PracticeKeyWrap
from colloque.storage.engine import Database


def give_keys(db: Database, clock: SettableClock, account_id: UUID, *, epoch: int = 1) -> UserKeys:
    """New key pairs for an account (its key bundle replaced, at ``epoch``)."""
    created = create_key_bundle(
        account_id, secrets.token_bytes(32), recovery_cost=TEST_COST, insecure_allow_weak_cost=True
    )
    bundle = created.bundle
    with db.write() as session:
        session.execute(delete(KeyBundleRow).where(KeyBundleRow.account_id == account_id))
        session.add(
            KeyBundleRow(
                account_id=account_id,
                epoch=epoch,
                encryption_public=bundle.encryption_public,
                signing_public=bundle.signing_public,
                sealed_by_password=bundle.sealed_by_password,
                sealed_by_recovery=bundle.sealed_by_recovery,
                updated_at=clock.now(),
            )
        )
    if epoch == created.keys.epoch:
        return created.keys
    return UserKeys(
        user_id=account_id,
        epoch=epoch,
        encryption_public=created.keys.encryption_public,
        encryption_secret=created.keys.encryption_secret,
        signing_public=created.keys.signing_public,
        signing_seed=created.keys.signing_seed,
        signing_secret=created.keys.signing_secret,
    )


def make_group(
    db: Database,
    clock: SettableClock,
    practice_id: UUID,
    members: Sequence[UserKeys],
    *,
    previous: GroupKey | None = None,
    clinical: bool = False,
) -> GroupKey:
    """Epoch 1 of the practice's group (``clinical``: its practitioners' group), or the epoch
    after ``previous`` (a rotation)."""
    bindings = [member.encryption_binding() for member in members]
    group_id = clinical_group_id(practice_id) if clinical else practice_id
    rotation = (
        create_group(group_id, members=bindings)
        if previous is None
        else rotate_group_key(previous, members=bindings)
    )
    key = rotation.group_key
    with db.write() as session:
        session.add(
            PracticeKeyEpoch(
                practice_id=practice_id,
                clinical=clinical,
                epoch=key.epoch,
                public_key=key.public_key,
                leaf_index=key.epoch - 1,
                created_by_account_id=None,
                created_at=clock.now(),
            )
        )
        session.flush()
        session.add_all(
            PracticeKeyWrap(
                practice_id=practice_id,
                clinical=clinical,
                epoch=key.epoch,
                account_id=account_id,
                wrap=wrap,
                created_at=clock.now(),
            )
            for account_id, wrap in rotation.wraps.items()
        )
    return key
