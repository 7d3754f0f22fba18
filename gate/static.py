"""The built site served as files: /x/ → x/index.html, 404.html, short HTML and long asset caching."""
from __future__ import annotations

import os

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from generator.cache_policy import HTML, SECURITY_HEADERS, cache_control


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
            return PlainTextResponse("Not found", status_code=404, headers={"Cache-Control": HTML})
        if response.status_code in (200, 304, 404):
            site_path = "/" + path.replace(os.sep, "/") if response.status_code != 404 else "/"
            response.headers["Cache-Control"] = cache_control(site_path)
        # The same headers the build writes into `_headers` for CDNs (one table: generator/cache_policy.py).
        for name, value in SECURITY_HEADERS:
            response.headers[name] = value
        return response
