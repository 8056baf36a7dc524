"""A user's key bundle: sealed under the KEK and under a recovery code."""

from __future__ import annotations

import uuid

import pytest

from colloque.crypto import keys
from colloque.crypto._encoding import EnvelopeType
from colloque.crypto.errors import DecryptionFailed, MalformedEnvelope, WeakParameters, WrongContext
from colloque.crypto.keys import RecoveryCode
from colloque.crypto.transparency import KeyPurpose, SubjectKind
from tests.unit.crypto.helpers import CHEAP, flip

USER = uuid.UUID("a0000000-0000-4000-8000-0000000000aa")
KEK = bytes(range(32))


@pytest.fixture(scope="module")
def created() -> keys.NewKeyBundle:
    return keys.create_key_bundle(USER, KEK, recovery_cost=CHEAP, insecure_allow_weak_cost=True)


def test_sizes_and_public_keys(created: keys.NewKeyBundle) -> None:
    bundle = created.bundle
    assert len(bundle.sealed_by_password) == 190
    assert len(bundle.sealed_by_recovery) == 217
    assert bundle.sealed_by_password[:2] == b"\x01\x01"
    assert bundle.sealed_by_recovery[:2] == b"\x01\x02"
    assert (bundle.encryption_public, bundle.signing_public) == (
        created.keys.encryption_public,
        created.keys.signing_public,
    )
    encryption, signing = bundle.bindings()
    assert encryption == created.keys.encryption_binding()
    assert signing == created.keys.signing_binding()
    assert (encryption.subject_kind, encryption.purpose) == (
        SubjectKind.USER,
        KeyPurpose.ENCRYPTION,
    )


def test_unlock_with_kek(created: keys.NewKeyBundle) -> None:
    unlocked = keys.unlock_with_kek(created.bundle.sealed_by_password, user_id=USER, kek=KEK)
    assert unlocked == created.keys


def test_unlock_with_recovery_code_as_typed(created: keys.NewKeyBundle) -> None:
    typed = " " + created.recovery_code.text.lower().replace("-", " ") + " "
    unlocked = keys.unlock_with_recovery_code(
        created.bundle.sealed_by_recovery,
        user_id=USER,
        recovery_code=typed,
        insecure_allow_weak_cost=True,
    )
    assert unlocked == created.keys


def test_recovery_envelope_keeps_its_weak_cost_refused_by_default(
    created: keys.NewKeyBundle,
) -> None:
    with pytest.raises(WeakParameters):
        keys.unlock_with_recovery_code(
            created.bundle.sealed_by_recovery,
            user_id=USER,
            recovery_code=created.recovery_code,
        )


def test_wrong_kek_or_code_fails(created: keys.NewKeyBundle) -> None:
    with pytest.raises(DecryptionFailed):
        keys.unlock_with_kek(created.bundle.sealed_by_password, user_id=USER, kek=bytes(32))
    with pytest.raises(DecryptionFailed):
        keys.unlock_with_recovery_code(
            created.bundle.sealed_by_recovery,
            user_id=USER,
            recovery_code=RecoveryCode(bytes(20)),
            insecure_allow_weak_cost=True,
        )


def test_another_users_envelope_is_refused(created: keys.NewKeyBundle) -> None:
    with pytest.raises(WrongContext):
        keys.unlock_with_kek(created.bundle.sealed_by_password, user_id=uuid.uuid4(), kek=KEK)


@pytest.mark.parametrize("index", [2, 18, 21, 22, 54, 86, 109, 110, 189])
def test_any_flipped_bit_fails(created: keys.NewKeyBundle, index: int) -> None:
    tampered = flip(created.bundle.sealed_by_password, index)
    with pytest.raises((DecryptionFailed, WrongContext)):
        keys.unlock_with_kek(tampered, user_id=USER, kek=KEK)


def test_envelope_types_and_lengths_are_checked(created: keys.NewKeyBundle) -> None:
    sealed = created.bundle.sealed_by_password
    for bad in (sealed[:-1], sealed + b"\x00", flip(sealed, 0), flip(sealed, 1)):
        with pytest.raises(MalformedEnvelope):
            keys.unlock_with_kek(bad, user_id=USER, kek=KEK)
    with pytest.raises(MalformedEnvelope):
        keys.unlock_with_kek(created.bundle.sealed_by_recovery, user_id=USER, kek=KEK)


