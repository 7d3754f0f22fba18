"""Every public path and URL of the site comes from here."""
from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

ASSETS_DIR = "assets"

_PLAIN = re.compile(r"[A-Za-z0-9.\-]+").fullmatch


def _seg(key: str) -> str:
    # Official codes need no escaping; skip quote() (a few microseconds, 8 links a page, 178k pages).
    return key if _PLAIN(key) else quote(key, safe=".-")


def page_path(codeset: str, key: str) -> str:
    """URL path of a code or browse page: flat and canonical, the code as officially printed."""
    return f"/{codeset}/{_seg(key)}/"


def codeset_path(codeset: str) -> str:
    return f"/{codeset}/"


def gate_page_path(codeset: str, key: str) -> str:
    """The gate's server-rendered page (the no-JavaScript path)."""
    return f"/gate/page/{codeset}/{_seg(key)}/"


def gate_unlock_path(codeset: str, key: str) -> str:
    return f"/gate/unlock/{codeset}/{_seg(key)}"


def file_for(path: str) -> str:
    """Relative file written for a URL path: directories get index.html."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return rel


def absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


# Pages the gate sends visitors to, and the gate's own paths.
REGISTER = "/register/"
LOGIN = "/login/"
ACCOUNT = "/account/"
GATE = "/gate/"
GATE_UNLOCK = GATE + "unlock/"

GateEndpoint = Literal["account", "session", "register", "login", "logout", "password"]


def with_next(path: str, next_path: str) -> str:
    """`path` with `?next=` the page to come back to (after logging in or registering)."""
    return f"{path}?next={quote(next_path, safe='/')}"


def register_path(next_path: str | None = None) -> str:
    return REGISTER if next_path is None else with_next(REGISTER, next_path)


def login_path(next_path: str | None = None) -> str:
    return LOGIN if next_path is None else with_next(LOGIN, next_path)


def gate_endpoint(name: GateEndpoint) -> str:
    """The path of one of the gate's own pages and form or JSON endpoints ("/gate/login")."""
    return GATE + name
