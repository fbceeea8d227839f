"""Days worked (log, blocks, list, undo), evaluations, reviews due, and the whole brokerage
process end to end."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.conftest import query

TODAY = "2026-12-31"  # after every day these tests log: a day cannot be logged before it is
START = "2026-09-10"  # deployments start here unless a test says otherwise


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


def deployment(cli, urn: str, leader: str, days: str, *args: str,  # type: ignore[no-untyped-def]
               need: str = "achievement", funding: str = "school") -> int:
    # the DfE NLG programme is closed to new commissions: such a record needs a reason
    dfe = ["--override", "agreed before the programme closed"] if funding == "dfe" else []
    rid = cli.json("request", "log", "--school", urn, "--need", need, "--days", days,
                   "--funding", funding, *dfe)["id"]
    start = () if "--start" in args else ("--start", START)
    return int(cli.json("deploy", str(rid), "--leader", leader, *start, *args, *dfe)["id"])


@pytest.fixture
def dep(mini):  # type: ignore[no-untyped-def]
    """Deployment 1: L9001 coaching at Bolton High School, 5 days, 14 Sep - 18 Dec 2026."""
    assert deployment(mini, "131543", "L9001", "5", "--start", "2026-09-14", "--end",
                      "2026-12-18", "--work", "coaching") == 1
    return mini


def test_full_and_half_days_are_exact_halves(dep):
    assert dep("log", "1", "--date", "2026-09-14", ok=True).stdout == "1\n"
    assert dep.json("log", "1", "--date", "2026-09-15", "--half") == {"id": 2}
    dep("log", "1", "--date", "2026-09-16", "--activity", "Data Analysis", "--note",
        "KS3 data", ok=True)
    rows = dep.json("log", "list", "--deployment", "1")
    assert rows == [
        {"id": 1, "deployment_id": 1, "leader_id": "L9001", "school_urn": 131543,
         "date": "2026-09-14", "days": "1", "activity": "coaching", "note": None,
         "invoice_id": None},
        {"id": 2, "deployment_id": 1, "leader_id": "L9001", "school_urn": 131543,
         "date": "2026-09-15", "days": "0.5", "activity": "coaching", "note": None,
         "invoice_id": None},
        {"id": 3, "deployment_id": 1, "leader_id": "L9001", "school_urn": 131543,
         "date": "2026-09-16", "days": "1", "activity": "data-analysis", "note": "KS3 data",
         "invoice_id": None},
    ]
    assert dep.json("deployment", "show", "1")["logged_days"] == "2.5"
    assert [r[0] for r in query(dep.target, "SELECT halves FROM day_log ORDER BY id")] == [2, 1, 2]
    header = next(csv.reader(io.StringIO(dep("log", "list", "-f", "csv", ok=True).stdout)))
    assert header == ["id", "deployment_id", "leader_id", "school_urn", "date", "days",
                      "activity", "note", "invoice_id"]


def test_blocks_are_weekdays_unless_weekends_are_included(mini):
    deployment(mini, "131543", "L9001", "10", "--work", "group-support")
    assert mini.json("log", "1", "--from", "2026-10-05", "--to", "2026-10-11") == {
        "ids": [1, 2, 3, 4, 5]}
    assert [r["date"] for r in mini.json("log", "list")] == [
        "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08", "2026-10-09"]
    deployment(mini, "131543", "L9005", "3", "--work", "governance-review", need="governance")
    out = mini("log", "2", "--from", "2026-10-17", "--to", "2026-10-18", "--include-weekends",
               "--half", ok=True).stdout
    assert out == "6\n7\n"
    assert mini.json("deployment", "show", "2")["logged_days"] == "1"
    assert {r["activity"] for r in mini.json("log", "list", "--leader", "l9005")} == {
        "governance-review"}
    # a single date may fall on a weekend (NLG evening/weekend work)
    mini("log", "2", "--date", "2026-10-24", ok=True)


def test_log_bad_input_exits_2_and_writes_nothing(dep, snapshot):
    cases = [
        ([], "--date"),
        (["--date", "2026-09-14", "--from", "2026-09-14", "--to", "2026-09-15"], "not both"),
        (["--from", "2026-09-14"], "together"),
        (["--to", "2026-09-14"], "together"),
        (["--from", "2026-09-16", "--to", "2026-09-14"], "before"),
        (["--from", "2026-09-19", "--to", "2026-09-20"], "--include-weekends"),
        (["--date", "2027-01-04"], "after today (2026-12-31): not worked yet"),
        (["--from", "2026-12-14", "--to", "2027-01-08"], "not worked yet"),
        (["--from", "2026-09-14", "--to", "2027-09-20"], "at most"),
        (["--date", "2026-09-31"], "not a real date"),
        (["--date", "2026-09-14", "--activity", "gardening"], "activity"),
        (["--date", "2026-09-14", "--note", "x\x1b[31m"], "control"),
        (["--date", "2026-09-14", "--over", ""], "--over"),
    ]
    before = snapshot(dep.target)
    for args, fragment in cases:
        result = dep("log", "1", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert fragment in result.stderr, (args, result.stderr)
    assert snapshot(dep.target) == before


def test_log_refusals_exit_1_and_blocks_are_all_or_nothing(dep, snapshot):
    dep("log", "1", "--date", "2026-09-15", ok=True)
    cases = [
        (["--date", "2026-09-11"], "2026-09-11 is before deployment 1 starts (2026-09-14)"),
        (["--date", "2026-12-21"], "2026-12-21 is after deployment 1 ends (2026-12-18)"),
        (["--from", "2026-12-17", "--to", "2026-12-22"], "2026-12-21 is after deployment 1"),
        (["--from", "2026-09-14", "--to", "2026-09-16"],
         "L9001 already has 1 day(s) logged on 2026-09-15; 1 more would exceed one day"),
        (["--from", "2026-09-21", "--to", "2026-09-25"],
         'deployment 1 would have 6 of 5 agreed days logged; use --over "reason"'),
    ]
    before = snapshot(dep.target)
    for args, message in cases:
        result = dep("log", "1", *args)
        assert result.exit_code == 1, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    assert dep("log", "9", "--date", "2026-09-16").exit_code == 1
    assert snapshot(dep.target) == before
    dep("deployment", "close", "1", ok=True)
    before = snapshot(dep.target)
    closed = dep("log", "1", "--date", "2026-09-16")
    assert closed.exit_code == 1 and "closed" in closed.stderr
    assert snapshot(dep.target) == before


def test_two_deployments_of_one_leader_never_log_more_than_a_day_on_a_date(dep, snapshot):
    assert deployment(dep, "131545", "L9001", "5") == 2
    dep("log", "1", "--date", "2026-10-01", "--half", ok=True)
    dep("log", "2", "--date", "2026-10-01", "--half", ok=True)
    dep("log", "1", "--date", "2026-10-02", ok=True)
    before = snapshot(dep.target)
    for args in (["1", "--date", "2026-10-01", "--half"], ["2", "--date", "2026-10-01", "--half"],
                 ["2", "--date", "2026-10-02", "--half"],
                 ["2", "--from", "2026-09-28", "--to", "2026-10-02", "--half"]):
        result = dep("log", *args)
        assert result.exit_code == 1, args
        assert "would exceed one day" in result.stderr
    assert snapshot(dep.target) == before
    assert dep.json("capacity", "--leader", "L9001")[0]["worked_days"] == "2"


def test_over_the_agreed_days_needs_a_reason_kept_on_the_extra_days(mini):
    deployment(mini, "131545", "L9003", "2")
    refused = mini("log", "1", "--from", "2026-09-14", "--to", "2026-09-16")
    assert refused.exit_code == 1
    assert "would have 3 of 2 agreed days logged" in refused.stderr
    mini("log", "1", "--from", "2026-09-14", "--to", "2026-09-16", "--over",
         "extra INSET day agreed by phone", ok=True)
    assert query(mini.target, "SELECT over_reason FROM day_log ORDER BY id") == [
        (None,), (None,), ("extra INSET day agreed by phone",)]
    assert mini.json("deployment", "show", "1")["logged_days"] == "3"


def test_log_list_filters(dep):
    deployment(dep, "131545", "L9002", "5")
    dep("log", "1", "--from", "2026-09-14", "--to", "2026-09-15", ok=True)
    dep("log", "2", "--date", "2026-09-14", "--half", ok=True)
    assert [r["id"] for r in dep.json("log", "list")] == [1, 3, 2]  # by date, then id
    assert [r["id"] for r in dep.json("log", "list", "--deployment", "2")] == [3]
    assert [r["id"] for r in dep.json("log", "list", "--leader", "L9001")] == [1, 2]
    assert [r["id"] for r in dep.json("log", "list", "--from", "2026-09-15")] == [2]
    assert [r["id"] for r in dep.json("log", "list", "--to", "2026-09-14")] == [1, 3]
    assert dep("log", "list", "--from", "2026-09-15", "--to", "2026-09-14").exit_code == 2
    table = dep("log", "list", "--format", "table", ok=True).stdout
    assert "2.5" in table  # the total


def _invoice(target: str, log_id: int, *, void: bool) -> None:
    from sqlmodel import Session

    from s2s_cli import db
    from s2s_cli.models import DayLog, Invoice, InvoiceDay, InvoiceLine

    day = dt.date(2026, 9, 30)
    with Session(db.make_engine(target)) as s:
        inv = Invoice(series="invoice", number="S2S-2026-0003", seq=3, year=2026,
                      payer="school:131543", payer_school_urn=131543, period_from=day,
                      period_to=day, issued=day, due=day, subtotal_pence=35000, vat_pence=0,
                      total_pence=35000)
        s.add(inv)
        s.flush()
        log = s.get(DayLog, log_id)
        assert log is not None and inv.id is not None
        line = InvoiceLine(invoice_id=inv.id, deployment_id=log.deployment_id,
                           leader_id=log.leader_id, kind="charged", date_from=log.date,
                           date_to=log.date, full_days=1, half_days=0, halves=2,
                           rate_pence=35000, half_day_rate_pence=17500, amount_pence=35000,
                           supply_pence=29750)
        s.add(line)
        s.flush()
        assert line.id is not None
        s.add(InvoiceDay(invoice_id=inv.id, day_log_id=log_id, line_id=line.id, kind="charged",
                         amount_pence=35000, supply_pence=29750))
        log.invoice_id = None if void else inv.id
        s.add(log)
        s.commit()


def test_undo(dep, snapshot):
    dep("log", "1", "--from", "2026-09-14", "--to", "2026-09-16", ok=True)
    result = dep("log", "undo", "2", ok=True)
    assert result.stdout == ""
    assert "removed day 2 (2026-09-15" in result.stderr
    assert [r["id"] for r in dep.json("log", "list")] == [1, 3]
    assert dep("log", "undo", "2").exit_code == 1
    _invoice(dep.target, 1, void=False)
    before = snapshot(dep.target)
    on_invoice = dep("log", "undo", "1")
    assert on_invoice.exit_code == 1
    assert on_invoice.stderr == ("Error: day 1 is on invoice S2S-2026-0003; void the invoice "
                                 "first (s2s invoices void S2S-2026-0003 --reason TEXT)\n")
    assert dep.json("log", "list")[0]["invoice_id"] is not None
    assert snapshot(dep.target) == before


def test_undo_of_a_day_a_voided_invoice_covered_keeps_its_history_in_the_audit(dep):
    dep("log", "1", "--date", "2026-09-14", ok=True)
    _invoice(dep.target, 1, void=True)
    dep("log", "undo", "1", ok=True)
    assert dep.json("log", "list") == []
    assert query(dep.target, "SELECT count(*) FROM invoice_day") == [(0,)]
    assert query(dep.target, "SELECT amount_pence FROM invoice_line") == [(35000,)]
    deleted = query(dep.target, "SELECT table_name, record_id FROM audit_log "
                    "WHERE action = 'delete' ORDER BY id")
    assert [tuple(r) for r in deleted] == [("invoice_day", "1/1/1"), ("day_log", "1")]


def test_log_routes_ids_and_subcommands(dep):
    assert "undo" in dep("log", "--help", ok=True).stdout
    assert "--include-weekends" in dep("log", "1", "--help", ok=True).stdout
    assert "--deployment" in dep("log", "list", "--help", ok=True).stdout


def test_evaluate(dep, snapshot):
    before = snapshot(dep.target)
    for args, code in ((["--by", "school", "--rating", "0", "--impact", "x"], 2),
                       (["--by", "school", "--rating", "6", "--impact", "x"], 2),
                       (["--by", "head", "--rating", "4", "--impact", "x"], 2),
                       (["--by", "school", "--rating", "4", "--impact", " "], 2),
                       (["--by", "school", "--rating", "four", "--impact", "x"], 2),
                       (["--by", "school", "--rating", "4"], 2),
                       (["--by", "school", "--rating", "4", "--impact", "x", "--date", "today!"],
                        2)):
        assert dep("evaluate", "1", *args).exit_code == code, args
    assert dep("evaluate", "7", "--by", "school", "--rating", "4", "--impact", "x").exit_code == 1
    assert snapshot(dep.target) == before
    assert dep("evaluate", "1", "--by", "School", "--rating", "5", "--impact",
               "Reading ages up 8 months", ok=True).stdout == "1\n"
    assert dep.json("evaluate", "1", "--by", "leader", "--rating", "4", "--impact",
                    "Good engagement", "--date", "2026-09-01") == {"id": 2}
    assert dep.json("deployment", "show", "1")["evaluations"] == [
        {"id": 2, "by": "leader", "rating": 4, "impact": "Good engagement",
         "date": "2026-09-01"},
        {"id": 1, "by": "school", "rating": 5, "impact": "Reading ages up 8 months",
         "date": TODAY},
    ]


def test_reviews_due(mini, monkeypatch):
    gov = deployment(mini, "131543", "L9005", "3", "--work", "governance-review",
                     need="governance")
    dfe = deployment(mini, "131542", "L9005", "5", need="governance", funding="dfe")
    sle = deployment(mini, "131543", "L9001", "2", "--work", "coaching")
    quiet = deployment(mini, "131545", "L9002", "2")
    mini("log", str(gov), "--date", "2026-10-31", "--half", ok=True)  # a Saturday
    mini("log", str(dfe), "--date", "2026-10-01", ok=True)
    mini("log", str(quiet), "--date", "2026-10-01", ok=True)
    mini("deployment", "close", str(sle), "--on", "2026-09-10", ok=True)  # no school evaluation
    assert [(r["deployment_id"], r["what"]) for r in mini.json("reviews", "due")] == [
        (sle, "school evaluation")]

    monkeypatch.setenv("S2S_TODAY", "2027-01-15")
    rows = mini.json("reviews", "due")
    assert rows == [
        {"deployment_id": sle, "school_urn": 131543, "school": "Bolton High School",
         "leader_id": "L9001", "leader": "Amira Okafor", "what": "school evaluation",
         "due": "2026-09-10", "days_left": -127},
        {"deployment_id": dfe, "school_urn": 131542, "school": "Brookfield Primary School",
         "leader_id": "L9005", "leader": "Erin Walsh", "what": "progress review",
         "due": "2027-02-01", "days_left": 17},
    ]
    assert [r["deployment_id"] for r in mini.json("reviews", "due", "--within", "60")] == [
        sle, dfe, gov]
    assert mini.json("reviews", "due", "--within", "60")[2]["due"] == "2027-02-28"
    # a review dated before the first day does not count; one on/after it does
    mini("evaluate", str(gov), "--by", "review", "--rating", "3", "--impact", "scoping",
         "--date", "2026-10-01", ok=True)
    mini("evaluate", str(dfe), "--by", "review", "--rating", "4", "--impact", "on track",
         "--date", "2027-01-10", ok=True)
    mini("evaluate", str(sle), "--by", "school", "--rating", "5", "--impact", "great", ok=True)
    assert [r["deployment_id"] for r in mini.json("reviews", "due", "--within", "60")] == [gov]
    assert mini("reviews", "due", "--within", "-1").exit_code == 2


def test_the_whole_process(mini):
    rid = mini.json("request", "log", "--school", "131543", "--need", "achievement",
                    "--specialism", "maths", "--days", "3")["id"]
    top = mini.json("match", str(rid), "--limit", "3")
    assert top[0]["leader_id"] == "L9002" and "holds maths" in top[0]["reasons"]
    did = mini.json("deploy", str(rid), "--leader", top[0]["leader_id"], "--start",
                    "2026-09-14", "--work", "one-to-one")["id"]
    assert mini.json("request", "show", str(rid))["status"] == "matched"
    mini("log", str(did), "--date", "2026-09-14", ok=True)
    mini("log", str(did), "--date", "2026-09-15", "--half", ok=True)
    assert mini.json("log", str(did), "--from", "2026-09-21", "--to", "2026-09-22",
                     "--half") == {"ids": [3, 4]}
    shown = mini.json("deployment", "show", str(did))
    assert (shown["agreed_days"], shown["logged_days"], shown["first_day"],
            shown["last_day"]) == ("3", "2.5", "2026-09-14", "2026-09-22")
    mini("deployment", "close", str(did), ok=True)
    assert mini.json("request", "show", str(rid))["status"] == "completed"
    assert [r["what"] for r in mini.json("reviews", "due")] == ["school evaluation"]
    mini("evaluate", str(did), "--by", "school", "--rating", "5", "--impact",
         "Year 9 maths moved from 38% to 61% at expected", ok=True)
    mini("evaluate", str(did), "--by", "leader", "--rating", "4", "--impact",
         "Department now runs its own moderation", ok=True)
    assert mini.json("reviews", "due") == []
    cap = mini.json("capacity", "--leader", "L9002")[0]
    assert (cap["agreed_days"], cap["worked_days"], cap["remaining_days"]) == ("3", "2.5", "7.5")
