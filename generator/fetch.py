"""Downloads an official file once: stream to a temp file, verify size and sha256, rename into the cache."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from .errors import BuildError

CHUNK = 1 << 16


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def cache_name(url: str) -> str:
    """A stable file name per URL that keeps the original name (importers read dates from it)."""
    base = unquote(Path(urlparse(url).path).name) or "download"
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base)
    return f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{base}"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def original_name(path: Path) -> str:
    """The file name a cached download had on the server."""
    m = re.fullmatch(r"[0-9a-f]{12}-(.+)", path.name)
    return m[1] if m else path.name


def fetch(url: str, cache_dir: Path, *, sha256: str | None = None, timeout: float = 120.0) -> Path:
    """Returns the cached file for `url`, downloading it first when needed.

    A cached file is reused when no sha256 is given or when it matches. A download whose size
    differs from Content-Length or whose sha256 differs from `sha256` is deleted and reported.
    """
    want = sha256.lower() if sha256 else None
    if want is not None and not re.fullmatch(r"[0-9a-f]{64}", want):
        raise BuildError(f"--sha256 must be 64 hexadecimal digits, got '{sha256}'")
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / cache_name(url)
    if target.exists() and (want is None or sha256_of(target) == want):
        return target
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=".part-")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        size = 0
        with (
            os.fdopen(fd, "wb") as out,
            httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as r,
        ):
            if r.status_code != 200:
                raise BuildError(f"{url}: the server answered HTTP {r.status_code}; check the address")
            expected = r.headers.get("content-length")
            for chunk in r.iter_raw(CHUNK) if r.headers.get("content-encoding") in (None, "identity") \
                    else r.iter_bytes(CHUNK):
                out.write(chunk)
                h.update(chunk)
                size += len(chunk)
        if expected is not None and expected.isdigit() and int(expected) != size:
            raise BuildError(
                f"{url}: download incomplete: got {size:,} of {int(expected):,} bytes; try again"
            )
        got = h.hexdigest()
        if want is not None and got != want:
            raise BuildError(
                f"{url}: sha256 mismatch: expected {want}, got {got}; the download was discarded "
                "(check the --sha256 value or the address)"
            )
        os.replace(tmp, target)
        return target
    except httpx.HTTPError as exc:
        raise BuildError(f"{url}: download failed: {exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
