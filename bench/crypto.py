"""Time the crypto recipes against the raw libsodium calls they make: `uv run python bench/crypto.py`.

Each row runs a recipe of ``colloque.crypto`` and, interleaved in the same loop, the bare PyNaCl
bindings doing the same cryptographic work (no envelopes, no checks). Medians over the repetitions,
measured with ``time.perf_counter_ns``; the ratio is recipe / raw. This file calls libsodium directly
only to have a baseline; application code never does.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable

from nacl import bindings as raw

from colloque.crypto import documents, groups, items, keys
from colloque.crypto.items import ItemKey

DOCUMENT_BYTES = 20 * 1024 * 1024
MEMBERS = 1000


def _user() -> keys.UserKeys:
    return keys._keys_from_secrets(uuid.uuid4(), 1, os.urandom(32), os.urandom(32))


def _measure(
    ours: Callable[[], object], baseline: Callable[[], object], repetitions: int
) -> tuple[float, float]:
    """Medians in seconds, the two alternating so that drift hits both alike."""
    ours_ns: list[int] = []
    raw_ns: list[int] = []
    for i in range(repetitions):
        pair = ((ours, ours_ns), (baseline, raw_ns))
        for function, sink in pair if i % 2 == 0 else pair[::-1]:
            start = time.perf_counter_ns()
            function()
            sink.append(time.perf_counter_ns() - start)
    return statistics.median(ours_ns) / 1e9, statistics.median(raw_ns) / 1e9


def main() -> None:
    patient, doctor = _user(), _user()
    group = groups.create_group(uuid.uuid4(), members=[doctor.encryption_binding()]).group_key
    recipients = [patient.encryption_binding(), group.encryption_binding()]
    appointment, visit_type = uuid.uuid4(), uuid.uuid4()
    reason = "Douleur au genou droit depuis une chute à vélo, gonflement le soir."
    rows: list[tuple[str, float, float, str]] = []

    # Visit reason: seal and share with the patient and the practice --------------------------------
    def seal() -> items.SealedItem:
        return items.seal_visit_reason(
            item_id=uuid.uuid4(),
            appointment_id=appointment,
            visit_type_id=visit_type,
            reason=reason,
            author=patient,
            recipients=recipients,
        )

    body = visit_type.bytes + reason.encode()

    def seal_raw() -> None:
        key, nonce = os.urandom(32), os.urandom(24)
        raw.crypto_generichash_blake2b_salt_personal(b"c" * 47, digest_size=32, key=key)
        ciphertext = raw.crypto_aead_xchacha20poly1305_ietf_encrypt(
            raw.sodium_pad(body, 256), b"h" * 107, nonce, key
        )
        raw.crypto_sign(ciphertext, patient.signing_secret)
        for recipient in recipients:
            raw.crypto_box_seal(b"w" * 39 + key, recipient.public_key)

    rows.append(("seal + share a visit reason (2 recipients)", *_measure(seal, seal_raw, 2000), ""))

    sealed = seal()
    pair = (group.public_key, group.secret)

    def open_() -> items.VisitReason:
        key = items.unwrap_item_key(sealed.wraps[1], item_id=sealed.item_id, holder=group)
        return items.open_visit_reason(
            sealed.envelope,
            item_key=key,
            item_id=sealed.item_id,
            appointment_id=appointment,
            author=patient.signing_binding(),
        )

    envelope = sealed.envelope

    def open_raw() -> None:
        inner = raw.crypto_box_seal_open(sealed.wraps[1][39:], *pair)
        key = inner[39:]
        raw.crypto_sign_open(
            envelope[-64:] + b"colloque/item-signature/v1" + envelope[:-64], patient.signing_public
        )
        raw.crypto_generichash_blake2b_salt_personal(b"c" * 47, digest_size=32, key=key)
        padded = raw.crypto_aead_xchacha20poly1305_ietf_decrypt(
            envelope[107:-64], envelope[:107], envelope[83:107], key
        )
        raw.sodium_unpad(padded, 256)

    rows.append(
        ("open a visit reason (as a practice member)", *_measure(open_, open_raw, 2000), "")
    )

    # Documents: 20 MiB in 64 KiB chunks ------------------------------------------------------------
    data = os.urandom(DOCUMENT_BYTES)
    doc_id, doc_key = uuid.uuid4(), ItemKey(os.urandom(32))
    pieces = [data[i : i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024)]  # 1 MiB reads

    def encrypt() -> list[bytes]:
        return list(documents.encrypt_document(pieces, document_id=doc_id, key=doc_key))

    chunk = documents.CHUNK_BYTES

    def encrypt_raw() -> list[bytes]:
        state = raw.crypto_secretstream_xchacha20poly1305_state()
        header = raw.crypto_secretstream_xchacha20poly1305_init_push(state, doc_key.secret)
        out = [header]
        for n, piece in enumerate(pieces):  # the same 1 MiB reads, cut into 64 KiB chunks
            for i in range(0, len(piece), chunk):
                last = n == len(pieces) - 1 and i + chunk >= len(piece)
                push = raw.crypto_secretstream_xchacha20poly1305_push
                out.append(push(state, piece[i : i + chunk], None, 3 if last else 0))
        return out

    seconds = _measure(encrypt, encrypt_raw, 31)
    mbps = (DOCUMENT_BYTES / 1e6 / seconds[0], DOCUMENT_BYTES / 1e6 / seconds[1])
    rows.append(("encrypt a 20 MiB document", *seconds, f"{mbps[0]:.0f} vs {mbps[1]:.0f} MB/s"))

    stream = encrypt()
    stream_pieces = [
        b"".join(stream)[i : i + 1024 * 1024] for i in range(0, sum(map(len, stream)), 1024 * 1024)
    ]
    raw_stream = encrypt_raw()

    def decrypt() -> int:
        return sum(
            len(p)
            for p in documents.decrypt_document(stream_pieces, document_id=doc_id, key=doc_key)
        )

    def decrypt_raw() -> int:
        state = raw.crypto_secretstream_xchacha20poly1305_state()
        raw.crypto_secretstream_xchacha20poly1305_init_pull(state, raw_stream[0], doc_key.secret)
        return sum(
            len(raw.crypto_secretstream_xchacha20poly1305_pull(state, c, None)[0])
            for c in raw_stream[1:]
        )

    seconds = _measure(decrypt, decrypt_raw, 31)
    mbps = (DOCUMENT_BYTES / 1e6 / seconds[0], DOCUMENT_BYTES / 1e6 / seconds[1])
    rows.append(("decrypt a 20 MiB document", *seconds, f"{mbps[0]:.0f} vs {mbps[1]:.0f} MB/s"))

    # Groups of 1,000 members -----------------------------------------------------------------------
    users = [_user() for _ in range(MEMBERS)]
    member_bindings = [u.encryption_binding() for u in users]
    group_id = uuid.uuid4()
    created = groups.create_group(group_id, members=member_bindings)
    newcomer = _user().encryption_binding()
    secret = os.urandom(32)

    def join() -> bytes:
        return groups.add_member(created.group_key, member=newcomer)

    def join_raw() -> bytes:
        return raw.crypto_box_seal(b"h" * 70 + secret, newcomer.public_key)

    rows.append((f"join a group of {MEMBERS} (1 wrap)", *_measure(join, join_raw, 2000), ""))

    def leave() -> groups.GroupRotation:
        return groups.rotate_group_key(created.group_key, members=member_bindings[1:])

    def leave_raw() -> None:
        new_secret = os.urandom(32)
        raw.crypto_scalarmult_base(new_secret)
        for binding in member_bindings[1:]:
            raw.crypto_box_seal(b"h" * 70 + new_secret, binding.public_key)

    rows.append(
        (
            f"leave a group of {MEMBERS} (rotate, {MEMBERS - 1} wraps)",
            *_measure(leave, leave_raw, 31),
            "",
        )
    )

    rotated = leave()
    old_wrap = items.wrap_item_key_for(
        items.new_item_key(),
        item_id=sealed.item_id,
        recipient=created.group_key.encryption_binding(),
    )

    def rewrap() -> bytes:
        return groups.rewrap_item_key(
            old_wrap,
            item_id=sealed.item_id,
            old_group=created.group_key,
            new_group=rotated.group_key.encryption_binding(),
        )

    def rewrap_raw() -> bytes:
        inner = raw.crypto_box_seal_open(
            old_wrap[39:], created.group_key.public_key, created.group_key.secret
        )
        return raw.crypto_box_seal(inner, rotated.group_key.public_key)

    rows.append(("re-wrap one item key after a rotation", *_measure(rewrap, rewrap_raw, 2000), ""))

    print(f"{'operation':<46} {'colloque':>11} {'raw sodium':>11} {'ratio':>6}  throughput")
    for name, ours, baseline, note in rows:
        print(f"{name:<46} {_fmt(ours):>11} {_fmt(baseline):>11} {ours / baseline:>6.2f}  {note}")


def _fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()
