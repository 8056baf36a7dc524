"""The key directory: sign-up publishes, the log verifies, proofs check, visibility holds."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select, text

from colloque.accounts.models import KeyBundleRow
from colloque.client.directory import KeyDirectory, UnsignedPractice
from colloque.client.encoding import unb64
from colloque.clock import SettableClock
from colloque.crypto import groups, statements, transparency
from colloque.crypto.authorship import Standing
from colloque.crypto.errors import AuthorNotAllowed, ProofInvalid
from colloque.crypto.items import ItemKind
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.errors import Conflict
from colloque.keydirectory import services
from colloque.keydirectory.config import LogKey
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.models import KeyDirectoryCheckpoint, KeyDirectoryLeaf
from colloque.patients.registry import remember_patient
from colloque.patients.services import Relationship, do_add_patient
from colloque.storage.engine import Database
from tests.factories import newest_binding
from tests.functional.keys.conftest import LOG, SETTINGS, Keyed, add, keyed, new_practice
from tests.problems import blank_request_id


def _directory(http: TestClient, person: Keyed) -> KeyDirectory:
    def fetch(path: str) -> object:
        response = http.get(path, headers=person.headers)
        assert response.status_code == 200, response.text
        return response.json()

    return KeyDirectory(fetch, origin=LOG.origin, log_public_key=LOG.public_key)


def test_sign_up_publishes_both_keys_and_the_log_verifies(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = keyed(db, clock, "ana")
    directory = _directory(http, ana)
    first = directory.refresh()
    assert first.tree_size == 2
    ben = keyed(db, clock, "ben")
    assert directory.refresh().tree_size == 4  # consistent with size 2, proof fetched
    keys = _directory(http, ben).user_keys(ben.account_id)
    with db.read() as session:
        bundle = session.get_one(KeyBundleRow, ben.account_id)
    assert keys.bindings[KeyPurpose.ENCRYPTION].public_key == bundle.encryption_public
    assert keys.bindings[KeyPurpose.SIGNING].public_key == bundle.signing_public
    assert keys.fingerprint == transparency.fingerprint(keys.bindings.values())
    served = http.get(f"/api/v1/key-directory/users/{ben.account_id}", headers=ben.headers)
    assert served.json()["fingerprint"] == keys.fingerprint
    # The name beside the fingerprint is the account's own (keyed() names Ben "Ben").
    assert served.json()["display_name"] == "Ben"
    head = http.get("/api/v1/key-directory").json()  # public: it reveals hashes only
    assert head["origin"] == LOG.origin
    assert unb64(head["public_key"]) == LOG.public_key


def test_consistency_between_any_two_sizes(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    for name in ("a", "b", "c"):
        keyed(db, clock, name)
    with db.read() as session:
        roots = {
            row.tree_size: row.root_hash for row in session.scalars(select(KeyDirectoryCheckpoint))
        }
    for old, new in ((0, 6), (2, 4), (2, 6), (4, 6), (6, 6), (2, 2)):
        out = http.get("/api/v1/key-directory/consistency", params={"from": old, "to": new})
        assert out.status_code == 200, out.text
        transparency.verify_consistency(
            old_size=old,
            new_size=new,
            old_root=roots.get(old, transparency.tree_root([])),
            new_root=roots[new],
            proof=[unb64(h) for h in out.json()["proof"]],
        )
    for old, new, field in ((0, 7, "to"), (5, 4, "from")):
        bad = http.get("/api/v1/key-directory/consistency", params={"from": old, "to": new})
        assert bad.status_code == 422
        assert bad.json()["field"] == field


def test_the_empty_log_has_a_signed_head(db: Database, http: TestClient) -> None:
    head = http.get("/api/v1/key-directory").json()
    checkpoint = transparency.verify_checkpoint(
        head["signed_checkpoint"], origin=LOG.origin, log_public_key=LOG.public_key
    )
    assert (checkpoint.tree_size, head["tree_size"]) == (0, 0)


def test_publishing_refuses_old_and_repeated_epochs(db: Database, clock: SettableClock) -> None:
    subject = uuid.uuid4()

    def binding(epoch: int, purpose: KeyPurpose = KeyPurpose.ENCRYPTION) -> KeyBinding:
        return KeyBinding(SubjectKind.GROUP, subject, purpose, epoch, bytes([epoch]) * 32)

    with db.write() as session:
        assert services.publish_bindings(session, bindings=[], now=clock.now(), log=LOG) == []
        assert services.publish_bindings(
            session, bindings=[binding(1), binding(2)], now=clock.now(), log=LOG
        ) == [0, 1]
    for epochs, message in (([2], "already published"), ([1], "newer"), ([3, 3], "already")):
        with pytest.raises(Conflict, match=message), db.write() as session:
            services.publish_bindings(
                session, bindings=[binding(e) for e in epochs], now=clock.now(), log=LOG
            )
    with db.read() as session:
        assert newest_binding(
            session,
            subject_kind=SubjectKind.GROUP,
            subject_id=subject,
            purpose=KeyPurpose.ENCRYPTION,
        ) == binding(2)
        assert (
            newest_binding(
                session,
                subject_kind=SubjectKind.GROUP,
                subject_id=subject,
                purpose=KeyPurpose.SIGNING,
            )
            is None
        )
        assert session.scalar(select(func.count()).select_from(KeyDirectoryLeaf)) == 2


@pytest.mark.postgres
def test_the_log_is_append_only_in_postgres(postgres_db: Database, clock: SettableClock) -> None:
    db = postgres_db
    keyed(db, clock, "ana")
    for statement in (
        "UPDATE key_directory_leaves SET epoch = 9",
        "DELETE FROM key_directory_leaves",
        "UPDATE key_directory_checkpoints SET signed_note = ''",
        "DELETE FROM key_directory_checkpoints",
    ):
        with pytest.raises(Exception, match="append-only"), db.write() as session:
            session.execute(text(statement))


def test_a_gap_in_the_log_is_an_error_not_a_wrong_proof(
    sqlite_db: Database, clock: SettableClock
) -> None:
    """SQLite has no append-only trigger: a row deleted behind the app's back must not yield a
    proof over the wrong leaves."""
    subject = uuid.uuid4()
    bindings = [
        KeyBinding(SubjectKind.GROUP, subject, KeyPurpose.ENCRYPTION, epoch, bytes([epoch]) * 32)
        for epoch in (1, 2, 3)
    ]
    with sqlite_db.write() as session:
        services.publish_bindings(session, bindings=bindings, now=clock.now(), log=LOG)
        session.execute(text("DELETE FROM key_directory_leaves WHERE leaf_index = 1"))
    services._caches.clear()  # as a freshly started process would find it
    with sqlite_db.read() as session, pytest.raises(RuntimeError, match="gap"):
        services.consistency(session, old_size=1, new_size=3)


def test_who_sees_whose_keys(db: Database, clock: SettableClock, http: TestClient) -> None:
    admin, secretary, holder, stranger, elsewhere = (
        keyed(db, clock, name) for name in ("admin", "secretary", "holder", "stranger", "other")
    )
    practice = new_practice(db, clock, admin)
    other_practice = new_practice(db, clock, elsewhere)
    add(db, practice, secretary)
    with db.write() as session:
        patient = do_add_patient(
            session,
            now=clock.now(),
            principal=holder.principal(db),
            first_name="Hugo",
            last_name="Holder",
            birth_date=date(1980, 1, 1),
            relationship=Relationship.SELF,
        )
        remember_patient(
            session, practice_id=practice, patient_id=patient.patient_id, now=clock.now()
        )

    def status(viewer: Keyed, subject: Keyed) -> int:
        path = f"/api/v1/key-directory/users/{subject.account_id}"
        return http.get(path, headers=viewer.headers).status_code

    assert status(holder, holder) == 200
    assert status(secretary, admin) == 200  # co-members
    assert status(secretary, holder) == 200  # a patient of theirs
    assert status(holder, secretary) == 200  # a member where their patient is registered
    missing = http.get(f"/api/v1/key-directory/users/{uuid.uuid4()}", headers=stranger.headers)
    for viewer, subject in ((stranger, holder), (elsewhere, holder), (holder, stranger)):
        hidden = http.get(
            f"/api/v1/key-directory/users/{subject.account_id}", headers=viewer.headers
        )
        assert (hidden.status_code, blank_request_id(hidden.content)) == (
            404,
            blank_request_id(missing.content),
        )
    assert http.get(f"/api/v1/key-directory/users/{holder.account_id}").status_code == 401
    # Practices are public, and so are their group keys, once they exist.
    nothing = http.get(f"/api/v1/key-directory/practices/{other_practice}", headers=holder.headers)
    assert nothing.status_code == 404
    with db.write() as session:
        services.publish_bindings(
            session,
            bindings=[
                KeyBinding(SubjectKind.GROUP, other_practice, KeyPurpose.ENCRYPTION, 1, bytes(32))
            ],
            now=clock.now(),
            log=LOG,
        )
    # An admin who signed none of a practice's statements stays hidden from strangers.
    assert status(stranger, elsewhere) == 404
    # Proven, but no admin signed it: nothing is sealed to it until an admin re-keys.
    directory = _directory(http, stranger)
    with pytest.raises(UnsignedPractice, match="re-key"):
        directory.practice_key(other_practice)
    # Once an admin signs the group's statements, whoever books there verifies them with the
    # signer's keys, so a stranger may read those keys.
    assert status(stranger, admin) == 404
    admin.client(http).practice_keys.create_group(practice)
    assert status(stranger, admin) == 200


def test_a_tampering_server_is_caught(db: Database, clock: SettableClock, http: TestClient) -> None:
    ana, ben = keyed(db, clock, "ana"), keyed(db, clock, "ben")
    add_ben = new_practice(db, clock, ana)
    add(db, add_ben, ben)
    honest = _directory(http, ana)
    honest.refresh()
    answer = http.get(f"/api/v1/key-directory/users/{ben.account_id}", headers=ana.headers).json()
    mallory = transparency.KeyBinding.from_leaf(unb64(answer["bindings"][0]["leaf"]))
    forged = KeyBinding(
        mallory.subject_kind, mallory.subject_id, mallory.purpose, mallory.epoch, bytes(32)
    )
    swapped = dict(answer["bindings"][0], leaf=_b64(forged.to_leaf()))
    with pytest.raises(ProofInvalid):
        honest.verify_binding(
            swapped,
            note=answer["signed_checkpoint"],
            subject_kind=SubjectKind.USER,
            subject_id=ben.account_id,
        )
    # Somebody else's real key, presented as Ben's: proven, but not Ben's.
    mine = http.get(f"/api/v1/key-directory/users/{ana.account_id}", headers=ana.headers).json()
    with pytest.raises(ProofInvalid, match="another subject"):
        honest.verify_binding(
            mine["bindings"][0],
            note=mine["signed_checkpoint"],
            subject_kind=SubjectKind.USER,
            subject_id=ben.account_id,
        )
    with pytest.raises(ProofInvalid, match="another checkpoint"):
        honest.verify_binding(
            dict(answer["bindings"][0], tree_size=1),
            note=answer["signed_checkpoint"],
            subject_kind=SubjectKind.USER,
            subject_id=ben.account_id,
        )
    # A log signed by another key, or another log's head, is refused.
    impostor = KeyDirectory(honest._fetch, origin=LOG.origin, log_public_key=bytes(32))
    with pytest.raises(ProofInvalid):
        impostor.refresh()
    # A rewritten history: a checkpoint of the same size with another root, properly signed.
    rewritten = LOG.sign(transparency.Checkpoint(LOG.origin, 4, bytes(32)))
    with pytest.raises(ProofInvalid):
        honest.accept_checkpoint(rewritten)
    # An older view than the one already seen.
    old = LOG.sign(transparency.Checkpoint(LOG.origin, 0, transparency.tree_root([])))
    with pytest.raises(ProofInvalid, match="never shrinks"):
        honest.accept_checkpoint(old)


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_the_log_key_is_a_log_signer_and_keeps_its_seed_out_of_reprs() -> None:
    signer: LogSigner = LOG
    assert signer.public_key == transparency.log_public_key(LOG.seed)
    assert LOG.seed.hex() not in repr(LOG)
    # The log key is its own setting: rotating the server secret leaves it alone.
    rotated = LogKey.from_settings(SETTINGS.model_copy(update={"secret_key": SecretStr("x" * 40)}))
    assert rotated.public_key == LOG.public_key
    other = LogKey.from_settings(
        SETTINGS.model_copy(update={"key_directory_log_key": SecretStr("07" * 32)})
    )
    assert other.public_key != LOG.public_key
    assert other.seed == bytes([7]) * 32


def test_statements_are_leaves_of_their_subject(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = keyed(db, clock, "ana")
    practice = new_practice(db, clock, ana)
    keys = ana.client(http).unlocked_keys
    genesis = statements.sign_membership(
        group_id=practice,
        sequence=1,
        previous=statements.GENESIS_PREVIOUS,
        member_id=ana.account_id,
        role=statements.Role.ADMIN,
        signer=keys,
    )
    group = groups.create_group(practice, members=[keys.encryption_binding()]).group_key
    epoch = statements.sign_group_epoch(
        group_key=group.encryption_binding(),
        membership_sequence=1,
        members=[(ana.account_id, 1)],
        signer=keys,
    )
    with db.write() as session:
        services.publish_bindings(
            session, bindings=[group.encryption_binding(), genesis, epoch], now=clock.now(), log=LOG
        )
    # One statement per sequence (or epoch), like one binding per epoch.
    with db.write() as session, pytest.raises(Conflict):
        services.publish_bindings(session, bindings=[genesis], now=clock.now(), log=LOG)
    with db.read() as session:
        purposes = session.scalars(
            select(KeyDirectoryLeaf.purpose)
            .where(KeyDirectoryLeaf.subject_id == practice)
            .order_by(KeyDirectoryLeaf.leaf_index)
        ).all()
    assert purposes == [KeyPurpose.ENCRYPTION, 0x0B, 0x0C]
    answer = http.get(f"/api/v1/key-directory/practices/{practice}", headers=ana.headers).json()
    assert answer["display_name"] is None  # a practice's name is on its public page
    checkpoint = transparency.verify_checkpoint(
        answer["signed_checkpoint"], origin=LOG.origin, log_public_key=LOG.public_key
    )
    leaves = []
    for out in answer["chain"]:
        leaf = unb64(out["leaf"])
        transparency.verify_inclusion(
            leaf_hash=transparency.leaf_hash(leaf),
            index=out["leaf_index"],
            tree_size=checkpoint.tree_size,
            proof=[unb64(h) for h in out["inclusion_proof"]],
            root=checkpoint.root_hash,
        )
        leaves.append(leaf)
    assert leaves == [group.encryption_binding().to_leaf(), genesis.to_leaf(), epoch.to_leaf()]
    chain = statements.verify_membership_chain(
        practice,
        [statements.MembershipStatement.from_leaf(leaves[1])],
        signing_keys={(ana.account_id, 1): keys.signing_binding()},
    )
    statements.verify_group_epoch(
        statements.GroupEpochStatement.from_leaf(leaves[2]),
        group_key=group.encryption_binding(),
        chain=chain,
        members=[(ana.account_id, 1)],
        signing_keys={(ana.account_id, 1): keys.signing_binding()},
    )
    # A user's answer carries their bindings in the chain, proven the same way.
    mine = http.get(f"/api/v1/key-directory/users/{ana.account_id}", headers=ana.headers).json()
    assert [unb64(o["leaf"]) for o in mine["chain"]] == [
        keys.encryption_binding().to_leaf(),
        keys.signing_binding().to_leaf(),
    ]


def test_a_chain_that_does_not_end_at_the_current_keys_is_refused(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = keyed(db, clock, "ana")

    def fetch(path: str) -> object:
        answer = http.get(path, headers=ana.headers).json()
        if "/users/" in path:
            answer["chain"] = []
        return answer

    directory = KeyDirectory(fetch, origin=LOG.origin, log_public_key=LOG.public_key)
    with pytest.raises(ProofInvalid, match="end of their chain"):
        directory.user_keys(ana.account_id)


def test_without_a_key_group_only_the_holder_can_have_written(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    """A practice with no key group has no members' chain: nothing was sealed for it, so the
    holder is the only possible author."""
    holder = keyed(db, clock, "holder")
    practice = new_practice(db, clock, keyed(db, clock, "admin"))
    standing = holder.client(http).standing_check(practice, uuid.uuid4(), as_holder=True)
    assert standing(ItemKind.MESSAGE, holder.account_id) is Standing.HOLDER
    with pytest.raises(AuthorNotAllowed):
        standing(ItemKind.MESSAGE, uuid.uuid4())
