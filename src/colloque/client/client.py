"""An HTTP client of Colloque that does the client's half of the cryptography.

:class:`ColloqueClient` signs up and logs in (``accounts.py``, over the session of
``session.py``), then books and reads appointments, handles practice key groups and sealed
records, checking every public key against the pinned key directory first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from colloque.client.appointments import (
    OpenedReason,
    open_booking_reason,
    sealed_booking_fields,
    sealed_part,
)
from colloque.client.care import Care
from colloque.client.directory import KeyDirectory
from colloque.client.encoding import unb64
from colloque.client.http import ApiError, Json, StreamingHttp, raise_for_problem
from colloque.client.monitor import Alert, clinical_alerts, group_alerts, own_key_alerts
from colloque.client.pins import pinned_log_key, pinned_witnesses
from colloque.client.practice_keys import NotWrappedYet, PracticeKeys
from colloque.client.records import AuthorStanding, OpenedItem, SealedRecords
from colloque.crypto.authorship import Standing, author_standing
from colloque.crypto.groups import GroupKey
from colloque.crypto.items import ItemKind, read_item_header
from colloque.crypto.transparency import KeyBinding, KeyPurpose


class NotPinned(Exception):
    """The call needs the key directory's origin and public key: pin them first."""


class ColloqueClient(Care):
    """``ColloqueClient("https://colloque.example")``; pass ``http`` to reuse an HTTP client
    (tests pass FastAPI's TestClient). ``insecure_allow_weak_cost`` is for tests only: it lets
    the client accept key-derivation parameters below the OWASP floor. Sign-up, login and
    passwords: :class:`~colloque.client.accounts.Accounts`; patients, cancel, reschedule and the
    waitlist: :class:`~colloque.client.care.Care`."""

    # A few API calls ---------------------------------------------------------------------------

    def me(self) -> Json:
        out: Json = self._request("GET", "/api/v1/me")
        return out

    def search(self, **params: str) -> Json:
        response = self._http.request("GET", "/api/v1/search", params=params)
        raise_for_problem(response)
        out: Json = response.json()
        return out

    def book(
        self,
        *,
        practice_id: UUID,
        practitioner_id: UUID,
        patient_id: UUID,
        starts_at: datetime,
        visit_type_id: UUID,
        duration_minutes: int,
        reason: str = "",
        reminders_wanted: bool | None = None,
    ) -> Json:
        """Book online for a patient this account holds. The visit type and the reason are sealed
        here for this account and for the practice's current key, proven in the key directory;
        the server receives the time, the duration and the visit type's reminder policy (read
        from the practice's public visit types unless given), never the type itself."""
        if reminders_wanted is None:
            reminders_wanted = self._visit_type_reminders(
                practice_id, practitioner_id, visit_type_id
            )
        keys = self.unlocked_keys
        body: Json = {
            "practice_id": str(practice_id),
            "practitioner_id": str(practitioner_id),
            "patient_id": str(patient_id),
            "starts_at": starts_at.isoformat(),
            "duration_minutes": duration_minutes,
            "reminders_wanted": reminders_wanted,
            **sealed_booking_fields(
                author=keys,
                visit_type_id=visit_type_id,
                reason=reason,
                patient_key=keys.encryption_binding(),
                practice_key=self._practice_key_if_any(practice_id),
            ),
        }
        out: Json = self._request("POST", "/api/v1/appointments", json=body)
        return out

    def _visit_type_reminders(
        self, practice_id: UUID, practitioner_id: UUID, visit_type_id: UUID
    ) -> bool:
        """The practice's reminder setting for this visit type (reminders when not listed)."""
        agendas: list[Json] = self._get(f"/api/v1/practices/{practice_id}/practitioners")
        for agenda in agendas:
            if agenda["practitioner"]["practitioner_id"] != str(practitioner_id):
                continue
            for visit_type in agenda["visit_types"]:
                if visit_type["visit_type_id"] == str(visit_type_id):
                    return bool(visit_type.get("reminders", True))
        return True

    def _practice_key_if_any(self, practice_id: UUID) -> KeyBinding | None:
        """The practice's proven key; None when the practice has not made its key group yet."""
        try:
            return self.key_directory.practice_key(practice_id)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def read_reason(self, appointment: Json) -> OpenedReason:
        """Open an appointment's sealed reason and visit type: with this account's keys when it
        holds the patient, else with the practice's group key of the wrap's epoch. The author
        must be the patient's holder or a member of the practice's verified membership chain
        (``AuthorNotAllowed`` otherwise, before anything is decrypted); their signing key comes
        from the verified key directory."""
        keys = self.unlocked_keys
        sealed = sealed_part(appointment)
        author_id = read_item_header(unb64(sealed["envelope"])).author_id
        practice_id = UUID(appointment["practice_id"])
        as_holder = any(wrap["recipient_kind"] == "user" for wrap in sealed["wraps"])
        patient_id = UUID(appointment["patient"]["patient_id"])
        if as_holder and author_id == keys.user_id:
            # This account holds the patient and wrote the reason itself: no chain to consult.
            standing = Standing.HOLDER
        else:
            standing = self.standing_check(practice_id, patient_id, as_holder=as_holder)(
                ItemKind.VISIT_REASON, author_id
            )
        author = (
            keys.signing_binding()
            if author_id == keys.user_id
            else self.key_directory.user_keys(author_id).bindings[KeyPurpose.SIGNING]
        )
        if as_holder:
            opened = open_booking_reason(appointment, holder=keys, author=author)
        else:
            group = self.practice_keys.open_group_key(practice_id)
            holders = {group.epoch: group, **self.practice_keys.older_group_keys(practice_id)}
            epoch = max(wrap["epoch"] for wrap in sealed["wraps"])
            if epoch not in holders:
                raise LookupError("no group key of this wrap's epoch")
            opened = open_booking_reason(appointment, holder=holders[epoch], author=author)
        return OpenedReason(opened.visit_type_id, opened.reason, author_id, standing)

    def my_appointments(self) -> list[Json]:
        out: list[Json] = self._request("GET", "/api/v1/me/appointments")
        return out

    # Key directory and practice keys -----------------------------------------------------------

    _directory: KeyDirectory | None = None
    _practice_keys: PracticeKeys | None = None

    def _get(self, path: str) -> Any:
        return self._request("GET", path)

    def pin_key_directory(
        self,
        *,
        origin: str,
        log_public_key: bytes | str,
        witnesses: Mapping[str, bytes | str] | None = None,
        threshold: int = 0,
        witness_max_age: timedelta | None = None,
    ) -> KeyDirectory:
        """Trust this log only: its origin and key come from configuration, not the server.

        ``log_public_key`` is the 32-byte Ed25519 key, as bytes or as the base64 text that
        ``colloque demo`` prints (standard or URL-safe alphabet). A wrong type raises TypeError
        and a key that is not 32 bytes ValueError, here rather than at the first proof.
        ``witnesses`` (name -> Ed25519 key, the same forms) and ``threshold``: every checkpoint
        must be cosigned by ``threshold`` of them, and, with ``witness_max_age``, that recently
        (the server has them re-cosign its latest checkpoint; an old view cannot show fresh
        cosignatures). The client state may already hold a checkpoint of this log: it is the
        starting point, and a state naming another key is refused.
        """
        self._directory = KeyDirectory(
            self._get,
            origin=origin,
            log_public_key=pinned_log_key(origin, log_public_key),
            state=self.state,
            witnesses=pinned_witnesses(witnesses or {}, threshold),
            threshold=threshold,
            witness_max_age=witness_max_age,
        )
        self._practice_keys = None
        if self._keys is not None:
            self.monitor()
        return self._directory

    def _after_opening(self) -> None:
        if self._directory is not None:
            self.monitor()

    def monitor(self) -> list[Alert]:
        """Check this user's own chain in the log against what this device knows, for the
        practices this user is an admin of, their signed membership chain and current group
        epoch, and for those they are an admin or a practitioner of, the current epoch of the
        practitioners' group; what does not verify is added to :attr:`alerts` (and returned) rather than
        raised. Runs at login when the directory is pinned, and at pinning when logged in."""
        keys = self.unlocked_keys
        known = self.state.get("own_keys", str(keys.user_id)) or {}
        found = own_key_alerts(self.key_directory, keys, known)
        memberships = self.me()["memberships"]
        administered = [UUID(m["practice_id"]) for m in memberships if m["role"] == "admin"]
        found += group_alerts(self.key_directory, administered)
        clinical = [
            UUID(m["practice_id"]) for m in memberships if m["role"] in ("admin", "practitioner")
        ]
        found += clinical_alerts(self.key_directory, clinical)
        self.alerts.extend(alert for alert in found if alert not in self.alerts)
        return found

    def confirm_keys(self, user_id: UUID, fingerprint: str) -> None:
        """A person compared ``fingerprint`` with the one ``user_id`` sees (after a
        :class:`~colloque.client.directory.KeysChanged`): their reset keys may be used."""
        self.state.put("confirmed_keys", str(user_id), fingerprint)

    @property
    def key_directory(self) -> KeyDirectory:
        if self._directory is None:
            raise NotPinned("pin the key directory first")
        return self._directory

    @property
    def practice_keys(self) -> PracticeKeys:
        """Practice key groups as this user, remembering the last epoch seen of each group."""
        if self._practice_keys is None:
            self._practice_keys = PracticeKeys(
                lambda method, path, body: self._request(method, path, json=body),
                directory=self.key_directory,
                me=self.unlocked_keys,
            )
        return self._practice_keys

    # Sealed records

    @property
    def records(self) -> SealedRecords:
        """Notes, messages, documents and key re-wrapping, as the signed-in user (records.py).
        Documents stream through the HTTP client itself: an ``httpx2.Client`` or a TestClient."""
        raw = cast(StreamingHttp, self._http)
        return SealedRecords(self._request, self.unlocked_keys, http=raw, token=self.token)

    # Notes and messages, sealed for the right recipients -------------------------------------

    def _holder_id(self, practice_id: UUID, patient_id: UUID, *, as_holder: bool) -> UUID | None:
        """The patient's holder: this account when reading as the holder; as staff, the one the
        server names (trusted: the server knows who holds a patient, docs/crypto.md 5.2)."""
        if as_holder:
            return self.unlocked_keys.user_id
        answer = self._get(f"/api/v1/practices/{practice_id}/patients/{patient_id}/recipients")
        holder = answer["holder_account_id"]
        return None if holder is None else UUID(holder)

    def standing_check(
        self, practice_id: UUID, patient_id: UUID, *, as_holder: bool
    ) -> AuthorStanding:
        """Who may have written the items of this patient at this practice, looked up once: the
        holder, and the members of the practice's verified membership chain. Pass it as
        ``standing`` to ``records.read_notes``, ``read_messages`` and ``list_documents``."""
        holder_id = self._holder_id(practice_id, patient_id, as_holder=as_holder)
        try:
            chain = self.key_directory.practice_members(practice_id)
        except ApiError as error:
            if error.status != 404:
                raise
            # No key group: nothing was sealed for the practice, so only the holder wrote.
            chain = None
        return lambda kind, author_id: author_standing(
            kind, author_id, holder_id=holder_id, chain=chain
        )

    def _recipients(
        self, practice_id: UUID, patient_id: UUID, *, as_holder: bool
    ) -> list[KeyBinding]:
        """The patient's holder and the practice group, each key proven in the key directory:
        as the holder, this account's own key; as staff, the holder the server names."""
        if as_holder:
            holders = [self.unlocked_keys.encryption_binding()]
        else:
            holder = self._holder_id(practice_id, patient_id, as_holder=False)
            holders = (
                []
                if holder is None
                else [self.key_directory.user_keys(holder).bindings[KeyPurpose.ENCRYPTION]]
            )
        practice = self._practice_key_if_any(practice_id)
        return holders + ([] if practice is None else [practice])

    def write_note(self, *, practice_id: UUID, patient_id: UUID, text: str) -> UUID:
        """A practitioner's note about a patient of the practice, sealed for the patient's holder
        and the practitioners' group, which this client first keeps healthy
        (:meth:`healthy_clinical_key`)."""
        holder = self._holder_id(practice_id, patient_id, as_holder=False)
        holders = (
            []
            if holder is None
            else [self.key_directory.user_keys(holder).bindings[KeyPurpose.ENCRYPTION]]
        )
        self.healthy_clinical_key(practice_id)
        clinical = self.key_directory.clinical_key(practice_id)
        return self.records.write_note(
            practice_id=practice_id,
            patient_id=patient_id,
            text=text,
            recipients=[*holders, clinical],
        )

    def healthy_clinical_key(self, practice_id: UUID) -> GroupKey:
        """The practitioners' group's current key, after doing what the next practitioner to act
        does (docs/crypto.md 5.4): make the group if there is none; rotate it when it is
        rotation-due (a practitioner left), then re-wrap the notes' keys still at older epochs;
        and wrap it for attested practitioners who do not hold it yet."""
        keys = self.practice_keys
        try:
            state = self._get(f"/api/v1/practices/{practice_id}/clinical-key-group")
        except ApiError as error:
            if error.status != 404:
                raise
            return keys.create_clinical_group(practice_id)
        if state["rotation_due"]:
            key = keys.rotate_clinical(practice_id)
            self.records.rewrap_after_rotation(
                practice_id=practice_id,
                group_keys={
                    key.epoch: key,
                    **keys.older_group_keys(practice_id, clinical=True),
                },
                clinical=True,
            )
        else:
            key = keys.open_group_key(practice_id, clinical=True)
        keys.wrap_for_pending(practice_id, clinical=True)
        return key

    def send_message(
        self, *, practice_id: UUID, patient_id: UUID, text: str, as_holder: bool
    ) -> UUID:
        """A message in the conversation of the practice and the patient: ``as_holder`` from the
        account holding the patient, else from the practice's staff."""
        return self.records.send_message(
            practice_id=practice_id,
            patient_id=patient_id,
            text=text,
            recipients=self._recipients(practice_id, patient_id, as_holder=as_holder),
            as_holder=as_holder,
        )

    def _author_key(self, account_id: UUID) -> KeyBinding:
        return self.key_directory.user_keys(account_id).bindings[KeyPurpose.SIGNING]

    def _group_keys(self, practice_id: UUID, *, as_holder: bool) -> dict[int, GroupKey] | None:
        if as_holder:
            return None
        group = self.practice_keys.open_group_key(practice_id)
        return {group.epoch: group, **self.practice_keys.older_group_keys(practice_id)}

    def _clinical_keys(self, practice_id: UUID) -> dict[int, GroupKey]:
        """The practitioners' group keys this practitioner holds, by epoch: none before the group
        exists or before a colleague's device shared it (its notes then say so:
        ``AwaitingPractitionersKey``)."""
        keys = self.practice_keys
        try:
            current = keys.open_group_key(practice_id, clinical=True)
        except ApiError as error:
            if error.status != 404:
                raise
            return {}
        except NotWrappedYet:
            # A colleague's device has not shared it with this one yet.
            return keys.older_group_keys(practice_id, clinical=True)
        return {current.epoch: current, **keys.older_group_keys(practice_id, clinical=True)}

    def read_notes(
        self, *, practice_id: UUID, patient_id: UUID, as_holder: bool, limit: int = 50
    ) -> list[OpenedItem]:
        """The newest notes, opened and their authors' signatures checked against the directory:
        as staff, with the practitioners' group keys, and the practice group's for notes sealed
        before the practitioners' group existed."""
        return self.records.read_notes(
            practice_id=practice_id,
            patient_id=patient_id,
            authors=self._author_key,
            standing=self.standing_check(practice_id, patient_id, as_holder=as_holder),
            group_keys=self._group_keys(practice_id, as_holder=as_holder),
            clinical_keys=None if as_holder else self._clinical_keys(practice_id),
            limit=limit,
        )

    def read_messages(
        self, *, practice_id: UUID, patient_id: UUID, as_holder: bool, limit: int = 50
    ) -> list[OpenedItem]:
        """The newest messages of the conversation, opened and checked as :meth:`read_notes`."""
        return self.records.read_messages(
            practice_id=practice_id,
            patient_id=patient_id,
            authors=self._author_key,
            standing=self.standing_check(practice_id, patient_id, as_holder=as_holder),
            group_keys=self._group_keys(practice_id, as_holder=as_holder),
            limit=limit,
        )
