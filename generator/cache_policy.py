"""The HTTP headers of the site's files, defined once: the build writes them into `_headers` (for
Netlify, Cloudflare Pages) and `coderef serve` (gate/static.py) sends them."""
from __future__ import annotations

from collections.abc import Iterable

from . import urls

IMMUTABLE = "public, max-age=31536000, immutable"  # file names carry a content fingerprint
INDEX = "public, max-age=3600"  # search index and lookup files: replaced as a whole by a build
HTML = "public, max-age=300, must-revalidate"  # pages (and every other file) change with each build

# Site path prefix -> Cache-Control; the first match wins, every other path gets HTML.
RULES: tuple[tuple[str, str], ...] = (
    (urls.folder_path(urls.ASSETS_DIR), IMMUTABLE),
    (urls.folder_path(urls.PAGEFIND_DIR), INDEX),
    (urls.folder_path(urls.LOOKUP_DIR), INDEX),
)

# Pagefind compiles WebAssembly, which needs 'wasm-unsafe-eval'; nothing needs 'unsafe-inline'.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# Sent with every file of the site.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Content-Security-Policy", CSP),
)

HEADERS_FILE = "_headers"
_PREAMBLE = """\
# Caching and security headers for hosts that read a _headers file (Netlify, Cloudflare Pages).
# Fingerprinted assets never change: cache them for a year. HTML changes with every build.
# Hosts apply every matching rule, so each path gets exactly one Cache-Control: HTML pages are
# matched by the directory rules below, and the root-level files by name.
"""


def cache_control(path: str) -> str:
    """The Cache-Control of a site path ("/assets/coderef.1a2b3c4d5e.css")."""
    for prefix, value in RULES:
        if path.startswith(prefix):
            return value
    return HTML


def headers_file(codesets: Iterable[str], paths: Iterable[str]) -> bytes:
    """The `_headers` file for a site whose files other than record pages are `paths` (in the
    order they were written; record pages all lie below their code set's folder).

    Hosts apply every matching rule, so the HTML policy cannot be one `/*` rule: it is given to the
    home page, each root-level file by name, the sitemaps, each code set's folder and then every
    other folder a stage wrote into, in that order.
    """
    files: list[str] = []
    dirs: list[str] = [urls.SITEMAPS_DIR, *codesets]
    for rel in paths:
        top, sep, _ = rel.partition("/")
        if not sep:
            if rel not in ("index.html", HEADERS_FILE):
                files.append(rel)
        elif top not in dirs and cache_control(urls.folder_path(top)) == HTML:
            dirs.append(top)
    targets = [urls.HOME, *map(urls.site_path, [urls.file_for(urls.HOME), *sorted(files)])]
    targets += [urls.folder_path(d) + "*" for d in dirs]
    lines = [_PREAMBLE, "/*\n", *(f"  {name}: {value}\n" for name, value in SECURITY_HEADERS)]
    lines += [f"{prefix}*\n  Cache-Control: {value}\n" for prefix, value in RULES]
    lines += [f"{target}\n  Cache-Control: {HTML}\n" for target in targets]
    return "".join(lines).encode()
