"""Tables of accounts, their credentials and keys, sessions, MFA, throttles and invitations.

What the server keeps of a password is an Argon2id hash of the *authentication key* the client
derived from it (docs/accounts.md); the password itself never reaches the server.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from colloque.scheduling.models import ROLES_CHECK
from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

SESSION_KINDS = ("issued", "cookie", "bearer")
CHALLENGE_PURPOSES = ("signup", "email_change", "key_reset")


class Account(Base):
    """Someone who signs in: a patient holder, a practice member, an operator, or several."""

    __tablename__ = "accounts"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True, nullable=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: The language of the mail the account receives ("fr" or "en").
    language: Mapped[str] = mapped_column(String(2), default="fr", server_default="fr")
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Reminders by email and SMS (docs/notifications.md, "Reminders"): turned off by the
    #: one-click unsubscribe link of a reminder, back on from the account.
    reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccessToken(Base):
    """A session: a browser cookie, a bearer token from a login, or a token issued in-process.

    Only the SHA-256 of the token (256 random bits) is stored, so a database leak yields no usable
    token. ``issued`` tokens (CLI, demo, tests) only expire at ``expires_at``; login sessions also
    end after their idle timeout and absolute lifetime (``colloque.accounts.sessions``).
    """

    __tablename__ = "access_tokens"
    __table_args__ = (
        Index("ix_access_tokens_account", "account_id"),
        CheckConstraint("kind IN ('issued', 'cookie', 'bearer')", name="kind"),
        CheckConstraint("(kind = 'cookie') = (csrf_hash IS NOT NULL)", name="csrf_for_cookies"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(8), default="issued", server_default="issued")
    #: SHA-256 of the CSRF token of a cookie session (double-submit, checked on unsafe methods).
    csrf_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    #: The second factor was checked when this session opened (issued tokens are vouched for).
    mfa_verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: Touched at most once a minute; NULL until then (``created_at`` counts).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The last fresh proof of the password (and TOTP) in this session, for sensitive changes.
    reauth_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The software it was opened from, as a known device's label ("Firefox / Linux").
    label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The network prefix (/24, /48) of the address it was opened from, as the audit log keeps.
    place: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: An issued token for an integration: only ``expires_at`` ends it, whoever's it is.
    integration: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class KnownDevice(Base):
    """A browser or client an account has signed in from, so that a sign-in from a new one can be
    told to the account's owner (docs/accounts.md, "New device notice").

    The device holds a random token in a long-lived cookie; only its SHA-256 is kept, with a coarse
    label of the software ("Firefox on Linux"): never an address, a version or a fingerprint.
    """

    __tablename__ = "account_devices"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    device_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Credentials(Base):
    """What the server needs to check a login and a recovery, and nothing it could reuse."""

    __tablename__ = "account_credentials"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    #: ``KdfParams.to_bytes()``: handed out before login so the client can derive its keys.
    kdf_params: Mapped[bytes] = mapped_column(LargeBinary(64))
    #: ``hash_auth_key(auth_key)``: an Argon2id PHC string.
    auth_key_hash: Mapped[str] = mapped_column(String(255))
    #: The same pair for the authentication key derived from the show-once recovery code.
    recovery_kdf_params: Mapped[bytes] = mapped_column(LargeBinary(64))
    recovery_auth_key_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the current recovery code was made (sign-up, recovery, key reset or renewal).
    recovery_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the current code last opened a recovery (proved, with the second factor), if ever:
    #: a recovery that was started and not finished leaves the code in place, and its owner
    #: should know.
    recovery_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KeyBundleRow(Base):
    """The account's public keys and its private keys sealed under the KEK and the recovery code."""

    __tablename__ = "account_keys"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer)
    encryption_public: Mapped[bytes] = mapped_column(LargeBinary(32))
    signing_public: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_by_password: Mapped[bytes] = mapped_column(LargeBinary(1024))
    sealed_by_recovery: Mapped[bytes] = mapped_column(LargeBinary(1024))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EmailChallenge(Base):
    """A code mailed to prove control of an address: for a sign-up, an email change or a key reset."""

    __tablename__ = "email_challenges"
    __table_args__ = (
        CheckConstraint("purpose IN ('signup', 'email_change', 'key_reset')", name="purpose"),
        # A key reset names its account only when the address has one (docs/accounts.md).
        CheckConstraint(
            "purpose = 'key_reset' OR (purpose = 'email_change') = (account_id IS NOT NULL)",
            name="account_for_change",
        ),
        Index("ix_email_challenges_token", "token_hash", unique=True),
        {"info": shard(ShardKind.GLOBAL)},
    )

    challenge_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(320))
    #: The account whose address changes (email_change), or whose keys are reset (key_reset, when
    #: the address had an account).
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=True
    )
    #: Keyed hash of the code (HMAC with a key derived from COLLOQUE_SECRET_KEY).
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: After a right code: the SHA-256 of the sign-up (or key reset) token; for a sign-up, the
    #: account id to create.
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    new_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class RecoveryGrant(Base):
    """Proof that someone holds an account's recovery code (and second factor): 15 minutes to
    set a new password with it, once."""

    __tablename__ = "recovery_grants"
    __table_args__ = (
        Index("ix_recovery_grants_account", "account_id"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TotpFactor(Base):
    """An account's TOTP seed, pending until a first code confirms it."""

    __tablename__ = "account_totp"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    #: ``colloque.accounts.secrets.seal_server_secret`` of the base32 seed.
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary(255))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The last 30-second step accepted: a code is never accepted twice.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MfaRecoveryCode(Base):
    """One of the ten single-use codes that replace a TOTP code. Only a hash is stored."""

    __tablename__ = "mfa_recovery_codes"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Throttle(Base):
    """A counter for one key: failed logins of an email or an IP, codes mailed to an address...

    Keys never hold personal data in clear: emails appear as a keyed hash.
    """

    __tablename__ = "throttles"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: How many times the key was locked in a row: each lock lasts twice as long as the last.
    lock_count: Mapped[int] = mapped_column(Integer, default=0)


#: A practitioner invitation names an agenda of the practice, or else is for somebody who
#: already practises at another practice and brings their own practitioner (and gets an agenda
#: here on accepting); other roles have neither.
PRACTITIONER_LINKED = (
    "(role = 'practitioner' AND (practitioner_id IS NOT NULL) <> practises_elsewhere)"
    " OR (role <> 'practitioner' AND practitioner_id IS NULL AND NOT practises_elsewhere)"
)


class PracticeInvitation(Base):
    """An invitation to join a practice, mailed to an address; single use, valid 7 days."""

    __tablename__ = "practice_invitations"
    __table_args__ = (
        CheckConstraint(ROLES_CHECK, name="role"),
        CheckConstraint(PRACTITIONER_LINKED, name="practitioner_linked"),
        ForeignKeyConstraint(
            ["practice_id", "practitioner_id"],
            ["practice_practitioners.practice_id", "practice_practitioners.practitioner_id"],
            ondelete="CASCADE",
        ),
        Index("ix_practice_invitations_token", "practice_id", "token_hash", unique=True),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    invitation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: For a practitioner of another practice on this Colloque, whose own account accepts it.
    practises_elsewhere: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    invited_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
