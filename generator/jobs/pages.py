"""The job board's site files: one page per listing, `/jobs/` with its filters, the posting form,
the Atom feed and the jobs sitemap. Every path is below `urls.JOBS`, except the jobs sitemap."""

from __future__ import annotations

import datetime as dt

from .. import urls
from ..config import SiteConfig
from ..render import Ctx
from ..theme import SiteFile, Theme
from ..xml_text import escape
from . import feed, views
from .model import Job

SITEMAP = urls.relative(urls.jobs_sitemap_path())
# The board's folders in the site: its pages and its search bundle.
PREFIXES = (urls.relative(urls.JOBS), urls.relative(urls.pagefind_path(urls.JOBS_SEARCH)))


def is_job_output(rel: str) -> bool:
    """Whether a site file belongs to the job board (what a jobs-only publish may rewrite), its
    search bundle included."""
    return rel.startswith(PREFIXES) or rel == SITEMAP


def listed(cfg: SiteConfig, jobs: list[Job]) -> list[Job]:
    """The listings the build publishes: samples only when `jobs.samples` is on."""
    return [j for j in jobs if cfg.jobs.samples or not j.sample]


def board_files(theme: Theme, jobs: list[Job], today: dt.date) -> list[SiteFile]:
    """Every file of the board (none when it is off), rendered with the theme."""
    cfg = theme.cfg
    if not cfg.jobs.enabled:
        return []
    jobs = sorted(listed(cfg, jobs), key=lambda j: (j.posted, j.slug), reverse=True)
    published = [j for j in jobs if j.is_published(today)]
    open_jobs = [j for j in published if j.is_open(today)]
    out: list[SiteFile] = []
    for job in published:
        canonical = urls.absolute(cfg.base_url, job.url)
        extra = views.context(job, today, canonical)
        out.append(theme.page("job.html", job.url, f"{job.title} — {job.employer.name}", **extra))
    board = Ctx({
        "total": len(open_jobs),
        "jobs": [views.card(j, today) for j in open_jobs],
        "facets": views.facets(open_jobs),
    })
    out.append(theme.page("jobs.html", urls.JOBS, "Medical coding jobs", board=board))
    form = Ctx({"data": Ctx(views.EMPTY_FORM), "errors": Ctx(), "options": views.form_options()})
    out.append(theme.page("jobs_post.html", urls.JOBS_POST, "Post a medical coding job", form=form))
    out.append((urls.relative(urls.JOBS_FEED), feed.atom(cfg, open_jobs)))
    out.append((SITEMAP, sitemap(cfg, [j for j in open_jobs if not j.sample])))
    return out


def sitemap(cfg: SiteConfig, jobs: list[Job]) -> bytes:
    """The board and its open, real (not sample) jobs: closed ones leave at the next build."""
    rows = [f"<url><loc>{escape(urls.absolute(cfg.base_url, urls.JOBS))}</loc></url>\n"]
    rows += [
        f"<url><loc>{escape(urls.absolute(cfg.base_url, j.url))}</loc>"
        f"<lastmod>{j.posted.isoformat()}</lastmod></url>\n"
        for j in jobs
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "".join(rows) + "</urlset>\n"
    ).encode()
