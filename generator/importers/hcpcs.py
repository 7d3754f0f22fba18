"""HCPCS Level II: the CMS alpha-numeric file (fixed-width or its spreadsheet/TSV export) to pages."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError
from ..model import CODE, HCPCS, CodeRecord
from ..premium import hcpcs_codes as ind
from ..premium.db import release_from_name
from ..premium.tabular import Column, Table, open_text, parse_date, show_date

# The official 320-byte record: (field, first column, last column), 1-based as in CMS's layout.
LAYOUT = (
    ("code", 1, 5), ("seq", 6, 10), ("recid", 11, 11), ("long", 12, 91), ("short", 92, 119),
    ("price1", 120, 121), ("price2", 122, 123), ("price3", 124, 125), ("price4", 126, 127),
    ("mult", 128, 128), ("cim1", 129, 134), ("cim2", 135, 140), ("cim3", 141, 146),
    ("mcm1", 147, 154), ("mcm2", 155, 162), ("mcm3", 163, 170), ("statute", 171, 180),
    ("lab1", 181, 183), ("xref1", 205, 209), ("xref2", 210, 214), ("xref3", 215, 219),
    ("xref4", 220, 224), ("xref5", 225, 229), ("cov", 230, 230), ("asc_grp", 231, 232),
    ("asc_dt", 233, 240), ("opps", 241, 243), ("opps_pi", 244, 244), ("opps_dt", 245, 252),
    ("procnote", 253, 256), ("betos", 257, 259), ("tos1", 261, 261), ("tos2", 262, 262),
    ("tos3", 263, 263), ("tos4", 264, 264), ("tos5", 265, 265), ("anes", 266, 268),
    ("add_dt", 269, 276), ("eff_dt", 277, 284), ("term_dt", 285, 292), ("action", 293, 293),
)
FIRST = {"3", "7"}  # RECID of a code's (3) or modifier's (7) first line
NEXT = {"4", "8"}  # continuation lines of the long description
_RECORD = re.compile(r"^[ A-Z0-9]{5}\d{5}[3478]")
_CODE = re.compile(r"^[A-Z]\d{4}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")

COLUMNS = (
    Column("HCPC", ("hcpc", "hcpcscode", "hcpcs", "code")),
    Column("LONG_DESCRIPTION", ("longdescription", "longdesc", "description")),
    Column("SHORT_DESCRIPTION", ("shortdescription", "shortdesc"), required=False),
    Column("RECID", ("recid",), required=False),
    Column("price1", ("price1", "price", "pricingindicator"), required=False),
    *(Column(f"price{i}", (f"price{i}",), required=False) for i in (2, 3, 4)),
    *(Column(f"cim{i}", (f"cim{i}",), required=False) for i in (2, 3)),
    *(Column(f"mcm{i}", (f"mcm{i}",), required=False) for i in (2, 3)),
    *(Column(f"xref{i}", (f"xref{i}",), required=False) for i in (2, 3, 4, 5)),
    *(Column(f"tos{i}", (f"tos{i}",), required=False) for i in (2, 3, 4, 5)),
    Column("mult", ("multpi", "multi", "multiplepricingindicator"), required=False),
    Column("cim1", ("cim1", "cim"), required=False),
    Column("mcm1", ("mcm1", "mcm"), required=False),
    Column("statute", ("statute",), required=False),
    Column("xref1", ("xref1", "xref"), required=False),
    Column("cov", ("cov", "coverage", "coveragecode"), required=False),
    Column("asc_grp", ("ascgrp",), required=False),
    Column("betos", ("betos",), required=False),
    Column("tos1", ("tos1", "tos", "typeofservice"), required=False),
    Column("anes", ("anestbu", "anes"), required=False),
    Column("add_dt", ("adddt", "dateadded"), required=False),
    Column("eff_dt", ("acteffdt", "dateaction", "actioneffectivedate", "effectivedate"), required=False),
    Column("term_dt", ("termdt", "dateterm", "terminationdate"), required=False),
    Column("action", ("actioncd", "action", "actioncode"), required=False),
)


@dataclass
class _Entry:
    code: str
    line: int
    fields: dict[str, str]
    long: list[str] = field(default_factory=list)


class HcpcsImporter:
    kind = "hcpcs"
    codeset = HCPCS
    description = (
        "HCPCS Level II alpha-numeric file (CMS fixed-width, its XLS/TSV export, or a TSV re-export)"
    )

    def default_source(self) -> Path | None:
        return None

    def read(self, path: Path, *, modifiers_only: bool = False) -> Iterator[CodeRecord]:
        """The file's records; `modifiers_only`: the modifiers group and pages alone (what the modifier
        data keeps: the codes' facts, most of the reading, are not made)."""
        entries = list(self._fixed(path) if _is_fixed_width(path) else self._table(path))
        if not entries:
            raise BuildError(f"{path}: no HCPCS codes or modifiers found")
        yield from _records(entries, path, _release(path), modifiers_only=modifiers_only)

    def _fixed(self, path: Path) -> Iterator[_Entry]:
        current: _Entry | None = None
        with open_text(path, "cp1252") as fh:
            for lineno, raw in enumerate(fh, 1):
                line = raw.rstrip("\r\n")
                if not _RECORD.match(line):
                    if current is None or not line.strip():
                        continue  # the disclaimer before the first record, blank lines
                    raise BuildError(
                        f"{path}:{lineno}: not a HCPCS record (columns 1-5 code, 6-10 sequence number, "
                        f"11 record id 3/4/7/8): {line[:40]!r}"
                    )
                recid = line[10]
                code = line[0:5].strip()
                if recid in NEXT:
                    if current is None or current.code != code:
                        raise BuildError(
                            f"{path}:{lineno}: continuation line (record id {recid}) for {code} "
                            "does not follow that code's first line"
                        )
                    current.long.append(line[11:91].strip())
                    continue
                if current is not None:
                    yield current
                fields = {name: line[a - 1:b].strip() for name, a, b in LAYOUT}
                current = _Entry(code, lineno, fields, [fields["long"]])
        if current is not None:
            yield current

    def _table(self, path: Path) -> Iterator[_Entry]:
        table = Table(path, COLUMNS, "a HCPCS Level II file (HCPC / LONG_DESCRIPTION columns)")
        current: _Entry | None = None
        for lineno, cells in table.rows():
            fields = {c.name: table.get(cells, c.name) for c in COLUMNS}
            code = fields["HCPC"].upper()
            if fields["RECID"] in NEXT:
                if current is None or current.code != code:
                    raise BuildError(
                        f"{path}:{lineno}: continuation row for {code} does not follow its first row"
                    )
                current.long.append(fields["LONG_DESCRIPTION"])
                continue
            if current is not None:
                yield current
            mapped = {
                "long": fields["LONG_DESCRIPTION"], "short": fields["SHORT_DESCRIPTION"],
                **{
                    k: v for k, v in fields.items()
                    if k not in ("HCPC", "LONG_DESCRIPTION", "SHORT_DESCRIPTION")
                },
            }
            current = _Entry(code, lineno, mapped, [mapped["long"]])
        if current is not None:
            yield current


