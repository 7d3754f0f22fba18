"""The theme of one build: its Jinja2 environment, fingerprinted assets and the context all pages share."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from . import urls
from .config import SiteConfig
from .link import CodeSetModel
from .render import Assets, Ctx, build_assets, make_env, render_page, to_ctx

SiteFile = tuple[str, bytes]  # (file path in the site, bytes): what a site stage yields


def chrome(site: dict[str, Any], env: jinja2.Environment) -> tuple[Ctx, Ctx]:
    """The site as a template value, and the site-wide parts of every page (header brand, account
    menu and meter, footer), rendered once from the macros of `_macros.html`."""
    site_ctx = to_ctx(site)
    once: Callable[..., Markup] = env.globals["once"]  # type: ignore[assignment]
    return site_ctx, Ctx({
        "brand": once("site_brand", site_ctx),
        "search": once("search_form", "site-search-header"),
        "nav": once("site_nav", site_ctx),
        "account": once("site_account_and_meter", site_ctx),
        "footer": once("site_footer", site_ctx),
    })


def common(
    cfg: SiteConfig, site: dict[str, Any], assets: Assets, path: str, title: str, env: jinja2.Environment,
    parts: tuple[Ctx, Ctx] | None = None,
) -> dict[str, Any]:
    """The variables every page gets, with the environment's globals (for `render_page`).

    `parts` is `chrome(site, env)`, if the caller keeps it (a theme renders thousands of pages).
    """
    site_ctx, chrome_ctx = parts if parts is not None else chrome(site, env)
    return {
        **env.globals,
        "chrome": chrome_ctx,
        "site": site_ctx,
        "assets": Ctx({"css": assets.css, "js": assets.js, "search": assets.search, "jobs": assets.jobs}),
        "canonical": urls.absolute(cfg.base_url, path),
        "title": title,
    }


@dataclass(frozen=True)
class Theme:
    """What every stage that renders pages needs: config, templates, assets, the site context."""

    cfg: SiteConfig
    env: jinja2.Environment
    assets: Assets
    site: dict[str, Any]  # render.site_context(): JSON-able (the fast path reads it back from the state)

    @classmethod
    def load(cls, cfg: SiteConfig, site: dict[str, Any]) -> Theme:
        # Compiled templates are kept between builds: compiling is most of a jobs-only publish.
        env = make_env(cfg.theme_dir, cfg.state_dir / "cache" / "jinja")
        return cls(cfg, env, build_assets(cfg.theme_dir), site)

    def context(self, path: str, title: str) -> dict[str, Any]:
        """The variables of the page at URL `path` titled `title` (see `common`)."""
        return common(self.cfg, self.site, self.assets, path, title, self.env, self._chrome)

    @functools.cached_property
    def _chrome(self) -> tuple[Ctx, Ctx]:
        # Each page gets the same objects: templates only read them (`site` never changes in a build).
        return chrome(self.site, self.env)

    def page(self, template: str, path: str, title: str, **extra: Any) -> SiteFile:
        """Renders `template` as the page at URL `path`, with `extra` variables beside the common ones."""
        ctx = self.context(path, title)
        ctx.update(extra)
        # `ctx` holds the environment's globals (see `common`): render_page skips merging them again.
        return urls.file_for(path), render_page(self.env.get_template(template), ctx).encode()

    def record_template(self) -> jinja2.Template:
        """`page.html`, the template of every code and browse page (rendered through frames)."""
        return self.env.get_template("page.html")


def asset_files(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage of the theme's fingerprinted assets."""
    yield from sorted(theme.assets.files.items())
