"""The layouts NCCI PTP files were converted to before the grouped one (an imported file in var/ is not
converted again): a row per edit in `ptp` with `c1_rows` spans ("spans") or an index on column 1
("rows"), both with the covering column 2 index. `to_row_layout` rewrites a file of today's converter
into one of them, as the earlier converters wrote it (rows in column 1 order, a code's in file order)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from generator.premium.ncci_import import ID_MASK, REST_SHIFT, unpack


def edit_rows(db: sqlite3.Connection) -> list[tuple[int, int, int | None, int | None, int, int | None]]:
    """(c1, c2, eff, del, mod, rat) of every edit of a grouped file, in column 1 order (file order)."""
    rests = {i: (eff, dele, mod, rat) for i, eff, dele, mod, rat in db.execute("SELECT * FROM rest")}
    return [(c1, v & ID_MASK, *rests[v >> REST_SHIFT])
            for c1, blob in db.execute("SELECT code, edits FROM by_c1 ORDER BY code") for v in unpack(blob)]


def to_row_layout(path: Path, layout: str, *, renumber: bool = False) -> None:
    """`renumber` numbers the codes 1, 2, 3... in code order (as the earliest converters did) instead
    of by their base-36 values."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        rows = edit_rows(db)
        if renumber:
            new_id = {i: n for n, (i,) in enumerate(db.execute("SELECT id FROM codes ORDER BY code"), 1)}
            rows = [(new_id[c1], new_id[c2], *rest) for c1, c2, *rest in rows]
            db.execute("UPDATE codes SET id = -id")
            db.executemany("UPDATE codes SET id = ? WHERE id = ?", [(n, -i) for i, n in new_id.items()])
        db.executescript("""
            DROP TABLE by_c1; DROP TABLE by_c2; DROP TABLE rest;
            CREATE TABLE ptp(c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, eff INTEGER, del INTEGER,
                             mod INTEGER NOT NULL, rat INTEGER);
        """)
        db.executemany("INSERT INTO ptp VALUES (?, ?, ?, ?, ?, ?)", rows)
        if layout == "spans":
            db.execute("CREATE TABLE c1_rows(c1 INTEGER PRIMARY KEY, first INTEGER NOT NULL, "
                       "last INTEGER NOT NULL)")
            db.execute("INSERT INTO c1_rows SELECT c1, min(rowid), max(rowid) FROM ptp GROUP BY c1")
        else:
            assert layout == "rows"
            db.execute("CREATE INDEX ptp_c1 ON ptp(c1, c2, eff, del, mod, rat)")
        db.execute("CREATE INDEX ptp_c2 ON ptp(c2, c1, eff, del, mod, rat)")
        db.execute("ANALYZE")
    finally:
        db.close()
