"""The site's pages other than record pages: home, search, account pages, 404, one index per code set."""
from __future__ import annotations

from collections.abc import Iterator

from . import urls
from .history.attach import compared
from .index_layout import BASES
from .link import CodeSetModel
from .reference import References, references
from .render import Ctx, codeset_context
from .theme import SiteFile, Theme

# Template -> (URL path, title) of the pages that exist once per site.
STATIC_PAGES = {
    "home.html": (urls.HOME, "Medical code lookup"),
    "search.html": (urls.SEARCH, "Search"),
    "register.html": (urls.REGISTER, "Create a free account"),
    "login.html": (urls.LOGIN, "Log in"),
    "account.html": (urls.ACCOUNT, "Your account"),
}


def special_pages(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage of the pages that exist once per site, plus one index page per code set."""
    for template, (path, title) in STATIC_PAGES.items():
        yield theme.page(template, path, title)
    yield theme.page("404.html", urls.NOT_FOUND, "Page not found")
    for slug in theme.cfg.codesets:
        m = models.get(slug)
        if m is None:
            continue
        cs = codeset_context(theme.cfg, m)
        cs["books"] = book_links(references(theme.cfg), slug)
        cs["changes_url"] = urls.changes_path(slug) if compared(theme.cfg, slug) else ""
        yield theme.page("codeset.html", cs["url"], f"{cs['codeset_name']} codes", cs=cs)


def book_links(refs: References, codeset: str) -> list[Ctx]:
    """The reference books a code set's page links to ({url, name}), in the order of the printed books."""
    from .books import BOOK_NAMES, CM_DRUG, CM_EINDEX, CM_INDEX, CM_NEOPLASM, PCS_INDEX
    from .model import ICD10CM, ICD10PCS

    kinds: list[str] = []
    if codeset == ICD10CM:
        kinds = [k for k in (CM_INDEX, CM_NEOPLASM, CM_DRUG, CM_EINDEX) if k in refs.books.cm]
    elif codeset == ICD10PCS and refs.books.pcs_index is not None:
        kinds = [PCS_INDEX]
    return [Ctx({"url": BASES[k], "name": BOOK_NAMES[k]}) for k in kinds]