def test_sealed_keys_must_match_their_public_keys(created: keys.NewKeyBundle) -> None:
    other = keys._keys_from_secrets(USER, 1, bytes(32), bytes(32))
    liar = keys.UserKeys(
        user_id=USER,
        epoch=1,
        encryption_public=created.keys.encryption_public,
        encryption_secret=other.encryption_secret,
        signing_public=created.keys.signing_public,
        signing_seed=other.signing_seed,
        signing_secret=other.signing_secret,
    )
    sealed = keys._seal(liar, KEK, EnvelopeType.PRIVATE_KEYS_LOGIN, None, bytes(24))
    with pytest.raises(DecryptionFailed):
        keys.unlock_with_kek(sealed, user_id=USER, kek=KEK)


def test_password_change_rewraps(created: keys.NewKeyBundle) -> None:
    new_kek = bytes(range(32, 64))
    rewrapped = keys.rewrap_for_new_kek(
        created.bundle.sealed_by_password, user_id=USER, old_kek=KEK, new_kek=new_kek
    )
    assert keys.unlock_with_kek(rewrapped, user_id=USER, kek=new_kek) == created.keys
    with pytest.raises(DecryptionFailed):
        keys.unlock_with_kek(rewrapped, user_id=USER, kek=KEK)
    assert rewrapped[:86] == created.bundle.sealed_by_password[:86]
    assert rewrapped[86:110] != created.bundle.sealed_by_password[86:110]  # fresh nonce


def test_new_recovery_code(created: keys.NewKeyBundle) -> None:
    sealed, code = keys.new_recovery_envelope(
        created.keys, cost=CHEAP, insecure_allow_weak_cost=True
    )
    assert code != created.recovery_code
    unlocked = keys.unlock_with_recovery_code(
        sealed, user_id=USER, recovery_code=code.text, insecure_allow_weak_cost=True
    )
    assert unlocked == created.keys
    assert keys.unlock_with_kek(keys.seal_for_kek(unlocked, KEK), user_id=USER, kek=KEK) == unlocked


def test_create_with_the_real_interactive_recovery_cost() -> None:
    created = keys.create_key_bundle(USER, KEK)
    unlocked = keys.unlock_with_recovery_code(
        created.bundle.sealed_by_recovery, user_id=USER, recovery_code=created.recovery_code.text
    )
    assert unlocked == created.keys


def test_weak_recovery_cost_is_refused_at_creation() -> None:
    with pytest.raises(WeakParameters):
        keys.create_key_bundle(USER, KEK, recovery_cost=CHEAP)


def test_recovery_code_format() -> None:
    code = RecoveryCode(bytes(range(20)))
    assert code.text == "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT"
    assert RecoveryCode.parse(code.text) == code
    assert "AAAQ" not in repr(code)


@pytest.mark.parametrize(
    "text",
    ["AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQ", "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQ1", ""],
)
def test_malformed_recovery_codes(text: str) -> None:
    with pytest.raises(MalformedEnvelope):
        RecoveryCode.parse(text)


def test_recovery_code_is_20_bytes() -> None:
    with pytest.raises(ValueError, match="20 bytes"):
        RecoveryCode(bytes(19))


def test_user_keys_hide_secrets_in_repr(created: keys.NewKeyBundle) -> None:
    shown = repr(created.keys)
    assert created.keys.encryption_secret.hex() not in shown
    assert repr(created.keys.signing_seed) not in shown


def test_a_reset_bundle_has_the_next_epoch_and_new_keys(created: keys.NewKeyBundle) -> None:
    reset = keys.create_key_bundle(
        USER, KEK, epoch=2, recovery_cost=CHEAP, insecure_allow_weak_cost=True
    )
    assert reset.keys.epoch == reset.bundle.epoch == 2
    assert reset.keys.encryption_binding().epoch == 2
    assert reset.keys.encryption_public != created.keys.encryption_public
    assert keys.unlock_with_kek(reset.bundle.sealed_by_password, user_id=USER, kek=KEK).epoch == 2


@pytest.mark.parametrize("epoch", [0, -1, 2**32])
def test_an_epoch_out_of_range_is_refused(epoch: int) -> None:
    with pytest.raises(ValueError, match="epoch"):
        keys.create_key_bundle(USER, KEK, epoch=epoch)


def test_the_server_reads_the_clear_header_of_both_sealed_copies(
    created: keys.NewKeyBundle,
) -> None:
    bundle = created.bundle
    expected = keys.SealedKeysHeader(1, bundle.encryption_public, bundle.signing_public)
    assert keys.read_sealed_keys_header(bundle.sealed_by_password, user_id=USER) == expected
    by_recovery = keys.read_sealed_keys_header(
        bundle.sealed_by_recovery, user_id=USER, by_recovery=True
    )
    assert by_recovery == expected
    with pytest.raises(MalformedEnvelope):
        keys.read_sealed_keys_header(bundle.sealed_by_recovery, user_id=USER)
    with pytest.raises(WrongContext):
        keys.read_sealed_keys_header(bundle.sealed_by_password, user_id=uuid.uuid4())
