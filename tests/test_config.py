"""content/site.yml: typed settings, errors with line numbers, warnings for unknown keys."""
from __future__ import annotations

from pathlib import Path

from generator.config import load_config
from generator.errors import Problems


def cfg_from(tmp_path: Path, text: str) -> tuple[object, Problems]:
    (tmp_path / "content").mkdir(exist_ok=True)
    (tmp_path / "content" / "site.yml").write_text(text, encoding="utf-8")
    problems = Problems()
    return load_config(tmp_path, problems), problems


def test_defaults_without_file(tmp_path: Path) -> None:
    problems = Problems()
    cfg = load_config(tmp_path, problems)
    assert not problems.items
    assert cfg.meter.plans == {"guest": 1, "free": 6, "paid": None}
    assert cfg.is_protected("excludes1") and not cfg.is_protected("inclusion-terms")
    assert cfg.is_protected("handwritten") and not cfg.is_protected("handwritten", False)


def test_values_and_errors_with_lines(tmp_path: Path) -> None:
    cfg, problems = cfg_from(
        tmp_path,
        "site_name: My codes\ncodesets: [icd-10-cm, snomed]\nprotected:\n  excludes1: false\nmeter:\n"
        "  period: weekly\n  plans: {guest: 2, free: 10, paid: null}\ncolour: blue\n",
    )
    assert cfg.site_name == "My codes"  # type: ignore[attr-defined]
    assert not cfg.is_protected("excludes1")  # type: ignore[attr-defined]
    assert cfg.meter.plans["guest"] == 2  # type: ignore[attr-defined]
    errors = [str(p) for p in problems.errors]
    assert "content/site.yml:2: error: unknown code set snomed" in errors[0]
    assert errors[1].startswith("content/site.yml:6: error: 'meter.period'")
    assert "content/site.yml:8: warning: unknown setting 'colour'" in str(problems.warnings[0])


def test_rolling_period_and_sources(tmp_path: Path) -> None:
    (tmp_path / "x.xml").write_text("<a/>")
    cfg, problems = cfg_from(
        tmp_path, "meter:\n  period: rolling:30\nsources:\n  icd10cm: x.xml\n  icd10pcs: missing.txt\n"
    )
    assert cfg.meter.period == "rolling:30"  # type: ignore[attr-defined]
    assert cfg.sources == {"icd10cm": "x.xml"}  # type: ignore[attr-defined]
    assert "'sources.icd10pcs': file 'missing.txt' does not exist" in str(problems.errors[0])


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    _, problems = cfg_from(tmp_path, "site_name: a\nprotected: [\n")
    assert problems.errors and problems.errors[0].line >= 2
    assert "invalid YAML" in problems.errors[0].message
