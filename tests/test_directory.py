"""The directory: the bundled seed, `find` with every filter, aliases, output contracts,
leader/school/specialisms views."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from s2s_cli import taxonomy

FIND_KEYS = {"id", "name", "kind", "specialisms", "home_school_urn", "home_school",
             "local_authority", "region", "phase", "email", "capacity_days"}


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["id"] for row in json.loads(result.stdout)]


def test_bundled_seed_meets_the_brief(cli):
    rows = cli.json("find", "--include-inactive")
    assert len(rows) >= 120
    kinds = {r["kind"] for r in rows}
    assert kinds == set(taxonomy.KINDS)
    assert sum(r["kind"] == "SLE" for r in rows) > len(rows) / 2
    held_by_sle = {s for r in rows if r["kind"] == "SLE" for s in r["specialisms"]}
    assert held_by_sle == {s.slug for s in taxonomy.SPECIALISMS}
    phonics_regions = {r["region"] for r in rows if "phonics" in r["specialisms"]}
    assert len(phonics_regions) >= 3
    assert all(r["email"].endswith("@example.org") for r in rows)
    assert {r["region"] for r in rows} <= set(taxonomy.REGIONS)


def test_find_json_and_csv_contract(mini):
    rows = mini.json("find", "--specialism", "phonics")
    assert [r["id"] for r in rows] == ["L9001", "L9002"]
    first = rows[0]
    assert FIND_KEYS <= set(first)
    assert first == {
        "id": "L9001", "name": "Amira Okafor", "kind": "SLE",
        "specialisms": ["early-years", "phonics"], "home_school_urn": 131542,
        "home_school": "Brookfield Primary School", "local_authority": "Camden",
        "region": "London", "phase": "primary", "email": "amira.okafor@example.org",
        "capacity_days": 20,
    }
    out = mini("find", "--specialism", "phonics", "--format", "csv", ok=True).stdout
    reader = list(csv.reader(io.StringIO(out)))
    assert reader[0] == ["id", "name", "kind", "specialisms", "home_school_urn", "home_school",
                         "local_authority", "region", "phase", "email", "capacity_days"]
    assert reader[1][:4] == ["L9001", "Amira Okafor", "SLE", "early-years;phonics"]
    assert len(reader) == 3
    assert "\x1b[" not in out


@pytest.mark.parametrize("args,expected", [
    (["--specialism", "phonics", "--region", "London", "--phase", "primary"],
     ["L9001", "L9002"]),
    (["--specialism", "phonics", "--specialism", "maths"], ["L9002"]),
    (["--specialism", "maths"], ["L9002", "L9003"]),
    (["--kind", "nle"], ["L9004"]),
    (["--kind", "NLG"], ["L9005"]),
    (["--region", "north west"], ["L9003"]),
    (["--la", "richmond upon thames"], ["L9002", "L9004"]),
    (["--phase", "secondary"], ["L9003", "L9005", "L9006"]),
    (["--name", "okafor"], ["L9001"]),
    (["--specialism", "curriculum", "--kind", "LLE"], ["L9006"]),
    (["--limit", "2"], ["L9001", "L9002"]),
    (["--name", "%"], []),
])
def test_find_filters(mini, args, expected):
    assert ids(mini("find", *args, "--format", "json", ok=True)) == expected


def test_inactive_leaders_only_with_include_inactive(mini):
    assert "L9007" not in ids(mini("find", "--name", "okafor", "--format", "json"))
    both = ids(mini("find", "--name", "OKAFOR", "--include-inactive", "--format", "json"))
    assert {"L9001", "L9007"} <= set(both)
    # bundled leaders were marked inactive by loading the smaller file, never deleted
    assert len(mini.json("find", "--include-inactive")) > 7


@pytest.mark.parametrize("term,slug", [
    ("maths", "maths"), ("Mathematics", "maths"), ("SEND", "send"), ("sen", "send"),
    ("ICT", "ict"), ("computing", "ict"), ("PSHE", "pshe"), ("RE", "re"), ("PE", "pe"),
    ("MFL", "mfl"), ("EYFS", "early-years"), ("D&T", "design-and-technology"),
    ("DT", "design-and-technology"), ("CPD", "cpd"), ("ITT", "itt"), ("NQT", "nqt"),
    ("ECT", "nqt"), ("most able", "most-able"), ("More Able", "most-able"),
    ("Behaviour and discipline", "behaviour"), ("assessment", "assessment"),
])
def test_short_forms_resolve(cli, term, slug):
    rows = cli.json("find", "--specialism", term, "--include-inactive")
    assert rows, term
    assert all(slug in r["specialisms"] for r in rows)


def test_unknown_specialism_suggests_and_exits_2(cli):
    result = cli("find", "--specialism", "phonix")
    assert result.exit_code == 2
    assert "phonics" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args,fragment", [
    (["--region", "Londn"], "London"),
    (["--la", "Camdem"], "Camden"),
    (["--phase", "primry"], "primary"),
    (["--kind", "XYZ"], "SLE"),
    (["--limit", "0"], "--limit"),
])
def test_bad_filters_exit_2(mini, args, fragment):
    result = mini("find", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_table_output_when_asked(mini):
    out = mini("find", "--specialism", "phonics", "--format", "table", ok=True).stdout
    assert "Amira Okafor" in out and "Brookfield Primary School" in out
    assert "\x1b[" not in out  # piped: no colour codes


def test_markup_in_data_is_not_swallowed(mini, tmp_path):
    text = (tmp_path / "x.yaml")
    src = open("tests/data/mini_directory.yaml").read().replace("Amira Okafor",
                                                               "Amira [bold]Okafor")
    text.write_text(src)
    mini("seed", "load", str(text), ok=True)
    out = mini("find", "--name", "amira", "--format", "table", ok=True).stdout
    assert "[bold]" in out


def test_leader_show(mini):
    row = mini.json("leader", "show", "l9002")
    assert row["id"] == "L9002"
    assert row["designations"] == ["pupil premium reviewer"]
    assert row["designated_by_urn"] == 131542
    result = mini("leader", "show", "L0000")
    assert result.exit_code == 1
    assert "no leader" in result.stderr


def test_school_show_lists_its_leaders(mini):
    row = mini.json("school", "show", "131545")
    assert row["name"] == "Plymouth Sound Academy"
    assert row["teaching_school_hub"] is True
    assert [ldr["id"] for ldr in row["leaders"]] == ["L9005", "L9006", "L9007"]
    assert mini("school", "show", "999999").exit_code == 1
    assert mini("school", "show", "abc").exit_code == 2


def test_school_show_table_lists_leaders_without_repeating_the_school(mini):
    before = mini.json("school", "show", "131545")
    out = mini("school", "show", "131545", "--format", "table", ok=True).stdout
    nested = out[out.index("Leaders based here"):]
    header = nested.splitlines()[2]
    assert [w for w in re.split(r"[│┃\s]+", header) if w] == ["id", "name", "kind",
                                                             "specialisms"]
    for needle in ("Plymouth Sound Academy", "Plymouth", "South West", "secondary"):
        assert needle in out[:out.index("Leaders based here")]  # once, in the record
        assert needle not in nested
    rows = [line for line in nested.splitlines() if "L900" in line]
    assert [re.split(r"[│┃\s]+", r.strip("│ "))[0] for r in rows] == [
        "L9005", "L9006", "L9007"]
    assert mini.json("school", "show", "131545") == before  # JSON unchanged
    assert set(before["leaders"][0]) == {"id", "name", "kind", "specialisms",
                                         "home_school_urn", "home_school", "local_authority",
                                         "region", "phase", "email", "capacity_days"}


def test_specialisms_counts_active_leaders(mini):
    rows = mini.json("specialisms")
    by_slug = {r["slug"]: r for r in rows}
    assert by_slug["phonics"]["active_leaders"] == 2  # L9007 is inactive
    assert by_slug["maths"]["active_leaders"] == 2
    assert by_slug["phonics"]["focus_area"] == "Pupil achievement"
    assert {r["focus_area"] for r in rows if r["slug"] == "assessment"} == {
        "Leadership and management", "Quality of teaching"}
