"""Job board benchmark: publishing one approved job on the full default site (target < 1 s).

A full build of the default site (search included) on tmpfs, then, several times: a post is queued
in the gate database and `coderef jobs approve ID` writes its listing and publishes it. The figures
are the publish as the build measures it (the jobs-only path: read the listings, render the board,
replace the changed files through the journal) and the whole approve command (interpreter start,
database, listing file, publish).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, coderef, fast_tmp, make_default_project, median, run_timed

RUNS = 5
FORM = {
    "title": "Remote Outpatient Coder",
    "employer_name": "Bench Health",
    "work": "remote",
    "remote_in": "US",
    "employment_full-time": "1",
    "setting_hospital-outpatient": "1",
    "credentials_required": "CPC, COC",
    "salary_min": "24",
    "salary_max": "31",
    "salary_unit": "hour",
    "salary_currency": "USD",
    "apply_url": "https://bench.example.org/apply",
    "description": "Code emergency department and same-day surgery encounters for a hospital system.\n\n"
    "## You bring\n\n- A CPC or COC\n- Two years of outpatient facility coding\n",
}
_PUBLISHED = re.compile(r"published \((\w[\w+]*)\): (\d+) files written, (\d+) removed in ([0-9.]+)s")


def _queue_post(root: Path, n: int) -> int:
    from gate.db import Database
    from gate.jobs import posts

    db = Database(None, root / "var" / "gate.sqlite")
    try:
        account = db.call(lambda c: c.one("SELECT id FROM accounts WHERE email='bench@example.org'"))
        if account is None:
            account = db.call(
                lambda c: c.one(
                    "INSERT INTO accounts(email, password_hash, plan, created_at)"
                    " VALUES ('bench@example.org', 'x', 'free', 0) RETURNING id"
                )
            )
        fields = {**FORM, "title": f"{FORM['title']} {n}"}
        got = db.call(
            posts.submit,
            int(account[0]),
            f"198.51.100.{n}",
            fields,
            fields["title"],
            FORM["employer_name"],
            int(time.time()),
            posts.Limits(1000, 1000),
        )
    finally:
        db.close()
    assert isinstance(got, int), got
    return got


def run(root: Path = ROOT, runs: int = RUNS) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="coderef-bench-jobs-", dir=fast_tmp()))
    try:
        proj = make_default_project(base / "proj")
        full, _, _ = run_timed(coderef(proj, "build", "--quiet"))
        publish, command, written = [], [], []
        for n in range(runs):
            post_id = _queue_post(proj, n + 1)
            took, _, out = run_timed(coderef(proj, "jobs", "approve", str(post_id)))
            m = _PUBLISHED.search(out)
            if m is None or m.group(1) != "jobs":
                raise RuntimeError(f"the approval did not take the jobs-only path:\n{out}")
            publish.append(float(m.group(4)))
            command.append(took)
            written.append(int(m.group(2)))
        pages = sum(1 for _ in (proj / "site").resolve().rglob("index.html"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {
        "pages": pages,
        "full_build_s": full,
        "publish_s": median(publish),
        "publish_max_s": max(publish),
        "approve_command_s": median(command),
        "files_written": sorted(set(written)),
        "runs": runs,
    }


def report(r: dict[str, Any]) -> list[str]:
    files = "/".join(map(str, r["files_written"]))
    return [
        f"jobs: one approved job on the full default site ({r['pages']} pages; "
        f"full build {r['full_build_s']:.1f}s)",
        f"  jobs-only publish: {r['publish_s']:.3f}s median of {r['runs']} (max {r['publish_max_s']:.3f}s; "
        f"target < 1 s), {files} files written",
        f"  whole `coderef jobs approve ID` command: {r['approve_command_s']:.2f}s median",
    ]
