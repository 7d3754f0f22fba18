"""Register, log in, log out and change password: JSON for fetch() callers, 303 redirects for HTML forms.

Every password check is counted (accounts/limits.py) before the hash is evaluated: per account
and client, per client, and per account from anywhere with a progressive delay, so a flood of
guesses is bounded without locking the owner out from their own client.
"""
from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from generator import wording
from generator.urls import LOGIN, REGISTER, gate_endpoint, login_path

from .. import context, pages
from ..context import Context
from ..core import Gate, Visitor
from ..db import Conn, IntegrityErrors
from ..mail.worker import wake
from ..meter import allowance
from ..meter.decision import session_payload
from ..security import refusal
from ..selfservice.notices import notices_for, send_verification
from ..web import MESSAGES, error, fail, read_fields, safe_next
from . import limits, passwords, records, sessions
from .limits import Limit, Refusal
from .sessions import Account

_WAIT_REASONS = {
    "login-client": "Too many failed logins for this account from your network.",
    "login-ip": "Too many failed logins from your network.",
    "login-account": "This account has had many failed logins recently, so attempts are spaced out.",
    "register-ip": "Too many accounts were created from your network in the last hour.",
}


async def _fields(request: Request, gate: Gate, ctx: Context) -> tuple[dict[str, str], bool, str]:
    fields = await read_fields(request, ctx, gate.settings.max_body, gate.settings.body_timeout)
    nxt = safe_next(fields.get("next") or request.query_params.get("next"))
    return fields, ctx.form, nxt


_FIELDS = {"invalid_email": "email", "email_taken": "email", "weak_password": "password",
           "password_too_short": "password", "password_too_long": "password"}


def _refused(gate: Gate, form: bool, page: str, code: str, nxt: str, email: str = "",
             message: str | None = None, retry_after: int | None = None) -> Response:
    """A refused register/login: JSON for fetch(); for an HTML form, the built form page again with
    the message, the email and the page to return to (no JavaScript needed to see why)."""
    default = MESSAGES[code][1]
    html = pages.built_page(gate.site_dir(), page) if form and page in (REGISTER, LOGIN) else None
    if html is None:
        response = fail(form, page, code, nxt) if form else error(code, message, retry_after=retry_after)
    else:
        # 200: the page itself is fine, the message is in it (browsers report a 4xx document as
        # a console error); fetch() callers get the status in JSON.
        response = HTMLResponse(pages.form_page(html, message or default, _FIELDS.get(code), email, nxt))
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _limited(gate: Gate, refused: Refusal, form: bool, page: str, nxt: str, email: str = "") -> Response:
    """429 with Retry-After and a sentence saying what happened and when to try again."""
    reason = _WAIT_REASONS.get(refused.key.split(":", 1)[0], "Too many attempts.")
    message = f"{reason} Try again in {limits.in_words(refused.retry_after)}."
    return _refused(gate, form, page, "rate_limited", nxt, email, message, refused.retry_after)


def login_limits(gate: Gate, email: str, ip: str) -> list[Limit]:
    s = gate.settings
    return [
        Limit(f"login-client:{email}|{ip}", s.login_fail_client),
        Limit(f"login-ip:{ip}", s.login_fail_ip),
        Limit(f"login-account:{email}", s.login_fail_account, progressive=True),
    ]


def _forget_failures(conn: Conn, email: str, ip: str) -> None:
    """The owner got in: this client's and the account's counts start afresh (the client's count
    of attempts per IP stays)."""
    limits.clear(conn, f"login-client:{email}|{ip}")
    limits.clear(conn, f"login-account:{email}")


async def _signed_in(ctx: Context, gate: Gate, visitor: Visitor, account: Account, sid: str,
                     form: bool, nxt: str, status: int) -> Response:
    """Carries the browser's guest unlocks over, sets the new session cookie, answers."""
    period = gate.period()
    if visitor.guest_id:
        await gate.db.run(
            allowance.merge_guest, visitor.guest_id, account.subject, gate.allowance_for(account.plan), period
        )
    if form:
        response: Response = RedirectResponse(nxt, status_code=303)
    else:
        payload = await gate.db.run(session_payload, gate, account, visitor.guest_id, ctx.ip)
        response = JSONResponse(payload, status_code=status)
    gate.set_session(ctx, response, sid)
    return response


