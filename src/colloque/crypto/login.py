"""Login: password -> Argon2id master key -> authentication key and key-encryption key (KEK).

Client side: :func:`derive_login_keys`. Server side: :func:`new_kdf_params`, :func:`hash_auth_key`,
:func:`verify_auth_key`, :func:`auth_key_needs_rehash`, :func:`fake_salt_for` and
:func:`fake_kdf_params_for`. Formats and parameters: docs/crypto.md, section 4.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import AuthenticationFailed, MalformedEnvelope, WeakParameters

MIB = 1024 * 1024
SALT_BYTES = 16
KEY_BYTES = 32
LOGIN_CONTEXT = b"CQ-login"
AUTH_KEY_ID = 1
KEK_ID = 2
ALGORITHM_ARGON2ID13 = 0x02
KDF_PARAMS_BYTES = 27
FAKE_SALT_CONTEXT = b"colloque/fake-salt/v1"


@dataclass(frozen=True)
class Argon2Cost:
    """Argon2id cost as libsodium takes it: passes (opslimit) and memory in bytes (memlimit)."""

    opslimit: int
    memlimit: int


#: What clients use by default: 3 passes over 64 MiB.
INTERACTIVE_COST = Argon2Cost(opslimit=3, memlimit=64 * MIB)
#: OWASP ASVS 5.0 / Password Storage Cheat Sheet floor for Argon2id: m >= 19 MiB, t >= 2.
ASVS_MINIMUM_COST = Argon2Cost(opslimit=2, memlimit=19 * MIB)
#: Above this a client refuses, so that a server cannot make it hang or exhaust memory.
MAXIMUM_COST = Argon2Cost(opslimit=10, memlimit=1024 * MIB)


def check_cost(cost: Argon2Cost, *, insecure_allow_weak_cost: bool = False) -> None:
    """Raise WeakParameters unless the floor <= cost <= the ceiling (the floor only for tests)."""
    too_weak = (
        cost.opslimit < ASVS_MINIMUM_COST.opslimit or cost.memlimit < ASVS_MINIMUM_COST.memlimit
    )
    if too_weak and not insecure_allow_weak_cost:
        raise WeakParameters("Argon2id parameters are below the accepted minimum")
    if cost.opslimit > MAXIMUM_COST.opslimit or cost.memlimit > MAXIMUM_COST.memlimit:
        raise WeakParameters("Argon2id parameters are above the accepted maximum")


@dataclass(frozen=True)
class KdfParams:
    """What the server stores per user and hands out before login: algorithm, cost and salt."""

    salt: bytes
    cost: Argon2Cost = INTERACTIVE_COST

    def __post_init__(self) -> None:
        if len(self.salt) != SALT_BYTES:
            raise ValueError("the salt must be 16 bytes")

    def to_bytes(self) -> bytes:
        return (
            prefix(EnvelopeType.KDF_PARAMS)
            + bytes((ALGORITHM_ARGON2ID13,))
            + u32(self.cost.opslimit)
            + u32(self.cost.memlimit)
            + self.salt
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> KdfParams:
        """Parse (without judging the cost: derivation does that)."""
        reader = Reader(data, EnvelopeType.KDF_PARAMS)
        if reader.u8() != ALGORITHM_ARGON2ID13:
            raise MalformedEnvelope("unsupported key-derivation algorithm")
        opslimit = reader.u32()
        memlimit = reader.u32()
        salt = reader.take(SALT_BYTES)
        reader.end()
        return cls(salt=salt, cost=Argon2Cost(opslimit=opslimit, memlimit=memlimit))


@dataclass(frozen=True)
class LoginKeys:
    """The two keys derived from a password. ``auth_key`` goes to the server; ``kek`` never does."""

    auth_key: bytes = field(repr=False)
    kek: bytes = field(repr=False)


def stretch(secret: bytes, params: KdfParams, *, insecure_allow_weak_cost: bool = False) -> bytes:
    """Argon2id of ``secret`` under ``params`` (cost checked first): the 32-byte master key."""
    check_cost(params.cost, insecure_allow_weak_cost=insecure_allow_weak_cost)
    return _sodium.argon2id(secret, params.salt, params.cost.opslimit, params.cost.memlimit)


def derive_login_keys(
    password: str, params: KdfParams | bytes, *, insecure_allow_weak_cost: bool = False
) -> LoginKeys:
    """Client side: the authentication key and the KEK for ``password``.

    ``params`` is what the server handed out (bytes are parsed). Parameters below the OWASP ASVS floor
    raise WeakParameters unless ``insecure_allow_weak_cost`` is set, which only tests may do.
    """
    if isinstance(params, bytes):
        params = KdfParams.from_bytes(params)
    password_bytes = unicodedata.normalize("NFC", password).encode("utf-8")
    master = stretch(password_bytes, params, insecure_allow_weak_cost=insecure_allow_weak_cost)
    return LoginKeys(
        auth_key=_sodium.kdf_derive(master, AUTH_KEY_ID, LOGIN_CONTEXT),
        kek=_sodium.kdf_derive(master, KEK_ID, LOGIN_CONTEXT),
    )


# Server side ----------------------------------------------------------------------------------------


def new_kdf_params(cost: Argon2Cost = INTERACTIVE_COST) -> KdfParams:
    """Server side, at sign-up or password change: parameters with a fresh random salt."""
    return KdfParams(salt=_sodium.random_bytes(SALT_BYTES), cost=cost)


def _normalise_email(email: str) -> bytes:
    # The accounts module's normalisation: surrounding spaces stripped, lower-case.
    return email.strip().lower().encode("utf-8")


def fake_salt_for(email: str, server_secret: bytes) -> bytes:
    """A stable salt for an email with no account, so that the answer reveals nothing.

    BLAKE2b-128 keyed with ``server_secret`` (32 to 64 bytes, kept on the server) of the normalised
    email. The same email always gets the same salt; without the secret it cannot be told from a real one.
    """
    if not 32 <= len(server_secret) <= 64:
        raise ValueError("the server secret must be 32 to 64 bytes")
    return _sodium.blake2b(
        FAKE_SALT_CONTEXT + _normalise_email(email), length=SALT_BYTES, key=server_secret
    )


def fake_kdf_params_for(
    email: str, server_secret: bytes, cost: Argon2Cost = INTERACTIVE_COST
) -> KdfParams:
    """What to hand out for an unknown email: the current cost and :func:`fake_salt_for`."""
    return KdfParams(salt=fake_salt_for(email, server_secret), cost=cost)


#: argon2-cffi parameters for the stored hash of the authentication key: the ASVS floor
#: (t=2, m=19 MiB, p=1). The key already carries the client's Argon2id cost.
_AUTH_KEY_HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


def hash_auth_key(auth_key: bytes) -> str:
    """Server side: the PHC string to store for an authentication key."""
    if len(auth_key) != KEY_BYTES:
        raise ValueError("an authentication key is 32 bytes")
    return _AUTH_KEY_HASHER.hash(auth_key)


@functools.cache
def _dummy_hash() -> str:
    return _AUTH_KEY_HASHER.hash(bytes(KEY_BYTES))


def verify_auth_key(stored_hash: str | None, auth_key: bytes) -> None:
    """Server side: raise AuthenticationFailed unless ``auth_key`` matches ``stored_hash``.

    Pass ``stored_hash=None`` when the account does not exist: a dummy hash of the same cost is checked
    and the call raises, so timing does not reveal which accounts exist.
    """
    if len(auth_key) != KEY_BYTES:
        raise AuthenticationFailed("authentication failed")
    try:
        _AUTH_KEY_HASHER.verify(stored_hash or _dummy_hash(), auth_key)
    except (VerificationError, InvalidHashError):
        raise AuthenticationFailed("authentication failed") from None
    if stored_hash is None:
        raise AuthenticationFailed("authentication failed")


def auth_key_needs_rehash(stored_hash: str) -> bool:
    """Server side, after a successful verification: is the stored hash's cost out of date?"""
    return _AUTH_KEY_HASHER.check_needs_rehash(stored_hash)
