"""The SQLite export path (`output.write_raw_batches` over `export.raw_batches`) writes the
same bytes as the row-by-row path it replaced (`export.rows` + `output.write_records`, kept
for PostgreSQL and the audit trail): hostile cells included - formulas, quotes, commas, line
breaks, control characters (the batch separator among them), backslashes, unicode, NULLs,
large integers, floats, odd booleans, dates and timestamps in every stored shape."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s2s_cli import output
from s2s_cli.fastdb import sqlite_reader
from s2s_cli.services import export as exporter
from tests.conftest import PG_URL, Run

HOSTILE_TEXT = [
    "", " ", "plain", "=SUM(A1:A9)", "+44 1632", "-12", "@cmd", "\tTab", "\rCR", "a,b",
    'say "hi"', "line\nbreak", "crlf\r\nend", "back\\slash", "\\", '"', ",", "'quoted'",
    "unit\x1fsep", "rec\x1esep", "\x00nul", "bell\x07", "Zoë Brontë ’", "日本語", "emoji 🎉",
    "\u2028ls", "null", "true", "Infinity", "NaN", "]\x1f[", "[1]", "{}", "%s %d %%", "x" * 300,
]
HOSTILE_INTS = [0, 1, -1, 2, 7, -5, 2**31, 2**53 + 1, 2**62, -(2**63), 2**63 - 1]


def old_way(rows: list[tuple[Any, ...]], keys: tuple[str, ...], kinds: tuple[str, ...],
            convert: list[tuple[int, Any]], excel: bool = False) -> tuple[str, str]:
    fixed = []
    for raw in rows:
        row = list(raw)
        for i, fn in convert:
            if row[i] is not None:
                row[i] = fn(row[i])
        fixed.append(tuple(row))
    csv_out, json_out = io.StringIO(), io.StringIO()
    n = output.write_records(fixed, keys, kinds, csv_out, json_out, excel=excel)
    assert n == len(rows)
    return csv_out.getvalue(), json_out.getvalue()


def new_way(rows: list[tuple[Any, ...]], keys: tuple[str, ...], kinds: tuple[str, ...],
            convert: list[tuple[int, Any]], batch: int, excel: bool = False) -> tuple[str, str]:
    csv_out, json_out = io.StringIO(), io.StringIO()
    batches = [rows[i:i + batch] for i in range(0, len(rows), batch)]
    n = output.write_raw_batches(batches, keys, kinds, csv_out, json_out, convert=convert,
                                 excel=excel)
    assert n == len(rows)
    return csv_out.getvalue(), json_out.getvalue()


SPEC = exporter.TableSpec("t", ("id", "name", "flag", "day", "at", "count", "ratio"),
                          ("int", "text", "bool", "date", "datetime", "int", "int"), ("id",))


def hostile_rows() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    stamps = ["2025-09-01 08:00:00.000000", "2025-09-01 08:00:00.123456", "2025-09-01 08:00:00",
              "2025-09-01T08:00:00+01:00", "2026-03-29 01:30:00.000001", None]
    days = ["2026-09-07", "2026-09-07 00:00:00.000000", "2026-09-07T00:00", None]
    flags = [0, 1, 2, -1, None]
    for i, text in enumerate(HOSTILE_TEXT):
        rows.append((i, text, flags[i % len(flags)], days[i % len(days)],
                     stamps[i % len(stamps)], HOSTILE_INTS[i % len(HOSTILE_INTS)],
                     None if i % 3 else text))
    # clean rows around them, so batches of both kinds occur
    for i in range(len(HOSTILE_TEXT), len(HOSTILE_TEXT) + 40):
        rows.append((i, f"Leader {i}", i % 2, "2026-01-05", "2025-09-01 08:00:00.000000",
                     i * 1000, None))
    rows.append((10**6, None, None, None, None, None, None))  # a row of NULLs
    rows.append((10**6 + 1, "text in an int column", 1, "2026-01-05", None, "12", 1.5))
    rows.append((10**6 + 2, "floats", 1, None, None, 1.25, 1e16))
    return rows


@pytest.mark.parametrize("batch", [1, 2, 7, 2000])
@pytest.mark.parametrize("excel", [False, True])
def test_raw_batches_write_the_bytes_write_records_wrote(batch: int, excel: bool) -> None:
    rows = hostile_rows()
    convert = exporter.converters(SPEC)
    assert new_way(rows, SPEC.columns, SPEC.kinds, convert, batch, excel) == old_way(
        rows, SPEC.columns, SPEC.kinds, convert, excel)


def test_non_finite_floats_and_empty_input() -> None:
    rows = [(1, "a", 1, None, None, math.inf, None), (2, "b", 0, None, None, -math.inf, "x"),
            (3, "c", None, None, None, 5, None)]
    convert = exporter.converters(SPEC)
    for batch in (1, 2, 3):
        assert new_way(rows, SPEC.columns, SPEC.kinds, convert, batch) == old_way(
            rows, SPEC.columns, SPEC.kinds, convert)
    assert new_way([], SPEC.columns, SPEC.kinds, convert, 5) == old_way(
        [], SPEC.columns, SPEC.kinds, convert)
    assert new_way([], SPEC.columns, SPEC.kinds, convert, 5)[1] == ""  # the caller closes ]


def test_batch_separator_in_a_cell_splits_nothing() -> None:
    rows = [(1, "a\x1fb", 1, "2026-01-01", None, 2, "]\x1f["), (2, "\x1f", 0, None, None, 3, "")]
    convert = exporter.converters(SPEC)
    csv_text, json_text = new_way(rows, SPEC.columns, SPEC.kinds, convert, 2)
    items = json.loads("[" + json_text + "]")
    assert [i["name"] for i in items] == ["a\x1fb", "\x1f"]
    assert (csv_text, json_text) == old_way(rows, SPEC.columns, SPEC.kinds, convert)


cell_text = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(HOSTILE_TEXT))
cell_int = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(cell_int, cell_text, st.one_of(st.none(), st.integers(-2, 2)),
                          st.one_of(st.none(), st.dates().map(dt.date.isoformat)),
                          st.one_of(st.none(), st.datetimes().map(str)), cell_int, cell_text),
                max_size=25),
       st.integers(min_value=1, max_value=9))
def test_any_rows_any_batches(rows: list[tuple[Any, ...]], batch: int) -> None:
    convert = exporter.converters(SPEC)
    assert new_way(rows, SPEC.columns, SPEC.kinds, convert, batch) == old_way(
        rows, SPEC.columns, SPEC.kinds, convert)


def old_export(db: str) -> dict[str, str]:
    """What the row-by-row implementation wrote for each table: CSV file and JSON items."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        reader = sqlite_reader(conn)
        masker = exporter.load_masker(reader)
        out = {}
        for spec in exporter.tables():
            csv_out, json_out = io.StringIO(), io.StringIO()
            output.write_records(exporter.rows(reader, spec, masker), spec.columns, spec.kinds,
                                 csv_out, json_out)
            out[f"{spec.name}.csv"] = csv_out.getvalue()
            out[spec.name] = json_out.getvalue()
        return out
    finally:
        conn.close()


