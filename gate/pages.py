"""The gate's HTML: the built site's own pages (rendered from the theme by the build), filled in
for the visitor without JavaScript: protected sections spliced in, unlock forms and walls, the
header's account and meter, the account page, and the register/login forms re-shown with their
error.

The fills use the markers the theme prints for `coderef.js` (`data-auth`, `data-meter-*`,
`data-account-*`, `data-form-error`, `<!--premium:id-->`), so the gate and the script fill the
same places of the same markup, and the words come from generator/wording.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from generator import wording
from generator.config import Meter
from generator.urls import (
    file_for,
    gate_endpoint,
    gate_page_path,
    gate_unlock_path,
    login_path,
    register_path,
)

PREMIUM_RE = re.compile(r"(<!--premium:([^>\s]{1,200})-->)(.*?)(<!--/premium:\2-->)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who the page is for: the account's email (None: a guest), plan, views left and the words."""

    email: str | None
    plan: str
    left: int | None
    words: dict[str, Any]


def built_page(site_dir: Path, url_path: str) -> str | None:
    """The built site's HTML for a URL path (None when it is not built)."""
    path = (site_dir / file_for(url_path)).resolve()
    if not path.is_relative_to(site_dir) or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def splice(page: str, fill: Callable[[str], str]) -> str:
    """Replaces what lies between each `<!--premium:{id}-->` marker pair (markers kept) by fill(id)."""
    return PREMIUM_RE.sub(lambda m: m.group(1) + fill(m.group(2)) + m.group(4), page)


def unlock_form(codeset: str, code: str, words: dict[str, Any], views_left: int | None) -> str:
    label = "Unlock" if views_left is None else str(words["unlock"]).replace("{n}", str(views_left))
    return (
        f'<form class="unlock" method="post" action="{escape(gate_unlock_path(codeset, code))}">'
        f'<button class="btn" type="submit">{escape(label)}</button></form>'
    )


def wall(meter: Meter, plan: str, codeset: str, code: str, *, capped: bool = False) -> str:
    """The wall of a spent allowance (or of the per-IP guest cap)."""
    here = gate_page_path(codeset, code)
    words = wording.exhausted(meter, plan, capped=capped)
    if plan == "guest":
        actions = (f'<a class="btn" href="{escape(register_path(here))}">Create free account</a> '
                   f'<a class="wall-login" href="{escape(login_path(here))}">Log in</a>')
    elif plan == "unverified":
        security = gate_endpoint("account/security")
        actions = f'<a class="btn" href="{security}">Send a new confirmation link</a>'
    else:
        actions = f'<a class="btn" href="{gate_endpoint("account")}">See plans and upgrade</a>'
    return (f'<div class="wall"><p class="wall-title">{escape(words.title)}</p>'
            f'<p class="wall-text">{escape(words.text)}</p><p class="wall-actions">{actions}</p></div>')


def missing_section() -> str:
    return '<p class="premium-missing">This section has no content.</p>'


def _show(html: str, marker: str, shown: bool) -> str:
    """Sets or removes `hidden` on every element carrying the attribute `marker`."""
    def fix(m: re.Match[str]) -> str:
        tag = re.sub(r"\s+hidden(?=[\s>])", "", m.group(0))
        return tag if shown else tag[:-1] + " hidden>"
    return re.sub(rf"<[a-z]+\b[^>]*\s{re.escape(marker)}(?=[\s>=])[^>]*>", fix, html)


def _fill(html: str, marker: str, text: str) -> str:
    """Puts `text` (escaped) inside every element carrying the attribute `marker`."""
    return re.sub(rf"(<([a-z]+)\b[^>]*\s{re.escape(marker)}(?=[\s>=])[^>]*>)[^<]*(</\2>)",
                  lambda m: m.group(1) + escape(text) + m.group(3), html)


def personalise(html: str, viewer: Viewer) -> str:
    """The header and meter of a built page for `viewer`, as coderef.js would show them."""
    w = viewer.words
    signed_in = viewer.email is not None
    html = _show(_show(html, 'data-auth="guest"', not signed_in), 'data-auth="user"', signed_in)
    html = _fill(html, "data-session-email", viewer.email or "")
    left = viewer.left
    count = w["unlimited"] if left is None else w["count_one"] if left == 1 else str(w["count"]).replace(
        "{n}", str(left))
    html = _fill(html, "data-meter-count", str(count))
    rule = " ".join(t for t in (w["rule"], "" if left is None else w["renews"]) if t)
    html = _fill(html, "data-meter-rule", rule)
    if signed_in:
        html = re.sub(r'(<a class="meter-cta" )href="[^"]*"([^>]*>)[^<]*(</a>)',
                      rf'\1href="{gate_endpoint("account")}"\2Your account\3', html)
    return html


def form_page(html: str, message: str, field: str | None, email: str, next_path: str) -> str:
    """A built register or login page re-shown after a refused form post: the message above the
    form and at its field, the email kept, the page to return to kept."""
    if "data-form-error" in html:
        html = _show(_fill(html, "data-form-error", message), "data-form-error", True)
    else:  # a theme without the marker: the message still shows, above the form
        html = html.replace("<form", f'<p class="form-error" role="alert">{escape(message)}</p><form', 1)
    if field is not None:
        html = re.sub(rf'(<p class="field-error" id="[a-z]+-{field}-error") hidden>',
                      lambda m: m.group(1) + ">" + escape(message), html)
        html = re.sub(rf'(<input id="[a-z]+-{field}" )', r'\1aria-invalid="true" ', html)
    html = re.sub(r'(<input id="[a-z]+-email" name="email" )',
                  lambda m: m.group(1) + f'value="{escape(email)}" ', html)
    return re.sub(r'<input type="hidden" name="next" value="[^"]*">',
                  lambda m: f'<input type="hidden" name="next" value="{escape(next_path)}">', html)


def account_page(html: str, viewer: Viewer, *, plan_name: str, used: str,
                 unlocked: list[tuple[str, str, str]], error: str | None, consult: str = "",
                 asks_left: str = "") -> str:
    """The built /account/ page filled for a signed-in viewer: facts, and the unlocked codes with
    their titles (links to the gate's no-JavaScript page of each)."""
    html = personalise(html, viewer)
    html = _show(html, "data-account-loading", False)
    html = _show(html, "data-account-user", True)
    html = _fill(html, "data-account-plan", plan_name)
    html = _fill(html, "data-account-used", used)
    html = _fill(html, "data-account-consult", consult)
    html = _fill(html, "data-ask-left", asks_left)
    html = _fill(html, "data-account-left", "Unlimited" if viewer.left is None else str(viewer.left))
    html = _show(html, "data-account-upgrade", viewer.plan == "free")
    html = _show(html, "data-account-none", not unlocked)
    if error:
        html = re.sub(r'(<h1 id="account-title">[^<]*</h1>)',
                      lambda m: m.group(1) + f'<p class="form-error" role="alert">{escape(error)}</p>', html)
    items = "".join(
        f'<li><a href="{escape(gate_page_path(cs, code))}"><span class="cl-code">{escape(code)}</span> '
        f'<span class="cl-title">{escape(title)}</span></a></li>'
        for cs, code, title in unlocked
    )
    return re.sub(r'(<ul class="code-list" data-account-unlocked>)(</ul>)',
                  lambda m: m.group(1) + items + m.group(2), html)
