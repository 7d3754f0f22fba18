"""The built site's files answered from memory (gate/static_fast.py) against its plain twin (the routed
StaticFiles + GZip mount): the same cases through both give the same answers."""
from __future__ import annotations

import gzip
import itertools
import os
import shutil
import time
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from gate.app import create_app
from gate.meter.hotpath import FastUnlock

IGNORED = {"date"}


@pytest.fixture
def twins(small_site: Path, tmp_path: Path) -> tuple[Path, FastUnlock, FastUnlock]:
    root = tmp_path / "proj"
    shutil.copytree(small_site, root, symlinks=True)
    fast = create_app(root)
    assert fast.static is not None
    return root, fast, FastUnlock(fast.app, fast.gate)  # the same app without the fast path


def _paths(root: Path) -> list[str]:
    site = root / "site"
    css = next((site / "assets").glob("coderef.*.css")).name
    js = next((site / "assets").glob("*.js")).name
    lookup = next(p for p in (site / "lookup").rglob("*") if p.is_file()).relative_to(site).as_posix()
    return ["/", "/index.html", "/cpt/27252/", "/icd-10-cm/S72.001A/", "/hcpcs/", f"/assets/{css}",
            f"/assets/{js}", "/robots.txt", "/sitemap.xml", f"/{lookup}", "/404.html",
            "/cpt/27252/index.html",
            # the plain path's own answers: a redirect, 404s, a folder without a page
            "/cpt/27252", "/no/such/page/", "/assets/", "/.hidden", "/cpt/../cpt/27252/"]


async def _get(app: FastUnlock, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        return await c.request(method, path, headers=headers)


def _comparable(r: httpx.Response) -> dict[str, str]:
    out = {k: v for k, v in r.headers.items() if k not in IGNORED}
    if "etag" in out:  # the gzip answer's ETag is weak on purpose (see the module docstring)
        out["etag"] = out["etag"].removeprefix("W/")
    if r.status_code == 304:
        out.pop("vary", None)  # the fast path says Vary on a 304 too, as on the 200 it stands for
    return out


@pytest.mark.anyio
async def test_the_same_answers_through_both_twins(twins: tuple[Path, FastUnlock, FastUnlock]) -> None:
    root, fast, plain = twins
    checked = 0
    for path in _paths(root):
        first = await _get(plain, "GET", path, {})
        etag, modified = first.headers.get("etag", ""), first.headers.get("last-modified", "")
        earlier = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
        conditions: list[dict[str, str]] = [{}, {"If-None-Match": etag}, {"If-None-Match": f"W/{etag}"},
                                            {"If-None-Match": '"other", ' + etag}, {"If-None-Match": "*"},
                                            {"If-None-Match": '"other"'}, {"If-Modified-Since": modified},
                                            {"If-Modified-Since": earlier}, {"Range": "bytes=0-9"}]
        for method, encoding, cond in itertools.product(("GET", "HEAD"), ("identity", "gzip", "br, gzip"),
                                                         conditions):
            headers = {**cond, "Accept-Encoding": encoding}
            a = await _get(plain, method, path, headers)
            if method == "HEAD" and a.status_code in (200, 304) and "Range" not in headers:
                # A file's HEAD from memory has the headers of its GET (the plain HEAD skips the GZip
                # middleware, whose decision needs a body: a gzip HEAD got the identity's headers).
                a = await _get(plain, "GET", path, headers)
            b = await _get(fast, method, path, headers)
            label = f"{method} {path} {headers}"
            assert (b.status_code, _comparable(b)) == (a.status_code, _comparable(a)), label
            assert b.content == (a.content if method == "GET" else b""), label  # decoded: the file's bytes
            if a.headers.get("content-encoding") == "gzip" and a.status_code == 200:  # a file, from memory
                assert b.headers["etag"] == "W/" + a.headers["etag"], label
            checked += 1
    assert checked == len(_paths(root)) * 2 * 3 * 9
    assert fast.static is not None and len(fast.static._files) >= 10  # the files were answered from memory


@pytest.mark.anyio
async def test_gzip_is_compressed_once_and_follows_a_rebuilt_file(
    twins: tuple[Path, FastUnlock, FastUnlock]
) -> None:
    root, fast, _ = twins
    assert fast.static is not None
    page = root / "site" / "cpt" / "27252" / "index.html"
    r = await _get(fast, "GET", "/cpt/27252/", {"Accept-Encoding": "gzip"})
    entry = fast.static._files[str(fast.static.directory) + "/cpt/27252/index.html"]
    assert r.headers["content-encoding"] == "gzip" and gzip.decompress(entry.gz) == page.read_bytes()
    again = await _get(fast, "GET", "/cpt/27252/", {"Accept-Encoding": "gzip"})
    assert fast.static._files[str(fast.static.directory) + "/cpt/27252/index.html"] is entry  # not redone
    assert again.headers["etag"] == r.headers["etag"]
    refused = await _get(fast, "GET", "/cpt/27252/", {"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers and refused.content == page.read_bytes()
    # A build replaces the file (a new inode): the next answer is the new file, with a new ETag.
    new = page.read_bytes().replace(b"</main>", b"<p>rebuilt</p></main>")
    tmp = page.with_name("index.html.new")
    tmp.write_bytes(new)
    os.utime(tmp, (time.time() + 5, time.time() + 5))
    os.replace(tmp, page)
    conditional = {"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]}
    r2 = await _get(fast, "GET", "/cpt/27252/", conditional)
    assert r2.status_code == 200 and r2.content == new and r2.headers["etag"] != r.headers["etag"]


@pytest.mark.anyio
async def test_files_outside_the_site_and_gate_routes_are_not_served_from_memory(
    twins: tuple[Path, FastUnlock, FastUnlock]
) -> None:
    root, fast, _ = twins
    (root / "secret.txt").write_text("outside")
    os.symlink(root / "secret.txt", root / "site" / "leak.txt")
    r = await _get(fast, "GET", "/leak.txt", {})
    assert r.status_code == 404 and "outside" not in r.text
    (root / "site" / "gate").mkdir(exist_ok=True)
    (root / "site" / "gate" / "session").write_text("a file where a gate route is")
    r = await _get(fast, "GET", "/gate/session", {})
    assert r.headers["cache-control"] == "no-store, private" and "a file" not in r.text
