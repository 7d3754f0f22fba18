"""What a request says about its sender, read once at the edge into one typed `Context`.

`read(gate, scope)` walks the headers once: client IP (X-Forwarded-For only through trusted
proxy hops), HTTPS, the cross-site verdict, the verified session id and the guest cookie, and
whether the caller is an HTML form. Every decision takes the context; nothing downstream reads
the request's headers again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import Scope

from . import security

if TYPE_CHECKING:
    from .core import Gate

SCOPE_KEY = "coderef.context"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(slots=True)
class Context:
    ip: str  # the client address (the trusted proxy's view of it behind CODEREF_TRUST_PROXY)
    https: bool
    secure: bool  # cookies get Secure and the __Host- prefix
    cross_site: str | None  # why a state-changing request must be refused, None when it may go on
    session_id: str | None  # the verified id of the session cookie (whether it is live: the database)
    guest_cookie: str | None  # the raw guest cookie, verified on demand (`Gate.guest_id`)
    form: bool  # an HTML form post that expects a page or a redirect, not JSON
    content_type: str  # lower-cased media type without parameters
    content_length: str | None  # as sent (validated by the body reader)


def read(gate: Gate, scope: Scope) -> Context:
    """The context of `scope` (kept in the scope: a second call returns the same object)."""
    hit: Context | None = scope.get(SCOPE_KEY)
    if hit is not None:
        return hit
    cookies: list[bytes] = []
    ctype = b""
    accept = b""
    length: bytes | None = None
    origin = referer = fetch_site = host = proto = None
    forwarded: list[bytes] = []
    for name, value in scope["headers"]:  # ASGI servers lower-case header names
        if name == b"cookie":
            cookies.append(value)
        elif name == b"content-type":
            ctype = value
        elif name == b"content-length":
            length = value
        elif name == b"accept":
            accept = value
        elif name == b"host":
            host = value
        elif name == b"origin":
            origin = value
        elif name == b"referer":
            referer = value
        elif name == b"sec-fetch-site":
            fetch_site = value
        elif name == b"x-forwarded-for":
            forwarded.append(value)
        elif name == b"x-forwarded-proto":
            proto = value
    trust = gate.settings.trust_proxy
    https = scope.get("scheme") == "https" or bool(
        trust and proto is not None and proto.split(b",")[-1].strip().lower() == b"https"
    )
    client = scope.get("client")
    ip = client[0] if client else "unknown"
    if trust and forwarded:
        ip = security.forwarded_ip([v.decode("latin-1") for v in forwarded], trust) or ip
    cross = None
    if origin is not None or referer is not None or fetch_site is not None:
        own = f"{'https' if https else 'http'}://{(host or b'').decode('latin-1')}".lower()
        cross = security.cross_site_verdict(
            _text(fetch_site), _text(origin), _text(referer), own, gate.settings.allowed_origins
        )
    secure = gate.secure_for(https)
    header = b"; ".join(cookies).decode("latin-1") if cookies else None
    sid, guest_cookie = gate.cookie_ids(header, secure)
    media = ctype.partition(b";")[0].strip().lower().decode("latin-1")
    ctx = Context(
        ip=ip, https=https, secure=secure, cross_site=cross, session_id=sid, guest_cookie=guest_cookie,
        form=media in _FORM_TYPES and b"application/json" not in accept,
        content_type=media, content_length=None if length is None else length.decode("latin-1"),
    )
    scope[SCOPE_KEY] = ctx
    return ctx


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("latin-1")


def of(request: Request) -> Context:
    """The context of a routed request (read by the edge, or now)."""
    return read(request.app.state.gate, request.scope)
