"""`coderef mail status|show|retry|deliver`: the outbox seen and worked by hand."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from ..db import Database
from ..settings import Settings
from . import outbox
from .worker import Worker

SettingsLoader = Callable[[argparse.Namespace], Settings | None]


def add_commands(subparsers: argparse._SubParsersAction, load: SettingsLoader) -> None:  # type: ignore[type-arg]
    mail = subparsers.add_parser("mail", help="outgoing mail: outbox status, retries, a delivery worker")
    sub = mail.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    status = sub.add_parser(
        "status", help="counts per state and the latest messages (failed ones with the reason)"
    )
    status.add_argument(
        "--state", choices=(outbox.QUEUED, outbox.SENT, outbox.FAILED), help="list only this state"
    )
    status.add_argument("--limit", type=int, default=20, help="messages listed (default 20)")
    show = sub.add_parser("show", help="print one message as it is (or will be) sent")
    show.add_argument("id", type=int)
    retry = sub.add_parser("retry", help="queue failed messages again")
    retry.add_argument("id", type=int, nargs="?", help="one message id (default: every failed message)")
    deliver = sub.add_parser(
        "deliver", help="run a delivery worker in the foreground (the gate runs one too)"
    )
    deliver.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    for p, fn in ((status, cmd_status), (show, cmd_show), (retry, cmd_retry), (deliver, cmd_deliver)):
        p.set_defaults(func=lambda args, fn=fn: _with(load, args, fn))


def _with(
    load: SettingsLoader, args: argparse.Namespace, fn: Callable[[Settings, Database, Any], int]
) -> int:
    s = load(args)
    if s is None:
        return 2
    db = Database(str(s.database_url) if s.database_url is not None else None, s.sqlite_path, s.pg_pool_size,
                  s.db_wait)
    try:
        return fn(s, db, args)
    finally:
        db.close()


def _when(ms: int | None) -> str:
    return "-" if ms is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def cmd_status(s: Settings, db: Database, args: argparse.Namespace) -> int:
    counts = db.call(outbox.counts)
    print(
        " ".join(f"{state}={counts.get(state, 0)}" for state in (outbox.QUEUED, outbox.SENT, outbox.FAILED))
    )
    if s.mail.relay is None:
        print("note: CODEREF_SMTP_URL is not set: queued mail waits until a relay is configured")
    for r in db.call(outbox.listing, args.state, args.limit):
        line = f"{r.id}\t{r.status}\t{_when(r.created_at)}\t{r.kind}\t{r.recipient}\t{r.subject}"
        if r.status != outbox.SENT and r.last_error:
            line += f"\tattempts={r.attempts} last error: {r.last_error}"
        print(line)
    return 1 if counts.get(outbox.FAILED) else 0


def cmd_show(s: Settings, db: Database, args: argparse.Namespace) -> int:
    raw = db.call(outbox.raw_of, args.id)
    if raw is None:
        print(f"error: no message {args.id} in the outbox", file=sys.stderr)
        return 1
    sys.stdout.write(raw.replace("\r\n", "\n"))
    return 0


def cmd_retry(s: Settings, db: Database, args: argparse.Namespace) -> int:
    n = db.call(_retry, args.id)
    print(f"{n} message(s) queued again")
    return 0 if n else 1


def _retry(conn: Any, outbox_id: int | None) -> int:
    with conn.transaction():
        return outbox.retry_failed(conn, outbox_id)


def cmd_deliver(s: Settings, db: Database, args: argparse.Namespace) -> int:
    if s.mail.relay is None:
        print("error: CODEREF_SMTP_URL is not set: there is no relay to deliver to", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    worker = Worker(db, s.mail)
    if args.once:
        done = worker.deliver_due()
        print(f"sent={done.sent} retry={done.retried} failed={done.failed}")
        return 0
    print(f"coderef mail: delivering through {s.mail.relay!r} as {worker.name}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        worker.run()
    return 0
