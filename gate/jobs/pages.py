"""The gate's job board pages, in the site's own frame: the built `/jobs/post/` page with its main
part replaced (between `<!--jobs:main-->` markers) by a macro of the theme's `_jobs_gate.html`."""

from __future__ import annotations

import datetime as dt
import re
import time
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from generator.jobs import files, views
from generator.render import Ctx, make_env

from . import form, posts

SHELL = "jobs/post/index.html"
_MAIN = re.compile(r"<!--jobs:main-->.*<!--/jobs:main-->", re.DOTALL)
_TITLE = re.compile(r"<title>.*?</title>", re.DOTALL)
STATUS_LABELS = {
    posts.PENDING: "Waiting for review",
    posts.APPROVED: "Published",
    posts.REJECTED: "Rejected",
    posts.EXPIRED: "Closed",
}


class NotBuilt(Exception):
    """The site has no /jobs/post/ page to frame the gate's pages (not built, or the board is off)."""


@lru_cache(maxsize=4)
def _env(theme_dir: Path) -> jinja2.Environment:
    return make_env(theme_dir)


def _macro(theme_dir: Path, name: str, *args: Any) -> Markup:
    module = _env(theme_dir).get_template("_jobs_gate.html").module
    return Markup(getattr(module, name)(*args))


def page(site_dir: Path, theme_dir: Path, title: str, macro: str, *args: Any) -> str:
    """A whole HTML page: the site's frame around the theme macro `macro(*args)`."""
    try:
        shell = (site_dir / SHELL).read_text(encoding="utf-8")
    except OSError:
        raise NotBuilt(f"{site_dir / SHELL} is missing: build the site with the job board on") from None
    if not _MAIN.search(shell):
        raise NotBuilt(f"{site_dir / SHELL} has no <!--jobs:main--> markers: rebuild the site")
    body = str(_macro(theme_dir, macro, *args))
    shell = _TITLE.sub(lambda _: f"<title>{escape(title)}</title>", shell, count=1)
    return _MAIN.sub(lambda _: f"<!--jobs:main-->\n{body}\n<!--/jobs:main-->", shell, count=1)


def form_ctx(values: dict[str, str], errors: dict[str, str]) -> Ctx:
    data = {**views.EMPTY_FORM, **values}
    return Ctx({"data": Ctx(data), "errors": Ctx(errors), "options": views.form_options()})


def _when(ts: int | None) -> str:
    return "" if ts is None else time.strftime("%d %b %Y %H:%M UTC", time.gmtime(ts))


def post_ctx(p: posts.Post, day: dt.date, *, preview: bool = False) -> Ctx:
    """A post as the pages show it; with `preview`, the listing it would become (or its problems)."""
    out = Ctx(
        {
            "id": p.id,
            "status": p.status,
            "status_label": STATUS_LABELS.get(p.status, p.status),
            "title": p.title,
            "employer": p.employer,
            "email": p.email or "",
            "ip": p.ip,
            "created": _when(p.created_at),
            "decided": _when(p.decided_at),
            "reason": p.reason or "",
            "url": f"/jobs/{p.slug}/" if p.slug and p.status in (posts.APPROVED, posts.EXPIRED) else "",
            "job": None,
            "problems": "",
        }
    )
    if preview:
        parsed = form.parse(p.fields, day)
        slug = files.slug_for(parsed.front["title"] or "job", parsed.front["employer"]["name"] or "x", p.id)
        job = form.check(parsed, slug)
        if job is None:
            out["problems"] = "; ".join(f"{k}: {v}" for k, v in parsed.errors.items())
        else:
            out["job"] = views.card(job, day)
    return out
