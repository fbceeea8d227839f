"""The bundled demo carries trusts, coordinates and report cards (so trusts, distance, match and
prospects work on a fresh machine), and a seed file can say all of it: `trust_uid`/`trust_type`,
`easting`/`northing`, `inspections:` - stored as `import gias` / `import ofsted` store them, read
back by `seed dump`, refused with FILE:LINE when wrong - and a school's single `ofsted:` grade
becomes a legacy inspection as the migration to report cards made them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run, dump, init_db, query

# the demo's schools whose report card shows a concern (data/seed_directory.yaml), most severe
# first: Willowbrook (safeguarding not met 5 + special measures 4 + urgent 3 + 2 needs
# attention), then urgent improvement + needs attention (4) by inspection date, ...
DEMO_PROSPECTS = [(104046, 14), (120657, 4), (139547, 4), (129076, 4), (149438, 2),
                  (124099, 2), (138042, 2), (130405, 2), (137261, 1), (103254, 1), (125685, 1)]


def test_the_demo_has_trusts_coordinates_and_report_cards(cli: Run):
    trusts = query(cli.target, "SELECT t.uid, t.name, t.type, count(s.urn) FROM trust t "
                   "JOIN school s ON s.trust_uid = t.uid GROUP BY t.uid, t.name, t.type "
                   "ORDER BY count(s.urn) DESC, t.uid")
    assert len(trusts) == 14 and all(t[2] == "multi-academy trust" for t in trusts)
    assert [(t[1], t[3]) for t in trusts[:5]] == [
        ("Trent Meadows Learning Trust", 6), ("White Rose Learning Partnership", 6),
        ("Riverside Learning Trust", 6), ("Pennine Shores Education Trust", 5),
        ("Tyne Valley Learning Trust", 5)]
    # every school with a trust name is linked to its trust record; every school has a position
    assert query(cli.target, "SELECT count(*) FROM school WHERE trust IS NOT NULL AND "
                 "trust_uid IS NULL")[0][0] == 0
    assert query(cli.target, "SELECT count(*) FROM school WHERE easting IS NULL OR "
                 "northing IS NULL")[0][0] == 0
    # a third of the schools have a report card since 10 November 2025; some legacy history
    assert query(cli.target, "SELECT count(DISTINCT school_urn) FROM inspection WHERE "
                 "framework = 'report-card' AND start >= '2025-11-10'")[0][0] == 32
    assert query(cli.target, "SELECT count(*) FROM inspection WHERE framework = 'legacy' AND "
                 "source = 'ofsted'")[0][0] == 16

    riverside = cli.json("trust", "show", "Riverside Learning Trust")
    assert (riverside["uid"], riverside["type"]) == ("17126", "multi-academy trust")
    assert [s["urn"] for s in riverside["schools"]] == [130405, 133463, 126249, 124099, 149173,
                                                        131122]
    assert len(riverside["leaders"]) == 10
    assert riverside["schools"][0]["report_card"]["grades"]["attendance-and-behaviour"][
        "grade"] == "needs attention"
    assert [r["urn"] for r in cli.json("school", "list", "--trust", "17126")] == [
        130405, 133463, 126249, 124099, 149173, 131122]
    assert {r["home_school_urn"] for r in cli.json("find", "--trust", "17126")} == {
        133463, 126249, 149173, 131122}

    card = cli.json("school", "show", "104046")
    assert (card["report_card"]["safeguarding"], card["report_card"]["category_of_concern"]) == (
        "not met", "Special measures")
    assert [(i["framework"], i["start"]) for i in card["inspections"]] == [
        ("report-card", "2026-01-20"), ("legacy", "2023-05-16")]
    # a school with only its single grade: one undated legacy inspection, as migrated
    only = cli.json("school", "show", "130685")
    assert only["report_card"] is None and [
        (i["framework"], i["start"], i["source"], i["grades"]["overall-effectiveness"]["grade"])
        for i in only["inspections"]] == [("legacy", None, "directory", "good")]


def test_find_near_and_match_measure_distance_on_the_demo(cli: Run):
    near = cli.json("find", "--near", "131122", "--within", "10")
    assert len(near) == 11 and near[0]["distance_km"] == 0.0
    assert all(r["region"] == "London" and r["distance_km"] <= 10 for r in near)
    assert [r["distance_km"] for r in near] == sorted(r["distance_km"] for r in near)
    rid = cli.json("request", "log", "--school", "124099", "--need", "achievement", "-s",
                   "maths", "--days", "2")["id"]
    rows = {r["leader_id"]: r for r in cli.json("match", str(rid))}
    assert "8.5 km away" in rows["L0008"]["reasons"]
    assert {"5.4 km away", "same trust: Riverside Learning Trust",
            "home school exceptional in achievement"} <= set(rows["L0016"]["reasons"])


def test_prospects_on_the_demo_lists_the_weak_schools(cli: Run):
    rows = cli.json("prospects")
    assert [(r["urn"], r["severity"]) for r in rows] == DEMO_PROSPECTS
    first = rows[0]
    assert (first["name"], first["safeguarding"], first["category_of_concern"]) == (
        "Willowbrook Junior School", "not met", "Special measures")
    assert first["areas"] == {"inclusion": "needs attention",
                              "attendance-and-behaviour": "needs attention",
                              "leadership-and-governance": "urgent improvement"}
    assert all(r["leaders_available"] > 0 for r in rows)
    assert [r["urn"] for r in cli.json("prospects", "--region", "London")] == [
        104046, 124099, 130405, 103254]
    near = cli.json("prospects", "--near", "131122", "--within", "10")
    assert [(r["urn"], r["distance_km"]) for r in near] == [
        (104046, 9.7), (124099, 5.4), (130405, 7.9), (103254, 4.0)]  # by severity


SEED = """\
local_authorities:
  - {name: Camden, region: London}
  - {name: Plymouth, region: South West}
