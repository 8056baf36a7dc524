"""The client's half of sealed records: seal and post notes and messages, fetch and open them, and
move item keys to new keys (after a group rotation, after a patient's key reset).

Public keys come from the caller: ``recipients`` (encryption keys) and ``authors`` (a look-up of
signing keys) must be what the key directory proved (inclusion and consistency), never a key the
server merely sent. Opening checks every item against what was asked for (kind, patient or
conversation, author signature, key commitment) and raises ``CryptoError`` on any mismatch;
``standing`` decides, before anything is decrypted, whether the author was allowed to write it
(``AuthorNotAllowed`` otherwise).
Moving item keys page by page is in ``rewrap.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID, uuid4

from colloque.client.encoding import b64, unb64
from colloque.client.http import Json, Request, StreamingHttp, raise_for_problem, with_query
from colloque.client.rewrap import reshare_to_holder, rewrap_for_current_epoch
from colloque.crypto.authorship import Standing
from colloque.crypto.documents import (
    CHUNK_BYTES,
    decrypt_document,
    encrypt_document,
    new_document_key,
)
from colloque.crypto.groups import GroupKey, clinical_group_id
from colloque.crypto.items import (
    ItemKey,
    ItemKind,
    KeyPairHolder,
    conversation_id,
    open_message,
    open_note,
    read_wrap_header,
    seal_message,
    seal_note,
    unwrap_item_key,
)
from colloque.crypto.keys import UserKeys
from colloque.crypto.sealed_documents import (
    DocumentInfo,
    StreamDigest,
    check_digest,
    open_document,
    seal_document,
)
from colloque.crypto.transparency import KeyBinding

#: The author's signing key, by account id, as the key directory proves it.
AuthorKeys = Callable[[UUID], KeyBinding]

#: The author's standing for an item of a kind (``authorship.author_standing`` against the
#: practice's verified membership chain), raising ``AuthorNotAllowed``.
AuthorStanding = Callable[[ItemKind, UUID], Standing]


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


class NoKeyForItem(Exception):
    """None of the item's wraps is for a key this client holds (not yet re-wrapped or re-shared)."""


class AwaitingPractitionersKey(NoKeyForItem):
    """A note sealed to the practitioners' group, and this practitioner holds no key of it yet:
    a colleague's device shares it (``wrap_for_pending``) the next time it acts."""

    def __init__(self) -> None:
        super().__init__(
            "waiting for a colleague's device to share the practitioners' key with this one"
        )


#: The group keys a staff member opens items with: by group id (the practice's, its
#: practitioners'), then by epoch.
GroupKeys = Mapping[UUID, Mapping[int, GroupKey]]


@dataclass(frozen=True)
class OpenedItem:
    item_id: UUID
    author_account_id: UUID
    created_at: datetime
    text: str
    author_standing: Standing


@dataclass(frozen=True)
class DocumentEntry:
    """A document's verified description; its content comes with :meth:`download_document`."""

    document_id: UUID
    author_account_id: UUID
    created_at: datetime
    info: DocumentInfo
    author_standing: Standing


