"""`coderef consult smtpd|stats`: the mail server for questions, and the figures staff look at."""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable

from ..db import Database
from ..settings import Settings
from . import cases
from .intake import consult_address
from .service import Background, intake_for
from .smtpd import ConsultHandler, ConsultServer

SettingsLoader = Callable[[argparse.Namespace], Settings | None]


def add_commands(subparsers: argparse._SubParsersAction, load: SettingsLoader) -> None:  # type: ignore[type-arg]
    consult = subparsers.add_parser("consult", help="CaseConsultant: the question mail server, statistics")
    sub = consult.add_subparsers(dest="consult_command", required=True, metavar="ACTION")
    smtpd = sub.add_parser("smtpd", help="receive questions by mail (SMTP, aiosmtpd)")
    smtpd.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    smtpd.add_argument("--port", type=int, default=2525, help="port (default 2525; 0 = any free port)")
    smtpd.set_defaults(func=lambda args: _smtpd(load, args))
    stats = sub.add_parser("stats", help="case counts and consultants' response times")
    stats.add_argument("--days", type=int, default=30, help="cases opened in the last N days (default 30)")
    stats.set_defaults(func=lambda args: _stats(load, args))


def _db(s: Settings) -> Database:
    url = str(s.database_url) if s.database_url is not None else None
    return Database(url, s.sqlite_path, s.pg_pool_size, s.db_wait)


def _smtpd(load: SettingsLoader, args: argparse.Namespace) -> int:
    s = load(args)
    if s is None:
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    db = _db(s)
    background = Background(db, s)
    handler = ConsultHandler(db, intake_for(s), s.site, s.keys, stored=background.stored)
    server = ConsultServer(handler, args.host, args.port)
    if s.mail.relay is None:
        print(
            "warning: CODEREF_SMTP_URL is not set: answers wait in the outbox (coderef mail status)",
            file=sys.stderr,
        )

    def started(port: int) -> None:
        print(
            f"coderef consult: receiving mail for {consult_address(s.site)} on {args.host}:{port}", flush=True
        )

    background.start()
    try:
        server.serve_forever(started)
    except KeyboardInterrupt:
        pass
    finally:
        background.stop()
        db.close()
    return 0


def _fmt(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _stats(load: SettingsLoader, args: argparse.Namespace) -> int:
    s = load(args)
    if s is None:
        return 2
    db = _db(s)
    try:
        st = db.call(cases.stats, int(time.time()) - args.days * 86400)
    finally:
        db.close()
    total = sum(st.by_status.values())
    print(f"cases opened in the last {args.days} days: {total}")
    for status in (cases.OPEN, cases.ANSWERED, cases.CLOSED):
        print(f"  {status}: {st.by_status.get(status, 0)}")
    if st.first_response:
        r = st.first_response
        p90 = r[min(len(r) - 1, int(len(r) * 0.9))]
        print(
            f"first human response: median {_fmt(statistics.median(r))}, 90th percentile {_fmt(p90)},"
            f" slowest {_fmt(r[-1])} ({len(r)} answered)"
        )
    else:
        print("first human response: no case answered yet")
    for email, n in sorted(st.per_consultant.items(), key=lambda x: -x[1]):
        print(f"  {email}: {n} replies")
    return 0
