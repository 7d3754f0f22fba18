"""Self-service endpoints: forgotten password, reset, address verification, sessions, deletion.

Each answers JSON to fetch() callers and redirects/HTML to forms, like the rest of the gate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..accounts import limits, passwords, sessions
from ..accounts import records as accounts
from ..core import Gate
from ..db import Conn
from ..mail.worker import wake
from ..posts import read_post
from ..views import Views
from ..web import MESSAGES, error
from . import tokens
from .notices import Notices, notices_for, send_verification

SENT = (
    "If an account exists for that address, we have sent it a link to choose a new password. "
    "It works once, for one hour. Check your spam folder if it does not arrive within a few minutes."
)
RESET_PER_EMAIL, RESET_PER_IP, VERIFY_PER_ACCOUNT = 5, 30, 5  # per hour


def notices(gate: Gate) -> Notices:
    return notices_for(gate.site, gate.settings.mail)


def _views(request: Request) -> Views:
    views: Views = request.app.state.views
    return views


def _answer(form: bool, redirect: str, payload: dict[str, object], status: int = 200) -> Response:
    return RedirectResponse(redirect, status_code=303) if form else JSONResponse(payload, status_code=status)


def _forgot_page(request: Request, problem: str | None, status: int = 200, sent: bool = False) -> Response:
    return _views(request).page(
        "password_forgot.html",
        "/gate/password/forgot",
        "Reset your password",
        status=status,
        sent_message=SENT if sent else None,
        error=problem,
    )


def _reset_page(request: Request, token: str | None, problem: str | None, status: int) -> Response:
    return _views(request).page(
        "password_reset.html",
        "/gate/password/reset",
        "Choose a new password",
        status=status,
        token=token,
        error=problem,
    )


async def _token_page(
    request: Request, purpose: str, render: Callable[[str | None, int], Response]
) -> Response:
    """The page a mailed link opens: its form when the token still works (not spent by showing it)."""
    gate: Gate = request.app.state.gate
    token = request.query_params.get("token", "")
    ok = await gate.db.run(tokens.peek, token, purpose, int(time.time())) is not None
    return render(token if ok else None, 200 if ok else 400)


# -- forgotten password ------------------------------------------------------------------------
async def forgot_form(request: Request) -> Response:
    return _forgot_page(request, None, sent=request.query_params.get("sent") == "1")


async def forgot(request: Request) -> Response:
    """Mails a reset link when the address has an account; the answer is the same either way."""
    post = await read_post(request)
    if isinstance(post, Response):
        return post
    gate, form, fields, ctx = post.gate, post.form, post.fields, post.ctx
    email = passwords.normalise_email(fields.get("email", ""))
    if passwords.email_problem(email):
        if form:
            return _forgot_page(request, "Enter a valid email address.", 400)
        return error("invalid_email")
    ip, now, n = ctx.ip, int(time.time()), notices(gate)

    def work(conn: Conn) -> bool:
        with conn.transaction():
            if not limits.counted(conn, f"reset-ip:{ip}", RESET_PER_IP):
                return False
            # Per address the limit is silent: a mailbox is not flooded, and nobody learns anything.
            quiet = not limits.counted(conn, f"reset-email:{email}", RESET_PER_EMAIL)
            row = accounts.find(conn, email)
            if row is not None and not quiet:
                n.reset(conn, row.email, tokens.issue(conn, row.id, tokens.RESET, row.email, now))
            return True

    if not await gate.db.run(work):
        if form:
            return _forgot_page(request, MESSAGES["rate_limited"][1], 429)
        return error("rate_limited")
    wake(request.app.state)
    return _answer(form, "/gate/password/forgot?sent=1", {"ok": True, "message": SENT}, status=202)


async def reset_form(request: Request) -> Response:
    return await _token_page(
        request, tokens.RESET, lambda token, status: _reset_page(request, token, None, status)
    )


async def reset(request: Request) -> Response:
    """Spends the token, sets the password, ends every session, signs this browser in afresh."""
    post = await read_post(request)
    if isinstance(post, Response):
        return post
    gate, form, fields, ctx = post.gate, post.form, post.fields, post.ctx
    token = fields.get("token", "")
    new = passwords.normalise_password(fields.get("new_password", ""))
    if (problem := passwords.password_problem(new)) is not None:
        if form:
            return _reset_page(request, token, MESSAGES[problem][1], 400)
        return error(problem)
    digest = await passwords.off_loop(passwords.hash_password, gate.hasher, new)
    now, ip, n = int(time.time()), ctx.ip, notices(gate)

    def work(conn: Conn) -> str | None:
        with conn.transaction():
            account_id = tokens.spend(conn, token, tokens.RESET, now)
            if account_id is None:
                return None
            row = accounts.get(conn, account_id)
            assert row is not None  # tokens go with their account
            accounts.set_password_hash(conn, account_id, digest)
            accounts.mark_verified(conn, account_id, now)  # the link reached the mailbox
            tokens.void(conn, account_id, tokens.RESET, now)
            sessions.delete_all(conn, account_id)
            limits.clear(conn, f"login-account:{row.email}")
            n.password_changed(conn, row.email, ip, now)
            return sessions.create(conn, account_id, now)

    sid = await gate.db.run(work)
    if sid is None:
        message = "This link has expired or was already used. Ask for a new one."
        if form:
            return _reset_page(request, None, message, 400)
        return error("invalid_token", message, status=400)
    wake(request.app.state)
    response = _answer(form, "/account/", {"ok": True})
    gate.set_session(ctx, response, sid)
    return response


# -- address verification ----------------------------------------------------------------------


async def verify_send(request: Request) -> Response:
    post = await read_post(request)
    if isinstance(post, Response):
        return post
    gate, form, ctx = post.gate, post.form, post.ctx
    visitor = await gate.visitor(ctx)
    if visitor.account is None:
        return (
            RedirectResponse("/login/?next=/gate/account/security", status_code=303)
            if form
            else error("login_required")
        )
    account, now = visitor.account, int(time.time())

    def work(conn: Conn) -> str:
        with conn.transaction():
            if accounts.is_verified(conn, account.id):
                return "verified"
            key = f"verify-account:{account.id}"
            if not limits.counted(conn, key, VERIFY_PER_ACCOUNT):
                return "rate_limited"
            send_verification(conn, notices(gate), account.id, account.email, now)
            return "sent"

    outcome = await gate.db.run(work)
    if outcome == "rate_limited":
        return (
            RedirectResponse("/gate/account/security?error=rate_limited", status_code=303)
            if form
            else error("rate_limited")
        )
    wake(request.app.state)
    return _answer(form, f"/gate/account/security?verify={outcome}", {"ok": True, "state": outcome})


def _verify_page(request: Request, token: str | None, done: bool, status: int) -> Response:
    return _views(request).page(
        "email_verify.html",
        "/gate/email/verify",
        "Confirm your email address",
        status=status,
        token=token,
        done=done,
    )


async def verify_form(request: Request) -> Response:
    """The link from the mail shows a button: mail scanners that fetch links do not confirm anything."""
    return await _token_page(
        request, tokens.VERIFY, lambda token, status: _verify_page(request, token, False, status)
    )


async def verify(request: Request) -> Response:
    post = await read_post(request)
    if isinstance(post, Response):
        return post
    gate, form, fields = post.gate, post.form, post.fields
    now = int(time.time())

    def work(conn: Conn) -> bool:
        with conn.transaction():
            account_id = tokens.spend(conn, fields.get("token", ""), tokens.VERIFY, now)
            if account_id is None:
                return False
            accounts.mark_verified(conn, account_id, now)
            tokens.void(conn, account_id, tokens.VERIFY, now)
            return True

    ok = await gate.db.run(work)
    if form:
        return _verify_page(request, None, ok, 200 if ok else 400)
    return JSONResponse({"ok": True}) if ok else error("invalid_token", "This link has expired or was used.")
