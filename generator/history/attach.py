"""The history of a code set (its held releases compared pairwise) and its attachment to the records."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from .. import urls
from ..config import SiteConfig
from ..errors import BuildError
from ..model import CODE, CODESET_NAMES, HCPCS, CodeRecord, Section
from ..official import source
from .compare import Changes, compare
from .hcpcs import TITLE as HCPCS_TITLE
from .hcpcs import held_of, is_compared
from .held import Held
from .ncci_mue import attach_ncci_mue_history
from .previous import PREVIOUS_KINDS, previous_releases
from .releases import Release, from_quarter_line, from_source_line
from .rvu import attach_rvu_history
from .sections import Event, history_section, pair_events


@dataclass
class History:
    """The releases held for one code set, oldest first (the current one last), and what changed."""

    codeset: str
    releases: list[Release]
    codes: list[dict[str, Held]]  # per release: its codes in official order
    pairs: list[Changes]  # releases[i] -> releases[i + 1]

    @property
    def current(self) -> Release:
        return self.releases[-1]

    @property
    def latest(self) -> Changes:
        """What the current release changed."""
        return self.pairs[-1]


def current_release(codeset: str, records: list[CodeRecord]) -> Release:
    line = next((r.source for r in records if r.is_code and r.source), "")
    if codeset == HCPCS:
        release = from_quarter_line(codeset, HCPCS_TITLE, line)
        if release is None:
            raise BuildError(
                f"HCPCS Level II: the current file's release line '{line}' names no month, so the earlier "
                "release held cannot be compared with it; import the file under a name that carries its "
                "release (CMS's HCPC2024_JUL_ANWEB…, or …_2024-07…)"
            )
        return release
    release = from_source_line(codeset, line)
    if release is None:
        raise BuildError(
            f"{CODESET_NAMES[codeset]}: the current file's release line '{line}' names no fiscal year, "
            "so the earlier releases held cannot be compared with it; import the official file "
            "(its <version> gives the year)"
        )
    return release


def current_codes(codeset: str, records: list[CodeRecord]) -> dict[str, Held]:
    """The current release's codes as compared with the earlier ones, in official order."""
    if codeset == HCPCS:
        return {r.key: held_of(r) for r in records if is_compared(r)}
    return {r.key: Held(bool(r.billable), r.title) for r in records if r.is_code}


def compared(cfg: SiteConfig, codeset: str) -> bool:
    """Whether the site compares releases of `codeset`: earlier ones are held, and the current one is an
    official file (HCPCS pages may be hand-written only: no release to compare)."""
    if codeset == HCPCS and source(cfg, "hcpcs") is None:
        return False
    return any(source(cfg, kind) is not None for kind in PREVIOUS_KINDS.get(codeset, ()))


def history_of(cfg: SiteConfig, codeset: str, records: list[CodeRecord]) -> History | None:
    """The history of `codeset` from its records and the earlier releases held (None: none held)."""
    if not compared(cfg, codeset):
        return None
    previous = previous_releases(cfg, codeset)
    current = current_release(codeset, records)
    now = current_codes(codeset, records)
    releases = [p.release for p in previous] + [current]
    codes = [p.codes for p in previous] + [now]
    for older, newer in itertools.pairwise(releases):
        if older.start >= newer.start:
            raise BuildError(
                f"{CODESET_NAMES[codeset]}: the earlier release {older.name} is not older than {newer.name}; "
                "check the files named for the earlier releases"
            )
    pairs = [compare(releases[i], codes[i], releases[i + 1], codes[i + 1]) for i in range(len(releases) - 1)]
    return History(codeset, releases, codes, pairs)


def attach_history(cfg: SiteConfig, models: dict[str, list[CodeRecord]]) -> dict[str, History]:
    """Gives every code of a code set with earlier releases held its history block, and new and
    revised codes of the current release their badge; and codes whose RVUs changed between the PFS
    releases held, or whose NCCI edits or MUEs changed between the quarters held, their (protected) RVU
    and NCCI/MUE history. Returns the histories by code set."""
    attach_rvu_history(cfg, models)
    attach_ncci_mue_history(cfg, models)
    out: dict[str, History] = {}
    for codeset, records in models.items():
        history = history_of(cfg, codeset, records)
        if history is None:
            _attach_release(codeset, records)
            continue
        out[codeset] = history
        events: dict[str, list[Event]] = {}
        for n, pair in enumerate(history.pairs):
            for key, made in pair_events(pair, history.codes[n + 1]).items():
                events.setdefault(key, []).extend(made)
        latest = history.latest
        badges = {key: "new" for key in latest.added}
        badges.update((rev.key, "revised") for rev in latest.revised)
        changes_url = urls.changes_path(codeset, latest.new.slug)
        cache: dict[str, Section] = {}
        plain: dict[tuple[str, ...], Section] = {}  # the block of codes without events, by releases held in
        earlier = list(zip([r.name for r in history.releases[:-1]], history.codes[:-1], strict=True))
        current = history.current.name
        now = history.codes[-1]
        for rec in records:
            if rec.kind != CODE or rec.key not in now:
                continue  # HCPCS modifiers are not compared
            held_in = (*[n for n, codes in earlier if rec.key in codes], current)
            found = events.get(rec.key)
            if found is None:
                section = plain.get(held_in)
                if section is None:
                    section = plain[held_in] = history_section(
                        history.current, list(held_in), [], cache, latest, changes_url
                    )
            else:
                section = history_section(history.current, list(held_in), found, cache, latest, changes_url)
            rec.sections = [*rec.sections, section]
            badge = badges.get(rec.key)
            if badge is not None and rec.change != "terminated":  # a terminated code keeps that badge
                rec.change = badge
                rec.change_label = f"{'New' if badge == 'new' else 'Revised'} {latest.when}"
    return out


def _attach_release(codeset: str, records: list[CodeRecord]) -> None:
    """A code set held in one release only: its code pages say which fiscal year they show, when
    the release line names one (ICD-10-PCS)."""
    line = next((r.source for r in records if r.is_code and r.source), "")
    release = from_source_line(codeset, line)
    if release is None:
        return
    section = history_section(release, [release.name], [], {})
    for rec in records:
        if rec.is_code:
            rec.sections = [*rec.sections, section]
