"""The site's pages other than code pages: home, code-set indexes, account pages, sitemaps, robots,
headers."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import jinja2
from markupsafe import Markup

from . import urls
from .config import SiteConfig
from .link import CodeSetModel
from .render import Assets, Ctx, codeset_context, to_ctx

SITEMAP_CHUNK = 50_000

STATIC_PAGES = {
    "home.html": ("/", "Medical code lookup"),
    "search.html": ("/search/", "Search"),
    "register.html": ("/register/", "Create a free account"),
    "login.html": ("/login/", "Log in"),
    "account.html": ("/account/", "Your account"),
}

HEADERS = """\
# Caching and security headers for hosts that read a _headers file (Netlify, Cloudflare Pages).
# Fingerprinted assets never change: cache them for a year. HTML changes with every build.
# Hosts apply every matching rule, so each path gets exactly one Cache-Control: HTML pages are
# matched by the directory rules below, and the root-level files by name.
/*
  X-Content-Type-Options: nosniff
  Referrer-Policy: strict-origin-when-cross-origin
  Content-Security-Policy: {csp}
/assets/*
  Cache-Control: public, max-age=31536000, immutable
/pagefind/*
  Cache-Control: public, max-age=3600
/lookup/*
  Cache-Control: public, max-age=3600
{html_rules}"""

# Pagefind compiles WebAssembly, which needs 'wasm-unsafe-eval'; nothing needs 'unsafe-inline'.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def common(
    cfg: SiteConfig, site: dict[str, Any], assets: Assets, path: str, title: str, env: jinja2.Environment
) -> dict[str, Any]:
    """The variables every page gets, with the environment's globals (for `render_page`).

    `chrome` holds the site-wide parts of every page (header brand, account menu and meter,
    footer), rendered once from the macros of `_macros.html`.
    """
    site_ctx = to_ctx(site)
    once: Callable[..., Markup] = env.globals["once"]  # type: ignore[assignment]
    return {
        **env.globals,
        "chrome": Ctx({
            "brand": once("site_brand", site_ctx),
            "search": once("search_form", "site-search-header"),
            "account": once("site_account_and_meter", site_ctx),
            "footer": once("site_footer", site_ctx),
        }),
        "site": site_ctx,
        "assets": Ctx({"css": assets.css, "js": assets.js, "search": assets.search}),
        "canonical": urls.absolute(cfg.base_url, path),
        "title": title,
    }


def special_pages(
    cfg: SiteConfig, env: jinja2.Environment, site: dict[str, Any], assets: Assets,
    models: dict[str, CodeSetModel],
) -> list[tuple[str, bytes]]:
    """Pages that exist once per site, plus one index page per code set."""
    out: list[tuple[str, bytes]] = []
    for template, (path, title) in STATIC_PAGES.items():
        html = env.get_template(template).render(common(cfg, site, assets, path, title, env))
        out.append((urls.file_for(path), html.encode()))
    html = env.get_template("404.html").render(common(cfg, site, assets, "/404.html", "Page not found", env))
    out.append(("404.html", html.encode()))
    for slug in cfg.codesets:
        m = models.get(slug)
        if m is None:
            continue
        cs = codeset_context(cfg, m)
        ctx = common(cfg, site, assets, cs["url"], f"{cs['codeset_name']} codes", env)
        ctx["cs"] = cs
        out.append((urls.file_for(cs["url"]), env.get_template("codeset.html").render(ctx).encode()))
    out.append(("robots.txt", robots(cfg).encode()))
    html_dirs = ["/", "/index.html", "/404.html", "/robots.txt", "/sitemap.xml", "/sitemaps/*"]
    html_dirs += [
        f"/{d}/*" for d in [*cfg.codesets, "search", "register", "login", "account", "casepilot", "guides"]
    ]
    html_rules = "".join(f"{d}\n  Cache-Control: public, max-age=300, must-revalidate\n" for d in html_dirs)
    out.append(("_headers", HEADERS.format(csp=CSP, html_rules=html_rules).encode()))
    out.extend(sitemaps(cfg, models))
    out.extend((rel, data) for rel, data in sorted(assets.files.items()))
    return out


def robots(cfg: SiteConfig) -> str:
    return (
        "User-agent: *\nAllow: /\nDisallow: /gate/\nDisallow: /account/\n"
        f"Sitemap: {urls.absolute(cfg.base_url, '/sitemap.xml')}\n"
    )


def sitemaps(cfg: SiteConfig, models: dict[str, CodeSetModel]) -> list[tuple[str, bytes]]:
    """A sitemap index with at most 50,000 URLs per child file, one series per code set."""
    base = cfg.base_url
    out: list[tuple[str, bytes]] = []
    children: list[str] = []
    pilot = ["/casepilot/", "/guides/"] if cfg.assistant.enabled else []
    general = ["/", "/search/", *pilot] + [urls.codeset_path(s) for s in cfg.codesets if s in models]
    files: list[tuple[str, list[str]]] = [("sitemaps/site.xml", general)]
    for slug in cfg.codesets:
        m = models.get(slug)
        if m is None:
            continue
        paths = [urls.page_path(slug, r.key) for r in m.records]
        for n, start in enumerate(range(0, len(paths), SITEMAP_CHUNK), 1):
            files.append((f"sitemaps/{slug}-{n}.xml", paths[start : start + SITEMAP_CHUNK]))
    for rel, paths in files:
        body = "".join(f"<url><loc>{escape(urls.absolute(base, p))}</loc></url>\n" for p in paths)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + body + "</urlset>\n"
        )
        out.append((rel, xml.encode()))
        children.append(urls.absolute(base, "/" + rel))
    index = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<sitemap><loc>{escape(c)}</loc></sitemap>\n" for c in children)
        + "</sitemapindex>\n"
    )
    out.append(("sitemap.xml", index.encode()))
    return out
