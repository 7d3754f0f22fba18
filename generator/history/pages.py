"""The write stage of history: change pages per release pair, and a page for each deleted code.

A deleted code keeps its URL: the page says when it was deleted and what to look at instead, and
is marked `noindex` (and left out of the sitemaps, which list only record pages).
"""
from __future__ import annotations

from collections.abc import Iterator

from .. import urls
from ..link import CodeSetModel
from ..model import CODESET_NAMES, HCPCS
from ..render import Ctx
from ..theme import SiteFile, Theme
from .attach import History, history_of
from .compare import Changes
from .ncci_mue import ncci_change_pages
from .pfs_changes import pfs_change_pages
from .releases import Release

KIND_TITLES = (("new", "New codes"), ("revised", "Revised titles"), ("terminated", "Terminated codes"),
               ("deleted", "Deleted codes"), ("status", "Billable status changed"))


def history_pages(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage: for each code set with earlier releases held, its change pages and the pages
    of its deleted codes; and the PFS change page when several fee schedule releases are held."""
    yield from pfs_change_pages(theme, models)
    yield from ncci_change_pages(theme, models)
    for codeset, model in models.items():
        history = history_of(theme.cfg, codeset, model.records)
        if history is None:
            continue
        name = CODESET_NAMES[codeset]
        pairs = [pair_summary(codeset, pair) for pair in reversed(history.pairs)]
        yield theme.page(
            "changes_index.html", urls.changes_path(codeset), f"{name} changes by release",
            hist=Ctx({"codeset": codeset, "codeset_name": name, "codeset_url": urls.codeset_path(codeset),
                      "pairs": pairs, "releases": [release_ctx(r) for r in reversed(history.releases)],
                      "kinds": [KIND_COLUMNS[k] for k in history.latest.kinds]}),
        )
        deleted_seen: set[str] = set()
        for pair in reversed(history.pairs):  # the newest deletion of a code wins its page
            chg = change_ctx(model, history, pair)
            yield theme.page("changes.html", chg["url"], f"{name} {pair.new.name}: what changed", chg=chg)
            for key in pair.deleted:
                if key in deleted_seen or key in model.index:
                    continue  # a code deleted, then added back, has its record page
                deleted_seen.add(key)
                page = deleted_ctx(model, history, pair, key, chg["url"])
                yield theme.page("deleted_code.html", page["url"], f"{name} {key} (deleted)", d=page)


def release_ctx(r: Release) -> Ctx:
    return Ctx({"name": r.name, "label": r.label, "dates": r.dates(),
                "held_from": r.held_from.isoformat() if r.held_from else ""})


def pair_summary(codeset: str, pair: Changes) -> Ctx:
    return Ctx({"old": pair.old.name, "new": pair.new.name, "url": urls.changes_path(codeset, pair.new.slug),
                "counts": pair.counts()})


def chapters_of(model: CodeSetModel) -> list[int | None]:
    """Per record, the index of its chapter (the root of its branch), or None for roots themselves."""
    out: list[int | None] = [None] * len(model.records)
    for i in range(len(model.records)):
        p = model.parent.get(i)
        if p is not None:
            out[i] = out[p] if out[p] is not None else p
    return out


def sections_of(model: CodeSetModel, chapter: list[int | None]) -> list[int | None]:
    """Per record, the index of its section (the child of its chapter it lies under), or None for
    chapters and sections themselves. Records come in official order: a parent before its children."""
    out: list[int | None] = [None] * len(model.records)
    for i in range(len(model.records)):
        p = model.parent.get(i)
        if p is not None and chapter[p] is not None:
            out[i] = out[p] if out[p] is not None else p
    return out


def nearest_current(model: CodeSetModel, key: str) -> int | None:
    """The record of the longest leading part of `key` that is a code today ("S30.1XXA" -> S30.1)."""
    k = key
    while k:
        i = model.index.get(k)
        if i is not None:
            return i
        k = k[:-1].rstrip(".")
    if model.codeset == HCPCS:  # HCPCS codes are not hierarchical: their letter's group
        return model.index.get(f"{key[:1]}-codes")
    return None


def successors(key: str, added: list[str]) -> list[str]:
    """Codes the release added beneath a deleted code's stem, keeping its 7th character.

    "S30.1XXA" (placeholders X, 7th character A) -> S30.11XA, S30.12XA, S30.13XA. CMS publishes no
    table of replacements with the code files, so this is the structure of the codes, not a mapping.
    """
    bare = key.replace(".", "")
    seventh = bare[6] if len(bare) == 7 else ""
    stem = (key[:-1].rstrip("X") if seventh else key).rstrip(".")
    out = []
    for k in added:
        if k == key or not k.startswith(stem):
            continue
        kb = k.replace(".", "")
        if seventh and not (len(kb) == 7 and kb[6] == seventh):
            continue
        if not seventh and len(kb) == 7 and kb[4:6] == "XX":
            continue
        out.append(k)
    return out


def _ref(model: CodeSetModel, i: int) -> Ctx:
    rec = model.records[i]
    return Ctx({"key": rec.key, "display": rec.display, "title": rec.title,
                "url": urls.page_path(model.codeset, rec.key)})


KIND_NAMES = dict(KIND_TITLES)
KIND_COLUMNS = {"new": "New", "revised": "Revised", "terminated": "Terminated", "deleted": "Deleted",
                "status": "Status changed"}
Group = dict[str, list[Ctx]]  # kind -> entries


def change_ctx(model: CodeSetModel, history: History, pair: Changes) -> Ctx:
    """The change page of one release pair: counts, then each chapter's sections with their lists."""
    codeset = model.codeset
    chapter = chapters_of(model)
    section = sections_of(model, chapter)
    groups: dict[int | None, dict[int | None, Group]] = {}

    def group(i: int | None) -> Group:
        """The lists of the chapter and section of record `i` (None: "Other"; a chapter or section
        itself: its own group)."""
        if i is None:
            ch, sec = None, None
        elif chapter[i] is None:
            ch, sec = i, None
        elif section[i] is None and model.records[i].is_code:
            ch, sec = chapter[i], None  # a code right under its chapter (HCPCS: under its letter)
        else:
            ch, sec = chapter[i], section[i] if section[i] is not None else i
        return groups.setdefault(ch, {}).setdefault(sec, {kind: [] for kind, _ in KIND_TITLES})

    old_codes = history.codes[history.releases.index(pair.old)]
    new_codes = history.codes[history.releases.index(pair.new)]
    for key in pair.added:
        i = model.index.get(key)
        if i is not None:
            group(i)["new"].append(Ctx({**_ref(model, i), "added": new_codes[key].added,
                                        "ended": new_codes[key].ended}))
    for t in pair.terminated:
        i = model.index.get(t.key)
        if i is not None:
            group(i)["terminated"].append(Ctx({**_ref(model, i), "ended": t.ended}))
    for rev in pair.revised:
        i = model.index.get(rev.key)
        if i is not None:
            group(i)["revised"].append(Ctx({**_ref(model, i), "old": rev.old, "new": rev.new}))
    for st in pair.status:
        i = model.index.get(st.key)
        if i is not None:
            group(i)["status"].append(Ctx({
                **_ref(model, i), "was": "billable" if st.was_billable else "header",
                "now": "billable" if st.billable else "header",
            }))
    for key in pair.deleted:
        i = model.index.get(key)
        near = i if i is not None else nearest_current(model, key)
        group(near)["deleted"].append(Ctx({
            "key": key, "display": key, "title": old_codes[key].title, "url": urls.page_path(codeset, key),
        }))
    chapters = []
    for ch in sorted(groups, key=lambda c: -1 if c is None else c):
        head = _ref(model, ch) if ch is not None else Ctx({"display": "Other", "title": "", "url": ""})
        anchor = "ch-" + (model.records[ch].key if ch is not None else "other")
        sections = []
        for sec in sorted(groups[ch], key=lambda c: -1 if c is None else c):
            sec_anchor = anchor if sec is None else "sec-" + model.records[sec].key
            lists = groups[ch][sec]
            sections.append(Ctx({
                "head": _ref(model, sec) if sec is not None else None, "anchor": sec_anchor,
                "count": sum(len(v) for v in lists.values()),
                "lists": [
                    Ctx({"kind": kind, "title": title, "entries": lists[kind],
                         "anchor": f"{sec_anchor}-{kind}"})
                    for kind, title in KIND_TITLES if lists[kind]
                ],
            }))
        chapters.append(Ctx({"head": head, "anchor": anchor, "sections": sections,
                             "count": sum(s["count"] for s in sections)}))
    return Ctx({
        "codeset": codeset, "codeset_name": CODESET_NAMES[codeset], "codeset_url": urls.codeset_path(codeset),
        "index_url": urls.changes_path(codeset), "url": urls.changes_path(codeset, pair.new.slug),
        "old": release_ctx(pair.old), "new": release_ctx(pair.new), "counts": pair.counts(),
        "count_rows": [Ctx({"kind": k, "title": KIND_NAMES[k], "count": n})
                       for k, n in pair.counts().items()],
        "spans": pair.spans, "when": pair.when, "chapters": chapters,
    })


def deleted_ctx(model: CodeSetModel, history: History, pair: Changes, key: str, changes_url: str) -> Ctx:
    """A deleted code's page: when, its last title, and what to look at instead."""
    old_codes = history.codes[history.releases.index(pair.old)]
    near = nearest_current(model, key)
    return Ctx({
        "codeset": model.codeset, "codeset_name": CODESET_NAMES[model.codeset],
        "codeset_url": urls.codeset_path(model.codeset), "key": key,
        "url": urls.page_path(model.codeset, key),
        "title": old_codes[key].title,
        "was": "a code" if model.codeset == HCPCS else
        "a billable code" if old_codes[key].billable else "a header code",
        "old": release_ctx(pair.old), "new": release_ctx(pair.new), "changes_url": changes_url,
        "successors": [_ref(model, model.index[k]) for k in successors(key, pair.added) if k in model.index],
        "parent": _ref(model, near) if near is not None else None,
    })
