"""NCCI/MUE history: the quarterly NCCI PTP and MUE releases held side by side (premium/releases.py),
consecutive ones compared (ncci_compare.py); for each code that changed, a protected "NCCI/MUE history"
section with the values before and after; the public page `/ncci/changes/` names only which codes
changed and in what.

The section's kind is `ncci-mue-history`, protected by default like the NCCI and MUE sections: it goes
to the protected store, never into site/ (the public page shows only its title).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .. import urls
from ..config import SiteConfig
from ..link import CodeSetModel
from ..model import CodeRecord, Section
from ..premium import PREMIUM_KINDS
from ..premium.files import cache_dir, normalised, stat_key
from ..premium.mue import MAI
from ..premium.mue import SETTINGS as MUE_SETTINGS
from ..premium.ncci import MODIFIER
from ..premium.ncci import SETTINGS as PTP_SETTINGS
from ..premium.releases import RELEASED_KINDS, held_sources, release_of
from ..premium.sections import esc
from ..premium.sections import source as source_line
from ..render import Ctx
from ..theme import SiteFile, Theme
from .ncci_compare import EditChange, EditState, MueChange, cached_compare
from .pfs_changes import PRICED, priced_url

SECTION_ID = KIND = "ncci-mue-history"
TITLE = "NCCI/MUE history"
EDIT_WORDS = {"added": "added", "deleted": "deleted (deletion date set)",
              "modifier": "modifier indicator changed", "reinstated": "reinstated (deletion date removed)",
              "deletion date": "deletion date changed",
              "removed": "no longer in the file"}
MUE_WORDS = {"added": "MUE added", "removed": "MUE removed", "value": "MUE value changed",
             "indicator": "adjudication indicator changed",
             "value and indicator": "MUE value and adjudication indicator changed"}


def title_of(kind: str) -> str:
    if kind in PTP_SETTINGS:
        return f"NCCI PTP edits ({PTP_SETTINGS[kind]})"
    return f"MUEs ({MUE_SETTINGS[kind].lower()})"


@dataclass
class Pair:
    """What one release of a data set changed from the release before it."""

    kind: str
    old: str  # release dates
    new: str
    edits: list[EditChange] = field(default_factory=list)
    mues: list[MueChange] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.new}"


@dataclass
class NcciMueHistory:
    releases: dict[str, list[str]]  # kind -> its release dates held, oldest first (kinds with two or more)
    pairs: list[Pair]
    by_code: dict[str, list[tuple[Pair, list[EditChange], list[MueChange]]]]


def ncci_mue_history(cfg: SiteConfig) -> NcciMueHistory | None:
    """The changes between consecutive releases held of each NCCI and MUE kind (None: one release each)."""
    held = {kind: held_sources(cfg, kind) for kind in RELEASED_KINDS}
    several = {k: [s for s in v if release_of(s)] for k, v in held.items()}
    several = {k: v for k, v in several.items() if len(v) > 1}
    if not several:
        return None
    ident = repr((str(cfg.data_path), [(k, [f"{release_of(s)}|{stat_key(s.path)}" for s in v])
                                       for k, v in several.items()]))
    found = _MADE.get(ident)
    if found is None:  # once per build process and set of files (the load stage and the page both ask)
        _MADE.clear()
        found = _MADE[ident] = _history(cfg)
    return found


_MADE: dict[str, NcciMueHistory] = {}


def forget() -> None:
    """Drops the history made in this process (the next call reads it from the cache, as a new build)."""
    _MADE.clear()


def _history(cfg: SiteConfig) -> NcciMueHistory:
    releases: dict[str, list[str]] = {}
    pairs: list[Pair] = []
    for kind in RELEASED_KINDS:
        sources = [s for s in held_sources(cfg, kind) if release_of(s)]
        if len(sources) < 2:
            continue
        releases[kind] = [release_of(s) for s in sources]
        files = [normalised(cfg, s, PREMIUM_KINDS[kind].run) for s in sources]
        for n in range(len(files) - 1):
            pair = Pair(kind, releases[kind][n], releases[kind][n + 1])
            found = cached_compare(cache_dir(cfg), kind, files[n], files[n + 1])
            if kind in PTP_SETTINGS:
                pair.edits = [e for e in found if isinstance(e, EditChange)]
            else:
                pair.mues = [m for m in found if isinstance(m, MueChange)]
            pairs.append(pair)
    by_code: dict[str, list[tuple[Pair, list[EditChange], list[MueChange]]]] = {}
    for pair in pairs:
        mine: dict[str, tuple[list[EditChange], list[MueChange]]] = {}
        for e in pair.edits:
            mine.setdefault(e.column1, ([], []))[0].append(e)
            mine.setdefault(e.column2, ([], []))[0].append(e)
        for m in pair.mues:
            mine.setdefault(m.code, ([], []))[1].append(m)
        for code, (edits, mues) in mine.items():
            by_code.setdefault(code, []).append((pair, edits, mues))
    return NcciMueHistory(releases, pairs, by_code)


def _edit(state: EditState | None) -> str:
    if state is None:
        return "not in the file"
    mod = f"modifier indicator {state.modifier} ({MODIFIER.get(state.modifier, 'unknown').split(':')[0]})"
    return f"deleted {state.deleted}; {mod}" if state.deleted else f"in force; {mod}"


def _mue(rows: tuple[tuple[int, int], ...]) -> str:
    if not rows:
        return "no MUE"
    return "; ".join(f"{v} units, indicator {m} ({MAI.get(m, 'unknown').split(':')[0]})" for v, m in rows)


def history_section(history: NcciMueHistory, code: str) -> Section | None:
    """Each release pair's changes to one code's MUEs and NCCI edits, the values before and after."""
    found = history.by_code.get(code)
    if not found:
        return None
    parts = [f'<p>What the NCCI and MUE releases held here changed for {esc(code)}, release by release. '
             f'<a href="{urls.ncci_changes_path()}">Every code that changed</a>.</p>']
    named: dict[str, None] = {}
    for pair, edits, mues in found:
        head = f"{title_of(pair.kind)}: {esc(pair.new)} compared with {esc(pair.old)}"
        cols = f'<th scope="col">{esc(pair.old)}</th><th scope="col">{esc(pair.new)}</th></tr></thead>'
        named.setdefault(f"{title_of(pair.kind)} effective {pair.old} and {pair.new}", None)
        if mues:
            body = "".join(
                f'<tr><th scope="row">{esc(MUE_WORDS[m.kind])}</th><td>{esc(_mue(m.old))}</td>'
                f"<td>{esc(_mue(m.new))}</td></tr>" for m in mues
            )
            parts.append(f"<h3>{head}</h3>"
                         '<table class="mue mue-history"><thead><tr><th scope="col">Change</th>'
                         f"{cols}<tbody>{body}</tbody></table>")
        if edits:
            body = "".join(
                f'<tr><th scope="row">{esc(e.column1)}</th><td>{esc(e.column2)}</td>'
                f"<td>{esc(EDIT_WORDS[e.kind])}</td><td>{esc(_edit(e.old))}</td><td>{esc(_edit(e.new))}</td></tr>"
                for e in edits
            )
            parts.append(f"<h3>{head}</h3>"
                         '<table class="ncci ncci-history"><thead><tr><th scope="col">Column 1</th>'
                         '<th scope="col">Column 2</th><th scope="col">Change</th>'
                         f"{cols}<tbody>{body}</tbody></table>")
    parts.extend(source_line(f"{n}, CMS") for n in named)
    return Section(SECTION_ID, KIND, TITLE, "".join(parts))


def attach_ncci_mue_history(cfg: SiteConfig, models: dict[str, list[CodeRecord]]) -> None:
    """Appends the NCCI/MUE history section to the pages of codes that changed between releases held."""
    if not any(models.get(codeset) for codeset in PRICED):
        return  # no page it could go on (and the comparison reads the converted CMS files: load.py calls
        # this for ICD-10 before the conversions are done)
    history = ncci_mue_history(cfg)
    if history is None:
        return
    for codeset in PRICED:
        for rec in models.get(codeset, []):
            if rec.is_code and rec.key in history.by_code:
                section = history_section(history, rec.key)
                if section is not None:
                    rec.sections = [*rec.sections, section]


# ------------------------------------------------------------------------------ the public page


def ncci_change_pages(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage: `/ncci/changes/` when an NCCI or MUE kind holds more than one release."""
    history = ncci_mue_history(theme.cfg)
    if history is None:
        return
    sets = [Ctx({"kind": kind, "title": title_of(kind), "releases": dates}) for kind, dates in
            history.releases.items()]
    yield theme.page(
        "ncci_changes.html", urls.ncci_changes_path(), "NCCI edits and MUEs: what changed between releases",
        ncci=Ctx({"sets": sets, "pairs": [pair_ctx(p, models) for p in history.pairs]}),
    )


def pair_ctx(pair: Pair, models: dict[str, CodeSetModel]) -> Ctx:
    """One release pair of one data set: per code, what changed (no values: those are premium)."""
    what: dict[str, dict[tuple[str, str], int]] = {}
    for e in pair.edits:
        for side, code in (("column 1", e.column1), ("column 2", e.column2)):
            counts = what.setdefault(code, {})
            counts[(EDIT_WORDS[e.kind], side)] = counts.get((EDIT_WORDS[e.kind], side), 0) + 1
    for m in pair.mues:
        what.setdefault(m.code, {})[(MUE_WORDS[m.kind], "")] = 0
    rows = []
    for code in sorted(what):
        said = [f"{w[:1].upper()}{w[1:]}" + (f": {n} {'edit' if n == 1 else 'edits'} as {side}" * bool(side))
                for (w, side), n in what[code].items()]
        rows.append(Ctx({"code": code, "url": priced_url(models, code), "what": "; ".join(said)}))
    return Ctx({"id": pair.anchor, "kind": pair.kind, "title": title_of(pair.kind), "old": pair.old,
                "new": pair.new, "rows": rows, "changes": len(pair.edits) + len(pair.mues)})

