"""Releases and code history: what is new, revised or deleted in each release a code set is held in.

`releases.py` names the releases and their effective dates, `previous.py` reads the earlier
releases we hold (`hcpcs.py` for HCPCS; `held.py` is their record type), `compare.py` compares them
with the current one, `sections.py` turns that into each code page's history block and badge, and
`pages.py` into the change pages and the pages of deleted codes. Beside the code sets: `rvu.py` and
`pfs_changes.py` (the PFS releases stacked in the PPRRVU file), `ncci_compare.py` and `ncci_mue.py`
(the NCCI and MUE quarters held, `generator/premium/releases.py`); `catalog.py` and `command.py` are
`coderef releases`, `assistant_rows.py` CasePilot's facts. The load stage calls `attach_history`;
the write stage calls `pages.history_pages`.
"""
from __future__ import annotations

from pathlib import Path

from ..config import SiteConfig
from ..official import source
from .attach import attach_history
from .previous import PREVIOUS_KINDS, previous_caches, previous_releases
from .rvu import rvu_cache, rvu_history

__all__ = ["attach_history", "fill_caches", "history_caches", "history_inputs"]


def history_inputs(cfg: SiteConfig) -> list[Path]:
    """The files history reads beside the code sets' own (the build fingerprints them): the earlier
    releases and the PPRRVU file whose releases the RVU history compares."""
    kinds = [k for ks in PREVIOUS_KINDS.values() for k in ks] + ["pprrvu"]
    found = (source(cfg, kind) for kind in kinds)
    return [src.path for src in found if src is not None]


def history_caches(cfg: SiteConfig) -> list[Path]:
    """The cache files of what history reads beside the code sets (the earlier releases held, the RVU
    history): made from files alone, a cold build fills them while it loads (`fill_caches`)."""
    rvu = rvu_cache(cfg)
    return previous_caches(cfg) + ([rvu] if rvu is not None else [])


def fill_caches(cfg: SiteConfig) -> None:
    """Reads (and caches) every file of `history_caches`."""
    for codeset in cfg.codesets:
        previous_releases(cfg, codeset)
    rvu_history(cfg)
