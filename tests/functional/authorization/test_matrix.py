"""The authorization matrix: every operation of the API, for every role, against every target.

``MATRIX`` maps each operation of the OpenAPI document, ``(METHOD, path template)``, to how a
request is built for a target and the outcome expected for each role (a grid, below). For every
cell the test sends the request as that role and checks:

- ``ok``: a 2xx; a mutation gets a fresh disposable object, so that it can succeed;
- ``404``: a 404 *byte for byte* like the same request for a missing object (same practice,
  random id): somebody else's object must look exactly like no object at all;
- ``401`` / ``403`` (or any other status): exactly that status;
- ``4xx``: any client error (for operations whose refusal is not about objects, e.g. a login);
- and, for every cell: never a 500, and never the id of anything the role may not see (the scene
  registers every object it makes and who may see it).

An entry may ask for more (``Spec``): a *twin* request that must be answered alike (a known and an
unknown address at a login), the same answer for every role (``uniform``), the problem type of
every refusal (``refusal``), no other account's id or address in any answer (``own_account``),
or a disposable session of the role's account (``ends_session``, for a logout). Each operation is
sent from a client address of its own, so that the throttles of one (failed logins, codes mailed)
never spill into another's cells.

Each role is also sent a request for a missing object (404, or 401 where it is anonymous). A new
operation without an entry fails ``test_every_operation_has_an_entry`` with the entries to add;
docs/authorization.md explains how to add one.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts.config import TEST_COST, AccountsConfig
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.invitations import do_invite
from colloque.accounts.models import Account, EmailChallenge, KeyBundleRow
from colloque.accounts.services import do_add_member, do_create_account, do_issue_token, hash_token
from colloque.accounts.signup import CODE_LIFETIME
from colloque.api.app import create_app
from colloque.api.problems import PROBLEM_BASE
from colloque.api.schemas import b64
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import Role as GroupRole
from colloque.demo.showcase_keys import make_clinical_group, make_practice_group
from colloque.keydirectory.config import LogKey
from colloque.keydirectory.services import publish_bindings
from colloque.notifications.models import OutboxPause
from colloque.patients.models import PracticePatient
from colloque.patients.registry import remember_patient
from colloque.practicekeys.memberships import ROLE_NAMES
from colloque.principal import Role, credential_id
from colloque.scheduling.editing import visit_type_version
from colloque.scheduling.models import (
    AgendaBreak,
    AgendaOverride,
    OpeningRange,
    OpeningRangeVisitType,
    Practice,
    PracticeMember,
    PracticePractitioner,
    VisitType,
)
from colloque.scheduling.services import rules_version, settings_version
from colloque.scheduling.timetable_editing import break_version, opening_version, override_version
from colloque.storage.engine import Database
from colloque.versions import version_of
from tests.conftest import T0, empty_all
from tests.functional.authorization.conftest import MATRIX_RUNS, make_app
from tests.functional.authorization.scene import (
    ADMIN_OF,
    PLACEHOLDER_TIME,
    ROLES,
    SITE_OF,
    Known,
    Mode,
    Ref,
    Scene,
    Site,
    Target,
)
from tests.problems import blank_request_id, same_bytes_but_request_id
from tests.unit.crypto.helpers import new_user

P = "/api/v1/practices"
AUTH = "/api/v1/auth"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
#: A password good enough for the strength check; the accounts that have one are not roles.
PASSWORD = "vR7#kq2!Lm9@zP-long enough"


# --- the scene, with what the account and registry operations need ------------------------------


class MatrixScene(Scene):
    """The scene of ``scene.py``, plus:

    - the practice registries: a practice books by phone only the patients it knows, so each
      patient the scene books by phone is registered at that practice first (as the desk would,
      with POST .../patients), and so are the desk patients of ``book_by_practice``;
    - for each site, patients that exist but are *not* in its registry (``unregistered``);
    - accounts with a password that no role holds, to log in (and recover) with a wrong key;
    - pending invitations, seen by their practice's admin only;
    - an address-change code pending for the outsider's account.
    """

    def __init__(self, db: Database, clock: SettableClock, config: AccountsConfig) -> None:
        super().__init__(db, clock)
        a_desk, b_desk = self.sites["A"].desk_patient_id, self.sites["B"].desk_patient_id
        self._register("A", a_desk)
        self._register("B", b_desk)
        b_only = self._new_patient("outsider")
        self._register("B", b_only)
        #: Real patients that a site's registry does not hold, by what they are.
        self.unregistered = {
            "A": {"the outsider's": self.main_patient["outsider"], "B's only": b_only},
            "B": {"the holder's": self.main_patient["holder"], "A's desk patient": a_desk},
        }
        self.keyed = {
            purpose: self._keyed(purpose) for purpose in ("prelogin", "login", "recovery")
        }
        outsider = self.principal("outsider").account_id
        assert outsider is not None
        ids = {name: p.account_id for name, p in self.people.items() if p is not None}
        ids |= {"outsider": outsider, "spare": self.spare_operator.account_id}
        with db.read() as session:
            rows = session.execute(
                select(Account.account_id, Account.email).where(
                    Account.account_id.in_([*ids.values(), *self.keyed.values()])
                )
            )
            emails = {row.account_id: row.email for row in rows}
        #: Every account of the scene: its id and its address, by role (or purpose).
        self.accounts: dict[str, tuple[str, ...]] = {
            name: (str(id_), emails[id_] or "") for name, id_ in ids.items()
        }
        self.accounts |= {f"keyed {p}": (str(i), emails[i] or "") for p, i in self.keyed.items()}
        #: Addresses of existing accounts, handed out in turn (at most five codes an hour each).
        self._known_emails = itertools.cycle(
            sorted(email for name, (_, email) in self.accounts.items() if email)
        )
        self._invitations = {n: self._invitation(n) for n in ("here", "there")}
        self.foreign_challenge = self._challenge(config, outsider)
        self._key_groups()

    def _key_groups(self) -> None:
        """Every person's keys in the directory, a key group at each practice, and the
        practitioners' group where the practice has a practitioner (made by their client)."""
        people = [p for p in self.people.values() if p is not None]
        users = {p.account_id: new_user(p.account_id) for p in people}
        log = LogKey.from_settings(Settings())
        with self.db.write() as session:
            publish_bindings(
                session,
                bindings=[
                    b for u in users.values() for b in (u.encryption_binding(), u.signing_binding())
                ],
                now=self.now,
                log=log,
            )
            for site in self.sites.values():
                admin = self.principal(site.admin)
                assert admin.account_id is not None
                keys = users[admin.account_id]
                # The admin's bundle names the keys it signs the group's statements with.
                session.add(
                    KeyBundleRow(
                        account_id=keys.user_id,
                        epoch=keys.epoch,
                        encryption_public=keys.encryption_public,
                        signing_public=keys.signing_public,
                        sealed_by_password=b"unused",
                        sealed_by_recovery=b"unused",
                        updated_at=self.now,
                    )
                )
                members = session.execute(
                    select(PracticeMember.account_id, PracticeMember.role).where(
                        PracticeMember.practice_id == site.practice_id
                    )
                ).all()
                others = [(users[m], GROUP_ROLES[r]) for m, r in members if m != keys.user_id]
                make_practice_group(
                    session,
                    now=self.now,
                    practice_id=site.practice_id,
                    creator=admin,
                    admin=keys,
                    members=[(keys, GroupRole.ADMIN), *others],
                )
                practitioners = [users[m] for m, r in members if r == Role.PRACTITIONER.value]
                if practitioners:
                    self._clinical_group(session, site, practitioners)

    def _clinical_group(self, session: Session, site: Site, practitioners: list[UserKeys]) -> None:
        maker = practitioners[0]
        (name,) = (
            n for n, p in self.people.items() if p is not None and p.account_id == maker.user_id
        )
        session.add(
            KeyBundleRow(
                account_id=maker.user_id,
                epoch=maker.epoch,
                encryption_public=maker.encryption_public,
                signing_public=maker.signing_public,
                sealed_by_password=b"unused",
                sealed_by_recovery=b"unused",
                updated_at=self.now,
            )
        )
        make_clinical_group(
            session,
            now=self.now,
            practice_id=site.practice_id,
            creator=self.principal(name),
            practitioner=maker,
            practitioners=practitioners,
        )

    def member(self, target: Target) -> UUID:
        """A disposable secretary of the target's practice (a random id for a missing one)."""
        if target.mode is Mode.MISSING:
            return uuid.uuid4()
        with self.db.write() as session:
            account = do_create_account(session, now=self.now, display_name="Membre Jetable")
            do_add_member(
                session,
                practice_id=self.sites[target.site].practice_id,
                account_id=account.account_id,
                role=Role.SECRETARY,
            )
            return account.account_id

    def _visible(self, role: str, known: Known) -> bool:
        if known.kind == "invitation":
            return any(ADMIN_OF[site] == role for site in known.sites)
        return super()._visible(role, known)

    def _book(self, site_name: str, patient_id: UUID, starts_at: Any) -> Ref:
        self._register(site_name, patient_id)
        return super()._book(site_name, patient_id, starts_at)

    def _register(self, site_name: str, patient_id: UUID) -> None:
        with self.db.write() as session:
            remember_patient(
                session,
                practice_id=self.sites[site_name].practice_id,
                patient_id=patient_id,
                now=self.now,
            )
        self._seen_at(patient_id, site_name)

    def _keyed(self, purpose: str) -> UUID:
        with self.db.write() as session:
            account, _token = do_create_demo_login(
                session,
                now=self.now,
                email=f"keyed.{purpose}@example.test",
                display_name=f"Keyed {purpose.title()}",
                password=PASSWORD,
                kdf_cost=TEST_COST,
                insecure_allow_weak_cost=True,
            )
            return account.account_id

    def keyed_email(self, purpose: str) -> str:
        return self.accounts[f"keyed {purpose}"][1]

    def known_email(self) -> str:
        return next(self._known_emails)

    def others(self, role: str) -> list[str]:
        """Ids and addresses of every account but the role's own."""
        return [value for name, values in self.accounts.items() if name != role for value in values]

    def invitation(self, target: Target) -> Ref:
        if target.mode is Mode.MISSING:
            return Ref(self.sites[target.site].practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._invitations[target.name]
        return self._invitation(target.name)

    def _invitation(self, name: str) -> Ref:
        site_name = SITE_OF[name]
        site = self.sites[site_name]
        with self.db.write() as session:
            invitation, _mail = do_invite(
                session,
                now=self.now,
                principal=self.principal(site.admin),
                practice_id=site.practice_id,
                email=f"invitee.{uuid.uuid4().hex[:12]}@example.test",
                role=Role.SECRETARY,
                practitioner_id=None,
            )
            ref = Ref(site.practice_id, invitation.invitation_id)
        self._know("invitation", ref.id, None, site_name)
        return ref

    def _challenge(self, config: AccountsConfig, account_id: UUID) -> UUID:
        challenge_id = uuid.uuid4()
        with self.db.write() as session:
            session.add(
                EmailChallenge(
                    challenge_id=challenge_id,
                    purpose="email_change",
                    email="olivier.nouveau@example.test",
                    account_id=account_id,
                    code_hash=config.code_hash(challenge_id, "123456"),
                    attempts=0,
                    created_at=self.now,
                    expires_at=self.now + CODE_LIFETIME,
                )
            )
        self._know("challenge", challenge_id, "outsider")
        return challenge_id

    def spare_session(self, role: str) -> str | None:
        """A new session of the role's account, to be ended."""
        person = self.person(role)
        if person is None:
            return None
        with self.db.write() as session:
            return do_issue_token(
                session, now=self.now, account_id=person.account_id, lifetime=timedelta(days=1)
            )


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


Builder = Callable[[MatrixScene, Target], Call]


def healthz(_s: Scene, _t: Target) -> Call:
    return Call("/healthz")


def search(_s: Scene, _t: Target) -> Call:
    return Call("/api/v1/search", params={"specialty": "general_practice", "city": "Paris"})


def specialties(_s: Scene, _t: Target) -> Call:
    return Call("/api/v1/specialties")


def places(_s: Scene, _t: Target) -> Call:
    return Call("/api/v1/places", params={"q": "lyon"})


def practice_page(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}")


def practitioners_page(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/practitioners")


def free_slots(s: Scene, t: Target) -> Call:
    site = s.site(t)
    return Call(
        f"{P}/{site.practice_id}/practitioners/{site.practitioner_id}/slots",
        params={"visit_type_id": str(site.visit_type_id), "days": 1},
    )


def get(path: str) -> Builder:
    def build(_s: Scene, _t: Target) -> Call:
        return Call(path)

    return build


def add_relative(_s: Scene, _t: Target) -> Call:
    body = {"first_name": "Mat", "last_name": "Rix", "birth_date": "2001-02-03"}
    return Call("/api/v1/me/patients", json={**body, "relationship": "other"})


def create_practice(_s: Scene, _t: Target) -> Call:
    return Call(
        P,
        json={
            "name": "Cabinet Matrice",
            "address": "1 rue du Test",
            "postcode": "31000",
            "city": "Toulouse",
            "latitude": 43.6,
            "longitude": 1.44,
        },
    )


def add_practitioner(s: Scene, t: Target) -> Call:
    body = {"first_name": "Nora", "last_name": "Matrice", "specialty": "general_practice"}
    return Call(f"{P}/{s.practice(t)}/practitioners", json=body)


def current(s: Scene, version: Callable[[Session], str | None]) -> dict[str, str]:
    """The ``If-Match`` of an edit: the object's version now, as a reader would have it (any
    version for a missing object, which answers 404 before versions are compared)."""
    with s.db.read() as session:
        return {"If-Match": f'"{version(session) or "missing"}"'}


def settings(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/settings")


def change_settings(s: Scene, t: Target) -> Call:
    practice_id = s.practice(t)

    def version(session: Session) -> str | None:
        practice = session.get(Practice, practice_id)
        return None if practice is None else settings_version(practice)

    return Call(
        f"{P}/{practice_id}/settings", json={"hold_minutes": 30}, headers=current(s, version)
    )


def agenda(s: Scene, t: Target) -> Call:
    window = {"from": "2026-02-23T00:00:00Z", "until": "2026-03-20T00:00:00Z"}
    return Call(f"{P}/{s.practice(t)}/agenda", params=window)


def book_by_practice(s: Scene, t: Target) -> Call:
    site = s.site(t)
    body = {
        "practitioner_id": str(site.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(site.desk_patient_id),
        "starts_at": s.slot(t).isoformat(),
    }
    return Call(f"{P}/{site.practice_id}/appointments", json=body)


def list_grants(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/operator-grants")


def failed_messages(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/outbox/failed")


def access_history(s: Scene, t: Target) -> Call:
    return Call("/api/v1/me/access-history", params={"patient_id": str(s.patient(t))})


def practice_audit(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/audit", params={"action": "scheduling:agenda:view"})


def outbox_pauses(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/outbox/pauses", params={"all": "true"})


def pause_decision(decision: str) -> Builder:
    """Release or discard a pause of the target's practice: a fresh open one for each call."""

    def build(s: Scene, t: Target) -> Call:
        # A missing pause: the target's practice, a random id (as for a grant).
        practice_id = s.sites[t.site].practice_id
        pause_id = uuid.uuid4()
        if t.mode is not Mode.MISSING:
            with s.db.write() as session:
                session.add(
                    OutboxPause(
                        practice_id=practice_id,
                        pause_id=pause_id,
                        principal_account_id=None,
                        # Each its own scope: several stay open at once in one practice.
                        scope_key=str(pause_id),
                        status="open",
                        tripped_at=s.now,
                    )
                )
        return Call(f"{P}/{practice_id}/outbox/pauses/{pause_id}/{decision}")

    return build


def grant(s: Scene, t: Target) -> Call:
    body = {"operator_account_id": str(s.spare_operator.account_id), "duration_minutes": 60}
    return Call(f"{P}/{s.practice(t)}/operator-grants", json=body)


def revoke(s: Scene, t: Target) -> Call:
    ref = s.grant(t)
    return Call(f"{P}/{ref.practice_id}/operator-grants/{ref.id}")


def agenda_part(suffix: str, body: Callable[[Scene, Target], dict[str, Any] | None]) -> Builder:
    def build(s: Scene, t: Target) -> Call:
        site = s.site(t)
        path = f"{P}/{site.practice_id}/practitioners/{site.practitioner_id}/{suffix}"
        return Call(path, json=body(s, t))

    return build


def no_body(_s: Scene, _t: Target) -> None:
    return None


def rules_body(_s: Scene, _t: Target) -> dict[str, Any]:
    # The agendas' own rules: the other operations rely on them.
    return {
        "slot_step_minutes": 15,
        "min_notice_minutes": 60,
        "max_horizon_days": 60,
        "buffer_after_minutes": 0,
        "daily_cap": None,
    }


def replace_rules(s: MatrixScene, t: Target) -> Call:
    call = agenda_part("rules", rules_body)(s, t)
    site = s.site(t)

    def version(session: Session) -> str | None:
        row = session.get(PracticePractitioner, (site.practice_id, site.practitioner_id))
        return None if row is None else rules_version(row)

    return Call(call.path, json=call.json, headers=current(s, version))


def visit_type(s: Scene, t: Target) -> Call:
    ref = s.visit_type(t)
    return Call(f"{P}/{ref.practice_id}/visit-types/{ref.id}")


def visit_type_edit(body: dict[str, Any] | None) -> Builder:
    def build(s: Scene, t: Target) -> Call:
        ref = s.visit_type(t)

        def version(session: Session) -> str | None:
            row = session.get(VisitType, (ref.practice_id, ref.id))
            return None if row is None else visit_type_version(row)

        path = f"{P}/{ref.practice_id}/visit-types/{ref.id}"
        return Call(path, json=body, headers=current(s, version))

    return build


def visit_type_body(_s: Scene, _t: Target) -> dict[str, Any]:
    return {"label": "Visite matrice", "duration_minutes": 15}


def opening_body(s: Scene, t: Target) -> dict[str, Any]:
    start, end = s.sunday_range(t)
    visit_type = str(s.sites[t.site].visit_type_id)
    return {"weekday": 6, "start_minute": start, "end_minute": end, "visit_type_ids": [visit_type]}


def break_body(_s: Scene, _t: Target) -> dict[str, Any]:
    return {"weekday": 6, "start_minute": 0, "end_minute": 10}


def override_body(_s: Scene, _t: Target) -> dict[str, Any]:
    return {"kind": "holiday", "first_day": "2026-12-24", "last_day": "2026-12-25"}


def timetable_part(what: str, edit: str | None = None) -> Builder:
    """A call on one opening, break or override (``what`` as in its path): a read, or with
    ``edit`` ("put" or "delete") an edit sending the part's version now, and for "put" its own
    state as the body (a replacement by itself is always allowed)."""

    def build(s: MatrixScene, t: Target) -> Call:
        ref = PARTS[what][0](s, t)
        path = f"{P}/{ref.practice_id}/{what}/{ref.id}"
        if edit is None:
            return Call(path)
        with s.db.read() as session:
            state = PARTS[what][1](session, ref.practice_id, ref.id)
        # A missing part: a valid body all the same, so that the answer is about the part.
        body, version = state or (NEW_PART[what](s, t), None)
        return Call(
            path,
            json=body if edit == "put" else None,
            headers={"If-Match": f'"{version or "missing"}"'},
        )

    return build


def _opening_state(
    session: Session, practice_id: UUID, opening_id: UUID
) -> tuple[dict[str, Any], str] | None:
    opening = session.get(OpeningRange, (practice_id, opening_id))
    if opening is None:
        return None
    ids = session.scalars(
        select(OpeningRangeVisitType.visit_type_id).where(
            OpeningRangeVisitType.practice_id == practice_id,
            OpeningRangeVisitType.opening_id == opening_id,
        )
    ).all()
    body = {
        "weekday": opening.weekday,
        "start_minute": opening.start_minute,
        "end_minute": opening.end_minute,
        "visit_type_ids": [str(id_) for id_ in ids],
    }
    return body, opening_version(opening, ids)


def _break_state(
    session: Session, practice_id: UUID, break_id: UUID
) -> tuple[dict[str, Any], str] | None:
    pause = session.get(AgendaBreak, (practice_id, break_id))
    if pause is None:
        return None
    body = {
        "weekday": pause.weekday,
        "start_minute": pause.start_minute,
        "end_minute": pause.end_minute,
    }
    return body, break_version(pause)


def _override_state(
    session: Session, practice_id: UUID, override_id: UUID
) -> tuple[dict[str, Any], str] | None:
    override = session.get(AgendaOverride, (practice_id, override_id))
    if override is None:
        return None
    body = {
        "kind": override.kind,
        "first_day": override.first_day.isoformat(),
        "last_day": override.last_day.isoformat(),
    }
    return body, override_version(override, [])


NEW_PART = {"openings": opening_body, "breaks": break_body, "overrides": override_body}
PartState = Callable[[Session, UUID, UUID], "tuple[dict[str, Any], str] | None"]
PARTS: dict[str, tuple[Callable[[MatrixScene, Target], Ref], PartState]] = {
    "openings": (lambda s, t: s.opening(t), _opening_state),
    "breaks": (lambda s, t: s.pause(t), _break_state),
    "overrides": (lambda s, t: s.override(t), _override_state),
}


def view_appointment(s: Scene, t: Target) -> Call:
    ref = s.appointment(t)
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}")


def cancel(s: Scene, t: Target) -> Call:
    ref = s.appointment(t)
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}/cancel", json={"reason": "other"})


def reschedule(s: Scene, t: Target) -> Call:
    ref = s.appointment(t)
    body = {"starts_at": s.slot(t).isoformat()}
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}/reschedule", json=body)


def mark(s: Scene, t: Target) -> Call:
    ref = s.appointment(t, past=True)
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}/mark", json={"outcome": "done"})


def book_online(s: Scene, t: Target) -> Call:
    site = s.sites[t.site]  # the patient is the object; the practice stays
    body = {
        "practice_id": str(site.practice_id),
        "practitioner_id": str(site.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(s.patient(t)),
        "starts_at": s.slot(t).isoformat(),
    }
    return Call("/api/v1/appointments", json=body)


def join_waitlist(s: Scene, t: Target) -> Call:
    site = s.sites[t.site]
    day = s.wait_day[t.site].isoformat()
    body = {
        "practice_id": str(site.practice_id),
        "practitioner_id": str(site.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(s.patient(t)),
        "first_day": day,
        "last_day": day,
    }
    return Call("/api/v1/waitlist", json=body)


def remove_relative(s: Scene, t: Target) -> Call:
    return Call(f"/api/v1/me/patients/{s.relative(t)}")


def update_relative(s: Scene, t: Target) -> Call:
    body = {
        "first_name": "Noé",
        "last_name": "Roux",
        "birth_date": "2015-04-02",
        "relationship": "child",
    }
    return Call(f"/api/v1/me/patients/{s.relative(t)}", json=body)


def leave_waitlist(s: Scene, t: Target) -> Call:
    ref = s.entry(t)
    return Call(f"{P}/{ref.practice_id}/waitlist/{ref.id}")


def decide_offer(s: Scene, t: Target) -> Call:
    ref = s.offer(t)
    return Call(f"{P}/{ref.practice_id}/waitlist-offers/{ref.id}/decision", json={"accept": True})


def register_caller(s: Scene, t: Target) -> Call:
    # Each role that may registers the same caller: say so, or the second one is a duplicate.
    body = {
        "first_name": "Appel",
        "last_name": "Matrice",
        "birth_date": "1970-01-01",
        "confirm_duplicate": True,
    }
    return Call(f"{P}/{s.practice(t)}/patients", json=body)


def find_callers(s: Scene, t: Target) -> Call:
    # The scene's own patients are all called "Matrix ...": those of the other practice must
    # never show.
    return Call(f"{P}/{s.practice(t)}/patients", params={"query": "matrix"})


def desk_patient(s: Scene, t: Target) -> Call:
    site = s.site(t)
    return Call(f"{P}/{site.practice_id}/patients/{site.desk_patient_id}")


def edit_desk_patient(s: Scene, t: Target) -> Call:
    site = s.site(t)

    def version(session: Session) -> str | None:
        contact = session.get(PracticePatient, (site.practice_id, site.desk_patient_id))
        return None if contact is None else version_of(contact.phone, contact.email)

    return Call(
        f"{P}/{site.practice_id}/patients/{site.desk_patient_id}",
        json={"phone": "06 12 34 56 78"},
        headers=current(s, version),
    )


# Account operations. Secrets the matrix cannot make cheaply (a mailed code, a sign-up or
# recovery token) are sent syntactically valid and wrong: the answer must be the same refusal
# for every role.
KEY = b64(bytes(32))
PARAMS = b64(bytes(27))
SEALED = b64(bytes(64))


def unknown_email() -> str:
    return f"nobody.{uuid.uuid4().hex[:12]}@example.test"


def prelogin_known(s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/prelogin", json={"email": s.keyed_email("prelogin")})


def prelogin_unknown(_s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/prelogin", json={"email": unknown_email()})


def signup_known(s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/signup", json={"email": s.known_email()})


def signup_unknown(_s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/signup", json={"email": unknown_email()})


def signup_verify(_s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/signup/verify", json={"signup_id": str(uuid.uuid4()), "code": "000000"})


def signup_complete(_s: MatrixScene, _t: Target) -> Call:
    body = {
        "signup_token": "clqs_" + uuid.uuid4().hex,
        "display_name": "Nobody",
        "auth_key": KEY,
        "kdf_params": PARAMS,
        "recovery_auth_key": KEY,
        "recovery_kdf_params": PARAMS,
        "encryption_public": KEY,
        "signing_public": KEY,
        "sealed_by_password": SEALED,
        "sealed_by_recovery": SEALED,
    }
    return Call(AUTH + "/signup/complete", json=body)


def login_known(s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/login", json={"email": s.keyed_email("login"), "auth_key": KEY})


def login_unknown(_s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/login", json={"email": unknown_email(), "auth_key": KEY})


def reauth(_s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/reauth", json={"auth_key": KEY})


def change_password(_s: MatrixScene, _t: Target) -> Call:
    body = {
        "old_auth_key": KEY,
        "new_auth_key": KEY,
        "new_kdf_params": PARAMS,
        "new_sealed_by_password": SEALED,
    }
    return Call(AUTH + "/password", json=body)


def recovery_known(s: MatrixScene, _t: Target) -> Call:
    body = {"email": s.keyed_email("recovery"), "recovery_auth_key": KEY}
    return Call(AUTH + "/recovery", json=body)


def recovery_unknown(_s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/recovery", json={"email": unknown_email(), "recovery_auth_key": KEY})


def recovery_complete(_s: MatrixScene, _t: Target) -> Call:
    body = {
        "recovery_token": uuid.uuid4().hex,
        "new_auth_key": KEY,
        "new_kdf_params": PARAMS,
        "new_sealed_by_password": SEALED,
        "new_recovery_auth_key": KEY,
        "new_recovery_kdf_params": PARAMS,
        "new_sealed_by_recovery": SEALED,
    }
    return Call(AUTH + "/recovery/complete", json=body)


def key_reset_known(s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/keys/reset", json={"email": s.known_email()})


def key_reset_unknown(_s: MatrixScene, _t: Target) -> Call:
    return Call(AUTH + "/keys/reset", json={"email": unknown_email()})


def key_reset_verify(_s: MatrixScene, _t: Target) -> Call:
    body = {"reset_id": str(uuid.uuid4()), "code": "000000", "totp": "000000"}
    return Call(AUTH + "/keys/reset/verify", json=body)


def key_reset_complete(_s: MatrixScene, _t: Target) -> Call:
    body = {
        "reset_token": "clqk_" + uuid.uuid4().hex,
        "epoch": 2,
        "auth_key": KEY,
        "kdf_params": PARAMS,
        "recovery_auth_key": KEY,
        "recovery_kdf_params": PARAMS,
        "encryption_public": KEY,
        "signing_public": KEY,
        "sealed_by_password": SEALED,
        "sealed_by_recovery": SEALED,
    }
    return Call(AUTH + "/keys/reset/complete", json=body)


def to(path: str, body: dict[str, Any] | None = None) -> Builder:
    def build(_s: MatrixScene, _t: Target) -> Call:
        return Call(path, json=body)

    return build


def confirm_foreign_email(s: MatrixScene, _t: Target) -> Call:
    """Somebody else's pending address change: must look like one that does not exist."""
    body = {"challenge_id": str(s.foreign_challenge), "code": "000000"}
    return Call("/api/v1/me/email/confirm", json=body)


def confirm_missing_email(_s: MatrixScene, _t: Target) -> Call:
    body = {"challenge_id": str(uuid.uuid4()), "code": "000000"}
    return Call("/api/v1/me/email/confirm", json=body)


def invite(s: MatrixScene, t: Target) -> Call:
    email = unknown_email() if t.mode is Mode.FRESH else "invitee@example.test"
    return Call(f"{P}/{s.practice(t)}/invitations", json={"email": email, "role": "secretary"})


def list_invitations(s: MatrixScene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/invitations")


def revoke_invitation(s: MatrixScene, t: Target) -> Call:
    ref = s.invitation(t)
    return Call(f"{P}/{ref.practice_id}/invitations/{ref.id}")


def accept_invitation(s: MatrixScene, t: Target) -> Call:
    """A well-formed token of practice A that no invitation has (of a random practice if missing)."""
    practice = uuid.uuid4() if t.mode is Mode.MISSING else s.sites["A"].practice_id
    token = b64(practice.bytes + uuid.uuid4().bytes + uuid.uuid4().bytes)
    return Call("/api/v1/invitations/accept", json={"token": token})


def user_keys(s: MatrixScene, t: Target) -> Call:
    """The holder's keys: for themselves and the staff of the practice where their patient is."""
    holder = s.principal("holder").account_id
    return Call(f"/api/v1/key-directory/users/{uuid.uuid4() if t.mode is Mode.MISSING else holder}")


def practice_keys(s: MatrixScene, t: Target) -> Call:
    return Call(f"/api/v1/key-directory/practices/{s.practice(t)}")


def key_group(
    suffix: str, body: dict[str, Any] | None = None, *, group: str = "key-group"
) -> Builder:
    def build(s: MatrixScene, t: Target) -> Call:
        return Call(f"{P}/{s.practice(t)}/{group}{suffix}", json=body)

    return build


def clinical_group(suffix: str, body: dict[str, Any] | None = None) -> Builder:
    return key_group(suffix, body, group="clinical-key-group")


def clinical_keys(s: MatrixScene, t: Target) -> Call:
    return Call(f"/api/v1/key-directory/practices/{s.practice(t)}/clinical")


# Sealed records. The scene's accounts have no keys: a body that parses but is no valid envelope
# gets the roles allowed past the policy a 422 (the records tests cover the successes).
SEALED_BODY = {"envelope": b64(b"\x01\x03" + bytes(250)), "wraps": [b64(bytes(158))]}


def desk_records(suffix: str, body: dict[str, Any] | None = None) -> Builder:
    """A practice's records of its desk patient (registered there)."""

    def build(s: Scene, t: Target) -> Call:
        site = s.site(t)
        path = f"{P}/{site.practice_id}/patients/{site.desk_patient_id}/{suffix}"
        return Call(path, json=body)

    return build


#: A valid shape the server refuses: the group exists (create), epoch 1 is no rotation.
GROUP_BODY = {"public_key": KEY, "wraps": []}


def remove_member(s: MatrixScene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/members/{s.member(t)}")


def change_role(s: MatrixScene, t: Target) -> Call:
    """The disposable secretary made an admin, unsigned: the scene's practices sign their
    memberships, so the roles let past the policy get the 422 naming ``statement``."""
    return Call(f"{P}/{s.practice(t)}/members/{s.member(t)}", json={"role": "admin"})


def member_sessions(s: MatrixScene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/members/{s.member(t)}/sessions")


def end_member_sessions(s: MatrixScene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/members/{s.member(t)}/sessions/revoke")


def end_foreign_session(s: MatrixScene, t: Target) -> Call:
    """A session of another account (a disposable member's): must look like a missing one."""
    if t.mode is Mode.MISSING:
        return Call(f"/api/v1/me/sessions/{uuid.uuid4()}")
    account_id = s.member(t)
    with s.db.write() as session:
        token = do_issue_token(
            session, now=s.now, account_id=account_id, lifetime=timedelta(days=1)
        )
    return Call(f"/api/v1/me/sessions/{credential_id(hash_token(token))}")


def own_records(suffix: str, body: dict[str, Any] | None = None) -> Builder:
    """The records of a patient the owner holds at the target's practice. A write needs the
    patient in that practice's registry: the scene registers them first."""

    def build(s: MatrixScene, t: Target) -> Call:
        practice = s.sites[t.site].practice_id
        if body is not None and t.mode is not Mode.MISSING:
            s._register(t.site, s.patient(t))
        return Call(f"/api/v1/me/patients/{s.patient(t)}/practices/{practice}/{suffix}", json=body)

    return build


def desk_document(s: Scene, t: Target) -> Call:
    """A document that does not exist, of the desk patient of a real practice (also when the
    target is missing: then only the document differs, and every answer must be the same)."""
    site = s.sites[t.site]
    path = f"{P}/{site.practice_id}/patients/{site.desk_patient_id}"
    return Call(f"{path}/documents/{uuid.uuid4()}/content")


def own_document(s: Scene, t: Target) -> Call:
    patient = s.patient(Target(t.name))
    practice = s.sites[t.site].practice_id
    return Call(
        f"/api/v1/me/patients/{patient}/practices/{practice}/documents/{uuid.uuid4()}/content"
    )


def own_upload(s: MatrixScene, t: Target) -> Call:
    """An empty stream for a patient the owner holds, registered at the target's practice: the
    holder gets past the policy to a 422 on the body."""
    practice = s.sites[t.site].practice_id
    if t.mode is not Mode.MISSING:
        s._register(t.site, s.patient(t))
    return Call(
        f"/api/v1/me/patients/{s.patient(t)}/practices/{practice}/documents/{uuid.uuid4()}/content"
    )


def upload_document(s: Scene, t: Target) -> Call:
    """An empty stream: the practitioner gets past the policy to a 422 on the body."""
    site = s.site(t)
    path = f"{P}/{site.practice_id}/patients/{site.desk_patient_id}"
    return Call(f"{path}/documents/{uuid.uuid4()}/content")


def practice_records(suffix: str, body: dict[str, Any] | None = None) -> Builder:
    def build(s: Scene, t: Target) -> Call:
        return Call(f"{P}/{s.practice(t)}/{suffix}", json=body)

    return build


# --- expected outcomes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grid:
    columns: tuple[str, ...]
    cells: Mapping[str, Mapping[str, str]]


def grid(table: str) -> Grid:
    """A table: the first line names the targets, then one line per role, in ROLES order."""
    lines = [line.split() for line in table.strip().splitlines()]
    columns = tuple(lines[0])
    cells: dict[str, dict[str, str]] = {}
    for role, *outcomes in lines[1:]:
        assert len(outcomes) == len(columns), f"{role}: {len(columns)} outcomes expected"
        for outcome in outcomes:
            assert outcome in ("ok", "4xx") or re.fullmatch(r"[1-5]\d\d", outcome), outcome
        cells[role] = dict(zip(columns, outcomes, strict=True))
    assert tuple(cells) == ROLES, f"rows must be {ROLES}"
    return Grid(columns, cells)


PUBLIC = grid("""
                  -
    anonymous     ok
    holder        ok
    stranger      ok
    secretary     ok
    practitioner  ok
    admin         ok
    other_admin   ok
    operator      ok
    granted       ok
""")

PUBLIC_PRACTICE = grid("""
                  here  there
    anonymous     ok    ok
    holder        ok    ok
    stranger      ok    ok
    secretary     ok    ok
    practitioner  ok    ok
    admin         ok    ok
    other_admin   ok    ok
    operator      ok    ok
    granted       ok    ok
""")

SIGNED_IN = grid("""
                  -
    anonymous     401
    holder        ok
    stranger      ok
    secretary     ok
    practitioner  ok
    admin         ok
    other_admin   ok
    operator      ok
    granted       ok
""")

PRACTICE_READ = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  ok    404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       ok    404
""")

PRACTICE_BOOK = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  ok    404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       403   404
""")

AGENDA_MANAGE = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  403   404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       403   404
""")

#: Time off (absences, holidays) of practice A's agenda, whose practitioner the scene's
#: practitioner is: they change it like the agenda's managers (a colleague's is a 403:
#: tests/functional/test_time_off_rights.py).
TIME_OFF_MANAGE = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  ok    404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       403   404
""")

ADMIN_ONLY = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     403   404
    practitioner  403   404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       403   404
""")

#: Something of another account's own (its session): every signed-in role gets a 404, alike a
#: missing one.
NOT_YOURS = grid("""
                  theirs
    anonymous     401
    holder        404
    stranger      404
    secretary     404
    practitioner  404
    admin         404
    other_admin   404
    operator      404
    granted       404
""")

APPOINTMENT_READ = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        ok    404     404
    stranger      404   ok      404
    secretary     ok    ok      404
    practitioner  ok    ok      404
    admin         ok    ok      404
    other_admin   404   404     ok
    operator      404   404     404
    granted       ok    ok      404
""")

APPOINTMENT_CHANGE = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        ok    404     404
    stranger      404   ok      404
    secretary     ok    ok      404
    practitioner  ok    ok      404
    admin         ok    ok      404
    other_admin   404   404     ok
    operator      404   404     404
    granted       403   403     404
""")

APPOINTMENT_MARK = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        404   404     404
    stranger      404   404     404
    secretary     ok    ok      404
    practitioner  ok    ok      404
    admin         ok    ok      404
    other_admin   404   404     ok
    operator      404   404     404
    granted       403   403     404
""")

PATIENT_ONLY = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        ok    404     404
    stranger      404   ok      404
    secretary     404   404     404
    practitioner  404   404     404
    admin         404   404     404
    other_admin   404   404     404
    operator      404   404     404
    granted       404   404     404
""")


#: Staff reach the key group and are refused by its state (the group exists; a stale epoch).
#: The statements' role of each membership role.
GROUP_ROLES = {name: role for role, name in ROLE_NAMES.items()}

#: A user's keys: themselves, and staff of a practice where they hold a registered patient.
USER_KEYS = grid("""
                  holder
    anonymous     401
    holder        ok
    stranger      404
    secretary     ok
    practitioner  ok
    admin         ok
    other_admin   404
    operator      404
    granted       404
""")

SIGNED_IN_PRACTICE = grid("""
                  here  there
    anonymous     401   401
    holder        ok    ok
    stranger      ok    ok
    secretary     ok    ok
    practitioner  ok    ok
    admin         ok    ok
    other_admin   ok    ok
    operator      ok    ok
    granted       ok    ok
""")


def refused_body(base: Grid, instead: str = "422") -> Grid:
    """``base`` where every "ok" becomes the 422 of a body that is no valid envelope (or the
    404 of an object that does not exist)."""
    cells = {
        role: {column: instead if out == "ok" else out for column, out in row.items()}
        for role, row in base.cells.items()
    }
    return Grid(base.columns, cells)


NOTES_READ = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     403   404
    practitioner  ok    404
    admin         403   404
    other_admin   404   403
    operator      404   404
    granted       403   404
""")
NOTES_WRITE = refused_body(NOTES_READ)
#: Messages, re-wraps and re-shares: any staff member (no operator); these bodies are no valid
#: envelope or wrap, so the roles let past the policy get a 422.
STAFF_RECORDS = refused_body(PRACTICE_BOOK)
#: A practitioners' group's keys: its practice's staff; "there" has no practitioner, so no group.
CLINICAL_KEYS = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  ok    404
    admin         ok    404
    other_admin   404   404
    operator      404   404
    granted       403   404
""")


def same_for_all(outcome: str) -> Grid:
    return grid("\n".join(["-", *(f"{role} {outcome}" for role in ROLES)]))


def signed_in(outcome: str) -> Grid:
    """Anonymous: 401; every signed-in role: ``outcome``, on its own account (no other target)."""
    return grid("\n".join(["-", "anonymous 401", *(f"{role} {outcome}" for role in ROLES[1:])]))


#: A wrong key (or token) gets the same 401, whoever asks and whichever the address.
LOGIN_FAILS = same_for_all("401")
#: A wrong mailed code or sign-up token: refused alike for everybody.
REFUSED = same_for_all("4xx")
#: Destructive changes of one's own account need a re-authentication of that session first:
#: the matrix's sessions have none, so these are refused rather than run on the scene's accounts.
REAUTH_FIRST = signed_in("403")

assert ROLES[0] == "anonymous"


@dataclass(frozen=True, slots=True)
class Spec:
    build: Builder
    grid: Grid
    #: A second request that must be answered alike: same status and content type, the same
    #: bytes for a refusal, the same JSON shape for a success.
    twin: Builder | None = None
    #: Every role gets alike answers (the operation is not about any object).
    uniform: bool = False
    #: The problem type of every refusal to a signed-in role.
    refusal: str | None = None
    #: No answer carries the id or the address of another account.
    own_account: bool = False
    #: Sent with a disposable session of the role's account, which must be over afterwards while
    #: the role's own session still works.
    ends_session: bool = False


PRACTICE = "/api/v1/practices/{practice_id}"
AGENDA = PRACTICE + "/practitioners/{practitioner_id}"
APPOINTMENT = PRACTICE + "/appointments/{appointment_id}"
RECORDS = PRACTICE + "/patients/{patient_id}"
MY_RECORDS = "/api/v1/me/patients/{patient_id}/practices/{practice_id}"

#: Every operation of the API. Keep in the order of the OpenAPI document.
MATRIX: dict[tuple[str, str], Spec] = {
    ("GET", "/healthz"): Spec(healthz, PUBLIC),
    ("GET", "/api/v1/search"): Spec(search, PUBLIC),
    ("GET", "/api/v1/specialties"): Spec(specialties, PUBLIC),
    ("GET", "/api/v1/places"): Spec(places, PUBLIC),
    ("GET", PRACTICE): Spec(practice_page, PUBLIC_PRACTICE),
    ("GET", PRACTICE + "/practitioners"): Spec(practitioners_page, PUBLIC_PRACTICE),
    ("POST", PRACTICE + "/practitioners"): Spec(add_practitioner, ADMIN_ONLY),
    ("GET", AGENDA + "/slots"): Spec(free_slots, PUBLIC_PRACTICE),
    ("POST", "/api/v1/practices"): Spec(create_practice, SIGNED_IN),
    ("GET", PRACTICE + "/settings"): Spec(settings, PRACTICE_READ),
    ("PATCH", PRACTICE + "/settings"): Spec(change_settings, ADMIN_ONLY),
    ("GET", AGENDA + "/rules"): Spec(agenda_part("rules", no_body), PRACTICE_READ),
    ("PUT", AGENDA + "/rules"): Spec(replace_rules, AGENDA_MANAGE),
    ("GET", AGENDA + "/visit-types"): Spec(agenda_part("visit-types", no_body), PRACTICE_READ),
    ("GET", PRACTICE + "/visit-types/{visit_type_id}"): Spec(visit_type, PRACTICE_READ),
    ("PATCH", PRACTICE + "/visit-types/{visit_type_id}"): Spec(
        visit_type_edit({"label": "Visite renommée"}), AGENDA_MANAGE
    ),
    ("DELETE", PRACTICE + "/visit-types/{visit_type_id}"): Spec(
        visit_type_edit(None), AGENDA_MANAGE
    ),
    ("POST", AGENDA + "/visit-types"): Spec(
        agenda_part("visit-types", visit_type_body), AGENDA_MANAGE
    ),
    ("POST", AGENDA + "/openings"): Spec(agenda_part("openings", opening_body), AGENDA_MANAGE),
    ("GET", AGENDA + "/openings"): Spec(agenda_part("openings", no_body), PRACTICE_READ),
    ("GET", PRACTICE + "/openings/{opening_id}"): Spec(timetable_part("openings"), PRACTICE_READ),
    ("PUT", PRACTICE + "/openings/{opening_id}"): Spec(
        timetable_part("openings", "put"), AGENDA_MANAGE
    ),
    ("DELETE", PRACTICE + "/openings/{opening_id}"): Spec(
        timetable_part("openings", "delete"), AGENDA_MANAGE
    ),
    ("POST", AGENDA + "/breaks"): Spec(agenda_part("breaks", break_body), AGENDA_MANAGE),
    ("GET", AGENDA + "/breaks"): Spec(agenda_part("breaks", no_body), PRACTICE_READ),
    ("GET", PRACTICE + "/breaks/{break_id}"): Spec(timetable_part("breaks"), PRACTICE_READ),
    ("PUT", PRACTICE + "/breaks/{break_id}"): Spec(timetable_part("breaks", "put"), AGENDA_MANAGE),
    ("DELETE", PRACTICE + "/breaks/{break_id}"): Spec(
        timetable_part("breaks", "delete"), AGENDA_MANAGE
    ),
    ("POST", AGENDA + "/overrides"): Spec(agenda_part("overrides", override_body), TIME_OFF_MANAGE),
    ("POST", AGENDA + "/overrides/preview"): Spec(
        agenda_part("overrides/preview", override_body), TIME_OFF_MANAGE
    ),
    ("GET", AGENDA + "/overrides"): Spec(agenda_part("overrides", no_body), PRACTICE_READ),
    ("GET", PRACTICE + "/overrides/{override_id}"): Spec(
        timetable_part("overrides"), PRACTICE_READ
    ),
    ("PUT", PRACTICE + "/overrides/{override_id}"): Spec(
        timetable_part("overrides", "put"), TIME_OFF_MANAGE
    ),
    ("DELETE", PRACTICE + "/overrides/{override_id}"): Spec(
        timetable_part("overrides", "delete"), TIME_OFF_MANAGE
    ),
    ("POST", "/api/v1/appointments"): Spec(book_online, PATIENT_ONLY),
    ("POST", PRACTICE + "/appointments"): Spec(book_by_practice, PRACTICE_BOOK),
    ("GET", "/api/v1/me/appointments"): Spec(get("/api/v1/me/appointments"), SIGNED_IN),
    ("GET", APPOINTMENT): Spec(view_appointment, APPOINTMENT_READ),
    ("POST", APPOINTMENT + "/cancel"): Spec(cancel, APPOINTMENT_CHANGE),
    ("POST", APPOINTMENT + "/reschedule"): Spec(reschedule, APPOINTMENT_CHANGE),
    ("POST", APPOINTMENT + "/mark"): Spec(mark, APPOINTMENT_MARK),
    ("GET", PRACTICE + "/agenda"): Spec(agenda, PRACTICE_READ),
    ("GET", "/api/v1/me/patients"): Spec(get("/api/v1/me/patients"), SIGNED_IN),
    ("POST", "/api/v1/me/patients"): Spec(add_relative, SIGNED_IN),
    ("PUT", "/api/v1/me/patients/{patient_id}"): Spec(update_relative, PATIENT_ONLY),
    ("DELETE", "/api/v1/me/patients/{patient_id}"): Spec(remove_relative, PATIENT_ONLY),
    ("POST", PRACTICE + "/patients"): Spec(register_caller, PRACTICE_BOOK),
    ("GET", PRACTICE + "/patients"): Spec(find_callers, PRACTICE_READ),
    ("GET", RECORDS): Spec(desk_patient, PRACTICE_READ),
    ("PATCH", RECORDS): Spec(edit_desk_patient, PRACTICE_BOOK),
    ("POST", "/api/v1/waitlist"): Spec(join_waitlist, PATIENT_ONLY),
    ("GET", "/api/v1/me/waitlist"): Spec(get("/api/v1/me/waitlist"), SIGNED_IN),
    ("DELETE", PRACTICE + "/waitlist/{entry_id}"): Spec(leave_waitlist, PATIENT_ONLY),
    ("POST", PRACTICE + "/waitlist-offers/{offer_id}/decision"): Spec(decide_offer, PATIENT_ONLY),
    ("POST", AUTH + "/prelogin"): Spec(
        prelogin_known, PUBLIC, twin=prelogin_unknown, uniform=True, own_account=True
    ),
    ("POST", AUTH + "/signup"): Spec(
        signup_known, PUBLIC, twin=signup_unknown, uniform=True, own_account=True
    ),
    ("POST", AUTH + "/signup/verify"): Spec(signup_verify, REFUSED, uniform=True),
    ("POST", AUTH + "/signup/complete"): Spec(signup_complete, REFUSED, uniform=True),
    ("POST", AUTH + "/login"): Spec(
        login_known, LOGIN_FAILS, twin=login_unknown, uniform=True, own_account=True
    ),
    ("POST", AUTH + "/logout"): Spec(
        to(AUTH + "/logout"), PUBLIC, own_account=True, ends_session=True
    ),
    # Sent with the role's own session, which stays: every other session of the account ends.
    ("POST", AUTH + "/logout/others"): Spec(
        to(AUTH + "/logout/others"), SIGNED_IN, own_account=True
    ),
    ("POST", AUTH + "/reauth"): Spec(reauth, LOGIN_FAILS, refusal="login-failed"),
    ("POST", AUTH + "/password/params"): Spec(
        to(AUTH + "/password/params"), SIGNED_IN, own_account=True
    ),
    ("POST", AUTH + "/password"): Spec(change_password, LOGIN_FAILS, refusal="login-failed"),
    ("POST", AUTH + "/recovery"): Spec(
        recovery_known, LOGIN_FAILS, twin=recovery_unknown, uniform=True, own_account=True
    ),
    ("POST", AUTH + "/recovery/complete"): Spec(recovery_complete, LOGIN_FAILS, uniform=True),
    # Key reset (docs/accounts.md): codes are mailed alike for known and unknown addresses.
    ("POST", AUTH + "/keys/reset"): Spec(
        key_reset_known, PUBLIC, twin=key_reset_unknown, uniform=True, own_account=True
    ),
    ("POST", AUTH + "/keys/reset/verify"): Spec(key_reset_verify, REFUSED, uniform=True),
    ("POST", AUTH + "/keys/reset/complete"): Spec(key_reset_complete, REFUSED, uniform=True),
    ("GET", "/api/v1/me"): Spec(get("/api/v1/me"), SIGNED_IN, own_account=True),
    ("DELETE", "/api/v1/me"): Spec(
        to("/api/v1/me"), REAUTH_FIRST, refusal="reauthentication-required"
    ),
    ("POST", "/api/v1/me/email"): Spec(
        to("/api/v1/me/email", {"email": "changed.address@example.test"}),
        REAUTH_FIRST,
        refusal="reauthentication-required",
    ),
    ("POST", "/api/v1/me/email/confirm"): Spec(
        confirm_foreign_email,
        signed_in("422"),
        twin=confirm_missing_email,
        refusal="invalid-input",
        own_account=True,
    ),
    ("POST", "/api/v1/me/mfa/totp"): Spec(
        to("/api/v1/me/mfa/totp"), REAUTH_FIRST, refusal="reauthentication-required"
    ),
    ("DELETE", "/api/v1/me/mfa/totp"): Spec(
        to("/api/v1/me/mfa/totp"), REAUTH_FIRST, refusal="reauthentication-required"
    ),
    ("POST", "/api/v1/me/mfa/totp/confirm"): Spec(
        to("/api/v1/me/mfa/totp/confirm", {"code": "123456"}),
        REAUTH_FIRST,
        refusal="reauthentication-required",
    ),
    # The matrix's accounts were made with a token, without a password or recovery code: each
    # role reads its own status, which is "none" (tests/functional/accounts covers one that has).
    ("GET", "/api/v1/me/recovery-code"): Spec(
        get("/api/v1/me/recovery-code"), signed_in("404"), own_account=True
    ),
    ("PUT", "/api/v1/me/recovery-code"): Spec(
        to(
            "/api/v1/me/recovery-code",
            {"recovery_auth_key": KEY, "recovery_kdf_params": PARAMS, "sealed_by_recovery": SEALED},
        ),
        REAUTH_FIRST,
        refusal="reauthentication-required",
    ),
    ("GET", "/api/v1/me/reminders"): Spec(
        get("/api/v1/me/reminders"), signed_in("200"), own_account=True
    ),
    ("PUT", "/api/v1/me/reminders"): Spec(
        to("/api/v1/me/reminders", {"enabled": True}), signed_in("200"), own_account=True
    ),
    ("POST", "/api/v1/me/mfa/recovery-codes"): Spec(
        to("/api/v1/me/mfa/recovery-codes"), REAUTH_FIRST, refusal="reauthentication-required"
    ),
    ("POST", PRACTICE + "/invitations"): Spec(invite, ADMIN_ONLY),
    ("GET", PRACTICE + "/invitations"): Spec(list_invitations, ADMIN_ONLY),
    ("DELETE", PRACTICE + "/invitations/{invitation_id}"): Spec(revoke_invitation, ADMIN_ONLY),
    ("POST", "/api/v1/invitations/accept"): Spec(accept_invitation, signed_in("404")),
    ("POST", PRACTICE + "/operator-grants"): Spec(grant, ADMIN_ONLY),
    ("GET", PRACTICE + "/operator-grants"): Spec(list_grants, ADMIN_ONLY),
    ("GET", PRACTICE + "/outbox/failed"): Spec(failed_messages, ADMIN_ONLY),
    ("GET", "/api/v1/me/notifications"): Spec(
        get("/api/v1/me/notifications"), SIGNED_IN, own_account=True
    ),
    # A reference nobody was sent: each account is told it has no such message, alike.
    ("GET", "/api/v1/me/notifications/{reference}"): Spec(
        get("/api/v1/me/notifications/AAAAAAAA"), signed_in("404"), own_account=True
    ),
    ("GET", "/api/v1/me/access-history"): Spec(access_history, PATIENT_ONLY),
    ("GET", PRACTICE + "/audit"): Spec(practice_audit, ADMIN_ONLY),
    ("GET", PRACTICE + "/outbox/pauses"): Spec(outbox_pauses, ADMIN_ONLY),
    ("POST", PRACTICE + "/outbox/pauses/{pause_id}/release"): Spec(
        pause_decision("release"), ADMIN_ONLY
    ),
    ("POST", PRACTICE + "/outbox/pauses/{pause_id}/discard"): Spec(
        pause_decision("discard"), ADMIN_ONLY
    ),
    ("DELETE", PRACTICE + "/operator-grants/{grant_id}"): Spec(revoke, ADMIN_ONLY),
    ("GET", "/api/v1/key-directory"): Spec(get("/api/v1/key-directory"), PUBLIC),
    ("GET", "/api/v1/key-directory/consistency"): Spec(
        lambda _s, _t: Call("/api/v1/key-directory/consistency", params={"from": 0, "to": 0}),
        PUBLIC,
    ),
    ("GET", "/api/v1/key-directory/users/{account_id}"): Spec(user_keys, USER_KEYS),
    ("GET", "/api/v1/key-directory/practices/{practice_id}"): Spec(
        practice_keys, SIGNED_IN_PRACTICE
    ),
    ("POST", PRACTICE + "/key-group"): Spec(
        key_group("", GROUP_BODY), refused_body(ADMIN_ONLY, "409")
    ),
    ("GET", PRACTICE + "/key-group"): Spec(key_group(""), PRACTICE_BOOK),
    ("GET", PRACTICE + "/key-group/members"): Spec(key_group("/members"), PRACTICE_BOOK),
    ("POST", PRACTICE + "/key-group/wraps"): Spec(
        key_group("/wraps", {"epoch": 1, "wraps": []}), ADMIN_ONLY
    ),
    ("POST", PRACTICE + "/key-group/rotations"): Spec(
        key_group("/rotations", {**GROUP_BODY, "epoch": 1}), refused_body(ADMIN_ONLY, "409")
    ),
    ("POST", PRACTICE + "/key-group/memberships"): Spec(
        key_group("/memberships", {"statements": ["AQs"]}), refused_body(ADMIN_ONLY)
    ),
    ("GET", PRACTICE + "/key-group/memberships"): Spec(key_group("/memberships"), PRACTICE_BOOK),
    # The practitioners' group (notes): practitioners only; its keys, for any of the staff.
    ("POST", PRACTICE + "/clinical-key-group"): Spec(
        clinical_group("", GROUP_BODY), refused_body(NOTES_READ, "409")
    ),
    ("GET", PRACTICE + "/clinical-key-group"): Spec(clinical_group(""), NOTES_READ),
    ("GET", PRACTICE + "/clinical-key-group/members"): Spec(clinical_group("/members"), NOTES_READ),
    # Who holds its key, for the members page: one flag each, for any of the staff.
    ("GET", PRACTICE + "/clinical-key-group/holders"): Spec(
        clinical_group("/holders"), PRACTICE_BOOK
    ),
    ("POST", PRACTICE + "/clinical-key-group/wraps"): Spec(
        clinical_group("/wraps", {"epoch": 1, "wraps": []}), NOTES_READ
    ),
    ("POST", PRACTICE + "/clinical-key-group/rotations"): Spec(
        clinical_group("/rotations", {**GROUP_BODY, "epoch": 1}), refused_body(NOTES_READ, "409")
    ),
    ("GET", "/api/v1/key-directory/practices/{practice_id}/clinical"): Spec(
        clinical_keys, CLINICAL_KEYS
    ),
    # A keyed practice removes by signed statement only (POST .../key-group/memberships).
    ("DELETE", PRACTICE + "/members/{account_id}"): Spec(
        remove_member, refused_body(ADMIN_ONLY, "409")
    ),
    ("PATCH", PRACTICE + "/members/{account_id}"): Spec(change_role, refused_body(ADMIN_ONLY)),
    # Sessions and devices: one's own, and an admin's view of a member's (docs/accounts.md).
    ("GET", "/api/v1/me/sessions"): Spec(get("/api/v1/me/sessions"), SIGNED_IN, own_account=True),
    ("DELETE", "/api/v1/me/sessions/{session_id}"): Spec(end_foreign_session, NOT_YOURS),
    ("POST", "/api/v1/me/sessions/revoke-others"): Spec(
        to("/api/v1/me/sessions/revoke-others"), SIGNED_IN, own_account=True
    ),
    ("GET", PRACTICE + "/members/{account_id}/sessions"): Spec(member_sessions, ADMIN_ONLY),
    ("POST", PRACTICE + "/members/{account_id}/sessions/revoke"): Spec(
        end_member_sessions, ADMIN_ONLY
    ),
    # Sealed records
    ("POST", RECORDS + "/notes"): Spec(desk_records("notes", SEALED_BODY), NOTES_WRITE),
    ("GET", RECORDS + "/notes"): Spec(desk_records("notes"), NOTES_READ),
    ("GET", MY_RECORDS + "/notes"): Spec(own_records("notes"), PATIENT_ONLY),
    ("POST", RECORDS + "/messages"): Spec(desk_records("messages", SEALED_BODY), STAFF_RECORDS),
    ("GET", RECORDS + "/messages"): Spec(desk_records("messages"), PRACTICE_BOOK),
    ("POST", MY_RECORDS + "/messages"): Spec(
        own_records("messages", SEALED_BODY), refused_body(PATIENT_ONLY)
    ),
    ("GET", MY_RECORDS + "/messages"): Spec(own_records("messages"), PATIENT_ONLY),
    # The scene's practices have key groups (made for the key-group rows): nothing is stale.
    ("GET", PRACTICE + "/item-key-wraps/stale"): Spec(
        practice_records("item-key-wraps/stale"), PRACTICE_BOOK
    ),
    ("POST", PRACTICE + "/item-key-wraps"): Spec(
        practice_records("item-key-wraps", {"wraps": SEALED_BODY["wraps"]}), STAFF_RECORDS
    ),
    ("GET", RECORDS + "/reshare"): Spec(desk_records("reshare"), STAFF_RECORDS),
    ("GET", RECORDS + "/recipients"): Spec(desk_records("recipients"), PRACTICE_BOOK),
    ("PUT", RECORDS + "/documents/{document_id}/content"): Spec(upload_document, NOTES_WRITE),
    ("POST", RECORDS + "/documents"): Spec(desk_records("documents", SEALED_BODY), NOTES_WRITE),
    ("GET", RECORDS + "/documents"): Spec(desk_records("documents"), NOTES_READ),
    ("GET", MY_RECORDS + "/documents"): Spec(own_records("documents"), PATIENT_ONLY),
    ("PUT", MY_RECORDS + "/documents/{document_id}/content"): Spec(
        own_upload, refused_body(PATIENT_ONLY)
    ),
    ("POST", MY_RECORDS + "/documents"): Spec(
        own_records("documents", SEALED_BODY), refused_body(PATIENT_ONLY)
    ),
    ("GET", RECORDS + "/documents/{document_id}/content"): Spec(
        desk_document, refused_body(NOTES_READ, "404")
    ),
    ("GET", MY_RECORDS + "/documents/{document_id}/content"): Spec(
        own_document, refused_body(PATIENT_ONLY, "404")
    ),
    ("POST", RECORDS + "/reshare"): Spec(
        desk_records("reshare", {"identity_checked": True, "wraps": SEALED_BODY["wraps"]}),
        STAFF_RECORDS,
    ),
}


# --- running it --------------------------------------------------------------------------------


def operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$")


def shape(answer: Answer) -> tuple[int, str | None, bytes]:
    """What must not differ between somebody else's object and a missing one (but the
    request id every problem body carries)."""
    return answer.status_code, answer.headers.get("content-type"), blank_request_id(answer.content)


def skeleton(value: object) -> object:
    """A JSON value with its texts reduced to their lengths: the shape of an answer."""
    if isinstance(value, dict):
        return {key: skeleton(item) for key, item in value.items()}
    if isinstance(value, list):
        return [skeleton(item) for item in value]
    if isinstance(value, str):
        return len(value)
    return type(value).__name__


def alike(one: Answer, other: Answer) -> bool:
    """Same status and content type; a refusal byte for byte (but its request id), a success
    in shape."""
    if shape(one)[:2] != shape(other)[:2]:
        return False
    if same_bytes_but_request_id(one.content, other.content):
        return True
    if not 200 <= one.status_code < 300 or not one.content or not other.content:
        return False
    return skeleton(json.loads(one.content)) == skeleton(json.loads(other.content))


def problem_type(answer: Answer) -> str | None:
    try:
        body = json.loads(answer.content)
    except ValueError:
        return None
    kind = body.get("type") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else None


class Answer(Protocol):
    """What the checks read of a response."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def content(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


@dataclass
class Matrix:
    backend: str
    scene: MatrixScene
    app: FastAPI
    clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, method: str, template: str) -> TestClient:
        """The client of one operation: an address of its own, so that throttles stay apart."""
        key = f"{method} {template}"
        if key not in self.clients:
            address = f"198.51.100.{len(self.clients) + 1}"
            assert len(self.clients) < 250
            self.clients[key] = TestClient(
                self.app, raise_server_exceptions=False, client=(address, 50000)
            )
        return self.clients[key]

    def send(
        self, method: str, template: str, role: str, call: Call, *, token: str | None = None
    ) -> Answer:
        assert template_pattern(template).match(call.path), (template, call.path)
        person = self.scene.person(role)
        if token is None and person is not None:
            token = person.token
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        headers |= call.headers or {}
        self.scene.requests += 1
        return self.client(method, template).request(
            method, call.path, json=call.json, params=call.params, headers=headers
        )

    def judge(
        self, role: str, expected: str, response: Answer, spec: Spec | None = None
    ) -> list[str]:
        status = response.status_code
        problems = []
        if status >= 500:
            problems.append(f"server error {status}")
        elif expected == "ok":
            if not 200 <= status < 300:
                problems.append(f"expected 2xx, got {status}")
        elif expected == "4xx":
            if not 400 <= status < 500:
                problems.append(f"expected 4xx, got {status}")
        elif status != int(expected):
            problems.append(f"expected {expected}, got {status}")
        leaked = [secret for secret in self.scene.secrets(role) if secret in response.text]
        if leaked:
            problems.append(f"leaks ids it may not see: {leaked}")
        if spec is None:
            return problems
        refused = not 200 <= status < 300
        if spec.refusal is not None and refused and role != "anonymous":
            wanted = PROBLEM_BASE + spec.refusal
            if problem_type(response) != wanted:
                problems.append(f"expected a refusal of type {wanted}")
        if spec.own_account:
            foreign = [value for value in self.scene.others(role) if value in response.text]
            if foreign:
                problems.append(f"shows another account: {foreign}")
        return problems

    def after_logout(self, role: str, ended: str) -> list[str]:
        me = "/api/v1/me"
        problems = []
        gone = self.send("GET", me, role, Call(me), token=ended)
        if gone.status_code != 401:
            problems.append(f"the session it ended still answers {gone.status_code}")
        kept = self.send("GET", me, role, Call(me))
        if kept.status_code != 200:
            problems.append(f"the role's other session answers {kept.status_code}")
        return problems

    def run(self, method: str, template: str) -> list[str]:
        spec = MATRIX[(method, template)]
        failures: list[str] = []
        firsts: dict[str, Answer] = {}
        for role in ROLES:
            compared = False
            for column in spec.grid.columns:
                expected = spec.grid.cells[role][column]
                fresh = method != "GET" and expected == "ok"
                target = Target(column, Mode.FRESH if fresh else Mode.STATIC)
                token = self.scene.spare_session(role) if spec.ends_session else None
                call = spec.build(self.scene, target)
                response = self.send(method, template, role, call, token=token)
                self.scene.cases += 1
                problems = self.judge(role, expected, response, spec)
                if expected == "404":
                    compared = True
                    twin = self.send(
                        method, template, role, spec.build(self.scene, Target(column, Mode.MISSING))
                    )
                    problems += [f"(missing twin) {p}" for p in self.judge(role, "404", twin)]
                    if shape(response) != shape(twin):
                        problems.append(f"differs from a missing one: {twin.text[:300]}")
                if spec.twin is not None:
                    twin = self.send(method, template, role, spec.twin(self.scene, target))
                    problems += [f"(twin) {p}" for p in self.judge(role, expected, twin, spec)]
                    if not alike(response, twin):
                        problems.append(f"differs from its twin: {twin.text[:300]}")
                if spec.uniform:
                    first = firsts.setdefault(column, response)
                    if not alike(first, response):
                        problems.append(f"differs from what {ROLES[0]} got: {first.text[:300]}")
                if token is not None:
                    problems += self.after_logout(role, token)
                failures += [
                    f"{method} {template} as {role} on {column}: {problem}\n    {response.text[:300]}"
                    for problem in problems
                ]
            first_column = spec.grid.columns[0]
            if not compared and first_column != "-":
                expected = "401" if spec.grid.cells[role][first_column] == "401" else "404"
                missing = spec.build(self.scene, Target(first_column, Mode.MISSING))
                response = self.send(method, template, role, missing)
                failures += [
                    f"{method} {template} as {role} on a missing {first_column}: {problem}"
                    for problem in self.judge(role, expected, response)
                ]
        return failures


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def matrix(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Matrix]:
    """One scene per database, built once and shared by every operation's test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "colloque.sqlite3"
        shutil.copyfile(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgres_url"), pool_size=10)
        empty_all(database)
    clock = SettableClock(T0)
    app, _sleeps = make_app(database, clock)
    scene = MatrixScene(database, clock, AccountsConfig.from_settings(app.state.settings))
    with TestClient(app, raise_server_exceptions=False):  # runs the app's lifespan
        matrix = Matrix(request.param, scene, app)
        yield matrix
    for client in matrix.clients.values():
        client.close()
    database.dispose()
    MATRIX_RUNS.append(
        f"authorization matrix on {request.param}: {scene.cases} cases "
        f"({scene.requests} requests) over {len(MATRIX)} operations and {len(ROLES)} roles"
    )


def test_every_operation_has_an_entry(tmp_path: Path) -> None:
    app = create_app(
        Settings(run_refresher=False), database=Database(f"sqlite:///{tmp_path}/none.sqlite3")
    )
    present = operations(app)
    missing = sorted(present - MATRIX.keys())
    stale = sorted(MATRIX.keys() - present)
    message = ["the authorization matrix does not match the API (docs/authorization.md):"]
    if missing:
        message.append("  operations without an entry in MATRIX (tests/functional/authorization):")
        message += [f"    {key!r}: Spec(<builder>, <grid>)," for key in missing]
    if stale:
        message.append("  entries for operations that no longer exist (remove them):")
        message += [f"    {key!r}" for key in stale]
    if missing or stale:
        pytest.fail("\n".join(message), pytrace=False)


@pytest.mark.parametrize(("method", "template"), list(MATRIX))
def test_matrix(matrix: Matrix, method: str, template: str) -> None:
    failures = matrix.run(method, template)
    assert not failures, f"{len(failures)} failures on {matrix.backend}:\n" + "\n".join(failures)


def test_phone_booking_knows_only_registered_patients(matrix: Matrix) -> None:
    """A practice books by phone only the patients of its registry: any other patient, however
    real (somebody's own record, another practice's patient), answers exactly like a missing one
    (404 on ``patient_id``). The grid of ``book_by_practice`` covers the registered desk patient."""
    scene = matrix.scene
    template = PRACTICE + "/appointments"
    bookers = {"A": ("secretary", "practitioner", "admin"), "B": ("other_admin",)}
    failures = []

    def booking(site: Site, patient_id: UUID) -> Call:
        body = {
            "practitioner_id": str(site.practitioner_id),
            "duration_minutes": 20,
            "patient_id": str(patient_id),
            "starts_at": PLACEHOLDER_TIME.isoformat(),
        }
        return Call(f"{P}/{site.practice_id}/appointments", json=body)

    for site_name, roles in bookers.items():
        site = scene.sites[site_name]
        for role in roles:
            missing = matrix.send("POST", template, role, booking(site, uuid.uuid4()))
            problems = matrix.judge(role, "404", missing)
            if json.loads(missing.content).get("field") != "patient_id":
                problems.append(f"a missing patient is not a 404 on patient_id: {missing.text}")
            for what, patient_id in scene.unregistered[site_name].items():
                response = matrix.send("POST", template, role, booking(site, patient_id))
                scene.cases += 1
                problems += [f"{what}: {p}" for p in matrix.judge(role, "404", response)]
                if shape(response) != shape(missing):
                    problems.append(f"{what} differs from a missing one: {response.text[:300]}")
            failures += [f"{role} books by phone at {site_name}: {p}" for p in problems]
    assert not failures, "\n".join(failures)
