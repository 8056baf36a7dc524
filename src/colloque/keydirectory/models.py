"""Tables of the key directory: leaves in log order and the checkpoints signed over them.

The leaf bytes are what the Merkle tree hashes (``KeyBinding.to_leaf``, or a signed statement's
``to_leaf``); the other columns repeat them so that a look-up by subject reads an index. Rows are never updated or deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime


class KeyDirectoryLeaf(Base):
    __tablename__ = "key_directory_leaves"
    __table_args__ = (
        CheckConstraint("leaf_index >= 0", name="index_positive"),
        Index(
            "ix_key_directory_leaves_subject",
            "subject_kind",
            "subject_id",
            "purpose",
            "epoch",
            unique=True,
        ),
        {"info": shard(ShardKind.GLOBAL)},
    )

    #: Position in the log, from 0, without gaps.
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject_kind: Mapped[int] = mapped_column(SmallInteger)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    purpose: Mapped[int] = mapped_column(SmallInteger)
    epoch: Mapped[int] = mapped_column(BigInteger)
    #: NULL for a signed statement (docs/crypto.md, section 5.12), whose purpose is its type byte.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    leaf: Mapped[bytes] = mapped_column(LargeBinary(256))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyDirectoryCheckpoint(Base):
    """A signed note over the first ``tree_size`` leaves (C2SP signed-note format)."""

    __tablename__ = "key_directory_checkpoints"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyDirectoryCosignature(Base):
    """A witness's cosignature line over the checkpoint of ``tree_size`` (tlog-cosignature).

    Verified before it is stored; the API appends the lines of a size to its signed note.
    """

    __tablename__ = "key_directory_cosignatures"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
