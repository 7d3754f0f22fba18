"""ICD-10-PCS Tables importer: CMS's `icd10pcs_tables_<year>.xml`.

`ICD10PCS.tabular > pcsTable > axis pos=1..3 (title, label code=…, definition) + pcsRow codes=N >
axis pos=4..7 (title, label code=…)`: each row's values of characters 4-7 combine freely.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..books import PcsRow, PcsTable, PcsTables, PcsValue
from ..errors import BuildError
from .xmltree import Node, clean, document

HINT = "pass the CMS ICD-10-PCS Tables XML (icd10pcs_tables_<year>.xml)"
_VALUE = re.compile(r"[0-9A-HJ-NP-Z]")  # PCS never uses the letters I and O
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


def release(version: str, path: Path, what: str) -> str:
    """ "ICD-10-PCS Tables FY2024, CMS" from `<version>` or the file name."""
    year = version if version.isdigit() else (m.group(1) if (m := _YEAR.search(path.name)) else "")
    return f"ICD-10-PCS {what}{' FY' + year if year else ''}, CMS"


def _axis(path: Path, node: Node, positions: range) -> tuple[int, str, list[PcsValue], str]:
    raw = node.attrs.get("pos", "")
    if not raw.isdigit() or int(raw) not in positions:
        raise BuildError(
            f'{path}:{node.line}: <axis pos="{raw}"> here must be pos {positions.start}-{positions.stop - 1}'
        )
    title = definition = ""
    values: list[PcsValue] = []
    for c in node:
        if c.tag == "title":
            title = clean(c.text)
        elif c.tag == "label":
            code = c.attrs.get("code", "")
            if not _VALUE.fullmatch(code):
                raise BuildError(
                    f'{path}:{c.line}: <label code="{code}"> is not a PCS character (0-9, A-Z but I and O)'
                )
            values.append(PcsValue(code, c.all_text()))
        elif c.tag == "definition":
            definition = c.all_text()
        else:
            raise BuildError(
                f"{path}:{c.line}: unexpected element <{c.tag}> in <axis>; expected "
                "<title>, <label> or <definition>"
            )
    if not values:
        raise BuildError(f'{path}:{node.line}: <axis pos="{raw}"> without a <label>')
    declared = node.attrs.get("values")
    if declared is not None and declared.isdigit() and int(declared) != len(values):
        raise BuildError(
            f'{path}:{node.line}: <axis values="{declared}"> but {len(values)} <label> elements follow'
        )
    return int(raw), title, values, definition


class PcsTablesReader:
    def read(self, path: Path) -> PcsTables:
        root = document(path, "ICD10PCS.tabular", "ICD-10-PCS Tables XML file", HINT)
        version = clean((root.find("version") or Node("", {}, 0)).text)
        out = PcsTables(version, release(version, path, "Tables"), str(path))
        seen: dict[str, int] = {}
        for node in root:
            if node.tag in ("version", "title"):
                continue
            if node.tag != "pcsTable":
                raise BuildError(f"{path}:{node.line}: unexpected element <{node.tag}>; expected <pcsTable>")
            table = self._table(path, node)
            if table.key in seen:
                raise BuildError(
                    f"{path}:{node.line}: table {table.key} appears twice (first at line {seen[table.key]})"
                )
            seen[table.key] = node.line
            out.tables.append(table)
        if not out.tables:
            raise BuildError(f"{path}:{root.line}: no <pcsTable> found; {HINT}")
        return out

    def _table(self, path: Path, node: Node) -> PcsTable:
        head: dict[int, PcsValue] = {}
        titles: dict[int, str] = {}
        definition = ""
        rows: list[PcsRow] = []
        for c in node:
            if c.tag == "axis":
                pos, title, values, text = _axis(path, c, range(1, 4))
                if len(values) != 1:
                    raise BuildError(f"{path}:{c.line}: character {pos} of a table has exactly one value")
                head[pos], titles[pos] = values[0], title
                if pos == 3:
                    definition = text
            elif c.tag == "pcsRow":
                rows.append(self._row(path, c))
            else:
                raise BuildError(
                    f"{path}:{c.line}: unexpected element <{c.tag}> in <pcsTable>; "
                    "expected <axis> or <pcsRow>"
                )
        if sorted(head) != [1, 2, 3]:
            raise BuildError(
                f"{path}:{node.line}: a <pcsTable> needs <axis> elements for characters 1, 2 and 3"
            )
        if not rows:
            raise BuildError(
                f"{path}:{node.line}: table {''.join(head[p].code for p in (1, 2, 3))} has no <pcsRow>"
            )
        return PcsTable(node.line, head, titles, definition, rows)

    def _row(self, path: Path, node: Node) -> PcsRow:
        row = PcsRow(node.line, {}, {})
        for c in node:
            if c.tag != "axis":
                raise BuildError(
                    f"{path}:{c.line}: unexpected element <{c.tag}> in <pcsRow>; expected <axis>"
                )
            pos, title, values, _ = _axis(path, c, range(4, 8))
            row.axes[pos], row.titles[pos] = values, title
        if sorted(row.axes) != [4, 5, 6, 7]:
            raise BuildError(
                f"{path}:{node.line}: a <pcsRow> needs <axis> elements for characters 4, 5, 6 and 7"
            )
        declared = node.attrs.get("codes")
        count = 1
        for values in row.axes.values():
            count *= len(values)
        if declared is not None and declared.isdigit() and int(declared) != count:
            raise BuildError(
                f'{path}:{node.line}: <pcsRow codes="{declared}"> but its values make {count} codes'
            )
        return row
