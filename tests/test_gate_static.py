"""`coderef serve`'s static side: pages compressed like a CDN would, with the build's headers."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

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
        assert r.headers["cache-control"] == "public, max-age=300"
        assert "script-src 'self';" in r.headers["content-security-policy"]
        css = next((root / "site" / "assets").glob("coderef.*.css")).name
        r = await c.get(f"/assets/{css}", headers={"Accept-Encoding": "gzip"})
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        r = await c.get("/gate/session", headers={"Accept-Encoding": "gzip"})
        assert r.headers["cache-control"] == "no-store, private"
