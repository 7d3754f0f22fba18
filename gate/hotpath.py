"""POST /gate/unlock/<codeset>/<code> as a plain ASGI app, in front of the Starlette app.

The unlock is the one gate call behind every premium read, and Starlette's router, middleware
stack, Request and Response objects cost more than the unlock itself (one indexed SQLite read
and a cached JSON body for a re-view). So JSON unlocks, the `fetch()` of the code page's script,
are answered here with the same checks and the same decision (`meter.decide`) as the routed
handler; anything else (HTML form posts, other methods, other paths) goes on to Starlette.
"""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import meter
from .auth import refusal
from .core import Gate
from .db import Unavailable
from .security import GATE_HEADERS, GateHeaders
from .web import BadInput, error

log = logging.getLogger("coderef.gate")

PREFIX = "/gate/unlock/"
_JSON_HEADERS = [*GATE_HEADERS, (b"content-type", b"application/json")]
_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
# Headers that only a browser's cross-origin checks need to look at (see security.cross_site_refusal).
_SITE_HEADERS = (b"origin", b"referer", b"sec-fetch-site")


class FastUnlock:
    """Answers JSON unlocks itself and passes every other request to `app` (the Starlette app)."""

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        codeset, slash, code = scope["path"][len(PREFIX):].partition("/")
        cookie: list[bytes] = []
        ctype = b""
        site_headers = False
        for name, value in scope["headers"]:  # ASGI servers lower-case header names
            if name == b"cookie":
                cookie.append(value)
            elif name == b"content-type":
                ctype = value
            elif name in _SITE_HEADERS:
                site_headers = True
        if (not (codeset and slash and code) or "/" in code
                or ctype.partition(b";")[0].strip().lower() in _FORM_TYPES):
            await self.app(scope, receive, send)  # a 404, or the no-JavaScript form post (a redirect)
            return
        gate = self.gate
        request = None
        if site_headers or gate.settings.trust_proxy:
            request = Request(scope, receive)
        response: Response | None = None
        try:
            if request is not None:
                response = refusal(request, gate)
                secure, ip = gate.secure(request), gate.ip(request)
            else:
                secure = gate.secure_for(scope.get("scheme") == "https")
                client = scope.get("client")
                ip = client[0] if client else "unknown"
            if response is None:
                header = b"; ".join(cookie).decode("latin-1") if cookie else None
                sid, guest_cookie = gate.cookie_ids(header, secure)
                u = await meter.decide(gate, sid, guest_cookie, ip, codeset, code)
                body = meter.granted_body(gate, u, codeset, code) if u.new_guest is None else None
                if body is not None:
                    await send({"type": "http.response.start", "status": 200,
                                "headers": [*_JSON_HEADERS, (b"content-length", b"%d" % len(body))]})
                    await send({"type": "http.response.body", "body": body})
                    return
                response = meter.json_answer(gate, u, codeset, code)
                if u.new_guest is not None:
                    gate.set_guest(request or Request(scope, receive), response, u.new_guest)
        except BadInput as exc:
            response = error(exc.code, exc.message)
        except Unavailable as exc:
            log.error("gate unavailable: %s", exc)  # the detail goes to the log, never to the client
            response = error("unavailable")
        await GateHeaders(response)(scope, receive, send)
