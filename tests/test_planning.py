"""Planned sessions: a coordinator books the coming weeks (`s2s plan`), confirms them as they
are worked (`s2s log` on a planned date), moves and cancels them; planned and worked days
together never give a leader more than one day on a date, nor a deployment more than its
agreed days without --over; only worked days are invoiced."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import query

TODAY = "2026-11-25"  # a Wednesday
LATER = {"S2S_TODAY": "2026-12-10"}


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


@pytest.fixture
def booked(mini):
    """Amira Okafor (L9001, SLE) deployed twice: 10 days of coaching at Bolton High School
    (deployment 1) and 5 days at Plymouth Sound Academy (deployment 2)."""
    for urn, days in (("131543", "10"), ("131545", "5")):
        rid = mini.json("request", "log", "--school", urn, "--need", "achievement",
                        "--days", days)["id"]
        mini("deploy", str(rid), "--leader", "L9001", "--start", "2026-11-02", "--end",
             "2027-03-31", "--work", "coaching", ok=True)
    return mini


def plans(cli, *args):  # type: ignore[no-untyped-def]
    return cli.json("plan", "list", "--status", "all", *args)


def test_plan_books_a_day_and_a_block_skipping_weekends_and_bank_holidays(booked):
    assert booked("plan", "1", "--date", "2026-11-30", ok=True).stdout == "1\n"
    block = booked("plan", "1", "--from", "2026-12-21", "--to", "2027-01-01", ok=True)
    # Christmas Day, Boxing Day (substitute Monday 28th) and New Year's Day are skipped
    assert block.stdout.split() == ["2", "3", "4", "5", "6", "7", "8"]
    assert "skipped 2026-12-25 (Christmas Day)" in block.stderr
    assert "skipped 2026-12-28" in block.stderr and "skipped 2027-01-01" in block.stderr
    assert "0 worked and 8 planned of 10 agreed days" in block.stderr
    rows = plans(booked)
    assert [r["date"] for r in rows] == ["2026-11-30", "2026-12-21", "2026-12-22",
                                         "2026-12-23", "2026-12-24", "2026-12-29",
                                         "2026-12-30", "2026-12-31"]
    assert rows[0] == {"id": 1, "date": "2026-11-30", "weekday": "Mon", "deployment_id": 1,
                       "leader_id": "L9001", "leader": "Amira Okafor", "school_urn": 131543,
                       "school": "Bolton High School", "days": "1", "activity": "coaching",
                       "status": "planned", "note": None, "day_log_id": None,
                       "cancel_reason": None}
    assert booked.json("plan", "1", "--date", "2026-12-01", "--half", "--activity",
                       "diagnosis", "--note", "meet the head") == {"id": 9}
    assert booked.json("plan", "2", "--from", "2026-12-07", "--to", "2026-12-08") == {
        "ids": [10, 11]}
    half = plans(booked, "--deployment", "1", "--from", "2026-12-01", "--to", "2026-12-01")
    assert [(r["days"], r["activity"], r["note"]) for r in half] == [
        ("0.5", "diagnosis", "meet the head")]
    # planned days are not days worked: nothing logged, nothing to invoice
    assert booked.json("deployment", "show", "1")["logged_days"] == "0"
    assert query(booked.target, "SELECT count(*) FROM day_log")[0][0] == 0


def test_one_day_per_leader_per_date_across_planned_and_worked(booked, snapshot):
    booked("plan", "1", "--date", "2026-12-01", ok=True)
    before = snapshot(booked.target)
    other = booked("plan", "2", "--date", "2026-12-01", "--half")
    assert other.exit_code == 1
    assert other.stderr.strip() == ("Error: L9001 already has 1 day(s) planned on 2026-12-01; "
                                    "0.5 more would exceed one day")
    # a block that touches the booked date is refused whole
    assert booked("plan", "2", "--from", "2026-11-30", "--to", "2026-12-02").exit_code == 1
    assert snapshot(booked.target) == before

    # today: half a day worked at Plymouth leaves half a day to plan at Bolton
    booked("log", "2", "--date", TODAY, "--half", ok=True)
    full = booked("plan", "1", "--date", TODAY)
    assert full.exit_code == 1 and "already has 0.5 day(s) logged on 2026-11-25" in full.stderr
    booked("plan", "1", "--date", TODAY, "--half", ok=True)
    # the other deployment cannot log on top of a planned half day...
    extra = booked("log", "2", "--date", TODAY, "--half")
    assert extra.exit_code == 1
    assert "already has 1 day(s) logged or planned on 2026-11-25" in extra.stderr
    # ...but logging the planned one confirms it: still one day
    booked("log", "1", "--date", TODAY, "--half", ok=True)
    assert query(booked.target, "SELECT sum(halves) FROM day_log WHERE date = :d",
                 d=TODAY)[0][0] == 2
    assert [r["status"] for r in plans(booked, "--from", TODAY, "--to", TODAY)] == ["worked"]

    # moving onto a booked date is refused too
    booked("plan", "2", "--date", "2026-12-02", ok=True)
    pid = plans(booked, "--deployment", "2")[-1]["id"]
    moved = booked("plan", "move", str(pid), "--to", "2026-12-01")
    assert moved.exit_code == 1 and "already has 1 day(s) planned on 2026-12-01" in moved.stderr
    assert booked("db", "check").exit_code == 0


def test_planned_sessions_count_toward_the_agreed_days(booked, snapshot):
    booked("plan", "2", "--from", "2026-11-30", "--to", "2026-12-04", ok=True)  # 5 of 5
    before = snapshot(booked.target)
    more = booked("plan", "2", "--date", "2026-12-07", "--half")
    assert more.exit_code == 1
    assert more.stderr.strip() == (
        'Error: deployment 2 would have 5.5 of 5 agreed days logged or planned; use --over '
        '"reason" to plan beyond the agreement')
    unplanned = booked("log", "2", "--date", TODAY)
    assert unplanned.exit_code == 1
    assert "would have 6 of 5 agreed days logged or planned" in unplanned.stderr
    assert snapshot(booked.target) == before
    booked("plan", "2", "--date", "2026-12-07", "--half", "--over", "extra feedback visit",
           ok=True)
    assert [r[0] for r in query(booked.target, "SELECT over_reason FROM planned_session "
                                "WHERE deployment_id = 2 ORDER BY id")] == [
        None, None, None, None, None, "extra feedback visit"]
    # confirming planned days needs no --over: it adds no day
    for day in ("2026-11-30", "2026-12-01"):
        booked("log", "2", "--date", day, env=LATER, ok=True)
    # ...unless the day worked is longer than the session planned
    longer = booked("log", "2", "--date", "2026-12-07", env=LATER)
    assert longer.exit_code == 1 and "would have 6 of 5 agreed days" in longer.stderr
    booked("log", "2", "--date", "2026-12-07", "--half", env=LATER, ok=True)
    assert booked.json("deployment", "show", "2")["logged_days"] == "2.5"
    assert query(booked.target, "SELECT over_reason FROM day_log WHERE date = :d",
                 d=dt.date(2026, 12, 7)) == [("extra feedback visit",)]


def test_log_on_a_planned_date_confirms_it_and_only_worked_days_are_invoiced(booked):
    booked("plan", "1", "--date", "2026-12-01", "--note", "lesson study", ok=True)
    booked("plan", "1", "--date", "2026-12-02", ok=True)
    booked("plan", "1", "--date", "2026-12-14", ok=True)
    # a week later both early December sessions are to confirm
    rows = json.loads(booked("plan", "list", "--format", "json", env=LATER, ok=True).stdout)
    assert [(r["id"], r["status"]) for r in rows] == [(1, "to confirm"), (2, "to confirm"),
                                                      (3, "planned")]
    only = json.loads(booked("plan", "list", "--status", "to-confirm", "--format", "json",
                             env=LATER, ok=True).stdout)
    assert [r["id"] for r in only] == [1, 2]

    done = booked("log", "1", "--date", "2026-12-01", "--half", env=LATER, ok=True)
    assert done.stdout == "1\n" and "confirmed planned session(s) 1" in done.stderr
    rows = plans(booked)
    assert (rows[0]["status"], rows[0]["day_log_id"], rows[0]["days"]) == ("worked", 1, "0.5")
    assert query(booked.target, "SELECT halves, activity, note FROM day_log") == [
        (1, "coaching", "lesson study")]
    dep = booked.json("deployment", "show", "1")
    assert dep["logged_days"] == "0.5"

    # December's invoice holds the half day worked, not the sessions still planned
    draft = booked.json("invoice", "--month", "2026-12")
    assert [(ln["deployment_id"], ln["days"]) for inv in draft for ln in inv["lines"]] == [
        (1, "0.5")]

    # undoing the day puts the session back as planned (to confirm, its date has passed)
    undo = booked("log", "undo", "1", env=LATER, ok=True)
    assert "session 1 is planned again" in undo.stderr
    assert [(r["id"], r["status"]) for r in json.loads(booked(
        "plan", "list", "--format", "json", env=LATER, ok=True).stdout)] == [
        (1, "to confirm"), (2, "to confirm"), (3, "planned")]
    assert booked("db", "check").exit_code == 0


def test_move_and_cancel_are_audited(booked):
    booked("plan", "1", "--date", "2026-12-01", ok=True)
    booked("plan", "1", "--date", "2026-12-02", ok=True)
    moved = booked("--as", "Coord", "plan", "move", "1", "--to", "2026-12-03", ok=True)
    assert "moved from 2026-12-01 to 2026-12-03" in moved.stderr
    booked("--as", "Coord", "plan", "cancel", "2", "--reason", "school closed for snow",
           ok=True)
    rows = plans(booked)
    assert [(r["id"], r["date"], r["status"], r["cancel_reason"]) for r in rows] == [
        (2, "2026-12-02", "cancelled", "school closed for snow"),
        (1, "2026-12-03", "planned", None)]
    assert [r["id"] for r in booked.json("plan", "list")] == [1]  # open ones by default
    assert [r["id"] for r in booked.json("plan", "list", "--status", "cancelled")] == [2]
    audit = booked.json("audit", "--table", "planned_session")
    seen = {(r["command"], r["action"], r["record_id"]) for r in audit}
    assert {("s2s plan add", "insert", "1"), ("s2s plan move", "update", "1"),
            ("s2s plan cancel", "update", "2")} <= seen
    move = next(r for r in audit if r["command"] == "s2s plan move")
    assert (move["actor"], move["before"]["date"], move["after"]["date"]) == (
        "Coord", "2026-12-01", "2026-12-03")
    # the freed date can be booked again; a cancelled session cannot be moved or cancelled
    booked("plan", "2", "--date", "2026-12-02", ok=True)
    for args in (("move", "2", "--to", "2026-12-04"), ("cancel", "2")):
        again = booked("plan", *args)
        assert again.exit_code == 1 and "session 2 is cancelled" in again.stderr
    # a worked session is undone through its day, not cancelled
    booked("log", "1", "--date", "2026-12-03", env=LATER, ok=True)
    worked = booked("plan", "cancel", "1")
    assert worked.exit_code == 1
    assert "was worked (day log 1); undo the day first (s2s log undo 1)" in worked.stderr


def test_closing_a_deployment_cancels_its_planned_sessions(booked):
    booked("plan", "1", "--from", "2026-12-01", "--to", "2026-12-02", ok=True)
    booked("log", "1", "--date", "2026-12-01", env=LATER, ok=True)
    closed = booked("deployment", "close", "1", env=LATER, ok=True)
    assert "1 planned session(s) cancelled" in closed.stderr
    assert [(r["date"], r["status"], r["cancel_reason"]) for r in plans(booked)] == [
        ("2026-12-01", "worked", None), ("2026-12-02", "cancelled", "deployment closed")]


@pytest.mark.parametrize(("args", "code", "message"), [
    (("1", "--date", "2026-11-24"), 2, "--date 2026-11-24 is before today (2026-11-25)"),
    (("1", "--from", "2026-11-20", "--to", "2026-11-27"), 2, "--from 2026-11-20 is before"),
    (("1",), 2, "give --date DATE, or --from DATE --to DATE"),
    (("1", "--date", "2026-12-01", "--from", "2026-12-01"), 2, "not both"),
    (("1", "--from", "2026-12-01"), 2, "--from and --to go together"),
    (("1", "--date", "2026-02-30"), 2, "2026-02-30"),
    (("1", "--date", "2026-12-01", "--activity", "juggling"), 2, "unknown activity"),
    (("1", "--from", "2026-12-26", "--to", "2026-12-27"), 2, "no working days"),
    (("1", "--from", "2026-12-21", "--to", "2026-12-23", "--include-holidays"), 2,
     "a block always skips bank holidays"),
    (("1", "--date", "2026-12-01", "--over", " "), 2, "--over"),
    (("9", "--date", "2026-12-01"), 1, "no deployment with id 9"),
    (("1", "--date", "2027-04-01"), 1, "after deployment 1 ends (2027-03-31)"),
    (("1", "--date", "2026-12-05"), 1, "2026-12-05 is a Saturday; add --include-weekends"),
    (("1", "--date", "2026-12-25"), 1, "bank holiday (Christmas Day); add --include-holidays"),
])
def test_plan_refusals_leave_the_database_unchanged(booked, snapshot, args, code, message):
    before = snapshot(booked.target)
    result = booked("plan", *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert snapshot(booked.target) == before


def test_plan_refuses_a_second_session_on_a_date_and_a_closed_deployment(booked, snapshot):
    booked("plan", "1", "--date", "2026-12-01", "--half", ok=True)
    before = snapshot(booked.target)
    twice = booked("plan", "1", "--date", "2026-12-01", "--half")
    assert twice.exit_code == 1 and "already has session 1 planned on 2026-12-01" in twice.stderr
    assert snapshot(booked.target) == before
    booked("plan", "1", "--date", "2026-12-05", "--include-weekends", ok=True)  # a Saturday
    booked("plan", "1", "--date", "2026-12-28", "--include-holidays", ok=True)
    booked("deployment", "close", "2", ok=True)
    before = snapshot(booked.target)
    closed = booked("plan", "2", "--date", "2026-12-01", "--half")
    assert closed.exit_code == 1 and "deployment 2 is closed" in closed.stderr
    assert snapshot(booked.target) == before


@pytest.mark.parametrize(("args", "code", "message"), [
    (("move", "1", "--to", "2026-11-20"), 2, "--to 2026-11-20 is before today"),
    (("move", "1", "--to", "2026-12-01"), 1, "session 1 is already on 2026-12-01"),
    (("move", "1", "--to", "2026-12-06"), 1, "is a Sunday"),
    (("move", "1", "--to", "2027-04-01"), 1, "after deployment 1 ends"),
    (("move", "7", "--to", "2026-12-02"), 1, "no planned session with id 7"),
    (("move", "1"), 2, "--to"),
    (("cancel", "7"), 1, "no planned session with id 7"),
    (("list", "--status", "lost"), 2, "unknown status 'lost'"),
    (("list", "--leader", "L0000"), 1, "no leader with id 'L0000'"),
    (("list", "--from", "2026-12-05", "--to", "2026-12-01"), 2, "--from/--to"),
])
def test_move_cancel_and_list_refusals(booked, snapshot, args, code, message):
    booked("plan", "1", "--date", "2026-12-01", ok=True)
    before = snapshot(booked.target)
    result = booked("plan", *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(booked.target) == before


def test_db_check_counts_planned_sessions_in_the_day_limit(booked):
    booked("plan", "1", "--date", "2026-12-01", ok=True)
    assert booked("db", "check").exit_code == 0
    from tests.test_admin import sql

    sql(booked.target, "INSERT INTO planned_session (deployment_id, leader_id, date, halves, "
        "activity, status, sequence, created_at, updated_at) VALUES (2, 'L9001', :d, 1, "
        "'other', 'planned', 0, '2026-11-25 09:00:00', '2026-11-25 09:00:00')",
        {"d": dt.date(2026, 12, 1)})
    check = booked("db", "check", "--format", "json")
    assert check.exit_code == 1
    assert "leader L9001 has 0 days logged and 1.5 planned on 2026-12-01" in check.stdout


def test_subject_access_export_includes_planned_sessions(booked, tmp_path):
    booked("plan", "1", "--date", "2026-12-01", ok=True)
    out = tmp_path / "l9001.json"
    booked("leader", "export-data", "L9001", "--out", str(out), ok=True)
    doc = json.loads(out.read_text())
    assert [p["date"] for p in doc["planned_sessions"]] == ["2026-12-01"]
    assert any(r["table_name"] == "planned_session" for r in doc["audit"])


def test_corrections_respect_planned_sessions(booked, snapshot):
    """`log edit`, `deployment edit` and `deployment cancel` (issue 10) with sessions booked."""
    booked("plan", "1", "--date", "2026-12-01", ok=True)                    # 1
    booked("plan", "2", "--date", "2026-12-02", ok=True)                    # 2
    booked("plan", "1", "--date", "2026-12-05", "--include-weekends", ok=True)  # 3 (Saturday)
    booked("log", "1", "--date", "2026-12-03", "--half", env=LATER, ok=True)  # day 1
    before = snapshot(booked.target)
    # a day moved onto a planned date is refused like a new one
    onto = booked("log", "edit", "1", "--date", "2026-12-01", env=LATER)
    assert onto.exit_code == 1
    assert "already has 1 day(s) planned on 2026-12-01" in onto.stderr
    # the deployment's dates must keep its planned sessions
    shorter = booked("deployment", "edit", "1", "--end", "2026-12-03")
    assert shorter.exit_code == 1
    assert "has sessions planned from 2026-12-01 to 2026-12-05; move or cancel them" in (
        shorter.stderr)
    assert snapshot(booked.target) == before
    # the planned Saturday was agreed when it was booked: logging it needs no flag again
    booked("log", "1", "--date", "2026-12-05", env=LATER, ok=True)           # day 2
    # a confirmed session follows its day when the day is corrected
    booked("plan", "1", "--date", "2026-12-09", ok=True)                    # 4
    booked("log", "1", "--date", "2026-12-09", env=LATER, ok=True)           # day 3
    booked("log", "edit", "3", "--date", "2026-12-08", "--half", env=LATER, ok=True)
    row = next(r for r in plans(booked) if r["id"] == 4)
    assert (row["date"], row["days"], row["status"]) == ("2026-12-08", "0.5", "worked")
    # cancelling a deployment cancels its sessions, worked ones included (its days go)
    booked("deployment", "cancel", "1", "--reason", "school withdrew", ok=True)
    assert {(r["id"], r["status"], r["day_log_id"], r["cancel_reason"])
            for r in plans(booked, "--deployment", "1")} == {
        (1, "cancelled", None, "deployment cancelled"),
        (3, "cancelled", None, "deployment cancelled"),
        (4, "cancelled", None, "deployment cancelled")}
    assert [r["status"] for r in plans(booked, "--deployment", "2")] == ["planned"]
    assert booked("db", "check").exit_code == 0
