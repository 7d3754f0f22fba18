"""`coderef import`: code-set files are validated, copied and registered; CMS data is streamed to SQLite."""
from __future__ import annotations

import hashlib
import http.server
import json
import sqlite3
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from cms_fixtures import CMS, FILES

from generator.cli import main
from generator.config import SiteConfig
from generator.registry import imported_source


def _run(root: Path, *args: str) -> int:
    return main(["--root", str(root), "import", *args])


def test_list_names_every_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, "--list") == 0
    out = capsys.readouterr().out
    for kind in ("hcpcs", "icd10cm", "cpt", *FILES):
        assert f"\n{kind} " in "\n" + out


def test_hcpcs_file_is_validated_copied_and_registered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = CMS / "HCPC2024_JUL_ANWEB_sample.txt"
    assert _run(tmp_path, "hcpcs", str(src)) == 0
    out = capsys.readouterr().out
    assert out.startswith("hcpcs: 14 records in ") and out.count("\n") == 1
    cfg = SiteConfig(root=tmp_path)
    got = imported_source(cfg, "hcpcs")
    assert got == tmp_path / "data" / "sources" / "hcpcs" / src.name and got.read_bytes() == src.read_bytes()
    reg = json.loads((tmp_path / "data" / "imports.json").read_text(encoding="utf-8"))
    assert (
        reg["hcpcs"]["records"] == 14
        and reg["hcpcs"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    )
    assert imported_source(cfg, "icd10cm") is None


def test_premium_kind_streams_into_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, "mue-practitioner", str(CMS / FILES["mue-practitioner"])) == 0
    out = capsys.readouterr().out
    assert out.startswith("mue-practitioner: 6 rows, release 2024-07-01 in ")
    db = tmp_path / "data" / "premium" / "mue-practitioner.sqlite"
    assert str(db) in out and sqlite3.connect(db).execute("SELECT count(*) FROM mue").fetchone() == (6,)


def test_errors_are_one_message_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, "ncci-ptp-practitioner", str(CMS / "ptp_missing_columns.csv")) == 1
    out = capsys.readouterr().out
    assert out.startswith("error: ") and "missing columns 'column 1', 'column 2', 'modifier indicator'" in out
    assert _run(tmp_path, "nonsense", "x") == 1
    assert "unknown kind 'nonsense'" in capsys.readouterr().out
    assert _run(tmp_path, "hcpcs", str(tmp_path / "nope.txt")) == 1
    assert "no such file" in capsys.readouterr().out
    assert _run(tmp_path, "hcpcs", str(CMS / "GPCI2024.csv")) == 1
    assert "missing column" in capsys.readouterr().out
    assert not (tmp_path / "data" / "imports.json").exists()


@pytest.fixture
def files_server() -> Iterator[str]:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(CMS))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined, method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    t.join()


def test_import_from_url_with_sha256(
    tmp_path: Path, files_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = FILES["ncci-ptp-practitioner"]
    digest = hashlib.sha256((CMS / name).read_bytes()).hexdigest()
    assert _run(tmp_path, "ncci-ptp-practitioner", f"{files_server}/{name}", "--sha256", digest) == 0
    # The release comes from the server's file name (version 30.2), not from the cache name.
    assert "release 2024-07-01" in capsys.readouterr().out
    assert any(p.name.endswith(name) for p in (tmp_path / "data" / "cache").iterdir())
    assert _run(tmp_path, "ncci-ptp-practitioner", f"{files_server}/{name}", "--sha256", "f" * 64) == 1
    assert "sha256 mismatch" in capsys.readouterr().out


def test_damaged_gzip_is_a_clear_error_for_every_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gzip
    import subprocess
    import sys

    (tmp_path / "content").mkdir()
    bad = tmp_path / "damaged.txt.gz"
    bad.write_bytes(gzip.compress(b"HCPC\\tLONG DESCRIPTION\\n" * 500)[:40])
    # The command itself once (exit status and stderr of a real process), then every kind through
    # the same entry point in this process (an escaping exception would fail the test as well).
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(tmp_path), "import", "icd10cm", str(bad)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "damaged.txt.gz" in proc.stdout + proc.stderr, proc.stderr
    for kind in ("icd10cm", "icd10pcs", "hcpcs", "ncci-ptp-practitioner", "mue-practitioner", "pprrvu",
                 "gem-cm-to-icd9"):
        assert _run(tmp_path, kind, str(bad)) == 1, kind
        out = capsys.readouterr()
        assert "Traceback" not in out.err, (kind, out.err)
        assert "damaged.txt.gz" in out.out + out.err, kind
