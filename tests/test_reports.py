"""Reports: every report in every format on an empty and a busy database, with figures checked;
periods; atomic --out with {date}/{period}; CSV formula neutralisation; quiet and colourless
output for cron.  The busy database is built through the real commands (request, deploy, log,
invoice, void, close, evaluate)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from s2s_cli.errors import InvalidInput
from s2s_cli.services import reports
from tests.conftest import MINI, PG_URL, Run, isolate_env

TODAY = "2026-12-15"
NOTE = '=HYPERLINK("http://evil.example","click")'

# The documented contract: CSV headers / JSON keys of every report, in order.
CONTRACT = {
    "deployments": ["id", "school_urn", "school", "leader_id", "leader", "kind", "need",
                    "specialisms", "work", "funding", "start", "end", "agreed_days",
                    "logged_days", "invoiced_days", "status"],
    "days": ["id", "date", "deployment_id", "leader_id", "leader", "school_urn", "school",
             "days", "activity", "funding", "invoice_number", "note"],
    "utilisation": ["leader_id", "leader", "kind", "home_school", "active", "released_days",
                    "agreed_days", "worked_days", "utilisation_pct"],
    "income": ["month", "funding", "charged_days", "charged_pence", "free_days", "funded_days",
               "funded_pence", "supply_pence", "admin_pence", "total_pence", "invoiced_pence",
               "received_pence", "outstanding_pence"],
    "requests": ["id", "school_urn", "school", "need", "specialisms", "kind", "funding",
                 "status", "received", "matched_on", "closed_on", "age_days", "days_to_match",
                 "note"],
    "reviews": ["deployment_id", "item", "due", "state", "days_overdue", "school_urn", "school",
                "leader_id", "leader", "kind", "work", "funding", "first_day"],
    "directory": ["id", "name", "kind", "specialisms", "designations", "home_school_urn",
                  "home_school", "local_authority", "region", "phase", "capacity_days"],
}
FORMATS = ("json", "csv", "plain", "table")


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


def build_busy(run: Run) -> None:
    """A term of brokerage through the real commands, each on its own 'today'."""
    def at(day: str, *args: str) -> Any:
        return run(*args, env={"S2S_TODAY": day}, ok=True)

    run("seed", "load", str(MINI), "--deactivate-missing", ok=True)
    at("2026-09-01", "request", "log", "--school", "131543", "--need", "achievement", "-s",
       "maths", "--days", "5", "--received", "2026-09-01", "--note", NOTE)            # R1
    at("2026-09-10", "request", "log", "--school", "131544", "--need", "governance", "--kind",
       "NLG", "--funding", "dfe", "--days", "3", "--received", "2026-09-10",
       "--override", "agreed before the programme closed")                          # R2
    at("2026-10-01", "request", "log", "--school", "131545", "--need",
       "leadership-and-management", "--received", "2026-10-01")                      # R3
    at("2026-09-20", "request", "log", "--school", "131542", "--need", "behaviour",
       "--received", "2026-09-20")                                                   # R4
    at("2026-09-16", "request", "log", "--school", "131542", "--need", "governance", "--kind",
       "NLG", "--received", "2026-09-16")                                            # R5
    at("2026-09-25", "request", "cancel", "4", "--reason", "school withdrew")
    at("2026-09-04", "deploy", "1", "--leader", "L9002", "--days", "5", "--start",
       "2026-09-07", "--work", "coaching")                                           # D1
    at("2026-09-14", "deploy", "2", "--leader", "L9005", "--days", "3", "--start",
       "2026-09-15", "--work", "governance-review", "--funding", "dfe",
       "--override", "agreed before the programme closed")                          # D2
    at("2026-09-18", "deploy", "5", "--leader", "L9005", "--days", "1", "--start",
       "2026-09-21", "--work", "coaching")                                           # D3
    at(TODAY, "log", "1", "--date", "2026-09-07")                                   # day 1
    at(TODAY, "log", "1", "--date", "2026-09-08", "--half")                         # day 2
    at(TODAY, "log", "1", "--date", "2026-10-05", "--note", "+1 follow-up")         # day 3
    at(TODAY, "log", "2", "--date", "2026-09-15")                                   # day 4
    at(TODAY, "log", "2", "--date", "2026-10-01")                                   # day 5
    at(TODAY, "log", "3", "--date", "2026-09-21", "--half")                         # day 6
    at("2026-10-01", "invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    at("2026-11-01", "invoice", "--month", "2026-10", "--issue", "--date", "2026-11-01")
    at("2026-11-05", "invoices", "void", "S2S-2026-0004", "--reason", "wrong rate")
    at("2026-11-20", "deployment", "close", "1")
    at("2026-11-21", "evaluate", "2", "--by", "leader", "--rating", "4", "--impact", "good")


@pytest.fixture(scope="module")
def busy_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Built once per module on SQLite (copied per test); PostgreSQL rebuilds per test."""
    if PG_URL:
        return None
    root = tmp_path_factory.mktemp("busy")
    with pytest.MonkeyPatch.context() as mp:
        isolate_env(mp, root)
        run = Run(str(root / "busy.db"))
        run("db", "init", "--demo", ok=True)
        build_busy(run)
    return root / "busy.db"


