"""The week overview (`s2s week`, `s2s today`): on an empty database and on a busy one, in every
format - Rich panels on a terminal, JSON for scripts, plain and CSV rows otherwise."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import Run, init_db

TODAY = "2026-12-09"  # a Wednesday: the week runs Monday 7 to Sunday 13 December
SECTIONS = ("to_confirm", "requests_waiting", "deployments_ending", "reviews_due",
            "invoices_unpaid", "leaders_near_capacity")
ITEM_HEADER = "section,date,ref,leader_id,leader,school_urn,school,days,amount_pence,detail"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


@pytest.fixture
def empty(db: str) -> Run:
    """A database with the reference data only (`s2s db init` without --demo)."""
    init_db(db, demo=False)
    return Run(db)


@pytest.fixture
def busy(mini: Run) -> Run:
    """A coordinator's December: Amira Okafor (L9001) on 19 of her 20 days at Bolton High
    School until 18 December, sessions planned this week and one from last week to confirm;
    Ben Hallam's governance review (L9002) past its end with its progress review due; a
    request waiting since November; August's invoice overdue, November's not yet due."""
    nov = {"S2S_TODAY": "2026-11-30"}
    run = lambda *a, env=None: mini(*a, env=env, ok=True)  # noqa: E731
    run("request", "log", "--school", "131543", "--need", "achievement", "--days", "19",
        "--received", "2026-10-20")
    run("deploy", "1", "--leader", "L9001", "--start", "2026-11-02", "--end", "2026-12-18",
        "--work", "coaching")
    run("request", "log", "--school", "131543", "--need", "governance", "--days", "3",
        "--received", "2026-07-20")
    run("deploy", "2", "--leader", "L9002", "--start", "2026-08-03", "--end", "2026-12-01",
        "--work", "governance-review")
    run("log", "2", "--date", "2026-08-14")
    run("invoice", "--month", "2026-08", "--issue", "--date", "2026-09-01")  # due 29 Sep
    run("log", "1", "--date", "2026-11-10")
    run("invoice", "--month", "2026-11", "--issue", "--date", "2026-11-30")  # due 28 Dec
    run("request", "log", "--school", "131545", "--need", "achievement", "-s", "maths",
        "--received", "2026-11-20")
    run("plan", "1", "--date", "2026-12-02", env=nov)            # 1: to confirm
    run("plan", "1", "--date", "2026-12-07", env=nov)            # 2: this week, to confirm
    run("plan", "1", "--date", "2026-12-09", "--half", env=nov)  # 3: today
    run("plan", "1", "--date", "2026-12-10", env=nov)            # 4: tomorrow
    run("plan", "1", "--date", "2026-12-11", env=nov)            # 5: cancelled
    run("plan", "cancel", "5")
    run("plan", "1", "--date", "2026-12-15", env=nov)            # 6: next week
    return mini


def test_week_on_an_empty_database_in_every_format(empty):
    doc = empty.json("week")
    assert doc == {"date": TODAY, "from": "2026-12-07", "to": "2026-12-13",
                   "by_day": [{"date": f"2026-12-{d:02d}", "weekday": w, "sessions": []}
                              for d, w in zip(range(7, 14), ("Mon", "Tue", "Wed", "Thu",
                                                             "Fri", "Sat", "Sun"),
                                              strict=True)],
                   **{k: [] for k in SECTIONS}}
    assert empty("week", "--format", "csv", ok=True).stdout.splitlines() == [ITEM_HEADER]
    assert empty("week", "--format", "plain", ok=True).stdout == ITEM_HEADER.replace(
        ",", "\t") + "\n"
    table = empty("week", "--format", "table", ok=True).stdout
    assert "Week of 2026-12-07 to 2026-12-13: 0 session(s)" in table
    assert "Monday 2026-12-07: nothing planned" in table
    for title in ("Planned sessions to confirm (0)", "Requests waiting for a match (0)",
                  "Deployments ending within a fortnight or past their end (0)",
                  "Reviews and evaluations due within a fortnight (0)",
                  "Invoices issued and unpaid (0)",
                  "Leaders at 90% or more of their released days (0)"):
        assert title in table
    today = empty.json("today")
    assert (today["from"], today["to"], today["by_day"]) == (
        TODAY, TODAY, [{"date": TODAY, "weekday": "Wed", "sessions": []}])


def test_week_on_a_busy_database_as_json(busy):
    doc = busy.json("week")
    assert (doc["date"], doc["from"], doc["to"]) == (TODAY, "2026-12-07", "2026-12-13")
    by_day = {d["date"]: [(s["id"], s["days"], s["status"]) for s in d["sessions"]]
              for d in doc["by_day"]}
    assert by_day == {"2026-12-07": [(2, "1", "to confirm")], "2026-12-08": [],
                      "2026-12-09": [(3, "0.5", "planned")], "2026-12-10": [(4, "1", "planned")],
                      "2026-12-11": [], "2026-12-12": [], "2026-12-13": []}
    session = doc["by_day"][2]["sessions"][0]
    assert session == {"id": 3, "date": TODAY, "weekday": "Wed", "deployment_id": 1,
                       "leader_id": "L9001", "leader": "Amira Okafor", "school_urn": 131543,
                       "school": "Bolton High School", "days": "0.5", "activity": "coaching",
                       "status": "planned", "note": None}
    assert [(s["id"], s["date"]) for s in doc["to_confirm"]] == [(1, "2026-12-02"),
                                                                 (2, "2026-12-07")]
    assert doc["requests_waiting"] == [
        {"id": 3, "school_urn": 131545, "school": "Plymouth Sound Academy",
         "need": "achievement", "specialisms": ["maths"], "kind": None, "days": None,
         "received": "2026-11-20", "age_days": 19}]
    assert doc["deployments_ending"] == [
        {"deployment_id": 2, "leader_id": "L9002", "leader": "Ben Hallam",
         "school_urn": 131543, "school": "Bolton High School", "end": "2026-12-01",
         "days_to_end": -8, "agreed_days": "3", "logged_days": "1", "planned_days": "0",
         "days_left": "2", "state": "past its end"},
        {"deployment_id": 1, "leader_id": "L9001", "leader": "Amira Okafor",
         "school_urn": 131543, "school": "Bolton High School", "end": "2026-12-18",
         "days_to_end": 9, "agreed_days": "19", "logged_days": "1", "planned_days": "4.5",
         "days_left": "13.5", "state": "ends soon"}]
    assert [(r["deployment_id"], r["what"], r["due"], r["days_left"])
            for r in doc["reviews_due"]] == [(2, "progress review", "2026-12-14", 5)]
    assert [(i["number"], i["due"], i["total_pence"], i["days_overdue"], i["overdue"])
            for i in doc["invoices_unpaid"]] == [
        ("S2S-2026-0001", "2026-09-29", 35000, 71, True),
        ("S2S-2026-0002", "2026-12-28", 35000, 0, False)]
    assert doc["leaders_near_capacity"] == [
        {"leader_id": "L9001", "name": "Amira Okafor", "kind": "SLE", "capacity_days": "20",
         "agreed_days": "19", "worked_days": "1", "remaining_days": "1", "used_pct": 95.0}]


def test_week_on_a_busy_database_as_csv_plain_and_panels(busy):
    rows = list(csv.DictReader(io.StringIO(busy("week", "--format", "csv", ok=True).stdout)))
    assert [(r["section"], r["date"], r["ref"]) for r in rows] == [
        ("session", "2026-12-07", "2"), ("session", "2026-12-09", "3"),
        ("session", "2026-12-10", "4"),
        ("to_confirm", "2026-12-02", "1"), ("to_confirm", "2026-12-07", "2"),
        ("request_waiting", "2026-11-20", "3"),
        ("deployment_ending", "2026-12-01", "2"), ("deployment_ending", "2026-12-18", "1"),
        ("review_due", "2026-12-14", "2"),
        ("invoice_unpaid", "2026-09-29", "S2S-2026-0001"),
        ("invoice_unpaid", "2026-12-28", "S2S-2026-0002"),
        ("leader_near_capacity", "", "L9001")]
    by_ref = {(r["section"], r["ref"]): r for r in rows}
    assert by_ref[("invoice_unpaid", "S2S-2026-0001")]["amount_pence"] == "35000"
    assert by_ref[("invoice_unpaid", "S2S-2026-0001")]["detail"] == "overdue by 71 days"
    assert by_ref[("deployment_ending", "2")]["detail"] == "past its end; ended 8 days ago"
    assert by_ref[("request_waiting", "3")]["detail"] == "achievement; waiting 19 days"
    assert by_ref[("leader_near_capacity", "L9001")]["detail"] == (
        "95.0% of 20 released days used")
    assert by_ref[("session", "3")]["days"] == "0.5"
    plain = busy("week", "--format", "plain", ok=True).stdout.splitlines()
    assert plain[0] == ITEM_HEADER.replace(",", "\t") and len(plain) == len(rows) + 1
    table = busy("week", "--format", "table", ok=True).stdout
    assert "Week of 2026-12-07 to 2026-12-13: 3 session(s)" in table
    assert "Wednesday 2026-12-09" in table and "Saturday 2026-12-12: nothing planned" in table
    for title in ("Planned sessions to confirm (2)", "Requests waiting for a match (1)",
                  "Deployments ending within a fortnight or past their end (2)",
                  "Reviews and evaluations due within a fortnight (1)",
                  "Invoices issued and unpaid (2)",
                  "Leaders at 90% or more of their released days (1)"):
        assert title in table
    assert "S2S-2026-0001" in table and "£350.00" in table and "95.0%" in table
    assert "\x1b[" not in table  # piped: no colour codes


def test_week_of_another_date_and_today(busy):
    later = busy.json("week", "--date", "2026-12-16")
    assert (later["from"], later["to"]) == ("2026-12-14", "2026-12-20")
    assert [s["id"] for d in later["by_day"] for s in d["sessions"]] == [6]
    # everything planned before the 16th is now to confirm
    assert [s["id"] for s in later["to_confirm"]] == [1, 2, 3, 4, 6]
    today = busy.json("today")
    assert [(s["id"], s["status"]) for d in today["by_day"] for s in d["sessions"]] == [
        (3, "planned")]
    assert [s["id"] for s in today["to_confirm"]] == [1, 2]
    assert set(today) == {"date", "from", "to", "by_day", *SECTIONS}
    panel = busy("today", "--format", "table", ok=True).stdout
    assert "Today, Wednesday 2026-12-09: 1 session(s)" in panel
    # confirming a session takes it off the list
    busy("log", "1", "--date", "2026-12-02", ok=True)
    assert [s["id"] for s in busy.json("today")["to_confirm"]] == [2]


@pytest.mark.parametrize(("args", "message"), [
    (("week", "--date", "2026-13-01"), "--date"),
    (("week", "--date", ""), "--date"),
    (("week", "--format", "xml"), "--format"),
])
def test_week_bad_input(empty, args, message):
    result = empty(*args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
