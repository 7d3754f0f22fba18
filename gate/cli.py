"""`coderef serve` and `coderef accounts …`: sub-commands the main CLI adds via add_commands()."""
from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path

from .accounts import passwords, records, roles
from .consult import cli as consult_cli
from .db import Database, IntegrityErrors, Unavailable
from .jobs import cli as jobs_cli
from .mail import cli as mail_cli
from .settings import Settings, SettingsError, load_settings


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = subparsers.add_parser("serve", help="serve the built site and the gate (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(func=cmd_serve)

    acc = subparsers.add_parser("accounts", help="manage gate accounts")
    sub = acc.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create an account")
    create.add_argument("email")
    create.add_argument("--plan", default="free", help="plan name from content/site.yml (default free)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(func=cmd_create)
    set_plan = sub.add_parser("set-plan", help="change an account's plan")
    set_plan.add_argument("email")
    set_plan.add_argument("plan")
    set_plan.set_defaults(func=cmd_set_plan)
    set_role = sub.add_parser("set-role", help="give an account a role (editor, consultant), or take it away")
    set_role.add_argument("email")
    set_role.add_argument("role", choices=list(roles.ROLES))
    set_role.add_argument("--remove", action="store_true", help="take the role away")
    set_role.set_defaults(func=cmd_set_role)
    sub.add_parser("list", help="list accounts").set_defaults(func=cmd_list)
    delete = sub.add_parser("delete", help="delete an account, its sessions and unlocks")
    delete.add_argument("email")
    delete.set_defaults(func=cmd_delete)
    jobs_cli.add_commands(subparsers)

    mail_cli.add_commands(subparsers, _settings)
    consult_cli.add_commands(subparsers, _settings)


def _settings(args: argparse.Namespace) -> Settings | None:
    try:
        return load_settings(Path(getattr(args, "root", None) or Path.cwd()))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _db(s: Settings) -> Database:
    url = str(s.database_url) if s.database_url is not None else None
    return Database(url, s.sqlite_path, s.pg_pool_size, s.db_wait)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    s = _settings(args)
    if s is None:
        return 2
    if not s.site.output_dir.is_dir():
        print(f"warning: {s.site.output_dir} does not exist yet: run `coderef build`", file=sys.stderr)
    scheme = "PostgreSQL" if s.database_url is not None else f"SQLite {s.sqlite_path}"
    print(f"coderef: serving {s.site.output_dir} and the gate ({scheme}, {s.env}) on http://{args.host}:{args.port}/")
    # proxy_headers off: X-Forwarded-* are honoured only through CODEREF_TRUST_PROXY.
    from .serving import CoalescingHttpToolsProtocol

    # access_log off: at log level "warning" uvicorn would format nothing, but still call the
    # logger once per request.
    uvicorn.run(create_app(s.root, settings=s), host=args.host, port=args.port, proxy_headers=False,
                server_header=False, log_level="warning", access_log=False,
                http=CoalescingHttpToolsProtocol, ws="none")
    return 0


def _plan_ok(s: Settings, plan: str) -> bool:
    if plan == "guest" or plan not in s.site.meter.plans:
        names = ", ".join(p for p in s.site.meter.plans if p != "guest")
        print(f"error: unknown plan '{plan}'; plans in content/site.yml: {names}", file=sys.stderr)
        return False
    return True


def _run(s: Settings, fn, *a):  # type: ignore[no-untyped-def]
    db = _db(s)
    try:
        return db.call(fn, *a)
    finally:
        db.close()


def cmd_create(args: argparse.Namespace) -> int:
    s = _settings(args)
    if s is None or not _plan_ok(s, args.plan):
        return 2
    email = passwords.normalise_email(args.email)
    if passwords.email_problem(email):
        print(f"error: '{args.email}' is not a valid email address", file=sys.stderr)
        return 2
    if args.password_stdin:
        raw = sys.stdin.readline().rstrip("\r\n")
    else:
        raw = getpass.getpass("Password: ")
        if raw != getpass.getpass("Repeat password: "):
            print("error: the passwords differ", file=sys.stderr)
            return 2
    password = passwords.normalise_password(raw)
    if (problem := passwords.password_problem(password)) is not None:
        print(f"error: {problem.replace('_', ' ')}: passwords need 8 to 1024 bytes and must not be common",
              file=sys.stderr)
        return 2
    ph = passwords.hasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)
    try:
        _run(s, records.create, email, passwords.hash_password(ph, password), args.plan, int(time.time()))
    except IntegrityErrors:
        print(f"error: an account for {email} already exists", file=sys.stderr)
        return 1
    except Unavailable as exc:
        print(f"error: database unavailable: {exc}", file=sys.stderr)
        return 1
    print(f"created {email} ({args.plan})")
    return 0


def cmd_set_plan(args: argparse.Namespace) -> int:
    s = _settings(args)
    if s is None or not _plan_ok(s, args.plan):
        return 2
    email = passwords.normalise_email(args.email)
    if not _run(s, records.set_plan, email, args.plan):
        print(f"error: no account for {email}", file=sys.stderr)
        return 1
    print(f"{email}: plan {args.plan}")
    return 0


def cmd_set_role(args: argparse.Namespace) -> int:
    s = _settings(args)
    if s is None:
        return 2
    email = passwords.normalise_email(args.email)
    row = _run(s, records.find, email)
    if row is None:
        print(f"error: no account for {email}", file=sys.stderr)
        return 1
    changed = _run(s, roles.revoke if args.remove else roles.grant, row.id, args.role)
    had = "no longer has" if args.remove else "has"
    print(f"{email} {had} the {args.role} role" + ("" if changed else " (unchanged)"))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    s = _settings(args)
    if s is None:
        return 2
    for email, plan, created in _run(s, records.listing):
        print(f"{email}\t{plan}\t{time.strftime('%Y-%m-%d', time.gmtime(created))}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    s = _settings(args)
    if s is None:
        return 2
    email = passwords.normalise_email(args.email)
    if not _run(s, records.delete, email):
        print(f"error: no account for {email}", file=sys.stderr)
        return 1
    print(f"deleted {email}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m gate`), for when the main CLI is not at hand."""
    parser = argparse.ArgumentParser(prog="python -m gate")
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="project root (default: current directory)"
    )
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))
