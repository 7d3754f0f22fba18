"""The built site's files answered from memory, in front of the router (the fast twin of `static.py`).

Through Starlette, a static page costs the router, the middleware stack, `StaticFiles`' path checks
(several `stat` calls), a file read and a gzip of every answer: about 30x a bare endpoint. Here a
GET or HEAD of an existing regular file below the site costs one `stat` (the file is still the one
cached: same inode, size and modification time; a build's swap of the `site` link changes the
inode) and one `send` of bytes prepared once: the headers of both encodings, the body and its
gzip (compressed once, at the level the GZip middleware used). It answers only what it answers
exactly as the plain path would (200 and 304; a test drives both twins through the same cases);
everything else goes on to the router unchanged: redirects to the trailing slash, 404s, Range
requests, other methods, the gate's routes, files outside the site, odd paths.

One difference, on purpose: a gzip answer's ETag is the file's ETag made weak (`W/"…"`), as nginx
does, since the compressed bytes are another representation; If-None-Match compares weakly, so a
cache revalidating either encoding gets its 304.
"""
from __future__ import annotations

import gzip
import mimetypes
import os
import re
import stat
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate
from hashlib import md5

from starlette.types import Scope, Send

from generator.cache_policy import SECURITY_HEADERS, cache_control

# Path segments a built site uses; a segment never starts with a dot (no "..", no hidden files).
_SAFE_PATH = re.compile(r"/(?:[A-Za-z0-9_\-][A-Za-z0-9_.\-]*/?)*")
GZIP_MINIMUM = 1024  # bytes; smaller bodies are sent as they are (as the GZip middleware did)
GZIP_LEVEL = 9  # the GZip middleware's level: compressed once per file, so the smallest answer
# The GZip middleware's types that are compressed already.
NO_GZIP = ("application/gzip", "application/x-gzip", "application/zip", "audio/", "font/woff", "image/avif",
           "image/gif", "image/jpeg", "image/png", "image/webp", "video/")
MAX_FILE = 4 * 1024 * 1024  # larger files go the plain way (streamed, never held)
CACHE_BYTES = 256 * 1024 * 1024  # bodies held, both encodings counted; least recently used dropped
_304_KEEP = (b"etag", b"cache-control")  # what a 304 keeps of the 200's headers (as StaticFiles)


@dataclass(slots=True)
class _File:
    ident: tuple[int, int, int, int]  # device, inode, size, mtime_ns
    etag: str  # the strong ETag, quoted ('"…"')
    last_modified: str
    plain: list[tuple[bytes, bytes]]  # headers of the identity answer
    zipped: list[tuple[bytes, bytes]] | None  # headers of the gzip answer (None: never compressed)
    body: bytes
    gz: bytes
    not_modified: list[tuple[bytes, bytes]]
    not_modified_gz: list[tuple[bytes, bytes]]

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gz)


def _accepts_gzip(value: bytes) -> bool:
    """Whether Accept-Encoding names gzip without refusing it (`gzip;q=0`)."""
    for part in value.split(b","):
        coding, _, params = part.strip().partition(b";")
        if coding.strip().lower() == b"gzip":
            q = params.strip().lower().replace(b" ", b"")
            try:
                return not (q.startswith(b"q=") and float(q[2:]) == 0)
            except ValueError:
                return True  # an unreadable weight: as the GZip middleware, which looked for the word
    return False


