"""Security checks: the headers of every gate answer, cross-site POST refusal, the client address."""
from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from generator.urls import GATE

from .web import error

GATE_ROOT = GATE.rstrip("/")  # "/gate": the gate answers it and everything below

GATE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"cache-control", b"no-store, private"),
    (b"vary", b"Cookie"),
    (b"content-security-policy",
     (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
      b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_GATE_HEADER_NAMES = frozenset(name for name, _ in GATE_HEADERS)


class GateHeaders:
    """Pure ASGI middleware: stamps GATE_HEADERS on every response under /gate (errors included)
    and under the `also` path prefixes: pages the gate renders outside /gate/ (plans, consult),
    which carry a visitor's own state and must never be cached or shared either."""

    def __init__(self, app: ASGIApp, also: tuple[str, ...] = ()) -> None:
        self.app = app
        self.prefixes = (GATE, *also)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == GATE_ROOT or path.startswith(self.prefixes)):
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _GATE_HEADER_NAMES]
                message["headers"] = kept + GATE_HEADERS
            await send(message)

        await self.app(scope, receive, stamped)


def forwarded_ip(values: list[str], trust_proxy: int) -> str | None:
    """The client address as seen by the outermost of `trust_proxy` trusted proxy hops."""
    chain = [p.strip() for h in values for p in h.split(",") if p.strip()]
    if not chain:
        return None
    return chain[-trust_proxy] if len(chain) >= trust_proxy else chain[0]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site_verdict(
    fetch_site: str | None, origin: str | None, referer: str | None, own_origin: str,
    allowed: tuple[str, ...],
) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None when it may proceed.

    Browsers send Sec-Fetch-Site and Origin on POSTs; non-browser clients (curl, the CLI tests)
    send neither and are let through: they carry no ambient cookies of a victim.
    """
    if fetch_site in ("cross-site", "same-site"):
        return f"Sec-Fetch-Site: {fetch_site}"
    ok = {own_origin, *(o.lower() for o in allowed)}
    if origin is not None:
        return None if origin.lower().rstrip("/") in ok else f"Origin {origin[:100]}"
    if referer:
        try:
            theirs = _origin_of(referer)
        except ValueError:  # a Referer that is no URL at all
            return "malformed Referer"
        if theirs not in ok:
            return "foreign Referer"
    return None


def refusal(why: str | None) -> Response | None:
    """The 403 answer for a cross-site verdict (`Context.cross_site`), or None to go on."""
    return error("cross_site", f"Refused ({why}): this request came from another site.") if why else None
