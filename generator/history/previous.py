"""Earlier releases of a code set that the site holds beside the current one (ICD-10-CM FY2025,
HCPCS Level II January 2020).

ICD-10-CM: the content of CMS's order file as a TSV (`code, code_dot, billable, short_desc,
long_desc`; `content/official/PROVENANCE.md`), kind `icd10cm-fy2025`. HCPCS: any file the HCPCS
importer reads (the shipped one is CMS's January 2020 alpha-numeric file), kind `hcpcs-earlier`,
read by `hcpcs.py`. Both in `generator/official.py`.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..config import SiteConfig
from ..errors import BuildError
from ..model import HCPCS, ICD10CM
from ..official import Source, source
from ..pickle_cache import cache_file, cached, code_of
from . import held, releases
from .hcpcs import earlier_cache, earlier_hcpcs
from .held import Held, PreviousRelease
from .releases import fiscal_year

# Import kinds of earlier releases, per code set (oldest first).
PREVIOUS_KINDS: dict[str, tuple[str, ...]] = {ICD10CM: ("icd10cm-fy2025",), HCPCS: ("hcpcs-earlier",)}
HEADER = ["code", "code_dot", "billable", "short_desc", "long_desc"]
_FY_IN_NAME = re.compile(r"fy(\d{4})", re.IGNORECASE)


def previous_releases(cfg: SiteConfig, codeset: str) -> list[PreviousRelease]:
    """The earlier releases held for `codeset`, oldest first (none when their files are absent)."""
    out = []
    for _, src in _held_sources(cfg, [codeset]):
        if codeset == HCPCS:
            out.append(earlier_hcpcs(src.path, src.release, cfg.state_dir / "cache"))
            continue
        out.append(_read(codeset, *_identity(src.path, src.release), cfg.state_dir / "cache"))
    return out


def previous_caches(cfg: SiteConfig) -> list[Path]:
    """The cache files `previous_releases` reads, for a build to tell whether it is cold."""
    out = []
    for codeset, src in _held_sources(cfg, cfg.codesets):
        if codeset == HCPCS:
            out.append(earlier_cache(src.path, src.release, cfg.state_dir / "cache"))
        else:
            out.append(_cache_file(codeset, *_identity(src.path, src.release), cfg.state_dir / "cache"))
    return out


def _held_sources(cfg: SiteConfig, codesets: Iterable[str]) -> Iterator[tuple[str, Source]]:
    """(code set, file) of each earlier release held for `codesets` whose file is there, oldest first."""
    for codeset in codesets:
        for kind in PREVIOUS_KINDS.get(codeset, ()):
            src = source(cfg, kind)
            if src is not None:
                yield codeset, src


def _identity(path: Path, release: str | None) -> tuple[str, int, int, str]:
    name = release or _name_from_file(path)
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns, name


def _cache_file(codeset: str, path_str: str, size: int, mtime_ns: int, name: str, cache_dir: Path) -> Path:
    code = code_of(sys.modules[__name__], held, releases)
    key = hashlib.blake2b(f"{path_str}|{size}|{mtime_ns}|{name}|{code}".encode(), digest_size=12)
    return cache_file(cache_dir, f"{codeset}-earlier", key.hexdigest())


def _name_from_file(path: Path) -> str:
    m = _FY_IN_NAME.search(path.name)
    if m is None:
        raise BuildError(
            f"{path}: cannot tell which fiscal year this ICD-10-CM code list is; name the file "
            "with its year (e.g. icd10cm_fy2025_codes.tsv.gz)"
        )
    return f"FY{m.group(1)}"


@functools.lru_cache(maxsize=4)
def _read(
    codeset: str, path_str: str, size: int, mtime_ns: int, name: str, cache_dir: Path
) -> PreviousRelease:
    """Reads the file once per build process (keyed on its identity: the load stage and the change
    pages both ask) and once per file and code through a pickle cache in `cache_dir` (a fifth of a
    second each build otherwise)."""
    cache = _cache_file(codeset, path_str, size, mtime_ns, name, cache_dir)
    return cached(cache, f"{codeset}-earlier", lambda: _parse(codeset, Path(path_str), name))


def _parse(codeset: str, path: Path, name: str) -> PreviousRelease:
    fy = int(name[2:]) if name[:2] == "FY" and name[2:].isdigit() else None
    if fy is None:
        raise BuildError(f"{path}: release '{name}' is not a fiscal year such as FY2025")
    release = fiscal_year(codeset, name, fy, f"ICD-10-CM {name}")
    return PreviousRelease(release, read_codes(path), path)


def read_codes(path: Path) -> dict[str, Held]:
    """Every code of an order-file TSV, by code as printed; errors name the file and line."""
    codes: dict[str, Held] = {}
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise BuildError(f"{path}: cannot read the ICD-10-CM code list: {exc}") from None
    lines = text.splitlines()
    head = lines[0].split("\t") if lines else []
    if head != HEADER:
        raise BuildError(
            f"{path}:1: expected the header {' '.join(HEADER)} (tab-separated), found {' '.join(head)}"
        )
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(HEADER):
            raise BuildError(f"{path}:{n}: expected {len(HEADER)} tab-separated cells, found {len(cells)}")
        code, dot, billable, _short, long = cells
        if billable not in ("0", "1") or not long or dot.replace(".", "") != code:
            raise BuildError(
                f"{path}:{n}: not a code row (code '{code}', code_dot '{dot}', billable '{billable}'); "
                "billable must be 0 or 1 and the long description must not be empty"
            )
        if dot in codes:
            raise BuildError(f"{path}:{n}: {dot} appears twice")
        codes[dot] = Held(billable == "1", long.strip())
    if not codes:
        raise BuildError(f"{path}: no codes in the file")
    return codes
