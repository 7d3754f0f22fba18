"""Every path and URL of the site (and of the gate's endpoints) comes from here.

Paths are URL paths ("/icd-10-cm/S72.001A/"); `file_for` turns a page's path into the file the
build writes ("icd-10-cm/S72.001A/index.html") and `relative` any other path into its file.
"""
from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

# Top-level folders of the site that are not pages.
ASSETS_DIR = "assets"  # fingerprinted CSS and JavaScript
PAGEFIND_DIR = "pagefind"  # the search index, one bundle per code set
LOOKUP_DIR = "lookup"  # exact and partial code lookup files, per code set
SITEMAPS_DIR = "sitemaps"  # the sitemap files the root sitemap index lists

# Pages and files that exist once per site.
HOME = "/"
SEARCH = "/search/"
REGISTER = "/register/"
LOGIN = "/login/"
ACCOUNT = "/account/"
NOT_FOUND = "/404.html"
ROBOTS = "/robots.txt"
SITEMAP = "/sitemap.xml"
CASEPILOT = "/casepilot/"  # the coding assistant's page (example questions; the no-JavaScript answers)
GUIDES = "/guides/"  # coding guides in our own words


def guide_path(slug: str) -> str:
    return f"{GUIDES}{slug}/"

# The job board: its list, one page per listing below it, the posting form, the feed.
JOBS = "/jobs/"
JOBS_POST = JOBS + "post/"
JOBS_FEED = JOBS + "feed.xml"
JOBS_SEARCH = "jobs"  # the name of its search bundle and filter (beside the code sets')

# The gate: everything below GATE is answered by the gate service, never by site files.
GATE = "/gate/"
GATE_UNLOCK = GATE + "unlock/"
GATE_PAGE = GATE + "page/"
GATE_ASK = GATE + "ask"  # CasePilot's questions

_PLAIN = re.compile(r"[A-Za-z0-9.\-]+").fullmatch
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._~/\-]+").fullmatch


def _seg(key: str) -> str:
    # Official codes need no escaping; skip quote() (a few microseconds, 8 links a page, 178k pages).
    return key if _PLAIN(key) else quote(key, safe=".-")


def page_path(codeset: str, key: str) -> str:
    """URL path of a code or browse page: flat and canonical, the code as officially printed."""
    return f"/{codeset}/{_seg(key)}/"


def changes_path(codeset: str, release: str | None = None) -> str:
    """A code set's list of releases compared ("/icd-10-cm/changes/"), or what one release changed
    ("/icd-10-cm/changes/fy2026/"; `release` is its slug). No code is named "changes"."""
    base = f"/{codeset}/changes/"
    return base if release is None else f"{base}{_seg(release)}/"


def ncci_changes_path() -> str:
    """What changed between the NCCI PTP and MUE releases held ("/ncci/changes/")."""
    return "/ncci/changes/"


def pfs_changes_path() -> str:
    """What changed between the Physician Fee Schedule releases held ("/pfs/changes/")."""
    return "/pfs/changes/"


def modifier_path(modifier: str) -> str:
    """One HCPCS Level II modifier's page: a record page of the HCPCS code set ("/hcpcs/XS/"), under the
    group page "/hcpcs/modifiers/"."""
    return page_path("hcpcs", modifier)


def codeset_path(codeset: str) -> str:
    """A code set's index page; every page of the code set lies below it."""
    return folder_path(codeset)


def folder_path(name: str) -> str:
    """The path of a top-level folder of the site ("/assets/")."""
    return f"/{name}/"


def with_next(path: str, next_path: str) -> str:
    """`path` with `?next=` the page to come back to (after logging in or registering)."""
    return f"{path}?next={next_path if _PLAIN_PATH(next_path) else quote(next_path, safe='/')}"


def register_path(next_path: str | None = None) -> str:
    return REGISTER if next_path is None else with_next(REGISTER, next_path)


def login_path(next_path: str | None = None) -> str:
    return LOGIN if next_path is None else with_next(LOGIN, next_path)


def account_path() -> str:
    return ACCOUNT


def asset_path(name: str) -> str:
    """A file of the theme's assets (`name` carries its content fingerprint)."""
    return folder_path(ASSETS_DIR) + name


def pagefind_path(codeset: str) -> str:
    """The folder of a code set's Pagefind bundle."""
    return f"{folder_path(PAGEFIND_DIR)}{codeset}/"


def lookup_path(codeset: str) -> str:
    """The folder of a code set's lookup files."""
    return f"{folder_path(LOOKUP_DIR)}{codeset}/"


def lookup_index_path() -> str:
    """The list of searchable code sets (search.js reads it first)."""
    return folder_path(LOOKUP_DIR) + "index.json"


def sitemap_path(name: str) -> str:
    """One of the sitemap files listed by the sitemap index (`SITEMAP`)."""
    return folder_path(SITEMAPS_DIR) + name


def job_path(slug: str) -> str:
    """A job listing's page: its file name (`content/jobs/<slug>.md`) below the board."""
    return f"{JOBS}{slug}/"


def jobs_sitemap_path() -> str:
    return sitemap_path("jobs.xml")


# The gate's endpoints (see gate/app.py, the one place that wires them).


def gate_page_path(codeset: str, key: str) -> str:
    """The gate's server-rendered page (the no-JavaScript path)."""
    return f"{GATE_PAGE}{codeset}/{_seg(key)}/"


def gate_unlock_path(codeset: str, key: str) -> str:
    """POST here to unlock a code page's protected sections (JSON, or an HTML form)."""
    return f"{GATE_UNLOCK}{codeset}/{_seg(key)}"


def gate_paths(codeset: str, key: str) -> tuple[str, str]:
    """`gate_page_path` and `gate_unlock_path` of one code at once (every record page shows both)."""
    seg = _seg(key)
    return f"{GATE_PAGE}{codeset}/{seg}/", f"{GATE_UNLOCK}{codeset}/{seg}"


GateEndpoint = Literal[
    "account", "session", "register", "login", "logout", "password", "jobs/post", "jobs/mine", "jobs/queue",
    "password/forgot", "password/reset", "email/verify", "email/verify/send", "account/security",
    "account/sessions/logout-others", "account/delete", "billing/checkout", "billing/done", "billing/webhook",
]


def gate_endpoint(name: GateEndpoint) -> str:
    """The path of one of the gate's own pages and form or JSON endpoints ("/gate/login")."""
    return GATE + name


def file_for(path: str) -> str:
    """Relative file written for a URL path: directories get index.html."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return rel


def relative(path: str) -> str:
    """The site-relative name of a path that is not a page ("/lookup/index.json" -> "lookup/index.json")."""
    return path.lstrip("/")


def site_path(rel: str) -> str:
    """The path of a file of the site, from its site-relative name ("404.html" -> "/404.html")."""
    return "/" + rel


def absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path

