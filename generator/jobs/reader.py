"""Job listings: `content/jobs/<slug>.md`, YAML front matter + a Markdown description.

Every problem is collected with its file and line (the line of the offending key or list item) and
says how to fix it. A listing with errors is left out of the result; the build then stops.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from .. import frontmatter
from ..errors import Problems
from . import describe
from .fields import FIELDS, FieldReader
from .model import Job

KEYS = (
    "title",
    "employer",
    "sample",
    "work",
    "locations",
    "remote_in",
    "employment",
    "credentials",
    "specialty",
    "setting",
    "experience",
    "salary",
    "posted",
    "valid_through",
    "closed",
    "apply",
    "post",
)
REQUIRED = (
    "title",
    "employer",
    "work",
    "employment",
    "setting",
    "salary",
    "posted",
    "valid_through",
    "apply",
)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED = frozenset({"post", "feed", "index", "assets"})
DESCRIPTION_MIN = 100
DESCRIPTION_MAX = 20_000


def read_jobs(content_dir: Path, root: Path, problems: Problems) -> list[Job]:
    """Every `content/jobs/*.md` that reads without errors, in file-name order."""
    folder = content_dir / "jobs"
    jobs: list[Job] = []
    if not folder.is_dir():
        return jobs
    for path in sorted(folder.glob("*.md")):
        rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        text = frontmatter.read_text(path, rel, problems)
        job = None if text is None else read_job(text, path.stem, rel, problems)
        if job is not None:
            jobs.append(job)
    return jobs


def read_job(text: str, slug: str, rel: str, problems: Problems) -> Job | None:
    """One listing from its file text; None (with the problems recorded) when anything is wrong."""
    if not SLUG.match(slug) or len(slug) > 90 or slug in RESERVED:
        problems.error(
            rel,
            0,
            f"'{slug}' cannot be a job's address: name the file with lower-case letters, digits and "
            "hyphens (at most 90), e.g. remote-outpatient-coder-example-health.md"
            + (f"; '{slug}' is reserved" if slug in RESERVED else ""),
        )
        return None
    doc = frontmatter.split(text, rel, problems)
    if doc is None:
        return None
    r = FieldReader(doc, rel, problems)
    if doc.front is None:
        r.bad(1, "a job listing starts with front matter between '---' lines (title, employer, salary, …)")
        return None
    fields = r.mapping(doc.front, "front matter", "title: Remote outpatient coder")
    if fields is None:
        return None
    for key, (knode, _) in fields.items():
        if key not in KEYS:
            problems.warn(
                rel,
                doc.line(knode),
                f"unknown front matter key '{key}' is ignored (known: {', '.join(KEYS)})",
            )
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        r.bad(
            1,
            f"missing {', '.join(repr(k) for k in missing)} in the front matter; add "
            f"{'it' if len(missing) == 1 else 'them'} (see README, 'Job listings')",
        )
    values: dict[str, Any] = {}
    for key, (knode, vnode) in fields.items():
        reader = FIELDS.get(key)
        if reader is not None:
            values[key] = reader(r, vnode, knode)
    _check_together(r, fields, values)
    body = doc.body.strip()
    if len(body) < DESCRIPTION_MIN:
        r.bad(
            doc.body_line,
            f"the description below the front matter has {len(body)} characters; "
            f"describe the job in at least {DESCRIPTION_MIN}",
        )
    elif len(body) > DESCRIPTION_MAX:
        r.bad(
            doc.body_line,
            f"the description has {len(body)} characters; shorten it to at most {DESCRIPTION_MAX}",
        )
    if r.failed or missing:
        return None
    html = describe.render(body)
    apply = values["apply"]
    return Job(
        slug=slug,
        path=rel,
        title=values["title"],
        employer=values["employer"],
        work=values["work"],
        employment=values["employment"],
        settings=values["setting"],
        salary=values["salary"],
        posted=values["posted"],
        valid_through=values["valid_through"],
        description_html=html,
        description_text=describe.plain(html),
        locations=values.get("locations") or [],
        remote_in=values.get("remote_in") or [],
        required=values.get("credentials", ([], []))[0],
        preferred=values.get("credentials", ([], []))[1],
        specialty=values.get("specialty") or [],
        experience=values.get("experience"),
        apply_url=apply[0],
        apply_email=apply[1],
        direct_apply=apply[2],
        closed=values.get("closed"),
        sample=bool(values.get("sample")),
        post_id=values.get("post"),
    )


def _check_together(
    r: FieldReader, fields: dict[str, tuple[yaml.Node, yaml.Node]], values: dict[str, Any]
) -> None:
    """Rules that involve two fields: dates in order, locations or remote regions for the arrangement."""
    posted, through, closed = values.get("posted"), values.get("valid_through"), values.get("closed")
    if posted and through and through < posted:
        r.bad(
            fields["valid_through"][0],
            f"'valid_through' ({through}) is before 'posted' ({posted}); "
            "a job cannot close before it is posted",
        )
    if posted and through and through > posted + dt.timedelta(days=366):
        r.bad(
            fields["valid_through"][0],
            f"'valid_through' ({through}) is more than a year after 'posted'; "
            "post the job again when it is still open then",
        )
    if posted and closed and closed < posted:
        r.bad(fields["closed"][0], f"'closed' ({closed}) is before 'posted' ({posted})")
    work = values.get("work")
    if work in ("onsite", "hybrid") and not values.get("locations") and "locations" not in fields:
        r.bad(fields["work"][0], f"an {work} job needs 'locations' (a list of {{city, state}} entries)")
    if work == "remote" and "remote_in" not in fields:
        r.bad(
            fields["work"][0],
            "a remote job needs 'remote_in': the countries (US) or states (US-OH) it hires in",
        )
    if work in ("onsite", "hybrid") and "remote_in" in fields:
        r.bad(fields["remote_in"][0], f"'remote_in' is for remote jobs; this job is {work}")
