"""Trusts as records, distance from Easting/Northing, and what matching makes of them and of
report cards.  The schools' trusts and coordinates come from tests/data/gias_current.csv (see
its generator's docstring), the report cards from tests/data/ofsted_mi.csv."""

from __future__ import annotations

import pytest

from tests.conftest import Run
from tests.test_gias_current import CURRENT, imp
from tests.test_ofsted import MI


@pytest.fixture
def world(mini: Run) -> Run:
    imp(mini, CURRENT)
    mini("import", "ofsted", str(MI), ok=True)
    return mini


def ids(rows):  # type: ignore[no-untyped-def]
    return [r["id"] if "id" in r else r["leader_id"] for r in rows]


def test_trust_show_by_uid_or_name_lists_schools_cards_and_leaders(world: Run):
    by_uid = world.json("trust", "show", "5001")
    assert by_uid == world.json("trust", "show", "northern lights trust")
    assert world.json("trust", "show", "Tamar")["uid"] == "5002"  # a unique part of the name
    assert (by_uid["uid"], by_uid["name"], by_uid["type"]) == (
        "5001", "Northern Lights Trust", "multi-academy trust")
    assert [(s["urn"], s["name"]) for s in by_uid["schools"]] == [
        (131542, "Brookfield Primary School"), (140010, "Kentish Town Academy")]
    assert ids(by_uid["leaders"]) == ["L9001"]
    tamar = world.json("trust", "show", "5002")
    card = tamar["schools"][0]["report_card"]
    assert card["safeguarding"] == "not met" and card["start"] == "2026-02-24"
    plain = world("trust", "show", "5002", "--format", "plain", ok=True).stdout
    assert ("131545\tPlymouth Sound Academy\tPlymouth\tSouth West\tsecondary\topen\t2026-02-24; "
            "attendance-and-behaviour needs attention; safeguarding not met") in plain
    for term, code, message in [
            ("9999", 1, "no trust with UID or name '9999' (trusts come from `s2s import gias`)"),
            ("trust", 2, "'trust' matches several trusts: Northern Lights Trust (5001), Tamar "
                         "Learning Trust (5002); give the UID")]:
        result = world("trust", "show", term)
        assert (result.exit_code, result.stderr.strip()) == (code, f"Error: {message}")


def test_find_by_trust(world: Run):
    assert ids(world.json("find", "--trust", "5001")) == ["L9001"]
    assert ids(world.json("find", "--trust", "Tamar Learning Trust")) == ["L9005", "L9006"]


def urns(rows):  # type: ignore[no-untyped-def]
    return [r["urn"] for r in rows]


def test_school_list_by_trust_and_grade_below_uses_finds_filters(world: Run):
    assert urns(world.json("school", "list", "--trust", "5001")) == [131542, 140010]
    assert urns(world.json("school", "list", "--trust", "Tamar Learning Trust")) == [131545]
    assert urns(world.json("school", "list", "--trust", "tamar")) == [131545]  # a unique part
    # Bolton High: achievement needs attention, leadership urgent improvement; Plymouth Sound:
    # attendance and behaviour needs attention (tests/data/ofsted_mi.csv)
    assert urns(world.json("school", "list", "--grade-below", "any=expected standard")) == [
        131543, 131545]
    assert urns(world.json("school", "list", "--grade-below", "achievement=expected")) == [
        131543]
    assert urns(world.json("school", "list", "--grade-below", "leadership=needs attention",
                           "--grade-below", "achievement=3")) == [131543]
    assert urns(world.json("school", "list", "--grade-below", "inclusion=expected")) == []
    assert urns(world.json("school", "list", "--trust", "5002", "--grade-below",
                           "attendance=expected standard")) == [131545]
    assert world.json("school", "list", "--trust", "5001", "--grade-below", "any=3") == []
    # the same schools as find's home schools with leaders, by the same filter code
    homes = {r["home_school_urn"] for r in world.json("find", "--grade-below", "any=3")}
    assert homes <= set(urns(world.json("school", "list", "--grade-below", "any=3")))
    for args, code, message in [
            (["--trust", "9999"], 1, "no trust with UID or name '9999' (trusts come from "
                                     "`s2s import gias`)"),
            (["--trust", "trust"], 2, "'trust' matches several trusts: Northern Lights Trust "
                                      "(5001), Tamar Learning Trust (5002); give the UID"),
            (["--grade-below", "achievement"], 2, "--grade-below must look like AREA=GRADE "
             "(e.g. leadership-and-governance='expected standard'), not 'achievement'"),
            (["--grade-below", "x", "--trust", "9999"], 2, "--grade-below must look like "
             "AREA=GRADE (e.g. leadership-and-governance='expected standard'), not 'x'")]:
        result = world("school", "list", *args)
        assert (result.exit_code, result.stderr.strip()) == (code, f"Error: {message}"), args


def test_find_near_orders_by_distance_and_shows_it(world: Run):
    rows = world.json("find", "--near", "131542", "--within", "15")
    assert [(r["id"], r["distance_km"]) for r in rows] == [
        ("L9001", 0.0), ("L9002", 12.5), ("L9004", 12.5)]
    assert [r["id"] for r in world.json("find", "--near", "Kentish Town Academy", "--within",
                                        "5")] == ["L9001"]
    everyone = world.json("find", "--near", "131542", "--limit", "4")
    assert [r["distance_km"] for r in everyone] == [0.0, 12.5, 12.5, 274.6]  # Bolton
    no_coords = world("find", "--near", "140015")
    assert no_coords.exit_code == 1 and "has no Easting/Northing" in no_coords.stderr
    for args, fragment in [(["--within", "5"], "--within needs --near"),
                           (["--near", "131542", "--within", "0"], "--within must be"),
                           (["--near", "131542", "--within", "nan"], "--within must be")]:
        result = world("find", *args)
        assert result.exit_code == 2 and fragment in result.stderr, (args, result.stderr)


def test_match_says_how_far_and_same_trust(world: Run):
    rid = world.json("request", "log", "--school", "140010", "--need", "achievement", "-s",
                     "phonics", "--days", "2")["id"]
    rows = {r["leader_id"]: r for r in world.json("match", str(rid))}
    assert "1.2 km away" in rows["L9001"]["reasons"]
    assert "same trust: Northern Lights Trust" in rows["L9001"]["reasons"]
    assert "12.9 km away" in rows["L9002"]["reasons"]
    assert not any("same LA" in r or "same region" in r for r in rows["L9002"]["reasons"])
    # a school without coordinates: nearness falls back to LA / region
    rid = world.json("request", "log", "--school", "140015", "--need", "achievement")["id"]
    rows = {r["leader_id"]: r for r in world.json("match", str(rid))}
    assert "same LA: Plymouth" in rows["L9005"]["reasons"]
    assert not any("km away" in r for r in rows["L9005"]["reasons"])


def test_match_uses_the_home_schools_report_card(world: Run):
    rid = world.json("request", "log", "--school", "131542", "--need",
                     "leadership-and-governance")["id"]
    rows = {r["leader_id"]: r for r in world.json("match", str(rid))}
    assert ("flag: home school has urgent improvement in leadership and governance"
            in rows["L9003"]["reasons"])  # Bolton High
    assert "flag: home school safeguarding not met" in rows["L9006"]["reasons"]  # Plymouth
    assert ("home school strong standard in leadership and governance"
            in rows["L9004"]["reasons"])  # Richmond Park
    order = [r["leader_id"] for r in world.json("match", str(rid), "--limit", "10")]
    assert order.index("L9004") < order.index("L9006")