class SealedRecords:
    """Bound to one signed-in user: ``request`` sends with their session, ``keys`` sign."""

    def __init__(
        self,
        request: Request,
        keys: UserKeys,
        *,
        http: StreamingHttp | None = None,
        token: str | None = None,
    ) -> None:
        self._request = request
        self._keys = keys
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

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
        """A practitioner's note; ``recipients``: the patient's holder and the practitioners'
        group (``KeyDirectory.clinical_key``; ``ColloqueClient.write_note`` keeps it healthy)."""
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
        standing: AuthorStanding,
        group_keys: Mapping[int, GroupKey] | None = None,
        before: UUID | None = None,
        limit: int = 50,
        clinical_keys: Mapping[int, GroupKey] | None = None,
    ) -> list[OpenedItem]:
        """One page, newest first. As staff with ``clinical_keys`` (the practitioners' group's,
        by epoch) and ``group_keys`` (the practice group's, for notes sealed before the
        practitioners' group existed), else as the holder."""
        return self._read(
            "notes",
            practice_id,
            patient_id,
            (authors, standing),
            _by_group(practice_id, group_keys, clinical_keys),
            before,
            limit,
        )

    def read_messages(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        authors: AuthorKeys,
        standing: AuthorStanding,
        group_keys: Mapping[int, GroupKey] | None = None,
        before: UUID | None = None,
        limit: int = 50,
    ) -> list[OpenedItem]:
        return self._read(
            "messages",
            practice_id,
            patient_id,
            (authors, standing),
            _by_group(practice_id, group_keys, None),
            before,
            limit,
        )

    def _read(
        self,
        what: str,
        practice_id: UUID,
        patient_id: UUID,
        check: tuple[AuthorKeys, AuthorStanding],
        group_keys: GroupKeys | None,
        before: UUID | None,
        limit: int,
    ) -> list[OpenedItem]:
        authors, standing = check
        kind = ItemKind.NOTE if what == "notes" else ItemKind.MESSAGE
        opened = []
        for entry, item_key in self._page(what, practice_id, patient_id, group_keys, before, limit):
            item_id = UUID(entry["item_id"])
            author_id = UUID(entry["author_account_id"])
            # Before decrypting: an author without standing yields no plaintext at all. The
            # open below checks that the signed header names this same author.
            author_standing = standing(kind, author_id)
            author = authors(author_id)
            envelope = unb64(entry["envelope"])
            if what == "notes":
                text = open_note(
                    envelope,
                    item_key=item_key,
                    item_id=item_id,
                    patient_id=patient_id,
                    author=author,
                )
            else:
                text = open_message(
                    envelope,
                    item_key=item_key,
                    item_id=item_id,
                    conversation_id=conversation_id(practice_id=practice_id, patient_id=patient_id),
                    author=author,
                )
            created_at = datetime.fromisoformat(entry["created_at"])
            opened.append(OpenedItem(item_id, author.subject_id, created_at, text, author_standing))
        return opened

    def _page(
        self,
        what: str,
        practice_id: UUID,
        patient_id: UUID,
        group_keys: GroupKeys | None,
        before: UUID | None,
        limit: int,
    ) -> Iterator[tuple[Json, ItemKey]]:
        """One page of items, each with its item key opened."""
        path = self._base(practice_id, patient_id, as_holder=group_keys is None) + f"/{what}"
        for entry in self._request("GET", with_query(path, before=before, limit=limit)):
            wrap, holder = self._usable(entry["wraps"], group_keys, practice_id)
            item_key = unwrap_item_key(
                unb64(wrap["wrap"]), item_id=UUID(entry["item_id"]), holder=holder
            )
            yield entry, item_key

    def _usable(
        self, wraps: list[Json], group_keys: GroupKeys | None, practice_id: UUID
    ) -> tuple[Json, KeyPairHolder]:
        """A wrap this device opens, with the key that opens it: its own key as the holder; as
        staff, the key of the group and epoch the wrap's clear header names (the practice's or
        its practitioners'; opening checks the header against the key)."""
        named = []
        for wrap in wraps:
            if group_keys is None:
                if wrap["epoch"] == self._keys.epoch:
                    return wrap, self._keys
                continue
            header = read_wrap_header(unb64(wrap["wrap"]))
            named.append(header.recipient_id)
            key = group_keys.get(header.recipient_id, {}).get(header.epoch)
            if key is not None:
                return wrap, key
        if clinical_group_id(practice_id) in named:
            raise AwaitingPractitionersKey
        raise NoKeyForItem("no wrap of this item opens with the keys of this device")

    # Documents ---------------------------------------------------------------------------------

    def _raw(self) -> StreamingHttp:
        if self._http is None:
            raise ValueError("documents need the client's HTTP connection")
        return self._http

    def upload_document(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        source: Readable,
        name: str,
        media_type: str,
        recipients: Sequence[KeyBinding],
        as_holder: bool = False,
    ) -> UUID:
        """Encrypt ``source`` as it is read and stream it up, then post its signed description:
        a practitioner's, or (``as_holder``) one the patient's holder shares with the practice.

        Memory stays at a few chunks whatever the size (up to 100 MiB).
        """
        document_id, stream_key, digest = uuid4(), new_document_key(), StreamDigest()

        def plaintext() -> Iterator[bytes]:
            while piece := source.read(CHUNK_BYTES):
                yield piece

        def ciphertext() -> Iterator[bytes]:
            for piece in encrypt_document(plaintext(), document_id=document_id, key=stream_key):
                digest.update(piece)
                yield piece

        base = self._base(practice_id, patient_id, as_holder=as_holder) + "/documents"
        answer = self._raw().request(
            "PUT", f"{base}/{document_id}/content", content=ciphertext(), headers=self._headers
        )
        raise_for_problem(answer)
        sealed = seal_document(
            document_id=document_id,
            patient_id=patient_id,
            info=DocumentInfo(name, media_type, digest.digest(), stream_key),
            author=self._keys,
            recipients=recipients,
        )
        return self._post(base, sealed.envelope, sealed.wraps)

    def list_documents(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        authors: AuthorKeys,
        standing: AuthorStanding,
        group_keys: Mapping[int, GroupKey] | None = None,
        before: UUID | None = None,
        limit: int = 50,
    ) -> list[DocumentEntry]:
        """One page of documents, their descriptions verified and opened (names, types)."""
        found = []
        for entry, item_key in self._page(
            "documents",
            practice_id,
            patient_id,
            _by_group(practice_id, group_keys, None),
            before,
            limit,
        ):
            document_id = UUID(entry["item_id"])
            author_id = UUID(entry["author_account_id"])
            author_standing = standing(ItemKind.DOCUMENT, author_id)
            author = authors(author_id)
            info = open_document(
                unb64(entry["envelope"]),
                item_key=item_key,
                document_id=document_id,
                patient_id=patient_id,
                author=author,
            )
            created_at = datetime.fromisoformat(entry["created_at"])
            found.append(
                DocumentEntry(document_id, author.subject_id, created_at, info, author_standing)
            )
        return found

    def download_document(
        self,
        *,
        practice_id: UUID,
        patient_id: UUID,
        document: DocumentEntry,
        target: Writable,
        as_holder: bool = False,
    ) -> int:
        """Stream the document down, decrypting into ``target``; returns the plaintext size.

        Raises ``CryptoError`` if the stream is truncated, reordered, altered or not the one its
        author signed; ``target`` may then hold a prefix, so write to a temporary file and keep
        it only when this returns.
        """
        base = self._base(practice_id, patient_id, as_holder=as_holder)
        path = f"{base}/documents/{document.document_id}/content"
        digest = StreamDigest()
        written = 0
        with self._raw().stream("GET", path, headers=self._headers) as answer:
            if answer.status_code >= 400:
                answer.read()
                raise_for_problem(answer)

            def ciphertext() -> Iterator[bytes]:
                for piece in answer.iter_bytes():
                    digest.update(piece)
                    yield piece

            for plain in decrypt_document(
                ciphertext(), document_id=document.document_id, key=document.info.stream_key
            ):
                target.write(plain)
                written += len(plain)
        check_digest(digest, document.info)
        return written

    # Moving item keys --------------------------------------------------------------------------

    def rewrap_after_rotation(
        self,
        *,
        practice_id: UUID,
        group_keys: Mapping[int, GroupKey],
        batch: int = 100,
        clinical: bool = False,
    ) -> int:
        """Re-wrap every item key of the practice group (``clinical``: of the practitioners'
        group, whose keys ``group_keys`` then are) still at an older epoch for the current one.

        Wraps of an epoch this member never held are left for another member.
        """
        return rewrap_for_current_epoch(
            self._request,
            practice_id=practice_id,
            group_keys=group_keys,
            batch=batch,
            group="clinical" if clinical else "practice",
        )

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
        return reshare_to_holder(
            self._request,
            practice_id=practice_id,
            patient_id=patient_id,
            group_keys=group_keys,
            holder_key=holder_key,
            identity_checked=identity_checked,
            batch=batch,
        )


def _by_group(
    practice_id: UUID,
    group_keys: Mapping[int, GroupKey] | None,
    clinical_keys: Mapping[int, GroupKey] | None,
) -> GroupKeys | None:
    """The keys a staff member holds, by group id; ``None``: reading as the holder."""
    if group_keys is None and clinical_keys is None:
        return None
    return {
        practice_id: group_keys or {},
        clinical_group_id(practice_id): clinical_keys or {},
    }
