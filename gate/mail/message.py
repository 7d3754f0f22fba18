"""An outgoing message and its rendering to the exact bytes the relay receives (rendered once, at enqueue)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, parseaddr


@dataclass(frozen=True)
class Message:
    """One mail to one recipient. `kind` names what caused it (for stats and the outbox listing)."""

    to: str
    subject: str
    text: str
    sender: str  # the From: header, e.g. "coderef <no-reply@example.org>"
    kind: str = "notice"
    html: str | None = None
    reply_to: str | None = None
    in_reply_to: str | None = None  # a Message-ID, with angle brackets
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None  # "auto-replied" or "auto-generated" (RFC 3834)
    message_id: str | None = None  # chosen by the caller when it must know it in advance
    headers: tuple[tuple[str, str], ...] = field(default=())  # extra headers, e.g. List-Unsubscribe

    @property
    def envelope_from(self) -> str:
        return parseaddr(self.sender)[1]


def new_message_id(sender: str) -> str:
    """A globally unique Message-ID in the sender's domain, e.g. <…@example.org>."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{int(time.time())}.{secrets.token_hex(10)}@{domain}>"  # short: never folded


def render(message: Message, now: float | None = None) -> tuple[str, str]:
    """(Message-ID, the message as CRLF text) — 7-bit clean, so it stores as TEXT and relays unchanged.

    The Message-ID and Date are fixed here: a retry after a crash sends these same bytes again,
    so a duplicate can be recognised by any receiver.
    """
    msg = EmailMessage(policy=policy.SMTP)
    message_id = message.message_id or new_message_id(message.sender)
    msg["From"] = message.sender
    msg["To"] = message.to
    msg["Subject"] = message.subject
    when = datetime.fromtimestamp(now, UTC) if now is not None else None
    msg["Date"] = format_datetime(when) if when else formatdate(time.time(), usegmt=True)
    msg["Message-ID"] = message_id
    if message.reply_to:
        msg["Reply-To"] = message.reply_to
    if message.in_reply_to:
        msg["In-Reply-To"] = message.in_reply_to
    if message.references:
        msg["References"] = " ".join(message.references)
    if message.auto_submitted:
        msg["Auto-Submitted"] = message.auto_submitted
        # Vacation responders and list servers also look at these: never answer us.
        msg["X-Auto-Response-Suppress"] = "All"
    for name, value in message.headers:
        msg[name] = value
    msg.set_content(message.text, cte="quoted-printable" if not message.text.isascii() else "7bit")
    if message.html is not None:
        msg.add_alternative(message.html, subtype="html", cte="quoted-printable")
    raw = msg.as_bytes(policy=policy.SMTP)
    return message_id, raw.decode("ascii")
