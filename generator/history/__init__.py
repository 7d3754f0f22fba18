"""Releases and code history: what is new, revised or deleted in each release a code set is held in.

`releases.py` names the releases and their effective dates, `previous.py` reads the earlier
releases we hold, `compare.py` compares them with the current one, `sections.py` turns that into
each code page's history block and badge, and `pages.py` into the change pages and the pages of
deleted codes. The load stage calls `attach_history`; the write stage calls `pages.history_pages`.
"""
from __future__ import annotations

from .attach import attach_history

__all__ = ["attach_history"]
