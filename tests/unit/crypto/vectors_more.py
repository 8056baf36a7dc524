"""Vectors for the formats added after the first set (docs/crypto.md section 8).

Same conventions as :mod:`tests.unit.crypto.vectors` (fixed inputs, test-only hooks in place of
randomness); ``python -m tests.unit.crypto.vectors`` writes these files too. The sealed document
describes the stored stream of documents.json (which cannot be regenerated), so its vector is
reproducible as long as that file is unchanged.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from colloque.crypto import (
    groups,
    items,
    keys,
    sealed_documents,
    server_secrets,
    transparency,
)
from colloque.crypto.documents import CHUNK_BYTES, HEADER_BYTES
from colloque.crypto.login import ASVS_MINIMUM_COST, KdfParams
from tests.unit.crypto.vectors import (
    DOCUMENT_ID,
    GROUP_ID,
    LOG_ORIGIN,
    OURS,
    PATIENT_ID,
    PRACTITIONER_ID,
    _binding_json,
    _user_json,
    group_key,
    key_bundle_vectors,
    load,
    patient,
    practitioner,
    seq,
)
from tests.unit.crypto.vectors_statements import statement_vectors

PRACTICE_ID = UUID("b0000000-0000-4000-8000-000000000002")
OTHER_PATIENT_ID = UUID("a0000000-0000-4000-8000-000000000004")
#: The documents.json case whose stream the sealed document describes.
DOCUMENT_CASE = 1


def _wrap_json(wrap: bytes, seed: bytes, recipient: transparency.KeyBinding) -> dict[str, Any]:
    return {"recipient": _binding_json(recipient), "ephemeral_seed": seed.hex(), "wrap": wrap.hex()}


def sealed_document_vectors() -> dict[str, Any]:
    stored = load("documents")
    stream = bytes.fromhex(stored["cases"][DOCUMENT_CASE]["ciphertext"])
    digest = sealed_documents.StreamDigest()
    digest.update(stream)
    info = sealed_documents.DocumentInfo(
        name="Radiographie genou droit \u2013 2026-11-28.pdf",
        media_type="application/pdf",
        digest=digest.digest(),
        stream_key=items.ItemKey(bytes.fromhex(stored["key"])),
    )
    body = sealed_documents._document_body(info)
    item_key, nonce = items.ItemKey(seq(0x27)), seq(0x47, 24)
    recipients = [patient().encryption_binding(), group_key().encryption_binding()]
    seeds = [seq(0xE7), seq(0xF7)]
    sealed = items._seal_item(
        items.ItemKind.DOCUMENT,
        DOCUMENT_ID,
        PATIENT_ID,
        body,
        practitioner(),
        recipients,
        item_key=item_key,
        nonce=nonce,
        ephemeral_seeds=seeds,
    )
    return {
        "source": OURS,
        "description": "A document described by a signed item of kind 0x04 (docs/crypto.md section "
        "5.3): its body is stream key || BLAKE2b-256(stream) || u16 name length || name || media "
        f"type. The stream is case {DOCUMENT_CASE} of documents.json (its key is the stream key). "
        "Wraps use fixed ephemeral seeds as in items.json; the author is the practitioner of "
        "items.json, the recipients are the patient and the group of items.json.",
        "document_id": str(DOCUMENT_ID),
        "patient_id": str(PATIENT_ID),
        "author": _user_json(practitioner()),
        "name": info.name,
        "media_type": info.media_type,
        "stream_key": info.stream_key.secret.hex(),
        "stream": stream.hex(),
        "stream_plaintext": stored["cases"][DOCUMENT_CASE]["plaintext"],
        "stream_digest": info.digest.hex(),
        "stream_header": {
            "document_id": str(sealed_documents.read_stream_header(stream[:HEADER_BYTES])),
            "chunk_size": CHUNK_BYTES,
        },
        "body": body.hex(),
        "item_key": item_key.secret.hex(),
        "nonce": nonce.hex(),
        "commitment": items._commitment(item_key, DOCUMENT_ID).hex(),
        "envelope": sealed.envelope.hex(),
        "wraps": [
            _wrap_json(w, s, r) for r, s, w in zip(recipients, seeds, sealed.wraps, strict=True)
        ],
        "stream_sizes": {
            "possible": [HEADER_BYTES + 4113, HEADER_BYTES + 65553 + 4113, HEADER_BYTES + 65553],
            "impossible": [0, HEADER_BYTES, HEADER_BYTES + 4112, HEADER_BYTES + 4114],
        },
    }


def _reset_patient() -> keys.NewKeyBundle:
    return keys._create_key_bundle(
        PATIENT_ID,
        seq(0x31),
        epoch=2,
        encryption_secret=seq(0x12),
        signing_seed=seq(0x32),
        recovery_code=keys.RecoveryCode(seq(0xC1, 20)),
        recovery_params=KdfParams(salt=seq(0x61, 16), cost=ASVS_MINIMUM_COST),
        login_nonce=seq(0x71, 24),
        recovery_nonce=seq(0x89, 24),
        insecure_allow_weak_cost=False,
    )


def key_reset_vectors() -> dict[str, Any]:
    created = _reset_patient()
    code = created.recovery_code
    params = KdfParams(salt=seq(0x61, 16), cost=ASVS_MINIMUM_COST)
    return {
        "source": OURS,
        "description": "A key reset (docs/crypto.md sections 3.1 and 5.1): the patient of "
        "key_bundle.json gets new key pairs at epoch 2, sealed under a new KEK and recovery code. "
        "Same layout as key_bundle.json; the epoch (u32 at offset 18) is in the AD.",
        "user": _user_json(created.keys),
        "kek": seq(0x31).hex(),
        "login_nonce": seq(0x71, 24).hex(),
        "sealed_by_password": created.bundle.sealed_by_password.hex(),
        "recovery_code_bytes": code.raw.hex(),
        "recovery_code_text": code.text,
        "recovery_kdf_params": params.to_bytes().hex(),
        "recovery_key": keys._recovery_key(code, params, False).hex(),
        "recovery_nonce": seq(0x89, 24).hex(),
        "sealed_by_recovery": created.bundle.sealed_by_recovery.hex(),
    }


def _refusals(envelope: bytes, kind_offset: int | None) -> list[dict[str, str]]:
    refused = [
        {"why": "one byte short", "hex": envelope[:-1].hex()},
        {"why": "one byte too many", "hex": (envelope + b"\x00").hex()},
        {"why": "unknown version", "hex": (b"\x02" + envelope[1:]).hex()},
        {"why": "another envelope type", "hex": (envelope[:1] + b"\x03" + envelope[2:]).hex()},
    ]
    if kind_offset is not None:
        bad = envelope[:kind_offset] + b"\x03" + envelope[kind_offset + 1 :]
        refused.append({"why": "unknown recipient kind", "hex": bad.hex()})
    return refused


def clear_header_vectors() -> dict[str, Any]:
    items_json = load("items")
    bundle = key_bundle_vectors()
    reset = _reset_patient()
    item_wraps = [w for case in items_json["cases"] for w in case["wraps"]]
    reset_wrap = items._wrap(
        items.ItemKey(seq(0x20)), UUID(items_json["cases"][0]["item_id"]),
        reset.keys.encryption_binding(), seq(0xEA),
    )  # fmt: skip
    wraps = [bytes.fromhex(w["wrap"]) for w in item_wraps] + [reset_wrap]
    group_wraps = [
        bytes.fromhex(w["wrap"]) for epoch in load("groups")["epochs"] for w in epoch["wraps"]
    ]
    sealed_keys = [
        (bytes.fromhex(bundle["sealed_by_password"]), False),
        (bytes.fromhex(bundle["sealed_by_recovery"]), True),
        (reset.bundle.sealed_by_password, False),
        (reset.bundle.sealed_by_recovery, True),
    ]

    def item_wrap(wrap: bytes) -> dict[str, Any]:
        header = items.read_wrap_header(wrap)
        return {
            "wrap": wrap.hex(),
            "item_id": str(header.item_id),
            "recipient_kind": int(header.recipient_kind),
            "recipient_id": str(header.recipient_id),
            "epoch": header.epoch,
        }

    def group_wrap(wrap: bytes) -> dict[str, Any]:
        header = groups.read_group_wrap_header(wrap)
        return {
            "wrap": wrap.hex(),
            "group_id": str(header.group_id),
            "epoch": header.epoch,
            "public_key": header.public_key.hex(),
            "member_id": str(header.member_id),
        }

    def keys_header(sealed: bytes, by_recovery: bool) -> dict[str, Any]:
        header = keys.read_sealed_keys_header(sealed, user_id=PATIENT_ID, by_recovery=by_recovery)
        return {
            "sealed": sealed.hex(),
            "by_recovery": by_recovery,
            "user_id": str(PATIENT_ID),
            "epoch": header.epoch,
            "x25519_public": header.encryption_public.hex(),
            "ed25519_public": header.signing_public.hex(),
        }

    return {
        "source": OURS,
        "description": "The clear headers a server reads without any key (docs/crypto.md sections "
        "5.1, 5.2 and 5.4): items.read_wrap_header, groups.read_group_wrap_header and "
        "keys.read_sealed_keys_header over the wraps and bundles of items.json, groups.json, "
        "key_bundle.json and key_reset.json (plus one item key wrap for the patient's epoch 2 key, "
        "ephemeral seed 0xea..), and variants each reader must refuse.",
        "item_key_wraps": [item_wrap(w) for w in wraps],
        "item_key_wrap_refused": _refusals(wraps[0], 18),
        "group_key_wraps": [group_wrap(w) for w in group_wraps],
        "group_key_wrap_refused": _refusals(group_wraps[0], None),
        "sealed_keys": [keys_header(s, r) for s, r in sealed_keys],
        "sealed_keys_refused": _refusals(sealed_keys[0][0], None),
        "sealed_keys_other_user": str(PRACTITIONER_ID),
    }


def conversation_vectors() -> dict[str, Any]:
    pairs = [
        (PRACTICE_ID, PATIENT_ID),
        (PRACTICE_ID, OTHER_PATIENT_ID),
        (GROUP_ID, PATIENT_ID),
        (PATIENT_ID, PRACTICE_ID),
    ]
    return {
        "source": OURS,
        "description": "Derived conversation ids (docs/crypto.md section 5.2): BLAKE2b(16, no key, "
        "'colloque/conversation/v1' || practice_id (16) || patient_id (16)) read as a UUID. The "
        "last case swaps the two ids of the first: order matters.",
        "cases": [
            {
                "practice_id": str(practice),
                "patient_id": str(patient_),
                "conversation_id": str(
                    items.conversation_id(practice_id=practice, patient_id=patient_)
                ),
            }
            for practice, patient_ in pairs
        ],
    }


def clinical_group_vectors() -> dict[str, Any]:
    return {
        "source": OURS,
        "description": "Derived ids of practices' practitioners-only groups (docs/crypto.md section "
        "5.4): BLAKE2b(16, no key, 'colloque/clinical-group/v1' || practice_id (16)) with the UUID "
        "version 8 and variant bits set, read as a UUID.",
        "cases": [
            {
                "practice_id": str(practice),
                "clinical_group_id": str(groups.clinical_group_id(practice)),
            }
            for practice in (PRACTICE_ID, GROUP_ID, PATIENT_ID)
        ],
    }


def counter_leaf(i: int) -> bytes:
    """The leaves of the compact range vectors: i as a u32, big-endian."""
    return i.to_bytes(4, "big")


def log_recipe_vectors() -> dict[str, Any]:
    size = 13
    hashes = [transparency.leaf_hash(counter_leaf(i)) for i in range(size)]
    steps: list[dict[str, Any]] = []
    compact: list[tuple[int, bytes]] = []
    for leaf in hashes:
        compact = transparency.compact_range_append(compact, leaf)
        steps.append(
            {
                "size": len(steps) + 1,
                "compact_range": [[n, h.hex()] for n, h in compact],
                "root": transparency.compact_range_root(compact).hex(),
            }
        )
    indexes = [12, 0, 5, 7, 5]
    seed = seq(0xB0)
    public = transparency.log_public_key(seed)
    return {
        "source": OURS,
        "description": "Key directory recipes (docs/crypto.md section 5.5): compact ranges (the "
        "(size, root) of the perfect subtrees of the tree, largest first) after each append of "
        "leaf i = u32 big-endian i, their roots (equal to RFC 9162 MTH), inclusion proofs for "
        "several leaves at once (transparency.inclusion_proofs, same as one by one), and the "
        "log's Ed25519 public key and C2SP key id from its seed (the log key of "
        "transparency.json).",
        "empty_root": transparency.compact_range_root([]).hex(),
        "leaves": [counter_leaf(i).hex() for i in range(size)],
        "steps": steps,
        "inclusion_proofs": {
            "tree_size": size,
            "indexes": indexes,
            "proofs": [
                [p.hex() for p in proof] for proof in transparency.inclusion_proofs(hashes, indexes)
            ],
        },
        "log_ed25519_seed": seed.hex(),
        "log_public_key": public.hex(),
        "log_origin": LOG_ORIGIN,
        "log_key_id": transparency.note_key_id(LOG_ORIGIN, public).hex(),
    }


def server_secret_vectors() -> dict[str, Any]:
    key = seq(0x5A)
    cases = []
    for value, purpose, subject, nonce in (
        (b"12345678901234567890", "totp-seed", PATIENT_ID, seq(0x01, 24)),
        (seq(0x00, 20), "totp-seed", PRACTITIONER_ID, seq(0x02, 24)),
        (b"", "x" * 16, PATIENT_ID, seq(0x03, 24)),
    ):
        sealed = server_secrets._seal(
            value, key=key, purpose=purpose, subject_id=subject, nonce=nonce
        )
        cases.append(
            {
                "value": value.hex(),
                "purpose": purpose,
                "subject_id": str(subject),
                "nonce": nonce.hex(),
                "sealed": sealed.hex(),
            }
        )
    return {
        "source": OURS,
        "description": "Server-side secrets (type 0x09, docs/crypto.md section 5.6): 01 09 || "
        "purpose (16, zero-padded ASCII) || subject id (16) || nonce (24) || "
        "XChaCha20-Poly1305(key, nonce, value, AD = every byte before the ciphertext). The key is "
        "fixed here; in the app it is derived from COLLOQUE_SECRET_KEY per purpose.",
        "key": key.hex(),
        "cases": cases,
    }


GENERATED = {
    "sealed_documents": sealed_document_vectors,
    "key_reset": key_reset_vectors,
    "clear_headers": clear_header_vectors,
    "conversations": conversation_vectors,
    "clinical_groups": clinical_group_vectors,
    "log_recipes": log_recipe_vectors,
    "server_secrets": server_secret_vectors,
    "statements": statement_vectors,
}
