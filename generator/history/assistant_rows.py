"""Release history as rows for CasePilot's facts (written by `generator/assistant_facts.py`).

The same comparisons the history blocks and change pages are made from (`attach.history_of`), and the
same release catalog `coderef releases` answers from (`catalog.catalog`), so the assistant can only say
what the pages and the command say.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ..config import SiteConfig
from ..link import CodeSetModel
from .attach import history_of
from .catalog import catalog
from .pages import nearest_current, successors

# (code set or data set, position oldest first, name, label, start, end or "", held_from or "")
ReleaseRow = tuple[str, int, str, str, str, str, str]
# (code set, code, code without dots, release, previous release, kind, old, new, extra as JSON).
# new: old "", new its title, extra its dates in CMS's file ({"added", "ended"}: HCPCS); revised: the old
# and new titles; status: "billable"/"header"; terminated (HCPCS): old its termination date, new its
# title; deleted: old its last title, extra what to look at instead ({"successors", "near"}).
ChangeRow = tuple[str, str, str, str, str, str, str, str, str]


def release_rows(cfg: SiteConfig) -> Iterator[ReleaseRow]:
    """Every release held per code set and CMS data set, with its effective dates."""
    for name, releases in catalog(cfg).items():
        for n, r in enumerate(releases):
            yield (name, n, r.name, r.label, r.start.isoformat(), r.end.isoformat() if r.end else "",
                   r.held_from.isoformat() if r.held_from else "")


def change_rows(cfg: SiteConfig, models: Mapping[str, CodeSetModel]) -> Iterator[ChangeRow]:
    """What each release held changed, one row per code and kind (new, revised, deleted, status).

    Deleted codes carry what to look at instead: the codes the release added in their place (by the
    structure of the codes, as on the deleted code's page) and the nearest code of today."""
    for codeset, model in models.items():
        history = history_of(cfg, codeset, model.records)
        if history is None:
            continue
        for pair in history.pairs:
            head = (pair.new.name, pair.old.name)
            old_codes = history.codes[history.releases.index(pair.old)]
            new_codes = history.codes[history.releases.index(pair.new)]
            for key in pair.added:
                held = new_codes[key]
                dated = held.added or held.ended
                dates = json.dumps({"added": held.added, "ended": held.ended}) if dated else ""
                yield (codeset, key, _bare(key), *head, "new", "", held.title, dates)
            for rev in pair.revised:
                yield (codeset, rev.key, _bare(rev.key), *head, "revised", rev.old, rev.new, "")
            for st in pair.status:
                was, now = ("billable" if b else "header" for b in (st.was_billable, st.billable))
                yield (codeset, st.key, _bare(st.key), *head, "status", was, now, "")
            for t in pair.terminated:
                yield (codeset, t.key, _bare(t.key), *head, "terminated", t.ended, new_codes[t.key].title, "")
            for key in pair.deleted:
                took = [[k, new_codes[k].title] for k in successors(key, pair.added) if k in new_codes]
                near = nearest_current(model, key)
                near_ref = None if near is None else [model.records[near].key, model.records[near].title]
                instead = json.dumps({"successors": took, "near": near_ref})
                yield (codeset, key, _bare(key), *head, "deleted", old_codes[key].title, "", instead)


def _bare(key: str) -> str:
    return key.replace(".", "").upper()
