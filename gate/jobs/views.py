"""The job board's gate endpoints: posting (JSON for the page script, a page for plain HTML forms),
the poster's list of posts, and the editors' review queue with approve / reject / expire.

Every answer is decided by plain functions (form.py, posts.py, moderation.py); this module reads the
request once, calls them, and turns the result into JSON, a redirect or a page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from urllib.parse import urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from generator.jobs.stage import today

from .. import context
from ..accounts import roles
from ..accounts.sessions import Account
from ..context import Context
from ..core import Gate
from ..security import refusal
from ..web import BadInput, error, read_fields
from . import form, moderation, pages, posts

log = logging.getLogger("coderef.gate")
PUBLISH_WAIT = 20.0  # seconds an editor's request waits for the publish before answering anyway
EDITOR = "editor"
ACTIONS = ("approve", "reject", "expire")


def _gate(request: Request) -> Gate:
    gate: Gate = request.app.state.gate
    return gate


async def _account(gate: Gate, ctx: Context) -> Account | None:
    return (await gate.visitor(ctx)).account


def _html(gate: Gate, title: str, macro: str, *args: object, status: int = 200) -> Response:
    try:
        body = pages.page(gate.site_dir(), gate.site.theme_dir, title, macro, *args)
    except pages.NotBuilt as exc:
        log.error("job board page: %s", exc)
        return error("not_found", "The job board is not built on this site.", status=404)
    return HTMLResponse(body, status_code=status)


# -- posting ------------------------------------------------------------------------------------


async def post(request: Request) -> Response:
    """POST /gate/jobs/post: queue a job post of the logged-in account."""
    gate, ctx = _gate(request), context.of(request)
    if (refused := refusal(ctx.cross_site)) is not None:
        return refused
    as_form = ctx.form
    raw = await read_fields(request, ctx, gate.settings.job_post_max_body, gate.settings.body_timeout)
    values = form.clean(raw)

    def again(message: str, errors: dict[str, str], status: int, code: str) -> Response:
        if as_form:
            view = pages.form_ctx(values, {"form": message, **errors})
            return _html(gate, "Post a medical coding job", "posting", view, "", status=status)
        return error(code, message, status=status, errors=errors)

    account = await _account(gate, ctx)
    if account is None:
        return again(
            "Log in or create a free account first; then send the form again.", {}, 401, "login_required"
        )
    parsed = form.parse(values, today())
    if form.check(parsed) is None:
        n = len(parsed.errors)
        return again(
            f"Please correct {'the field' if n == 1 else f'the {n} fields'} marked below.",
            parsed.errors,
            400,
            "invalid_post",
        )
    limits = posts.Limits(gate.settings.job_posts_account, gate.settings.job_posts_ip)
    got = await gate.db.run(
        posts.submit,
        account.id,
        ctx.ip,
        values,
        parsed.front["title"],
        parsed.front["employer"]["name"],
        int(time.time()),
        limits,
    )
    if isinstance(got, str):
        who = "this account" if got == "account" else "your network"
        message = f"Too many job posts from {who} today. Try again tomorrow."
        response = again(message, {}, 429, "rate_limited")
        response.headers["Retry-After"] = str(posts.DAY)
        return response
    message = f"Thank you: your job was received as post {got} and waits for an editor's review."
    if as_form:
        return RedirectResponse(f"/gate/jobs/mine?{urlencode({'posted': got})}", status_code=303)
    return JSONResponse({"id": got, "status": posts.PENDING, "message": message}, status_code=201)


async def mine(request: Request) -> Response:
    """GET /gate/jobs/mine: the logged-in account's posts and what became of them."""
    gate = _gate(request)
    account = await _account(gate, context.of(request))
    if account is None:
        return RedirectResponse("/login/?next=/gate/jobs/mine", status_code=303)
    items = await gate.db.run(posts.mine, account.id)
    day = today()
    posted = request.query_params.get("posted", "")
    notice = (
        f"Thank you: your job was received as post {posted} and waits for an editor's review."
        if (posted.isdigit() and any(p.id == int(posted) for p in items))
        else ""
    )
    ctx = [pages.post_ctx(p, day) for p in items]
    return _html(gate, "Your job posts", "mine", account.email, ctx, notice)


