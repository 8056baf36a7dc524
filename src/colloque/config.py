"""Settings, read from the environment (``COLLOQUE_*``).

Production refuses to start with a missing or default secret or log key, or with the demo's console
defaults (console mail, cookies without ``Secure``, the tests' key-derivation cost): see
:meth:`Settings.check_production`.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from colloque.server_keys import ServerKeys, legacy_log_signing_seed
from colloque.settingvalues import WitnessEntry, decode_log_seed, parse_witnesses

DEVELOPMENT_SECRET = "colloque-development-secret-not-for-production"  # noqa: S105 - refused in production
MIN_SECRET_LENGTH = 32
#: The key directory's log key when none is set outside production: the one earlier versions
#: derived from the development secret, so existing demo databases keep their log. Public, so
#: refused in production.
DEVELOPMENT_LOG_SEED = legacy_log_signing_seed(DEVELOPMENT_SECRET)
DEFAULT_AUDIT_ADDRESS_RETENTION_DAYS = 180
#: A day: a document's stream must be described within it, and is swept some time after.
DEFAULT_DOCUMENT_UPLOAD_GRACE_SECONDS = 86_400


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class MailBackend(enum.StrEnum):
    #: Prints mail on standard output: the local demo only.
    CONSOLE = "console"
    SMTP = "smtp"
    #: Delivers into a local maildir (``maildir_path``) that a mail reader opens: the demo.
    MAILDIR = "maildir"


class SmsBackend(enum.StrEnum):
    #: No SMS: messages for patients with only a phone wait as failed ("no_contact").
    NONE = "none"
    #: Prints SMS on standard output: development only.
    CONSOLE = "console"
    #: A provider's HTTP API (``colloque.notifications.sms``).
    HTTP = "http"


class KdfCost(enum.StrEnum):
    """The Argon2id cost handed to clients for new passwords (docs/accounts.md)."""

    #: 3 passes over 64 MiB: what real deployments use.
    INTERACTIVE = "interactive"
    #: The OWASP ASVS floor (2 passes over 19 MiB): slow machines, the demo's logins.
    MINIMUM = "minimum"
    #: Far below the floor, so that tests run fast. Refused in production.
    TEST = "test"


class ConfigurationError(Exception):
    """The settings cannot run Colloque; the message says which setting and why."""


class Settings(BaseSettings):
    #: Errors name the setting, never its value: some values are secrets.
    model_config = SettingsConfigDict(
        env_prefix="COLLOQUE_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    #: The built web assets (``scripts/web-build``). Unset: ``web/dist`` of the source tree.
    web_dist_dir: Path | None = None
    database_url: str | None = None
    #: PostgreSQL: the role the application connects as. ``colloque migrate``, run as the
    #: database's owner, grants it SELECT and INSERT only on the audit log and the usual rights
    #: elsewhere (``colloque.storage.roles``; docs/operations.md, "Audit log").
    database_app_role: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: How often the background worker rebuilds stale search caches and lapses waitlist holds.
    refresh_interval_seconds: float = Field(default=15.0, gt=0)
    refresh_batch: int = Field(default=200, ge=1)
    #: How long each server process may answer a search from its last identical one (0: never).
    #: An answer that old may offer a slot booked meanwhile (colloque/search/answers.py).
    search_answer_seconds: float = Field(default=0.0, ge=0, le=60)
    #: Keep each process's last answer of a (specialty, city) search's first page and serve it
    #: again while a one-statement check says it is still exact (colloque/search/services.py).
    search_keep_answers: bool = True
    #: Start the in-process refresher with the web server. Turn off when a separate worker runs it.
    run_refresher: bool = True
    #: How long an uploaded document stream waits for its description. Older, the description is
    #: refused, and the upkeep removes the stream (an hour later) if it has none; it also removes
    #: what uploads cut off mid-way left behind, once untouched for this long.
    document_upload_grace_seconds: int = Field(
        default=DEFAULT_DOCUMENT_UPLOAD_GRACE_SECONDS, ge=3_600, le=30 * 86_400
    )
    #: How long the audit log keeps a client's full address; then only its /24 or /48 prefix is
    #: left (docs/operations.md, "Audit log").
    audit_address_retention_days: int = Field(
        default=DEFAULT_AUDIT_ADDRESS_RETENTION_DAYS, ge=1, le=3_650
    )
    #: The audit log's checkpoint signing key: a file holding an Ed25519 seed (hex), made 0600 at
    #: first start if absent. Unset: ``<data_dir>/audit-signing-key``, refused in production.
    #: Apart from ``secret_key`` and the key directory's key (docs/audit.md).
    audit_signing_key_file: Path | None = None
    #: Or the key on a PKCS#11 token (an HSM), which never lets it out: the vendor's module (a
    #: shared library), the token's label, its user PIN and the key's label. Set the module and
    #: the key file is not used; ``colloque audit hsm-keygen`` makes the key (docs/audit.md).
    audit_pkcs11_module: Path | None = None
    audit_pkcs11_token_label: str | None = None
    audit_pkcs11_pin: SecretStr | None = None
    audit_pkcs11_key_label: str = Field(default="colloque-audit", min_length=1, max_length=200)
    #: The audit log's name in its signed checkpoints. Unset: ``<public_url's host>/audit``.
    audit_origin: str | None = Field(default=None, pattern=r"^[^\s+\x00-\x1f]{1,200}$")
    #: How often the sequencer signs a checkpoint when the logs grew (``colloque audit
    #: checkpoint`` signs one on demand).
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0)
    #: How many pending events the sequencer integrates per transaction, and per upkeep round.
    audit_sequencer_batch: int = Field(default=5_000, ge=1, le=100_000)
    audit_sequencer_round: int = Field(default=200_000, ge=1)
    #: The bound on the window between an event's commit and its integration: ``colloque audit
    #: verify`` reports an event older than this that is in no log and not pending.
    audit_integration_bound_seconds: float = Field(default=3_600.0, gt=0)
    #: The file witness: a directory outside the database (another disk, a mount shipped
    #: elsewhere) where every signed checkpoint, the audit log's and the key directory's, is
    #: appended. Unset: no file witness.
    audit_witness_dir: Path | None = None

    #: Where account mail (sign-up codes, invitations, notices) goes. Unset: the console in
    #: development and tests, SMTP in production (where the console is refused).
    mail_backend: MailBackend | None = None
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    #: Unset: STARTTLS in production, plain SMTP elsewhere. Production refuses ``false``.
    smtp_starttls: bool | None = None
    mail_from: str = "Colloque <noreply@localhost>"
    #: The domain of Message-IDs and calendar UIDs. Unset: the domain of ``mail_from``.
    mail_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    #: Where the maildir backend delivers. Unset: ``<data_dir>/maildir``.
    maildir_path: Path | None = None
    #: DKIM: mail is signed when a selector is set, with the PEM private key in the file named
    #: (its public half is published at ``<selector>._domainkey.<dkim_domain>``).
    dkim_selector: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,63}$")
    #: Unset: ``mail_domain``.
    dkim_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    dkim_private_key_file: Path | None = None
    #: The web address that links in mail point to (no personal data and no credential in them).
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/?#]+$")
    sms_backend: SmsBackend = SmsBackend.NONE
    sms_provider_url: str | None = None
    sms_provider_token: SecretStr | None = None
    #: The sender name or number the provider shows.
    sms_sender: str = "Colloque"
    #: The outbox worker: how often it looks for due messages, how many it claims at once, how
    #: long a claim lasts before another worker may take the message over (after a crash), and
    #: the retries (exponential from ``outbox_retry_base_seconds``, capped, with jitter) before
    #: a message is marked failed.
    outbox_interval_seconds: float = Field(default=2.0, gt=0)
    outbox_batch: int = Field(default=50, ge=1, le=1_000)
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_retry_base_seconds: float = Field(default=30.0, gt=0)
    outbox_retry_cap_seconds: float = Field(default=3_600.0, gt=0)
    #: The mass-change breaker: more cancellation or move messages than this from one practice,
    #: or from one account, within the window, and the rest wait for a practice admin
    #: (docs/notifications.md).
    mass_change_limit: int = Field(default=50, ge=1, le=100_000)
    mass_change_window_seconds: float = Field(default=600.0, gt=0)
    #: Run the outbox worker inside ``colloque serve``. Unset: as ``run_refresher``.
    run_outbox_worker: bool | None = None
    #: ``Secure`` on the session cookies. Unset: on, except in development (the local demo is
    #: served over plain HTTP on 127.0.0.1). Production refuses ``false``.
    cookie_secure: bool | None = None
    #: Serve ``/docs`` and ``/openapi.json``. Unset: on, except in production (they map every
    #: operation for an attacker; the OpenAPI is still made in-process for the web app's types).
    api_docs: bool | None = None
    kdf_cost: KdfCost = KdfCost.INTERACTIVE
    #: The key directory's log name, in its signed checkpoints; clients pin it with the log's key.
    key_directory_origin: str = Field(
        default="localhost/colloque/key-directory", pattern=r"^[^\s+\x00-\x1f]{1,200}$"
    )
    #: The seed of the key directory log's signing key (32 bytes, hex or base64). Its own secret,
    #: independent of ``secret_key``. Required in production; elsewhere DEVELOPMENT_LOG_SEED.
    key_directory_log_key: SecretStr | None = None
    #: The witnesses each new checkpoint is submitted to: ``name=<public key base64>@<url>``
    #: entries, comma-separated (``colloque witness key`` prints the part before ``@``).
    key_directory_witnesses: str = ""
    #: How many of them must have cosigned a checkpoint before the API serves it (k of n). 0: the
    #: latest checkpoint is served as signed by the log alone, as without witnesses.
    key_directory_witness_threshold: int = Field(default=0, ge=0)
    #: How often a server retries witnesses that have not cosigned the latest checkpoint.
    key_directory_witness_retry_seconds: float = Field(default=30.0, gt=0)
    #: How old the latest checkpoint's cosignatures may get before it is submitted again for
    #: fresh ones (clients may refuse old ones: ``witness_max_age``; keep it well below theirs).
    key_directory_witness_refresh_seconds: float = Field(default=3600.0, gt=0)

    #: Probing (docs/authorization.md): from ``slow_after`` "not found" answers within the window
    #: every further one is delayed by ``delay_seconds``; at ``lock_after`` the principal is locked.
    probing_slow_after: int = Field(default=10, ge=1)
    probing_lock_after: int = Field(default=20, ge=1)
    probing_window_seconds: float = Field(default=600.0, gt=0)
    probing_lock_seconds: float = Field(default=900.0, gt=0)
    probing_delay_seconds: float = Field(default=1.0, ge=0, le=60)
    #: An address's network (its IPv6 /64, its IPv4 /24) gets this many times those limits.
    probing_network_factor: int = Field(default=5, ge=1)
    #: Mass changes by hand (docs/accounts.md): past this many cancellations or moves by one
    #: credential within the window, a member confirms with a fresh re-authentication (with MFA).
    confirm_changes_after: int = Field(default=20, ge=1)
    confirm_changes_window_seconds: float = Field(default=600.0, gt=0)

    #: Anomaly suspension (docs/containment.md): each credential's points per window (distinct
    #: persons read, weighted by how far from today the read looked, and changes made) against a
    #: limit of ``base + per_patient x the practice's patients`` for its role (or more for a busy
    #: agenda: ``per_weekly_appointment``).
    containment_enabled: bool = True
    containment_window_seconds: float = Field(default=3600.0, gt=0)
    containment_secretary_base: int = Field(default=120, ge=1)
    containment_secretary_per_patient: float = Field(default=0.04, ge=0)
    containment_practitioner_base: int = Field(default=100, ge=1)
    containment_practitioner_per_patient: float = Field(default=0.03, ge=0)
    containment_admin_base: int = Field(default=120, ge=1)
    containment_admin_per_patient: float = Field(default=0.04, ge=0)
    containment_operator_base: int = Field(default=60, ge=1)
    containment_operator_per_patient: float = Field(default=0.01, ge=0)
    #: Reads of agenda windows reaching further than this from today (either way) weigh more.
    containment_horizon_days: int = Field(default=120, ge=1)
    containment_far_weight: float = Field(default=4.0, ge=1)
    #: What one change (booking, cancellation, move, mark) counts, in persons.
    containment_change_weight: float = Field(default=2.0, ge=0)
    #: The limit is at least this many times the practice's appointments of the coming week.
    containment_per_weekly_appointment: float = Field(default=2.5, ge=0)
    #: The second window, from a credential's first counted event in a practice, and its limit
    #: in window limits: reading just under the window's limit all day is stopped too.
    containment_day_seconds: float = Field(default=86_400.0, gt=0)
    containment_day_factor: float = Field(default=3.0, ge=1)

    @field_validator("key_directory_log_key")
    @classmethod
    def _log_key_is_a_seed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_log_seed(value.get_secret_value())
        return value

    @field_validator("audit_pkcs11_module", mode="before")
    @classmethod
    def _empty_module_is_none(cls, value: object) -> object:
        # An empty variable would otherwise be the current directory, loaded as a module.
        return None if value == "" else value

    @field_validator("key_directory_witnesses")
    @classmethod
    def _witnesses_parse(cls, value: str) -> str:
        parse_witnesses(value)
        return value

    @model_validator(mode="after")
    def _witness_threshold_reachable(self) -> Self:
        if self.key_directory_witness_threshold > len(self.witnesses):
            raise ValueError(
                "COLLOQUE_KEY_DIRECTORY_WITNESS_THRESHOLD is above the number of witnesses"
            )
        return self

    @property
    def witnesses(self) -> list[WitnessEntry]:
        return parse_witnesses(self.key_directory_witnesses)

    @model_validator(mode="after")
    def _probing_lock_not_before_slowing(self) -> Self:
        if self.probing_lock_after < self.probing_slow_after:
            raise ValueError(
                "COLLOQUE_PROBING_LOCK_AFTER must not be below COLLOQUE_PROBING_SLOW_AFTER"
            )
        return self

    @model_validator(mode="after")
    def _containment_day_not_shorter(self) -> Self:
        if self.containment_day_seconds < self.containment_window_seconds:
            raise ValueError(
                "COLLOQUE_CONTAINMENT_DAY_SECONDS must not be below COLLOQUE_CONTAINMENT_WINDOW_SECONDS"
            )
        return self

    @property
    def server_keys(self) -> ServerKeys:
        """The keys derived from ``secret_key``, one per purpose (``colloque.server_keys``)."""
        return ServerKeys.from_secret(self.secret_key.get_secret_value())

    @property
    def log_signing_seed(self) -> bytes:
        """The key directory log's signing seed: ``key_directory_log_key``, or outside production
        the development default."""
        if self.key_directory_log_key is not None:
            return decode_log_seed(self.key_directory_log_key.get_secret_value())
        if self.environment is Environment.PRODUCTION:
            raise ConfigurationError("COLLOQUE_KEY_DIRECTORY_LOG_KEY must be set in production")
        return DEVELOPMENT_LOG_SEED

    #: Apply ``X-Forwarded-For``/``-Proto`` from the addresses below (docs/operations.md).
    proxy_headers: bool = True
    #: The reverse proxies trusted for ``X-Forwarded-For``, ``X-Forwarded-Proto`` and
    #: ``X-Request-ID``: comma-separated addresses or networks, or ``*`` (uvicorn's syntax).
    forwarded_allow_ips: str = "127.0.0.1"
    #: A bearer token for ``GET /metrics``. Unset: open in development and tests, off (404) in
    #: production.
    metrics_token: SecretStr | None = None
    #: prometheus-client's own variable, set by ``colloque serve --workers N`` (N > 1): the
    #: directory where each worker keeps its values, added up at scrape time.
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'colloque.sqlite3').resolve()}"

    @property
    def document_upload_grace(self) -> timedelta:
        return timedelta(seconds=self.document_upload_grace_seconds)

    @property
    def audit_address_retention(self) -> timedelta:
        return timedelta(days=self.audit_address_retention_days)

    @property
    def effective_audit_signing_key_file(self) -> Path:
        if self.audit_signing_key_file is not None:
            return self.audit_signing_key_file
        if self.environment is Environment.PRODUCTION:
            raise ConfigurationError("COLLOQUE_AUDIT_SIGNING_KEY_FILE must be set in production")
        return self.data_dir / "audit-signing-key"

    @property
    def effective_audit_origin(self) -> str:
        if self.audit_origin:
            return self.audit_origin
        return f"{self.public_url.split('://', 1)[1]}/audit"

    @property
    def effective_mail_backend(self) -> MailBackend:
        if self.mail_backend is not None:
            return self.mail_backend
        if self.environment is Environment.PRODUCTION:
            return MailBackend.SMTP
        return MailBackend.CONSOLE

    @property
    def effective_mail_domain(self) -> str:
        if self.mail_domain:
            return self.mail_domain
        from email.utils import parseaddr

        return parseaddr(self.mail_from)[1].rpartition("@")[2] or "localhost"

    @property
    def effective_maildir_path(self) -> Path:
        return self.maildir_path or (self.data_dir / "maildir")

    @property
    def effective_run_outbox_worker(self) -> bool:
        if self.run_outbox_worker is not None:
            return self.run_outbox_worker
        return self.run_refresher

    def dkim_private_key(self) -> bytes | None:
        """The DKIM key's PEM, or None when mail is not signed. Raises ConfigurationError when a
        selector is set and its key cannot be read."""
        if self.dkim_selector is None:
            return None
        if self.dkim_private_key_file is None:
            raise ConfigurationError(
                "COLLOQUE_DKIM_PRIVATE_KEY_FILE must be set when COLLOQUE_DKIM_SELECTOR is"
            )
        try:
            key = self.dkim_private_key_file.read_bytes()
        except OSError:
            raise ConfigurationError("COLLOQUE_DKIM_PRIVATE_KEY_FILE cannot be read") from None
        if b"PRIVATE KEY" not in key:
            raise ConfigurationError("COLLOQUE_DKIM_PRIVATE_KEY_FILE holds no PEM private key")
        return key

    @property
    def effective_smtp_starttls(self) -> bool:
        if self.smtp_starttls is not None:
            return self.smtp_starttls
        return self.environment is Environment.PRODUCTION

    @property
    def effective_api_docs(self) -> bool:
        if self.api_docs is not None:
            return self.api_docs
        return self.environment is not Environment.PRODUCTION

    @property
    def effective_cookie_secure(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment is not Environment.DEVELOPMENT

    def check_production(self) -> None:
        if self.environment is not Environment.PRODUCTION:
            return
        secret = self.secret_key.get_secret_value()
        if not secret or secret == DEVELOPMENT_SECRET or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                "COLLOQUE_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters in production"
            )
        if not self.database_url:
            raise ConfigurationError("COLLOQUE_DATABASE_URL must be set in production")
        if self.effective_mail_backend is not MailBackend.SMTP:
            raise ConfigurationError(
                f"COLLOQUE_MAIL_BACKEND={self.effective_mail_backend.value} is refused in production"
            )
        self.dkim_private_key()
        if self.sms_backend is SmsBackend.CONSOLE:
            raise ConfigurationError("COLLOQUE_SMS_BACKEND=console is refused in production")
        if self.sms_backend is SmsBackend.HTTP and not (
            self.sms_provider_url
            and self.sms_provider_token
            and self.sms_provider_token.get_secret_value()
        ):
            raise ConfigurationError(
                "COLLOQUE_SMS_PROVIDER_URL and COLLOQUE_SMS_PROVIDER_TOKEN must be set when "
                "COLLOQUE_SMS_BACKEND=http"
            )
        if not self.effective_smtp_starttls:
            raise ConfigurationError("COLLOQUE_SMTP_STARTTLS=false is refused in production")
        if self.smtp_username and not (
            self.smtp_password and self.smtp_password.get_secret_value()
        ):
            raise ConfigurationError(
                "COLLOQUE_SMTP_PASSWORD must be set when COLLOQUE_SMTP_USERNAME is"
            )
        if not self.effective_cookie_secure:
            raise ConfigurationError("COLLOQUE_COOKIE_SECURE=false is refused in production")
        if self.kdf_cost is KdfCost.TEST:
            raise ConfigurationError("COLLOQUE_KDF_COST=test is refused in production")
        if not self.containment_enabled:
            # The switch exists for the benchmarks' baseline; off, a stolen staff credential reads
            # a whole practice unchecked and the decoys catch nobody (docs/containment.md).
            raise ConfigurationError("COLLOQUE_CONTAINMENT_ENABLED=false is refused in production")
        if self.log_signing_seed == DEVELOPMENT_LOG_SEED:
            raise ConfigurationError(
                "COLLOQUE_KEY_DIRECTORY_LOG_KEY is the development default, refused in production"
            )
        if self.audit_signing_key_file is None and self.audit_pkcs11_module is None:
            raise ConfigurationError(
                "COLLOQUE_AUDIT_SIGNING_KEY_FILE must be set in production (or the token's "
                "COLLOQUE_AUDIT_PKCS11_MODULE)"
            )


class WitnessSettings(BaseSettings):
    """A key directory witness's own settings (``colloque witness``), apart from the server's."""

    model_config = SettingsConfigDict(
        env_prefix="COLLOQUE_WITNESS_", extra="ignore", hide_input_in_errors=True
    )

    #: The witness's Ed25519 seed (hex or base64). Unset: made at first start in its data directory.
    key: SecretStr | None = None


def load_settings() -> Settings:
    settings = Settings()
    settings.check_production()
    return settings
