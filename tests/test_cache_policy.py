"""One cache policy: the build's `_headers` file and `coderef serve` give every file the same headers."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from gate.app import create_app
from generator.cache_policy import HTML, IMMUTABLE, INDEX, SECURITY_HEADERS, cache_control, headers_file


def _rules(headers_file_text: str) -> list[tuple[str, str, str]]:
    """(path pattern, header name, value) of a Netlify/Cloudflare-style `_headers` file."""
    out, rule = [], None
    for line in headers_file_text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            rule = line.strip()
            continue
        name, value = line.split(":", 1)
        out.append((rule or "", name.strip(), value.strip()))
    return out


def _headers_for(text: str, path: str, header: str = "cache-control") -> list[str]:
    """Values a host applies to `path` for `header` (hosts apply every matching rule)."""
    found = []
    for rule, name, value in _rules(text):
        pattern = re.escape(rule).replace(r"\*", ".*")
        if re.fullmatch(pattern, path) and name.lower() == header:
            found.append(value)
    return found


def _site_paths(site: Path) -> list[str]:
    paths = []
    for dirpath, _, files in os.walk(site, followlinks=True):
        for f in files:
            rel = (Path(dirpath) / f).relative_to(site).as_posix()
            if rel != "_headers":
                paths.append("/" + rel.removesuffix("index.html"))
    return sorted(paths)


def test_headers_file_gives_each_path_one_cache_policy(small_site: Path) -> None:
    text = (small_site / "site" / "_headers").read_text()
    css = next((small_site / "site" / "assets").glob("coderef.*.css")).name
    assert _headers_for(text, f"/assets/{css}") == [IMMUTABLE]
    assert _headers_for(text, "/icd-10-cm/S72.001A/") == [HTML]
    assert _headers_for(text, "/") == [HTML]
    assert _headers_for(text, "/pagefind/cpt/pagefind.js") == [INDEX]
    assert "Content-Security-Policy: default-src 'self'" in text
    paths = _site_paths(small_site / "site")
    assert len(paths) > 100
    for path in paths:  # every file of the site: exactly one policy, the table's
        assert _headers_for(text, path) == [cache_control(path)], path
        for name, value in SECURITY_HEADERS:
            assert _headers_for(text, path, name.lower()) == [value], (path, name)


@pytest.mark.anyio
async def test_serve_sends_the_headers_file_policy(small_site: Path, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(small_site, root, symlinks=True)
    text = (root / "site" / "_headers").read_text()
    paths = _site_paths(root / "site")
    pagefind = [p for p in paths if p.startswith("/pagefind/")]
    sample = [p for p in paths if p not in pagefind][::7] + pagefind[:5]
    transport = httpx.ASGITransport(app=create_app(root))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
        for path in sample:
            r = await c.get(path)
            assert r.status_code == 200, path
            assert [r.headers["cache-control"]] == _headers_for(text, path), path
            for name, value in SECURITY_HEADERS:
                assert r.headers[name] == value


def test_a_new_stage_folder_and_root_file_get_the_html_policy() -> None:
    written = ["index.html", "jobs/index.html", "jobs/1/index.html", "ads.txt", "assets/x.css"]
    text = headers_file(["icd-10-cm"], written).decode()
    assert _headers_for(text, "/jobs/1/") == [HTML]
    assert _headers_for(text, "/ads.txt") == [HTML]
    assert _headers_for(text, "/icd-10-cm/A00/") == [HTML]
    assert _headers_for(text, "/assets/x.css") == [IMMUTABLE]
    assert text.count("/jobs/*\n") == 1
