"""`coderef releases [--date YYYY-MM-DD] [--codeset NAME]`: the releases held, and which applies to a date."""
from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from ..config import load_config
from ..errors import BuildError, Problems
from .catalog import TITLES, answer, catalog


def add_commands(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "releases",
        help="list the releases held per code set; --date tells which applies to a date of service",
        description="The releases of each code set and CMS data set the site is built from, with their "
        "effective dates. With --date: the release in force on that date of service.",
    )
    p.add_argument("--date", metavar="YYYY-MM-DD", help="a date of service")
    p.add_argument("--codeset", metavar="NAME", help=f"only this one ({', '.join(TITLES)})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    day: date | None = None
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            print(f"error: --date {args.date!r} is not a date such as 2025-11-03")
            return 2
    if args.codeset and args.codeset not in TITLES:
        print(f"error: unknown code set '{args.codeset}'; known: {', '.join(TITLES)}")
        return 2
    problems = Problems()
    cfg = load_config(Path(args.root), problems)
    if problems.errors:
        for p in problems.errors:
            print(p)
        return 1
    try:
        held = catalog(cfg)
    except BuildError as exc:
        print(f"error: {exc}")
        return 1
    for name, releases in held.items():
        if args.codeset and name != args.codeset:
            continue
        if day is not None:
            print(f"{TITLES[name]}: {answer(releases, day)}")
            continue
        print(TITLES[name])
        for r in reversed(releases):
            extra = f" (this update from {r.held_from.isoformat()})" if r.held_from else ""
            print(f"  {r.name:<10} {r.dates()}{extra}  {r.label}")
    return 0
