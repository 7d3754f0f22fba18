"""Listing files written for the job board's moderation: an approved post becomes
`content/jobs/<slug>.md`, an expired listing gets a `closed:` date. Files are replaced whole
(written beside, then renamed), so a build never reads half a listing."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .. import frontmatter
from ..errors import BuildError, Problems
from .reader import RESERVED, SLUG

_SLUG_PART = re.compile(r"[^a-z0-9]+")


def slug_for(title: str, employer: str, number: int) -> str:
    """A listing's file name and URL segment: words of the title and employer, then the post number."""
    words = _SLUG_PART.sub("-", f"{title} {employer}".lower()).strip("-")[:70].rstrip("-") or "job"
    slug = f"{words}-{number}"
    assert SLUG.match(slug) and slug not in RESERVED, slug
    return slug


def listing_text(front: dict[str, Any], description: str, note: str) -> str:
    """The file text: `# note`, the front matter as YAML (every value quoted as YAML needs), the body."""
    yaml_text = yaml.safe_dump(
        front, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
    )
    comment = "".join(f"# {line}\n" for line in note.splitlines())
    return f"---\n{comment}{yaml_text}---\n{description.strip()}\n"


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_listing(content_dir: Path, slug: str, text: str) -> Path:
    """Creates `content/jobs/<slug>.md`; refuses to overwrite an existing listing."""
    folder = content_dir / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    if path.exists():
        raise BuildError(f"{path} already exists; a listing is never overwritten by a new post")
    _replace(path, text)
    return path


def listing_path(content_dir: Path, slug: str) -> Path | None:
    path = content_dir / "jobs" / f"{slug}.md"
    return path if SLUG.match(slug) and path.is_file() else None


def close_listing(path: Path, day: dt.date) -> bool:
    """Sets `closed: <day>` in the listing's front matter (replacing an earlier `closed:` line);
    False when it was already closed on or before `day`."""
    text = path.read_text(encoding="utf-8")
    problems = Problems()
    doc = frontmatter.split(text, str(path), problems)
    if doc is None or not isinstance(doc.front, yaml.MappingNode):
        raise BuildError(
            f"{path}: the front matter cannot be read; fix the file first ({problems.summary()})"
        )
    lines = text.splitlines(keepends=True)
    for knode, vnode in doc.front.value:
        if knode.value == "closed":
            current = frontmatter.value(vnode)
            if isinstance(current, dt.date) and current <= day:
                return False
            if doc.line(knode) != doc.line(vnode) or vnode.end_mark.line != vnode.start_mark.line:
                raise BuildError(
                    f"{path}:{doc.line(knode)}: write 'closed:' on one line to let coderef change it"
                )
            lines[doc.line(knode) - 1] = f"closed: {day.isoformat()}\n"
            break
    else:
        closing = doc.body_line - 2  # the index of the front matter's closing '---' line
        lines.insert(closing, f"closed: {day.isoformat()}\n")
    _replace(path, "".join(lines))
    return True
