"""The Atom feed of new jobs (`/jobs/feed.xml`, RFC 4287): the newest open listings first."""

from __future__ import annotations

import datetime as dt

from .. import urls
from ..config import SiteConfig
from ..xml_text import escape, quoteattr
from .model import Job
from .views import pay, where

FEED_SIZE = 50


def _stamp(d: dt.date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def atom(cfg: SiteConfig, jobs: list[Job]) -> bytes:
    """`jobs` are the open ones, newest first. The feed changes only when they do (no build time in it)."""
    base = cfg.base_url
    board = urls.absolute(base, urls.JOBS)
    feed = urls.absolute(base, urls.JOBS_FEED)
    shown = jobs[:FEED_SIZE]
    updated = max((j.posted for j in shown), default=dt.date(2000, 1, 1))
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n',
        f"  <title>{escape(cfg.site_name)} — medical coding jobs</title>\n",
        "  <subtitle>New coding, auditing and clinical documentation jobs</subtitle>\n",
        f"  <id>{escape(board)}</id>\n",
        f'  <link rel="alternate" type="text/html" href={quoteattr(board)}/>\n',
        f"  <link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(feed)}/>\n",
        f"  <updated>{_stamp(updated)}</updated>\n",
        f"  <author><name>{escape(cfg.site_name)}</name></author>\n",
    ]
    for job in shown:
        link = urls.absolute(base, job.url)
        title = f"{'[Sample] ' if job.sample else ''}{job.title} — {job.employer.name}"
        summary = f"{where(job)}. {pay(job.salary)}."
        out += [
            "  <entry>\n",
            f"    <title>{escape(title)}</title>\n",
            f"    <id>{escape(link)}</id>\n",
            f'    <link rel="alternate" type="text/html" href={quoteattr(link)}/>\n',
            f"    <published>{_stamp(job.posted)}</published>\n",
            f"    <updated>{_stamp(job.posted)}</updated>\n",
            f"    <author><name>{escape(job.employer.name)}</name></author>\n",
            f"    <summary>{escape(summary)}</summary>\n",
            f'    <content type="html">{escape(job.description_html)}</content>\n',
            "  </entry>\n",
        ]
    out.append("</feed>\n")
    return "".join(out).encode()
