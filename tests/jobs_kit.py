"""Shared pieces of the job board's tests: a listing file, the site's files and their hashes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

LISTING = """\
---
title: {title}
employer: {{name: Real Clinic, site: "https://clinic.example.net/"}}
work: onsite
locations:
  - {{city: Tulsa, state: OK, postal_code: "74103"}}
employment: full-time
credentials: {{required: [CPC]}}
setting: physician-practice
salary: {{min: 50000, max: 60000, currency: USD, unit: year}}
posted: {posted}
valid_through: {through}
apply: {{email: jobs@clinic.example.net}}
---
A real coding job at a clinic: code office visits and procedures, work denials with the billing team,
and keep up with the payer policies of the clinic's largest plans.
"""


def add_listing(
    root: Path,
    slug: str,
    *,
    title: str = "Physician Practice Coder",
    posted: str = "2026-11-25",
    through: str = "2027-01-15",
) -> Path:
    path = root / "content" / "jobs" / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LISTING.format(title=title, posted=posted, through=through), encoding="utf-8")
    return path


def site_hashes(root: Path) -> dict[str, str]:
    """Every file of the live site, path -> sha256."""
    site = (root / "site").resolve()
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in site.rglob("*")
        if p.is_file()
    }


def inodes(root: Path) -> dict[str, int]:
    site = (root / "site").resolve()
    return {str(p.relative_to(site)): p.stat().st_ino for p in site.rglob("*") if p.is_file()}


_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def job_posting(html: str) -> dict[str, Any] | None:
    """The JobPosting JSON-LD of a page, or None."""
    for block in _LD.findall(html):
        data = json.loads(block)
        if isinstance(data, dict) and data.get("@type") == "JobPosting":
            return data
    return None


def robots_noindex(html: str) -> bool:
    return '<meta name="robots" content="noindex">' in html
