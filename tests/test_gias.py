"""`s2s import gias`: the national register's extract (Windows-1252, CRLF, columns by name).

tests/data/gias_extract.csv is written for these tests in the real format (real column names,
real local authorities; invented schools): line 5 a closed school, line 6 a Welsh establishment,
line 7 a row without a URN, line 12 an invalid URN, line 13 an update of Brookfield Primary
(131542, a teaching school rated outstanding in s2s), line 14 a row without a name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s2s_cli.services import gias
from tests.conftest import Run

EXTRACT = Path(__file__).parent / "data" / "gias_extract.csv"
SKIPPED = [(6, "not in an English region (GOR (name) 'Wales (pseudo)')", False),
           (7, "missing URN", True),
           (12, "invalid URN '14001X' (6 digits expected)", True),
           (14, "missing EstablishmentName", True)]


def import_json(run: Run, *args: str, path: Path = EXTRACT) -> dict[str, Any]:
    result = run("import", "gias", str(path), *args, "--format", "json", ok=True)
    return json.loads(result.stdout)


def school(run: Run, urn: int) -> dict[str, Any]:
    return run.json("school", "show", str(urn))  # type: ignore[no-any-return]


def test_fixture_is_in_the_real_format() -> None:
    raw = EXTRACT.read_bytes()
    assert raw.count(b"\r\n") == 15 and raw.count(b"\n") == 15  # CRLF throughout
    assert b"\x92" in raw and b"\xe9" in raw  # Windows-1252: ’ and é
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert gias.detect_encoding(EXTRACT) == "cp1252"


def test_import_counts_names_mapping_and_what_is_never_touched(mini: Run) -> None:
    leaders_before = mini.json("find", "--include-inactive")
    result = mini("import", "gias", str(EXTRACT), ok=True)
    for line, reason, _bad in SKIPPED:  # listed on stderr with their line numbers
        assert f"gias_extract.csv:{line}: skipped: {reason}" in result.stderr
    assert "added\t9" in result.stdout and "skipped\t4" in result.stdout
    again = import_json(mini)
    assert {k: again[k] for k in ("encoding", "rows", "added", "updated", "unchanged",
                                  "skipped", "filtered")} == {
        "encoding": "windows-1252", "rows": 14, "added": 0, "updated": 0, "unchanged": 10,
        "skipped": 4, "filtered": 0}
    assert [(s["line"], s["reason"], s["bad"]) for s in again["skipped_rows"]] == SKIPPED
    # Windows-1252 read correctly
    assert school(mini, 140001)["name"] == "St Mary\u2019s CofE Primary School"
    assert school(mini, 140003)["name"] == "Caf\u00e9 Corner Nursery School"
    # GIAS vocabulary mapped to s2s's; statuses stored
    expect = {
        140001: ("Islington", "London", "primary", "voluntary aided school", None, 232, "open"),
        140002: ("Camden", "London", "secondary", "academy", "Northern Lights Trust", 951,
                 "open"),
        140003: ("Islington", "London", "nursery", "other", None, 64, "open"),
        140004: ("Southwark", "London", "primary", "community school", None, None, "closed"),
        140006: ("Bolton", "North West", "special", "special school", None, 120, "open"),
        140007: ("Tameside", "North West", "alternative provision", "pupil referral unit", None,
                 40, "open, but proposed to close"),
        140008: ("Plymouth", "South West", "all-through", "academy", "Tamar Learning Trust",
                 1500, "open"),
        140009: ("Northumberland", "North East", "middle", "foundation school", None, None,
                 "proposed to open"),
        140011: ("Leeds", "Yorkshire and the Humber", "primary", "community school", None, 300,
                 "open"),
    }
    for urn, want in expect.items():
        s = school(mini, urn)
        assert (s["local_authority"], s["region"], s["phase"], s["type"], s["trust"],
                s["pupils"], s["status"]) == want, urn
        assert (s["ofsted"], s["teaching_school"], s["teaching_school_hub"],
                s["national_support_school"]) == (None, False, False, False)
    assert school(mini, 140011)["name"] == "Kirkstall Brook Primary School, Leeds"
    assert school(mini, 140002)["postcode"] == "WC2B 6AA"
    # the existing school: register fields updated, s2s's own judgements kept
    brook = school(mini, 131542)
    assert (brook["pupils"], brook["postcode"]) == (195, "NW1 0AA")
    assert (brook["ofsted"], brook["teaching_school"]) == ("outstanding", True)
    assert [ldr["id"] for ldr in brook["leaders"]] == ["L9001"]
    for missing in (140005, 140010):
        assert mini("school", "show", str(missing)).exit_code == 1
    assert mini.json("find", "--include-inactive") == leaders_before  # leaders untouched


def test_missing_local_authorities_are_created(mini: Run) -> None:
    from s2s_cli import db as dbmod

    with dbmod.make_engine(mini.target).begin() as conn:  # a database older than the list
        conn.exec_driver_sql("DELETE FROM local_authority WHERE name = 'Tameside'")
    dbmod.make_engine(mini.target).dispose()
    assert mini("find", "--la", "Tameside").exit_code == 2  # unknown before
    summary = import_json(mini)
    assert "Tameside" in summary["local_authorities_added"]
    assert "Camden" not in summary["local_authorities_added"]
    assert summary["regions_added"] == []
    assert mini("find", "--la", "Tameside", "--format", "json", ok=True).stdout.strip() == "[]"


def test_reimport_is_idempotent(mini: Run, snapshot: Any) -> None:
    first = import_json(mini)
    assert (first["added"], first["updated"], first["unchanged"]) == (9, 1, 0)
    before = snapshot(mini.target)
    second = import_json(mini)
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 10)
    assert second["local_authorities_added"] == []
    assert snapshot(mini.target) == before  # not even an audit row


def test_open_only_skips_closed_and_proposed_schools(mini: Run) -> None:
    summary = import_json(mini, "--open-only")
    assert (summary["added"], summary["skipped"]) == (7, 6)
    skipped = {s["line"]: s["reason"] for s in summary["skipped_rows"]}
    assert skipped[5] == "status 'Closed' (--open-only)"
    assert skipped[11] == "status 'Proposed to open' (--open-only)"
    assert mini("school", "show", "140004").exit_code == 1
    assert school(mini, 140007)["status"] == "open, but proposed to close"


def test_strict_refuses_the_whole_file(mini: Run, snapshot: Any) -> None:
    before = snapshot(mini.target)
    result = mini("import", "gias", str(EXTRACT), "--strict")
    assert result.exit_code == 2 and result.stdout == ""
    for line, reason, bad in SKIPPED:
        assert (f"gias_extract.csv:{line}: {reason}" in result.stderr) == bad
    assert "3 bad row(s)" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(mini.target) == before
    ok = import_json(mini, "--strict", "--la", "Camden")  # no bad rows among Camden's
    assert (ok["added"], ok["updated"], ok["filtered"]) == (1, 1, 12)


def test_la_and_region_filters(mini: Run) -> None:
    by_region = import_json(mini, "--region", "North West", "--region", "north east")
    assert (by_region["added"], by_region["filtered"]) == (3, 10)
    assert [s["line"] for s in by_region["skipped_rows"]] == [7]
    assert school(mini, 140009)["region"] == "North East"
    assert mini("school", "show", "140001").exit_code == 1
    by_code = import_json(mini, "--la", "206")  # a code works as well as a name
    assert (by_code["added"], by_code["filtered"]) == (2, 12)
    bad = mini("import", "gias", str(EXTRACT), "--region", "Narnia")
    assert bad.exit_code == 2 and "unknown region" in bad.stderr


def test_unknown_la_or_region_is_bad_input_with_a_suggestion(mini: Run, snapshot: Any) -> None:
    before = snapshot(mini.target)
    for args, message in (
            (["--la", "Narnia"], "unknown local authority 'Narnia'"),
            (["--la", "Islingtn"], "(did you mean 'Islington'?)"),  # in the file
            (["--la", "Camden", "--la", "Tamesde"], "(did you mean 'Tameside'?)"),
            (["--la", "999"], "unknown local authority '999'"),
            (["--region", "Londn"], "(did you mean 'London'?)"),
            (["--region", "Narnia"], "unknown region 'Narnia'")):
        result = mini("import", "gias", str(EXTRACT), *args)
        assert result.exit_code == 2, args
        assert result.stdout == "" and message in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert snapshot(mini.target) == before  # nothing written
    # a local authority s2s knows but the file does not name is not a typo: all filtered
    elsewhere = import_json(mini, "--la", "Richmond upon Thames")
    assert (elsewhere["added"], elsewhere["updated"], elsewhere["filtered"]) == (0, 0, 14)
    # names are matched whatever their case, codes as given in the file
    assert import_json(mini, "--la", "camden", "--la", "206")["filtered"] == 10


def test_utf8_with_bom_is_read_as_utf8(mini: Run, tmp_path: Path) -> None:
    utf8 = tmp_path / "extract-utf8.csv"
    utf8.write_bytes(b"\xef\xbb\xbf" + EXTRACT.read_bytes().decode("cp1252").encode("utf-8"))
    summary = import_json(mini, path=utf8)
    assert (summary["encoding"], summary["added"]) == ("utf-8", 9)
    assert school(mini, 140001)["name"] == "St Mary\u2019s CofE Primary School"


def test_updates_follow_the_register(mini: Run, tmp_path: Path) -> None:
    import_json(mini)
    text = EXTRACT.read_bytes().decode("cp1252")
    text = text.replace("Holborn Academy,34,Academy converter,1,Open,01-04-2012,,4,Secondary",
                        "Holborn Park Academy,34,Academy converter,1,Open,01-04-2012,,0,"
                        "Not applicable")
    text = text.replace("5001,Northern Lights Trust,Kingsway", ",,Kingsway")
    changed = tmp_path / "changed.csv"
    changed.write_bytes(text.encode("cp1252"))
    summary = import_json(mini, path=changed)
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 1, 9)
    s = school(mini, 140002)
    assert s["name"] == "Holborn Park Academy"
    assert s["phase"] == "secondary"  # GIAS gave no phase: s2s keeps its own
    assert s["trust"] is None  # a blank trust clears it: the school left its trust
    trail = mini.json("audit", "--table", "school", "--record", "140002")
    actions = sorted(r["action"] for r in trail)
    assert actions == ["insert", "update"]  # one audit row per school change
    update = next(r for r in trail if r["action"] == "update")
    before, after = (json.loads(v) if isinstance(v, str) else v
                     for v in (update["before"], update["after"]))
    assert before == {"name": "Holborn Academy", "trust": "Northern Lights Trust",
                      "trust_uid": "5001"}
    assert after == {"name": "Holborn Park Academy", "trust": None, "trust_uid": None}


def test_not_a_gias_extract(mini: Run, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("id,name\r\n1,x\r\n", encoding="utf-8")
    result = mini("import", "gias", str(other))
    assert result.exit_code == 2 and "'URN'" in result.stderr
    assert mini("import", "gias", str(tmp_path / "missing.csv")).exit_code == 2
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert mini("import", "gias", str(empty)).exit_code == 2


@pytest.mark.parametrize("phase, type_, want", [
    ("Primary", "Community school", "primary"),
    ("Middle deemed primary", "Community school", "middle"),
    ("Not applicable", "Academy special converter", "special"),
    ("Not applicable", "Free schools alternative provision", "alternative provision"),
    ("Not applicable", "Further education", "16 plus"),
    ("16 plus", "Academy 16-19 converter", "16 plus"),
    ("Not applicable", "Other independent school", None),
])
def test_phase_mapping(phase: str, type_: str, want: str | None) -> None:
    assert gias.map_phase(phase, type_) == want


@pytest.mark.parametrize("type_, want", [
    ("Academy sponsor led", "academy"), ("Free schools 16 to 19", "free school"),
    ("Studio schools", "free school"), ("Foundation special school", "special school"),
    ("Other independent special school", "independent school"),
    ("Secure units", "other"), ("", None),
])
def test_type_mapping(type_: str, want: str | None) -> None:
    assert gias.map_type(type_) == want
