"""The one place that wires the gate: routes, middleware, error answers, the fast path in front.

`create_gate_app` answers /gate/* alone (behind a CDN serving the site); `create_app` also
serves the built site, as `coderef serve` does. Products add their routes to `gate_routes`.
"""
from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from generator.assistant_facts import facts_path

from . import housekeeping, timing
from .accounts import routes as auth
from .assistant import routes as assistant
from .assistant.answer import CasePilot
from .assistant.llm import ModelSettings
from .billing import routes as billing
from .consult import web as consult
from .consult.service import Background, intake_for
from .core import Gate
from .db import Unavailable
from .jobs import views as jobs
from .meter import routes as meter
from .meter.hotpath import FastUnlock
from .security import GATE_ROOT, GateHeaders
from .selfservice import routes as selfservice
from .selfservice import security as account_security
from .settings import Settings, load_settings
from .static import SiteFiles
from .static_fast import FastStatic
from .views import Views
from .web import BadInput, error


def gate_routes() -> list[BaseRoute]:
    return [
        Route("/unlock/{codeset}/{code}", meter.unlock, methods=["POST"]),  # the hot path, matched first
        Route("/session", meter.session, methods=["GET"]),
        Route("/register", auth.register, methods=["POST"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/password", auth.change_password, methods=["POST"]),
        Route("/page/{codeset}/{code}/", meter.page, methods=["GET"]),
        Route("/account", meter.account, methods=["GET"]),
        Route("/jobs/post", jobs.post, methods=["POST"]),
        Route("/jobs/mine", jobs.mine, methods=["GET"]),
        Route("/jobs/queue", jobs.queue, methods=["GET"]),
        Route("/jobs/{post_id}/{action:str}", jobs.decide, methods=["POST"]),
        Route("/password/forgot", selfservice.forgot_form, methods=["GET"]),
        Route("/password/forgot", selfservice.forgot, methods=["POST"]),
        Route("/password/reset", selfservice.reset_form, methods=["GET"]),
        Route("/password/reset", selfservice.reset, methods=["POST"]),
        Route("/email/verify", selfservice.verify_form, methods=["GET"]),
        Route("/email/verify", selfservice.verify, methods=["POST"]),
        Route("/email/verify/send", selfservice.verify_send, methods=["POST"]),
        Route("/account/security", account_security.page, methods=["GET"]),
        Route("/account/sessions/logout-others", account_security.logout_others, methods=["POST"]),
        Route("/account/delete", account_security.delete, methods=["POST"]),
        Route("/billing/checkout", billing.checkout, methods=["POST"]),
        Route("/billing/done", billing.done, methods=["GET"]),
        Route("/billing/webhook", billing.webhook, methods=["POST"]),
        Route("/ask", assistant.ask, methods=["POST"]),
        Route("/asks", assistant.status, methods=["GET"]),
        Route("/consult/quota", consult.quota, methods=["GET"]),
    ]


def page_routes() -> list[BaseRoute]:
    """Pages the gate renders outside /gate/: plans and CaseConsultant (the proxy routes these here too)."""
    return [
        Route("/plans/", billing.plans, methods=["GET"]),
        Route("/consult/", consult.form, methods=["GET"]),
        Route("/consult/", consult.ask, methods=["POST"]),
        Route("/consult/inbox/", consult.inbox, methods=["GET"]),
        Route("/consult/inbox/{case_id}/", consult.inbox_case, methods=["GET"]),
        Route("/consult/inbox/{case_id}/{action}", consult.inbox_action, methods=["POST"]),
        Route("/account/consult/", consult.my_cases, methods=["GET"]),
        Route("/account/consult/{case_id}/", consult.my_thread, methods=["GET"]),
        Route("/account/consult/{case_id}/", consult.follow_up, methods=["POST"]),
    ]


def page_prefixes() -> tuple[str, ...]:
    """The static part of each page route's path: answers under them get the gate's headers."""
    return tuple(sorted({route.path.split("{")[0] for route in page_routes() if isinstance(route, Route)}))


async def _bad_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadInput)
    return error(exc.code, exc.message)


async def _unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Unavailable)
    request.app.state.gate.db.report(exc)  # the detail goes to the log, never to the client
    return error("unavailable")


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith(GATE_ROOT):
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    response = error(code, status=exc.status_code)
    response.headers.update(exc.headers or {})
    return response


