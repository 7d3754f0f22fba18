"""`coderef accounts …` and `coderef serve` refusing production without a key (via python -m gate)."""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.gate.sitekit import REPO, build_site, client, settings_for

from gate.app import create_app

KEYS = "cli-key-" + "c" * 24


def run(root: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m gate …` as an operator types it: a process of its own."""
    full = {**os.environ, "PYTHONPATH": str(REPO), "CODEREF_SECRET_KEYS": KEYS, **env}
    return subprocess.run([sys.executable, "-m", "gate", "--root", str(root), *args], input=stdin,
                          capture_output=True, text=True, env=full, cwd=REPO, timeout=60, check=False)


def run_here(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The same command through the same entry point (gate.cli.main) in this process: no interpreter
    start-up per command (the lifecycle test runs the real process too)."""
    from gate.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.setenv("CODEREF_SECRET_KEYS", KEYS)
        mp.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(["--root", str(root), *args])
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_accounts_lifecycle(tmp_path: Path) -> None:
    root = build_site(tmp_path)
    r = run(root, "accounts", "create", "Admin@Example.org", "--plan", "paid", "--password-stdin",
            stdin="a fine admin passphrase\n")
    assert r.returncode == 0, r.stderr
    assert run_here(root, "accounts", "create", "admin@example.org", "--password-stdin",
                    stdin="a fine admin passphrase\n").returncode == 1
    weak = run_here(root, "accounts", "create", "w@example.org", "--password-stdin", stdin="password\n")
    assert weak.returncode == 2 and "password" in weak.stderr
    assert run_here(root, "accounts", "set-plan", "admin@example.org", "gold").returncode == 2
    listing = run_here(root, "accounts", "list").stdout
    assert "admin@example.org\tpaid" in listing
    with client(create_app(root, settings=settings_for(root))) as c:
        r2 = c.post("/gate/login", json={"email": "admin@example.org", "password": "a fine admin passphrase"})
        assert r2.json()["plan"] == "paid"
        assert run_here(root, "accounts", "set-plan", "admin@example.org", "free").returncode == 0
        assert c.get("/gate/session").json()["plan"] == "free"
        assert run_here(root, "accounts", "delete", "admin@example.org").returncode == 0
        assert c.get("/gate/session").json()["account"] is None  # its sessions went with it
    assert run_here(root, "accounts", "delete", "admin@example.org").returncode == 1
    assert "admin@example.org" not in run_here(root, "accounts", "list").stdout


def test_serve_refuses_production_without_key(tmp_path: Path) -> None:
    r = run(tmp_path, "serve", "--port", "1", CODEREF_ENV="production", CODEREF_SECRET_KEYS="")
    assert r.returncode == 2 and "CODEREF_SECRET_KEYS" in r.stderr
