"""`s2s import gias` on GIAS as it is now (2025-26 extracts: address, phone, website, trust and
Easting/Northing columns; no Ofsted or RSCRegion columns), with bad cells refused row by row.

tests/data/gias_current.csv is written by tests/data/make_gias_current.py in the current
layout (every column of gias_columns_current.txt, Windows-1252, CRLF, DD-MM-YYYY); its
docstring lists the rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.conftest import Run, query

DATA = Path(__file__).parent / "data"
CURRENT = DATA / "gias_current.csv"
BAD = [(7, "NumberOfPupils '\u00b2' is not a whole number (0-100,000)"),
       (8, "Easting '" + "9" * 25 + "' is not a whole number (0-700,000)"),
       (9, "EstablishmentName is 100,000 characters (at most 200)"),
       (10, "LA (code) 202 is Camden (s2s), not Bolton")]


def imp(run: Run, path: Path = CURRENT, *args: str) -> dict[str, Any]:
    result = run("import", "gias", str(path), *args, "--format", "json", ok=True)
    return json.loads(result.stdout)


def test_fixture_is_in_the_current_layout() -> None:
    raw = CURRENT.read_bytes()
    header = raw.split(b"\r\n", 1)[0].decode("cp1252").split(",")
    assert header == [c for c in (DATA / "gias_columns_current.txt").read_text().splitlines()
                      if c]
    assert len(header) == 135 and "RSCRegion (name)" not in header
    assert not any(c.startswith("Ofsted") for c in header)
    assert b"\xb2" in raw and b"\x92" in raw and b"01-09-2012" in raw


def test_current_extract_reads_address_trust_and_coordinates(mini: Run) -> None:
    demo_trusts = {r[0] for r in query(mini.target, "SELECT uid FROM trust")}  # the demo's
    summary = imp(mini)
    assert {k: summary[k] for k in ("rows", "added", "updated", "skipped", "trusts_added")} == {
        "rows": 10, "added": 2, "updated": 4, "skipped": 4, "trusts_added": 2}
    assert [(s["line"], s["reason"], s["bad"]) for s in summary["skipped_rows"]] == [
        (line, reason, True) for line, reason in BAD]
    s = mini.json("school", "show", "131542")
    assert {k: s[k] for k in ("street", "locality", "address3", "town", "county", "postcode",
                              "phone", "website", "trust", "trust_uid", "trust_type",
                              "easting", "northing", "ofsted")} == {
        "street": "Brookfield Road", "locality": "Dartmouth Park", "address3": None,
        "town": "London", "county": None, "postcode": "NW5 1AA", "phone": "02079460001",
        "website": "www.brookfield.example.org", "trust": "Northern Lights Trust",
        "trust_uid": "5001", "trust_type": "multi-academy trust", "easting": 529000,
        "northing": 184000, "ofsted": "outstanding"}  # GIAS has no grades: ours kept
    assert mini.json("school", "show", "140015")["name"] == "Caf\u00e9 d\u2019Ecole"
    assert [tuple(r) for r in query(mini.target, "SELECT uid, name, type FROM trust "
                                    "ORDER BY uid") if r[0] not in demo_trusts] == [
        ("5001", "Northern Lights Trust", "multi-academy trust"),
        ("5002", "Tamar Learning Trust", "single-academy trust")]
    again = imp(mini)
    assert (again["added"], again["updated"], again["unchanged"], again["trusts_added"]) == (
        0, 0, 6, 0)


def test_bad_cells_are_bad_rows_and_strict_refuses_the_file(mini: Run, snapshot) -> None:
    before = snapshot(mini.target)
    result = mini("import", "gias", str(CURRENT), "--strict")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:4] == [
        f"{CURRENT}:{line}: {reason}" for line, reason in BAD]
    assert snapshot(mini.target) == before


def test_a_duplicate_header_is_refused_for_the_file(mini: Run, snapshot, tmp_path) -> None:
    text = CURRENT.read_bytes().decode("cp1252")
    header, rest = text.split("\r\n", 1)
    dup = tmp_path / "dup.csv"
    dup.write_bytes((header.replace("Town,", "Town,Town,", 1) + "\r\n" + rest).encode("cp1252"))
    before = snapshot(mini.target)
    result = mini("import", "gias", str(dup))
    assert (result.exit_code, result.stderr.strip()) == (
        2, f"Error: {dup}:1: column 'Town' appears twice in the header")
    assert snapshot(mini.target) == before


def test_a_contradicting_code_within_the_file_is_a_bad_row(cli: Run, tmp_path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("URN,LA (code),LA (name),EstablishmentName,GOR (name)\r\n"
                    "150001,999,Newtown,First School,London\r\n"
                    "150002,999,Oldtown,Second School,London\r\n", encoding="utf-8")
    summary = imp(cli, path)
    assert summary["added"] == 1
    assert [(s["line"], s["reason"]) for s in summary["skipped_rows"]] == [
        (3, "LA (code) 999 is Newtown (line 2), not Oldtown")]


def test_an_older_fully_quoted_extract_still_works(mini: Run, tmp_path) -> None:
    """2021-style: every cell quoted, Ofsted and RSC columns present (and ignored)."""
    rows = list(csv.reader(io.StringIO(CURRENT.read_bytes().decode("cp1252"), newline="")))
    header = rows[0] + ["OfstedRating (name)", "RSCRegion (name)", "OfstedLastInsp"]
    body = [r + ["Inadequate", "North West", "01-01-2015"] for r in rows[1:6]]
    buf = io.StringIO(newline="")
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([header, *body])
    path = tmp_path / "edubase2021.csv"
    path.write_bytes(buf.getvalue().encode("cp1252"))
    summary = imp(mini, path)
    assert (summary["added"], summary["updated"], summary["skipped"]) == (1, 4, 0)
    s = mini.json("school", "show", "131542")
    assert (s["ofsted"], s["easting"], s["trust_uid"]) == ("outstanding", 529000, "5001")