BENCH_PREFIX = "/__bench/"  # the benchmarks' bare endpoint (settings.bench)


async def _bare(request: Request) -> Response:
    return PlainTextResponse("ok")


def _build(root: Path, settings: Settings | None, with_site: bool) -> FastUnlock:
    settings = settings or load_settings(root)
    gate = Gate(root, settings)
    pilot = CasePilot(facts_path(settings.site), ModelSettings.from_env())
    routes: list[BaseRoute] = [Mount(GATE_ROOT, routes=gate_routes()), *page_routes()]
    middleware = [Middleware(GateHeaders, also=page_prefixes())]
    if settings.bench:
        routes.insert(0, Route(BENCH_PREFIX + "bare", _bare))
        times: list[float] = []  # CasePilot's answers, timed in the server (bench/assistant.py)
        routes.insert(0, Route(BENCH_PREFIX + "timings", timing.endpoint(times)))
        middleware.insert(0, Middleware(timing.Timings, path=f"{GATE_ROOT}/ask", times=times))
    static: FastStatic | None = None
    if with_site:
        # Pages, scripts and the search lookup files are text: compress them as a CDN would. The
        # files themselves are answered in front of the router, from memory (static_fast.py); this
        # mount answers the rest (redirects, 404s, ranges) and is the fast path's plain twin.
        site = GZipMiddleware(SiteFiles(directory=settings.site.output_dir, html=True), minimum_size=1024)
        routes.append(Mount("/", app=site))
        static = FastStatic(settings.site.output_dir, skip=(GATE_ROOT, *page_prefixes(), BENCH_PREFIX))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything allocated so far lives as long as the process: keep the cyclic GC from
        # rescanning it on every full collection (a full collection is a p99 latency spike).
        gc.collect()
        gc.freeze()
        # Requests allocate few reference cycles; collect them 10x less often than the default.
        gc.set_threshold(7000, 20, 20)
        gate.store.warm()  # the CMS snapshots opened before the first unlock asks for them
        # First answers to consult questions and mail delivery run beside the requests, as threads.
        background = app.state.consult = Background(gate.db, settings)
        app.state.mail_worker = background.worker
        background.start()
        try:
            async with anyio.create_task_group() as tasks:
                s = gate.settings
                tasks.start_soon(housekeeping.run_forever, gate.db, gate.period, s.session_idle,
                                 s.session_max_age)
                yield
                tasks.cancel_scope.cancel()
        finally:
            background.stop()
            await pilot.aclose()
            gate.close()

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={BadInput: _bad_input, Unavailable: _unavailable, HTTPException: _http},
        lifespan=lifespan,
    )
    app.state.gate = gate
    app.state.views = Views(settings.site)
    app.state.consult_intake = intake_for(settings)
    app.state.consult = None  # the background threads, while serving (see lifespan)
    app.state.mail_worker = None  # set while serving when a relay is configured (see lifespan)
    app.state.casepilot = pilot
    return FastUnlock(app, gate, static)


def create_gate_app(root: Path, *, settings: Settings | None = None) -> FastUnlock:
    """The gate alone, answering /gate/* (behind a CDN that serves the static site)."""
    return _build(root, settings, with_site=False)


def create_app(root: Path, *, settings: Settings | None = None) -> FastUnlock:
    """The gate plus the built site on one origin: what `coderef serve` runs."""
    return _build(root, settings, with_site=True)
