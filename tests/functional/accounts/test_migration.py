"""The accounts migration goes up, down and up again on both databases, matching the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from colloque.containment.models import CredentialWindow
from colloque.schema import load_metadata
from colloque.storage.engine import normalise_url
from colloque.storage.migrate import alembic_config
from colloque.storage.types import UTCDateTime
from tests.conftest import _postgres_admin_url


def _round_trip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "0001")
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert "account_credentials" not in tables
            assert "kind" not in {
                c["name"] for c in inspect(connection).get_columns("access_tokens")
            }
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), load_metadata()) == []
    finally:
        engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[str]:
    admin = create_engine(normalise_url(_postgres_admin_url()), isolation_level="AUTOCOMMIT")
    name = f"colloque_migration_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_postgres(empty_postgres: str) -> None:
    _round_trip(empty_postgres)


def _throttle_keys_after_upgrade(url: str) -> set[str]:
    """Throttle rows written by 0010's code (client addresses in clear), then the upgrade."""
    config = alembic_config(url)
    command.upgrade(config, "0010")
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            for key in ("login:ip:203.0.113.9", "codes:ip:2001:db8::1", "login:email:0123abcd"):
                connection.execute(
                    text(
                        "INSERT INTO throttles (key, count, window_started_at, lock_count) "
                        "VALUES (:key, 1, CURRENT_TIMESTAMP, 0)"
                    ),
                    {"key": key},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT key FROM throttles")).scalars())
    finally:
        engine.dispose()


def test_sqlite_throttles_keyed_by_a_clear_address_are_dropped(tmp_path: Path) -> None:
    keys = _throttle_keys_after_upgrade(f"sqlite:///{tmp_path / 'throttles.sqlite3'}")
    assert keys == {"login:email:0123abcd"}


@pytest.mark.postgres
def test_postgres_throttles_keyed_by_a_clear_address_are_dropped(empty_postgres: str) -> None:
    assert _throttle_keys_after_upgrade(empty_postgres) == {"login:email:0123abcd"}


_ACCOUNTS = sa.table(
    "accounts",
    sa.column("account_id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("is_operator", sa.Boolean()),
    sa.column("disabled", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
)
_CREDENTIALS = sa.table(
    "account_credentials",
    sa.column("account_id", sa.Uuid()),
    sa.column("kdf_params", sa.LargeBinary()),
    sa.column("auth_key_hash", sa.String()),
    sa.column("recovery_kdf_params", sa.LargeBinary()),
    sa.column("recovery_auth_key_hash", sa.String()),
    sa.column("password_changed_at", UTCDateTime()),
    sa.column("recovery_created_at", UTCDateTime()),
    sa.column("recovery_used_at", UTCDateTime()),
)
_AUDIT = sa.table(
    "audit_events",
    sa.column("event_id", sa.Uuid()),
    sa.column("at", UTCDateTime()),
    sa.column("action", sa.String()),
    sa.column("actor_account_id", sa.Uuid()),
    sa.column("actor_role", sa.String()),
    sa.column("object_kind", sa.String()),
    sa.column("object_id", sa.Uuid()),
)


def _recovery_dates_after_upgrade(url: str) -> dict[str, tuple[datetime, datetime | None]]:
    """Accounts as 0014 left them: one recovered after its sign-up, one whose password changed
    (which kept the code), one with no event in the audit log; then the upgrade to 0015."""
    config = alembic_config(url)
    command.upgrade(config, "0014")
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    recovered, changed, silent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = [
        (recovered, "accounts:account:create", day),
        (recovered, "accounts:password:recover", day + timedelta(days=5)),
        (recovered, "accounts:session:login", day + timedelta(days=6)),
        (changed, "accounts:account:create", day + timedelta(days=1)),
        (changed, "accounts:password:change", day + timedelta(days=7)),
    ]
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            for n, account_id in enumerate((recovered, changed, silent)):
                connection.execute(
                    _ACCOUNTS.insert().values(
                        account_id=account_id,
                        email=f"{n}@example.test",
                        display_name="Someone",
                        is_operator=False,
                        disabled=False,
                        created_at=day + timedelta(days=n),
                    )
                )
                connection.execute(
                    _CREDENTIALS.insert().values(
                        account_id=account_id,
                        kdf_params=bytes(27),
                        auth_key_hash="$argon2id$",
                        recovery_kdf_params=bytes(27),
                        recovery_auth_key_hash="$argon2id$",
                        password_changed_at=day + timedelta(days=7),
                    )
                )
            for account_id, action, at in events:
                connection.execute(
                    _AUDIT.insert().values(
                        event_id=uuid.uuid4(),
                        at=at,
                        action=action,
                        actor_account_id=account_id,
                        actor_role="patient",
                        object_kind="account",
                        object_id=account_id,
                    )
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    _CREDENTIALS.c.account_id,
                    _CREDENTIALS.c.recovery_created_at,
                    _CREDENTIALS.c.recovery_used_at,
                )
            ).all()
    finally:
        engine.dispose()
    found = {row.account_id: (row.recovery_created_at, row.recovery_used_at) for row in rows}
    return {"recovered": found[recovered], "changed": found[changed], "silent": found[silent]}


def _expected_recovery_dates() -> dict[str, tuple[datetime, datetime | None]]:
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    return {
        # The last event that made a code, not a later login or password change.
        "recovered": (day + timedelta(days=5), None),
        "changed": (day + timedelta(days=1), None),
        # Nothing in the log: the account's creation.
        "silent": (day + timedelta(days=2), None),
    }


def test_sqlite_recovery_code_dates_come_from_the_audit_log(tmp_path: Path) -> None:
    found = _recovery_dates_after_upgrade(f"sqlite:///{tmp_path / 'recovery.sqlite3'}")
    assert found == _expected_recovery_dates()


@pytest.mark.postgres
def test_postgres_recovery_code_dates_come_from_the_audit_log(empty_postgres: str) -> None:
    assert _recovery_dates_after_upgrade(empty_postgres) == _expected_recovery_dates()


_PRACTICES = sa.table(
    "practices",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("practice_id", sa.Uuid()),
            ("name", sa.String()),
            ("address", sa.String()),
            ("postcode", sa.String()),
            ("city", sa.String()),
            ("city_key", sa.String()),
            ("latitude", sa.Float()),
            ("longitude", sa.Float()),
            ("timezone", sa.String()),
            ("cancel_cutoff_minutes", sa.Integer()),
            ("anti_hoarding_days", sa.Integer()),
            ("hold_minutes", sa.Integer()),
            ("created_at", UTCDateTime()),
        )
    ),
)


