"""Joining and leaving a practice key group of 1,000 members: `uv run python -m bench.groups`.

Client side, each against the raw libsodium calls it makes (PyNaCl directly, interleaved in the
same loop, as in ``bench/crypto.py``):

- join: check the newcomer's key binding against the log (an inclusion proof: SHA-256 per level)
  and seal the group key for them (one ``crypto_box_seal``);
- leave: check the 999 remaining members' bindings, make the next key pair and seal it for each.

Signed memberships (docs/crypto.md 5.12), client side, against the unsigned flow above measured in
the same loop: joining signs the newcomer's membership statement, verifies the whole membership
chain (genesis, 1,000 members and the newcomer: 1,002 links) as a client without a cached head does,
and wraps; leaving signs the removal, verifies the chain, signs the group epoch statement over the
999 remaining members and makes the 999 wraps.

Server side, on a scratch PostgreSQL database (``colloque_bench_groups``, recreated each run): the
signed rotation an admin's client posts after a signed removal (the group epoch statement checked
against the 1,001-link chain, 999 wrap headers checked, the binding and the statement appended to
the key directory with a signed checkpoint, 999 wraps stored), against inserting the same 999 rows
alone. Each server run is rolled back, so every repetition rotates the same epoch.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from nacl import bindings as raw
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.harness import machine, postgres_version, recreate_database
from colloque.accounts.models import KeyBundleRow
from colloque.accounts.services import do_add_member, do_create_account, principal_for_account
from colloque.config import Settings
from colloque.crypto import groups, keys, statements, transparency
from colloque.demo.showcase_keys import make_practice_group
from colloque.keydirectory.config import LogKey
from colloque.keydirectory.services import publish_bindings
from colloque.practicekeys.memberships import do_append_memberships, stored_chain
from colloque.practicekeys.models import PracticeKeyEpoch, PracticeKeyWrap
from colloque.practicekeys.services import MemberWrap, do_rotate_group
from colloque.principal import Role
from colloque.scheduling.services import do_create_practice
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade

MEMBERS = 1000
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


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


def _raw_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 inclusion check with bare SHA-256 calls: the hashing the recipe does."""
    fn, sn, r = index, size - 1, raw.crypto_hash_sha256(b"\x00" + leaf)
    for p in proof:
        if fn & 1 or fn == sn:
            r = raw.crypto_hash_sha256(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = raw.crypto_hash_sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    assert r == root


def client_side() -> list[tuple[str, float, float]]:
    users = [_user() for _ in range(MEMBERS + 1)]
    bindings = [u.encryption_binding() for u in users]
    leaves = [b.to_leaf() for b in bindings]
    hashes = [transparency.leaf_hash(leaf) for leaf in leaves]
    checkpoint = transparency.Checkpoint("bench/log", len(hashes), transparency.tree_root(hashes))
    proofs = transparency.inclusion_proofs(hashes, range(len(hashes)))
    group = groups.create_group(uuid.uuid4(), members=bindings[:MEMBERS])
    newcomer = len(bindings) - 1
    secret = os.urandom(32)

    def join() -> bytes:
        transparency.verify_key_binding(
            bindings[newcomer], leaf_index=newcomer, proof=proofs[newcomer], checkpoint=checkpoint
        )
        return groups.add_member(group.group_key, member=bindings[newcomer])

    def join_raw() -> bytes:
        _raw_inclusion(
            leaves[newcomer], newcomer, checkpoint.tree_size, proofs[newcomer], checkpoint.root_hash
        )
        return raw.crypto_box_seal(b"h" * 70 + secret, bindings[newcomer].public_key)

    remaining = range(1, MEMBERS)

    def leave() -> groups.GroupRotation:
        for i in remaining:
            transparency.verify_key_binding(
                bindings[i], leaf_index=i, proof=proofs[i], checkpoint=checkpoint
            )
        return groups.rotate_group_key(group.group_key, members=[bindings[i] for i in remaining])

    def leave_raw() -> None:
        for i in remaining:
            _raw_inclusion(leaves[i], i, checkpoint.tree_size, proofs[i], checkpoint.root_hash)
        new_secret = os.urandom(32)
        raw.crypto_scalarmult_base(new_secret)
        for i in remaining:
            raw.crypto_box_seal(b"h" * 70 + new_secret, bindings[i].public_key)

    return [
        (f"join a group of {MEMBERS} (check 1 key, 1 wrap)", *_measure(join, join_raw, 2000)),
        (
            f"leave a group of {MEMBERS} (check {MEMBERS - 1} keys, {MEMBERS - 1} wraps)",
            *_measure(leave, leave_raw, 21),
        ),
    ]


def _chain(
    group_id: uuid.UUID, admin: keys.UserKeys, users: list[keys.UserKeys]
) -> list[statements.MembershipStatement]:
    """Genesis by ``admin``, then one secretary statement per user, all signed by ``admin``."""
    chain: list[statements.MembershipStatement] = []
    for member, role in [(admin.user_id, statements.Role.ADMIN)] + [
        (u.user_id, statements.Role.SECRETARY) for u in users
    ]:
        chain.append(
            statements.sign_membership(
                group_id=group_id,
                sequence=len(chain) + 1,
                previous=chain[-1].leaf_hash() if chain else statements.GENESIS_PREVIOUS,
                member_id=member,
                role=role,
                signer=admin,
            )
        )
    return chain


def signed_side() -> list[tuple[str, float, float]]:
    """Signed join and leave against the unsigned ones, client side (medians, interleaved)."""
    admin = _user()
    users = [_user() for _ in range(MEMBERS)]
    newcomer = _user()
    group_id = uuid.uuid4()
    bindings = [u.encryption_binding() for u in users]
    group = groups.create_group(group_id, members=bindings)
    chain = _chain(group_id, admin, users)
    signing_keys = {(admin.user_id, 1): admin.signing_binding()}

    def statement(member: uuid.UUID, role: statements.Role) -> statements.MembershipStatement:
        return statements.sign_membership(
            group_id=group_id,
            sequence=len(chain) + 1,
            previous=chain[-1].leaf_hash(),
            member_id=member,
            role=role,
            signer=admin,
        )

    def join_signed() -> bytes:
        attest = statement(newcomer.user_id, statements.Role.SECRETARY)
        statements.verify_membership_chain(group_id, [*chain, attest], signing_keys=signing_keys)
        return groups.add_member(group.group_key, member=newcomer.encryption_binding())

    def join_unsigned() -> bytes:
        return groups.add_member(group.group_key, member=newcomer.encryption_binding())

    remaining = bindings[1:]

    def leave_signed() -> statements.GroupEpochStatement:
        removal = statement(users[0].user_id, statements.Role.REMOVED)
        verified = statements.verify_membership_chain(
            group_id, [*chain, removal], signing_keys=signing_keys
        )
        rotation = groups.rotate_group_key(group.group_key, members=remaining)
        return statements.sign_group_epoch(
            group_key=rotation.group_key.encryption_binding(),
            membership_sequence=verified.sequence,
            members=[(b.subject_id, b.epoch) for b in remaining],
            signer=admin,
        )

    def leave_unsigned() -> groups.GroupRotation:
        return groups.rotate_group_key(group.group_key, members=remaining)

    return [
        (
            f"join, signed (attest, verify {MEMBERS + 2}-link chain, 1 wrap)",
            *_measure(join_signed, join_unsigned, 21),
        ),
        (
            f"leave, signed (removal, chain, epoch statement, {MEMBERS - 1} wraps)",
            *_measure(leave_signed, leave_unsigned, 21),
        ),
    ]


def server_side() -> tuple[str, float, float]:
    url = recreate_database("colloque_bench_groups")
    upgrade(url)
    db = Database(url)
    log = LogKey.from_settings(Settings())
    admin_keys = _user()
    users = [_user() for _ in range(MEMBERS - 1)]
    with db.write() as session:
        admin = do_create_account(
            session, now=NOW, display_name="Bench Admin", account_id=admin_keys.user_id
        )
        # The admin's bundle names the key the server checks the statements' signatures with.
        session.add(
            KeyBundleRow(
                account_id=admin_keys.user_id,
                epoch=1,
                encryption_public=admin_keys.encryption_public,
                signing_public=admin_keys.signing_public,
                sealed_by_password=b"unused",
                sealed_by_recovery=b"unused",
                updated_at=NOW,
            )
        )
        principal = principal_for_account(session, admin)
        practice = do_create_practice(
            session,
            now=NOW,
            principal=principal,
            name="Cabinet Banc d'Essai",
            address="1 rue du Banc",
            postcode="75001",
            city="Paris",
            latitude=48.86,
            longitude=2.34,
        ).practice_id
        for user in users:
            do_create_account(session, now=NOW, display_name="Member", account_id=user.user_id)
            do_add_member(
                session, practice_id=practice, account_id=user.user_id, role=Role.SECRETARY
            )
        bindings = [admin_keys.encryption_binding(), admin_keys.signing_binding()]
        bindings += [u.encryption_binding() for u in users]
        publish_bindings(session, bindings=bindings, now=NOW, log=log)
        principal = principal_for_account(session, admin)
        first = make_practice_group(
            session,
            now=NOW,
            practice_id=practice,
            creator=principal,
            admin=admin_keys,
            members=[
                (admin_keys, statements.Role.ADMIN),
                *((u, statements.Role.SECRETARY) for u in users),
            ],
        )
        # The first member leaves: the admin's signed removal (the member and their wrap go).
        removal = statements.sign_membership(
            group_id=practice,
            sequence=MEMBERS + 1,
            previous=stored_chain(session, practice_id=practice)[-1].leaf_hash(),
            member_id=users[0].user_id,
            role=statements.Role.REMOVED,
            signer=admin_keys,
        )
        do_append_memberships(
            session,
            now=NOW,
            principal=principal,
            practice_id=practice,
            leaves=[removal.to_leaf()],
            log=log,
        )
    remaining = [admin_keys.encryption_binding()] + [u.encryption_binding() for u in users[1:]]
    rotation = groups.rotate_group_key(first, members=remaining)
    wraps = [MemberWrap(a, w) for a, w in rotation.wraps.items()]
    statement = statements.sign_group_epoch(
        group_key=rotation.group_key.encryption_binding(),
        membership_sequence=MEMBERS + 1,
        members=[(b.subject_id, b.epoch) for b in remaining],
        signer=admin_keys,
    ).to_leaf()

    def in_rolled_back(work: Callable[[Session], object]) -> Callable[[], None]:
        def run() -> None:
            with Session(db.writer_engine) as session, session.begin():
                work(session)
                session.rollback()

        return run

    def rotate(session: Session) -> object:
        return do_rotate_group(
            session,
            now=NOW,
            principal=principal,
            practice_id=practice,
            epoch=2,
            public_key=rotation.group_key.public_key,
            wraps=wraps,
            log=log,
            statement=statement,
        )

    def store_only(session: Session) -> object:
        """The rows a rotation cannot avoid: the epoch and 999 wraps, with no checks or log."""
        session.add(
            PracticeKeyEpoch(
                practice_id=practice,
                epoch=2,
                public_key=rotation.group_key.public_key,
                leaf_index=0,
                created_by_account_id=None,
                created_at=NOW,
                rotation_due=False,
            )
        )
        session.flush()
        return session.execute(
            insert(PracticeKeyWrap),
            [
                {
                    "practice_id": practice,
                    "epoch": 2,
                    "account_id": w.account_id,
                    "wrap": w.wrap,
                    "created_at": NOW,
                }
                for w in wraps
            ],
        )

    result = _measure(in_rolled_back(rotate), in_rolled_back(store_only), 31)
    db.dispose()
    return (f"server: signed rotation, {MEMBERS - 1} wraps, PostgreSQL", *result)


def main() -> None:
    print(machine())
    print(f"PostgreSQL {postgres_version()}")
    rows = [*client_side(), server_side()]
    print(f"{'operation':<62} {'colloque':>10} {'baseline':>10} {'ratio':>6}")
    for name, ours, baseline in rows:
        print(f"{name:<62} {_fmt(ours):>10} {_fmt(baseline):>10} {ours / baseline:>6.2f}")
    print(f"{'signed memberships (client)':<62} {'signed':>10} {'unsigned':>10} {'ratio':>6}")
    for name, ours, baseline in signed_side():
        print(f"{name:<62} {_fmt(ours):>10} {_fmt(baseline):>10} {ours / baseline:>6.2f}")


def _fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()
