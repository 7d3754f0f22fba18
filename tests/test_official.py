"""The shipped public record (content/official): size budget, provenance, and no AMA/ADA descriptor text."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
from pathlib import Path

import pytest

from generator.config import SiteConfig
from generator.official import SHIPPED, official_dir, shipped_file, source

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = ROOT / "content" / "official"
BUDGET = 30_000_000  # bytes in the repository for all shipped data (issue #16)

# Phrases of AMA CPT and ADA CDT descriptors that no shipped file may contain: 99213, 45378,
# 93000, 20610, 97110, 27250 (CPT); D0120, D1110 (CDT).
DESCRIPTOR_CANARIES = (
    "which requires a medically appropriate history",
    "colonoscopy, flexible; diagnostic",
    "routine ecg with at least 12 leads",
    "arthrocentesis, aspiration and/or injection",
    "therapeutic exercises to develop strength",
    "closed treatment of hip dislocation",
    "periodic oral evaluation",
    "prophylaxis - adult",
)
CPT_OR_CDT = re.compile(r"^(?:\d{4}[0-9A-Z]|D\d{4})$")


def shipped_files() -> list[Path]:
    return sorted(p for p in OFFICIAL.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")


def provenance_rows() -> dict[str, tuple[str, str]]:
    """file -> (kind cell, sha256) from the table of PROVENANCE.md."""
    rows: dict[str, tuple[str, str]] = {}
    for line in (OFFICIAL / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([^`]+)` \| ([^|]+) \|.*\| `([0-9a-f]{64})` \|$", line)
        if m:
            rows[m[1]] = (m[2].strip(), m[3])
    return rows


def decompressed(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def test_shipped_data_fits_the_budget() -> None:
    total = sum(p.stat().st_size for p in shipped_files())
    assert 0 < total <= BUDGET, f"content/official holds {total:,} bytes; the budget is {BUDGET:,}"


def test_provenance_lists_every_shipped_file_with_its_sha256() -> None:
    rows = provenance_rows()
    files = {p.relative_to(OFFICIAL).as_posix(): p for p in shipped_files()}
    assert sorted(rows) == sorted(files), "PROVENANCE.md and content/official list different files"
    for rel, path in files.items():
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert sha == rows[rel][1], f"{rel}: sha256 differs from PROVENANCE.md"


def test_every_kind_has_its_shipped_file_and_provenance_row() -> None:
    rows = provenance_rows()
    cfg = SiteConfig(root=ROOT)
    assert official_dir(cfg) == OFFICIAL
    for kind, entry in SHIPPED.items():
        assert shipped_file(cfg, kind) == OFFICIAL / entry.path
        assert f"`{kind}`" in rows[entry.path][0].split(", ")  # one file may back several kinds
        for companion in entry.companions:
            assert companion in rows and kind in rows[companion][0]
    listed = {path for path, (kind, _) in rows.items() if kind.startswith("`")}
    assert listed == {e.path for e in SHIPPED.values()}, "a shipped data file that no kind reads"


def test_the_shipped_file_is_the_default_source_and_sources_override_it(tmp_path: Path) -> None:
    cfg = SiteConfig(root=ROOT)
    got = source(cfg, "ncci-aoc")
    assert got is not None and got.origin == "shipped" and got.release == "2024-06-03"
    other = tmp_path / "AOC_V2024Q4.txt"
    other.write_text("x")
    cfg.sources["ncci-aoc"] = str(other)
    got = source(cfg, "ncci-aoc")
    assert got is not None and (got.path, got.origin, got.release) == (other, "site.yml", None)
    assert source(SiteConfig(root=tmp_path), "ncci-aoc") is None  # a project without content/official


@pytest.mark.slow
def test_no_shipped_file_holds_cpt_or_cdt_descriptor_text() -> None:
    for path in shipped_files():
        text = decompressed(path).decode("latin-1").lower()
        for phrase in DESCRIPTOR_CANARIES:
            assert phrase not in text, f"{path.name} contains AMA/ADA descriptor text: {phrase!r}"


def _tables() -> list[Path]:
    """The CMS tables (ICD-10 code lists have codes such as D50.0 that are not CDT)."""
    return [OFFICIAL / e.path for e in SHIPPED.values()
            if re.search(r"\.(tsv|csv)(\.gz)?$", e.path) and not e.kind.startswith("icd")]


@pytest.mark.slow
@pytest.mark.parametrize("path", _tables(), ids=lambda p: p.name)
def test_description_columns_are_blank_for_cpt_and_cdt_codes(path: Path) -> None:
    """Every table: a row whose code is CPT (digit first) or CDT (D####) has every description cell blank."""
    text = decompressed(path).decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if ".tsv" in path.name else ",")
    header = [h.lower() for h in next(reader)]
    descs = [i for i, h in enumerate(header) if "desc" in h]
    codes = [i for i, h in enumerate(header) if re.fullmatch(r"(hcpcs|hcpcs_code|hcpcs_cpt_code|code)", h)]
    if not descs:
        return
    assert codes, f"{path.name}: a description column but no code column found in {header}"
    checked = 0
    for row in reader:
        for c in codes:
            if c < len(row) and CPT_OR_CDT.match(row[c].strip()):
                checked += 1
                for d in descs:
                    assert not row[d].strip(), f"{path.name}: {row[c]} has descriptor text {row[d][:40]!r}"
    if path.name.startswith("pprrvu"):
        assert checked > 50_000  # the PPRRVU file is mostly CPT codes: the check ran on them


def test_hcpcs_fixed_width_file_has_no_cpt_or_cdt_records() -> None:
    text = decompressed(OFFICIAL / "hcpcs" / "HCPC2020_ANWEB_w_disclaimer.txt.gz").decode("cp1252")
    records = [line for line in text.splitlines() if re.match(r"^[ A-Z0-9]{5}\d{5}[3478]", line)]
    assert len(records) > 12_000
    assert not [r[:5] for r in records if CPT_OR_CDT.match(r[:5])]