def _key_table(name: str, *, clinical: bool) -> sa.TableClause:
    """``practice_key_epochs`` or ``practice_key_wraps`` as a migration sees them, with the
    ``clinical`` column (0017 on) or without (before)."""
    columns: dict[str, list[sa.ColumnClause[Any]]] = {
        "practice_key_epochs": [
            sa.column("epoch", sa.BigInteger()),
            sa.column("public_key", sa.LargeBinary()),
            sa.column("leaf_index", sa.BigInteger()),
        ],
        "practice_key_wraps": [
            sa.column("epoch", sa.BigInteger()),
            sa.column("account_id", sa.Uuid()),
            sa.column("wrap", sa.LargeBinary()),
        ],
    }
    return sa.table(
        name,
        sa.column("practice_id", sa.Uuid()),
        sa.column("created_at", UTCDateTime()),
        *columns[name],
        *([sa.column("clinical", sa.Boolean())] if clinical else []),
    )


def _clinical_groups_round_trip(url: str) -> None:
    """0017: a practice's key rows made before it are its practice group's; its practitioners'
    group then has an epoch 1 beside the practice group's; the downgrade drops the latter only."""
    config = alembic_config(url)
    command.upgrade(config, "0016")
    engine = create_engine(normalise_url(url))
    practice, account = uuid.UUID(int=17), uuid.UUID(int=18)
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    epoch = {"practice_id": practice, "epoch": 1, "public_key": bytes(32), "leaf_index": 0}
    wrap = {"practice_id": practice, "epoch": 1, "account_id": account, "wrap": b"w"}
    try:
        with engine.begin() as connection:
            connection.execute(
                _PRACTICES.insert().values(
                    practice_id=practice,
                    name="Cabinet",
                    address="1 rue",
                    postcode="69001",
                    city="Lyon",
                    city_key="lyon",
                    latitude=45.0,
                    longitude=4.0,
                    timezone="Europe/Paris",
                    cancel_cutoff_minutes=0,
                    anti_hoarding_days=0,
                    hold_minutes=5,
                    created_at=at,
                )
            )
            connection.execute(
                _ACCOUNTS.insert().values(
                    account_id=account,
                    display_name="Dr",
                    is_operator=False,
                    disabled=False,
                    created_at=at,
                )
            )
            for name, row in (("practice_key_epochs", epoch), ("practice_key_wraps", wrap)):
                table = _key_table(name, clinical=False)
                connection.execute(table.insert().values(**row, created_at=at))
        command.upgrade(config, "0017")
        with engine.begin() as connection:
            for name, row in (("practice_key_epochs", epoch), ("practice_key_wraps", wrap)):
                table = _key_table(name, clinical=True)
                assert connection.execute(sa.select(table.c.clinical)).scalars().all() == [False]
                # The same practice and epoch, of the other group: the primary keys allow it.
                connection.execute(table.insert().values(**row, clinical=True, created_at=at))
        command.downgrade(config, "0016")
        with engine.connect() as connection:
            epochs = sa.table("practice_key_epochs", sa.column("epoch"))
            wraps = sa.table("practice_key_wraps", sa.column("epoch"))
            assert connection.execute(sa.select(epochs.c.epoch)).scalars().all() == [1]
            assert connection.execute(sa.select(wraps.c.epoch)).scalars().all() == [1]
            columns = {c["name"] for c in inspect(connection).get_columns("practice_key_wraps")}
            assert "clinical" not in columns
    finally:
        engine.dispose()