def _is_fixed_width(path: Path) -> bool:
    with open_text(path, "cp1252") as fh:
        for _, line in zip(range(60), fh, strict=False):
            if "\t" in line:
                return False
            if _RECORD.match(line) and len(line.rstrip("\r\n")) >= 91:
                return True
    return False


def _release(path: Path) -> str:
    found = release_from_name(path.name)
    if found:
        return f"HCPCS Level II {found[:7]} release, CMS"
    year = re.search(r"(20\d\d)", path.name)
    return f"HCPCS Level II {year[1]}, CMS" if year else "HCPCS Level II, CMS"


def _date(path: Path, e: _Entry, name: str) -> str:
    try:
        return show_date(parse_date(e.fields.get(name, "")))
    except ValueError as exc:
        raise BuildError(f"{path}:{e.line}: {e.code}: {exc}") from None


def _facts(e: _Entry, path: Path) -> list[tuple[str, str]]:
    f = e.fields
    facts: list[tuple[str, str]] = []

    def add(label: str, value: str) -> None:
        if value:
            facts.append((label, value))

    add("Short descriptor", f.get("short", ""))
    add("Effective date", _date(path, e, "eff_dt"))
    add("Added", _date(path, e, "add_dt"))
    add("Termination date", _date(path, e, "term_dt"))
    add("Action", ind.explain(ind.ACTION, f.get("action", "")) if f.get("action") else "")
    add("Coverage", ind.explain(ind.COVERAGE, f.get("cov", "")) if f.get("cov") else "")
    add("BETOS", ind.betos(f["betos"]) if f.get("betos") else "")
    # Re-exports join repeated indicators into one cell ("1:P"); CMS's file has one column each.
    prices = _split(f.get("price1", ""), f.get("price2", ""), f.get("price3", ""), f.get("price4", ""))
    add("Pricing indicator", "; ".join(ind.explain(ind.PRICING, p) for p in prices))
    add("Multiple pricing indicator", ind.explain(ind.MULTIPLE_PRICING, f["mult"]) if f.get("mult") else "")
    tos = _split(*(f.get(f"tos{i}", "") for i in range(1, 6)))
    add("Type of service", "; ".join(ind.explain(ind.TYPE_OF_SERVICE, t) for t in tos))
    add("Coverage Issues Manual", ", ".join(x for x in (f.get("cim1"), f.get("cim2"), f.get("cim3")) if x))
    add("Medicare Carriers Manual", ", ".join(x for x in (f.get("mcm1"), f.get("mcm2"), f.get("mcm3")) if x))
    add("Statute", f.get("statute", ""))
    add("Cross reference", ", ".join(x for x in (f.get(f"xref{i}", "") for i in range(1, 6)) if x))
    add("ASC payment group", f.get("asc_grp", ""))
    anes = f.get("anes", "").strip()
    add("Anesthesia base units", anes if anes not in ("", "0") else "")
    return facts


