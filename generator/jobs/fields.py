"""One reader per front-matter key of a job listing: each checks its value and records problems
at the line of the offending key or list item (see reader.py for the whole listing)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from .. import frontmatter
from ..errors import Problems
from . import vocab
from .model import Employer, Location, Salary

T = TypeVar("T")

EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
URL = re.compile(r"^https://[^\s/?#@]+\.[^\s/?#@]+(?:[/?#]\S*)?$", re.IGNORECASE)
TITLE_MAX = 120
TEXT_MAX = 200


class FieldReader:
    """Reads one listing's front matter; `bad()` records a problem at a node's line."""

    def __init__(self, doc: frontmatter.Document, rel: str, problems: Problems) -> None:
        self.doc = doc
        self.rel = rel
        self.problems = problems
        self.failed = False

    def bad(self, node: yaml.Node | int, message: str) -> None:
        line = node if isinstance(node, int) else self.doc.line(node)
        self.problems.error(self.rel, line, message)
        self.failed = True

    def mapping(
        self, node: yaml.Node, what: str, example: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, f"'{what}' must be a mapping, e.g. {example}")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            if str(k.value) in out:
                self.bad(k, f"'{what}.{k.value}' is given twice; keep one")
            out[str(k.value)] = (k, v)
        return out

    def text(self, node: yaml.Node, what: str, limit: int = TEXT_MAX) -> str | None:
        value = frontmatter.value(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.bad(node, f"'{what}' must be a non-empty text")
            return None
        value = " ".join(value.split())
        if len(value) > limit:
            self.bad(node, f"'{what}' is {len(value)} characters long; shorten it to at most {limit}")
            return None
        return value

    def url(self, node: yaml.Node, what: str) -> str | None:
        value = self.text(node, what, 2000)
        if value is None:
            return None
        if not URL.match(value):
            self.bad(node, f"'{what}' must be a full web address starting with https:// (got '{value[:80]}')")
            return None
        return value

    def date(self, node: yaml.Node, what: str) -> dt.date | None:
        value = frontmatter.value(node)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # not a date: reported below
                value = dt.date.fromisoformat(value.strip())
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self.bad(node, f"'{what}' must be a date written as YYYY-MM-DD, e.g. 2026-11-20")
            return None
        return value

    def words(self, node: yaml.Node, what: str, known: Callable[[str], T | None], hint: str) -> list[T]:
        """A word or list of words, each checked by `known` (which gives its canonical form)."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.bad(node, f"'{what}' is empty; {hint}")
        out: list[T] = []
        for item in items:
            raw = frontmatter.value(item)
            good = known(str(raw)) if isinstance(raw, str) and raw.strip() else None
            if good is None:
                self.bad(item, f"'{what}': unknown value '{raw}'; {hint}")
            elif good not in out:
                out.append(good)
        return out


def _choice(options: dict[str, Any]) -> Callable[[str], str | None]:
    return lambda raw: raw.strip().lower() if raw.strip().lower() in options else None


def _remote_region(raw: str) -> str | None:
    code = raw.strip().upper()
    if len(code) == 2:
        return code if vocab.country_name(code) else None
    country, _, region = code.partition("-")
    return code if vocab.region_name(country, region) else None


def _title(r: FieldReader, node: yaml.Node, key: yaml.Node) -> str | None:
    return r.text(node, "title", TITLE_MAX)


def _employer(r: FieldReader, node: yaml.Node, key: yaml.Node) -> Employer | None:
    fields = r.mapping(node, "employer", "{name: Example Health, site: https://example.org}")
    if fields is None:
        return None
    if "name" not in fields:
        r.bad(key, "'employer' needs a 'name'")
        return None
    for k, (kn, _) in fields.items():
        if k not in ("name", "site", "logo"):
            r.bad(kn, f"unknown 'employer.{k}'; use name, site and logo")
    name = r.text(fields["name"][1], "employer.name")
    site = r.url(fields["site"][1], "employer.site") if "site" in fields else None
    logo = r.url(fields["logo"][1], "employer.logo") if "logo" in fields else None
    return None if name is None else Employer(name, site, logo)


def _flag(what: str) -> Callable[[FieldReader, yaml.Node, yaml.Node], bool | None]:
    def read(r: FieldReader, node: yaml.Node, key: yaml.Node) -> bool | None:
        value = frontmatter.value(node)
        if not isinstance(value, bool):
            r.bad(node, f"'{what}' must be true or false")
            return None
        return value

    return read


