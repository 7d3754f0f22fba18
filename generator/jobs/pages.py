"""The job board's outputs: one page per listing, `/jobs/` with its filters, the posting form, the
Atom feed and the jobs sitemap. Every path is under `jobs/` except `sitemaps/jobs.xml`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

import jinja2

from .. import urls
from ..config import SiteConfig
from ..render import Ctx, render_page
from . import feed, views
from .model import Job

JOBS_DIR = "jobs"
SITEMAP = "sitemaps/jobs.xml"
BOARD = "/jobs/"
POST = "/jobs/post/"


def is_job_output(rel: str) -> bool:
    """Whether a site path belongs to the job board (what a jobs-only publish may rewrite), its
    search bundle included."""
    return rel.startswith((JOBS_DIR + "/", "pagefind/jobs/")) or rel == SITEMAP


def listed(cfg: SiteConfig, jobs: list[Job]) -> list[Job]:
    """The listings the build publishes: samples only when `jobs.samples` is on."""
    return [j for j in jobs if cfg.jobs.samples or not j.sample]


def outputs(
    cfg: SiteConfig,
    env: jinja2.Environment,
    base: dict[str, Any],
    jobs: list[Job],
    today: dt.date,
) -> list[tuple[str, bytes]]:
    """(site path, bytes) of every job board file (none when the board is off). `base` is
    `pages.common()` of any page."""
    if not cfg.jobs.enabled:
        return []
    jobs = sorted(listed(cfg, jobs), key=lambda j: (j.posted, j.slug), reverse=True)
    published = [j for j in jobs if j.is_published(today)]
    open_jobs = [j for j in published if j.is_open(today)]
    out: list[tuple[str, bytes]] = []
    tpl = env.get_template("job.html")
    for job in published:
        canonical = urls.absolute(cfg.base_url, job.url)
        ctx = {**base, "canonical": canonical, "title": f"{job.title} — {job.employer.name}"}
        ctx.update(views.context(job, today, canonical))
        out.append((urls.file_for(job.url), render_page(tpl, ctx).encode()))
    board = Ctx(
        {
            "total": len(open_jobs),
            "jobs": [views.card(j, today) for j in open_jobs],
            "facets": views.facets(open_jobs),
        }
    )
    ctx = {
        **base,
        "canonical": urls.absolute(cfg.base_url, BOARD),
        "title": "Medical coding jobs",
        "board": board,
    }
    out.append((urls.file_for(BOARD), render_page(env.get_template("jobs.html"), ctx).encode()))
    form = Ctx({"data": Ctx(views.EMPTY_FORM), "errors": Ctx(), "options": views.form_options()})
    ctx = {
        **base,
        "canonical": urls.absolute(cfg.base_url, POST),
        "title": "Post a medical coding job",
        "form": form,
    }
    out.append((urls.file_for(POST), render_page(env.get_template("jobs_post.html"), ctx).encode()))
    out.append((f"{JOBS_DIR}/feed.xml", feed.atom(cfg, open_jobs)))
    out.append((SITEMAP, sitemap(cfg, [j for j in open_jobs if not j.sample])))
    return out


def sitemap(cfg: SiteConfig, jobs: list[Job]) -> bytes:
    """The board and its open, real (not sample) jobs: closed ones leave at the next build."""
    rows = [f"<url><loc>{escape(urls.absolute(cfg.base_url, BOARD))}</loc></url>\n"]
    rows += [
        f"<url><loc>{escape(urls.absolute(cfg.base_url, j.url))}</loc>"
        f"<lastmod>{j.posted.isoformat()}</lastmod></url>\n"
        for j in jobs
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "".join(rows) + "</urlset>\n"
    ).encode()
