"""Index pages: the books of the small sample project drawn as printed, split when large, linked both
ways; a malformed book stops the build with path:line and leaves the live site as it was."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.books import CM_INDEX, IndexBook, IndexTerm, Letter
from generator.build import build
from generator.errors import BuildError
from generator.index_layout import BUDGET, layout


def test_main_term_page_draws_the_tree_as_printed(small_site: Path) -> None:
    page = (small_site / "site" / "icd-10-cm" / "index" / "diabetes" / "index.html").read_text()
    assert '<span class="t">Diabetes, diabetic</span> <span class="nm">(mellitus) (sugar)</span>' in page
    # A code links to its page; an incomplete one says so; a manifestation code is in brackets.
    assert '<a class="c" href="/icd-10-cm/E11.9/">E11.9</a>' in page
    assert 'id="type-2--with--hyperosmolarity--with-coma"' in page
    assert '[<span class="c mf nf" title="not in the ICD-10-CM code list">M14.6-</span>]' in page
    assert "<i>see subcategory</i>" in page and 'class="warn">Use additional code' in page
    assert (
        "ICD-10-CM Index to Diseases and Injuries FY2025, CDC; codes link to the ICD-10-CM code list of"
        in page
    )
    fracture = (small_site / "site" / "icd-10-cm" / "index" / "fracture-traumatic" / "index.html").read_text()
    assert 'href="/icd-10-cm/S72.00/" aria-describedby="inc-note">S72.00-</a>' in fracture
    # "see Fracture, femur, neck" resolves through the main term "Fracture, traumatic".
    assert (
        '<i>see</i> <a href="/icd-10-cm/index/fracture-traumatic/#femur-femoral--neck">'
        "Fracture, femur, neck</a>"
        in fracture
    )
    # "Fracture" alone names three main terms: a page lists them.
    shared = (small_site / "site" / "icd-10-cm" / "index" / "fracture" / "index.html").read_text()
    assert "Fracture, pathological" in shared and "Fracture, traumatic" in shared


def test_tables_are_real_tables_with_heads_anchors_and_a_filter(small_site: Path) -> None:
    page = (small_site / "site" / "icd-10-cm" / "neoplasm-table" / "letter-l" / "index.html").read_text()
    assert '<th scope="col">Malignant Primary</th>' in page and "<thead>" in page
    assert '<tr id="lung">' in page and '<tr id="lung--book-leaf">' in page
    assert 'data-filter="#book-table"' in page
    drug = (small_site / "site" / "icd-10-cm" / "drug-table" / "letter-a" / "index.html").read_text()
    assert '<tr id="acetaminophen">' in drug and "T39.1X1" in drug


def test_code_pages_link_back_to_the_index(small_site: Path) -> None:
    page = (small_site / "site" / "icd-10-cm" / "S72.001" / "index.html").read_text()
    assert "Index entries for this code" in page
    assert '<a href="/icd-10-cm/index/fracture-traumatic/#femur-femoral--upper-end--base">' in page
    pcs = html.unescape((small_site / "site" / "icd-10-pcs" / "0DTN4ZZ" / "index.html").read_text())
    assert "N \u2014 Sigmoid Colon" in pcs and "Percutaneous Endoscopic" in pcs
    assert "Includes: Rectosigmoid colon; Sigmoid flexure" in pcs


def _big_book(n: int) -> IndexBook:
    main = IndexTerm("Disorder", 0, 1)
    for i in range(n):
        sub = IndexTerm(f"subterm number {i:04d} of a long family of conditions", 1, i + 2, codes=("F99",))
        sub.children = [IndexTerm(f"kind {k}", 2, i + 2, codes=("F98.8",)) for k in range(i % 7)]
        main.children.append(sub)
    return IndexBook(CM_INDEX, "t", "2025", "r", "x.xml", letters=[Letter("D", 1, [main])])


@pytest.mark.parametrize("n", [10, 120, 900])
def test_large_main_terms_are_split_into_pages_within_the_budget(n: int) -> None:
    book = _big_book(n)
    lay = layout(book)
    main = book.letters[0].terms[0]
    # Every term is on exactly one page, which its anchor is on.
    for _, t in main.walk():
        assert lay.page_of[t].startswith("/icd-10-cm/index/disorder/")
    assert (len(lay.pages) == 1) == (n == 10)
    from generator.index_layout import estimate

    for page in lay.pages:
        shown = 0
        for t in page.terms:
            shown += estimate(t) if t in page.moved else sum(estimate(d) for _, d in t.walk())
        assert shown <= BUDGET or page.parts


def test_a_malformed_index_file_stops_the_build_and_keeps_the_site(project: Callable[..., Path]) -> None:
    root = project()
    build(root, quiet=True, jobs=1)
    live = (root / "site" / "icd-10-cm" / "index" / "diabetes" / "index.html").read_bytes()
    bad = root / "broken_index.xml"
    src = Path(__file__).resolve().parent / "data" / "books" / "icd10cm_index_2025.xml"
    bad.write_text(src.read_text().replace("<code>E11.00</code>", "<code>E11.00</cod>"))
    yml = root / "content" / "site.yml"
    yml.write_text(yml.read_text().replace(str(src), str(bad)))
    with pytest.raises(
        BuildError,
        match=rf"{bad}:36: not a readable ICD-10-CM Index to Diseases and "
        rf"Injuries XML file \(mismatched tag",
    ):
        build(root, quiet=True, jobs=1)
    assert (root / "site" / "icd-10-cm" / "index" / "diabetes" / "index.html").read_bytes() == live
    # Truncated: the same, with the line where the file ends.
    bad.write_text(src.read_text()[:1500])
    with pytest.raises(BuildError, match=rf"{bad}:\d+: not a readable .*truncated"):
        build(root, quiet=True, jobs=1)
    assert (root / "site" / "icd-10-cm" / "index" / "diabetes" / "index.html").read_bytes() == live


def test_a_bad_synonyms_list_is_a_content_error_with_its_line(project: Callable[..., Path]) -> None:
    root = project()
    (root / "content" / "search").mkdir()
    text = "abbreviations:\n  uti: urinary tract infection\n  uti: cystitis\n"
    (root / "content" / "search" / "synonyms.yml").write_text(text)
    from generator.check import check

    problems = check(root)
    assert [str(p) for p in problems.errors] == [
        "content/search/synonyms.yml:3: error: 'uti' is listed twice (first on line 2); merge the phrases"
    ]


def test_anchors_and_page_names_stay_short() -> None:
    note = "NOTE: Heart failure stages A, B, C and D are based on the American College of Cardiology " * 3
    main = IndexTerm("Failure", 0, 1, children=[IndexTerm(note, 1, 2, children=[IndexTerm("x", 2, 3)] * 400)])
    lay = layout(IndexBook(CM_INDEX, "t", "2025", "r", "x.xml", letters=[Letter("F", 1, [main])]))
    assert all(len(a) <= 60 for a in lay.anchors.values() if "--" not in a)
    assert all(len(p.url.rstrip("/").rsplit("/", 1)[-1]) <= 60 for p in lay.pages)


def test_every_letter_has_its_own_page_name() -> None:
    from generator.index_layout import letter_key, letter_slug

    names = [letter_slug(k) for k in "#ABCDEFGHIJKLMNOPQRSTUVWXYZ3"]
    assert len(set(names)) == len(names)
    assert letter_slug("X") == "letter-x" and letter_slug("#") == "letter-numbers"
    assert [letter_key(t) for t in ("xylene", "Ökotox", "1-propanol")] == ["X", "#", "#"]


def test_a_layout_read_back_from_the_cache_is_the_layout_of_the_book_read_with_it() -> None:
    """reference.py caches an index with its layout in one pickle: after reading, the layout's keys are
    the book's own terms and give the URLs a layout made afresh gives."""
    import pickle

    from generator.reference import _LAID_OUT

    assert CM_INDEX in _LAID_OUT
    deep = IndexTerm("Neck", 2, 4, codes=("S72.00",))
    terms = [
        IndexTerm("Fracture, traumatic", 0, 2, children=[IndexTerm("femur", 1, 3, children=[deep])]),
        IndexTerm("Gangrene", 0, 5, codes=("I96",)),
    ]
    book = IndexBook(CM_INDEX, "Index", "2025", "ICD-10-CM FY2025, CDC", "x.xml",
                     letters=[Letter("F", 1, terms[:1]), Letter("G", 1, terms[1:])])
    back, lay = pickle.loads(pickle.dumps((book, layout(book)), protocol=pickle.HIGHEST_PROTOCOL))
    fresh = layout(back)
    walked = [t for m in back.main_terms() for _, t in m.walk()]
    assert len(walked) == 4
    assert [lay.url(t) for t in walked] == [fresh.url(t) for t in walked]
    assert lay.url(walked[2]) == "/icd-10-cm/index/fracture/#femur--neck"
    assert lay.book is back