@pytest.fixture
def busy(busy_template: Path | None, db: str, tmp_path: Path) -> Run:
    if busy_template is None:
        run = Run(db)
        run("db", "init", "--demo", ok=True)
        build_busy(run)
        return run
    target = tmp_path / "busy.db"
    src, dst = sqlite3.connect(busy_template), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return Run(str(target))


def report(run: Run, name: str, *args: str) -> list[dict[str, Any]]:
    rows = run.json("report", name, *args)
    assert isinstance(rows, list)
    for row in rows:
        assert list(row) == CONTRACT[name]
    return rows


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# ------------------------------------------------------------------------------ periods

NOW = dt.date(2026, 12, 15)


@pytest.mark.parametrize("spec, start, end, label", [
    (None, "2026-09-01", "2027-08-31", "2026-27"),
    ("academic-year", "2026-09-01", "2027-08-31", "2026-27"),
    ("last-academic-year", "2025-09-01", "2026-08-31", "2025-26"),
    ("this-month", "2026-12-01", "2026-12-31", "2026-12"),
    ("last-month", "2026-11-01", "2026-11-30", "2026-11"),
    ("this-term", "2026-09-01", "2026-12-31", "2026-27-autumn"),
    ("last-term", "2026-04-01", "2026-08-31", "2025-26-summer"),
    ("2027-02", "2027-02-01", "2027-02-28", "2027-02"),
    ("2026-27", "2026-09-01", "2027-08-31", "2026-27"),
    ("2026-2027", "2026-09-01", "2027-08-31", "2026-27"),
    ("2011-12", "2011-12-01", "2011-12-31", "2011-12"),  # a month wins over 2011-12 the year
])
def test_periods(spec: str | None, start: str, end: str, label: str) -> None:
    p = reports.resolve_period(spec, now=NOW)
    assert (p.start.isoformat(), p.end.isoformat(), p.label) == (start, end, label)


