"""RVU history: the PFS releases stacked in one PPRRVU file (RVU24A, RVU24AR, RVU24B, RVU24C), and
for each code whose RVUs or status changed between them (or that came or went), a protected
"RVU history" section with each release's values.

The premium importer keeps only the newest release for the "RVUs and payment" section; this reads
the same file (the `pprrvu` source) for the others. The section's kind is `rvu`: protected like
the payment section, so it goes to the protected store, never into site/.
"""
from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import urls
from ..config import SiteConfig
from ..model import CodeRecord, Section
from ..official import source
from ..pickle_cache import cache_file, cached, code_of
from ..premium import mpfs, tabular
from ..premium.mpfs import RVU_COLUMNS
from ..premium.sections import esc
from ..premium.sections import source as source_line
from ..premium.tabular import Table
from . import pfs
from .pfs import pfs_order, release_of

SECTION_ID = "rvu-history"
KIND = "rvu"
# What is compared between releases (the conversion factor changes with every release and is shown,
# not compared: a changed CF alone changes every code's payment).
COMPARED = ("status code", "work RVU", "non-facility PE RVU", "facility PE RVU", "MP RVU",
            "non-facility total", "facility total", "non-facility NA indicator", "facility NA indicator")
SHOWN = (*COMPARED, "conversion factor")

Values = tuple[str, ...]  # the SHOWN cells of one (code, modifier) in one release


@dataclass(frozen=True, slots=True)
class RvuHistory:
    releases: list[str]  # release tags in date order ("rvu24a_jan", …)
    names: dict[str, str]  # tag -> "RVU24AR (2024-03-09 to 2024-03-31)"
    changed: dict[str, dict[str, dict[str, Values]]]  # code -> modifier -> tag -> values


def rvu_history(cfg: SiteConfig) -> RvuHistory | None:
    """The codes whose RVUs changed between the releases of the PPRRVU file (None: one release only).

    Read once per file and kept in `.coderef/cache/` (keyed by the file's identity and this code):
    reading the 40k-row file is half a second, most of the fast path of one hand-written CPT page."""
    src = source(cfg, "pprrvu")
    if src is None:
        return None
    st = src.path.stat()
    return _cached(str(src.path.resolve()), st.st_size, st.st_mtime_ns, cfg.state_dir / "cache")


def _code_version() -> str:
    return code_of(sys.modules[__name__], pfs, mpfs, tabular)


def rvu_cache(cfg: SiteConfig) -> Path | None:
    """The cache file `rvu_history` reads (None: no PPRRVU file), for a build to tell whether it is cold."""
    src = source(cfg, "pprrvu")
    if src is None:
        return None
    st = src.path.stat()
    return _cache_file(str(src.path.resolve()), st.st_size, st.st_mtime_ns, cfg.state_dir / "cache")


def _cache_file(path_str: str, size: int, mtime_ns: int, cache_dir: Path) -> Path:
    key = hashlib.blake2b(f"{path_str}|{size}|{mtime_ns}|{_code_version()}".encode(), digest_size=12)
    return cache_file(cache_dir, "rvu-history", key.hexdigest())


@functools.lru_cache(maxsize=2)
def _cached(path_str: str, size: int, mtime_ns: int, cache_dir: Path) -> RvuHistory | None:
    cache = _cache_file(path_str, size, mtime_ns, cache_dir)
    return cached(cache, "rvu-history", lambda: _read(Path(path_str)))


def _read(path: Path) -> RvuHistory | None:
    table = Table(path, RVU_COLUMNS, "a PPRRVU file (HCPCS / MOD / status code / RVUs / conversion factor)")
    rows: dict[tuple[str, str], dict[str, Values]] = {}
    tags: dict[str, None] = {}
    get = table.getter(("release", "HCPCS", "MOD", *SHOWN))
    for _line, cells in table.rows():
        tag, code, mod, *shown = get(cells)
        tags.setdefault(tag, None)
        rows.setdefault((code.upper(), mod.upper()), {})[tag] = tuple(shown)
    if len(tags) < 2:
        return None
    by_name = {release_of(tag, path)[0]: tag for tag in tags}
    releases = pfs_order(list(tags), path)
    ordered = [by_name[r.name] for r in releases]
    names = {by_name[r.name]: f"{r.name} ({r.dates()})" for r in releases}
    n = len(COMPARED)
    changed: dict[str, dict[str, dict[str, Values]]] = {}
    for (code, mod), by_tag in rows.items():
        if len(by_tag) == len(ordered) and len({v[:n] for v in by_tag.values()}) == 1:
            continue
        changed.setdefault(code, {})[mod] = by_tag
    return RvuHistory(ordered, names, changed)


def rvu_section(history: RvuHistory, code: str) -> Section | None:
    """Each release's values of a code whose RVUs changed, per modifier; None when they did not."""
    found = history.changed.get(code)
    if found is None:
        return None
    heads = ("Release", "Status", "Work", "PE non-facility", "PE facility", "MP", "Total non-facility",
             "Total facility", "Conversion factor")
    parts = ['<p>The PFS releases of 2024 held here, for each modifier whose values changed between them '
             f'(or that was added or removed). <a href="{urls.pfs_changes_path()}">Every code that changed, '
             "by release</a>.</p>"]
    for mod, by_tag in sorted(found.items()):
        body = []
        for tag in history.releases:
            v = by_tag.get(tag)
            name = esc(history.names[tag])
            if v is None:
                body.append(f'<tr><th scope="row">{name}</th><td colspan="8">not in this release</td></tr>')
                continue
            status, work, nf_pe, f_pe, mp, nf_tot, f_tot, nf_na, f_na, cf = v
            cells = [status, work, "NA" if nf_na else nf_pe, "NA" if f_na else f_pe, mp,
                     "NA" if nf_na else nf_tot, "NA" if f_na else f_tot, cf]
            tds = "".join(f"<td>{esc(c)}</td>" for c in cells)
            body.append(f'<tr><th scope="row">{name}</th>{tds}</tr>')
        head = "".join(f'<th scope="col">{h}</th>' for h in heads)
        parts.append(
            f"<h3>Modifier {esc(mod) or 'none'}</h3>"
            f'<table class="rvu rvu-history"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>'
        )
    releases = ", ".join(history.names[t] for t in history.releases)
    parts.append(source_line(f"Medicare Physician Fee Schedule {releases}, CMS"))
    return Section(SECTION_ID, KIND, "RVU history", "".join(parts))


def attach_rvu_history(cfg: SiteConfig, models: dict[str, list[CodeRecord]]) -> None:
    """Appends the RVU history section to the pages of codes whose RVUs changed between releases."""
    history = rvu_history(cfg)
    if history is None:
        return
    for records in models.values():
        for rec in records:
            if rec.is_code and rec.key in history.changed:
                section = rvu_section(history, rec.key)
                if section is not None:
                    rec.sections = [*rec.sections, section]
