"""Downloads: a real local HTTP server, the cache, and the size and sha256 checks."""
from __future__ import annotations

import hashlib
import http.server
import threading
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.errors import BuildError
from generator.fetch import fetch, original_name

BODY = b"column1\tcolumn2\tmodifier\n45380\t45378\t0\n" * 50


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: typing.ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Handler.hits.append(self.path)
        if self.path.startswith("/missing"):
            self.send_error(404)
            return
        body = BODY
        self.send_response(200)
        # /short claims more bytes than it sends: a cut connection.
        self.send_header("Content-Length", str(len(body) + (100 if self.path.startswith("/short") else 0)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    _Handler.hits = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    t.join()


def test_download_is_cached_and_keeps_its_name(server: str, tmp_path: Path) -> None:
    url = f"{server}/files/ccipra-v302r0-f1.txt"
    path = fetch(url, tmp_path / "cache")
    assert path.read_bytes() == BODY and original_name(path) == "ccipra-v302r0-f1.txt"
    again = fetch(url, tmp_path / "cache", sha256=hashlib.sha256(BODY).hexdigest())
    assert again == path and _Handler.hits == ["/files/ccipra-v302r0-f1.txt"]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [path.name]  # no temp files left


def test_sha256_mismatch_is_refused_and_nothing_cached(server: str, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="sha256 mismatch: expected 0000"):
        fetch(f"{server}/x.txt", tmp_path / "cache", sha256="0" * 64)
    assert list((tmp_path / "cache").iterdir()) == []


def test_truncated_download(server: str, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="download"):
        fetch(f"{server}/short.txt", tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_http_error_and_bad_hash_argument(server: str, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="HTTP 404"):
        fetch(f"{server}/missing.txt", tmp_path / "cache")
    with pytest.raises(BuildError, match="64 hexadecimal digits"):
        fetch(f"{server}/x.txt", tmp_path / "cache", sha256="abc")
