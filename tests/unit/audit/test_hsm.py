"""The audit log's PKCS#11 signer against a real SoftHSM2 token (tests/softhsm.py).

Every test of this module shares one token directory: SoftHSM reads it once per process. Each test
uses keys of its own labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import AttributeSensitive
from pkcs11.util.ec import encode_named_curve_parameters
from pydantic import SecretStr

from colloque.audit.hsm import (
    ED25519_OID,
    HsmError,
    Pkcs11Signer,
    TokenKey,
    _public_key_bytes,
    generate_key,
)
from colloque.audit.signing import SigningKeyError, signer_from_settings
from colloque.config import Environment, Settings
from colloque.crypto.errors import CryptoError
from colloque.crypto.transparency import Checkpoint, signed_note, verify_checkpoint
from tests.softhsm import PIN, make_tokens, softhsm_module

TOKEN = "colloque-audit"
ORIGIN = "colloque.example/audit"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    library = softhsm_module()
    conf = make_tokens(tmp_path_factory.mktemp("softhsm"), [TOKEN, "twin", "twin"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        yield library


def key_named(module: Path, label: str, *, pin: str = PIN, token: str = TOKEN) -> TokenKey:
    return TokenKey(module=module, token_label=token, key_label=label, pin=pin)


def test_a_key_made_on_the_token_signs_checkpoints_that_verify(module: Path) -> None:
    key = key_named(module, "checkpoints")
    public = generate_key(key)
    signer = Pkcs11Signer(key)
    try:
        assert signer.public_key == public
        assert len(public) == 32
        checkpoint = Checkpoint(ORIGIN, 7, bytes(range(32)))
        note = signed_note(checkpoint, public_key=public, sign=signer.sign)
        assert verify_checkpoint(note, origin=ORIGIN, log_public_key=public) == checkpoint
        # The token signs what it is given, and a signature of anything else does not verify.
        other = Checkpoint(ORIGIN, 8, bytes(range(32)))
        with pytest.raises(CryptoError):
            signed_note(
                checkpoint,
                public_key=public,
                sign=lambda _text: signer.sign(other.note_text().encode()),
            )
        forged = note.replace(note.split()[-1], note.split()[-1][::-1])
        with pytest.raises(CryptoError):
            verify_checkpoint(forged, origin=ORIGIN, log_public_key=public)
    finally:
        signer.close()


def test_the_private_key_never_leaves_the_token(module: Path) -> None:
    key = key_named(module, "kept")
    generate_key(key)
    token = pkcs11.lib(str(module)).get_token(token_label=TOKEN)
    signer = Pkcs11Signer(key)  # logged in: the token's sessions may now see private objects
    try:
        with token.open() as session:
            private = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC_EDWARDS, label="kept")
            assert private[Attribute.SENSITIVE] is True
            assert private[Attribute.EXTRACTABLE] is False
            assert private[Attribute.NEVER_EXTRACTABLE] is True
            with pytest.raises(AttributeSensitive):
                private[Attribute.VALUE]
    finally:
        signer.close()


def test_two_signers_of_one_process_share_the_token_login(module: Path) -> None:
    key = key_named(module, "shared")
    generate_key(key)
    first, second = Pkcs11Signer(key), Pkcs11Signer(key)
    try:
        assert first.sign(b"m") == second.sign(b"m")  # Ed25519 is deterministic
    finally:
        first.close()
        second.close()


def test_a_closed_signer_says_it_did_not_sign(module: Path) -> None:
    key = key_named(module, "closed")
    generate_key(key)
    signer = Pkcs11Signer(key)
    signer.close()
    with pytest.raises(HsmError, match=f"token '{TOKEN}' .*: signing failed"):
        signer.sign(b"m")


def test_a_wrong_pin_is_a_clear_error_without_the_pin(module: Path) -> None:
    generate_key(key_named(module, "guarded"))
    for attempt in (
        lambda: Pkcs11Signer(key_named(module, "guarded", pin="0000")),
        lambda: generate_key(key_named(module, "another", pin="0000")),
    ):
        with pytest.raises(HsmError, match=f"the PIN of token '{TOKEN}' of .* is wrong") as error:
            attempt()
        assert "0000" not in str(error.value)


@pytest.mark.parametrize(
    ("token", "label", "message"),
    [
        ("nowhere", "any", "no token 'nowhere'"),
        ("twin", "any", "several tokens are labelled 'twin'"),
        (TOKEN, "never-made", "holds no Ed25519 key labelled 'never-made'.*hsm-keygen"),
    ],
    ids=["no-token", "two-tokens", "no-key"],
)
def test_what_is_not_on_the_token_is_named(
    module: Path, token: str, label: str, message: str
) -> None:
    with pytest.raises(HsmError, match=message):
        Pkcs11Signer(key_named(module, label, token=token))


def test_a_module_that_does_not_load_is_named(module: Path, tmp_path: Path) -> None:
    library = tmp_path / "not-a-module.so"
    library.write_bytes(b"not a shared library")
    with pytest.raises(HsmError, match=r"opening a session failed .*not-a-module\.so"):
        Pkcs11Signer(TokenKey(module=library, token_label=TOKEN, key_label="k", pin=PIN))


def test_keygen_refuses_a_label_in_use(module: Path) -> None:
    key = key_named(module, "once")
    generate_key(key)
    with pytest.raises(HsmError, match="already holds a key labelled 'once'"):
        generate_key(key)


def test_two_keys_of_one_label_are_refused(module: Path) -> None:
    token = pkcs11.lib(str(module)).get_token(token_label=TOKEN)
    generate_key(key_named(module, "doubled"))
    with token.open(rw=True, user_pin=PIN) as session:
        session.generate_keypair(
            KeyType.EC_EDWARDS,
            store=True,
            label="doubled",
            mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
            public_template={Attribute.EC_PARAMS: encode_named_curve_parameters(ED25519_OID)},
        )
    with pytest.raises(HsmError, match="several keys labelled 'doubled'"):
        Pkcs11Signer(key_named(module, "doubled"))


def test_a_public_key_is_read_raw_or_as_a_der_octet_string() -> None:
    raw = bytes(range(32))
    assert _public_key_bytes(raw) == raw
    assert _public_key_bytes(b"\x04\x20" + raw) == raw
    with pytest.raises(HsmError, match="not a 32-byte Ed25519 key"):
        _public_key_bytes(b"\x04\x21" + raw + b"\x00")


def test_the_settings_choose_the_token_or_the_key_file(module: Path, tmp_path: Path) -> None:
    generate_key(key_named(module, "configured"))
    token_settings = Settings(
        audit_pkcs11_module=module,
        audit_pkcs11_token_label=TOKEN,
        audit_pkcs11_pin=SecretStr(PIN),
        audit_pkcs11_key_label="configured",
    )
    signer = signer_from_settings(token_settings)
    assert isinstance(signer, Pkcs11Signer)
    signer.close()
    key_file = signer_from_settings(Settings(audit_signing_key_file=tmp_path / "audit-key"))
    assert not isinstance(key_file, Pkcs11Signer)
    assert (tmp_path / "audit-key").exists()
    wrong = token_settings.model_copy(update={"audit_pkcs11_pin": SecretStr("0000")})
    with pytest.raises(SigningKeyError, match="is wrong"):
        signer_from_settings(wrong)
    incomplete = token_settings.model_copy(update={"audit_pkcs11_pin": None})
    with pytest.raises(SigningKeyError, match="COLLOQUE_AUDIT_PKCS11_PIN must be set"):
        signer_from_settings(incomplete)


def test_production_with_a_token_needs_no_key_file(module: Path) -> None:
    Settings(
        environment=Environment.PRODUCTION,
        secret_key=SecretStr("k" * 40),
        database_url="postgresql://x/y",
        key_directory_log_key=SecretStr(bytes(range(32)).hex()),
        audit_pkcs11_module=module,
        audit_pkcs11_token_label=TOKEN,
        audit_pkcs11_pin=SecretStr(PIN),
    ).check_production()
