"""Editors' decisions on posts, the same for `coderef jobs …` and the web queue.

Approving writes the listing file in the transaction that moves the post out of `pending` (a failed
write leaves it pending); expiring sets the listing's `closed:` date. Either is then published by a
build, which takes the jobs-only path when nothing else changed (see generator/jobs/publish.py).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.errors import BuildError
from generator.jobs import files

from ..db import Conn, Database
from . import form, posts

PUBLISH_TIMEOUT = 3600  # seconds: a publish that turns into a full build of a large site


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str  # a sentence for the editor
    changed: bool = False  # a listing file was written: the site needs publishing


def _where(post: posts.Post) -> str:
    return f"post {post.id} ({post.title} — {post.employer})"


def approve(db: Database, root: Path, post_id: int, editor: str, day: dt.date, now: int) -> Outcome:
    post = db.call(posts.get, post_id)
    if post is None:
        return Outcome(False, f"There is no post {post_id}.")
    if post.status != posts.PENDING:
        return Outcome(False, f"Post {post_id} is {post.status} already.")
    parsed = form.parse(post.fields, day)
    slug = files.slug_for(
        parsed.front["title"] or "job", parsed.front["employer"]["name"] or "employer", post_id
    )
    parsed.front["post"] = post_id
    if form.check(parsed, slug) is None:
        problems = "; ".join(f"{k}: {v}" for k, v in parsed.errors.items())
        return Outcome(
            False, f"{_where(post)} cannot be published as it is: {problems} Reject it with a reason."
        )
    text = files.listing_text(
        parsed.front,
        parsed.description,
        f"Posted on the job board as post {post_id}; approved on {day.isoformat()}.",
    )

    def decide(conn: Conn) -> bool:
        with conn.transaction():
            if not posts.move(conn, post_id, posts.PENDING, posts.APPROVED, editor, now, slug=slug):
                return False
            files.write_listing(root / "content", slug, text)  # raises: the move is rolled back
        return True

    try:
        moved = db.call(decide)
    except (BuildError, OSError) as exc:
        return Outcome(False, f"{_where(post)} was not approved: {exc}")
    if not moved:
        return Outcome(False, f"Post {post_id} was decided by someone else a moment ago.")
    return Outcome(True, f"Approved {_where(post)}: content/jobs/{slug}.md, at /jobs/{slug}/.", changed=True)


def reject(db: Database, post_id: int, editor: str, reason: str, now: int) -> Outcome:
    reason = " ".join(reason.split())
    if not reason:
        return Outcome(False, "Say why the post is rejected: the poster reads the reason.")
    if len(reason) > 500:
        return Outcome(False, "Keep the reason under 500 characters.")
    post = db.call(posts.get, post_id)
    if post is None:
        return Outcome(False, f"There is no post {post_id}.")
    if not db.call(posts.move, post_id, posts.PENDING, posts.REJECTED, editor, now, reason=reason):
        return Outcome(False, f"Post {post_id} is not waiting for review (it is {post.status}).")
    return Outcome(True, f"Rejected {_where(post)}.")


def expire(db: Database, root: Path, target: str, editor: str, day: dt.date, now: int) -> Outcome:
    """Closes a listing now: `target` is a post number or a listing's slug (any listing file)."""
    content = root / "content"
    post = None
    if target.isdigit():
        post = db.call(posts.get, int(target))
        if post is None:
            return Outcome(False, f"There is no post {target}.")
        if post.status != posts.APPROVED or not post.slug:
            return Outcome(
                False, f"Post {target} is {post.status}: only a published (approved) post can expire."
            )
        slug = post.slug
    else:
        slug = target
    path = files.listing_path(content, slug)
    if path is None:
        return Outcome(False, f"There is no listing content/jobs/{slug}.md.")
    try:
        closed = files.close_listing(path, day)
    except (BuildError, OSError) as exc:
        return Outcome(False, str(exc))

    def mark(conn: Conn) -> None:
        conn.execute(
            "UPDATE job_posts SET status=?, decided_at=?, decided_by=? WHERE slug=? AND status=?",
            (posts.EXPIRED, now, editor, slug, posts.APPROVED),
        )

    db.call(mark)
    if not closed:
        return Outcome(True, f"content/jobs/{slug}.md was closed already.")
    return Outcome(True, f"Closed content/jobs/{slug}.md as of {day.isoformat()}.", changed=True)


def publish(root: Path) -> tuple[bool, str]:
    """Builds the site in a child process (a build does not belong in a serving process: it forks
    workers and holds the heap of every code set when it falls back to a full build). Returns
    (ok, the build's summary or error)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_repo()), os.environ.get("PYTHONPATH")])),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "generator", "--root", str(root), "build", "--quiet"],
            capture_output=True,
            text=True,
            timeout=PUBLISH_TIMEOUT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"the build did not finish in {PUBLISH_TIMEOUT} s"
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    return done.returncode == 0, "\n".join(lines[-20:]) or f"the build exited with {done.returncode}"


def _repo() -> Path:
    return Path(__file__).resolve().parents[2]