def on_existing_email(conn: Conn, gate: Gate, account: records.AccountRow) -> None:
    """Someone registered with the email of an existing account. The answer they get is the one a
    new account gets (nothing tells them the address is taken); the owner is told by mail, at most
    a few times a day. Runs inside the registration's transaction."""
    notices_for(gate.site, gate.settings.mail).already_registered(conn, account.email)


def _as_new_account(conn: Conn, gate: Gate, email: str, guest_id: str | None) -> dict[str, Any]:
    """The session payload a brand-new free account would get: the guest's unlocks carried over
    within the free allowance, exactly as `merge_guest` and `session_payload` would show them."""
    period = gate.period()
    allow = gate.allowance_for("free")
    guest = []
    if guest_id:
        rows = conn.all(
            "SELECT codeset, code FROM unlocks WHERE subject=? AND period=? AND unlocked_at>=?"
            " ORDER BY unlocked_at",
            (f"g:{guest_id}", period.key, period.since),
        )
        guest = [(r[0], r[1]) for r in rows]
    carried = sorted(dict.fromkeys(guest if allow is None else guest[:allow]))
    return {
        "account": {"email": email, "plan": "free"},
        "views_left": None if allow is None else max(0, allow - len(carried)),
        "views_used": len(carried),
        "allowance": allow,
        "unlocked": [{"codeset": cs, "code": c} for cs, c in carried],
        "plan": "free",
        "auto_unlock": gate.site.meter.auto_unlock,
        "words": wording.for_visitor(gate.site.meter, "free"),
    }


async def _credentials(request: Request) -> tuple[Gate, Context, Response | None, bool, str, str, str]:
    """(gate, context, a cross-site refusal or None, form?, next, email, password) of a register or
    login post, normalised."""
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    if (refused := refusal(ctx.cross_site)) is not None:
        return gate, ctx, refused, False, "/", "", ""
    fields, form, nxt = await _fields(request, gate, ctx)
    email = passwords.normalise_email(fields.get("email", ""))
    password = passwords.normalise_password(fields.get("password", ""))
    return gate, ctx, None, form, nxt, email, password


async def register(request: Request) -> Response:
    gate, ctx, refused, form, nxt, email, password = await _credentials(request)
    if refused is not None:
        return refused
    page = REGISTER
    problem = passwords.email_problem(email) or passwords.password_problem(password)
    if problem:
        return _refused(gate, form, page, problem, nxt, email)
    cap = await gate.db.run(limits.attempt, [Limit(f"register-ip:{ctx.ip}", gate.settings.register_ip)])
    if cap is not None:
        return _limited(gate, cap, form, page, nxt, email)
    # The hash is computed whether or not the email exists: both answers take the same time.
    digest = await passwords.off_loop(passwords.hash_password, gate.hasher, password)
    visitor = await gate.visitor(ctx)
    now = int(time.time())

    def create(conn: Conn) -> tuple[int, str] | None:
        with conn.transaction():
            existing = records.find(conn, email)
            if existing is not None:
                on_existing_email(conn, gate, existing)
                return None
            account_id = records.create(conn, email, digest, "free", now)
            send_verification(conn, notices_for(gate.site, gate.settings.mail), account_id, email, now)
            return account_id, sessions.create(conn, account_id, now)

    try:
        made = await gate.db.run(create)
    except IntegrityErrors:  # a parallel registration of the same email won
        made = None
    wake(request.app.state)
    if made is None:
        return await _existing(ctx, gate, visitor, email, form, nxt)
    account_id, sid = made
    account = Account(account_id, email, "free", verified=False)
    return await _signed_in(ctx, gate, visitor, account, sid, form, nxt, 201)


async def _existing(ctx: Context, gate: Gate, visitor: Visitor, email: str, form: bool, nxt: str) -> Response:
    """The answer to registering an email that has an account: what a new account gets, with a
    session cookie that opens nothing."""
    if form:
        response: Response = RedirectResponse(nxt, status_code=303)
    else:
        payload = await gate.db.run(_as_new_account, gate, email, visitor.guest_id)
        response = JSONResponse(payload, status_code=201)
    gate.set_session(ctx, response, sessions.new_id())
    return response


