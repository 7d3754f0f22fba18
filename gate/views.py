"""Gate-rendered HTML pages from the theme's templates, with the same chrome as the built site."""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse

from generator.config import SiteConfig
from generator.render import site_context
from generator.theme import Theme


class Views:
    """Renders `themes/<theme>/templates/<name>` for the gate; the theme is loaded on first use
    (a gate that only answers JSON never reads it)."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self._theme: Theme | None = None

    @property
    def theme(self) -> Theme:
        if self._theme is None:
            # The same fingerprinted asset names the build wrote: the theme's files are the same bytes.
            self._theme = Theme.load(self.site, site_context(self.site, {}))
        return self._theme

    def render(self, template: str, path: str, title: str, **ctx: Any) -> str:
        theme = self.theme
        variables = theme.context(path, title)
        variables.update(ctx)
        return theme.env.get_template(template).render(variables)

    def page(self, template: str, path: str, title: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(self.render(template, path, title, **ctx), status_code=status)
