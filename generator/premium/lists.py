"""Which premium sections each code page has, decided by the build without rendering any.

A page shows its protected premium sections as locked placeholders (id and title) and the gate
renders their HTML on first unlock (generator/premium/ondemand.py), so the build only needs to know
which sections `PageSections` would return: exactly those whose source names the code, which is a
set lookup over the codes each converted file covers. tests/test_premium_ondemand.py proves the
equivalence over the shipped data. Sections of a kind the site makes public are still rendered
(their text is in the page).
"""
from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

from .. import premium, snapshots
from ..config import SiteConfig
from ..errors import BuildError
from ..link import CodeSetModel
from ..model import CPT, HCPCS, ICD10CM, ICD10PCS, Section
from ..pickle_cache import cache_file, cached, code_of
from . import PageSections, Sources, aoc, gems, mue, ncci, normalised_file, payment
from . import db as tables
from .db import connect
from .sections import cms_codeset

# Section id -> (kind, title) exactly as each `render` makes it, in the order a page shows them.
CMS_SECTIONS: dict[str, tuple[str, str]] = {
    "ncci-edits": ("ncci-ptp", "NCCI edits"),
    "mue": ("mue", "Medically unlikely edits"),
    "rvu-payment": ("rvu", "RVUs and payment"),
    "add-on-codes": ("add-on-codes", "Add-on codes"),
}
GEMS_SECTION: dict[str, tuple[str, str]] = {"gems-crosswalk": ("crosswalk", "ICD-9-CM crosswalk (GEMs)")}
SECTION_KINDS: dict[str, str] = {sid: kind for sid, (kind, _) in (CMS_SECTIONS | GEMS_SECTION).items()}
_TITLES: dict[str, str] = {sid: title for sid, (_, title) in (CMS_SECTIONS | GEMS_SECTION).items()}
PREMIUM_SECTION_KINDS = frozenset(SECTION_KINDS.values())  # the `Section.kind` of every premium section
# Import kind -> the section it feeds; section id -> the code sets that have it.
SECTION_OF = {
    "ncci-ptp-practitioner": "ncci-edits", "ncci-ptp-hospital": "ncci-edits",
    "mue-practitioner": "mue", "mue-hospital": "mue", "mue-dme": "mue",
    "pprrvu": "rvu-payment", "gpci": "rvu-payment", "ncci-aoc": "add-on-codes",
    "gem-cm-to-icd9": "gems-crosswalk", "gem-icd9-to-cm": "gems-crosswalk",
    "gem-pcs-to-icd9": "gems-crosswalk", "gem-icd9-to-pcs": "gems-crosswalk",
    "icd9-descriptions-dx": "gems-crosswalk", "icd9-descriptions-sg": "gems-crosswalk",
}
CODESETS_OF = {sid: (CPT, HCPCS) for sid in CMS_SECTIONS} | {"gems-crosswalk": (ICD10CM, ICD10PCS)}
COVERED_KIND = "premium-covered"  # the pickle cache of `covered` over every code of the files
# The public note on a CPT or HCPCS code page that no NCCI PTP edit names, when the site has PTP files:
# a coder checking whether a code bundles learns that it does not, instead of finding no section at all
# (and no view is spent on it: a note with nothing behind it is not walled). Its words name no file or
# release, so a replaced PTP file changes no page but those that gain or lose edits.
NO_EDITS_KIND = "ncci-none"
NO_EDITS = Section(
    id="ncci-edits", kind=NO_EDITS_KIND, title="NCCI edits", protected=False,
    html=('<p class="ncci-none">No NCCI procedure-to-procedure (PTP) edit names this code, as column 1 or '
          "as column 2, in the PTP files this site holds: no PTP edit bundles it with another code. "
          "Medically unlikely edits (units of service) and add-on code edits are separate NCCI files.</p>"),
)  # no `text`: search would otherwise find every such page for "NCCI"