class FastStatic:
    """Answers GETs and HEADs of the built site's files from memory; `serve` says whether it did."""

    def __init__(self, directory: os.PathLike[str] | str, skip: tuple[str, ...] = (),
                 cache_bytes: int = CACHE_BYTES) -> None:
        self.directory = os.fspath(directory)
        self.skip = skip  # path prefixes the router answers (the gate, the pages it renders)
        self.cache_bytes = cache_bytes
        self._files: OrderedDict[str, _File] = OrderedDict()
        self._held = 0

    async def serve(self, scope: Scope, send: Send) -> bool:
        method = scope["method"]
        path: str = scope["path"]
        if method not in ("GET", "HEAD") or path.startswith(self.skip) or not _SAFE_PATH.fullmatch(path):
            return False
        name = self.directory + (path + "index.html" if path.endswith("/") else path)
        try:
            st = os.stat(name)
        except (OSError, ValueError):
            return False  # not found, not a folder's page: the router's 404 or redirect
        if not stat.S_ISREG(st.st_mode):
            return False
        ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        entry = self._files.get(name)
        if entry is None or entry.ident != ident:
            entry = self._load(name, path, st, ident)
            if entry is None:
                return False
        else:
            self._files.move_to_end(name)
        gz = inm = ims = None
        for key, value in scope["headers"]:
            if key == b"accept-encoding":
                gz = value
            elif key == b"if-none-match":
                inm = value
            elif key == b"if-modified-since":
                ims = value
            elif key == b"range":
                return False  # partial content: the plain path
        zipped = entry.zipped is not None and gz is not None and _accepts_gzip(gz)
        if self._not_modified(entry, inm, ims):
            headers = entry.not_modified_gz if zipped else entry.not_modified
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        headers = entry.zipped if zipped and entry.zipped is not None else entry.plain
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"" if method == "HEAD" else (entry.gz if zipped else entry.body)
        await send({"type": "http.response.body", "body": body})
        return True

    @staticmethod
    def _not_modified(entry: _File, inm: bytes | None, ims: bytes | None) -> bool:
        """StaticFiles' rule: If-None-Match (weak comparison, `*`) first, else If-Modified-Since."""
        if inm is not None:
            text = inm.decode("latin-1").strip()
            return text == "*" or entry.etag in [t.strip().removeprefix("W/") for t in text.split(",")]
        if ims is not None:
            since = parsedate(ims.decode("latin-1"))
            modified = parsedate(entry.last_modified)
            return since is not None and modified is not None and since >= modified
        return False

    def _load(
        self, name: str, path: str, st: os.stat_result, ident: tuple[int, int, int, int]
    ) -> _File | None:
        """Reads and prepares one file, or None when it is not for this path (too large, or reached
        through a link leading outside the site: the plain path refuses it)."""
        if st.st_size > MAX_FILE:
            return None
        real_root = os.path.realpath(self.directory)
        if not os.path.realpath(name).startswith(real_root + os.sep):
            return None
        with open(name, "rb") as f:
            body = f.read()
        if len(body) != st.st_size:
            return None  # being replaced right now: the plain path reads what is there
        media = mimetypes.guess_type(name)[0] or "text/plain"
        if media.startswith("text/"):
            media += "; charset=utf-8"
        last_modified = formatdate(st.st_mtime, usegmt=True)
        digest = md5(f"{st.st_mtime}-{st.st_size}".encode(), usedforsecurity=False).hexdigest()
        site_path = "/" + os.path.normpath(path.lstrip("/") or ".").replace(os.sep, "/")
        common = [(b"cache-control", cache_control(site_path).encode())]
        common += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS]
        compressible = len(body) >= GZIP_MINIMUM and not media.startswith(NO_GZIP)
        vary = [(b"vary", b"Accept-Encoding")] if compressible else []

        def answer(data: bytes, tag: str, extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
            return [(b"content-type", media.encode()), (b"accept-ranges", b"bytes"),
                    (b"content-length", b"%d" % len(data)), (b"last-modified", last_modified.encode()),
                    (b"etag", tag.encode()), *common, *vary, *extra]

        strong, weak = f'"{digest}"', f'W/"{digest}"'
        plain = answer(body, strong, [])
        gz = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0) if compressible else b""
        zipped = answer(gz, weak, [(b"content-encoding", b"gzip")]) if compressible else None
        entry = _File(
            ident, strong, last_modified, plain, zipped, body, gz,
            [h for h in plain if h[0] in _304_KEEP] + common[1:] + vary,
            [h for h in (zipped or plain) if h[0] in _304_KEEP] + common[1:] + vary,
        )
        old = self._files.pop(name, None)
        if old is not None:
            self._held -= old.size
        self._files[name] = entry
        self._held += entry.size
        while self._held > self.cache_bytes and len(self._files) > 1:
            _, dropped = self._files.popitem(last=False)
            self._held -= dropped.size
        return entry

