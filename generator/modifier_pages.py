"""The write stage of HCPCS Level II modifier pages: `/hcpcs/modifiers/` and one page per modifier.

Read from the `hcpcs-modifiers` file (CMS's alpha-numeric HCPCS file; the shipped one is January
2020, with 369 modifiers) by the HCPCS importer's own parser. CPT modifiers (25, 59…) are AMA's and
have no page.
"""
from __future__ import annotations

from collections.abc import Iterator

from . import urls
from .importers.hcpcs import HcpcsImporter
from .link import CodeSetModel
from .model import HCPCS
from .official import source
from .premium.ncci import NCCI_ASSOCIATED, NCCI_ASSOCIATED_CPT
from .render import Ctx
from .theme import SiteFile, Theme

KIND = "hcpcs-modifiers"


def modifier_pages(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage: the modifier list and pages, when HCPCS is built and a modifier file is held."""
    hcpcs = models.get(HCPCS)
    src = source(theme.cfg, KIND)
    if hcpcs is None or src is None:
        return
    records = [r for r in HcpcsImporter().read(src.path) if r.is_code and r.parent == "modifiers"]
    release = src.release or next((r.source for r in records if r.source), "")
    items = []
    for rec in records:
        page = Ctx({
            "key": rec.key, "title": rec.title, "short_title": rec.short_title,
            "url": urls.modifier_path(rec.key),
            "facts": [Ctx({"label": k, "value": v}) for k, v in rec.facts],
            "source": release, "terminated": rec.change_label, "ncci": rec.key in NCCI_ASSOCIATED,
            "list_url": urls.modifiers_path(),
        })
        items.append(page)
        title = f"HCPCS modifier {rec.key}: {rec.short_title or rec.title}"
        yield theme.page("modifier.html", page["url"], title, mod=page)
    if "modifiers" not in hcpcs.index:  # a HCPCS file with modifiers has its own list page there
        yield theme.page("modifiers.html", urls.modifiers_path(), "HCPCS Level II modifiers",
                         mods=Ctx({"items": items, "source": release, "cpt": NCCI_ASSOCIATED_CPT}))