def covered(sources: Sources, among: Collection[str] | None = None) -> dict[str, frozenset[str]]:
    """Section id -> the codes (as CMS writes them) that `render` makes it for; of `among` only, if
    given (the fast path of a few pages looks their codes up instead of reading every file whole)."""
    out: dict[str, frozenset[str]] = {}

    def having(db: sqlite3.Connection, table: str, column: str, every: Callable[[], Iterable[str]]
               ) -> set[str]:
        """`every()` code of the file (read whole), or those of `among` it has (looked up)."""
        return set(every()) if among is None else _having(db, table, column, among)

    if sources.ptp:  # a code is in a PTP file's `codes` table only with an edit of its own
        out["ncci-edits"] = frozenset().union(*(having(s.db, "codes", "code", s.codes) for s in sources.ptp))
    if sources.mue:
        out["mue"] = frozenset().union(*(having(s.db, "mue", "code", s.by_code) for s in sources.mue))
    if sources.rvu is not None:
        out["rvu-payment"] = frozenset(having(sources.rvu.db, "rvu", "code", sources.rvu.by_code))
    if sources.aoc is not None:  # only edits not deleted make the section
        db = sources.aoc.db
        if among is None:
            out["add-on-codes"] = frozenset(
                str(r[0]) for r in db.execute(
                    "SELECT addon FROM aoc WHERE del IS NULL"
                    " UNION SELECT prim FROM aoc WHERE del IS NULL AND prim IS NOT NULL"))
        else:
            live = "del IS NULL"
            out["add-on-codes"] = frozenset(
                _having(db, "aoc", "addon", among, live) | _having(db, "aoc", "prim", among, live))
    for codeset in (ICD10CM, ICD10PCS):
        srcs = [g for g in sources.gems if g.codeset == codeset]
        if srcs:
            out[f"gems-crosswalk:{codeset}"] = frozenset().union(*(
                having(g.db, "gem", "icd10", g.codes) for g in srcs))
    return out


def covered_cached(cfg: SiteConfig) -> bool:
    """Whether what the build's CMS files cover is cached (`fill_covered` makes it)."""
    return _covered_cache(cfg, premium_files(cfg)).exists()


def fill_covered(cfg: SiteConfig) -> None:
    """Reads what the build's CMS files cover into the cache a full build's `SectionLists` reads (its
    snapshots of the files are hard links: the same identity, the same cache)."""
    covered_all(cfg, premium_files(cfg))


def covered_all(cfg: SiteConfig, files: Mapping[str, Path]) -> dict[str, frozenset[str]]:
    """`covered` over every code of `files`: read whole once per set of files (half a second), then cached."""
    return cached(_covered_cache(cfg, files), COVERED_KIND, lambda: covered_in(files, None))


def _covered_cache(cfg: SiteConfig, files: Mapping[str, Path]) -> Path:
    return cache_file(cfg.state_dir / "cache", COVERED_KIND, covered_key(files))