async def login(request: Request) -> Response:
    gate, ctx, refused, form, nxt, email, password = await _credentials(request)
    if refused is not None:
        return refused
    page = LOGIN
    if passwords.email_problem(email):
        return _refused(gate, form, page, "invalid_email", nxt, email)
    if len(password.encode("utf-8")) > passwords.MAX_BYTES:
        return _refused(gate, form, page, "password_too_long", nxt, email)
    limited = await gate.db.run(limits.attempt, login_limits(gate, email, ctx.ip))
    if limited is not None:
        return _limited(gate, limited, form, page, nxt, email)
    row = await gate.db.run(records.find, email)
    ok, new_hash = await passwords.off_loop(
        passwords.verify_password, gate.hasher, row.password_hash if row else None, password
    )
    if not ok or row is None:
        return _refused(gate, form, page, "bad_credentials", nxt, email)  # counted before the hash
    visitor = await gate.visitor(ctx)
    account_id = row.id

    def start(conn: Conn) -> str:
        with conn.transaction():
            if new_hash:
                records.set_password_hash(conn, account_id, new_hash)
            _forget_failures(conn, email, ctx.ip)
            if visitor.session_id:  # never keep a pre-login session id
                sessions.delete(conn, visitor.session_id)
            return sessions.create(conn, account_id, int(time.time()))

    sid = await gate.db.run(start)
    return await _signed_in(ctx, gate, visitor, Account(row.id, row.email, row.plan), sid, form, nxt, 200)


async def logout(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    if (refused := refusal(ctx.cross_site)) is not None:
        return refused
    _, form, nxt = await _fields(request, gate, ctx)
    visitor = await gate.visitor(ctx)
    if visitor.session_id:
        await gate.db.run(sessions.delete, visitor.session_id)
    if form:
        response: Response = RedirectResponse(nxt, status_code=303)
    else:
        response = JSONResponse(await gate.db.run(session_payload, gate, None, visitor.guest_id, ctx.ip))
    gate.clear_session(ctx, response)
    return response


async def change_password(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    if (refused := refusal(ctx.cross_site)) is not None:
        return refused
    fields, form, nxt = await _fields(request, gate, ctx)
    page = gate_endpoint("account")
    nxt = nxt if nxt != "/" else page
    visitor = await gate.visitor(ctx)
    if visitor.account is None:
        if form:
            return RedirectResponse(login_path(page), status_code=303)
        return error("login_required")
    account = visitor.account
    current = passwords.normalise_password(fields.get("current_password", ""))
    new = passwords.normalise_password(fields.get("new_password", ""))
    limited = await gate.db.run(limits.attempt, login_limits(gate, account.email, ctx.ip))
    if limited is not None:
        return _limited(gate, limited, form, page, nxt)
    row = await gate.db.run(records.get, account.id)
    ok, _ = await passwords.off_loop(
        passwords.verify_password, gate.hasher, row.password_hash if row else None, current
    )
    if not ok:
        return fail(form, page, "bad_credentials", nxt)
    if (problem := passwords.password_problem(new)) is not None:
        return fail(form, page, problem, nxt)
    digest = await passwords.off_loop(passwords.hash_password, gate.hasher, new)

    def rotate(conn: Conn) -> str:
        # Every session of the account ends; this browser gets a fresh one; the owner is told by mail.
        with conn.transaction():
            now = int(time.time())
            records.set_password_hash(conn, account.id, digest)
            sessions.delete_all(conn, account.id)
            _forget_failures(conn, account.email, ctx.ip)
            notices_for(gate.site, gate.settings.mail).password_changed(conn, account.email, ctx.ip, now)
            return sessions.create(conn, account.id, now)

    sid = await gate.db.run(rotate)
    wake(request.app.state)
    response: Response = RedirectResponse(nxt, status_code=303) if form else JSONResponse({"ok": True})
    gate.set_session(ctx, response, sid)
    return response
