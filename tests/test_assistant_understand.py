"""Question understanding: code mentions of every code set's format, modifiers, intents, context."""

from __future__ import annotations

import pytest

from gate.assistant.understand import ICD9, ICD9_PROC, parse


@pytest.mark.parametrize(
    ("question", "token", "codeset"),
    [
        ("What is CPT code 99213?", "99213", "cpt"),
        ("what is cpt 0001U", "0001U", "cpt"),
        ("is 1036F billable", "1036F", "cpt"),
        ("What does E11.65 mean", "E11.65", "icd-10-cm"),
        ("what does e11.65 mean", "E11.65", "icd-10-cm"),
        ("what does E1165 mean", "E1165", "icd-10-cm"),
        ("is s72.001a billable", "S72.001A", "icd-10-cm"),
        ("is S72001A billable", "S72001A", "icd-10-cm"),
        ("T36.0X1A?", "T36.0X1A", "icd-10-cm"),
        ("What is 0DTJ4ZZ?", "0DTJ4ZZ", "icd-10-pcs"),
        ("what is 0dtj4zz", "0DTJ4ZZ", "icd-10-pcs"),
        ("How many units of J1100 can I bill?", "J1100", "hcpcs"),
        ("what's g0008", "G0008", "hcpcs"),
    ],
)
def test_code_mentions_of_every_format(question: str, token: str, codeset: str) -> None:
    q = parse(question)
    assert [m.token for m in q.mentions] == [token]
    assert codeset in q.mentions[0].shapes


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("ICD-10 for 250.00", ("250.00", ICD9)),
        ("icd-9 4019 in icd-10", ("4019", ICD9)),
        ("ICD-10-PCS for ICD-9 procedure 45.73", ("45.73", ICD9_PROC)),
        ("convert V45.01 to icd-10", ("V45.01", ICD9)),
    ],
)
def test_icd9_mentions(question: str, expected: tuple[str, str]) -> None:
    q = parse(question)
    assert [(m.token, m.shapes[-1]) for m in q.mentions] == [expected]


@pytest.mark.parametrize(
    ("question", "mods"),
    [
        ("What does modifier 59 mean?", ["59"]),
        ("what is modifier XS", ["XS"]),
        ("explain the xu modifier", ["XU"]),
        ("modifier 25 vs 59", ["25", "59"]),
        ("modifiers XE, XS and XP", ["XE", "XS", "XP"]),
        ("99213-25 with 20610", ["25"]),
        ("What does NCCI modifier indicator 1 mean?", []),
    ],
)
def test_modifiers(question: str, mods: list[str]) -> None:
    assert parse(question).modifiers == mods


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Can 99213 and 93000 be billed together?", "pair"),
        ("are 45378 and 45380 bundled", "pair"),
        ("How many units of J1100 can I bill?", "mue"),
        ("What does Medicare pay for 99214 in Manhattan?", "payment"),
        ("global days for 27130", "payment"),
        ("Is 99417 an add-on code?", "addon"),
        ("primary codes for 11045", "addon"),
        ("Is there an LCD for cardiac rehabilitation?", "coverage"),
        ("Guidelines for E/M services", "guideline"),
        ("what is a placeholder X", "guideline"),
        ("code for a broken wrist", "find"),
        ("ICD-9 code for E11.9", "crosswalk"),
    ],
)
def test_intents(question: str, intent: str) -> None:
    assert parse(question).wants(intent) > 0


def test_figures_and_words_are_not_codes() -> None:
    q = parse("Is $103.22 right for 2 units in 2024, or 30 minutes of E/M?")
    assert q.mentions == []


def test_pair_in_either_order_and_lcd_ids_and_context() -> None:
    assert [m.token for m in parse("can 93000 and 99213 be billed together").mentions] == ["93000", "99213"]
    assert parse("What is L36668?").lcd_ids == ["L36668"]
    q = parse("Can it be billed with 99213?", "cpt/27252")
    assert q.context == ("cpt", "27252")


def test_control_characters_and_markup_are_plain_text() -> None:
    q = parse("what\x00 is\t<b>99213</b>\x1b[31m")
    assert "\x00" not in q.text and [m.token for m in q.mentions] == ["99213"]
