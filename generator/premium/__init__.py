"""Premium CMS sections (NCCI, MUE, RVU/GPCI payment, add-on codes, GEMs) and their importers.

Each kind's official file is converted into one small SQLite file: by `coderef import <kind>` into
`<data_dir>/premium/`, else by the build from the file shipped in `content/official/` (see
`files.py`). The build lists which sections each page has (`lists.py`) and the gate renders them when
a page is unlocked (`ondemand.py`), both from the same files; `PageSections` renders them.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..config import SiteConfig
from ..link import CodeSetModel
from ..model import CPT, HCPCS, ICD10CM, ICD10PCS, CodeRecord, Section
from . import aoc, files, gems, lcd, mpfs, mue, ncci, payment, releases
from .db import ImportResult, connect, data_file, read_meta, release_from_name
from .hcpcs_codes import terminated
from .sections import Linker, Pages, cms_codeset

__all__ = ["PREMIUM_KINDS", "PREMIUM_ORDER", "ImportResult", "PageSections", "Sources", "extra_records",
           "import_premium", "normalised_file", "premium_identities", "premium_inputs", "premium_sections",
           "start_conversions"]

GEMS_SECTION = "gems-crosswalk"  # the id of the GEMs section (gems.render)
# The code sets whose pages get premium sections, in the order they are built.
PREMIUM_ORDER = (CPT, HCPCS, ICD10CM, ICD10PCS)


Importer = Callable[[str, Path, Path, "str | None"], ImportResult]


@dataclass(frozen=True, slots=True)
class PremiumKind:
    kind: str
    description: str
    run: Importer


def _import_modifiers(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    # The HCPCS importer's parser (which `modifiers` uses) imports this package for its indicator
    # tables: `modifiers` is imported when a modifier file is imported, not with the package.
    from .modifiers import import_modifiers

    return import_modifiers(kind, path, out, release)


PREMIUM_KINDS: dict[str, PremiumKind] = {k.kind: k for k in (
    PremiumKind("ncci-ptp-practitioner", "NCCI PTP edits, practitioner (column 1/column 2 pairs)",
                ncci.import_ptp),
    PremiumKind("ncci-ptp-hospital", "NCCI PTP edits, outpatient hospital", ncci.import_ptp),
    PremiumKind("mue-practitioner", "NCCI MUEs, practitioner services", mue.import_mue),
    PremiumKind("mue-hospital", "NCCI MUEs, outpatient hospital services", mue.import_mue),
    PremiumKind("mue-dme", "NCCI MUEs, DME supplier services", mue.import_mue),
    PremiumKind("ncci-aoc", "NCCI add-on code edits", aoc.import_aoc),
    PremiumKind("pprrvu", "Medicare PFS relative value file (PPRRVU: RVUs, indicators, conversion factor)",
                mpfs.import_pprrvu),
    PremiumKind("gpci", "Medicare PFS geographic practice cost indices by locality (GPCI)", mpfs.import_gpci),
    PremiumKind("gem-cm-to-icd9", "GEMs ICD-10-CM to ICD-9-CM (2018_I10gem.txt)", gems.import_gem),
    PremiumKind("gem-icd9-to-cm", "GEMs ICD-9-CM to ICD-10-CM (2018_I9gem.txt)", gems.import_gem),
    PremiumKind("gem-pcs-to-icd9", "GEMs ICD-10-PCS to ICD-9-CM procedures (gem_pcsi9.txt)", gems.import_gem),
    PremiumKind("gem-icd9-to-pcs", "GEMs ICD-9-CM procedures to ICD-10-PCS (gem_i9pcs.txt)", gems.import_gem),
    PremiumKind("icd9-descriptions-dx", "ICD-9-CM diagnosis descriptions (CMS32_DESC_LONG_DX.txt)",
                gems.import_descriptions),
    PremiumKind("icd9-descriptions-sg", "ICD-9-CM procedure descriptions (CMS32_DESC_LONG_SG.txt)",
                gems.import_descriptions),
    PremiumKind("hcpcs-modifiers", ("HCPCS Level II modifiers from the CMS alpha-numeric HCPCS file (for "
                                    "CasePilot)"),
                _import_modifiers),
    PremiumKind("lcd", ("CMS Medicare Coverage Database list of LCDs and Articles (IDs, "
                                  "contractors, dates, titles)"),
                lcd.import_lcd),
)}


def import_premium(cfg: SiteConfig, kind: str, path: Path, release: str | None = None) -> ImportResult:
    """Streams one official file into its normalised SQLite file (replacing the previous import; an NCCI
    or MUE file of another release is kept beside those held, see `releases.py`)."""
    if kind in releases.RELEASED_KINDS:
        releases.check_release(kind, release or "")
        return releases.store_import(cfg, kind, path, release, PREMIUM_KINDS[kind].run)
    return PREMIUM_KINDS[kind].run(kind, path, data_file(cfg, kind), release)


def premium_inputs(cfg: SiteConfig) -> list[str]:
    """The identity of each kind's data (imported, named in site.yml or shipped): the build fingerprints
    them."""
    return files.input_keys(cfg, list(PREMIUM_KINDS))


def premium_identities(cfg: SiteConfig) -> dict[str, str]:
    """Each kind with data: the identity of its file (the build records them, see premium_update.py)."""
    return {k.partition("=")[0]: k for k in files.input_keys(cfg, list(PREMIUM_KINDS))}


def normalised_file(cfg: SiteConfig, kind: str) -> Path | None:
    """The SQLite file of `kind` the build reads (converted now from a shipped file if need be), or None."""
    return files.premium_file(cfg, kind, PREMIUM_KINDS[kind].run)


def start_conversions(cfg: SiteConfig, jobs: int) -> list[int]:
    """Starts converting the shipped (or site.yml) files not converted yet, in forked children;
    `finish_conversions` waits for them."""
    return files.start(cfg, {k: pk.run for k, pk in PREMIUM_KINDS.items()}, jobs)


def finish_conversions(pids: list[int]) -> None:
    files.finish(pids)


class Sources:
    """The source objects over opened normalised files (kind -> connection): what renders the page
    sections, and what CasePilot answers from (gate/assistant/facts.py), so both read alike."""

    def __init__(self, dbs: Mapping[str, sqlite3.Connection]) -> None:
        self.dbs = dict(dbs)
        self.ptp = [ncci.PtpSource(k, dbs[k]) for k in ncci.SETTINGS if k in dbs]
        self.mue = [mue.MueSource(k, dbs[k]) for k in mue.SETTINGS if k in dbs]
        self.aoc = aoc.AocSource(dbs["ncci-aoc"]) if "ncci-aoc" in dbs else None
        self.rvu = payment.RvuSource(dbs["pprrvu"], dbs.get("gpci")) if "pprrvu" in dbs else None
        self.gems = [gems.GemSource(k, dbs[k]) for k in gems.GEM_KINDS if k in dbs]
        self.descs = {cs: dbs[k] for k, cs in gems.DESC_KINDS.items() if k in dbs}


class _Open(Sources):
    """All imported files (or the `files` given: kind -> normalised file), opened read-only for one pass."""

    def __init__(
        self, cfg: SiteConfig | None, stack: ExitStack, files: Mapping[str, Path] | None = None
    ) -> None:
        dbs: dict[str, sqlite3.Connection] = {}
        for kind in PREMIUM_KINDS:
            if files is None:
                if cfg is None:
                    raise ValueError("premium sections need a site config or the files to read")
                path = normalised_file(cfg, kind)
            else:
                path = files.get(kind)
            if path is not None:
                db = connect(path)
                stack.callback(db.close)
                dbs[kind] = db
        super().__init__(dbs)

    def cms_codes(self) -> dict[str, set[str]]:
        """Codes named in NCCI/MUE/RVU data -> the imports naming them."""
        found: dict[str, set[str]] = {}
        sources: list[tuple[str, set[str]]] = [(s.kind, s.codes()) for s in self.ptp]
        sources += [(s.kind, s.codes()) for s in self.mue]
        if self.aoc:
            sources.append(("ncci-aoc", self.aoc.codes()))
        if self.rvu:
            sources.append(("pprrvu", self.rvu.codes()))
        for kind, codes in sources:
            for c in codes:
                found.setdefault(c, set()).add(kind)
        return found


MODIFIER_ORDER_BASE = 5_000_000  # after the HCPCS codes, before hand-only pages (load.HAND_ORDER_BASE)


def modifier_pages(db: sqlite3.Connection) -> Iterator[CodeRecord]:
    """The modifiers group and one page per modifier, as the HCPCS importer makes them from a file
    that has modifiers."""
    meta = read_meta(db)
    source = meta.get("release", "") or "HCPCS Level II, CMS"
    order = MODIFIER_ORDER_BASE
    yield CodeRecord(HCPCS, "modifiers", "HCPCS Level II modifiers", kind="group", order=order,
                     label="Modifiers", source=source)
    released = release_from_name(meta.get("source_file", ""))
    for code, title, short, facts in db.execute("SELECT code, description, short, facts FROM modifier "
                                                "ORDER BY code"):
        order += 1
        pairs = [(str(k), str(v)) for k, v in json.loads(facts)]
        ended = terminated(dict(pairs).get("Termination date", ""), released)
        yield CodeRecord(
            codeset=HCPCS, key=str(code), title=str(title), parent="modifiers", order=order,
            short_title=str(short), label=str(code), facts=pairs, source=source,
            origin=meta.get("source_file", ""), change="terminated" if ended else "", change_label=ended,
        )


def code_pages(models: Mapping[str, CodeSetModel]) -> dict[str, set[str]]:
    """The code pages of `models` by code set: what premium sections may link to."""
    return {cs: {r.key for r in m.records if r.is_code} for cs, m in models.items()}


def _group_key(code: str) -> str:
    return f"cpt-{code[:2]}xxx"


def extra_records(cfg: SiteConfig, existing: Mapping[str, Collection[str]]) -> Iterator[CodeRecord]:
    """CPT code-number pages (no descriptor) for CPT codes in imported CMS data that have no page, and
    HCPCS modifier pages from the modifier data when the HCPCS file has none (the July 2024 file)."""
    with PageSections(cfg, existing) as by_page:
        yield from by_page.extra_records(existing)


def _extra_records(
    opened: _Open, found: dict[str, set[str]], existing: Mapping[str, Collection[str]]
) -> Iterator[CodeRecord]:
    """`extra_records` from opened files; `found`: the codes of their NCCI/MUE/RVU data (`cms_codes`)."""
    if "hcpcs-modifiers" in opened.dbs and "modifiers" not in existing.get(HCPCS, ()):
        yield from modifier_pages(opened.dbs["hcpcs-modifiers"])
    have = existing.get(CPT, ())
    missing = sorted(c for c in found if cms_codeset(c) == CPT and c not in have)
    if not missing:
        return
    releases = {k: read_meta(opened.dbs[k]).get("release", "") for k in opened.dbs}
    groups: dict[str, list[str]] = {}
    for code in missing:
        groups.setdefault(_group_key(code), []).append(code)
    order = 0
    # One string per distinct source line (a few), not per page: the fast path of a hand-written
    # page reads these records back from a pickle (load.py), which stores a shared string once.
    lines: dict[frozenset[str], str] = {}
    for gkey, codes in sorted(groups.items()):
        if gkey not in have:
            order += 1
            yield CodeRecord(
                codeset=CPT, key=gkey, title=f"CPT® code numbers {gkey[4:6]}000–{gkey[4:6]}999",
                kind="group", order=order, label=f"{gkey[4:6]}xxx",
                source="CPT code numbers as listed in CMS NCCI, MUE and fee schedule files",
            )
        for code in codes:
            order += 1
            kinds = frozenset(found[code])
            line = lines.get(kinds)
            if line is None:
                line = lines[kinds] = f"Code number listed in CMS data: {_listed_in(kinds, releases)}"
            # No title: the descriptor is AMA's, so the page says so instead of repeating the number.
            yield CodeRecord(codeset=CPT, key=code, title="", parent=gkey, order=order, source=line)


# What a CPT code-number page names as its source (never the operator's local file names).
_SOURCE_LABELS = (
    (("ncci-ptp-practitioner", "ncci-ptp-hospital"), "NCCI PTP edits"),
    (("mue-practitioner", "mue-hospital", "mue-dme"), "NCCI MUEs"),
    (("ncci-aoc",), "NCCI add-on code edits"),
    (("pprrvu",), "Medicare PFS relative values"),
)


def _listed_in(kinds: Collection[str], releases: Mapping[str, str]) -> str:
    parts: list[str] = []
    for group, label in _SOURCE_LABELS:
        hit = [k for k in group if k in kinds]
        if hit:
            rel = sorted({releases[k] for k in hit if releases.get(k)})
            parts.append(f"{label} {', '.join(rel)}" if rel else label)
    return "; ".join(parts)


class PageSections:
    """The premium sections of one page at a time, in the process that renders the page.

    The gate renders a page's sections with one when the page is unlocked (`ondemand.py`). Each
    process opens the normalised files for itself (an SQLite connection must not cross a fork).
    `listed`: the caller only asks for sections the page has (the store lists them), so the sets of
    codes each file covers are never read (half a second of a gate's first unlock)."""

    def __init__(
        self, cfg: SiteConfig | None, pages: Mapping[str, Collection[str]],
        files: Mapping[str, Path] | None = None, *, listed: bool = False,
    ) -> None:
        self.cfg = cfg
        self.files = files  # kind -> normalised file (a build's snapshot); None: the files the build reads
        self.listed = listed
        self.pages = pages  # code pages by code set: what the sections may link to
        self.link = Linker(pages)  # one for every page: each code's link made once
        self._pid = -1
        self._stack = ExitStack()
        self._open: _Open | None = None
        self._cms: dict[str, set[str]] = {}
        self._gems: dict[str, tuple[list[gems.GemSource], set[str], dict[str, str] | None]] = {}

    def _opened(self) -> _Open:
        if self._open is None or self._pid != os.getpid():
            stack = ExitStack()  # a forked worker leaves the parent's connections alone
            try:
                o = _Open(self.cfg, stack, self.files)
            except BaseException:  # a file missing or broken: close the others opened
                stack.close()
                raise
            self._stack, self._open, self._pid = stack, o, os.getpid()
            self._cms = {} if self.listed else o.cms_codes()
            self._gems = {}
        return self._open

    def _gem_sources(
        self, o: _Open, codeset: str
    ) -> tuple[list[gems.GemSource], set[str], dict[str, str] | None]:
        """A code set's GEM files, the codes they cover and the ICD-9-CM descriptions (read when a page
        of the code set first asks)."""
        found = self._gems.get(codeset)
        if found is None:
            srcs = [g for g in o.gems if g.codeset == codeset]
            covered: set[str] = set()
            for g in srcs if not self.listed else ():
                covered |= g.codes()
            db = o.descs.get(codeset)
            found = self._gems[codeset] = (srcs, covered, gems.descriptions(db) if db is not None else None)
        return found

    def extra_records(self, existing: Mapping[str, Collection[str]]) -> Iterator[CodeRecord]:
        """See the module function `extra_records` (this opens the files once for both)."""
        o = self._opened()
        yield from _extra_records(o, self._cms, existing)

    def __call__(self, codeset: str, key: str, only: Collection[str] | None = None) -> list[Section]:
        """The page's sections (those whose id is in `only`, if given)."""
        o = self._opened()
        if not o.dbs:
            return []
        if codeset in (CPT, HCPCS):
            if key not in self._cms and not self.listed:
                return []
            return [s for _, _, s in _cms_sections(o, codeset, key, self.link, only)]
        if only is not None and GEMS_SECTION not in only:
            return []
        srcs, covered, descs = self._gem_sources(o, codeset)
        if not srcs or (gems.gem_code(codeset, key) not in covered and not self.listed):
            return []
        section = gems.render(codeset, key, srcs, descs, self.pages)
        return [section] if section is not None else []

    def warm(self) -> None:
        """Opens the files and reads the small tables every page's sections share (NCCI codes and
        rationales, MUEs, RVUs, add-on codes, ICD-9-CM descriptions), so that no page's first render
        pays for them."""
        o = self._opened()
        for ptp in o.ptp:
            ptp.names  # noqa: B018 (read now: a cached property)
            ptp.rationale  # noqa: B018
            ptp.layout  # noqa: B018
            ptp.rests  # noqa: B018
        for src in o.mue:
            src.by_code()
        if o.rvu is not None:
            o.rvu.by_code()
        if o.aoc is not None:
            o.aoc.by_code()
        for codeset in (ICD10CM, ICD10PCS):
            self._gem_sources(o, codeset)

    @classmethod
    def of(
        cls, cfg: SiteConfig, models: Mapping[str, CodeSetModel], files: Mapping[str, Path] | None = None
    ) -> PageSections:
        """The sections of the code pages of `models`, linking to all of them."""
        return cls(cfg, code_pages(models), files)

    def close(self) -> None:
        if self._pid == os.getpid():
            self._stack.close()
        self._open = None

    def __enter__(self) -> PageSections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def premium_sections(
    cfg: SiteConfig, pages: Mapping[str, Collection[str]]
) -> Iterator[tuple[str, str, Section]]:
    """(codeset, key, Section) for every page the imported data covers, code by code."""
    by_page = PageSections(cfg, pages)
    try:
        for codeset in PREMIUM_ORDER:
            for key in sorted(pages.get(codeset, ())):
                for section in by_page(codeset, key):
                    yield codeset, key, section
    finally:
        by_page.close()


def _cms_sections(
    o: _Open, codeset: str, key: str, pages: Pages | Linker, only: Collection[str] | None = None
) -> Iterator[tuple[str, str, Section]]:
    """A CPT or HCPCS page's sections, in page order (those whose id is in `only`, if given)."""
    makers: list[tuple[str, bool, Callable[[], Section | None]]] = [
        ("ncci-edits", bool(o.ptp), lambda: ncci.render(key, o.ptp, pages)),
        ("mue", bool(o.mue), lambda: mue.render(key, o.mue)),
        ("rvu-payment", o.rvu is not None, lambda: payment.render(key, o.rvu) if o.rvu else None),
        ("add-on-codes", o.aoc is not None, lambda: aoc.render(key, o.aoc, pages) if o.aoc else None),
    ]
    for sid, has_data, make in makers:
        if has_data and (only is None or sid in only):
            section = make()
            if section is not None:
                yield codeset, key, section
