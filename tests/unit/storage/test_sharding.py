"""The schema is ready to be distributed by practice (Citus): checked from the metadata."""

from __future__ import annotations

from colloque.schema import load_metadata
from colloque.storage.base import SHARD_KEY, ShardKind


def test_every_table_declares_its_shard_kind() -> None:
    for table in load_metadata().tables.values():
        assert table.info.get(SHARD_KEY) in set(ShardKind), f"{table.name} declares no shard kind"


def test_practice_tables_lead_with_practice_id() -> None:
    metadata = load_metadata()
    practice_tables = {
        name for name, t in metadata.tables.items() if t.info[SHARD_KEY] == ShardKind.PRACTICE
    }
    assert {
        "appointments",
        "visit_types",
        "opening_ranges",
        "waitlist_entries",
        "next_slots",
    } <= practice_tables
    for name in practice_tables:
        table = metadata.tables[name]
        primary = [c.name for c in table.primary_key.columns]
        assert primary[0] == "practice_id", (
            f"{name}: primary key {primary} must start with practice_id"
        )
        for fk in table.foreign_key_constraints:
            target = fk.referred_table
            if target.info[SHARD_KEY] != ShardKind.PRACTICE:
                continue
            local = [c.name for c in fk.columns]
            remote = [e.column.name for e in fk.elements]
            assert "practice_id" in local, f"{name} -> {target.name} must include practice_id"
            assert remote[local.index("practice_id")] == "practice_id"


def test_no_cascade_into_the_audit_log() -> None:
    audit = load_metadata().tables["audit_events"]
    assert not audit.foreign_key_constraints


def test_practitioner_tables_lead_with_practitioner_id_and_stay_off_practice_shards() -> None:
    """One person's time on one shard, whatever practices they work at (docs/scaling.md)."""
    metadata = load_metadata()
    practitioner_tables = {
        name for name, t in metadata.tables.items() if t.info[SHARD_KEY] == ShardKind.PRACTITIONER
    }
    assert practitioner_tables == {"practitioner_busy"}
    for name in practitioner_tables:
        table = metadata.tables[name]
        assert next(c.name for c in table.primary_key.columns) == "practitioner_id"
        for fk in table.foreign_key_constraints:
            assert fk.referred_table.info[SHARD_KEY] == ShardKind.REFERENCE, (
                f"{name} -> {fk.referred_table.name}: only reference tables are reachable"
            )