schools:
  - urn: 190001
    name: Alder Primary
    la: Camden
    phase: primary
    trust: Hollybush Learning Trust
    trust_uid: 17950
    trust_type: multi-academy trust
    ofsted: good
    easting: 529100
    northing: 184200
    inspections:
      - date: 2026-01-14
        published: 2026-02-20
        type: Report card inspection
        number: "10399001"
        grades:
          inclusion: expected standard
          Curriculum and teaching: needs attention
          leadership: {grade: urgent improvement, date: 2026-01-15}
        safeguarding: not met
        category: Special measures
      - date: 2019-03-12
        published: 2019-04-10
        type: Section 5
        grades: {overall-effectiveness: good, quality-of-education: 2}
  - urn: 190002
    name: Birch Academy
    la: Plymouth
    phase: secondary
    trust: Hollybush Learning Trust
    trust_uid: 17950
    ofsted: requires improvement
    easting: 249300
    northing: 54800
    inspections:
      - {framework: legacy, date: 2026-01-05, grades: {overall-effectiveness: 3}}
  - {urn: 190003, name: Cedar School, la: Camden, ofsted: outstanding}
leaders:
  - {id: L0001, name: Ann Ash, kind: SLE, home_school: 190002, capacity_days: 10,
     specialisms: [curriculum]}