def spoil(db: str) -> None:
    """Hostile values straight into the file, in the columns the fast path formats."""
    conn = sqlite3.connect(db)
    with contextlib.closing(conn), conn:
        day_ids = [r[0] for r in conn.execute("SELECT id FROM day_log ORDER BY id")]
        for n, did in enumerate(day_ids):
            text = HOSTILE_TEXT[n % len(HOSTILE_TEXT)]
            conn.execute("UPDATE day_log SET note = ?, over_reason = ?, created_at = ? "
                         "WHERE id = ?", (text, None if n % 2 else "=1+1",
                                          "2026-09-07 10:11:12.654321", did))
        for n, (urn,) in enumerate(conn.execute("SELECT urn FROM school ORDER BY urn")
                                   .fetchall()):
            conn.execute("UPDATE school SET name = ?, pupils = ?, teaching_school = ? "
                         "WHERE urn = ?", (HOSTILE_TEXT[(n * 7) % len(HOSTILE_TEXT)],
                                           HOSTILE_INTS[n % len(HOSTILE_INTS)], n % 3, urn))
        conn.execute("UPDATE leader SET notes = ?, phone = ?", ("a \"b\"\nc, =d", "+44 1632"))
        conn.execute("UPDATE support_request SET note = ?, received = ?",
                     ("@SUM(1)\x1f\\", "2026-09-07 00:00:00.000000"))


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite path (PostgreSQL keeps export.rows)")
def test_export_of_a_hostile_database_is_byte_identical(mini: Run, tmp_path: Path) -> None:
    from tests.test_invoicing import deploy, log

    dep = deploy(mini, school=131542, leader="L9003", days="3")
    log(mini, dep, "2026-09-21", "2026-09-22", "2026-09-23")
    spoil(mini.target)
    before = old_export(mini.target)
    mini("-q", "export", "--out", str(tmp_path / "x"), ok=True)
    folder = tmp_path / "x"
    doc = (folder / exporter.JSON_NAME).read_text(encoding="utf-8")
    tables = doc[doc.index('"tables": {') + len('"tables": {'):]
    for spec in exporter.tables():
        assert (folder / f"{spec.name}.csv").read_bytes() == before[f"{spec.name}.csv"].encode(
        ), spec.name
        start = tables.index("\n" + json.dumps(spec.name) + ": [") + len(spec.name) + 6
        items = before[spec.name]
        assert tables[start:start + len(items)] == items, spec.name
        assert tables[start + len(items):].startswith("\n]" if items else "]"), spec.name
    assert "'=1+1" in (folder / "day_log.csv").read_text(encoding="utf-8")
    assert json.loads(doc)["tables"]["leader"][0]["notes"] == "a \"b\"\nc, =d"


def tables_part(folder: Path) -> tuple[dict[str, bytes], str]:
    """Every CSV file, and the JSON document less its `exported_at` stamp."""
    doc = (folder / exporter.JSON_NAME).read_text(encoding="utf-8")
    csvs = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".csv"}
    return csvs, doc[doc.index('"schema_revision"'):]