def _work(r: FieldReader, node: yaml.Node, key: yaml.Node) -> str | None:
    got = r.words(node, "work", _choice(vocab.WORK), f"use one of {', '.join(vocab.WORK)}")
    if len(got) > 1 or isinstance(node, yaml.SequenceNode):
        r.bad(node, f"'work' is one of {', '.join(vocab.WORK)}, not a list")
        return None
    return got[0] if got else None


def _locations(r: FieldReader, node: yaml.Node, key: yaml.Node) -> list[Location]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        r.bad(node, "'locations' must be a list such as [{city: Columbus, state: OH}]")
        return []
    out = []
    for item in node.value:
        fields = r.mapping(item, "locations[]", "{city: Columbus, state: OH, postal_code: '43215'}")
        if fields is None:
            continue
        for k, (kn, _) in fields.items():
            if k not in ("city", "state", "country", "postal_code", "street"):
                r.bad(kn, f"unknown location field '{k}'; use city, state, country, postal_code and street")
        if "city" not in fields:
            r.bad(item, "each location needs a 'city'")
            continue
        city = r.text(fields["city"][1], "city")
        country = r.text(fields["country"][1], "country") if "country" in fields else "US"
        if country is not None and vocab.country_name(country) is None:
            r.bad(
                fields["country"][1],
                f"unknown country '{country}'; use its two-letter ISO code, e.g. US or CA",
            )
            continue
        state = None
        if "state" in fields:
            state = r.text(fields["state"][1], "state")
            if state is not None and country is not None and vocab.region_name(country, state) is None:
                r.bad(
                    fields["state"][1],
                    f"'{state}' is not a state of {country}; use its postal abbreviation, e.g. OH",
                )
                continue
        elif country == "US":
            r.bad(item, "a US location needs a 'state' (postal abbreviation, e.g. OH)")
            continue
        postal = r.text(fields["postal_code"][1], "postal_code", 12) if "postal_code" in fields else None
        street = r.text(fields["street"][1], "street") if "street" in fields else None
        if city is not None and country is not None:
            out.append(Location(city, country.upper(), state.upper() if state else None, postal, street))
    return out


def _remote_in(r: FieldReader, node: yaml.Node, key: yaml.Node) -> list[str]:
    return r.words(
        node,
        "remote_in",
        _remote_region,
        "use a two-letter country code (US) or a country-state code (US-OH)",
    )


def _employment(r: FieldReader, node: yaml.Node, key: yaml.Node) -> list[str]:
    return r.words(node, "employment", _choice(vocab.EMPLOYMENT), f"use {', '.join(vocab.EMPLOYMENT)}")


def _setting(r: FieldReader, node: yaml.Node, key: yaml.Node) -> list[str]:
    return r.words(node, "setting", _choice(vocab.SETTINGS), f"use {', '.join(vocab.SETTINGS)}")


def _credentials(r: FieldReader, node: yaml.Node, key: yaml.Node) -> tuple[list[str], list[str]]:
    fields = r.mapping(node, "credentials", "{required: [CPC], preferred: [CRC]}")
    if fields is None:
        return [], []
    hint = (
        "use a credential such as CPC, CCS, CCS-P, COC, CIC, CRC, CPMA, RHIT or RHIA "
        "(see README, 'Job listings')"
    )
    lists: dict[str, list[str]] = {"required": [], "preferred": []}
    for k, (kn, vn) in fields.items():
        if k not in lists:
            r.bad(kn, f"unknown 'credentials.{k}'; use required and preferred")
            continue
        lists[k] = r.words(vn, f"credentials.{k}", vocab.credential, hint)
    return lists["required"], [c for c in lists["preferred"] if c not in lists["required"]]


def _specialty(r: FieldReader, node: yaml.Node, key: yaml.Node) -> list[str]:
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    return [t for t in (r.text(i, "specialty", 60) for i in items) if t is not None]


def _experience(r: FieldReader, node: yaml.Node, key: yaml.Node) -> int | None:
    value = frontmatter.value(node)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 40:
        r.bad(node, "'experience' is the minimum years of experience: a whole number from 0 to 40")
        return None
    return value


