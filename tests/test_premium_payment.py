"""The "RVUs and payment" section: national payment and the MPFS locality formula, by hand."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from cms_fixtures import CMS, FILES

from generator.premium import mpfs, payment


def _source(tmp_path: Path, gpci: bool = True) -> payment.RvuSource:
    mpfs.import_pprrvu("pprrvu", CMS / FILES["pprrvu"], tmp_path / "r.sqlite")
    g = None
    if gpci:
        mpfs.import_gpci("gpci", CMS / FILES["gpci"], tmp_path / "g.sqlite")
        g = sqlite3.connect(tmp_path / "g.sqlite")
    return payment.RvuSource(sqlite3.connect(tmp_path / "r.sqlite"), g)


def test_locality_payment_matches_a_hand_calculation(tmp_path: Path) -> None:
    src = _source(tmp_path)
    row = src.rows("99213")[0]
    manhattan = next(loc for loc in src.localities if loc.name == "MANHATTAN")
    # Non-facility: (1.30 x 1.088 + 1.33 x 1.284 + 0.10 x 1.818) x 33.2875
    #             = (1.4144 + 1.70772 + 0.1818) x 33.2875 = 3.30392 x 33.2875 = 109.979237
    assert round(payment.locality_payment(row, manhattan, facility=False), 6) == 109.979237
    # Facility:     (1.4144 + 0.56 x 1.284 + 0.1818) x 33.2875 = 2.31524 x 33.2875 = 77.068552
    assert round(payment.locality_payment(row, manhattan, facility=True), 6) == 77.068552
    s = payment.render("99213", src)
    assert s is not None and "<td>NY 01</td><td>MANHATTAN</td><td>$109.98</td><td>$77.07</td>" in s.html


def test_national_payment_and_indicators_in_words(tmp_path: Path) -> None:
    s = payment.render("45378", _source(tmp_path))
    assert s is not None and (s.id, s.kind, s.title) == ("rvu-payment", "rvu", "RVUs and payment")
    # 10.19 x 33.2875 = 339.199625; 5.45 x 33.2875 = 181.416875
    assert "<td>10.19</td><td>5.45</td><td>$339.20</td><td>$181.42</td>" in s.html
    assert '<th scope="row">53</th>' in s.html
    assert "000 — 0 days" in s.html and "2 — standard reduction" in s.html
    assert "Medicare Physician Fee Schedule RVU24 (July 2024), CMS" in s.html
    assert "Geographic practice cost indices GPCI2024 (2024), CMS" in s.html
    # One locality table, closed, with a column pair per payable modifier row (none and 53).
    assert s.html.count("<details>") == 1 and s.html.count('class="gpci-payment"') == 1
    assert ('<th scope="col" colspan="2">No modifier</th><th scope="col" colspan="2">Modifier 53</th>'
            in s.html)
    manhattan = s.html.split("<td>MANHATTAN</td>", 1)[1].split("</tr>", 1)[0]
    assert manhattan.count("<td>$") == 4


def test_not_payable_status_has_no_payment(tmp_path: Path) -> None:
    s = payment.render("G0008", _source(tmp_path))
    assert s is not None and "X — Statutory exclusion" in s.html and "$" not in s.html
    # Said in words, without the locality formula or a table of zeros.
    assert "No payment by locality" in s.html and "(status X, above)" in s.html
    assert "Locality payment =" not in s.html and "gpci-payment" not in s.html
    # A payable code has its table and formula, and no such sentence.
    paid = payment.render("99213", _source(tmp_path))
    assert paid is not None and "Locality payment =" in paid.html
    assert "No payment by locality" not in paid.html


def test_without_gpci_no_locality_table(tmp_path: Path) -> None:
    s = payment.render("99213", _source(tmp_path, gpci=False))
    assert s is not None and "$90.87" in s.html and "Payment by locality" not in s.html


def test_rows_read_at_once_equal_the_rows_read_per_code(tmp_path: Path) -> None:
    src = _source(tmp_path)
    table = src.by_code()
    assert table and set(table) == src.codes()
    for code in table:
        assert table[code] == src.rows(code)
