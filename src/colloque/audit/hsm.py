"""The audit log's checkpoint signer on a PKCS#11 token (an HSM; SoftHSM2 in the tests).

The Ed25519 key pair is made on the token (CKK_EC_EDWARDS, curve Ed25519) as sensitive and not
extractable, so the private key never leaves it: the server hands the token each checkpoint to sign
(CKM_EDDSA) and reads back only the signature and the public key. The token's PIN is a setting
(``COLLOQUE_AUDIT_PKCS11_PIN``), never logged nor put in an error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import (
    MultipleTokensReturned,
    NoSuchToken,
    PinIncorrect,
    PinLenRange,
    PKCS11Error,
    UserAlreadyLoggedIn,
)
from pkcs11.types import SignMixin
from pkcs11.util.ec import encode_named_curve_parameters

from colloque.config import Settings

#: RFC 8410's id-Ed25519: the curve a token's CKA_EC_PARAMS names for an Ed25519 key.
ED25519_OID = "1.3.101.112"
PUBLIC_KEY_BYTES = 32
#: CKA_EC_POINT of an Ed25519 key as most tokens give it: a DER OCTET STRING of 32 bytes.
_DER_OCTET_STRING_32 = b"\x04\x20"


class HsmError(Exception):
    """The token, its key or its PIN cannot be used; the message says which and why."""


@dataclass(frozen=True)
class TokenKey:
    """Where the key is: the module (the vendor's PKCS#11 library), the token, the key's label."""

    module: Path
    token_label: str
    key_label: str
    pin: str = field(repr=False)

    def describe(self) -> str:
        return f"token {self.token_label!r} of {self.module}"


def token_key_from_settings(settings: Settings) -> TokenKey | None:
    """The key ``COLLOQUE_AUDIT_PKCS11_*`` name, or None when no module is set."""
    if settings.audit_pkcs11_module is None:
        return None
    if not settings.audit_pkcs11_token_label or settings.audit_pkcs11_pin is None:
        raise HsmError(
            "COLLOQUE_AUDIT_PKCS11_TOKEN_LABEL and COLLOQUE_AUDIT_PKCS11_PIN must be set with "
            "COLLOQUE_AUDIT_PKCS11_MODULE"
        )
    return TokenKey(
        module=settings.audit_pkcs11_module,
        token_label=settings.audit_pkcs11_token_label,
        key_label=settings.audit_pkcs11_key_label,
        pin=settings.audit_pkcs11_pin.get_secret_value(),
    )


@contextmanager
def _refusals(key: TokenKey, doing: str) -> Iterator[None]:
    """The library's exceptions as one HsmError each, saying what to do about it."""
    where = key.describe()
    try:
        yield
    except NoSuchToken:
        raise HsmError(f"no {where}") from None
    except MultipleTokensReturned:
        raise HsmError(f"several tokens are labelled {key.token_label!r} in {key.module}") from None
    except (PinIncorrect, PinLenRange):
        raise HsmError(f"the PIN of {where} is wrong") from None
    except PKCS11Error as error:
        # The library's messages name files and states (a module that does not load, a locked
        # PIN), never the PIN itself.
        detail = f": {error}" if str(error) else ""
        raise HsmError(f"{where}: {doing} failed ({type(error).__name__}{detail})") from None


def _open_session(key: TokenKey, *, rw: bool = False) -> pkcs11.Session:
    with _refusals(key, "opening a session"):
        token = pkcs11.lib(str(key.module)).get_token(token_label=key.token_label)
        try:
            return token.open(rw=rw, user_pin=key.pin)
        except UserAlreadyLoggedIn:
            # A login holds for every session of the process: another signer of this process
            # has logged in to this token already.
            return token.open(rw=rw)


def _find(session: pkcs11.Session, key: TokenKey, object_class: ObjectClass) -> pkcs11.Key:
    template = {
        Attribute.CLASS: object_class,
        Attribute.KEY_TYPE: KeyType.EC_EDWARDS,
        Attribute.LABEL: key.key_label,
    }
    # The whole search, not the library's get_key: a search left open fails when its session
    # closes, after the fact.
    with _refusals(key, "finding the key"):
        found = list(session.get_objects(template))
    if not found:
        raise HsmError(
            f"{key.describe()} holds no Ed25519 key labelled {key.key_label!r}: make it with "
            "`colloque audit hsm-keygen`"
        )
    if len(found) > 1:
        raise HsmError(f"{key.describe()} holds several keys labelled {key.key_label!r}")
    return cast(pkcs11.Key, found[0])


def _public_key_bytes(ec_point: bytes) -> bytes:
    if len(ec_point) == PUBLIC_KEY_BYTES:
        return ec_point
    if len(ec_point) == PUBLIC_KEY_BYTES + 2 and ec_point.startswith(_DER_OCTET_STRING_32):
        return ec_point[2:]
    raise HsmError("the token's public key is not a 32-byte Ed25519 key")


class Pkcs11Signer:
    """A :class:`~colloque.audit.interfaces.CheckpointSigner` whose key stays on the token.

    Keeps one logged-in session for its life; signing is serialised, since a PKCS#11 session runs
    one operation at a time.
    """

    def __init__(self, key: TokenKey) -> None:
        self._key = key
        self._session = _open_session(key)
        try:
            # A private key of a signing type is a SignMixin at run time; the stubs cannot say so.
            self._private = cast(SignMixin, _find(self._session, key, ObjectClass.PRIVATE_KEY))
            public = _find(self._session, key, ObjectClass.PUBLIC_KEY)
            self._public_key = _public_key_bytes(public[Attribute.EC_POINT])
        except HsmError:
            self._session.close()
            raise
        self._lock = threading.Lock()

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def sign(self, message: bytes) -> bytes:
        with self._lock, _refusals(self._key, "signing"):
            return bytes(self._private.sign(message, mechanism=Mechanism.EDDSA))

    def close(self) -> None:
        self._session.close()


def generate_key(key: TokenKey) -> bytes:
    """Make the Ed25519 key pair on the token, stored there under ``key.key_label``, and return
    its public key. Refuses when the label is taken: another key would start another log."""
    with _open_session(key, rw=True) as session:
        with _refusals(key, "looking for the label"):
            taken = list(session.get_objects({Attribute.LABEL: key.key_label}))
        if taken:
            raise HsmError(f"{key.describe()} already holds a key labelled {key.key_label!r}")
        with _refusals(key, "making the key"):
            public, _private = session.generate_keypair(
                KeyType.EC_EDWARDS,
                store=True,
                label=key.key_label,
                mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
                public_template={Attribute.EC_PARAMS: encode_named_curve_parameters(ED25519_OID)},
                private_template={
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.PRIVATE: True,
                },
            )
            return _public_key_bytes(public[Attribute.EC_POINT])
