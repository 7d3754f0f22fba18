"""A code page's history block: the release it shows, the releases it is in, and what each changed."""
from __future__ import annotations

from ..fragments import escape
from ..model import Section
from .compare import Changes
from .held import Held
from .releases import Release

HISTORY = "history"  # section id and kind (public unless `protected: {history: true}`)
TITLE = "Release history"


Event = tuple[str, str, str]  # (release name, html, plain text for search; "" for none)


def release_line(current: Release) -> str:
    """Which release a page shows and when it is in force."""
    line = (
        f'<p class="history-release">This page shows <strong>{escape(current.label)}</strong>, '
        f"in force {escape(current.dates())}"
    )
    if current.held_from is not None:
        line += f" (this update from {current.held_from.isoformat()})"
    return line + ".</p>"


def pair_events(pair: Changes, new_codes: dict[str, Held]) -> dict[str, list[Event]]:
    """What `pair.new` did to each code it changed (deleted codes have pages of their own). A pair that
    spans releases not held (HCPCS 2020-01 -> 2024-07) names the span, not the release."""
    name = f"{pair.old.name} \u2192 {pair.new.name}" if pair.spans else pair.new.name
    before = escape(pair.old.name)
    out: dict[str, list[Event]] = {}
    for key in pair.added:
        held = new_codes[key]
        since = f" CMS's file gives its added date as {escape(held.added)}." if held.added else ""
        ended = f" Terminated {escape(held.ended)}." if held.ended else ""
        out.setdefault(key, []).append((name, f"New code (not in {before}).{since}{ended}", ""))
    for rev in pair.revised:
        out.setdefault(rev.key, []).append((
            name,
            f'Title revised. Was: <q class="title-old">{escape(rev.old)}</q> '
            f'Now: <q class="title-new">{escape(rev.new)}</q>',
            f"Title in {pair.old.name}: {rev.old}",
        ))
    for st in pair.status:
        was = "billable" if st.was_billable else "header (not billable)"
        now = "billable" if st.billable else "header (not billable)"
        out.setdefault(st.key, []).append((name, f"Status changed: {was} &#8594; {now}.", ""))
    for t in pair.terminated:
        out.setdefault(t.key, []).append((
            name, f"Terminated {escape(t.ended)} (active in {before}); CMS keeps it in the file for "
            "claims with earlier dates of service.", f"Terminated {t.ended}",
        ))
    return out


def history_section(
    current: Release, held_in: list[str], events: list[Event], cache: dict[str, Section],
    latest: Changes | None = None, changes_url: str = "",
) -> Section:
    """The history block; equal blocks are one shared object (most codes have the same one).

    `latest` (what the current release changed) and `changes_url` (its change page) add a link to
    that page, and, when the comparison spans releases not held, say so."""
    parts = [release_line(current)]
    if events:
        parts.append('<ul class="history-events">')
        for name, html, _ in events:
            parts.append(f"<li><strong>{escape(name)}</strong>: {html}</li>")
        parts.append("</ul>")
    shown = ", ".join(escape(n) for n in held_in)
    if events:
        parts.append(f'<p class="history-held">In the releases held here: {shown}.</p>')
    elif len(held_in) > 1:
        parts.append(f'<p class="history-held">In every release held here ({shown}), unchanged.</p>')
    if events and latest is not None and latest.spans:
        parts.append(
            f'<p class="history-span">The releases held are {escape(latest.old.name)} and '
            f"{escape(latest.new.name)}: the change came in one of the updates between them, which are not "
            "held separately.</p>"
        )
    if latest is not None and changes_url:
        parts.append(f'<p class="history-changes"><a href="{escape(changes_url)}">Every code that changed '
                     f"{escape(latest.when)}</a></p>")
    html = "".join(parts)
    hit = cache.get(html)
    if hit is None:
        text = "\n".join(t for _, _, t in events if t)
        hit = cache[html] = Section(HISTORY, HISTORY, TITLE, html, text)
    return hit
