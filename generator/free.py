"""Which pages open without spending a view (the rule the gate applies, README "The gate").

Views pay for billable codes: a coder on the way to S72.001A passes chapter 19, section S70-S79
and the non-billable headers S72, S72.0 and S72.00, and none of them should eat the one guest
view. So browse pages (chapters, sections, PCS tables) and codes that are officially not
billable (ICD-10-CM headers) unlock for everyone at no cost; codes whose billability is unknown
(CPT, HCPCS) or true are metered.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from .model import CodeRecord


def is_free(rec: CodeRecord) -> bool:
    return not rec.is_code or rec.billable is False


def free_pages(records: Iterable[tuple[str, CodeRecord]]) -> Iterator[tuple[str, str]]:
    """(codeset, key) of every free page among (codeset, record) pairs."""
    return ((cs, rec.key) for cs, rec in records if is_free(rec))
