"""One settings object, read from the environment (twelve-factor).

Services read their settings from the nameko container config, which is built from this
object (`nameko_config`) in the embedded runner and from `deploy/config.yaml` (environment
substitution) in the distributed mode. Both spell the same keys.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

SERVICES = ("roster", "question_bank", "attempts", "ranking", "awards")

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672//"
# policy knobs passed from the environment to every container as they are (each service
# reads its own with `setting`, default in the code): deploy/config.yaml spells the same
POLICY_KEYS = (
    "LOGIN_CODES_PER_ADDRESS_HOUR", "LOGIN_TRIES_PER_ADDRESS_10MIN",
    "MEMBER_REQUESTS_PER_MINUTE",
    "ATTEMPTS_REVEAL", "ATTEMPT_STARTS_PER_HOUR", "ATTEMPT_WAIT_AFTER_FAILURE_SECONDS",
    "FLAG_MIN_MS_PER_QUESTION", "FLAG_BANK_SHARE", "SMS_REMINDERS_PER_DAY",
    "STATS_MIN_GRADED", "STATS_FACILITY_FLOOR", "STATS_DISCRIMINATION_FLOOR",
    "MONTH_CLOSE_CHECK_SECONDS", "MONTH_TOP_DEPTH", "ATTEMPTS_EXPIRY_CHECK_SECONDS",
    "TRUSTED_PROXIES", "CHALLENGE_SECRET_PREVIOUS", "AGENCY_API_KEYS",
    "HTTP_READ_TIMEOUT_SECONDS", "HTTP_MAX_CONNECTIONS", "HTTP_MAX_PENDING",
    "RPC_READ_TIMEOUT_SECONDS", "EVENT_BATCH_SIZE", "EVENT_BATCH_WAIT_MS",
)


@dataclass(frozen=True)
class Settings:
    amqp_uri: str = DEFAULT_AMQP_URI
    database_url: str | None = None  # one database, a schema per service
    service_database_urls: dict = field(default_factory=dict)  # <SERVICE>_DATABASE_URL
    secret: str | None = None  # CHALLENGE_SECRET: no default (docs/decisions.md)
    time_zone: str = "Asia/Shanghai"
    sms_backend: str = "file"  # file | log
    sms_file: str = "var/login-codes.log"
    grace_seconds: float = 10.0
    settle_seconds: float = 300.0
    web_address: str = "127.0.0.1:8000"
    outbox_poll_seconds: float = 5.0
    rpc_timeout_seconds: float = 10.0
    policy: dict = field(default_factory=dict)  # POLICY_KEYS found in the environment

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        env = os.environ if environ is None else environ
        urls = {
            name: env[f"{name.upper()}_DATABASE_URL"]
            for name in SERVICES
            if env.get(f"{name.upper()}_DATABASE_URL")
        }
        base = cls()
        return cls(
            amqp_uri=env.get("AMQP_URI", base.amqp_uri),
            database_url=env.get("DATABASE_URL") or None,
            service_database_urls=urls,
            secret=env.get("CHALLENGE_SECRET") or None,
            time_zone=env.get("CHALLENGE_TIME_ZONE", base.time_zone),
            sms_backend=env.get("SMS_BACKEND", base.sms_backend),
            sms_file=env.get("SMS_FILE", base.sms_file),
            grace_seconds=float(env.get("CHALLENGE_GRACE_SECONDS", base.grace_seconds)),
            settle_seconds=float(env.get("CHALLENGE_SETTLE_SECONDS", base.settle_seconds)),
            web_address=env.get("WEB_SERVER_ADDRESS", base.web_address),
            outbox_poll_seconds=float(
                env.get("OUTBOX_POLL_SECONDS", base.outbox_poll_seconds)
            ),
            rpc_timeout_seconds=float(
                env.get("RPC_TIMEOUT_SECONDS", base.rpc_timeout_seconds)
            ),
            policy={key: env[key] for key in POLICY_KEYS if env.get(key)},
        )

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def nameko_config(self) -> dict:
        """The container config every service reads (same keys as deploy/config.yaml)."""
        config = {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": self.web_address,
            "CHALLENGE_SECRET": self.secret,
            "CHALLENGE_TIME_ZONE": self.time_zone,
            "SMS_BACKEND": self.sms_backend,
            "SMS_FILE": self.sms_file,
            "CHALLENGE_GRACE_SECONDS": self.grace_seconds,
            "CHALLENGE_SETTLE_SECONDS": self.settle_seconds,
            "OUTBOX_POLL_SECONDS": self.outbox_poll_seconds,
            "RPC_TIMEOUT_SECONDS": self.rpc_timeout_seconds,
            "DATABASE_URL": self.database_url,
        }
        for name, url in self.service_database_urls.items():
            config[f"{name.upper()}_DATABASE_URL"] = url
        config.update(self.policy)
        return config


MIN_SECRET_BYTES = 32
SECRET_KEYS = ("CHALLENGE_SECRET", "CHALLENGE_SECRET_PREVIOUS")


def secret_problem(config: dict) -> str | None:
    """Why the token secrets in `config` cannot sign, in one line, or None when they can.

    A default or short secret lets anyone who reads a member id off the boards sign a token
    for it, so there is none: CHALLENGE_SECRET must be set and long, and so must
    CHALLENGE_SECRET_PREVIOUS while a secret is being rotated (it verifies tokens too)."""
    secret, previous = (config.get(key) for key in SECRET_KEYS)
    if _short(secret):
        return (f"CHALLENGE_SECRET is not set (or shorter than {MIN_SECRET_BYTES} bytes): set "
                f"it to a random string of at least {MIN_SECRET_BYTES} bytes, e.g. "
                "python -c \"import secrets; print(secrets.token_urlsafe(48))\"")
    if previous not in (None, "") and _short(previous):  # set only while rotating
        return (f"CHALLENGE_SECRET_PREVIOUS is shorter than {MIN_SECRET_BYTES} bytes: empty it "
                "(tokens signed with a short secret cannot be trusted)")
    return None


def _short(secret) -> bool:
    return secret is None or len(str(secret).encode()) < MIN_SECRET_BYTES


def database_url(config: dict, service: str) -> str:
    """The URL a service's database lives at: its own, or the shared one (schema per service)."""
    url = config.get(f"{service.upper()}_DATABASE_URL") or config.get("DATABASE_URL")
    if not url:
        raise RuntimeError(
            f"no database configured for {service}: set {service.upper()}_DATABASE_URL "
            "or DATABASE_URL"
        )
    return url


def setting(config: dict, key: str, default, cast=str):
    value = config.get(key)
    if value in (None, ""):
        return default
    return cast(value)
