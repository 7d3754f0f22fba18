"""`coderef import KIND PATH_OR_URL`: register a code-set file or stream CMS premium data into SQLite."""
from __future__ import annotations

import argparse
import os
import shutil
import time
import zlib
from pathlib import Path
from typing import Any

from .config import SiteConfig, load_config
from .errors import BuildError, Problems
from .fetch import fetch, is_url, original_name, sha256_of
from .importers import BookImporter, CodeSetImporter, book_importers, codeset_importers
from .official import release_if_shipped
from .premium import PREMIUM_KINDS, import_premium
from .registry import register


def add_commands(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "import",
        help="import an official file (code set or CMS premium data)",
        description="Import an official file from a path or URL. `coderef import --list` shows the kinds.",
    )
    p.add_argument("kind", nargs="?", help="what the file is (see --list)")
    p.add_argument("source", nargs="?", metavar="PATH_OR_URL", help="file path or http(s) URL")
    p.add_argument("--sha256", metavar="HEX", help="expected sha256 of the file; a mismatch stops the import")
    p.add_argument("--release", metavar="TEXT",
                   help="release shown on pages, e.g. 2024-07-01 (default: read from the data or file name)")
    p.add_argument("--list", action="store_true", help="list the kinds of file that can be imported")
    p.set_defaults(func=run)


def kinds() -> dict[str, str]:
    """Every importable kind with its one-line description."""
    out = {k: imp.description for k, imp in codeset_importers().items()}
    out.update({k: b.description for k, b in book_importers().items()})
    out.update({k: pk.description for k, pk in PREMIUM_KINDS.items()})
    return out


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _count(importer: CodeSetImporter | BookImporter, path: Path) -> int:
    """Reads the whole file (which validates it): records of a code set, terms or table rows of a book."""
    from .books import ALL_BOOKS, IndexBook, PcsDefinitions, PcsTables

    book = importer.read(path)
    if importer.kind not in ALL_BOOKS:
        return sum(1 for _ in book)  # type: ignore[union-attr, misc]
    if isinstance(book, IndexBook):
        return sum(1 for m in book.main_terms() for _ in m.walk())
    if isinstance(book, PcsTables):
        return len(book.tables)
    assert isinstance(book, PcsDefinitions)
    return len(book.terms)


def import_codeset(
    cfg: SiteConfig, importer: CodeSetImporter | BookImporter, path: Path, name: str
) -> tuple[int, Path]:
    """Reads the whole file (which validates it), then copies it into data/sources and registers it."""
    count = _count(importer, path)
    dest_dir = cfg.data_path / "sources" / importer.kind
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / name
    tmp = dest.with_name(dest.name + ".new")
    shutil.copyfile(path, tmp)
    os.replace(tmp, dest)
    register(cfg, importer.kind, {
        "file": dest.relative_to(cfg.data_path).as_posix(), "records": count, "sha256": sha256_of(dest),
        "imported": time.strftime("%Y-%m-%dT%H:%M:%S"),
    })
    return count, dest


def run(args: argparse.Namespace) -> int:
    table = kinds()
    if args.list:
        width = max(len(k) for k in table)
        for k, desc in table.items():
            print(f"{k:<{width}}  {desc}")
        return 0
    if not args.kind or not args.source:
        print(
            "usage: coderef import KIND PATH_OR_URL [--sha256 HEX]   (coderef import --list shows the kinds)"
        )
        return 1
    if args.kind not in table:
        print(f"error: unknown kind '{args.kind}'; known kinds: {', '.join(table)}")
        return 1
    problems = Problems()
    cfg = load_config(Path(args.root), problems)
    if problems.errors:
        for p in problems.errors:
            print(p)
        return 1
    started = time.perf_counter()
    try:
        if is_url(args.source):
            path = fetch(args.source, cfg.data_path / "cache", sha256=args.sha256)
            name = original_name(path)
        else:
            path = Path(args.source)
            if not path.is_file():
                raise BuildError(f"{path}: no such file")
            if args.sha256:
                got = sha256_of(path)
                if got != args.sha256.lower():
                    raise BuildError(f"{path}: sha256 mismatch: expected {args.sha256.lower()}, got {got}")
            name = path.name
        importers: dict[str, CodeSetImporter | BookImporter] = {**codeset_importers(), **book_importers()}
        if args.kind in importers:
            count, dest = import_codeset(cfg, importers[args.kind], path, name)
            rows, out, note = count, dest, "records" if args.kind in codeset_importers() else "entries"
        else:
            if is_url(args.source):
                # The importers read release dates from the file name; keep the server's name visible.
                named = path.parent / "named" / name
                named.parent.mkdir(exist_ok=True)
                named.unlink(missing_ok=True)
                os.link(path, named)
                path = named
            release = args.release or release_if_shipped(cfg, args.kind, path)
            result = import_premium(cfg, args.kind, path, release)
            rows, out, note = result.rows, result.path, "rows" + (f" ({result.note})" if result.note else "")
            if result.release:
                note += f", release {result.release}"
    except BuildError as exc:
        print(f"error: {exc}")
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or args.source}: {exc.strerror or exc}")
        return 1
    except (EOFError, zlib.error) as exc:  # a truncated or corrupt .gz copy
        print(f"error: {args.source}: the compressed file is damaged ({exc}); download it again")
        return 1
    except UnicodeDecodeError as exc:
        print(
            f"error: {args.source}: not a text file in a known encoding ({exc.reason}); "
            "is this the right file?"
        )
        return 1
    seconds = time.perf_counter() - started
    print(f"{args.kind}: {rows:,} {note} in {seconds:.1f} s -> {out} ({_size(out.stat().st_size)})")
    return 0