def _split(*values: str) -> list[str]:
    out: list[str] = []
    for v in values:
        out += [p for p in re.split(r"[:,;|/ ]+", v) if p and p not in out]
    return out


def _records(entries: list[_Entry], path: Path, source: str, *, modifiers_only: bool = False
             ) -> Iterator[CodeRecord]:
    codes = [] if modifiers_only else [e for e in entries if _CODE.match(e.code)]
    modifiers = [e for e in entries if _MODIFIER.match(e.code)]
    order = 0
    letters = sorted({e.code[0] for e in codes})
    for letter in letters:
        order += 1
        yield CodeRecord(HCPCS, f"{letter}-codes", ind.GROUPS.get(letter, f"{letter} codes"), kind="group",
                         order=order, label=f"{letter} codes", source=source)
    if modifiers:
        order += 1
        yield CodeRecord(HCPCS, "modifiers", "HCPCS Level II modifiers", kind="group", order=order,
                         label="Modifiers", source=source)
    released = release_from_name(path.name)
    for e in sorted(codes, key=lambda x: x.code) + sorted(modifiers, key=lambda x: x.code):
        order += 1
        title = " ".join(p for p in e.long if p).strip() or e.fields.get("short", "") or e.code
        # Terminated before the file's release: its page and search results say so.
        ended = ind.terminated(_date(path, e, "term_dt"), released)
        yield CodeRecord(
            codeset=HCPCS, key=e.code, title=title, kind=CODE,
            parent="modifiers" if len(e.code) == 2 else f"{e.code[0]}-codes",
            order=order, short_title=e.fields.get("short", ""), label=e.code,
            facts=_facts(e, path), source=source, origin=f"{path.name}:{e.line}",
            change="terminated" if ended else "", change_label=ended,
        )