def test_sqlite_clinical_groups_migrate_both_ways(tmp_path: Path) -> None:
    _clinical_groups_round_trip(f"sqlite:///{tmp_path / 'clinical.sqlite3'}")


@pytest.mark.postgres
def test_postgres_clinical_groups_migrate_both_ways(empty_postgres: str) -> None:
    _clinical_groups_round_trip(empty_postgres)


def _busy_ledger_backfill(url: str) -> set[str]:
    """Active appointments of one practitioner written under 0029, among them a double booking
    across two practices (the hole 0030 closes), then the upgrade: the ledger rows, by label."""
    config = alembic_config(url)
    command.upgrade(config, "0029")
    engine = create_engine(normalise_url(url))
    ids = ("practice_id", "appointment_id", "practitioner_id", "patient_id")
    appointments = sa.table(
        "appointments",
        *(sa.column(name, sa.Uuid()) for name in ids),
        *(sa.column(name) for name in ("specialty", "status", "source")),
        *(
            sa.column(name, UTCDateTime())
            for name in ("starts_at", "ends_at", "blocked_until", "hold_expires_at")
        ),
        *(sa.column(name, UTCDateTime()) for name in ("created_at", "updated_at")),
    )
    practitioner, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    nine = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    labels: dict[uuid.UUID, str] = {}
    rows = (
        ("first", first, 0, "booked"),
        ("double", second, 10, "booked"),  # booked later through the other practice
        ("cancelled", first, 0, "cancelled_by_patient"),
        ("held", first, 60, "held"),
    )
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # The rows' practices, patients and agendas do not matter here.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            practitioners = sa.table(
                "practitioners",
                sa.column("practitioner_id", sa.Uuid()),
                *(sa.column(name) for name in ("title", "first_name", "last_name", "name_key")),
                *(sa.column(name) for name in ("specialty", "languages", "accepts_new_patients")),
                sa.column("created_at", UTCDateTime()),
            )
            connection.execute(
                practitioners.insert().values(
                    practitioner_id=practitioner,
                    title="",
                    first_name="Claire",
                    last_name="Martin",
                    name_key="claire martin | martin claire",
                    specialty="general_practice",
                    languages=",fr,",
                    accepts_new_patients=True,
                    created_at=nine,
                )
            )
            for created, (label, practice, minutes, status) in enumerate(rows):
                appointment_id = uuid.uuid4()
                labels[appointment_id] = label
                starts_at = nine + timedelta(minutes=minutes)
                connection.execute(
                    appointments.insert().values(
                        practice_id=practice,
                        appointment_id=appointment_id,
                        practitioner_id=practitioner,
                        patient_id=uuid.uuid4(),
                        specialty="general_practice",
                        status=status,
                        source="online",
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=20),
                        blocked_until=starts_at + timedelta(minutes=20),
                        hold_expires_at=nine if status == "held" else None,
                        created_at=nine - timedelta(days=10 - created),
                        updated_at=nine - timedelta(days=10 - created),
                    )
                )
        command.upgrade(config, "0030")
        with engine.connect() as connection:
            busy = connection.execute(text("SELECT appointment_id FROM practitioner_busy"))
            found = {labels[uuid.UUID(str(value))] for value in busy.scalars()}
        command.downgrade(config, "0029")
        with engine.connect() as connection:
            assert "practitioner_busy" not in set(inspect(connection).get_table_names())
        return found
    finally:
        engine.dispose()


