"""`report days --format csv` on PostgreSQL is written by the server's COPY
(`reports.days_csv`): the same bytes `output.write_csv` writes from `reports.days()` -
formulas neutralised, quotes doubled, line breaks kept inside quoted cells, empty text and
NULL alike, halves as days, CRLF line ends.  The PostgreSQL half runs only when
S2S_TEST_PG_URL names a server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from s2s_cli import output
from s2s_cli.cli.reports import COLUMNS
from s2s_cli.services import reports
from tests.conftest import PG_URL, Run
from tests.test_export_fast import HOSTILE_TEXT

on_pg = pytest.mark.skipif(not (PG_URL and PG_URL.startswith("postgresql")),
                           reason="needs S2S_TEST_PG_URL=postgresql+psycopg://...")

# PostgreSQL text holds no NUL; every other hostile cell goes in
TEXTS = [t for t in HOSTILE_TEXT if "\x00" not in t] + ["", "\n", "a\nb\r\nc", '""', "\\."]


def python_csv(target: str, span: reports.Period) -> bytes:
    """What the row-by-row path writes: reports.days() through output.write_csv."""
    from s2s_cli import fastdb

    conn = fastdb.open_pg(target)
    assert conn is not None
    try:
        out = io.StringIO(newline="")
        output.write_csv(reports.days(fastdb.pg_reader(conn), span), COLUMNS["days"], out)
        return out.getvalue().encode("utf-8")
    finally:
        conn.close()


def spoil(target: str) -> None:
    from sqlalchemy import create_engine, text

    from s2s_cli.fastdb import pg_conninfo

    assert pg_conninfo(target)
    engine = create_engine(target)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM day_log ORDER BY id"))]
        for n, did in enumerate(ids):
            conn.execute(text("UPDATE day_log SET note = :note, activity = :act WHERE id = :id"),
                         {"note": TEXTS[n % len(TEXTS)] if n % 5 else None,
                          "act": TEXTS[(n * 3) % len(TEXTS)], "id": did})
        conn.execute(text("UPDATE leader SET name = :n WHERE id = 'L9003'"),
                     {"n": '=HYPERLINK("x"), Zoë\n'})
        conn.execute(text("UPDATE school SET name = :n WHERE urn = 131542"),
                     {"n": "-St \"Mary's\", Brontë\r\nroad"})
    engine.dispose()


def test_not_on_sqlite(mini: Run) -> None:
    if PG_URL:
        pytest.skip("the SQLite half")
    from s2s_cli import fastdb

    conn = fastdb.open_sqlite(mini.target)
    assert conn is not None
    try:
        span = reports.resolve_period("2026-27")
        assert reports.days_csv(fastdb.sqlite_reader(conn), span) is None
    finally:
        conn.close()


@on_pg
def test_copy_csv_is_the_python_csv_byte_for_byte(mini: Run, tmp_path: Path) -> None:
    from tests.test_invoicing import deploy, log

    dep = deploy(mini, school=131542, leader="L9003", days="15")
    days = [f"2026-09-{d:02d}" for d in (7, 8, 9, 10, 11, 14, 15, 16, 17, 18)]
    days += [f"2026-10-{d:02d}" for d in (1, 2, 5, 6, 7, 8)]
    log(mini, dep, *days[:10])
    log(mini, dep, *days[10:], half=True)
    spoil(mini.target)
    span = reports.resolve_period(None, "2026-09-01", "2026-10-31")
    expected = python_csv(mini.target, span)
    assert expected.count(b"\r\n") > len(days) and b"'=HYPERLINK" in expected
    out = tmp_path / "days.csv"
    done = mini("report", "days", "--from", "2026-09-01", "--to", "2026-10-31", "--format",
                "csv", "--out", str(out), ok=True)
    assert out.read_bytes() == expected
    assert f"Wrote {len(days)} days row(s)" in done.stderr
    piped = mini("report", "days", "--from", "2026-09-01", "--to", "2026-10-31", "--format",
                 "csv", ok=True)
    assert piped.stdout_bytes == expected
    excel = tmp_path / "excel.csv"
    mini("report", "days", "--from", "2026-09-01", "--to", "2026-10-31", "--out", str(excel),
         "--excel", ok=True)
    assert excel.read_bytes() == "\ufeff".encode() + expected
    # small blocks: a block boundary falls between every pair of rows
    from s2s_cli import fastdb

    conn = fastdb.open_pg(mini.target)
    assert conn is not None
    blocks: list[bytes] = []
    try:
        body = reports.days_csv(fastdb.pg_reader(conn), span, batch=2)
        assert body is not None
        assert body(blocks.append) == len(days)
    finally:
        conn.close()
    assert len(blocks) == (len(days) + 1) // 2
    header = expected[:expected.index(b"\r\n") + 2]
    assert header + b"".join(blocks) == expected


def test_empty_period_writes_the_header(mini: Run, tmp_path: Path) -> None:
    out = tmp_path / "none.csv"
    mini("report", "days", "--from", "2030-01-01", "--to", "2030-01-31", "--out", str(out),
         ok=True)
    assert out.read_bytes() == (",".join(c.key for c in COLUMNS["days"]) + "\r\n").encode()
