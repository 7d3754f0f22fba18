"""What an answer claims: the code-like tokens and figures in a text, to check them against their sources."""

from __future__ import annotations

import re

_CODE = re.compile(
    r"(?<![0-9A-Za-z])(?:[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4}|[0-9]{4}[0-9FTU]|[A-V][0-9]{4}|[A-Z][0-9][0-9A-Z]{1,5}"
    r"|[0-9BCDFGHX][0-9A-HJ-NP-Z]{6}|[LA][0-9]{5})(?![0-9A-Za-z])"
)
_NUMBER = re.compile(r"(?<![0-9A-Za-z./-])\$?[0-9][0-9,]*(?:\.[0-9]+)?(?![0-9A-Za-z])")


def codes(text: str) -> set[str]:
    """Code-shaped tokens (ICD-10-CM/PCS, CPT, HCPCS, LCD IDs) that contain a digit."""
    return {m for m in _CODE.findall(text) if any(c.isdigit() for c in m)}


def figures(text: str) -> set[str]:
    """Numbers as written, without '$' and thousands commas ('$1,234.50' -> '1234.50')."""
    out = set()
    for m in _NUMBER.findall(text):
        v = m.lstrip("$").replace(",", "").rstrip(".")
        if v:
            out.add(v)
    return out


def unsupported(text: str, evidence: str) -> set[str]:
    """Codes and figures of `text` that `evidence` does not contain."""
    ev_codes = codes(evidence) | {c.replace(".", "") for c in codes(evidence)}
    ev_figures = figures(evidence)
    flat = evidence.replace(",", "")
    missing = {
        c
        for c in codes(text)
        if c not in ev_codes and c.replace(".", "") not in ev_codes and c not in evidence
    }
    missing |= {f for f in figures(text) if f not in ev_figures and f not in flat}
    return missing