def covered_key(files: Mapping[str, Path]) -> str:
    """The identity of the `covered` sets of `files` (kind -> file): each file's as its snapshot's name
    (`snapshots.link`: a snapshot, a hard link, is the same file) and the code that reads them."""
    h = hashlib.blake2b(code_of(*_READERS).encode(), digest_size=12)
    for kind, path in sorted(files.items()):
        st = path.stat()
        h.update(f"|{kind}={st.st_ino}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


def covered_in(files: Mapping[str, Path], among: Collection[str] | None) -> dict[str, frozenset[str]]:
    """`covered` over the files of `files` (kind -> file), opened for it."""
    with ExitStack() as stack:
        dbs = {}
        for kind, path in files.items():
            db = connect(path)
            stack.callback(db.close)
            dbs[kind] = db
        return covered(Sources(dbs), among)


def _having(
    db: sqlite3.Connection, table: str, column: str, among: Collection[str], where: str = ""
) -> set[str]:
    """The codes of `among` that `table.column` holds (in rows matching `where`): indexed lookups."""
    found: set[str] = set()
    codes = sorted(among)
    cond = f" AND {where}" if where else ""
    for i in range(0, len(codes), 500):  # well under SQLite's limit of bound variables
        part = codes[i:i + 500]
        q = f"SELECT DISTINCT {column} FROM {table} WHERE {column} IN ({','.join('?' * len(part))}){cond}"
        found.update(str(r[0]) for r in db.execute(q, part))
    return found


class SectionLists:
    """The premium sections of each code page, as `PageSections` would return them but with empty
    HTML (placeholders), for the kinds the site protects; public kinds are rendered.

    Holds sets of codes only: made in the build process, it is inherited by the render workers.
    `only`: the (code set, key) of the pages it will be asked about, when a few (the fast path of
    hand-written pages): their codes are looked up instead of every file read whole; a page not in
    it is refused."""

    def __init__(
        self, cfg: SiteConfig, files: Mapping[str, Path], pages: Mapping[str, Collection[str]],
        only: Collection[tuple[str, str]] | None = None,
    ) -> None:
        self.only = frozenset(only) if only is not None else None
        if self.only is not None:
            self.covered = covered_in(files, {_cms_code(cs, key) for cs, key in self.only})
        else:
            self.covered = covered_all(cfg, files)
        self.public = frozenset(sid for sid, kind in SECTION_KINDS.items() if not cfg.is_protected(kind))
        # Sections the site shows in public are rendered as before, from the same files.
        self.render = PageSections(cfg, pages, files) if self.public else None
        # One placeholder per section id, shared by every page that has the section (~200k pages a
        # build ask): a placeholder is never changed, and the render keys nothing on its identity.
        self._placeholders = {
            sid: Section(id=sid, kind=kind, title=_TITLES[sid], html="")
            for sid, kind in SECTION_KINDS.items()
        }
        # What `ids` looks up, made ahead: (codes covered, placeholder) of each CMS section in page
        # order, and the codes of each ICD code set the GEMs cover.
        self._cms = [(found, self._placeholders[sid]) for sid in CMS_SECTIONS
                     if (found := self.covered.get(sid)) is not None]
        self._gems = {cs: found for cs in (ICD10CM, ICD10PCS)
                      if (found := self.covered.get(f"gems-crosswalk:{cs}")) is not None}

    def ids(self, codeset: str, key: str) -> Iterator[str]:
        """The ids of the page's premium sections, in page order."""
        if self.only is not None and (codeset, key) not in self.only:
            raise ValueError(f"{codeset} {key}: not one of the pages these section lists were made for")
        if codeset in (CPT, HCPCS):
            for sid in CMS_SECTIONS:
                found = self.covered.get(sid)
                if found is not None and key in found:
                    yield sid
        elif codeset in (ICD10CM, ICD10PCS):
            found = self.covered.get(f"gems-crosswalk:{codeset}")
            if found is not None and gems.gem_code(codeset, key) in found:
                yield "gems-crosswalk"

    def __call__(self, codeset: str, key: str, only: Collection[str] | None = None) -> list[Section]:
        """The page's premium sections (those whose id is in `only`, if given)."""
        if only is None and not self.public and self.only is None:  # the render's case: placeholders only
            if codeset in (CPT, HCPCS):  # what `ids` does, with the lookups made ahead
                return [placeholder for codes, placeholder in self._cms if key in codes]
            found = self._gems.get(codeset)
            if found is not None and gems.gem_code(codeset, key) in found:
                return [self._placeholders["gems-crosswalk"]]
            return []
        ids = [sid for sid in self.ids(codeset, key) if only is None or sid in only]
        shown = [sid for sid in ids if sid in self.public]
        rendered = {s.id: s for s in self.render(codeset, key, only=shown)} if shown and self.render else {}
        out = []
        for sid in ids:
            if sid in self.public:
                if sid not in rendered:  # the equivalence tests/test_premium_ondemand.py checks, broken
                    raise BuildError(f"{codeset} {key}: the CMS files name the code for '{sid}' but its "
                                     "section renders empty")
                out.append(rendered[sid])
            else:
                out.append(self._placeholders[sid])
        return out

    def page(self, codeset: str, key: str) -> list[Section]:
        """What a code page gets: its premium sections (`__call__`), preceded by `NO_EDITS` for a CPT or
        HCPCS code (not a modifier) that the site's NCCI PTP files hold no edit of."""
        found = self(codeset, key)
        ptp = self.covered.get("ncci-edits")
        if ptp is not None and key not in ptp and len(key) == 5 and cms_codeset(key) == codeset:
            return [NO_EDITS, *found]
        return found

    def close(self) -> None:
        if self.render is not None:
            self.render.close()

    def __enter__(self) -> SectionLists:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The modules `covered` reads the files with: a change there must not read a stale cache.
_READERS = (sys.modules[__name__], premium, aoc, tables, gems, mue, ncci, payment)


def _cms_code(codeset: str, key: str) -> str:
    """A page's code as the CMS files write it (what `covered` holds)."""
    return gems.gem_code(codeset, key) if codeset in (ICD10CM, ICD10PCS) else key


def is_reference(section: Section) -> bool:
    """Whether a page's section is a premium placeholder the gate renders (a `SectionLists` stub)."""
    return section.kind in PREMIUM_SECTION_KINDS and not section.html


def premium_files(cfg: SiteConfig) -> dict[str, Path]:
    """The normalised files the premium sections are made from (kind -> file), as the build reads them."""
    return {kind: path for kind in SECTION_OF if (path := normalised_file(cfg, kind)) is not None}


def premium_snapshot(cfg: SiteConfig) -> dict[str, str]:
    """Snapshots (generator/snapshots.py) of the CMS files the premium sections are made from: kind ->
    file name beside the store."""
    return snapshots.take(cfg.store_path, premium_files(cfg))


def linked_pages(models: Mapping[str, CodeSetModel]) -> list[tuple[str, str]]:
    """The code pages premium sections link to (CMS codes: CPT and HCPCS), for the store."""
    return [(cs, r.key) for cs in (CPT, HCPCS) if cs in models for r in models[cs].records if r.is_code]