def test_sqlite_busy_ledger_is_filled_from_active_appointments(tmp_path: Path) -> None:
    # SQLite serialised every booking: it cannot hold the double booking; were it there, it would
    # be copied, there being no constraint to refuse it.
    found = _busy_ledger_backfill(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert found == {"first", "double", "held"}


@pytest.mark.postgres
def test_postgres_busy_ledger_keeps_the_first_of_a_double_booking(empty_postgres: str) -> None:
    assert _busy_ledger_backfill(empty_postgres) == {"first", "held"}


def _invitations(*, elsewhere: bool) -> sa.TableClause:
    """``practice_invitations`` as a revision has it: with ``practises_elsewhere`` from 0033."""
    return sa.table(
        "practice_invitations",
        *(
            sa.column(name, sa.Uuid())
            for name in ("practice_id", "invitation_id", "practitioner_id")
        ),
        sa.column("email", sa.String()),
        sa.column("role", sa.String()),
        sa.column("token_hash", sa.LargeBinary()),
        *(sa.column(name, UTCDateTime()) for name in ("created_at", "expires_at")),
        *([sa.column("practises_elsewhere", sa.Boolean())] if elsewhere else []),
    )


def _invitations_both_ways(url: str) -> list[tuple[str, bool, bool]]:
    """Invitations written under 0032 (a secretary's carrying a practitioner id, which its check
    let through), then 0033 and one for a practitioner who practises elsewhere, then back to 0032
    and up again: each step's rows as (email, has a practitioner id, practises elsewhere)."""
    config = alembic_config(url)
    command.upgrade(config, "0032")
    engine = create_engine(normalise_url(url))
    practice, practitioner = uuid.uuid4(), uuid.uuid4()
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def insert(email: str, role: str, practitioner_id: uuid.UUID | None, **more: Any) -> None:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # The practice and its agenda do not matter here, only the checks.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(
                _invitations(elsewhere=bool(more))
                .insert()
                .values(
                    practice_id=practice,
                    invitation_id=uuid.uuid4(),
                    practitioner_id=practitioner_id,
                    email=email,
                    role=role,
                    token_hash=uuid.uuid4().bytes * 2,
                    created_at=day,
                    expires_at=day + timedelta(days=7),
                    **more,
                )
            )

    def rows() -> list[tuple[str, bool, bool]]:
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("practice_invitations")}
            elsewhere = "practises_elsewhere" if "practises_elsewhere" in columns else "false"
            found = connection.execute(
                text(
                    "SELECT email, practitioner_id IS NOT NULL, "
                    f"{elsewhere} FROM practice_invitations ORDER BY email"
                )
            )
            return [(email, bool(linked), bool(away)) for email, linked, away in found]

    try:
        insert("a.secretary@example.test", "secretary", practitioner)
        insert("b.practitioner@example.test", "practitioner", practitioner)
        steps = rows()
        command.upgrade(config, "0033")
        insert("c.elsewhere@example.test", "practitioner", None, practises_elsewhere=True)
        steps += rows()
        command.downgrade(config, "0032")
        steps += rows()
        command.upgrade(config, "head")
        steps += rows()
        return steps
    finally:
        engine.dispose()


