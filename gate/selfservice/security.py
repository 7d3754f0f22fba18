"""The account's security page: address verification state, active sessions ("log out other
sessions"), and self-service deletion."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .. import context
from ..accounts import limits, passwords, sessions
from ..accounts import records as accounts
from ..accounts.routes import login_limits
from ..core import Gate
from ..db import Conn
from ..mail.worker import wake
from ..posts import read_post
from ..views import Views
from ..web import MESSAGES, error
from .routes import notices

PAGE = "/gate/account/security"
NOTES = {
    "verify=sent": "We sent you a link to confirm your address. It works for 7 days.",
    "verify=verified": "Your address is already confirmed.",
    "others=0": "No other sessions were open.",
}


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


async def page(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    visitor = await gate.visitor(context.of(request))
    if visitor.account is None:
        return RedirectResponse(f"/login/?next={PAGE}", status_code=303)
    account = visitor.account

    def load(conn: Conn) -> tuple[bool, list[sessions.SessionInfo]]:
        return accounts.is_verified(conn, account.id), sessions.listing(conn, account.id, visitor.session_id)

    verified, rows = await gate.db.run(load)
    query = request.url.query
    note = NOTES.get(query) or (
        f"{query[7:]} other session(s) were logged out." if query.startswith("others=") else None
    )
    code = request.query_params.get("error")
    views: Views = request.app.state.views
    return views.page(
        "account_security.html",
        PAGE,
        "Account security",
        email=account.email,
        verified=verified,
        required=gate.site.meter.require_verified_email,
        sessions=[
            {"created": _when(r.created_at), "seen": _when(r.seen_at), "current": r.current} for r in rows
        ],
        note=note,
        error=MESSAGES[code][1] if code in MESSAGES else None,
    )


async def logout_others(request: Request) -> Response:
    post = await read_post(request)
    if isinstance(post, Response):
        return post
    gate, form = post.gate, post.form
    visitor = await gate.visitor(post.ctx)
    if visitor.account is None or visitor.session_id is None:
        return RedirectResponse(f"/login/?next={PAGE}", status_code=303) if form else error("login_required")
    ended = await gate.db.run(sessions.delete_others, visitor.account.id, visitor.session_id)
    if form:
        return RedirectResponse(f"{PAGE}?others={ended}", status_code=303)
    return JSONResponse({"ok": True, "ended": ended})


async def delete(request: Request) -> Response:
    """Deletes the account after its password is given again; a goodbye mail confirms it."""
    post = await read_post(request)
    if isinstance(post, Response):
        return post
    gate, form, fields, ctx = post.gate, post.form, post.fields, post.ctx
    visitor = await gate.visitor(ctx)
    if visitor.account is None:
        return RedirectResponse(f"/login/?next={PAGE}", status_code=303) if form else error("login_required")
    account = visitor.account
    # Each try counts like a login attempt (the same limits): the password cannot be guessed here.
    if await gate.db.run(limits.attempt, login_limits(gate, account.email, ctx.ip)) is not None:
        return (
            RedirectResponse(f"{PAGE}?error=rate_limited", status_code=303) if form else error("rate_limited")
        )
    row = await gate.db.run(accounts.get, account.id)
    password = passwords.normalise_password(fields.get("password", ""))
    ok, _ = await passwords.off_loop(
        passwords.verify_password, gate.hasher, row.password_hash if row else None, password
    )
    if not ok or row is None:
        return (
            RedirectResponse(f"{PAGE}?error=bad_credentials", status_code=303)
            if form
            else error("bad_credentials")
        )
    n = notices(gate)

    def work(conn: Conn) -> None:
        with conn.transaction():
            accounts.delete_rows(conn, account.id)
            n.account_deleted(conn, account.email)

    await gate.db.run(work)
    wake(request.app.state)
    response: Response = (
        RedirectResponse("/?deleted=1", status_code=303) if form else JSONResponse({"ok": True})
    )
    gate.clear_session(ctx, response)
    return response
