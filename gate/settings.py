"""Gate settings from the environment and `.env` (starlette Config); secrets never print."""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config
from starlette.datastructures import Secret

from generator.config import SiteConfig, load_config
from generator.errors import Problems

from .billing.settings import BillingSettings, BillingSettingsError, load_billing_settings
from .mail.settings import MailSettings, MailSettingsError, load_mail_settings

# OWASP's argon2id floor: m=19 MiB, t=2, p=1. Anything weaker is refused.
ARGON2_FLOOR = {"memory_kib": 19456, "time_cost": 2, "parallelism": 1}


class SettingsError(Exception):
    """A configuration problem; the message names the variable and the fix."""


@dataclass
class Settings:
    root: Path
    site: SiteConfig
    env: str = "development"
    secret_keys: Secret = field(default_factory=lambda: Secret(""))  # comma-separated, first signs
    database_url: Secret | None = None
    cookie_secure: str = "auto"  # "auto" (per request scheme), "true" or "false"
    trust_proxy: int = 0  # trusted proxy hops for X-Forwarded-For/-Proto; 0 = ignore them
    session_idle: int = 7 * 86400
    session_max_age: int = 30 * 86400
    login_fail_client: int = 10  # login attempts per account and client IP per hour (then 429)
    login_fail_account: int = 100  # failed logins per account per hour before attempts are spaced out
    login_fail_ip: int = 300  # login attempts per client IP per hour
    register_ip: int = 20  # registration attempts per IP per hour
    argon2_memory_kib: int = ARGON2_FLOOR["memory_kib"]
    argon2_time_cost: int = ARGON2_FLOOR["time_cost"]
    argon2_parallelism: int = ARGON2_FLOOR["parallelism"]
    allowed_origins: tuple[str, ...] = ()
    max_body: int = 16 * 1024
    body_timeout: int = 10  # seconds to receive a request body (a client announcing more than it sends)
    pg_pool_size: int = 4  # PostgreSQL connections per gate process (each instance has its own pool)
    db_wait: int = 5  # seconds a request may wait for the database (a lock, a pooled connection), then 503
    job_posts_account: int = 5  # job posts per account per day
    job_posts_ip: int = 20  # job posts per client address per day
    job_post_max_body: int = 64 * 1024  # bytes of one job post (the description is up to 10,000 characters)
    bench: bool = False  # mounts a bare endpoint for benchmarks
    mail: MailSettings = field(default_factory=MailSettings)  # SMTP relay, sender, DKIM, retries
    billing: BillingSettings = field(default_factory=BillingSettings)  # Stripe keys

    @property
    def keys(self) -> list[str]:
        return [k.strip() for k in str(self.secret_keys).split(",") if k.strip()]

    @property
    def sqlite_path(self) -> Path:
        return self.root / "var" / "gate.sqlite"

    @property
    def production(self) -> bool:
        return self.env == "production"


def _int(config: Config, name: str, default: int, minimum: int = 0) -> int:
    raw = config(name, default=None)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum} (got {value})")
    return value


def _bool_word(config: Config, name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = (config(name, default=None) or default).strip().lower()
    aliases = {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false", "off": "false"}
    value = aliases.get(raw, raw)
    if value not in allowed:
        raise SettingsError(f"{name}={raw!r}: use one of {', '.join(allowed)}")
    return value


def dev_secret(root: Path) -> str:
    """Development only: a key generated once and kept in var/secret_key (mode 0600)."""
    path = root / "var" / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


def load_settings(root: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Reads CODEREF_* from `environ` (default os.environ) over `root/.env`, and content/site.yml."""
    env_file = root / ".env"
    config = Config(
        env_file if env_file.is_file() else None, environ=dict(os.environ if environ is None else environ)
    )
    problems = Problems()
    site = load_config(root, problems)
    if problems.errors:
        raise SettingsError("content/site.yml has errors:\n" + "\n".join(str(p) for p in problems.errors))
    mode = _bool_word(config, "CODEREF_ENV", "development", ("development", "production"))
    s = Settings(root=root, site=site, env=mode)
    s.secret_keys = Secret(config("CODEREF_SECRET_KEYS", default="") or "")
    url = config("CODEREF_DATABASE_URL", default=None)
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise SettingsError("CODEREF_DATABASE_URL must start with postgresql:// (unset it for SQLite)")
        s.database_url = Secret(url)
    s.cookie_secure = _bool_word(
        config, "CODEREF_COOKIE_SECURE", "true" if s.production else "auto", ("auto", "true", "false")
    )
    s.trust_proxy = _int(config, "CODEREF_TRUST_PROXY", 0)
    s.session_idle = _int(config, "CODEREF_SESSION_IDLE", s.session_idle, 60)
    s.session_max_age = _int(config, "CODEREF_SESSION_MAX_AGE", s.session_max_age, 60)
    s.login_fail_client = _int(config, "CODEREF_LOGIN_FAILURES_PER_CLIENT", 10, 1)
    s.login_fail_account = _int(config, "CODEREF_LOGIN_FAILURES_PER_ACCOUNT", 100, 1)
    s.login_fail_ip = _int(config, "CODEREF_LOGIN_FAILURES_PER_IP", 300, 1)
    s.register_ip = _int(config, "CODEREF_REGISTRATIONS_PER_IP", 20, 1)
    s.body_timeout = _int(config, "CODEREF_BODY_TIMEOUT", s.body_timeout, 1)
    s.pg_pool_size = _int(config, "CODEREF_PG_POOL_SIZE", s.pg_pool_size, 1)
    s.db_wait = _int(config, "CODEREF_DB_WAIT", s.db_wait, 1)
    s.job_posts_account = _int(config, "CODEREF_JOB_POSTS_PER_ACCOUNT", 5, 1)
    s.job_posts_ip = _int(config, "CODEREF_JOB_POSTS_PER_IP", 20, 1)
    s.job_post_max_body = _int(config, "CODEREF_JOB_POST_MAX_BYTES", 64 * 1024, 16 * 1024)
    s.argon2_memory_kib = _int(config, "CODEREF_ARGON2_MEMORY_KIB", ARGON2_FLOOR["memory_kib"])
    s.argon2_time_cost = _int(config, "CODEREF_ARGON2_TIME_COST", ARGON2_FLOOR["time_cost"])
    s.argon2_parallelism = _int(config, "CODEREF_ARGON2_PARALLELISM", ARGON2_FLOOR["parallelism"])
    for name, floor in ARGON2_FLOOR.items():
        if getattr(s, f"argon2_{name}") < floor:
            raise SettingsError(f"CODEREF_ARGON2_{name.upper()} is below the OWASP floor of {floor}")
    origins = config("CODEREF_ALLOWED_ORIGINS", default="") or ""
    s.allowed_origins = tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip())
    s.bench = _bool_word(config, "CODEREF_BENCH", "false", ("true", "false")) == "true"
    try:
        domain = urlsplit(site.base_url).hostname or "localhost"
        s.mail = load_mail_settings(lambda name: config(name, default=None), domain)
        s.billing = load_billing_settings(lambda name: config(name, default=None))
    except (MailSettingsError, BillingSettingsError) as exc:
        raise SettingsError(str(exc)) from None
    if not s.keys:
        if s.production:
            raise SettingsError(
                "CODEREF_SECRET_KEYS is not set: production needs a secret key "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        s.secret_keys = Secret(dev_secret(root))
    if any(len(k) < 16 for k in s.keys):
        raise SettingsError("CODEREF_SECRET_KEYS: every key must be at least 16 characters")
    return s
