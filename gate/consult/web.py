"""The consult pages: the question form (/consult/), the asker's threads (/account/consult/), and the
consultants' inbox (/consult/inbox/)."""

from __future__ import annotations

import re
import time
from html import escape
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .. import context
from ..accounts import records as accounts
from ..accounts.sessions import Account
from ..core import Gate
from ..db import Conn
from ..posts import read_post
from ..views import Views
from ..web import error
from . import cases
from .account import quota_line, quota_text
from .intake import Intake, consult_address

MAX_QUESTION = 20_000  # characters
MAX_BODY = 64 * 1024


def _ctx(request: Request) -> tuple[Gate, Views, Intake]:
    return request.app.state.gate, request.app.state.views, request.app.state.consult_intake


def _stored(request: Request) -> None:
    background = getattr(request.app.state, "consult", None)
    if background is not None:
        background.stored()


def _age(ts: int, now: float) -> str:
    minutes = int(now - ts) // 60
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


def linked(text: str) -> Markup:
    """Escaped text whose http(s) URLs are links: the automatic answer's sources, clickable."""
    out, last = [], 0
    for m in _URL.finditer(text):
        out += [escape(text[last : m.start()]), f'<a href="{escape(m.group())}">{escape(m.group())}</a>']
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("".join(out))


def _entries(thread: list[cases.Entry]) -> list[dict[str, Any]]:
    # Only our own automatic answers get links: people's text stays text (no links planted for others).
    return [
        {
            "author": e.author,
            "email": e.author_email,
            "body": linked(e.body) if e.author == cases.AUTO else e.body,
            "when": _when(e.created_at),
            "attachments": e.attachments,
        }
        for e in thread
    ]


async def _login(request: Request, gate: Gate) -> Account | RedirectResponse:
    visitor = await gate.visitor(context.of(request))
    if visitor.account is None:
        return RedirectResponse(f"/login/?next={request.url.path}", status_code=303)
    return visitor.account


# -- the asker ------------------------------------------------------------------------------------
async def form(
    request: Request, problem: str | None = None, status: int = 200, subject: str = "", question: str = ""
) -> Response:
    gate, views, intake = _ctx(request)
    visitor = await gate.visitor(context.of(request))
    account = visitor.account
    quota = None
    if account is not None:
        allowed = intake.allowance(account.plan)
        quota = await gate.db.run(cases.quota, account.id, allowed, gate.site.consult.period, time.time())
    return views.page(
        "consult.html",
        "/consult/",
        "Ask a coding consultant",
        status=status,
        account=account,
        quota=quota,
        quota_line=quota_line(quota) if quota else "",
        address=consult_address(gate.site),
        problem=problem,
        subject=subject,
        question=question,
    )


async def _posted(request: Request, consultant: bool = False) -> tuple[dict[str, str], Account] | Response:
    """The fields of a same-site post and who sent it (logged in; a consultant where asked)."""
    post = await read_post(request, MAX_BODY)
    if isinstance(post, Response):
        return post
    who = await (_consultant(request, post.gate) if consultant else _login(request, post.gate))
    return (post.fields, who) if isinstance(who, Account) else who


async def ask(request: Request) -> Response:
    gate, _, intake = _ctx(request)
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    fields, who = posted
    subject = " ".join(fields.get("subject", "").split())[:200]
    question = fields.get("question", "").strip()
    if not question:
        return await form(request, "Write your question first.", 400, subject, question)
    if len(question) > MAX_QUESTION:
        return await form(
            request, f"Keep the question under {MAX_QUESTION} characters.", 400, subject, question
        )
    row = await gate.db.run(accounts.get, who.id)
    if row is None:
        return error("login_required")
    case_id, quota = await gate.db.run(
        intake.ask_on_web, row, subject or question[:80], question, time.time()
    )
    if case_id is None:
        why = (
            "Your plan does not include consult questions."
            if quota.allowed == 0
            else f"You have used all {quota.allowed} questions of your plan this period."
        )
        return await form(request, why + " See the plans that include more.", 402, subject, question)
    _stored(request)
    return RedirectResponse(f"/account/consult/{case_id}/", status_code=303)


async def quota(request: Request) -> Response:
    """GET /gate/consult/quota: the account page's consult line, for the script that fills it."""
    gate: Gate = request.app.state.gate
    visitor = await gate.visitor(context.of(request))
    if visitor.account is None:
        return error("login_required")
    return JSONResponse({"message": await quota_text(gate, visitor.account)})


async def my_cases(request: Request) -> Response:
    gate, views, intake = _ctx(request)
    who = await _login(request, gate)
    if isinstance(who, RedirectResponse):
        return who
    now = time.time()

    def load(conn: Conn) -> tuple[list[cases.Case], cases.Quota]:
        return (
            cases.of_account(conn, who.id),
            cases.quota(conn, who.id, intake.allowance(who.plan), gate.site.consult.period, now),
        )

    rows, quota = await gate.db.run(load)
    return views.page(
        "consult_cases.html",
        "/account/consult/",
        "Your consult questions",
        cases=[
            {"id": c.id, "subject": c.subject, "status": c.status, "when": _when(c.created_at)} for c in rows
        ],
        quota_line=quota_line(quota),
        can_ask=quota.left is None or quota.left > 0,
    )