_INVITATION_STEPS = [
    # Under 0032.
    ("a.secretary@example.test", True, False),
    ("b.practitioner@example.test", True, False),
    # 0033: the secretary's practitioner id cleared; one invitation for somebody elsewhere.
    ("a.secretary@example.test", False, False),
    ("b.practitioner@example.test", True, False),
    ("c.elsewhere@example.test", False, True),
    # Back to 0032: that one cannot be stated there.
    ("a.secretary@example.test", False, False),
    ("b.practitioner@example.test", True, False),
    # Up again.
    ("a.secretary@example.test", False, False),
    ("b.practitioner@example.test", True, False),
]


def test_sqlite_invitations_for_practitioners_elsewhere_migrate_both_ways(tmp_path: Path) -> None:
    assert _invitations_both_ways(f"sqlite:///{tmp_path / 'invitations.sqlite3'}") == (
        _INVITATION_STEPS
    )


@pytest.mark.postgres
def test_postgres_invitations_for_practitioners_elsewhere_migrate_both_ways(
    empty_postgres: str,
) -> None:
    assert _invitations_both_ways(empty_postgres) == _INVITATION_STEPS


def _window_revisions_both_ways(url: str) -> tuple[list[int], bool]:
    """A credential's counters row written under 0033, then 0034 (its revision), then back."""
    model = CredentialWindow.__table__.c
    at = datetime(2026, 3, 2, 8, tzinfo=UTC)
    sketch = bytes(2048)
    row: dict[str, Any] = {
        "credential_id": uuid.uuid4(),
        "practice_id": uuid.uuid4(),
        "window_start": at,
        "point_limit": 100.0,
        "points": 1.0,
        "persons": sketch,
        "appointments": sketch,
        "changes": 0,
        "day_start": at,
        "day_limit": 300.0,
        "day_points": 1.0,
        "day_persons": sketch,
        "day_appointments": sketch,
        "day_changes": 0,
    }
    # The table as 0033 has it: the model's column types, without the revision.
    windows = sa.table("containment_windows", *(sa.column(name, model[name].type) for name in row))
    config = alembic_config(url)
    command.upgrade(config, "0033")
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(windows).values(row))
        command.upgrade(config, "0034")
        with engine.connect() as connection:
            revisions = list(
                connection.execute(text("SELECT revision FROM containment_windows")).scalars()
            )
        command.downgrade(config, "0033")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("containment_windows")}
            kept = connection.execute(sa.select(windows.c.points)).scalars().all() == [1.0]
        return revisions, kept and "revision" not in columns
    finally:
        engine.dispose()


def test_sqlite_counter_rows_get_a_revision_and_lose_it(tmp_path: Path) -> None:
    assert _window_revisions_both_ways(f"sqlite:///{tmp_path / 'windows.sqlite3'}") == ([0], True)


@pytest.mark.postgres
def test_postgres_counter_rows_get_a_revision_and_lose_it(empty_postgres: str) -> None:
    assert _window_revisions_both_ways(empty_postgres) == ([0], True)
