"""`coderef accounts …` and `coderef serve` refusing production without a key (via python -m gate)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fixtures.gate.sitekit import REPO, build_site, client, settings_for

from gate.app import create_app


def run(root: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO), "CODEREF_SECRET_KEYS": "cli-key-" + "c" * 24, **env}
    return subprocess.run([sys.executable, "-m", "gate", "--root", str(root), *args], input=stdin,
                          capture_output=True, text=True, env=full, cwd=REPO, timeout=60, check=False)


def test_accounts_lifecycle(tmp_path: Path) -> None:
    root = build_site(tmp_path)
    r = run(root, "accounts", "create", "Admin@Example.org", "--plan", "paid", "--password-stdin",
            stdin="a fine admin passphrase\n")
    assert r.returncode == 0, r.stderr
    assert run(root, "accounts", "create", "admin@example.org", "--password-stdin",
               stdin="a fine admin passphrase\n").returncode == 1
    weak = run(root, "accounts", "create", "w@example.org", "--password-stdin", stdin="password\n")
    assert weak.returncode == 2 and "password" in weak.stderr
    assert run(root, "accounts", "set-plan", "admin@example.org", "gold").returncode == 2
    listing = run(root, "accounts", "list").stdout
    assert "admin@example.org\tpaid" in listing
    with client(create_app(root, settings=settings_for(root))) as c:
        r2 = c.post("/gate/login", json={"email": "admin@example.org", "password": "a fine admin passphrase"})
        assert r2.json()["plan"] == "paid"
        assert run(root, "accounts", "set-plan", "admin@example.org", "free").returncode == 0
        assert c.get("/gate/session").json()["plan"] == "free"
        assert run(root, "accounts", "delete", "admin@example.org").returncode == 0
        assert c.get("/gate/session").json()["account"] is None  # its sessions went with it
    assert run(root, "accounts", "delete", "admin@example.org").returncode == 1
    assert "admin@example.org" not in run(root, "accounts", "list").stdout


def test_serve_refuses_production_without_key(tmp_path: Path) -> None:
    r = run(tmp_path, "serve", "--port", "1", CODEREF_ENV="production", CODEREF_SECRET_KEYS="")
    assert r.returncode == 2 and "CODEREF_SECRET_KEYS" in r.stderr
