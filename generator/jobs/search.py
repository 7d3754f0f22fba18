"""Jobs in the site search: a small Pagefind bundle of the open listings (`/pagefind/jobs/`), merged
in the browser with the code sets' bundles and filtered as "jobs" (search.js reads it from
`/lookup/index.json`, whose entry `generator/search.py` writes).

One Pagefind page per job: its heading `Job — <title>, <employer>` (an h3, which search.js shows as
a label and a title) with the job's URL segment as anchor id, so a result opens `/jobs/<slug>/`.
Bundles are content-addressed under `.coderef/search/jobs/<hash>/`: an unchanged board is not
indexed again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import urls
from ..config import SiteConfig
from ..errors import BuildError
from ..search import pagefind_binary
from .model import Job
from .pages import listed
from .stage import Listings
from .views import pay, where

SCHEMA = "1"  # bump when the indexed HTML changes
SITE_DIR = urls.relative(urls.pagefind_path(urls.JOBS_SEARCH)).rstrip("/")
FILTER = urls.JOBS_SEARCH
# Pagefind's own UI bundles are not used (search.js draws the results).
_SKIP = re.compile(r"^pagefind-(?:ui|modular-ui|component-ui|highlight)\.|^wasm\.unknown\.|^playground/")


def page(job: Job) -> str:
    """The HTML Pagefind indexes for one job: the words a job seeker types, nothing else."""
    e = html.escape
    facts = [where(job), pay(job.salary), ", ".join(job.credentials), ", ".join(job.specialty)]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title> </title></head><body>'
        f'<div data-pagefind-body><span data-pagefind-filter="codeset:{FILTER}"></span>'
        f'<span data-pagefind-meta="title[data-t]" data-t="{e(job.title)}"></span>'
        f'<section><h3 id="{e(job.slug)}" data-pagefind-weight="10">'
        f"Job — {e(job.title)}, {e(job.employer.name)}</h3>"
        f"<p>{e('. '.join(f for f in facts if f))}.</p><p>{e(job.description_text[:2000])}</p></section>"
        "</div></body></html>"
    )


# Pagefind refuses an empty site; with no open job the bundle holds this page, which has no job on it.
_EMPTY = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title> </title></head><body>'
    f'<div data-pagefind-body><span data-pagefind-filter="codeset:{FILTER}"></span>'
    "<p>No medical coding jobs are open right now.</p></div></body></html>"
)


def index(jobs: list[Job], day: dt.date, out_dir: Path) -> list[tuple[str, Path]]:
    """The bundle of the jobs open on `day`: (site path, file) pairs, sorted."""
    pages = {j.slug: page(j) for j in sorted(jobs, key=lambda j: j.slug) if j.is_open(day)} or {
        "none": _EMPTY
    }
    h = hashlib.blake2b(SCHEMA.encode(), digest_size=8)
    for slug, text in pages.items():
        h.update(slug.encode() + b"\0" + text.encode() + b"\0")
    gen = out_dir / h.hexdigest()
    if not (gen / "done").exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="jobs-", dir=out_dir) as tmp:
            for slug, text in pages.items():
                (Path(tmp) / slug).mkdir()
                (Path(tmp) / slug / "index.html").write_text(text, encoding="utf-8")
            shutil.rmtree(gen, ignore_errors=True)  # an interrupted earlier attempt
            cmd = [
                str(pagefind_binary()),
                "--site",
                tmp,
                "--output-path",
                str(gen / "pagefind"),
                "--force-language",
                "en",
                "--quiet",
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise BuildError(
                    f"jobs search index failed: pagefind exited with {done.returncode}: "
                    f"{(done.stdout + done.stderr)[-2000:]}"
                )
        (gen / "done").write_text(h.hexdigest())
    for old in out_dir.iterdir():  # earlier bundles; published copies are hard links and survive
        if old.is_dir() and old != gen and not old.name.startswith("jobs-"):
            shutil.rmtree(old, ignore_errors=True)
    bundle = gen / "pagefind"
    files = []
    for p in bundle.rglob("*"):
        rel = p.relative_to(bundle).as_posix()
        if p.is_file() and not _SKIP.search(rel):
            files.append((f"{SITE_DIR}/{rel}", p))
    return sorted(files, key=lambda f: f[0])


def bundle(cfg: SiteConfig, board: Listings) -> list[tuple[str, Path]]:
    """The search files of the board the build publishes (none when the board is off)."""
    if not cfg.jobs.enabled:
        return []
    return index(listed(cfg, board.jobs), board.day, cfg.state_dir / "search" / urls.JOBS_SEARCH)


def is_search_output(rel: str) -> bool:
    return rel.startswith(SITE_DIR + "/")
