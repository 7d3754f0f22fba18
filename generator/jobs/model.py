"""One job listing as the rest of the build sees it, whatever file or post it came from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .. import urls
from . import vocab


@dataclass(frozen=True, slots=True)
class Employer:
    name: str
    site: str | None = None  # https URL of the employer
    logo: str | None = None  # https URL of a logo image


@dataclass(frozen=True, slots=True)
class Location:
    city: str
    country: str  # ISO 3166-1 alpha-2
    state: str | None = None  # subdivision code within the country ("OH")
    postal_code: str | None = None
    street: str | None = None

    @property
    def label(self) -> str:
        where = f"{self.city}, {self.state}" if self.state else self.city
        return (
            where if self.country == "US" else f"{where}, {vocab.country_name(self.country) or self.country}"
        )


@dataclass(frozen=True, slots=True)
class Salary:
    min: float
    max: float
    currency: str  # ISO 4217
    unit: str  # a key of vocab.PAY_UNITS

    def yearly_max(self) -> float:
        """The top of the range over a year of full-time work: what the "minimum salary" filter compares."""
        return self.max * vocab.PAY_UNITS[self.unit][2]


@dataclass(slots=True)
class Job:
    """A listing. `remote_in` holds "US" (a country) or "US-OH" (a state) codes."""

    slug: str
    path: str  # the content file, relative to the project root
    title: str
    employer: Employer
    work: str  # a key of vocab.WORK
    employment: list[str]
    settings: list[str]
    salary: Salary
    posted: dt.date
    valid_through: dt.date
    description_html: str
    description_text: str
    locations: list[Location] = field(default_factory=list)
    remote_in: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)  # any one of them is required
    preferred: list[str] = field(default_factory=list)
    specialty: list[str] = field(default_factory=list)
    experience: int | None = None  # years
    apply_url: str | None = None
    apply_email: str | None = None
    direct_apply: bool = False
    closed: dt.date | None = None
    sample: bool = False
    post_id: int | None = None

    def is_open(self, today: dt.date) -> bool:
        """Listed from the day it was posted through its closing day, unless closed early."""
        if self.closed is not None and self.closed <= today:
            return False
        return self.posted <= today <= self.valid_through

    def is_published(self, today: dt.date) -> bool:
        """Has a page: posted already (a closed job keeps its page, marked closed)."""
        return self.posted <= today

    @property
    def url(self) -> str:
        return urls.job_path(self.slug)

    @property
    def credentials(self) -> list[str]:
        return self.required + [c for c in self.preferred if c not in self.required]

    def regions(self) -> list[str]:
        """US-style state codes ("OH") where the job is or that a remote job accepts, for the state filter."""
        out = [loc.state for loc in self.locations if loc.state and loc.country == "US"]
        out += [r[3:] for r in self.remote_in if r.startswith("US-")]
        return sorted(set(out))

    def anywhere_in_us(self) -> bool:
        return self.work == "remote" and "US" in self.remote_in
