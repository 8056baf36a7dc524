"""Demo logins: a real sign-up done in-process, client side included, so that the printed email
and password work for a real login (and the printed bearer token works at once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.accounts.passwords import NewPassword, NewRecoveryCode
from colloque.accounts.services import check_email, do_issue_token
from colloque.accounts.signup import PublicKeys, create_account_with_credentials
from colloque.client.passwords import check_password
from colloque.config import Settings
from colloque.crypto.keys import create_key_bundle
from colloque.crypto.login import ASVS_MINIMUM_COST, Argon2Cost, derive_login_keys, new_kdf_params
from colloque.ids import new_id
from colloque.keydirectory.config import LogKey
from colloque.keydirectory.interfaces import LogSigner
from colloque.patients.services import OwnDetails

DEMO_TOKEN_LIFETIME = timedelta(days=90)


def do_create_demo_login(
    session: Session,
    *,
    now: datetime,
    email: str,
    display_name: str,
    password: str,
    kdf_cost: Argon2Cost = ASVS_MINIMUM_COST,
    token_lifetime: timedelta = DEMO_TOKEN_LIFETIME,
    insecure_allow_weak_cost: bool = False,
    log: LogSigner | None = None,
    own: OwnDetails = OwnDetails(),
) -> tuple[Account, str]:
    """Sign up ``email`` with ``password`` as a client would, and issue a bearer token.

    The password must pass the clients' strength check (``WeakPassword`` otherwise). The cost
    defaults to the OWASP ASVS floor, to keep generation quick; it must not be below it (only
    tests may pass ``insecure_allow_weak_cost``). The recovery code is thrown away: demo accounts
    cannot be recovered. The account's keys are published in the key directory, signed by
    ``log`` (default: the log key of the settings in the environment, which the server the demo
    data is for will use too). The holder's own patient record is made as at sign-up (``own``).
    """
    check_password(password, user_inputs=[email, display_name])
    account_id = new_id()
    params = new_kdf_params(kdf_cost)
    weak = insecure_allow_weak_cost
    login_keys = derive_login_keys(password, params, insecure_allow_weak_cost=weak)
    created = create_key_bundle(
        account_id, login_keys.kek, recovery_cost=kdf_cost, insecure_allow_weak_cost=weak
    )
    recovery_params = new_kdf_params(kdf_cost)
    recovery_keys = derive_login_keys(
        created.recovery_code.text, recovery_params, insecure_allow_weak_cost=weak
    )
    account = create_account_with_credentials(
        session,
        now=now,
        account_id=account_id,
        email=check_email(email),
        display_name=display_name,
        password=NewPassword(
            auth_key=login_keys.auth_key,
            kdf_params=params.to_bytes(),
            sealed_by_password=created.bundle.sealed_by_password,
        ),
        recovery=NewRecoveryCode(
            auth_key=recovery_keys.auth_key,
            kdf_params=recovery_params.to_bytes(),
            sealed_by_recovery=created.bundle.sealed_by_recovery,
        ),
        public_keys=PublicKeys(
            encryption_public=created.bundle.encryption_public,
            signing_public=created.bundle.signing_public,
            epoch=created.bundle.epoch,
        ),
        log=log if log is not None else LogKey.from_settings(Settings()),
        own=own,
    )
    token = do_issue_token(session, now=now, account_id=account_id, lifetime=token_lifetime)
    return account, token