async def _own_case(request: Request, gate: Gate, who: Account) -> cases.Case | None:
    try:
        case_id = int(request.path_params["case_id"])
    except ValueError:
        return None
    case = await gate.db.run(cases.get, case_id)
    return case if case is not None and case.account_id == who.id else None


async def my_thread(request: Request) -> Response:
    gate, views, _ = _ctx(request)
    who = await _login(request, gate)
    if isinstance(who, RedirectResponse):
        return who
    case = await _own_case(request, gate, who)
    if case is None:
        return views.page("404.html", request.url.path, "Page not found", status=404)
    thread = await gate.db.run(cases.thread, case.id)
    return views.page(
        "consult_thread.html", request.url.path, f"Case #{case.id}", case=case, entries=_entries(thread)
    )


async def follow_up(request: Request) -> Response:
    gate, views, intake = _ctx(request)
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    fields, who = posted
    case = await _own_case(request, gate, who)
    text = fields.get("text", "").strip()[:MAX_QUESTION]
    if case is None:
        return views.page("404.html", request.url.path, "Page not found", status=404)
    if text:

        def work(conn: Conn) -> None:
            from ..mail.message import new_message_id

            now = time.time()
            with conn.transaction():
                cases.add_message(
                    conn, case.id, cases.ASKER, who.id, text, [], new_message_id(intake.mails.sender), now
                )
                cases.asker_wrote(conn, case.id, now)
                intake.notify(conn, case, text, follow_up=True)

        await gate.db.run(work)
        _stored(request)
    return RedirectResponse(f"/account/consult/{case.id}/", status_code=303)


# -- consultants ----------------------------------------------------------------------------------
async def _consultant(request: Request, gate: Gate) -> Account | Response:
    who = await _login(request, gate)
    if isinstance(who, RedirectResponse):
        return who
    if not await gate.db.run(cases.is_consultant, who.id):
        views: Views = request.app.state.views
        return views.page("consult_forbidden.html", request.url.path, "Consultants only", status=403)
    return who


async def inbox(request: Request) -> Response:
    gate, views, _ = _ctx(request)
    who = await _consultant(request, gate)
    if not isinstance(who, Account):
        return who
    show_closed = request.query_params.get("closed") == "1"
    rows = await gate.db.run(cases.queue, show_closed)
    now = time.time()
    return views.page(
        "consult_inbox.html",
        "/consult/inbox/",
        "Consult inbox",
        show_closed=show_closed,
        cases=[
            {
                "id": c.id,
                "subject": c.subject,
                "asker": c.email,
                "status": c.status,
                "age": _age(c.created_at, now),
                "claimed_by": c.claimed_by_email,
                "mine": c.claimed_by == who.id,
            }
            for c in rows
        ],
    )


async def _inbox_case(request: Request, gate: Gate) -> cases.Case | None:
    try:
        return await gate.db.run(cases.get, int(request.path_params["case_id"]))
    except ValueError:
        return None


async def inbox_case(request: Request) -> Response:
    gate, views, _ = _ctx(request)
    who = await _consultant(request, gate)
    if not isinstance(who, Account):
        return who
    case = await _inbox_case(request, gate)
    if case is None:
        return views.page("404.html", request.url.path, "Page not found", status=404)
    thread = await gate.db.run(cases.thread, case.id)
    return views.page(
        "consult_case.html",
        request.url.path,
        f"Case #{case.id}",
        case=case,
        entries=_entries(thread),
        mine=case.claimed_by == who.id,
        age=_age(case.created_at, time.time()),
        note=request.query_params.get("note"),
    )


async def inbox_action(request: Request) -> Response:
    """POST /consult/inbox/{id}/{claim|reply|close}."""
    gate, views, intake = _ctx(request)
    posted = await _posted(request, consultant=True)
    if isinstance(posted, Response):
        return posted
    fields, who = posted
    case = await _inbox_case(request, gate)
    action = request.path_params["action"]
    if case is None or action not in ("claim", "reply", "close"):
        return views.page("404.html", request.url.path, "Page not found", status=404)
    body = fields.get("text", "").strip()[:MAX_QUESTION]

    def work(conn: Conn) -> str:
        now = time.time()
        with conn.transaction():
            if action == "claim":
                return "claimed" if cases.claim(conn, case.id, who.id, now) else "taken"
            if action == "close":
                cases.close(conn, case.id, now)
                return "closed"
            if not body:
                return "empty"
            current = cases.get(conn, case.id)
            assert current is not None
            intake.reply_to_asker(conn, current, who.email, who.id, body, now)
            return "sent"

    note = await gate.db.run(work)
    _stored(request)
    return RedirectResponse(f"/consult/inbox/{case.id}/?note={note}", status_code=303)
