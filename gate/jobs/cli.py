"""`coderef jobs list|show|approve|reject|expire`: the moderation queue from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path

from generator.errors import BuildError, ContentErrors
from generator.jobs.stage import today

from ..db import Database, Unavailable
from ..settings import SettingsError, load_settings
from . import moderation, posts


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    jobs = subparsers.add_parser("jobs", help="moderate the job board's posts")
    sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="list posts (those waiting for review by default)")
    ls.add_argument(
        "--status", default="pending", choices=[*posts.STATUSES, "all"], help="which posts (default pending)"
    )
    ls.set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="show one post as submitted")
    show.add_argument("id", type=int)
    show.set_defaults(func=cmd_show)
    approve = sub.add_parser("approve", help="publish a post: write its listing file and build the job pages")
    approve.add_argument("id", type=int)
    approve.add_argument(
        "--no-publish", action="store_true", help="write the listing file only; publish later"
    )
    approve.set_defaults(func=cmd_approve)
    reject = sub.add_parser("reject", help="refuse a post; the poster sees the reason")
    reject.add_argument("id", type=int)
    reject.add_argument("--reason", required=True, help="why (shown to the poster)")
    reject.set_defaults(func=cmd_reject)
    expire = sub.add_parser(
        "expire", help="close a published job now (a post number or a listing's file name)"
    )
    expire.add_argument("id", metavar="ID_OR_SLUG")
    expire.add_argument(
        "--no-publish", action="store_true", help="change the listing file only; publish later"
    )
    expire.set_defaults(func=cmd_expire)


def _db(args: argparse.Namespace) -> Database | None:
    try:
        s = load_settings(_root(args))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return Database(str(s.database_url) if s.database_url is not None else None, s.sqlite_path)


def _root(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "root", None) or Path.cwd())


def _editor() -> str:
    return f"cli:{getpass.getuser()}"


def _when(ts: int | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def cmd_list(args: argparse.Namespace) -> int:
    db = _db(args)
    if db is None:
        return 2
    try:
        statuses = posts.STATUSES if args.status == "all" else (args.status,)
        items = db.call(posts.listing, statuses, 10_000)
    except Unavailable as exc:
        print(f"error: database unavailable: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    for p in items:
        extra = f"\t{p.slug}" if p.slug else (f"\treason: {p.reason}" if p.reason else "")
        print(f"{p.id}\t{p.status}\t{_when(p.created_at)}\t{p.email or '-'}\t{p.title} — {p.employer}{extra}")
    if not items:
        print(f"no {'' if args.status == 'all' else args.status + ' '}posts", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    db = _db(args)
    if db is None:
        return 2
    try:
        p = db.call(posts.get, args.id)
    finally:
        db.close()
    if p is None:
        print(f"error: there is no post {args.id}", file=sys.stderr)
        return 1
    print(
        f"post {p.id}: {p.status}, sent {_when(p.created_at)} by {p.email or 'a deleted account'} from {p.ip}"
    )
    if p.reason:
        print(f"reason: {p.reason}")
    for name, value in p.fields.items():
        if name != "description" and value.strip():
            print(f"{name}: {' '.join(value.split())}")
    print("description:")
    print(p.fields.get("description", ""))
    return 0


def _publish(root: Path) -> int:
    from generator.build import build

    try:
        result = build(root, quiet=True)
    except ContentErrors as exc:
        for problem in exc.problems.items:
            print(problem, file=sys.stderr)
        print(f"publish failed: {exc.problems.summary()}; the site was left as it was", file=sys.stderr)
        return 1
    except BuildError as exc:
        print(f"publish failed: {exc}; the site was left as it was", file=sys.stderr)
        return 1
    print(
        f"published ({result.mode}): {result.written} files written, {result.removed} removed "
        f"in {result.seconds:.2f}s"
    )
    return 0


def _decide(args: argparse.Namespace, act: str) -> int:
    db = _db(args)
    if db is None:
        return 2
    root, now, day = _root(args), int(time.time()), today()
    try:
        if act == "approve":
            outcome = moderation.approve(db, root, args.id, _editor(), day, now)
        elif act == "reject":
            outcome = moderation.reject(db, args.id, _editor(), args.reason, now)
        else:
            outcome = moderation.expire(db, root, args.id, _editor(), day, now)
    except Unavailable as exc:
        print(f"error: database unavailable: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    if not outcome.ok:
        return 1
    if outcome.changed and not getattr(args, "no_publish", False):
        return _publish(root)
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    return _decide(args, "approve")


def cmd_reject(args: argparse.Namespace) -> int:
    return _decide(args, "reject")


def cmd_expire(args: argparse.Namespace) -> int:
    return _decide(args, "expire")
