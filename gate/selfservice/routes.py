"""Self-service endpoints: forgotten password, reset, address verification, sessions, deletion.

Each answers JSON to fetch() callers and redirects/HTML to forms, like the rest of the gate.
"""

from __future__ import annotations

import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .. import accounts, passwords, ratelimit, sessions
from ..auth import refusal
from ..core import Gate
from ..db import Conn
from ..mail.worker import wake
from ..views import Views
from ..web import MESSAGES, error, read_fields, wants_form
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


# -- forgotten password ------------------------------------------------------------------------
async def forgot_form(request: Request) -> Response:
    sent = request.query_params.get("sent") == "1"
    return _views(request).page(
        "password_forgot.html",
        "/gate/password/forgot",
        "Reset your password",
        sent_message=SENT if sent else None,
        error=None,
    )


async def forgot(request: Request) -> Response:
    """Mails a reset link when the address has an account; the answer is the same either way."""
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    form = wants_form(request)
    fields = await read_fields(request, gate.settings.max_body)
    email = passwords.normalise_email(fields.get("email", ""))
    if passwords.email_problem(email):
        if form:
            return _views(request).page(
                "password_forgot.html",
                "/gate/password/forgot",
                "Reset your password",
                status=400,
                sent_message=None,
                error="Enter a valid email address.",
            )
        return error("invalid_email")
    ip, now, n = gate.ip(request), int(time.time()), notices(gate)

    def work(conn: Conn) -> bool:
        with conn.transaction():
            if ratelimit.over(conn, [(f"reset-ip:{ip}", RESET_PER_IP)]):
                return False
            ratelimit.hit(conn, f"reset-ip:{ip}")
            # Per address the limit is silent: a mailbox is not flooded, and nobody learns anything.
            quiet = ratelimit.over(conn, [(f"reset-email:{email}", RESET_PER_EMAIL)])
            ratelimit.hit(conn, f"reset-email:{email}")
            row = accounts.find(conn, email)
            if row is not None and not quiet:
                n.reset(conn, row.email, tokens.issue(conn, row.id, tokens.RESET, row.email, now))
            return True

    if not await gate.db.run(work):
        if form:
            return _views(request).page(
                "password_forgot.html",
                "/gate/password/forgot",
                "Reset your password",
                status=429,
                sent_message=None,
                error=MESSAGES["rate_limited"][1],
            )
        return error("rate_limited")
    wake(request.app.state)
    return _answer(form, "/gate/password/forgot?sent=1", {"ok": True, "message": SENT}, status=202)


async def reset_form(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    token = request.query_params.get("token", "")
    ok = await gate.db.run(tokens.peek, token, tokens.RESET, int(time.time())) is not None
    return _views(request).page(
        "password_reset.html",
        "/gate/password/reset",
        "Choose a new password",
        status=200 if ok else 400,
        token=token if ok else None,
        error=None,
    )


async def reset(request: Request) -> Response:
    """Spends the token, sets the password, ends every session, signs this browser in afresh."""
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    form = wants_form(request)
    fields = await read_fields(request, gate.settings.max_body)
    token = fields.get("token", "")
    new = passwords.normalise_password(fields.get("new_password", ""))
    if (problem := passwords.password_problem(new)) is not None:
        if form:
            return _views(request).page(
                "password_reset.html",
                "/gate/password/reset",
                "Choose a new password",
                status=400,
                token=token,
                error=MESSAGES[problem][1],
            )
        return error(problem)
    digest = await anyio.to_thread.run_sync(passwords.hash_password, gate.hasher, new)
    now, ip, n = int(time.time()), gate.ip(request), notices(gate)

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
            ratelimit.clear(conn, f"login-account:{row.email}")
            n.password_changed(conn, row.email, ip, now)
            return sessions.create(conn, account_id, now)

    sid = await gate.db.run(work)
    if sid is None:
        message = "This link has expired or was already used. Ask for a new one."
        if form:
            return _views(request).page(
                "password_reset.html",
                "/gate/password/reset",
                "Choose a new password",
                status=400,
                token=None,
                error=message,
            )
        return error("invalid_token", message, status=400)
    wake(request.app.state)
    response = _answer(form, "/account/", {"ok": True})
    gate.set_session(request, response, sid)
    return response


# -- address verification ----------------------------------------------------------------------


async def verify_send(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    form = wants_form(request)
    await read_fields(request, gate.settings.max_body)
    visitor = await gate.visitor(request)
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
            if ratelimit.over(conn, [(key, VERIFY_PER_ACCOUNT)]):
                return "rate_limited"
            ratelimit.hit(conn, key)
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


async def verify_form(request: Request) -> Response:
    """The link from the mail shows a button: mail scanners that fetch links do not confirm anything."""
    gate: Gate = request.app.state.gate
    token = request.query_params.get("token", "")
    ok = await gate.db.run(tokens.peek, token, tokens.VERIFY, int(time.time())) is not None
    return _views(request).page(
        "email_verify.html",
        "/gate/email/verify",
        "Confirm your email address",
        status=200 if ok else 400,
        token=token if ok else None,
        done=False,
    )


async def verify(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    form = wants_form(request)
    fields = await read_fields(request, gate.settings.max_body)
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
        return _views(request).page(
            "email_verify.html",
            "/gate/email/verify",
            "Confirm your email address",
            status=200 if ok else 400,
            token=None,
            done=ok,
        )
    return JSONResponse({"ok": True}) if ok else error("invalid_token", "This link has expired or was used.")
