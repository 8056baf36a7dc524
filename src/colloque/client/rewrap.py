"""Moving item keys to new keys, page by page: after a practice group's rotation (re-wrap for the
current epoch) and after a patient's key reset (re-share to their new key, once a member checked
their identity). Behind :meth:`SealedRecords.rewrap_after_rotation` and
:meth:`SealedRecords.reshare`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any
from uuid import UUID

from colloque.client.encoding import b64, unb64
from colloque.client.http import Json, Request, with_query
from colloque.crypto.groups import GroupKey, rewrap_item_key
from colloque.crypto.items import unwrap_item_key, wrap_item_key_for
from colloque.crypto.transparency import KeyBinding, SubjectKind

#: ``move(wrap, item_id, group_key)``: the item key of ``wrap``, wrapped for its new holder.
Move = Callable[[bytes, UUID, GroupKey], bytes]


def rewrap_for_current_epoch(
    request: Request,
    *,
    practice_id: UUID,
    group_keys: Mapping[int, GroupKey],
    batch: int,
    group: str = "practice",
) -> int:
    """Re-wrap every item key of the group (``"practice"``, or ``"clinical"``: the
    practitioners') still at an older epoch for the current one; wraps of an epoch this member
    never held are left for another member. Returns how many stored."""
    path = f"/api/v1/practices/{practice_id}/item-key-wraps"
    stored = 0
    for page in _pages(request, path + "/stale", batch, group=group):
        current = group_keys[page["current_epoch"]].encryption_binding()
        wraps = _moved(page["wraps"], group_keys, partial(_to_current, current=current))
        if wraps:
            stored += request("POST", path, json={"wraps": wraps, "group": group})["stored"]
    return stored


def reshare_to_holder(
    request: Request,
    *,
    practice_id: UUID,
    patient_id: UUID,
    group_keys: Mapping[int, GroupKey],
    holder_key: KeyBinding,
    identity_checked: bool,
    batch: int,
) -> int:
    """Wrap the keys of a patient's items for ``holder_key``, their new encryption key from the
    key directory. Returns how many stored."""
    path = f"/api/v1/practices/{practice_id}/patients/{patient_id}/reshare"
    stored = 0
    for page in _pages(request, path, batch):
        expected = (SubjectKind.USER, UUID(page["holder_account_id"]), page["holder_epoch"])
        if (holder_key.subject_kind, holder_key.subject_id, holder_key.epoch) != expected:
            raise ValueError("the holder's key is not the one the practice must share to")
        wraps = _moved(page["wraps"], group_keys, partial(_to_holder, holder_key=holder_key))
        if wraps:
            body = {"identity_checked": identity_checked, "wraps": wraps}
            stored += request("POST", path, json=body)["stored"]
    return stored


def _pages(request: Request, path: str, batch: int, **params: str) -> Iterator[Any]:
    """Every page of a keyset-paginated listing, ``batch`` entries at a time."""
    after: UUID | None = None
    while True:
        page = request("GET", with_query(path, after=after, limit=batch, **params))
        yield page
        if page["next_after"] is None:
            return
        after = UUID(page["next_after"])


def _moved(entries: list[Json], group_keys: Mapping[int, GroupKey], move: Move) -> list[str]:
    """The new wraps, one per item, of the entries of the keys' group whose epoch this member
    holds (a patient's items are wrapped for both of the practice's groups)."""
    fresh: dict[UUID, bytes] = {}
    for entry in entries:
        item_id = UUID(entry["item_id"])
        group = group_keys.get(entry["epoch"])
        if group is None or group.group_id != UUID(entry["recipient_id"]):
            continue
        if item_id not in fresh:
            fresh[item_id] = move(unb64(entry["wrap"]), item_id, group)
    return [b64(wrap) for wrap in fresh.values()]


def _to_current(wrap: bytes, item_id: UUID, old: GroupKey, *, current: KeyBinding) -> bytes:
    return rewrap_item_key(wrap, item_id=item_id, old_group=old, new_group=current)


def _to_holder(wrap: bytes, item_id: UUID, group: GroupKey, *, holder_key: KeyBinding) -> bytes:
    item_key = unwrap_item_key(wrap, item_id=item_id, holder=group)
    return wrap_item_key_for(item_key, item_id=item_id, recipient=holder_key)
