"""The `coderef` command: build, check, import, serve and accounts."""
from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from pathlib import Path

from .errors import BuildError, ContentErrors, Problems


def _print_problems(problems: Problems) -> None:
    for p in problems.items:
        print(p, file=sys.stderr)


# What the last build held (see BuildResult.held), kept until `run()` leaves without freeing it.
_HELD: list[object] = []


def cmd_build(args: argparse.Namespace) -> int:
    from .build import build

    _HELD.clear()
    try:
        result = build(
            args.root, clean=args.clean, jobs=args.jobs, quiet=args.quiet, strict=args.strict,
            search=not args.no_search,
        )
    except ContentErrors as exc:
        _print_problems(exc.problems)
        print(
            f"build failed: {exc.problems.summary()}; the previous site was left as it was", file=sys.stderr
        )
        return 1
    except BuildError as exc:
        print(f"build failed: {exc}; the previous site was left as it was", file=sys.stderr)
        return 1
    _HELD.append(result.held)
    _print_problems(result.problems)
    counts = ", ".join(f"{cs} {n}" for cs, n in result.counts.items())
    print(
        f"built ({result.mode}): {result.pages} pages, {result.written} files written, "
        f"{result.removed} removed in {result.seconds:.2f}s" + (f"; codes: {counts}" if counts else "")
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check

    problems = check(args.root)
    _print_problems(problems)
    failed = bool(problems.errors) or (args.strict and bool(problems.warnings))
    print(
        f"check {'failed' if failed else 'passed'}: {problems.summary()}",
        file=sys.stderr if failed else sys.stdout,
    )
    return 1 if failed else 0


FAST_COMMANDS = ("build", "check")


def parser(full: bool = True) -> argparse.ArgumentParser:
    """The argument parser; `full=False` leaves out the commands whose imports (httpx, psycopg,
    uvicorn) would add a quarter of a second to every `coderef build`."""
    ap = argparse.ArgumentParser(
        prog="coderef", description="Build and serve the coderef medical-coding reference site."
    )
    ap.add_argument(
        "--root",
        type=Path,
        default=Path.cwd(),
        help="project folder (holds content/); default: current folder",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build site/ and the protected store (incremental unless --clean)")
    b.add_argument("--clean", action="store_true", help="ignore previous output and render everything")
    b.add_argument(
        "--jobs", type=int, default=None, help="worker processes for rendering (default: CPU count)"
    )
    b.add_argument("--quiet", action="store_true", help="print only the summary line")
    b.add_argument("--strict", action="store_true", help="fail on warnings too")
    b.add_argument(
        "--no-search", action="store_true", help="skip the search index stage (for timing the render)"
    )
    b.set_defaults(func=cmd_build)

    c = sub.add_parser("check", help="validate config and content without writing anything")
    c.add_argument("--strict", action="store_true", help="fail on warnings too")
    c.set_defaults(func=cmd_check)

    if not full:
        return ap
    from gate.cli import add_commands as add_gate

    from .history.command import add_commands as add_releases
    from .imports import add_commands as add_import

    add_import(sub)
    add_releases(sub)
    add_gate(sub)
    return ap


def _command(argv: list[str]) -> str | None:
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--root":
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            return a
    return None


def main(argv: list[str] | None = None) -> int:
    args = parser(full=_command(sys.argv[1:] if argv is None else argv) not in FAST_COMMANDS).parse_args(argv)
    args.root = args.root.resolve()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted; the previous site was left as it was", file=sys.stderr)
        return 130


def run() -> None:
    """The console script: `main()`; a build runs without the cyclic garbage collector and leaves
    without freeing its heap.

    A full build holds millions of small objects (the linked code sets, the manifest, the store
    rows). `build()` pauses the collector, and switching it back on would make the next
    collection walk all of them (a second); freeing them one by one on the way out costs
    another half. The process ends anyway, so neither helps anyone.
    """
    argv = sys.argv[1:]
    build = _command(argv) == "build"
    if build:
        gc.disable()
    code = main(argv)
    if build:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):  # e.g. `coderef build | head`
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
