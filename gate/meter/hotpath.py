"""POST /gate/unlock/<codeset>/<code> as a plain ASGI app, in front of the Starlette app.

The unlock is the one gate call behind every premium read, and Starlette's router, middleware
stack, Request and Response objects cost more than the unlock itself (one indexed SQLite read
and a cached JSON body for a re-view). So JSON unlocks, the `fetch()` of the code page's script,
are answered here by the same decision (`decision.unlock`) and the same answer
(`answers.response`) as the routed handler; only a granted answer's bytes are sent directly.
HTML form posts, other methods and other paths go on to Starlette. This is also the edge where
every /gate request's context is read (`context.read`), once.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from generator.urls import GATE_UNLOCK

from .. import context
from ..core import Gate
from ..security import GATE_HEADERS, GATE_ROOT, GateHeaders
from ..static_fast import FastStatic
from . import answers, decision

PREFIX = GATE_UNLOCK
_JSON_HEADERS = [*GATE_HEADERS, (b"content-type", b"application/json")]


class FastUnlock:
    """Answers JSON unlocks itself and passes every other request to `app` (the Starlette app)."""

    def __init__(self, app: ASGIApp, gate: Gate, static: FastStatic | None = None) -> None:
        self.app = app
        self.gate = gate
        self.static = static  # the built site's files, answered before the router (`coderef serve`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(GATE_ROOT):
            if self.static is not None and scope["type"] == "http" and await self.static.serve(scope, send):
                return
            await self.app(scope, receive, send)  # the static site: no context needed
            return
        gate = self.gate
        ctx = context.read(gate, scope)
        if scope["method"] != "POST" or not path.startswith(PREFIX) or ctx.form:
            await self.app(scope, receive, send)  # other gate routes, and the no-JavaScript form post
            return
        codeset, slash, code = path[len(PREFIX):].partition("/")
        if not (codeset and slash and code) or "/" in code:
            await self.app(scope, receive, send)  # a 404 from the router
            return
        u = await decision.unlock(gate, ctx, codeset, code)
        body = answers.granted_body(gate, u, codeset, code) if u.new_guest is None else None
        if body is not None:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [*_JSON_HEADERS, (b"content-length", b"%d" % len(body))]})
            await send({"type": "http.response.body", "body": body})
            return
        await GateHeaders(answers.response(gate, ctx, u, codeset, code))(scope, receive, send)
