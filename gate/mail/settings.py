"""Mail settings from the environment (CODEREF_SMTP_URL, CODEREF_MAIL_*, CODEREF_DKIM_*)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from starlette.datastructures import Secret

STARTTLS_MODES = ("auto", "require", "off")


class MailSettingsError(ValueError):
    """A mail setting that cannot be used; the message names the variable and the fix."""


@dataclass(frozen=True)
class RelayTarget:
    """Where and how to reach the SMTP relay, parsed from CODEREF_SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool  # smtps://: TLS from the first byte
    starttls: str  # "auto" (when offered), "require" or "off"; smtp:// only
    username: str | None
    password: Secret | None
    verify: bool  # verify the relay's certificate (turn off only for a self-signed test relay)
    cafile: str | None
    timeout: float

    def __repr__(self) -> str:  # the password never prints
        return f"RelayTarget({'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port})"


def parse_smtp_url(url: str, timeout: float = 30.0) -> RelayTarget:
    """`smtp://[user:pass@]host[:port][?starttls=auto|require|off]` or `smtps://…` (port 465 by default).

    Query options: `starttls`, `verify=0` (self-signed test relays), `cafile=PATH`.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise MailSettingsError(
            "CODEREF_SMTP_URL must start with smtp:// or smtps://, e.g. smtp://user:pass@mail.example.org:587"
        )
    if not parts.hostname:
        raise MailSettingsError("CODEREF_SMTP_URL has no host name, e.g. smtp://mail.example.org:587")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise MailSettingsError("CODEREF_SMTP_URL has an invalid port number") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "verify", "cafile"}
    if unknown:
        raise MailSettingsError(
            f"CODEREF_SMTP_URL: unknown option {min(unknown)!r}; use starttls, verify or cafile"
        )
    starttls = query.get("starttls", "auto").lower()
    if starttls not in STARTTLS_MODES:
        raise MailSettingsError(
            f"CODEREF_SMTP_URL: starttls={starttls!r}; use one of {', '.join(STARTTLS_MODES)}"
        )
    verify = query.get("verify", "1").lower() not in ("0", "false", "no", "off")
    return RelayTarget(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=Secret(unquote(parts.password)) if parts.password else None,
        verify=verify,
        cafile=query.get("cafile"),
        timeout=timeout,
    )


@dataclass(frozen=True)
class MailSettings:
    """Everything the mail parts read from the environment."""

    relay: RelayTarget | None = None  # None: mail queues in the outbox until a relay is configured
    sender: str = "coderef <no-reply@localhost>"  # From: of every message the site sends
    dkim_key: bytes | None = None  # PEM private key (CODEREF_DKIM_KEY_FILE)
    dkim_selector: str = "coderef"
    dkim_domain: str = ""  # defaults to the sender's domain
    give_up_after: float = 2 * 86400.0  # seconds after which an undelivered message is marked failed
    retry_base: float = 30.0  # first retry delay; doubles per attempt
    retry_max: float = 3600.0  # longest delay between attempts
    lease: float = 300.0  # how long a worker owns a claimed message; must exceed a delivery's duration
    poll: float = 1.0  # seconds between outbox checks when idle
    batch: int = 50  # messages claimed at once
    worker: bool = True  # the gate runs a delivery worker (when a relay is configured)

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1]

    @property
    def domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "localhost"


def _float(get: Callable[[str], str | None], name: str, default: float, minimum: float) -> float:
    raw = get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise MailSettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if value < minimum:
        raise MailSettingsError(f"{name} must be at least {minimum:g} (got {value:g})")
    return value


def load_mail_settings(get: Callable[[str], str | None], site_domain: str) -> MailSettings:
    """Reads the CODEREF_SMTP_URL / CODEREF_MAIL_* / CODEREF_DKIM_* variables through `get`."""
    timeout = _float(get, "CODEREF_SMTP_TIMEOUT", 30.0, 1.0)
    url = get("CODEREF_SMTP_URL")
    relay = parse_smtp_url(url, timeout) if url and url.strip() else None
    sender = (get("CODEREF_MAIL_FROM") or "").strip() or f"coderef <no-reply@{site_domain}>"
    name, addr = parseaddr(sender)
    if "@" not in addr:
        raise MailSettingsError(
            f"CODEREF_MAIL_FROM={sender!r} is not an address like 'coderef <no-reply@example.org>'"
        )
    try:
        Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError):
        raise MailSettingsError(f"CODEREF_MAIL_FROM={sender!r} is not a valid address") from None
    key_file = (get("CODEREF_DKIM_KEY_FILE") or "").strip()
    key = None
    if key_file:
        try:
            key = Path(key_file).read_bytes()
        except OSError as exc:
            raise MailSettingsError(f"CODEREF_DKIM_KEY_FILE={key_file}: {exc.strerror}") from None
        if b"PRIVATE KEY" not in key:
            raise MailSettingsError(f"CODEREF_DKIM_KEY_FILE={key_file} is not a PEM private key")
    worker = (get("CODEREF_MAIL_WORKER") or "1").strip().lower() not in ("0", "false", "no", "off")
    retry_base = _float(get, "CODEREF_MAIL_RETRY_BASE", 30.0, 0.01)
    lease = _float(get, "CODEREF_MAIL_LEASE", 300.0, 1.0)
    if lease <= 2 * timeout:
        raise MailSettingsError(
            f"CODEREF_MAIL_LEASE ({lease:g} s) must exceed twice CODEREF_SMTP_TIMEOUT ({timeout:g} s), "
            "or a slow delivery could be taken over and sent twice"
        )
    return MailSettings(
        relay=relay,
        sender=sender,
        dkim_key=key,
        dkim_selector=(get("CODEREF_DKIM_SELECTOR") or "coderef").strip(),
        dkim_domain=(get("CODEREF_DKIM_DOMAIN") or "").strip() or addr.rpartition("@")[2],
        give_up_after=_float(get, "CODEREF_MAIL_GIVE_UP", 2 * 86400.0, 1.0),
        retry_base=retry_base,
        retry_max=max(retry_base, _float(get, "CODEREF_MAIL_RETRY_MAX", 3600.0, 0.01)),
        lease=lease,
        poll=_float(get, "CODEREF_MAIL_POLL", 1.0, 0.01),
        batch=int(_float(get, "CODEREF_MAIL_BATCH", 50, 1)),
        worker=worker,
    )
