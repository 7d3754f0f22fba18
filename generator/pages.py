"""The site's pages other than record pages: home, search, account pages, 404, one index per code set."""
from __future__ import annotations

from collections.abc import Iterator

from . import urls
from .link import CodeSetModel
from .render import codeset_context
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
        yield theme.page("codeset.html", cs["url"], f"{cs['codeset_name']} codes", cs=cs)
