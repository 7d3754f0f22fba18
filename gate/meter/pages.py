"""Server-rendered HTML: protected sections spliced into the static page, unlock forms, walls, account
page."""
from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from pathlib import Path
from urllib.parse import quote

from generator.urls import gate_page_path, gate_unlock_path

PREMIUM_RE = re.compile(r"(<!--premium:([^>\s]{1,200})-->)(.*?)(<!--/premium:\2-->)", re.DOTALL)


def splice(page: str, fill: Callable[[str], str]) -> str:
    """Replaces what lies between each `<!--premium:{id}-->` marker pair (markers kept) by fill(id)."""
    return PREMIUM_RE.sub(lambda m: m.group(1) + fill(m.group(2)) + m.group(4), page)


def unlock_form(codeset: str, code: str, views_left: int | None) -> str:
    label = "Unlock" if views_left is None else f"Unlock (uses 1 of {views_left} views)"
    return (
        f'<form class="unlock" method="post" action="{escape(gate_unlock_path(codeset, code))}">'
        f'<button type="submit">{escape(label)}</button></form>'
    )


def wall(plan: str, codeset: str, code: str, allowance: int | None) -> str:
    here = quote(gate_page_path(codeset, code), safe="/")
    if plan == "guest":
        return (
            '<div class="wall"><p>You have used your free code page for this period. '
            "Register for a free account to view more code pages.</p>"
            f'<p><a href="/register/?next={here}">Register</a> or '
            f'<a href="/login/?next={here}">log in</a></p></div>'
        )
    count = "" if allowance is None else f" all {allowance} views"
    return (
        f'<div class="wall"><p>You have used{escape(count)} of your plan for this period. '
        "Upgrade to a paid plan for unlimited code pages.</p>"
        '<p><a href="/gate/account">Your account</a></p></div>'
    )


def missing_section() -> str:
    return '<p class="premium-missing">This section has no content.</p>'


def stylesheets(site_dir: Path) -> list[str]:
    assets = site_dir / "assets"
    return sorted(f"/assets/{p.name}" for p in assets.glob("*.css")) if assets.is_dir() else []


def account_page(
    *, site_name: str, email: str, plan: str, used: int, allowance: int | None,
    unlocked: list[tuple[str, str]], css: list[str], error: str | None,
) -> str:
    links = "".join(
        f'<li><a href="{escape(gate_page_path(cs, code))}">{escape(code)}</a> ({escape(cs)})</li>'
        for cs, code in unlocked
    ) or "<li>None yet.</li>"
    limit = "unlimited" if allowance is None else str(allowance)
    note = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    head = "".join(f'<link rel="stylesheet" href="{escape(h)}">' for h in css)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">\
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your account – {escape(site_name)}</title>{head}</head>
<body><main id="main" class="account">
<h1>Your account</h1>{note}
<dl><dt>Email</dt><dd>{escape(email)}</dd><dt>Plan</dt><dd>{escape(plan)}</dd>
<dt>Views used this period</dt><dd>{used} of {escape(limit)}</dd></dl>
<h2>Codes unlocked this period</h2><ul>{links}</ul>
<h2>Change password</h2>
<form method="post" action="/gate/password">
<label>Current password \
<input type="password" name="current_password" autocomplete="current-password" required></label>
<label>New password \
<input type="password" name="new_password" autocomplete="new-password" minlength="8" required></label>
<input type="hidden" name="next" value="/gate/account"><button type="submit">Change password</button></form>
<form method="post" action="/gate/logout"><input type="hidden" name="next" value="/">
<button type="submit">Log out</button></form>
<p><a href="/">Home</a></p>
</main></body></html>
"""
