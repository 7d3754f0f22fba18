"""A code page's history block: the release it shows, the releases it is in, and what each changed."""
from __future__ import annotations

from ..fragments import escape
from ..model import Section
from .compare import Changes
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


def pair_events(pair: Changes) -> dict[str, list[Event]]:
    """What `pair.new` did to each code it changed (deleted codes have pages of their own)."""
    name, before = pair.new.name, escape(pair.old.name)
    out: dict[str, list[Event]] = {}
    for key in pair.added:
        out.setdefault(key, []).append((name, f"New code (not in {before}).", ""))
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
    return out


def history_section(
    current: Release, held_in: list[str], events: list[Event], cache: dict[str, Section]
) -> Section:
    """The history block; equal blocks are one shared object (most codes have the same one)."""
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
    html = "".join(parts)
    hit = cache.get(html)
    if hit is None:
        text = "\n".join(t for _, _, t in events if t)
        hit = cache[html] = Section(HISTORY, HISTORY, TITLE, html, text)
    return hit
