"""The owner's watch over the log: what appeared under this user's name that this device did not make.

docs/crypto.md (5.9) relies on the owner's client noticing a binding the server appended for its
user. :func:`own_key_alerts` reads the user's own chain and compares it with what this device
knows: the keys it unlocked and the fingerprints it remembers per epoch (state "own_keys").
For an admin, :func:`group_alerts` also reads each of their practices' signed membership chain
and current group epoch. For an admin or a practitioner, :func:`clinical_alerts` verifies each of
their practices' practitioners' group epoch. It reports rather than raises, so that the user can
still act (warn their practices, reset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from colloque.client.directory import KeyDirectory
from colloque.client.http import ApiError
from colloque.client.pins import epoch_fingerprint, same_fingerprint
from colloque.crypto.errors import CryptoError
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.keys import UserKeys


@dataclass(frozen=True)
class Alert:
    """Something in the log about ``subject_id`` that this user did not make.

    ``what`` is "chain_refused" (the chain does not verify: e.g. an epoch nobody endorsed),
    "unknown_epoch" (keys newer than this device's), "not_my_keys" (an epoch whose keys differ
    from the ones this device holds or remembers), "missing_epoch" (the log hides the keys
    this device holds), for a practice an admin runs, "group_refused" (its membership chain
    or its current group epoch does not verify) or, for a practice an admin or a practitioner
    is in, "clinical_refused" (its practitioners' group epoch does not verify, or the server
    hides a group this device verified before)."""

    subject_id: UUID
    what: str
    epoch: int | None
    detail: str


def own_key_alerts(
    directory: KeyDirectory, keys: UserKeys, known: Mapping[str, str]
) -> list[Alert]:
    """Compare the user's chain in the log with ``keys`` and the remembered ``known``
    fingerprints (epoch as text -> fingerprint)."""
    user_id = keys.user_id
    try:
        verified = directory.verified_chain(user_id)
    except (CryptoError, ApiError) as error:
        return [Alert(user_id, "chain_refused", None, str(error))]
    alerts = []
    for link in verified.chain:
        epoch, shown = link.encryption.epoch, epoch_fingerprint(link)
        mine = known.get(str(epoch))
        if epoch > keys.epoch:
            alerts.append(Alert(user_id, "unknown_epoch", epoch, shown))
        elif mine is not None and not same_fingerprint(mine, shown):
            alerts.append(Alert(user_id, "not_my_keys", epoch, shown))
    if verified.chain[-1].encryption.epoch < keys.epoch:
        alerts.append(Alert(user_id, "missing_epoch", keys.epoch, "the log hides these keys"))
    return alerts


def group_alerts(directory: KeyDirectory, practice_ids: Iterable[UUID]) -> list[Alert]:
    """For each practice (those the user is an admin of), what in its signed chain or current
    group epoch does not verify; a group key without them too (the practice needs re-keying).
    A practice without a group key yet has only its chain, if any, to check, unless this device
    verified an epoch of it before (then the server hides it)."""
    alerts = []
    for practice_id in practice_ids:
        try:
            directory.membership_chain(practice_id)
        except (CryptoError, ApiError) as error:
            # Even a 404 here (a signer's keys withheld) is something to look at.
            alerts.append(Alert(practice_id, "group_refused", None, str(error)))
            continue
        try:
            found = directory.practice_key_if_any(practice_id)
        except (CryptoError, ApiError) as error:
            alerts.append(Alert(practice_id, "group_refused", None, str(error)))
            continue
        seen = directory.state.get("group_epochs", str(practice_id))
        if found is None and seen:
            hidden = "the server hides the practice group this device verified"
            alerts.append(Alert(practice_id, "group_refused", seen, hidden))
    return alerts


def clinical_alerts(directory: KeyDirectory, practice_ids: Iterable[UUID]) -> list[Alert]:
    """For each practice (those the user is an admin or a practitioner of), whether the current
    epoch of its practitioners' group verifies: signed by a practitioner of the verified chain,
    wrapped for practitioners only, its signer's keys served. A practice without the group has
    nothing to check, unless this device verified an epoch of it before (then the server hides
    it)."""
    alerts = []
    for practice_id in practice_ids:
        try:
            found = directory.clinical_key_if_any(practice_id)
        except (CryptoError, ApiError) as error:
            alerts.append(Alert(practice_id, "clinical_refused", None, str(error)))
            continue
        seen = directory.state.get("group_epochs", str(clinical_group_id(practice_id)))
        if found is None and seen:
            hidden = "the server hides the practitioners' group this device verified"
            alerts.append(Alert(practice_id, "clinical_refused", seen, hidden))
    return alerts
