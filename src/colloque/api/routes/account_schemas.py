"""Request and response bodies of the account routes. Binary values travel as base64url text."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from colloque.api.schemas import B64, Body, Out
from colloque.principal import Role

#: An authentication key: 32 bytes.
Key32 = Annotated[B64, Field(min_length=32, max_length=32)]
#: ``KdfParams.to_bytes()``.
Params = Annotated[B64, Field(min_length=27, max_length=27)]
#: Private keys sealed by the client (190 or 217 bytes today; room for later versions).
Sealed = Annotated[B64, Field(min_length=64, max_length=1024)]
Email = Annotated[str, Field(min_length=3, max_length=320, json_schema_extra={"format": "email"})]
Code = Annotated[str, Field(min_length=1, max_length=32)]
Token = Annotated[str, Field(min_length=1, max_length=200)]


class SessionChoice(enum.StrEnum):
    COOKIE = "cookie"
    TOKEN = "token"  # noqa: S105 - a session kind, not a secret


class EmailIn(Body):
    email: Email


class PreloginOut(Out):
    kdf_params: B64
    recovery_kdf_params: B64


class SignupStartOut(Out):
    signup_id: UUID
    expires_in_seconds: int


class SignupVerifyIn(Body):
    signup_id: UUID
    code: Code


class SignupVerifyOut(Out):
    account_id: UUID
    signup_token: str
    kdf_params: B64
    recovery_kdf_params: B64


class SignupCompleteIn(Body):
    signup_token: Token
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    auth_key: Key32
    kdf_params: Params
    recovery_auth_key: Key32
    recovery_kdf_params: Params
    encryption_public: Key32
    signing_public: Key32
    sealed_by_password: Sealed
    sealed_by_recovery: Sealed
    session: SessionChoice = SessionChoice.TOKEN
    #: The holder's own patient record, made with the account: names default to the display
    #: name's words; without a birth date the record waits for ``POST /me/patients`` (self).
    first_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    last_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    birth_date: date | None = None


class LoginIn(Body):
    email: Email
    auth_key: Key32
    totp: Code | None = None
    recovery_code: Code | None = None
    session: SessionChoice = SessionChoice.TOKEN


class SessionOut(Out):
    kind: str
    #: The bearer token (``session: "token"`` only; a cookie session's token is in its cookie).
    token: str | None
    #: Echo it in ``X-CSRF-Token`` on unsafe requests (cookie sessions only; also in a cookie).
    csrf_token: str | None
    expires_at: datetime
    idle_timeout_seconds: int | None


class KeyBundleOut(Out):
    epoch: int
    encryption_public: B64
    signing_public: B64
    sealed_by_password: B64
    sealed_by_recovery: B64


class MfaOut(Out):
    enabled: bool
    #: Practice members must set it up before any practice action.
    required: bool


class LoginOut(Out):
    account_id: UUID
    session: SessionOut
    kdf_params: B64
    keys: KeyBundleOut
    mfa: MfaOut


class SignedUpOut(Out):
    account_id: UUID
    session: SessionOut


class ReauthIn(Body):
    auth_key: Key32
    totp: Code | None = None
    recovery_code: Code | None = None


class ReauthOut(Out):
    valid_until: datetime


class NewParamsOut(Out):
    kdf_params: B64


class PasswordChangeIn(Body):
    old_auth_key: Key32
    new_auth_key: Key32
    new_kdf_params: Params
    new_sealed_by_password: Sealed


class LoggedOutElsewhereOut(Out):
    #: How many other sessions ended: browsers, API clients and tokens issued by the CLI.
    ended_sessions: int


class RecoveryCodeStatusOut(Out):
    #: When the current recovery code was made.
    created_at: datetime
    #: When it last opened a recovery, if ever (a recovery started but not completed leaves the
    #: code in place).
    used_at: datetime | None


class RecoveryCodeIn(Body):
    """A new recovery code, made on the device: the authentication key derived from it, with
    its parameters (from ``POST /api/v1/auth/password/params``), and the account's current
    private keys sealed under it."""

    recovery_auth_key: Key32
    recovery_kdf_params: Params
    sealed_by_recovery: Sealed


class RecoveryStartIn(Body):
    email: Email
    recovery_auth_key: Key32
    totp: Code | None = None
    recovery_code: Code | None = None


class RecoveryStartOut(Out):
    recovery_token: str
    account_id: UUID
    sealed_by_recovery: B64
    kdf_params: B64
    recovery_kdf_params: B64


class RecoveryCompleteIn(Body):
    recovery_token: Token
    new_auth_key: Key32
    new_kdf_params: Params
    new_sealed_by_password: Sealed
    new_recovery_auth_key: Key32
    new_recovery_kdf_params: Params
    new_sealed_by_recovery: Sealed
    session: SessionChoice = SessionChoice.TOKEN


class KeyResetStartOut(Out):
    reset_id: UUID
    expires_in_seconds: int


class KeyResetVerifyIn(Body):
    reset_id: UUID
    code: Code
    #: Required when the account has TOTP: a code of the app, or one of the MFA recovery codes.
    totp: Code | None = None
    recovery_code: Code | None = None


class KeyResetVerifyOut(Out):
    account_id: UUID
    reset_token: str
    #: The epoch the new keys must carry.
    epoch: int
    kdf_params: B64
    recovery_kdf_params: B64


class KeyResetCompleteIn(Body):
    reset_token: Token
    epoch: Annotated[int, Field(ge=2, le=2**32 - 1)]
    auth_key: Key32
    kdf_params: Params
    recovery_auth_key: Key32
    recovery_kdf_params: Params
    encryption_public: Key32
    signing_public: Key32
    sealed_by_password: Sealed
    sealed_by_recovery: Sealed
    #: The new keys' reset endorsement (docs/crypto.md, section 5.12), signed by the new
    #: signing key; the server publishes it with the two bindings.
    endorsement: Annotated[B64, Field(min_length=1, max_length=1024)]
    session: SessionChoice = SessionChoice.TOKEN


class EmailChangeOut(Out):
    challenge_id: UUID
    expires_in_seconds: int


class EmailConfirmIn(Body):
    challenge_id: UUID
    code: Code


class TotpSetupOut(Out):
    secret: str
    uri: str


class CodeIn(Body):
    code: Code


class RecoveryCodesOut(Out):
    recovery_codes: list[str]


_INVITED_PRACTITIONER = (
    "for the practitioner role: the practitioner of this practice whom the invitee's account will "
    "act as; null for other roles and for a practitioner who practises elsewhere"
)
_PRACTISES_ELSEWHERE = (
    "for the practitioner role only, instead of a practitioner id: somebody who already practises "
    "at another practice on this Colloque. Accepting with the account they practise with there "
    "gives them an agenda at this practice for the same practitioner (their profile as it is, "
    "default booking rules, no hours yet: the practice then sets its hours, which may not meet "
    "their hours elsewhere)"
)


class InvitationIn(Body):
    email: Email
    role: Role
    practitioner_id: UUID | None = Field(default=None, description=_INVITED_PRACTITIONER)
    practises_elsewhere: bool = Field(default=False, description=_PRACTISES_ELSEWHERE)


class InvitationOut(Out):
    invitation_id: UUID
    practice_id: UUID
    email: str
    role: Role
    practitioner_id: UUID | None = Field(description=_INVITED_PRACTITIONER)
    practises_elsewhere: bool = Field(description=_PRACTISES_ELSEWHERE)
    expires_at: datetime


class AcceptIn(Body):
    token: Token


class MembershipOut(Out):
    practice_id: UUID
    role: Role
    practitioner_id: UUID | None


class MeOut(Out):
    account_id: UUID
    memberships: list[MembershipOut]
    mfa_satisfied: bool


class RemindersIn(Body):
    #: Reminders by email and SMS before appointments (confirmations and changes always go).
    enabled: bool


class RemindersOut(Out):
    enabled: bool
