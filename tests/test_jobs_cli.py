"""`coderef jobs list|show|approve|reject|expire` and `coderef accounts set-role`, as moderators run them."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_project
from fixtures.gate.sitekit import REPO, client, settings_for
from jobs_kit import job_posting, robots_noindex
from test_jobs_gate import FORM, JSON_ACCEPT, PASSWORD

from gate.app import create_app, create_gate_app

ENV = {"CODEREF_SECRET_KEYS": "cli-key-" + "c" * 24, "CODEREF_TODAY": "2026-12-02"}


def coderef_process(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`coderef …` as a moderator types it: a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **ENV},
        cwd=REPO,
        timeout=120,
        check=False,
    )


def coderef(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`coderef …` through the same entry point (generator.cli.main) in this process: a dozen commands
    without a dozen interpreter start-ups (each test runs the real process once as well)."""
    from generator.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for name, value in ENV.items():
            mp.setenv(name, value)
        try:
            code = main(["--root", str(root), *args])
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_moderation_from_the_command_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    assert coderef_process(root, "build", "--quiet").returncode == 0
    with client(create_app(root, settings=settings_for(root))) as c:
        assert (
            c.post("/gate/register", json={"email": "emp@example.org", "password": PASSWORD}).status_code
            == 201
        )
        ids = [
            c.post("/gate/jobs/post", data={**FORM, "title": t}, headers=JSON_ACCEPT).json()["id"]
            for t in ("Remote HCC Coder", "Second Coder", "Third Coder")
        ]

    listing = coderef_process(root, "jobs", "list")
    assert listing.returncode == 0
    rows = [line.split("\t") for line in listing.stdout.splitlines()]
    assert [int(r[0]) for r in rows] == ids and all(
        r[1] == "pending" and r[3] == "emp@example.org" for r in rows
    )
    shown = coderef(root, "jobs", "show", str(ids[0]))
    assert "title: Remote HCC Coder" in shown.stdout and "Code Medicare Advantage charts" in shown.stdout

    rejected = coderef(root, "jobs", "reject", str(ids[1]), "--reason", "Duplicate of post 1")
    assert rejected.returncode == 0 and "Rejected post" in rejected.stdout
    assert coderef(root, "jobs", "reject", str(ids[1]), "--reason", "again").returncode == 1
    assert coderef(root, "jobs", "approve", "999").returncode == 1

    started = time.perf_counter()
    approved = coderef(root, "jobs", "approve", str(ids[0]))
    assert approved.returncode == 0, approved.stderr
    assert "published (jobs):" in approved.stdout, approved.stdout  # the jobs-only build
    assert time.perf_counter() - started < 60
    slug = f"remote-hcc-coder-acme-risk-partners-{ids[0]}"
    page = (root / "site" / "jobs" / slug / "index.html").read_text(encoding="utf-8")
    assert job_posting(page) is not None and not robots_noindex(page)
    statuses = {
        r.split("\t")[0]: r.split("\t")[1]
        for r in coderef(root, "jobs", "list", "--status", "all").stdout.splitlines()
    }
    assert statuses == {str(ids[0]): "approved", str(ids[1]): "rejected", str(ids[2]): "pending"}

    # Expire by post number or by a listing's file name (also listings that never were posts).
    assert coderef(root, "jobs", "expire", str(ids[2])).returncode == 1  # not published
    expired = coderef(root, "jobs", "expire", str(ids[0]))
    assert expired.returncode == 0 and "published (jobs):" in expired.stdout
    page = (root / "site" / "jobs" / slug / "index.html").read_text(encoding="utf-8")
    assert "This job is closed." in page and job_posting(page) is None
    sample = coderef(root, "jobs", "expire", "inpatient-coder-example-health", "--no-publish")
    assert sample.returncode == 0
    assert (
        "closed: 2026-12-02" in (root / "content" / "jobs" / "inpatient-coder-example-health.md").read_text()
    )
    assert coderef(root, "jobs", "expire", "inpatient-coder-example-health").stdout.startswith(
        "content/jobs/"
    )
    assert coderef(root, "jobs", "expire", "no-such-job").returncode == 1


def test_set_role(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", jobs=False)
    with client(create_gate_app(root, settings=settings_for(root))) as c:
        assert (
            c.post("/gate/register", json={"email": "ed@example.org", "password": PASSWORD}).status_code
            == 201
        )
        assert c.get("/gate/jobs/queue").status_code == 403
        r = coderef_process(root, "accounts", "set-role", "ED@example.org", "editor")
        assert r.returncode == 0 and r.stdout.strip() == "ed@example.org has the editor role"
        assert "(unchanged)" in coderef(root, "accounts", "set-role", "ed@example.org", "editor").stdout
        assert c.get("/gate/jobs/queue").status_code == 404  # an editor; this site was never built
        assert coderef(root, "accounts", "set-role", "ed@example.org", "editor", "--remove").returncode == 0
        assert c.get("/gate/jobs/queue").status_code == 403
    assert coderef(root, "accounts", "set-role", "nobody@example.org", "editor").returncode == 1
    assert coderef(root, "accounts", "set-role", "ed@example.org", "admin").returncode == 2
