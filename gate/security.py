"""Response headers for every gate answer, cross-site POST refusal, and who the client is."""
from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    """Pure ASGI middleware: stamps GATE_HEADERS on every response under /gate (errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/gate" or path.startswith("/gate/")):
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _GATE_HEADER_NAMES]
                message["headers"] = kept + GATE_HEADERS
            await send(message)

        await self.app(scope, receive, stamped)


def is_https(request: Request, trust_proxy: int) -> bool:
    if request.scope.get("scheme") == "https":  # cheaper than building request.url
        return True
    if trust_proxy:
        proto = request.headers.get("x-forwarded-proto", "")
        return proto.split(",")[-1].strip().lower() == "https"
    return False


def client_ip(request: Request, trust_proxy: int) -> str:
    """The peer address; X-Forwarded-For only counts when `trust_proxy` hops are configured."""
    if trust_proxy:
        chain = [
            p.strip() for h in request.headers.getlist("x-forwarded-for") for p in h.split(",") if p.strip()
        ]
        if chain:
            return chain[-trust_proxy] if len(chain) >= trust_proxy else chain[0]
    return request.client.host if request.client else "unknown"


def own_origin(request: Request, trust_proxy: int) -> str:
    scheme = "https" if is_https(request, trust_proxy) else "http"
    return f"{scheme}://{request.headers.get('host', '')}".lower()


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site_refusal(request: Request, trust_proxy: int, allowed: tuple[str, ...]) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None when it may proceed.

    Browsers send Sec-Fetch-Site and Origin on POSTs; non-browser clients (curl, the CLI tests)
    send neither and are let through: they carry no ambient cookies of a victim.
    """
    site = request.headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        return f"Sec-Fetch-Site: {site}"
    ok = {own_origin(request, trust_proxy), *(o.lower() for o in allowed)}
    origin = request.headers.get("origin")
    if origin is not None:
        return None if origin.lower().rstrip("/") in ok else f"Origin {origin[:100]}"
    referer = request.headers.get("referer")
    if referer and _origin_of(referer) not in ok:
        return "foreign Referer"
    return None