def _salary(r: FieldReader, node: yaml.Node, key: yaml.Node) -> Salary | None:
    fields = r.mapping(node, "salary", "{min: 52000, max: 64000, currency: USD, unit: year}")
    if fields is None:
        return None
    for k, (kn, _) in fields.items():
        if k not in ("min", "max", "currency", "unit"):
            r.bad(kn, f"unknown 'salary.{k}'; use min, max, currency and unit")
    amounts: dict[str, float] = {}
    for k in ("min", "max"):
        if k not in fields:
            r.bad(key, f"'salary' needs '{k}' (write the same number twice for a fixed pay)")
            continue
        v = frontmatter.value(fields[k][1])
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < 10_000_000:
            r.bad(
                fields[k][1], f"'salary.{k}' must be a positive number such as 52000 or 24.50, without commas"
            )
            continue
        amounts[k] = float(v)
    currency = "USD"
    if "currency" in fields:
        c = r.text(fields["currency"][1], "salary.currency", 3)
        if c is not None and not vocab.currency_ok(c):
            r.bad(fields["currency"][1], f"unknown currency '{c}'; use its ISO 4217 code, e.g. USD")
        currency = (c or "USD").upper()
    unit = None
    if "unit" not in fields:
        r.bad(key, f"'salary' needs a 'unit': {', '.join(vocab.PAY_UNITS)}")
    else:
        got = r.words(
            fields["unit"][1], "salary.unit", _choice(vocab.PAY_UNITS), f"use {', '.join(vocab.PAY_UNITS)}"
        )
        unit = got[0] if got else None
    if len(amounts) == 2 and amounts["min"] > amounts["max"]:
        r.bad(
            fields["min"][1],
            f"'salary.min' ({amounts['min']:g}) is above 'salary.max' ({amounts['max']:g}); swap them",
        )
        return None
    if len(amounts) < 2 or unit is None:
        return None
    return Salary(amounts["min"], amounts["max"], currency, unit)


def _apply(r: FieldReader, node: yaml.Node, key: yaml.Node) -> tuple[str | None, str | None, bool] | None:
    fields = r.mapping(
        node, "apply", "{url: https://careers.example.org/apply/123} or {email: jobs@example.org}"
    )
    if fields is None:
        return None
    for k, (kn, _) in fields.items():
        if k not in ("url", "email", "direct"):
            r.bad(
                kn,
                f"unknown 'apply.{k}'; use url or email "
                "(and direct: true when the URL is the application form)",
            )
    url = r.url(fields["url"][1], "apply.url") if "url" in fields else None
    email = None
    if "email" in fields:
        email = r.text(fields["email"][1], "apply.email", 254)
        if email is not None and not EMAIL.match(email):
            r.bad(fields["email"][1], f"'apply.email' is not an email address: '{email[:80]}'")
            email = None
    if "url" not in fields and "email" not in fields:
        r.bad(key, "'apply' needs a 'url' (https://…) or an 'email' where candidates apply")
    direct = (
        _flag("apply.direct")(r, fields["direct"][1], fields["direct"][0]) if "direct" in fields else False
    )
    if direct and "url" not in fields:
        r.bad(
            fields["direct"][0],
            "'apply.direct: true' means the apply URL is the application form; give 'apply.url'",
        )
    return url, email, bool(direct)


def _date(what: str) -> Callable[[FieldReader, yaml.Node, yaml.Node], dt.date | None]:
    return lambda r, node, key: r.date(node, what)


def _post(r: FieldReader, node: yaml.Node, key: yaml.Node) -> int | None:
    value = frontmatter.value(node)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        r.bad(
            node,
            "'post' is the number of the gate post this listing came from (set by `coderef jobs approve`)",
        )
        return None
    return value


FIELDS: dict[str, Callable[[FieldReader, yaml.Node, yaml.Node], Any]] = {
    "title": _title,
    "employer": _employer,
    "sample": _flag("sample"),
    "work": _work,
    "locations": _locations,
    "remote_in": _remote_in,
    "employment": _employment,
    "credentials": _credentials,
    "specialty": _specialty,
    "setting": _setting,
    "experience": _experience,
    "salary": _salary,
    "posted": _date("posted"),
    "valid_through": _date("valid_through"),
    "closed": _date("closed"),
    "apply": _apply,
    "post": _post,
}
