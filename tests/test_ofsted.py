"""Ofsted report cards: `s2s import ofsted` (the monthly management information file), the
card in `school show`, `--grade-below` on find, and the migration of the single grades held
before report cards.

tests/data/ofsted_mi.csv is written by tests/data/make_ofsted_mi.py in the published layout
(every column of ofsted_mi_columns.txt, Windows-1252, CRLF, DD/MM/YYYY); its docstring lists
the rows: report cards and legacy grades, safeguarding not met, a Windows-1252 name, bad rows
and a broken last line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, query

DATA = Path(__file__).parent / "data"
MI = DATA / "ofsted_mi.csv"
BAD = [(7, "invalid URN '13154X' (6 digits expected)"),
       (8, "Inclusion 'Satisfactory' is not a report-card grade (exceptional, strong "
           "standard, expected standard, needs attention, urgent improvement)"),
       (9, "Inspection start date '31/02/2026' is not a real date"),
       (10, "only 4 of 86 columns: the row is cut off")]


def imp(run: Run, *args: str, path: Path = MI) -> dict[str, Any]:
    result = run("import", "ofsted", str(path), *args, "--format", "json", ok=True)
    return json.loads(result.stdout)


def rows_of(summary: dict[str, Any]) -> list[tuple[int, str]]:
    return [(s["line"], s["reason"]) for s in summary["skipped_rows"]]


def test_fixture_is_in_the_published_layout() -> None:
    raw = MI.read_bytes()
    header = raw.split(b"\r\n", 1)[0].decode("cp1252").split(",")
    published = [c for c in (DATA / "ofsted_mi_columns.txt").read_text().splitlines() if c]
    assert header == published and len(header) == 86
    assert b"\x92" in raw and b"\xe9" in raw  # Windows-1252 ’ and é
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_import_adds_cards_and_legacy_history_then_reimport_changes_nothing(mini, snapshot):
    first = imp(mini)
    assert {k: first[k] for k in ("encoding", "rows", "added", "updated", "unchanged",
                                  "skipped", "unknown_schools", "schools_added")} == {
        "encoding": "windows-1252", "rows": 9, "added": 5, "updated": 0, "unchanged": 0,
        "skipped": 5, "unknown_schools": 1, "schools_added": 0}
    assert rows_of(first) == [(6, "no school with URN 140001 (--add-schools creates it)"),
                              *BAD]
    before = snapshot(mini.target)
    again = imp(mini)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert snapshot(mini.target) == before  # not even an audit row

    card = mini.json("school", "show", "131543")["report_card"]
    assert card["start"] == "2026-01-13" and card["published"] == "2026-02-20"
    assert (card["safeguarding"], card["category_of_concern"]) == ("met", "Special measures")
    assert card["grades"]["leadership-and-governance"] == {
        "grade": "urgent improvement", "score": 5, "date": "2026-01-13"}
    assert list(card["grades"]) == ["inclusion", "curriculum-and-teaching", "achievement",
                                    "attendance-and-behaviour", "personal-development",
                                    "leadership-and-governance"]
    history = mini.json("school", "show", "131543")["inspections"]
    assert [(i["framework"], i["start"]) for i in history] == [
        ("report-card", "2026-01-13"), ("legacy", "2019-03-05")]
    assert history[1]["grades"]["overall-effectiveness"] == {
        "grade": "requires improvement", "score": 3, "date": "2019-03-05"}
    assert history[1]["safeguarding"] == "met"  # "Yes" under the old framework
    plymouth = mini.json("school", "show", "131545")["report_card"]
    assert plymouth["safeguarding"] == "not met"
    assert plymouth["grades"]["post-16"]["grade"] == "expected standard"


def test_school_show_prints_the_card_above_the_legacy_grades(mini):
    imp(mini)
    out = mini("school", "show", "131543", "--format", "plain", ok=True).stdout
    lines = out.splitlines()
    card = lines.index("report_card\tinspected 2026-01-13, published 2026-02-20 (10350001)")
    legacy = next(i for i, ln in enumerate(lines) if ln.startswith("legacy.2019-03-05\t"))
    assert card < legacy
    assert "report_card.leadership-and-governance\turgent improvement (2026-01-13)" in lines
    assert "report_card.category_of_concern\tSpecial measures" in lines
    assert lines[legacy].startswith("legacy.2019-03-05\toverall effectiveness 3 (requires "
                                    "improvement); quality of education 3")
    none = mini("school", "show", "131542", "--format", "plain", ok=True).stdout
    assert "report_card\tnone yet" in none.splitlines()


def test_a_newer_inspection_keeps_the_history_and_a_changed_one_is_updated(mini, tmp_path):
    imp(mini)
    text = MI.read_bytes().decode("cp1252")
    # next month's file: Bolton High re-inspected (new number), Richmond's card re-published
    newer = (text.replace("10350001", "10360001").replace("13/01/2026", "09/06/2026")
             .replace("20/02/2026", "10/07/2026")
             .replace("15/01/2026", "16/01/2026"))
    path = tmp_path / "mi_july.csv"
    path.write_bytes(newer.encode("cp1252"))
    summary = imp(mini, path=path)
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (1, 1, 3)
    history = mini.json("school", "show", "131543")["inspections"]
    assert [(i["framework"], i["start"]) for i in history] == [
        ("report-card", "2026-06-09"), ("report-card", "2026-01-13"), ("legacy", "2019-03-05")]
    assert mini.json("school", "show", "131544")["report_card"]["published"] == "2026-01-16"
    audits = query(mini.target, "SELECT action, before FROM audit_log WHERE table_name = "
                   "'inspection' AND action = 'update'")
    assert len(audits) == 1 and "2026-01-15" in audits[0][1]


def test_add_schools_creates_unknown_schools_from_the_row(mini):
    summary = imp(mini, "--add-schools")
    assert (summary["schools_added"], summary["unknown_schools"], summary["added"]) == (1, 0, 6)
    school = mini.json("school", "show", "140001")
    assert (school["name"], school["local_authority"], school["phase"], school["postcode"]) == (
        "St Mary\u2019s Caf\u00e9 School", "Camden", "primary", "NW1 2AB")
    assert school["report_card"]["grades"]["inclusion"]["grade"] == "needs attention"


def test_utf8_file_and_title_lines_before_the_header(mini, tmp_path):
    text = MI.read_bytes().decode("cp1252")
    path = tmp_path / "mi.csv"
    path.write_text("Management information - state-funded schools\r\n\r\n" + text,
                    encoding="utf-8-sig")
    summary = imp(mini, "--add-schools", path=path)
    assert summary["encoding"] == "utf-8" and summary["added"] == 6
    assert mini.json("school", "show", "140001")["name"] == "St Mary\u2019s Caf\u00e9 School"
    assert [ln for ln, _ in rows_of(summary)] == [9, 10, 11, 12]  # lines of the file as given


def test_progress_bar_on_a_terminal_only_for_a_large_file(mini, tmp_path, monkeypatch):
    """A national file read on a terminal shows a progress bar on stderr (fed as the rows are
    read); a small file, or one read by cron, shows none; the import is the same."""
    import rich.progress

    from s2s_cli import output

    lines = MI.read_bytes().split(b"\r\n")
    padding = b"," * 85 + b"\r\n"  # empty rows (skipped): over 2 MB in all
    big = tmp_path / "big.csv"
    big.write_bytes(b"\r\n".join(lines[:9]) + b"\r\n" + padding * 25_000)
    seen: list[int] = []
    real_update = rich.progress.Progress.update

    def update(self, task, *args, completed=None, **kw):  # type: ignore[no-untyped-def]
        if completed is not None:
            seen.append(completed)
        return real_update(self, task, *args, completed=completed, **kw)

    monkeypatch.setattr(rich.progress.Progress, "update", update)
    summary = imp(mini, path=big)  # not a terminal: no bar
    assert seen == [] and (summary["added"], summary["rows"]) == (5, 8)
    monkeypatch.setattr(output, "_isatty", lambda stream: True)
    imp(mini, path=MI)  # a terminal, but a small file: no bar
    assert seen == []
    again = imp(mini, path=big)
    assert seen and seen[-1] == big.stat().st_size and seen == sorted(seen)
    assert (again["unchanged"], again["added"]) == (5, 0)


def test_strict_refuses_bad_rows_and_bad_files_write_nothing(mini, snapshot, tmp_path):
    before = snapshot(mini.target)
    strict = mini("import", "ofsted", str(MI), "--strict")
    assert strict.exit_code == 2
    assert f"{MI}:8: Inclusion 'Satisfactory'" in strict.stderr
    assert strict.stderr.strip().splitlines()[-1] == (
        f"Error: 4 bad row(s) in {MI}; --strict: nothing was written")
    dup = tmp_path / "dup.csv"
    dup.write_text("URN,Inspection start date,URN\r\n131543,13/01/2026,131543\r\n")
    notmi = tmp_path / "gias.csv"
    notmi.write_text("URN,EstablishmentName\r\n131543,Bolton High School\r\n")
    for path, message in [
            (dup, f"Error: {dup}:1: column 'URN' appears twice in the header"),
            (notmi, f"Error: {notmi}: not an Ofsted management information file: no "
                    "'Inspection start date' or 'Inspection start date of latest OEIF graded "
                    "inspection' column"),
            (tmp_path / "missing.csv", f"Error: no such file: {tmp_path / 'missing.csv'}")]:
        result = mini("import", "ofsted", str(path))
        assert (result.exit_code, result.stderr.strip()) == (2, message)
    assert snapshot(mini.target) == before


def test_grade_below_filters_find_by_the_home_schools_latest_card(mini):
    imp(mini)
    # L9003 is based at Bolton High (needs attention in achievement; urgent improvement in
    # leadership and governance); L9004 at Plymouth Sound (needs attention in attendance)
    ids = {r["id"] for r in mini.json("find", "--grade-below", "achievement=expected")}
    assert ids == {"L9003"}
    ids = {r["id"] for r in mini.json("find", "--grade-below", "any=expected standard")}
    homes = {r["home_school_urn"] for r in mini.json("find", "--grade-below", "any=3")}
    assert homes == {131543, 131545} and "L9003" in ids
    assert mini.json("find", "--grade-below", "leadership=needs attention") == [
        r for r in mini.json("find") if r["home_school_urn"] == 131543]
    for bad, fragment in [("achievement", "AREA=GRADE"), ("wellness=3", "unknown report-card "
                          "area 'wellness'"), ("inclusion=good", "unknown report-card grade")]:
        result = mini("find", "--grade-below", bad)
        assert result.exit_code == 2 and fragment in result.stderr, (bad, result.stderr)


def test_migration_keeps_every_single_grade_as_a_legacy_inspection(db):
    from sqlalchemy import text

    from s2s_cli import db as dbmod
    from s2s_cli import location
    from tests.test_migrations import ROWS_0001, _insert

    engine = dbmod.make_engine(db)
    dbmod.upgrade(engine, "0003")
    with engine.begin() as conn:
        for table in ("region", "local_authority", "specialism", "school"):
            for row in ROWS_0001[table]:
                _insert(conn, table, row)
        for rid, need in [(1, "governance"), (2, "teaching-and-learning"), (3, "achievement"),
                          (4, "behaviour"), (5, "leadership-and-management")]:
            _insert(conn, "support_request", {
                **ROWS_0001["support_request"][0], "id": rid, "need": need})
    dbmod.upgrade(engine)
    assert dbmod.current_revision(engine)[0] == location.SCHEMA_HEAD
    rows = query(db, "SELECT i.school_urn, i.framework, i.source, i.start, g.area, g.grade "
                     "FROM inspection i JOIN inspection_grade g ON g.inspection_id = i.id "
                     "ORDER BY i.school_urn")
    assert [tuple(r) for r in rows] == [
        (131542, "legacy", "directory", None, "overall-effectiveness", 1),
        (131543, "legacy", "directory", None, "overall-effectiveness", 3)]
    assert [tuple(r) for r in query(db, "SELECT urn, ofsted FROM school ORDER BY urn")] == [
        (131542, "outstanding"), (131543, "requires improvement")]  # the column stays
    needs = query(db, "SELECT id, need, need_term FROM support_request ORDER BY id")
    assert [tuple(r) for r in needs] == [
        (1, "leadership-and-governance", "governance"),
        (2, "curriculum-and-teaching", "teaching-and-learning"), (3, "achievement", None),
        (4, "attendance-and-behaviour", "behaviour"),
        (5, "leadership-and-governance", "leadership-and-management")]
    dbmod.upgrade(engine)  # at head: nothing more happens
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inspection")).scalar() == 2
    engine.dispose()
    shown = Run(db)("school", "show", "131543", "--format", "plain", ok=True).stdout
    assert "legacy.undated\toverall effectiveness 3 (requires improvement)" in shown