# -- moderation ---------------------------------------------------------------------------------


async def _editor(request: Request, gate: Gate) -> tuple[Account | None, Response | None]:
    account = await _account(gate, context.of(request))
    if account is None:
        return None, RedirectResponse(f"/login/?{urlencode({'next': request.url.path})}", status_code=303)
    if not await gate.db.run(roles.has, account.id, EDITOR):
        return None, error("forbidden", "Only editors review job posts.", status=403)
    return account, None


async def queue(request: Request) -> Response:
    """GET /gate/jobs/queue: pending posts with a preview (?show=approved: the published ones)."""
    gate = _gate(request)
    _, refused = await _editor(request, gate)
    if refused is not None:
        return refused
    notice = request.query_params.get("notice", "")[:600]
    failed = request.query_params.get("failed") == "1"
    day = today()
    if request.query_params.get("show") == "approved":
        items = await gate.db.run(posts.listing, (posts.APPROVED,))
        return _html(
            gate, "Published job posts", "published", [pages.post_ctx(p, day) for p in items], notice, failed
        )
    items = await gate.db.run(posts.listing, (posts.PENDING,))
    ctx = [pages.post_ctx(p, day, preview=True) for p in items]
    return _html(gate, "Job posts to review", "queue", ctx, notice, failed)


async def decide(request: Request) -> Response:
    """POST /gate/jobs/{id}/approve|reject|expire (editors)."""
    gate, ctx = _gate(request), context.of(request)
    if (refused := refusal(ctx.cross_site)) is not None:
        return refused
    account, refused = await _editor(request, gate)
    if refused is not None or account is None:
        return refused or error("login_required")
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise BadInput("not_found", f"There is no action '{action[:20]}'; use {', '.join(ACTIONS)}.")
    raw_id = request.path_params["post_id"]
    if not raw_id.isdigit() or len(raw_id) > 12:
        raise BadInput("not_found", f"There is no post '{raw_id[:20]}'.")
    post_id = int(raw_id)
    fields = await read_fields(request, ctx, gate.settings.max_body, gate.settings.body_timeout)
    root, now, day, who = gate.root, int(time.time()), today(), account.email
    if action == "approve":
        outcome = await anyio.to_thread.run_sync(moderation.approve, gate.db, root, post_id, who, day, now)
    elif action == "reject":
        outcome = await anyio.to_thread.run_sync(
            moderation.reject, gate.db, post_id, who, fields.get("reason", ""), now
        )
    else:
        outcome = await anyio.to_thread.run_sync(
            moderation.expire, gate.db, root, str(post_id), who, day, now
        )
    message = outcome.message
    if outcome.changed:
        message += " " + await _publish(root)
    back = "/gate/jobs/queue" + ("?show=approved&" if action == "expire" else "?")
    if ctx.form:
        query = urlencode({"notice": message, **({} if outcome.ok else {"failed": "1"})})
        return RedirectResponse(back + query, status_code=303)
    return JSONResponse({"ok": outcome.ok, "message": message}, status_code=200 if outcome.ok else 409)


async def _publish(root: Path) -> str:
    """Publishes in a child process; waits PUBLISH_WAIT seconds at most (a full build goes on)."""
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(None, moderation.publish, root)

    def report(done: asyncio.Future[tuple[bool, str]]) -> None:
        if not done.cancelled() and done.exception() is None and not done.result()[0]:
            log.error("job board publish failed: %s", done.result()[1])

    job.add_done_callback(report)
    try:
        ok, summary = await asyncio.wait_for(asyncio.shield(job), PUBLISH_WAIT)
    except TimeoutError:
        return "The site is being rebuilt; the change shows when that build finishes."
    if ok:
        return "Published."
    return f"Publishing failed; the next successful build publishes it. {summary.splitlines()[-1][:300]}"
