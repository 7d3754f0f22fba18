"""Gate-rendered HTML pages from the theme's templates, with the same chrome as the built site."""
from __future__ import annotations

from typing import Any

import jinja2
from starlette.responses import HTMLResponse

from generator.config import SiteConfig
from generator.pages import common
from generator.render import Assets, build_assets, make_env, site_context


class Views:
    """Renders `themes/<theme>/templates/<name>` for the gate; the environment is made on first use
    (a gate that only answers JSON never reads the theme)."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self._ready: tuple[jinja2.Environment, Assets, dict[str, Any]] | None = None

    def _load(self) -> tuple[jinja2.Environment, Assets, dict[str, Any]]:
        if self._ready is None:
            # The same fingerprinted names the build wrote: the theme's files are the same bytes.
            theme = self.site.theme_dir
            self._ready = (make_env(theme), build_assets(theme), site_context(self.site, {}))
        return self._ready

    def render(self, template: str, path: str, title: str, **ctx: Any) -> str:
        env, assets, site_ctx = self._load()
        variables = common(self.site, site_ctx, assets, path, title, env)
        variables.update(ctx)
        return env.get_template(template).render(variables)

    def page(self, template: str, path: str, title: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(self.render(template, path, title, **ctx), status_code=status)
