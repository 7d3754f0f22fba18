"""`coderef serve`'s static side: pages compressed like a CDN would, with the build's headers."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures.gate.sitekit import build_site, client, settings_for

from gate.app import create_app


@pytest.mark.anyio
async def test_pages_are_gzipped_with_security_and_cache_headers(small_site: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "proj"
    shutil.copytree(small_site, root, symlinks=True)
    app = create_app(root)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        r = await c.get("/icd-10-cm/S72.001A/", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200
        assert r.headers["content-encoding"] == "gzip"
        assert "S72.001A" in r.text  # httpx decompresses
        assert r.headers["cache-control"] == "public, max-age=300, must-revalidate"  # as in _headers
        assert "wasm-unsafe-eval" in r.headers["content-security-policy"]
        css = next((root / "site" / "assets").glob("coderef.*.css")).name
        r = await c.get(f"/assets/{css}", headers={"Accept-Encoding": "gzip"})
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        r = await c.get("/gate/session", headers={"Accept-Encoding": "gzip"})
        assert r.headers["cache-control"] == "no-store, private"


def test_static_site_serving(tmp_path: Path) -> None:
    root = build_site(tmp_path)
    with client(create_app(root, settings=settings_for(root))) as c:
        _check_static_serving(c, root)


def _check_static_serving(c: Any, root: Path) -> None:
    page = c.get("/cpt/27252/")
    assert page.status_code == 200 and "Public description" in page.text and "PROTECTED" not in page.text
    assert page.headers["cache-control"] == "public, max-age=300, must-revalidate"
    asset = c.get("/assets/coderef.abc123.css")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = c.get("/no/such/page/")
    assert missing.status_code == 404 and "No such page" in missing.text
    assert c.get("/cpt/27252", follow_redirects=False).status_code in (301, 307)
    (root / "secret.txt").write_text("outside")
    for p in ("/../secret.txt", "/%2e%2e/secret.txt", "/cpt/..%2f..%2fsecret.txt", "/..%5csecret.txt"):
        r = c.get(p)
        assert r.status_code == 404 and "outside" not in r.text, p
    os.symlink(root / "secret.txt", root / "site" / "leak.txt")
    assert c.get("/leak.txt").status_code == 404
