"""Register, log in, log out and change password: JSON for fetch() callers, 303 redirects for HTML forms."""
from __future__ import annotations

import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from . import accounts, allowance, passwords, ratelimit, sessions
from .core import Gate, Visitor
from .db import Conn, IntegrityErrors
from .mail.worker import wake
from .meter import session_payload
from .security import cross_site_refusal
from .selfservice.notices import notices_for, send_verification
from .sessions import Account
from .web import error, fail, read_fields, safe_next, wants_form


def refusal(request: Request, gate: Gate) -> Response | None:
    why = cross_site_refusal(request, gate.settings.trust_proxy, gate.settings.allowed_origins)
    return error("cross_site", f"Refused ({why}): this request came from another site.") if why else None


async def _fields(request: Request, gate: Gate) -> tuple[dict[str, str], bool, str]:
    form = wants_form(request)
    fields = await read_fields(request, gate.settings.max_body)
    nxt = safe_next(fields.get("next") or request.query_params.get("next"))
    return fields, form, nxt


def _throttle(conn: Conn, key: str, limit: int) -> bool:
    """Counts one attempt under `key`; True when the limit was already reached."""
    if ratelimit.over(conn, [(key, limit)]):
        return True
    ratelimit.hit(conn, key)
    return False


async def _signed_in(request: Request, gate: Gate, visitor: Visitor, account: Account, sid: str,
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
        payload = await gate.db.run(session_payload, gate, account, visitor.guest_id, gate.ip(request))
        response = JSONResponse(payload, status_code=status)
    gate.set_session(request, response, sid)
    return response


async def register(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    fields, form, nxt = await _fields(request, gate)
    page = "/register/"
    if await gate.db.run(_throttle, f"register-ip:{gate.ip(request)}", gate.settings.register_ip):
        return fail(request, form, page, "rate_limited", nxt)
    email = passwords.normalise_email(fields.get("email", ""))
    password = passwords.normalise_password(fields.get("password", ""))
    problem = passwords.email_problem(email) or passwords.password_problem(password)
    if problem is None and await gate.db.run(accounts.find, email) is not None:
        problem = "email_taken"
    if problem:
        return fail(request, form, page, problem, nxt)
    digest = await anyio.to_thread.run_sync(passwords.hash_password, gate.hasher, password)
    visitor = await gate.visitor(request)
    now = int(time.time())

    def create(conn: Conn) -> tuple[int, str]:
        with conn.transaction():
            account_id = accounts.create(conn, email, digest, "free", now)
            send_verification(conn, notices_for(gate.site, gate.settings.mail), account_id, email, now)
            return account_id, sessions.create(conn, account_id, now)

    try:
        account_id, sid = await gate.db.run(create)
    except IntegrityErrors:  # a parallel registration of the same email won
        return fail(request, form, page, "email_taken", nxt)
    wake(request.app.state)
    account = Account(account_id, email, "free", verified=False)
    return await _signed_in(request, gate, visitor, account, sid, form, nxt, 201)


async def login(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    fields, form, nxt = await _fields(request, gate)
    page, s = "/login/", gate.settings
    email = passwords.normalise_email(fields.get("email", ""))
    password = passwords.normalise_password(fields.get("password", ""))
    if passwords.email_problem(email):
        return fail(request, form, page, "invalid_email", nxt)
    if len(password.encode("utf-8")) > passwords.MAX_BYTES:
        return fail(request, form, page, "password_too_long", nxt)
    keys = [
        (f"login-account:{email}", s.login_fail_account),
        (f"login-ip:{gate.ip(request)}", s.login_fail_ip),
    ]
    if await gate.db.run(ratelimit.over, keys):
        return fail(request, form, page, "rate_limited", nxt)
    row = await gate.db.run(accounts.find, email)
    ok, new_hash = await anyio.to_thread.run_sync(
        passwords.verify_password, gate.hasher, row.password_hash if row else None, password
    )
    if not ok or row is None:
        def record(conn: Conn) -> None:
            for key, _ in keys:
                ratelimit.hit(conn, key)
        await gate.db.run(record)
        return fail(request, form, page, "bad_credentials", nxt)
    visitor = await gate.visitor(request)
    account_id = row.id

    def start(conn: Conn) -> str:
        with conn.transaction():
            if new_hash:
                accounts.set_password_hash(conn, account_id, new_hash)
            ratelimit.clear(conn, keys[0][0])
            if visitor.session_id:  # never keep a pre-login session id
                sessions.delete(conn, visitor.session_id)
            return sessions.create(conn, account_id, int(time.time()))

    sid = await gate.db.run(start)
    return await _signed_in(request, gate, visitor, Account(row.id, row.email, row.plan), sid, form, nxt, 200)


async def logout(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    _, form, nxt = await _fields(request, gate)
    visitor = await gate.visitor(request)
    if visitor.session_id:
        await gate.db.run(sessions.delete, visitor.session_id)
    if form:
        response: Response = RedirectResponse(nxt, status_code=303)
    else:
        response = JSONResponse(
            await gate.db.run(session_payload, gate, None, visitor.guest_id, gate.ip(request))
        )
    gate.clear_session(request, response)
    return response


async def change_password(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    fields, form, nxt = await _fields(request, gate)
    nxt = nxt if nxt != "/" else "/gate/account"
    page = "/gate/account"
    visitor = await gate.visitor(request)
    if visitor.account is None:
        return (
            RedirectResponse("/login/?next=/gate/account", status_code=303)
            if form
            else error("login_required")
        )
    account = visitor.account
    current = passwords.normalise_password(fields.get("current_password", ""))
    new = passwords.normalise_password(fields.get("new_password", ""))
    key = f"login-account:{account.email}"
    if await gate.db.run(ratelimit.over, [(key, gate.settings.login_fail_account)]):
        return fail(request, form, page, "rate_limited", nxt)
    row = await gate.db.run(accounts.get, account.id)
    ok, _ = await anyio.to_thread.run_sync(
        passwords.verify_password, gate.hasher, row.password_hash if row else None, current
    )
    if not ok:
        await gate.db.run(ratelimit.hit, key)
        return fail(request, form, page, "bad_credentials", nxt)
    if (problem := passwords.password_problem(new)) is not None:
        return fail(request, form, page, problem, nxt)
    digest = await anyio.to_thread.run_sync(passwords.hash_password, gate.hasher, new)

    ip = gate.ip(request)

    def rotate(conn: Conn) -> str:
        # Every session of the account ends; this browser gets a fresh one; the owner is told by mail.
        with conn.transaction():
            now = int(time.time())
            accounts.set_password_hash(conn, account.id, digest)
            sessions.delete_all(conn, account.id)
            notices_for(gate.site, gate.settings.mail).password_changed(conn, account.email, ip, now)
            return sessions.create(conn, account.id, now)

    sid = await gate.db.run(rotate)
    wake(request.app.state)
    response: Response = RedirectResponse(nxt, status_code=303) if form else JSONResponse({"ok": True})
    gate.set_session(request, response, sid)
    return response
