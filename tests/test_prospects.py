"""`s2s prospects`: the schools whose latest report card shows a concern, most severe first,
with what we could offer them.  Report cards from tests/data/ofsted_mi.csv, coordinates from
tests/data/gias_current.csv."""

from __future__ import annotations

import pytest

from tests.conftest import MINI, Run, init_db
from tests.test_gias_current import CURRENT, imp
from tests.test_ofsted import MI


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2026-09-10")


@pytest.fixture
def bare(db: str) -> Run:
    """The test directory on a database without the bundled demo (whose report cards make
    prospects of their own: tests/test_demo.py)."""
    init_db(db, demo=False)
    run = Run(db)
    run("seed", "load", str(MINI), ok=True)
    return run


@pytest.fixture
def world(bare: Run) -> Run:
    imp(bare, CURRENT)
    bare("import", "ofsted", str(MI), "--add-schools", ok=True)
    return bare


def test_prospects_most_severe_first_with_areas_support_and_leaders(world: Run):
    rows = world.json("prospects")
    assert [(r["urn"], r["severity"]) for r in rows] == [
        (131543, 8), (131545, 6), (140001, 1)]
    bolton, plymouth, stmarys = rows
    assert bolton == {
        "urn": 131543, "name": "Bolton High School", "local_authority": "Bolton",
        "region": "North West", "phase": "secondary", "severity": 8,
        "areas": {"achievement": "needs attention",
                  "leadership-and-governance": "urgent improvement"},
        "safeguarding": "met", "category_of_concern": "Special measures",
        "inspected": "2026-01-13", "published": "2026-02-20", "supported": False,
        "active_deployments": 0,
        # phonics/maths/assessment/curriculum/business-management holders, not L9003 (based
        # there) nor L9007 (inactive)
        "leaders_available": 5, "distance_km": None}
    assert (plymouth["areas"], plymouth["safeguarding"], plymouth["leaders_available"]) == (
        {"attendance-and-behaviour": "needs attention"}, "not met", 0)
    assert stmarys["areas"] == {"inclusion": "needs attention"}
    # Richmond Park (all expected or better) and Brookfield (legacy grades only) are not here
    rid = world.json("request", "log", "--school", "131543", "--need", "achievement",
                     "--days", "2")["id"]
    world("deploy", str(rid), "--leader", "L9002", "--start", "2026-09-14", ok=True)
    bolton = world.json("prospects", "--limit", "1")[0]
    assert (bolton["supported"], bolton["active_deployments"]) == (True, 1)


def test_prospects_filters(world: Run):
    def urns(*args: str) -> list[int]:
        return [r["urn"] for r in world.json("prospects", *args)]

    assert urns("--area", "leadership") == [131543]
    assert urns("--area", "inclusion") == [140001]
    assert urns("--region", "London") == [140001]
    assert urns("--la", "Plymouth") == [131545]
    near = world.json("prospects", "--near", "131542")
    assert [(r["urn"], r["distance_km"]) for r in near] == [(131543, 274.6), (131545, 309.2)]
    assert urns("--near", "131542", "--within", "300") == [131543]
    assert urns("--limit", "2") == [131543, 131545]
    csv_out = world("prospects", "--format", "csv", "--la", "Bolton", ok=True).stdout
    assert csv_out.splitlines() == [
        "urn,name,local_authority,region,phase,severity,areas,safeguarding,"
        "category_of_concern,inspected,published,supported,active_deployments,"
        "leaders_available,distance_km",
        "131543,Bolton High School,Bolton,North West,secondary,8,achievement=needs attention;"
        "leadership-and-governance=urgent improvement,met,Special measures,2026-01-13,"
        "2026-02-20,false,0,5,"]
    for args, code, fragment in [
            (["--area", "wellness"], 2, "unknown report-card area"),
            (["--region", "Atlantis"], 2, "unknown region"),
            (["--within", "5"], 2, "--within needs --near"),
            (["--limit", "0"], 2, "--limit"),
            (["--near", "140015"], 1, "has no Easting/Northing")]:
        result = world("prospects", *args)
        assert result.exit_code == code and fragment in result.stderr, (args, result.stderr)


def test_no_report_cards_no_prospects(bare: Run):
    assert bare.json("prospects") == []
    assert bare("prospects", ok=True).stdout.startswith("urn\tname")
