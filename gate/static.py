"""The built site served as files: /x/ → x/index.html, 404.html, short HTML and long asset caching."""
from __future__ import annotations

import os

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from generator.pages import CSP

HTML_CACHE = "public, max-age=300"
ASSET_CACHE = "public, max-age=31536000, immutable"  # /assets/* names carry a content fingerprint
INDEX_CACHE = "public, max-age=3600"  # search index and code lookup files (same as the build's _headers)


class SiteFiles(StaticFiles):
    """StaticFiles resolving `directory` (maybe a symlink a build swaps atomically) on every request;
    files reaching outside it through `..` or symlinks are refused."""

    async def check_config(self) -> None:
        return None  # a missing site is answered per request, not by crashing at start

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not os.path.isdir(str(self.directory)):
            return PlainTextResponse("The site has not been built yet: run `coderef build`.", status_code=503)
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            return PlainTextResponse("Not found", status_code=404, headers={"Cache-Control": HTML_CACHE})
        if response.status_code in (200, 304, 404):
            top = path.split(os.sep, 1)[0] if response.status_code != 404 else ""
            response.headers["Cache-Control"] = (
                ASSET_CACHE
                if top == "assets"
                else INDEX_CACHE
                if top in ("pagefind", "lookup")
                else HTML_CACHE
            )
        # The same headers the build writes into `_headers` for CDNs.
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response
