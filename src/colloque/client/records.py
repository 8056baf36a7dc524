"""The client's half of sealed records: seal and post notes and messages, fetch and open them, and
move item keys to new keys (after a group rotation, after a patient's key reset).

Public keys come from the caller: ``recipients`` (encryption keys) and ``authors`` (a look-up of
signing keys) must be what the key directory proved (inclusion and consistency), never a key the
server merely sent. Opening checks every item against what was asked for (kind, patient or
conversation, author signature, key commitment) and raises ``CryptoError`` on any mismatch.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode
from uuid import UUID, uuid4

from colloque.crypto.groups import GroupKey, rewrap_item_key
from colloque.crypto.items import (
    KeyPairHolder,
    conversation_id,
    open_message,
    open_note,
    seal_message,
    seal_note,
    unwrap_item_key,
    wrap_item_key_for,
)
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding, SubjectKind

Json = dict[str, Any]
#: The author's signing key, by account id, as the key directory proves it.
AuthorKeys = Callable[[UUID], KeyBinding]


class Request(Protocol):
    def __call__(self, method: str, path: str, *, json: Json | None = None) -> Any: ...


class NoKeyForItem(Exception):
    """None of the item's wraps is for a key this client holds (not yet re-wrapped or re-shared)."""


@dataclass(frozen=True)
class OpenedItem:
    item_id: UUID
    author_account_id: UUID
    created_at: datetime
    text: str


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _query(path: str, **params: object) -> str:
    present = {key: str(value) for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(present)}" if present else path