def busy_hostile(mini: Run) -> None:
    from tests.test_invoicing import deploy, log

    dep = deploy(mini, school=131542, leader="L9003", days="3")
    log(mini, dep, "2026-09-21", "2026-09-22", "2026-09-23")
    spoil(mini.target)


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite path")
def test_the_largest_table_in_a_second_process_writes_the_same_bytes(
        mini: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    busy_hostile(mini)
    mini("-q", "export", "--out", str(tmp_path / "one"), ok=True)
    assert exporter.side_table(mini.target, exporter.tables()) is None  # small: one process
    monkeypatch.setattr(exporter, "SIDE_ROWS", 1)
    plan = exporter.side_table(mini.target, exporter.tables())
    assert plan is not None and plan[0].name != "audit_log"
    side = plan[0]
    forked = []
    real = exporter.SideExport.finish

    def finish(self):  # type: ignore[no-untyped-def]
        forked.append(self.spec.name)
        return real(self)

    monkeypatch.setattr(exporter.SideExport, "finish", finish)
    done = mini("export", "--out", str(tmp_path / "two"), ok=True)
    assert forked == [side.name]
    assert tables_part(tmp_path / "two") == tables_part(tmp_path / "one")
    assert "Exported" in done.stderr and sorted(p.name for p in (tmp_path / "two").iterdir()) \
        == sorted(p.name for p in (tmp_path / "one").iterdir())  # no temporary file left


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite path")
def test_a_commit_before_both_snapshots_are_taken_keeps_one_process(
        mini: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write committed after the side process took its snapshot but before this one did
    would split the export across two moments: PRAGMA data_version sees it, the side process
    stops unused, and every table (the new day included) comes from this process's snapshot."""
    import subprocess
    import sys

    from tests.conftest import query
    from tests.test_invoicing import deploy

    dep = deploy(mini, school=131542, leader="L9003", days="3")
    monkeypatch.setattr(exporter, "SIDE_ROWS", 1)
    real_masker, used = exporter.load_masker, []

    def masker_after_a_write(reader):  # type: ignore[no-untyped-def]
        done = subprocess.run([sys.executable, "-m", "s2s_cli", "--db", mini.target, "-q",
                               "log", str(dep), "--date", "2026-09-21"],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return real_masker(reader)

    real_confirm = exporter.SideExport.confirm

    def confirm(self, same):  # type: ignore[no-untyped-def]
        used.append(real_confirm(self, same))
        return used[-1]

    monkeypatch.setattr(exporter, "load_masker", masker_after_a_write)
    monkeypatch.setattr(exporter.SideExport, "confirm", confirm)
    mini("-q", "export", "--out", str(tmp_path / "x"), ok=True)
    assert used == [False]
    days = (tmp_path / "x" / "day_log.csv").read_text(encoding="utf-8").splitlines()
    assert len(days) - 1 == query(mini.target, "SELECT count(*) FROM day_log")[0][0]
    assert any(",2026-09-21," in line for line in days)


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite path")
def test_a_failing_side_process_leaves_the_previous_export(
        mini: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "x"
    mini("-q", "export", "--out", str(folder), ok=True)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.setattr(exporter, "SIDE_ROWS", 1)
    plan = exporter.side_table(mini.target, exporter.tables())
    assert plan is not None
    side = plan[0]
    real = exporter.raw_batches

    def failing(reader, spec, *part):  # type: ignore[no-untyped-def]
        whole_or_first = not part or part[0] is None or part[0][0] == "<"
        if spec.name == side.name and whole_or_first:  # what the side process reads
            raise RuntimeError("disk on fire")
        return real(reader, spec, *part)

    monkeypatch.setattr(exporter, "raw_batches", failing)
    monkeypatch.delenv("S2S_RAISE_ERRORS", raising=False)
    result = mini("export", "--out", str(folder))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: export of {side.name}: disk on fire"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite path")
@pytest.mark.parametrize("where", ["first", "middle", "past the end"])
def test_a_table_split_between_the_two_processes_writes_the_same_bytes(
        mini: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    from tests.conftest import query

    busy_hostile(mini)
    mini("-q", "export", "--out", str(tmp_path / "one"), ok=True)
    ids = [r[0] for r in query(mini.target, "SELECT id FROM day_log ORDER BY id")]
    cut = {"first": ids[0], "middle": ids[len(ids) // 2], "past the end": ids[-1] + 1}[where]
    spec = next(s for s in exporter.tables() if s.name == "day_log")
    monkeypatch.setattr(exporter, "side_table", lambda target, specs: (spec, cut))
    mini("-q", "export", "--out", str(tmp_path / "two"), "--excel", ok=True)
    mini("-q", "export", "--out", str(tmp_path / "three"), ok=True)
    assert tables_part(tmp_path / "three") == tables_part(tmp_path / "one")
    excel = (tmp_path / "two" / "day_log.csv").read_bytes()
    assert excel == "\ufeff".encode() + (tmp_path / "one" / "day_log.csv").read_bytes()
