"""Reading a received mail: sender, subject, text (HTML-only mail converted with inscriptis),
attachments (listed, not kept), threading headers, and whether it is an automatic message.

Nothing here raises on bad input: malformed MIME, missing headers, 8-bit or encoded-word headers
give the best text that can be had, and the defects are kept for the log.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr

from inscriptis import get_text

from .cases import Attachment

MAX_TEXT = 100_000  # characters of question kept (a 1 MB mail of text is not a question)
_MSGID = re.compile(r"<[^<>\s]{1,250}>")


@dataclass
class Inbound:
    sender: str  # the From: address (lower case), or the envelope sender when From is missing
    subject: str
    text: str
    attachments: list[Attachment]
    message_id: str  # the mail's Message-ID, or a digest of its bytes when it has none
    references: list[str]  # In-Reply-To and References, nearest first
    automatic: bool  # an auto-reply, bounce or list mail: never answered automatically
    defects: list[str] = field(default_factory=list)


def _clean(value: object) -> str:
    """A header as text: undecodable 8-bit bytes become U+FFFD, line breaks become spaces."""
    text = str(value)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(text.split())


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        value = raw[0] if raw else None
    return "" if value is None else _clean(value)


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", "replace")


def _body(msg: Message, defects: list[str]) -> tuple[str, list[Attachment]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = part.get_filename()
        if disposition == "attachment" or filename or ctype not in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            attachments.append(
                Attachment(
                    _clean(filename or "(unnamed)")[:200],
                    ctype[:100],
                    len(payload) if isinstance(payload, bytes) else 0,
                )
            )
            continue
        (plain if ctype == "text/plain" else html).append(_payload_text(part))
    text = "\n\n".join(t.strip() for t in plain if t.strip())
    if not text and html:
        text = "\n\n".join(get_text(h).strip() for h in html if h.strip())
    for d in getattr(msg, "defects", []):
        defects.append(type(d).__name__)
    return text, attachments


def automatic(msg: Message, envelope_from: str) -> bool:
    """RFC 3834: Auto-Submitted other than "no", list and bulk mail, bounces (empty envelope sender)."""
    auto = _header(msg, "Auto-Submitted").lower()
    precedence = _header(msg, "Precedence").lower()
    return (
        (bool(auto) and auto != "no")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or bool(_header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"))
        or bool(_header(msg, "List-Id"))
        or envelope_from in ("", "<>")
    )


def parse(raw: bytes, envelope_from: str) -> Inbound:
    defects: list[str] = []
    try:
        msg: Message = email.message_from_bytes(raw, policy=email.policy.default)
        text, attachments = _body(msg, defects)
    except Exception as exc:
        defects.append(f"{type(exc).__name__}: {exc}"[:200])
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        try:
            text, attachments = _body(msg, defects)
        except Exception as exc2:
            defects.append(f"{type(exc2).__name__}"[:200])
            text, attachments = raw.decode("utf-8", "replace").partition("\n\n")[2], []
    pairs = getaddresses([_header(msg, "From")])
    sender = (pairs[0][1] if pairs and "@" in pairs[0][1] else parseaddr(envelope_from)[1]).strip().lower()
    message_id = (_MSGID.findall(_header(msg, "Message-ID")) or [""])[0]
    if not message_id:
        message_id = f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"
    refs = _MSGID.findall(_header(msg, "In-Reply-To")) + list(
        reversed(_MSGID.findall(_header(msg, "References")))
    )
    return Inbound(
        sender=sender,
        subject=_header(msg, "Subject")[:300],
        text=text[:MAX_TEXT].strip(),
        attachments=attachments,
        message_id=message_id,
        references=list(dict.fromkeys(refs)),
        automatic=automatic(msg, envelope_from),
        defects=defects,
    )


def strip_quoted(text: str) -> str:
    """A reply without the quoted message below it ("On … wrote:" and the "> " lines)."""
    lines = text.splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    if lines and re.search(r"\bwrote:\s*$", lines[-1]):
        lines.pop()
    return "\n".join(lines).strip() or text.strip()
