"""The job board's vocabularies: credentials, work settings, arrangements, employment types, pay units.

Each is a slug (what front matter, URLs and filters use) mapped to the words a person reads; the
schema.org values that Google's job search expects sit beside them.
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

from ..errors import BuildError

# Coding, auditing and documentation credentials (issuer in brackets). Front matter may spell them in
# any case; pages show them as written here.
CREDENTIALS: dict[str, str] = {
    # AAPC
    "CPC": "Certified Professional Coder (AAPC)",
    "CPC-A": "Certified Professional Coder – Apprentice (AAPC)",
    "COC": "Certified Outpatient Coder (AAPC)",
    "CIC": "Certified Inpatient Coder (AAPC)",
    "CRC": "Certified Risk Adjustment Coder (AAPC)",
    "CPB": "Certified Professional Biller (AAPC)",
    "CPMA": "Certified Professional Medical Auditor (AAPC)",
    "CPCO": "Certified Professional Compliance Officer (AAPC)",
    "CPPM": "Certified Physician Practice Manager (AAPC)",
    "CDEO": "Certified Documentation Expert Outpatient (AAPC)",
    "CANPC": "Certified Anesthesia and Pain Management Coder (AAPC)",
    "CASCC": "Certified Ambulatory Surgery Center Coder (AAPC)",
    "CCC": "Certified Cardiology Coder (AAPC)",
    "CCVTC": "Certified Cardiovascular and Thoracic Surgery Coder (AAPC)",
    "CEDC": "Certified Emergency Department Coder (AAPC)",
    "CEMC": "Certified Evaluation and Management Coder (AAPC)",
    "CFPC": "Certified Family Practice Coder (AAPC)",
    "CGIC": "Certified Gastroenterology Coder (AAPC)",
    "CGSC": "Certified General Surgery Coder (AAPC)",
    "CHONC": "Certified Hematology and Oncology Coder (AAPC)",
    "CIMC": "Certified Internal Medicine Coder (AAPC)",
    "COBGC": "Certified Obstetrics Gynecology Coder (AAPC)",
    "COSC": "Certified Orthopaedic Surgery Coder (AAPC)",
    "CPEDC": "Certified Pediatrics Coder (AAPC)",
    "CRHC": "Certified Rural Health Coder (AAPC)",
    "CUC": "Certified Urology Coder (AAPC)",
    # AHIMA
    "CCA": "Certified Coding Associate (AHIMA)",
    "CCS": "Certified Coding Specialist (AHIMA)",
    "CCS-P": "Certified Coding Specialist – Physician-based (AHIMA)",
    "RHIT": "Registered Health Information Technician (AHIMA)",
    "RHIA": "Registered Health Information Administrator (AHIMA)",
    "CDIP": "Certified Documentation Integrity Practitioner (AHIMA)",
    "CHDA": "Certified Health Data Analyst (AHIMA)",
    "CHPS": "Certified in Healthcare Privacy and Security (AHIMA)",
    # ACDIS, NHA, AMBA and licences
    "CCDS": "Certified Clinical Documentation Specialist (ACDIS)",
    "CCDS-O": "Certified Clinical Documentation Specialist – Outpatient (ACDIS)",
    "CBCS": "Certified Billing and Coding Specialist (NHA)",
    "CMRS": "Certified Medical Reimbursement Specialist (AMBA)",
    "RN": "Registered Nurse (state licence)",
}
_CREDENTIAL_BY_UPPER = {c.upper(): c for c in CREDENTIALS}

SETTINGS: dict[str, str] = {
    "physician-practice": "Physician practice",
    "hospital-inpatient": "Hospital inpatient",
    "hospital-outpatient": "Hospital outpatient",
    "ambulatory-surgery-center": "Ambulatory surgery center",
    "emergency-department": "Emergency department",
    "payer": "Health plan / payer",
    "coding-company": "Coding or revenue-cycle company",
    "home-health": "Home health and hospice",
    "long-term-care": "Skilled nursing and long-term care",
    "government": "Government and public health",
}

WORK: dict[str, str] = {"onsite": "On-site", "hybrid": "Hybrid", "remote": "Remote"}

# slug -> (words, schema.org employmentType as Google documents it)
EMPLOYMENT: dict[str, tuple[str, str]] = {
    "full-time": ("Full-time", "FULL_TIME"),
    "part-time": ("Part-time", "PART_TIME"),
    "contract": ("Contract", "CONTRACTOR"),
    "temporary": ("Temporary", "TEMPORARY"),
    "per-diem": ("Per diem", "PER_DIEM"),
    "internship": ("Internship", "INTERN"),
}

# slug -> (words after "per", schema.org unitText, multiplier to a year of full-time work)
PAY_UNITS: dict[str, tuple[str, str, int]] = {
    "hour": ("hour", "HOUR", 2080),
    "day": ("day", "DAY", 260),
    "week": ("week", "WEEK", 52),
    "month": ("month", "MONTH", 12),
    "year": ("year", "YEAR", 1),
}


def credential(raw: str) -> str | None:
    """The credential's canonical spelling ("ccs-p" -> "CCS-P"), or None when unknown."""
    return _CREDENTIAL_BY_UPPER.get(raw.strip().upper())


@lru_cache(maxsize=4)
def _iso(name: str, key: str) -> list[dict[str, str]]:
    """One of the ISO databases pycountry ships (its JSON file, read directly).

    Importing pycountry and building its objects costs a third of a second, most of a jobs-only
    publish; the JSON file alone reads in a fortieth."""
    spec = importlib.util.find_spec("pycountry")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("the pycountry package is missing: run `make setup`")
    path = Path(next(iter(spec.submodule_search_locations))) / "databases" / f"{name}.json"
    entries: list[dict[str, str]] = json.loads(path.read_bytes())[key]
    return entries


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> the country's common name."""
    return {c["alpha_2"]: c.get("common_name") or c["name"] for c in _iso("iso3166-1", "3166-1")}


@lru_cache(maxsize=1)
def subdivisions() -> dict[str, str]:
    """ISO 3166-2 code ("US-OH") -> name ("Ohio"), for every country."""
    return {s["code"]: s["name"] for s in _iso("iso3166-2", "3166-2")}


def country_name(code: str) -> str | None:
    """The common name of an ISO 3166-1 alpha-2 country code, or None when there is no such country."""
    return countries().get(code.upper())


def region_name(country: str, region: str) -> str | None:
    """The name of a state or other first-level subdivision ("US", "OH" -> "Ohio"), or None."""
    return subdivisions().get(f"{country.upper()}-{region.upper()}")


def currency_ok(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency ("USD")."""
    return code.upper() in {c["alpha_3"] for c in _iso("iso4217", "4217")}