"""


def _seeded(db: str, tmp_path: Path, text: str = SEED) -> tuple[Run, Path]:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    init_db(db, demo=False)
    run = Run(db)
    run("seed", "load", str(path), ok=True)
    return run, path


def _changes(run: Run, path: Path) -> dict[str, tuple[int, int]]:
    rows = run.json("seed", "load", str(path))
    return {r["entity"]: (r["added"], r["updated"]) for r in rows}


def test_a_seed_carries_trusts_coordinates_and_inspections(db: str, tmp_path: Path):
    run, path = _seeded(db, tmp_path)
    assert query(db, "SELECT uid, name, type FROM trust") == [
        ("17950", "Hollybush Learning Trust", "multi-academy trust")]
    alder = run.json("school", "show", "190001")
    assert (alder["trust_uid"], alder["trust_type"], alder["easting"], alder["northing"]) == (
        "17950", "multi-academy trust", 529100, 184200)
    card = alder["report_card"]
    assert (card["number"], card["start"], card["published"], card["safeguarding"],
            card["category_of_concern"], card["source"]) == (
        "10399001", "2026-01-14", "2026-02-20", "not met", "Special measures", "ofsted")
    assert {a: (g["grade"], g["date"]) for a, g in card["grades"].items()} == {
        "inclusion": ("expected standard", "2026-01-14"),
        "curriculum-and-teaching": ("needs attention", "2026-01-14"),
        "leadership-and-governance": ("urgent improvement", "2026-01-15")}
    # the listed legacy inspection holds the single grade: no undated one beside it
    assert [(i["framework"], i["start"]) for i in alder["inspections"]] == [
        ("report-card", "2026-01-14"), ("legacy", "2019-03-12")]
    assert [r["urn"] for r in run.json("prospects")] == [190001]
    assert [r["urn"] for r in run.json("trust", "show", "17950")["schools"]] == [190001, 190002]
    assert run.json("find", "--near", "190001")[0]["distance_km"] == 308.3  # Plymouth
    # loading the same file again changes nothing, not even the audit log
    before = dump(db)
    assert all(v == (0, 0) for v in _changes(run, path).values())
    assert dump(db) == before


def test_a_seeds_single_grade_becomes_a_legacy_inspection(db: str, tmp_path: Path):
    run, path = _seeded(db, tmp_path)
    cedar = run.json("school", "show", "190003")["inspections"]
    assert [(i["framework"], i["start"], i["source"], i["grades"]["overall-effectiveness"][
        "grade"]) for i in cedar] == [("legacy", None, "directory", "outstanding")]
    # Birch's listed legacy inspection is 'requires improvement' too: no second one
    assert len(run.json("school", "show", "190002")["inspections"]) == 1
    assert all(v == (0, 0) for v in _changes(run, path).values())
    # the grade changes: the same inspection follows it (nothing deleted, nothing added)
    path.write_text(SEED.replace("ofsted: outstanding", "ofsted: good"))
    assert _changes(run, path)["inspections"] == (0, 1)
    assert [(i["source"], i["grades"]["overall-effectiveness"]["grade"]) for i in run.json(
        "school", "show", "190003")["inspections"]] == [("directory", "good")]
    # an inspection of that grade arrives: it takes the undated one's place
    path.write_text(SEED.replace(
        "{urn: 190003, name: Cedar School, la: Camden, ofsted: outstanding}",
        "{urn: 190003, name: Cedar School, la: Camden, ofsted: good, inspections: [{date: "
        "2018-06-05, number: '10044321', grades: {overall-effectiveness: good}}]}"))
    assert _changes(run, path)["inspections"] == (1, 0)
    assert [(i["start"], i["source"], i["number"]) for i in run.json(
        "school", "show", "190003")["inspections"]] == [("2018-06-05", "ofsted", "10044321")]
    assert all(v == (0, 0) for v in _changes(run, path).values())


def test_a_seed_without_the_new_keys_keeps_what_gias_stored(db: str, tmp_path: Path):
    run, path = _seeded(db, tmp_path)
    path.write_text(SEED.replace("    easting: 529100\n", "").replace(
        "    trust_uid: 17950\n    trust_type: multi-academy trust\n", ""))
    run("seed", "load", str(path), ok=True)
    alder = run.json("school", "show", "190001")
    assert (alder["trust_uid"], alder["easting"], alder["northing"]) == ("17950", 529100, 184200)


def test_seed_dump_round_trips_trusts_coordinates_and_inspections(db: str, tmp_path: Path):
    run, _ = _seeded(db, tmp_path)
    text = run("seed", "dump", ok=True).stdout
    assert "trust_uid: '17950'" in text and "easting: 529100" in text
    assert "framework: report-card" in text and "grade: urgent improvement" in text
    assert "source" not in text  # Cedar's undated inspection is its `ofsted:` grade
    dumped = tmp_path / "dump.yaml"
    dumped.write_text(text)
    fresh = str(tmp_path / "fresh.db")
    Run(fresh)("db", "init", fresh, "--from", str(dumped), ok=True)
    assert Run(fresh)("seed", "dump", ok=True).stdout == text
    sql = ("SELECT i.school_urn, i.framework, i.number, i.type, i.start, i.published, "
           "i.safeguarding, i.category, i.source, g.area, g.grade, g.graded_on FROM inspection i "
           "JOIN inspection_grade g ON g.inspection_id = i.id ORDER BY i.school_urn, i.start, "
           "g.area")

    def rows(target: str, sql: str) -> list[tuple[str | None, ...]]:  # SQLite or PostgreSQL
        return [tuple(None if v is None else str(v) for v in r) for r in query(target, sql)]

    assert rows(fresh, sql) == rows(db, sql)
    for table in ("SELECT * FROM trust", "SELECT urn, trust_uid, easting, northing FROM school "
                  "ORDER BY urn"):
        assert rows(fresh, table) == rows(db, table)
    assert all(v == (0, 0) for v in _changes(run, dumped).values())


BAD = [
    ("    trust_uid: 17950\n", "    trust_uid: T-17950\n",
     ":10: 'trust_uid' must be a GIAS trust UID (digits, as `Trusts (code)`), not 'T-17950'"),
    ("    trust_type: multi-academy trust\n", "    trust_type: federation\n",
     ":11: unknown trust type 'federation'"),
    ("    easting: 529100\n", "    easting: 7000001\n",
     ":13: 'easting' must be between 0 and 700000, not 7000001"),
    ("    northing: 184200\n", "    northing: north\n",
     ":14: 'northing' must be a whole number, not 'north'"),
    ("      - date: 2026-01-14\n", "      - date: '2026-02-30'\n",
     ":16: 'date' 2026-02-30 is not a real date"),
    ("        published: 2026-02-20\n", "        published: 2025-12-01\n",
     ":17: 'published' 2025-12-01 is before the inspection 'date' 2026-01-14"),
    ("          inclusion: expected standard\n", "          inclusion: good\n",
     ":21: 'inclusion' grade 'good' is not one of exceptional, strong standard, expected "
     "standard, needs attention, urgent improvement (a grade of the legacy scale: set "
     "'framework: legacy')"),
    ("          inclusion: expected standard\n", "          wellness: expected standard\n",
     ":21: unknown report-card area 'wellness'"),
    ("        safeguarding: not met\n", "        safeguarding: yes\n",
     ":24: 'safeguarding' must be met or not met, not True"),
    ("        category: Special measures\n", "        categroy: Special measures\n",
     ":25: unknown inspection field 'categroy' (did you mean 'category'?)"),
    ("        grades: {overall-effectiveness: good, quality-of-education: 2}\n",
     "        grades: {overall-effectiveness: 5}\n",
     ":29: 'overall-effectiveness' grade 5 is not one of outstanding, good, requires "
     "improvement, inadequate"),
    ("    trust_uid: 17950\n    ofsted: requires", "    trust_uid: 17951\n    trust_type: "
     "trust\n    ofsted: requires", None),  # another trust: fine
    ("    trust: Hollybush Learning Trust\n    trust_uid: 17950\n    ofsted: requires",
     "    trust: Holly Bush Trust\n    trust_uid: 17950\n    ofsted: requires",
     ":34: trust 17950 is named 'Hollybush Learning Trust' on line 5, not 'Holly Bush Trust'"),
    ("    trust: Hollybush Learning Trust\n    trust_uid: 17950\n    ofsted: requires",
     "    trust_uid: 17950\n    ofsted: requires",
     ":34: 'trust_uid' needs 'trust' (the trust's name)"),
    ("      - {framework: legacy, date: 2026-01-05, grades: {overall-effectiveness: 3}}\n",
     "      - {framework: legacy, date: 2026-01-05, grades: {overall-effectiveness: 3}}\n"
     "      - {framework: legacy, date: 2026-01-05}\n",
     ":41: the same inspection twice (first on line 40)"),
    ("    inspections:\n      - {framework: legacy, date: 2026-01-05, grades: "
     "{overall-effectiveness: 3}}\n", "    inspections: lots\n",
     ":39: 'inspections' must be a list"),
]


@pytest.mark.parametrize("old,new,problem", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_new_seed_values_are_refused_with_file_line(cli: Run, tmp_path: Path, old: str,
                                                        new: str, problem: str | None):
    assert old in SEED, old
    path = tmp_path / "bad.yaml"
    path.write_text(SEED.replace(old, new, 1))
    before = dump(cli.target)
    result = cli("seed", "load", str(path))
    if problem is None:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 2, result.stderr
    assert any(line.startswith(f"{path}{problem}") for line in result.stderr.splitlines()), (
        result.stderr)
    assert dump(cli.target) == before
