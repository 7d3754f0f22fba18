"""ICD-10-PCS Definitions importer: CMS's `icd10pcs_definitions_<year>.xml`.

`ICD10PCS.definitions > section code=… > axis pos=… > terms (title+, definition?, explanation?,
includes*)`, and `deviceAggregation > aggregate (device, operation, bodySys+, parent value=…)`.
"""

from __future__ import annotations

from pathlib import Path

from ..books import DeviceAggregate, PcsDefinitions, PcsTerm
from ..errors import BuildError
from .icd10pcs_tables import release
from .xmltree import Node, clean, document

HINT = "pass the CMS ICD-10-PCS Definitions XML (icd10pcs_definitions_<year>.xml)"


class PcsDefinitionsReader:
    def read(self, path: Path) -> PcsDefinitions:
        root = document(path, "ICD10PCS.definitions", "ICD-10-PCS Definitions XML file", HINT)
        version = clean((root.find("version") or Node("", {}, 0)).text)
        out = PcsDefinitions(version, release(version, path, "Definitions"), str(path))
        for node in root:
            if node.tag in ("version", "title"):
                continue
            if node.tag == "section":
                self._section(path, node, out)
            elif node.tag == "deviceAggregation":
                for agg in node:
                    out.aggregates.append(self._aggregate(path, agg))
            else:
                raise BuildError(
                    f"{path}:{node.line}: unexpected element <{node.tag}>; expected "
                    "<section> or <deviceAggregation>"
                )
        if not out.terms:
            raise BuildError(f"{path}:{root.line}: no defined <terms> found; {HINT}")
        return out

    def _section(self, path: Path, node: Node, out: PcsDefinitions) -> None:
        code = node.attrs.get("code", "")
        if len(code) != 1:
            raise BuildError(f'{path}:{node.line}: <section> needs code="…" (one character)')
        for c in node:
            if c.tag == "title":
                out.sections[code] = c.all_text()
            elif c.tag == "axis":
                raw = c.attrs.get("pos", "")
                if not raw.isdigit() or not 1 <= int(raw) <= 7:
                    raise BuildError(f'{path}:{c.line}: <axis pos="{raw}"> must be a character position 1-7')
                pos = int(raw)
                for t in c:
                    if t.tag == "title":
                        out.axis_titles[(code, pos)] = t.all_text()
                    elif t.tag == "terms":
                        out.terms.extend(self._terms(path, t, code, pos))
                    else:
                        raise BuildError(
                            f"{path}:{t.line}: unexpected element <{t.tag}> in <axis>; "
                            "expected <title> or <terms>"
                        )
            else:
                raise BuildError(
                    f"{path}:{c.line}: unexpected element <{c.tag}> in <section>; expected <title> or <axis>"
                )

    @staticmethod
    def _terms(path: Path, node: Node, section: str, pos: int) -> list[PcsTerm]:
        titles: list[str] = []
        definition = explanation = ""
        includes: list[str] = []
        for c in node:
            text = c.all_text()
            if c.tag == "title":
                titles.append(text)
            elif c.tag == "definition":
                definition = text
            elif c.tag == "explanation":
                explanation = text
            elif c.tag == "includes":
                includes.append(text)
            else:
                raise BuildError(
                    f"{path}:{c.line}: unexpected element <{c.tag}> in <terms>; expected <title>, "
                    "<definition>, "
                    "<explanation> or <includes>"
                )
        if not titles:
            raise BuildError(f"{path}:{node.line}: <terms> without a <title>")
        return [PcsTerm(section, pos, t, definition, explanation, tuple(includes), node.line) for t in titles]

    @staticmethod
    def _aggregate(path: Path, node: Node) -> DeviceAggregate:
        if node.tag != "aggregate":
            raise BuildError(
                f"{path}:{node.line}: unexpected element <{node.tag}> in "
                "<deviceAggregation>; expected <aggregate>"
            )
        parent = node.find("parent")
        device, operation = node.find("device"), node.find("operation")
        if parent is None or device is None or operation is None:
            raise BuildError(
                f"{path}:{node.line}: an <aggregate> needs <device>, <operation> and <parent value=…>"
            )
        return DeviceAggregate(
            device.all_text(),
            operation.all_text(),
            tuple(b.all_text() for b in node.findall("bodySys")),
            parent.all_text(),
            parent.attrs.get("value", ""),
        )
