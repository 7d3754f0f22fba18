"""CasePilot's question set through a real `coderef serve` over the full official data: every answer states
the expected facts, cites the expected pages, and holds no code or figure its cited pages lack."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from casepilot_checks import CitedData, problems, question_set
from casepilot_kit import CMS_IMPORTS, CmsImports, build_cms_project
from conftest import fast_tmpdir, official_data
from fixtures.gate.sitekit import env_for, uvicorn_server

from generator.casepilot_pages import example_questions

pytestmark = [pytest.mark.slow, pytest.mark.shareddata]


@pytest.fixture(scope="module")
def cms_root(cms_imports: CmsImports) -> Iterator[Path]:
    from generator.official import SHIPPED

    data = official_data(*(SHIPPED[k].path for k in CMS_IMPORTS))
    # On tmpfs (~2 GB while this module runs; test_words_real's real site, the other one, comes later):
    # on disk, deleting the ~200k files took longer than building them.
    tmp = fast_tmpdir("cms-pilot-")
    try:
        yield build_cms_project(tmp / "proj", data, cms_imports)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # never left for pytest's rotation


@pytest.fixture(scope="module")
def served(cms_root: Path) -> Iterator[tuple[httpx.Client, CitedData]]:
    with (
        uvicorn_server(cms_root, env_for(cms_root), module="generator.cli") as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        cited = CitedData(cms_root)
        yield client, cited
        cited.close()


def _ask(client: httpx.Client, question: str, context: str | None = None) -> Any:
    r = client.post("/gate/ask", json={"question": question, "context": context or ""})
    assert r.status_code == 200, (question, r.status_code, r.text[:300])
    return r.json()


def test_the_question_set(served: tuple[httpx.Client, CitedData]) -> None:
    client, cited = served
    cases = question_set()
    assert len(cases) >= 100
    failures = {}
    for case in cases:
        errs = problems(case, _ask(client, case["q"], case.get("ctx")), cited)
        if errs:
            failures[case["q"]] = errs
    assert not failures, failures


def test_every_example_of_the_casepilot_page_is_answered(served: tuple[httpx.Client, CitedData]) -> None:
    client, cited = served
    for question in example_questions():
        body = _ask(client, question)
        assert body["kind"] == "answer" and body["citations"], question
        errs = problems({"q": question, "topic": body["topic"]}, body, cited)
        assert not errs, (question, errs)


@pytest.mark.parametrize(
    "question",
    [
        "\x00\x01\x02 binary \xff\xfe",
        "%s%s%s%n",
        "' OR 1=1; DROP TABLE codes; --",
        "\u202e\u200b99213\u2066",
        "modifier modifier modifier",
        "icd-9 icd-9 icd-9",
        "E11.9 " * 80,
        "99213 and " * 45 + "93000",
        "What does Medicare pay in Narnia for 99213?",
        'LCD for "unterminated',
        "code for *",
        "NEAR(a b) OR AND NOT",
        "{heading} : x",
        "J1100 J1100 J1100",
        "0DTJ4ZZ 0DTJ4ZZ with 99213",
        "payment for 99213-26-TC-59 in NY",
    ],
)
def test_odd_questions_get_an_answer_never_a_5xx(
    served: tuple[httpx.Client, CitedData], question: str
) -> None:
    client, cited = served
    r = client.post("/gate/ask", json={"question": question[:500]})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["answer"]["text"]
    assert not problems({"q": question, "topic": body["topic"]}, body, cited)
