"""Files for crawlers: robots.txt and the sitemaps (an index with at most 50,000 URLs per child file)."""
from __future__ import annotations

from collections.abc import Iterator

from . import urls
from .link import CodeSetModel
from .theme import SiteFile, Theme
from .xml_text import escape

SITEMAP_CHUNK = 50_000


def robots_txt(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage of robots.txt: everything but the gate and the account page, and the sitemap."""
    text = (
        f"User-agent: *\nAllow: /\nDisallow: {urls.GATE}\nDisallow: {urls.ACCOUNT}\n"
        f"Sitemap: {urls.absolute(theme.cfg.base_url, urls.SITEMAP)}\n"
    )
    yield urls.relative(urls.ROBOTS), text.encode()


def sitemaps(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage of the sitemaps: one series per code set, and the index listing them all."""
    cfg = theme.cfg
    base = cfg.base_url
    children: list[str] = []
    pilot = [urls.CASEPILOT, urls.GUIDES] if cfg.assistant.enabled else []
    general = [urls.HOME, urls.SEARCH, *pilot] + [urls.codeset_path(s) for s in cfg.codesets if s in models]
    files: list[tuple[str, list[str]]] = [(urls.sitemap_path("site.xml"), general)]
    for slug in cfg.codesets:
        m = models.get(slug)
        if m is None:
            continue
        paths = [urls.page_path(slug, r.key) for r in m.records]
        for n, start in enumerate(range(0, len(paths), SITEMAP_CHUNK), 1):
            files.append((urls.sitemap_path(f"{slug}-{n}.xml"), paths[start : start + SITEMAP_CHUNK]))
    for path, paths in files:
        body = "".join(f"<url><loc>{escape(urls.absolute(base, p))}</loc></url>\n" for p in paths)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + body + "</urlset>\n"
        )
        yield urls.relative(path), xml.encode()
        children.append(urls.absolute(base, path))
    if cfg.jobs.enabled:  # the job board's own series (generator/jobs/pages.py), rewritten by its fast path
        children.append(urls.absolute(base, urls.jobs_sitemap_path()))
    index = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<sitemap><loc>{escape(c)}</loc></sitemap>\n" for c in children)
        + "</sitemapindex>\n"
    )
    yield urls.relative(urls.SITEMAP), index.encode()
