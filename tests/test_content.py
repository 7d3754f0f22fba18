"""Hand-written pages: front matter, sections, and errors that name file and line."""
from __future__ import annotations

from pathlib import Path

from generator.content import read_page, read_pages
from generator.errors import Problems


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_sections_split_by_h2_with_overrides(tmp_path: Path) -> None:
    p = write(
        tmp_path, "content/codes/cpt/27252.md",
        "---\nsummary: Hip reduction\nsections:\n  common-language-description: {protected: false}\n---\n"
        "Intro text.\n\n## Common language description\nPlain words.\n\n## Coding tips\n- one\n- two\n",
    )
    problems = Problems()
    page = read_page(p, tmp_path, problems)
    assert page is not None and not problems.items
    assert [s.id for s in page.sections] == ["summary", "common-language-description", "coding-tips"]
    assert page.sections[1].protected is False
    assert page.sections[2].protected is None  # config decides
    assert page.sections[2].html == "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"
    assert page.summary == "Hip reduction"


def test_yaml_error_reports_file_line(tmp_path: Path) -> None:
    write(tmp_path, "content/codes/cpt/27250.md", "---\nsummary: ok\nfacts: [unclosed\n---\n## A\ntext\n")
    problems = Problems()
    read_pages(tmp_path / "content", tmp_path, problems)
    assert len(problems.errors) == 1
    err = problems.errors[0]
    assert err.path == "content/codes/cpt/27250.md"
    assert err.line in (3, 4)  # the unclosed flow sequence, as YAML reports it
    assert "invalid YAML" in str(err)


def test_markdown_errors_carry_body_line_numbers(tmp_path: Path) -> None:
    text = "---\nsummary: x\n---\n## Tips\nfirst\n\n## Tips\nsecond\n\n# Big\n\n## Empty\n"
    write(tmp_path, "content/codes/cpt/27250.md", text)
    problems = Problems()
    read_pages(tmp_path / "content", tmp_path, problems)
    messages = [str(p) for p in problems.errors]
    assert any(
        m.startswith("content/codes/cpt/27250.md:7: error: duplicate section 'Tips' (first at line 4)")
        for m in messages
    ), messages
    assert any(
        m.startswith("content/codes/cpt/27250.md:10: error: '# ' headings") for m in messages
    ), messages
    assert any(
        m.startswith("content/codes/cpt/27250.md:12: error: section 'Empty' is empty") for m in messages
    ), messages


def test_bad_file_name_and_unknown_override(tmp_path: Path) -> None:
    write(tmp_path, "content/codes/cpt/hello.md", "## A\nx\n")
    write(
        tmp_path,
        "content/codes/hcpcs/E0601.md",
        "---\ntitle: T\nsections:\n  nope: {protected: false}\n---\n## Real\nx\n",
    )
    problems = Problems()
    read_pages(tmp_path / "content", tmp_path, problems)
    msgs = [str(p) for p in problems.errors]
    assert any("content/codes/cpt/hello.md: error: 'hello' is not a valid CPT code" in m for m in msgs), msgs
    assert any(
        m.startswith("content/codes/hcpcs/E0601.md:4: error: front matter 'sections' names 'nope'")
        for m in msgs
    ), msgs


def test_unknown_front_matter_key_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "content/codes/cpt/27250.md", "---\nsumary: typo\n---\n## A\nx\n")
    problems = Problems()
    pages = read_pages(tmp_path / "content", tmp_path, problems)
    assert pages and not problems.errors
    assert "unknown front matter key 'sumary'" in str(problems.warnings[0])


def test_markdown_html_is_escaped(tmp_path: Path) -> None:
    p = write(tmp_path, "content/codes/cpt/27250.md", "## A\n<script>alert(1)</script> & text\n")
    page = read_page(p, tmp_path, Problems())
    assert page is not None
    assert "<script>" not in page.sections[0].html
    assert "&lt;script&gt;" in page.sections[0].html