class SealedRecords:
    """Bound to one signed-in user: ``request`` sends with their session, ``keys`` sign."""

    def __init__(self, request: Request, keys: UserKeys) -> None:
        self._request = request
        self._keys = keys

    @staticmethod
    def _base(practice_id: UUID, patient_id: UUID, *, as_holder: bool) -> str:
        if as_holder:
            return f"/api/v1/me/patients/{patient_id}/practices/{practice_id}"
        return f"/api/v1/practices/{practice_id}/patients/{patient_id}"

    def _post(self, path: str, envelope: bytes, wraps: Sequence[bytes]) -> UUID:
        body = {"envelope": b64(envelope), "wraps": [b64(wrap) for wrap in wraps]}
        return UUID(self._request("POST", path, json=body)["item_id"])

    # Notes and messages ------------------------------------------------------------------------

    def write_note(
        self, *, practice_id: UUID, patient_id: UUID, text: str, recipients: Sequence[KeyBinding]
    ) -> UUID:
        """A practitioner's note; ``recipients``: the patient's holder and the practice group."""
        sealed = seal_note(
            item_id=uuid4(),
            patient_id=patient_id,
            text=text,
            author=self._keys,
            recipients=recipients,
        )
        path = self._base(practice_id, patient_id, as_holder=False) + "/notes"
        return self._post(path, sealed.envelope, sealed.wraps)

    def send_message(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        text: str,
        recipients: Sequence[KeyBinding],
        as_holder: bool,
    ) -> UUID:
        """A message in the conversation of this practice and patient, from either side."""
        sealed = seal_message(
            item_id=uuid4(),
            conversation_id=conversation_id(practice_id=practice_id, patient_id=patient_id),
            text=text,
            author=self._keys,
            recipients=recipients,
        )
        path = self._base(practice_id, patient_id, as_holder=as_holder) + "/messages"
        return self._post(path, sealed.envelope, sealed.wraps)

    def read_notes(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        authors: AuthorKeys,
        group_keys: Mapping[int, GroupKey] | None = None,
        before: UUID | None = None,
        limit: int = 50,
    ) -> list[OpenedItem]:
        """One page, newest first. With ``group_keys`` (by epoch) as staff, else as the holder."""
        return self._read(
            "notes", practice_id, patient_id, authors, group_keys, before=before, limit=limit
        )

    def read_messages(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        authors: AuthorKeys,
        group_keys: Mapping[int, GroupKey] | None = None,
        before: UUID | None = None,
        limit: int = 50,
    ) -> list[OpenedItem]:
        return self._read(
            "messages", practice_id, patient_id, authors, group_keys, before=before, limit=limit
        )

    def _read(
        self,
        what: str,
        practice_id: UUID,
        patient_id: UUID,
        authors: AuthorKeys,
        group_keys: Mapping[int, GroupKey] | None,
        *,
        before: UUID | None,
        limit: int,
    ) -> list[OpenedItem]:
        as_holder = group_keys is None
        path = self._base(practice_id, patient_id, as_holder=as_holder) + f"/{what}"
        page = self._request("GET", _query(path, before=before, limit=limit))
        opened = []
        for entry in page:
            item_id = UUID(entry["item_id"])
            author_id = UUID(entry["author_account_id"])
            item_key = unwrap_item_key(
                self._pick_wrap(entry["wraps"], group_keys),
                item_id=item_id,
                holder=self._holder(entry["wraps"], group_keys),
            )
            envelope = unb64(entry["envelope"])
            if what == "notes":
                text = open_note(
                    envelope,
                    item_key=item_key,
                    item_id=item_id,
                    patient_id=patient_id,
                    author=authors(author_id),
                )
            else:
                text = open_message(
                    envelope,
                    item_key=item_key,
                    item_id=item_id,
                    conversation_id=conversation_id(practice_id=practice_id, patient_id=patient_id),
                    author=authors(author_id),
                )
            created_at = datetime.fromisoformat(entry["created_at"])
            opened.append(OpenedItem(item_id, author_id, created_at, text))
        return opened

    def _usable(self, wraps: list[Json], group_keys: Mapping[int, GroupKey] | None) -> Json:
        for wrap in wraps:
            if group_keys is None and wrap["epoch"] == self._keys.epoch:
                return wrap
            if group_keys is not None and wrap["epoch"] in group_keys:
                return wrap
        raise NoKeyForItem("no wrap of this item opens with the keys of this device")

    def _pick_wrap(self, wraps: list[Json], group_keys: Mapping[int, GroupKey] | None) -> bytes:
        return unb64(self._usable(wraps, group_keys)["wrap"])

    def _holder(
        self, wraps: list[Json], group_keys: Mapping[int, GroupKey] | None
    ) -> KeyPairHolder:
        if group_keys is None:
            return self._keys
        return group_keys[self._usable(wraps, group_keys)["epoch"]]

    # Moving item keys --------------------------------------------------------------------------

    def rewrap_after_rotation(
        self, *, practice_id: UUID, group_keys: Mapping[int, GroupKey], batch: int = 100
    ) -> int:
        """Re-wrap every item key of the practice still at an older epoch for the current one.

        Wraps of an epoch this member never held are left for another member.
        """
        path = f"/api/v1/practices/{practice_id}/item-key-wraps"
        stored = 0
        after: UUID | None = None
        while True:
            page = self._request("GET", _query(path + "/stale", after=after, limit=batch))
            current = group_keys[page["current_epoch"]].encryption_binding()
            fresh: dict[UUID, bytes] = {}
            for entry in page["wraps"]:
                item_id = UUID(entry["item_id"])
                old = group_keys.get(entry["epoch"])
                if old is not None and item_id not in fresh:
                    fresh[item_id] = rewrap_item_key(
                        unb64(entry["wrap"]), item_id=item_id, old_group=old, new_group=current
                    )
            if fresh:
                body = {"wraps": [b64(wrap) for wrap in fresh.values()]}
                stored += self._request("POST", path, json=body)["stored"]
            if page["next_after"] is None:
                return stored
            after = UUID(page["next_after"])

    def reshare(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        group_keys: Mapping[int, GroupKey],
        holder_key: KeyBinding,
        identity_checked: bool,
        batch: int = 100,
    ) -> int:
        """After a patient's key reset: wrap their items' keys for ``holder_key`` (their new
        encryption key from the key directory), once a member checked their identity in person."""
        path = f"/api/v1/practices/{practice_id}/patients/{patient_id}/reshare"
        stored = 0
        after: UUID | None = None
        while True:
            page = self._request("GET", _query(path, after=after, limit=batch))
            expected = (SubjectKind.USER, UUID(page["holder_account_id"]), page["holder_epoch"])
            if (holder_key.subject_kind, holder_key.subject_id, holder_key.epoch) != expected:
                raise ValueError("the holder's key is not the one the practice must share to")
            fresh: dict[UUID, bytes] = {}
            for entry in page["wraps"]:
                item_id = UUID(entry["item_id"])
                group = group_keys.get(entry["epoch"])
                if group is not None and item_id not in fresh:
                    item_key = unwrap_item_key(unb64(entry["wrap"]), item_id=item_id, holder=group)
                    fresh[item_id] = wrap_item_key_for(
                        item_key, item_id=item_id, recipient=holder_key
                    )
            if fresh:
                body = {
                    "identity_checked": identity_checked,
                    "wraps": [b64(wrap) for wrap in fresh.values()],
                }
                stored += self._request("POST", path, json=body)["stored"]
            if page["next_after"] is None:
                return stored
            after = UUID(page["next_after"])
