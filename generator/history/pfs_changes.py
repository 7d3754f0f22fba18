"""The public PFS change page: for each pair of consecutive Physician Fee Schedule releases held (the
2024 releases stacked in the PPRRVU file), which codes' RVUs or status changed and in what.

It names codes and what changed, never the values: those are premium, in each code's protected
"RVU history" section (rvu.py), which every row links to.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator

from .. import urls
from ..link import CodeSetModel
from ..render import Ctx
from ..theme import SiteFile, Theme
from .rvu import COMPARED, RvuHistory, rvu_history

PRICED = ("cpt", "hcpcs")  # the code sets whose codes the fee schedule prices


def pfs_change_pages(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage: `/pfs/changes/` when the PPRRVU file holds more than one release."""
    history = rvu_history(theme.cfg)
    if history is None:
        return
    releases = [history.names[t] for t in history.releases]
    yield theme.page(
        "pfs_changes.html", urls.pfs_changes_path(), "Physician Fee Schedule: what changed between releases",
        pfs=Ctx({"pairs": pair_rows(history, models), "releases": releases}),
    )


def changed_fields(old: tuple[str, ...] | None, new: tuple[str, ...] | None) -> str:
    """What changed between a code's values in two releases ("" when nothing compared did)."""
    if old is None and new is None:
        return ""
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return ", ".join(name for i, name in enumerate(COMPARED) if old[i] != new[i])


def pair_rows(history: RvuHistory, models: dict[str, CodeSetModel]) -> list[Ctx]:
    """Per consecutive pair of releases, the rows (code, modifier, what changed, link) in code order."""
    out = []
    for n, (old, new) in enumerate(itertools.pairwise(history.releases)):
        rows = []
        for code in sorted(history.changed):
            for mod, by_tag in sorted(history.changed[code].items()):
                what = changed_fields(by_tag.get(old), by_tag.get(new))
                if what:
                    url = priced_url(models, code)
                    rows.append(Ctx({"code": code, "mod": mod, "what": what, "url": url}))
        out.append(Ctx({"id": f"pair-{n + 1}", "old": history.names[old], "new": history.names[new],
                        "rows": rows, "codes": len({r["code"] for r in rows})}))
    return out


def priced_url(models: dict[str, CodeSetModel], code: str) -> str:
    """The page of a CPT or HCPCS code, or "" when it has none."""
    for codeset in PRICED:
        model = models.get(codeset)
        if model is not None and code in model.index:
            return urls.page_path(codeset, code)
    return ""
