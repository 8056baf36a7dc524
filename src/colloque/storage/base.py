"""The declarative base and the sharding vocabulary every table declares.

Each table says in ``__table_args__`` info which kind it is (see :class:`ShardKind`).
A test reads the metadata and checks the rules that make the schema distributable by practice (Citus):
practice-owned tables carry ``practice_id`` first in their primary key and in every foreign key
to another practice-owned table.
"""

from __future__ import annotations

import enum

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ShardKind(enum.StrEnum):
    #: Owned by one practice; distributed by practice_id.
    PRACTICE = "practice"
    #: Small, shared by all practices and read everywhere (a Citus reference table).
    REFERENCE = "reference"
    #: Keyed by something else than a practice (accounts, the audit chain); stays on the coordinator
    #: or is distributed by its own key.
    GLOBAL = "global"
    #: Keyed by practitioner_id, distributed by it (the busy ledger, docs/scaling.md): one person's
    #: time across every practice they work at, on one shard.
    PRACTITIONER = "practitioner"


SHARD_KEY = "shard"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def shard(kind: ShardKind) -> dict[str, str]:
    """The ``info`` entry a table declares, e.g. ``__table_args__ = ({"info": shard(...)},)``."""
    return {SHARD_KEY: kind.value}