def test_terms_and_custom_ranges() -> None:
    spring = reports.resolve_period("this-term", now=dt.date(2027, 2, 10))
    assert (spring.start, spring.end, spring.label) == (
        dt.date(2027, 1, 1), dt.date(2027, 3, 31), "2026-27-spring")
    autumn = reports.resolve_period("last-term", now=dt.date(2027, 2, 10))
    assert (autumn.start, autumn.end) == (dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    jan = reports.resolve_period("last-month", now=dt.date(2027, 1, 3))
    assert jan.label == "2026-12"
    custom = reports.resolve_period(None, "2026-09-01", "2026-09-30", now=NOW)
    assert custom.label == "2026-09-01_2026-09-30"
    for bad in [("bogus", None, None), ("2026-28", None, None), (None, "2026-09-01", None),
                ("this-month", "2026-09-01", "2026-09-30"), (None, "2026-09-30", "2026-09-01"),
                (None, "2026-02-30", "2026-03-01")]:
        with pytest.raises(InvalidInput):
            reports.resolve_period(*bad, now=NOW)


# ------------------------------------------------------------------------------ empty db

def test_every_report_every_format_on_an_empty_database(cli: Run) -> None:
    leaders = {r["id"]: r for r in cli.json("find")}
    for name in CONTRACT:
        rows = report(cli, name)
        csv_out = cli("report", name, "--format", "csv", ok=True).stdout
        plain = cli("report", name, "--format", "plain", ok=True).stdout
        table = cli("report", name, "--format", "table", ok=True).stdout
        assert csv_rows(csv_out)[0] == CONTRACT[name]
        assert len(csv_rows(csv_out)) == len(rows) + 1
        assert plain.splitlines()[0].split("\t") == CONTRACT[name]
        assert len(plain.splitlines()) == len(rows) + 1
        assert "\x1b[" not in table  # never colour when not a terminal
        if name in ("utilisation", "directory"):
            assert {r.get("leader_id", r.get("id")) for r in rows} == set(leaders)
        else:
            assert rows == [] and f"No {name} rows" in table
    for row in report(cli, "utilisation"):
        capacity = leaders[row["leader_id"]]["capacity_days"]
        assert (row["released_days"], row["agreed_days"], row["worked_days"]) == (
            str(capacity), "0", "0")
        assert row["utilisation_pct"] == (0.0 if capacity else None)
    for row in report(cli, "directory"):
        assert row["specialisms"] == leaders[row["id"]]["specialisms"]


# ------------------------------------------------------------------------------ busy db

def test_deployments_report(busy: Run) -> None:
    rows = report(busy, "deployments")
    assert rows == [
        {"id": 1, "school_urn": 131543, "school": "Bolton High School", "leader_id": "L9002",
         "leader": "Ben Hallam", "kind": "SLE", "need": "achievement", "specialisms": ["maths"],
         "work": "coaching", "funding": "school", "start": "2026-09-07", "end": None,
         "agreed_days": "5", "logged_days": "2.5", "invoiced_days": "1.5", "status": "closed"},
        {"id": 2, "school_urn": 131544, "school": "Richmond Park Primary",
         "leader_id": "L9005", "leader": "Erin Walsh", "kind": "NLG",
         "need": "leadership-and-governance",
         "specialisms": [], "work": "governance-review", "funding": "dfe",
         "start": "2026-09-15", "end": None, "agreed_days": "3", "logged_days": "2",
         "invoiced_days": "2", "status": "active"},
        {"id": 3, "school_urn": 131542, "school": "Brookfield Primary School",
         "leader_id": "L9005", "leader": "Erin Walsh", "kind": "NLG",
         "need": "leadership-and-governance",
         "specialisms": [], "work": "coaching", "funding": "school", "start": "2026-09-21",
         "end": None, "agreed_days": "1", "logged_days": "0.5", "invoiced_days": "0.5",
         "status": "active"},
    ]
    # October: the day on the voided invoice is logged but no longer invoiced
    october = {r["id"]: (r["logged_days"], r["invoiced_days"])
               for r in report(busy, "deployments", "--period", "2026-10")}
    assert october == {1: ("1", "0"), 2: ("1", "1"), 3: ("0", "0")}
    assert report(busy, "deployments", "--period", "last-academic-year") == []


def test_days_report(busy: Run) -> None:
    rows = report(busy, "days")
    assert [(r["id"], r["date"], r["days"], r["invoice_number"]) for r in rows] == [
        (1, "2026-09-07", "1", "S2S-2026-0001"), (2, "2026-09-08", "0.5", "S2S-2026-0001"),
        (4, "2026-09-15", "1", "S2S-2026-0003"), (6, "2026-09-21", "0.5", "S2S-2026-0002"),
        (5, "2026-10-01", "1", "S2S-2026-0005"), (3, "2026-10-05", "1", None)]
    assert rows[-1]["note"] == "+1 follow-up"  # JSON is exact
    assert {r["leader_id"] for r in rows} == {"L9002", "L9005"}
    october = report(busy, "days", "--from", "2026-10-01", "--to", "2026-10-31")
    assert [r["id"] for r in october] == [5, 3]
    table = csv_rows(busy("report", "days", "--format", "csv", ok=True).stdout)
    assert table[-1][-1] == "'+1 follow-up"  # neutralised in CSV


def test_days_stream_through_either_driver(busy: Run) -> None:
    """The SQLAlchemy path streams too (server-side cursor on PostgreSQL)."""
    from s2s_cli.cli.common import State

    period = reports.resolve_period(None)
    st = State(target=busy.target)
    with st.reader(fast=False) as reader:
        slow = list(reports.days(reader, period))
    with st.reader() as reader:
        gen = reports.days(reader, period)
        assert iter(gen) is gen  # a generator, not a list
        fast = list(gen)
    assert [(r["id"], str(r["date"])) for r in slow] == [(r["id"], str(r["date"])) for r in fast]
    assert len(fast) == 6


def test_utilisation_report_and_chart(busy: Run) -> None:
    rows = {r["leader_id"]: r for r in report(busy, "utilisation")}
    assert set(rows) == {"L9001", "L9002", "L9003", "L9004", "L9005", "L9006"}
    assert {k: rows["L9002"][k] for k in CONTRACT["utilisation"][4:]} == {
        "active": True, "released_days": "10", "agreed_days": "5", "worked_days": "2.5",
        "utilisation_pct": 25.0}
    assert {k: rows["L9005"][k] for k in CONTRACT["utilisation"][5:]} == {
        "released_days": "10", "agreed_days": "4", "worked_days": "2.5",
        "utilisation_pct": 25.0}
    assert rows["L9004"]["released_days"] == "60" and rows["L9004"]["utilisation_pct"] == 0.0
    october = {r["leader_id"]: r for r in report(busy, "utilisation", "-p", "2026-10")}
    assert (october["L9002"]["worked_days"], october["L9002"]["utilisation_pct"]) == ("1", 10.0)
    out = busy("report", "utilisation", "--format", "table", ok=True).stdout
    assert out.index("Days worked against days released") < out.index("released")
    assert "█" in out and "2.5/10 days (25.0%)" in out and "\x1b[" not in out
    assert "worked %" in out and "3.9%" in out  # total: 5 worked of 127 released
    assert "█" not in busy("report", "utilisation", "--format", "csv", ok=True).stdout


def _chart_lines(chart: Any) -> list[str]:
    from rich.console import Console

    con = Console(width=120, force_terminal=True, no_color=True, record=True)
    con.print(chart)
    return con.export_text().splitlines()


def test_utilisation_chart_shows_the_busiest_first(busy: Run) -> None:
    from s2s_cli.cli.reports import CHART_LEADERS, utilisation_chart

    # through the CLI: L9002 and L9005 both worked 2.5 days (L9002 agreed more); the four
    # leaders with nothing agreed or worked have no bar
    out = busy("report", "utilisation", "--format", "table", ok=True).stdout
    chart = out[out.index("Days worked against days released"):out.index("█ worked")]
    bars = [line.split()[0] for line in chart.splitlines()[1:] if line.strip()]
    assert bars == ["L9002", "L9005"]

    def row(n: int, worked: int, agreed: int) -> dict[str, Any]:
        return {"leader_id": f"L{n:04d}", "leader": f"Leader {n}", "worked_days": worked,
                "agreed_days": agreed, "released_days": 40, "utilisation_pct": None}

    # 60 leaders in id order, the busiest with the highest ids; 10 with nothing at all
    rows = [row(n, 0, 0) for n in range(1, 11)]
    rows += [row(n, n // 2, n) for n in range(11, 61)]
    lines = _chart_lines(utilisation_chart(rows))
    assert lines[0] == (f"Days worked against days released (the {CHART_LEADERS} busiest "
                        "of 50 leaders with work)")
    shown = [line.split()[0] for line in lines[1:] if line.startswith("L")]
    assert shown[:4] == ["L0060", "L0059", "L0058", "L0057"]  # 30, 29.5, 29, 28.5 worked
    assert len(shown) == CHART_LEADERS and shown[-1] == "L0021"
    # ties on worked are broken by agreed, then id; nobody idle is drawn
    few = [row(1, 0, 0), row(2, 2, 2), row(3, 2, 6), row(4, 0, 3), row(5, 4, 4)]
    shown = [line.split()[0] for line in _chart_lines(utilisation_chart(few))[1:]
             if line.startswith("L")]
    assert shown == ["L0005", "L0003", "L0002", "L0004"]
    assert "busiest" not in _chart_lines(utilisation_chart(few))[0]
    assert utilisation_chart([row(1, 0, 0), row(2, 0, 0)]) is None


def _live_invoice_lines(run: Run) -> list[dict[str, Any]]:
    lines = []
    for inv in run.json("invoices", "list"):
        if inv["status"] not in ("void", "credit"):  # live: issued, part-paid, paid, overdue
            shown = run.json("invoices", "show", inv["number"])
            lines += (shown[0] if isinstance(shown, list) else shown)["lines"]
    return lines


def test_income_report_and_chart(busy: Run) -> None:
    rows = report(busy, "income")
    assert [(r["month"], r["funding"]) for r in rows] == [
        ("2026-09", "dfe"), ("2026-09", "school"), ("2026-10", "dfe")]
    sep_dfe, sep_school, oct_dfe = rows
    # 1.5 SLE days on the card (£350, £175) and 0.5 NLG day free; one DfE-funded NLG day a
    # month at £400; October's school day sits on a voided invoice, so it is not income.
    assert (sep_school["charged_days"], sep_school["charged_pence"]) == ("1.5", 52500)
    assert sep_school["free_days"] == "0.5" and sep_school["funded_pence"] == 0
    assert (sep_dfe["funded_days"], sep_dfe["funded_pence"]) == ("1", 40000)
    assert (oct_dfe["funded_days"], oct_dfe["funded_pence"], oct_dfe["charged_pence"]) == (
        "1", 40000, 0)
    for r in rows:
        assert r["total_pence"] == r["charged_pence"] + r["funded_pence"]
        assert r["admin_pence"] == r["total_pence"] - r["supply_pence"]
    # every figure reconciles with the lines of the live invoices (not voided, not credits)
    lines = _live_invoice_lines(busy)
    assert sum(r["total_pence"] for r in rows) == sum(x["amount_pence"] for x in lines) == 132500
    assert sum(r["supply_pence"] for r in rows) == sum(x["supply_pence"] for x in lines)
    assert report(busy, "income", "--period", "2026-11") == []
    out = busy("report", "income", "--format", "table", ok=True).stdout
    assert out.index("Income by month") < out.index("supply cover")
    assert "2026-09" in out and "£925.00" in out and "£1,325.00" in out
    assert "2027-03" not in out.split("income 2026")[0]  # no bars for months still to come


def test_requests_report(busy: Run) -> None:
    rows = report(busy, "requests")
    got = [(r["id"], r["status"], r["received"], r["matched_on"], r["closed_on"], r["age_days"],
            r["days_to_match"]) for r in rows]
    assert got == [
        (1, "completed", "2026-09-01", "2026-09-04", "2026-11-20", 80, 3),
        (2, "matched", "2026-09-10", "2026-09-14", None, 96, 4),
        (5, "matched", "2026-09-16", "2026-09-18", None, 90, 2),
        (4, "cancelled", "2026-09-20", None, "2026-09-25", 5, None),
        (3, "open", "2026-10-01", None, None, 75, None)]
    assert rows[0]["specialisms"] == ["maths"] and rows[0]["note"] == NOTE
    # a request closed before the period does not show; one still open does
    assert [r["id"] for r in report(busy, "requests", "-p", "2026-10")] == [1, 2, 5, 3]
    cells = csv_rows(busy("report", "requests", "--format", "csv", ok=True).stdout)
    assert cells[1][-1] == "'" + NOTE  # formula neutralised, quotes kept (RFC 4180)


def test_reviews_report(busy: Run) -> None:
    rows = report(busy, "reviews")
    assert [(r["deployment_id"], r["item"], r["due"], r["state"], r["days_overdue"])
            for r in rows] == [(1, "school evaluation", "2026-11-20", "overdue", 25),
                               (2, "progress review", "2027-01-15", "due", 0)]
    assert rows[1]["first_day"] == "2026-09-15" and rows[1]["kind"] == "NLG"
    assert [r["deployment_id"] for r in report(busy, "reviews", "-p", "this-month")] == [1]
    later = busy.json("report", "reviews", "-p", "2027-02")  # S2S_TODAY still 2026-12-15
    assert [r["due"] for r in later] == ["2026-11-20", "2027-01-15"]
    busy("evaluate", "1", "--by", "school", "--rating", "5", "--impact", "great", ok=True)
    busy("evaluate", "2", "--by", "review", "--rating", "4", "--impact", "on track", ok=True)
    assert report(busy, "reviews") == []


def test_every_report_every_format_on_the_busy_database(busy: Run) -> None:
    for name in CONTRACT:
        rows = report(busy, name)
        assert rows, name
        cells = csv_rows(busy("report", name, "--format", "csv", ok=True).stdout)
        assert cells[0] == CONTRACT[name] and len(cells) == len(rows) + 1
        plain = busy("report", name, "--format", "plain", ok=True).stdout.splitlines()
        assert len(plain) == len(rows) + 1
        table = busy("report", name, "--format", "table", ok=True).stdout
        first = rows[0]
        assert str(first.get("leader") or first.get("name") or first.get("school")
                   or first["month"]) in table


# ------------------------------------------------------------------------------ directory

def test_directory_hides_erased_leaders_data(mini: Run) -> None:
    before = {r["id"]: r for r in report(mini, "directory")}
    assert before["L9001"]["name"] == "Amira Okafor"
    assert before["L9002"]["designations"] == ["pupil premium reviewer"]
    assert "L9007" not in before  # inactive
    assert "email" not in before["L9001"]  # nothing personal beyond the name, for sharing
    mini("leader", "erase", "L9001", "--confirm", ok=True)
    assert "L9001" not in {r["id"] for r in report(mini, "directory")}
    mini("seed", "load", str(MINI), ok=True)  # the file still lists L9001, active
    shown = mini.json("leader", "show", "L9001")
    assert shown["active"] is False and shown["name"] == "[erased L9001]"  # never restored
    assert "L9001" not in {r["id"] for r in report(mini, "directory")}
    out = mini("report", "directory", "--format", "csv", ok=True).stdout
    assert "Amira" not in out and "L9001" not in out


def test_csv_neutralises_formulas_through_a_real_report(mini: Run, tmp_path: Path) -> None:
    seed = tmp_path / "hostile.yaml"
    seed.write_text(
        "leaders:\n"
        "  - {id: L9101, name: '=HYPERLINK(\"http://evil.example\",\"x\")', kind: SLE,\n"
        "     home_school: 131542, specialisms: [maths]}\n"
        "  - {id: L9102, name: '@SUM(A1:A9)', kind: SLE, home_school: 131542}\n"
        "  - {id: L9103, name: '+44 Leader', kind: SLE, home_school: 131542}\n"
        "  - {id: L9104, name: '-Minus, \"Quoted\" Leader', kind: SLE, home_school: 131542}\n"
        "  - {id: L9105, name: 'Plain Leader', kind: SLE, home_school: 131542}\n",
        encoding="utf-8")
    mini("seed", "load", str(seed), "--deactivate-missing", ok=True)
    out = tmp_path / "dir.csv"
    mini("report", "directory", "--out", str(out), "--excel", ok=True)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # --excel: a BOM
    assert b"\r\n" in data and b"\n\n" not in data
    rows = csv_rows(data.decode("utf-8-sig"))
    assert rows[0] == CONTRACT["directory"]
    names = [r[1] for r in rows[1:]]
    assert names == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'@SUM(A1:A9)",
                     "'+44 Leader", "'-Minus, \"Quoted\" Leader", "Plain Leader"]
    assert b'"\'-Minus, ""Quoted"" Leader"' in data  # RFC 4180 quoting
    assert report(mini, "directory")[0]["name"].startswith("=HYPERLINK")  # JSON stays exact
    assert not mini("report", "directory", "--format", "csv",
                    ok=True).stdout.startswith("\ufeff")


# ------------------------------------------------------------------------------ --out, cron

def test_out_placeholders_folders_mode_and_quiet(busy: Run, tmp_path: Path) -> None:
    template = str(tmp_path / "reports" / "{period}" / "income-{date}.csv")
    result = busy("-q", "report", "income", "--period", "2026-10", "--out", template, ok=True)
    assert result.stdout == "" and result.stderr == ""  # --quiet: silent on success
    out = tmp_path / "reports" / "2026-10" / f"income-{TODAY}.csv"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert csv_rows(out.read_text(encoding="utf-8")) == [
        CONTRACT["income"], ["2026-10", "dfe", "0", "0", "0", "1", "40000", "34000", "6000",
                             "40000", "40000", "0", "40000"]]
    loud = busy("report", "days", "--from", "2026-09-01", "--to", "2026-09-30", "--out",
                str(tmp_path / "{period}.json"), ok=True)
    assert loud.stdout == "" and "Wrote 4 days row(s)" in loud.stderr
    assert len(json.loads((tmp_path / "2026-09-01_2026-09-30.json").read_text())) == 4
    busy("report", "requests", "--out", str(tmp_path / "r-{period}.txt"), ok=True)
    assert (tmp_path / "r-2026-27.txt").read_text().startswith("id\tschool_urn\t")
    busy("report", "reviews", "-p", "this-term", "-f", "json", "-o", str(tmp_path / "{period}"),
         ok=True)
    assert json.loads((tmp_path / "2026-27-autumn").read_text())[0]["deployment_id"] == 1
    bad = busy("report", "income", "--out", str(tmp_path / "{month}.csv"))
    assert bad.exit_code == 2 and "{month}" in bad.stderr


def test_failed_report_leaves_the_previous_file_byte_identical(
        busy: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    target = folder / "days.csv"
    busy("report", "days", "--format", "csv", "--out", str(target), ok=True)
    before = target.read_bytes()
    assert before.count(b"\r\n") == 7
    real = reports.days
    pulled = []

    def failing(reader, period):  # type: ignore[no-untyped-def]
        for row in real(reader, period):
            if len(pulled) == 3:
                raise RuntimeError("disk on fire")
            pulled.append(row)
            yield row

    real_csv = reports.days_csv

    def failing_csv(reader, period):  # type: ignore[no-untyped-def]
        body = real_csv(reader, period, batch=1)  # PostgreSQL: COPY's rows
        if body is None:
            return None

        def run(write):  # type: ignore[no-untyped-def]
            def block(data):  # type: ignore[no-untyped-def]
                if len(pulled) == 3:
                    raise RuntimeError("disk on fire")
                pulled.append(data)
                write(data)

            return body(block)

        return run

    monkeypatch.setattr(reports, "days", failing)
    monkeypatch.setattr(reports, "days_csv", failing_csv)
    with pytest.raises(RuntimeError):
        busy("report", "days", "--format", "csv", "--out", str(target))
    assert len(pulled) == 3  # rows were being written when it failed
    assert target.read_bytes() == before
    assert os.listdir(folder) == ["days.csv"]  # no temporary file left behind
    monkeypatch.delenv("S2S_RAISE_ERRORS")  # as a user sees it: one line, exit 1
    pulled.clear()
    result = busy("report", "days", "--out", str(target))  # csv, from the suffix
    assert result.exit_code == 1 and "disk on fire" in result.stderr
    assert target.read_bytes() == before and os.listdir(folder) == ["days.csv"]
    fresh = busy("report", "days", "--out", str(folder / "new.csv"))
    assert fresh.exit_code == 1 and os.listdir(folder) == ["days.csv"]


def test_out_format_comes_only_from_a_suffix_that_says_it(busy: Run, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    for name in ("days.xlsx", "days.CSV.bak", "days"):
        result = busy("report", "days", "--out", str(tmp_path / name))
        assert result.exit_code == 2, name
        assert result.stdout == "" and result.stderr.count("\n") == 1
        assert "cannot tell the format from " in result.stderr, name
        assert "add --format csv|json|plain" in result.stderr
    xlsx = busy("report", "days", "--out", str(tmp_path / "days.xlsx"))
    assert xlsx.stderr == ("Error: cannot tell the format from .xlsx: name the file .csv, "
                           ".json or .txt, or add --format csv|json|plain\n")
    pdf = busy("report", "days", "--out", str(tmp_path / "days.pdf"))  # invoices only
    assert pdf.exit_code == 2 and "this command cannot write pdf" in pdf.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written
    # the suffixes that say their format, in any case
    busy("report", "days", "--out", str(tmp_path / "d.CSV"), ok=True)
    assert (tmp_path / "d.CSV").read_text().startswith("id,date,")
    busy("report", "days", "--out", str(tmp_path / "d.json"), ok=True)
    assert isinstance(json.loads((tmp_path / "d.json").read_text()), list)
    for name in ("d.txt", "d.tsv"):
        busy("report", "days", "--out", str(tmp_path / name), ok=True)
        assert (tmp_path / name).read_text().startswith("id\tdate\t")
    # --format settles it whatever the suffix
    busy("report", "days", "--format", "csv", "--out", str(tmp_path / "days.xlsx"), ok=True)
    assert (tmp_path / "days.xlsx").read_text().startswith("id,date,")


def test_bad_usage_exits_2(busy: Run) -> None:
    for args in (["report", "bogus"], ["report", "income", "--from", "2026-09-01"],
                 ["report", "income", "--period", "autumn"],
                 ["report", "income", "--format", "json", "--excel"],
                 ["report", "days", "--from", "2026-10-01", "--to", "2026-09-01"]):
        result = busy(*args)
        assert result.exit_code == 2, args
        assert result.stdout == ""
