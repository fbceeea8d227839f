"""Invoicing end to end through the CLI (request -> deploy -> log -> invoice), with hand-worked
amounts, and property tests of issuing, voiding and numbering on the service layer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import MINI, Run

# --------------------------------------------------------------------------- helpers


def deploy(run: Run, *, school: int, leader: str, days: str = "10",
           start: str = "2026-09-01", funding: str | None = None, funder: str | None = None,
           extra: int | None = None, rate: str | None = None, half: str | None = None,
           need: str = "achievement") -> int:
    req = ["request", "log", "--school", str(school), "--need", need,
           "--received", "2026-01-05"]
    if funding:
        req += ["--funding", funding]
    if funder:
        req += ["--funder", funder]
    if funding == "dfe":  # the programme is closed to new commissions: on the record, why
        req += ["--override", "DfE package agreed before the programme closed"]
    request_id = run(*req, ok=True).stdout.strip()
    args = ["deploy", request_id, "--leader", leader, "--days", days, "--start", start]
    if funding == "dfe":
        args += ["--override", "DfE package agreed before the programme closed"]
    if extra is not None:
        args += ["--dfe-extra-days", str(extra)]
    if rate is not None:
        args += ["--rate", rate]
    if half is not None:
        args += ["--half-day-rate", half]
    return int(run(*args, ok=True).stdout.strip())


def log(run: Run, deployment: int, *dates: str, half: bool = False) -> None:
    for date in dates:
        extra = ["--include-holidays"] if date == "2026-08-31" else []  # a bank holiday
        run("log", str(deployment), "--date", date, *(["--half"] if half else []), *extra,
            ok=True)


def by_payer(invoices: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {inv["payer"]: inv for inv in invoices}


def lines(inv: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(ln["leader_id"], ln["kind"], ln["date_from"], ln["date_to"], ln["days"],
             ln["full_days"], ln["half_days"], ln["rate_pence"], ln["amount_pence"])
            for ln in inv["lines"]]


INVOICE_KEYS = {"number", "payer", "period_from", "period_to", "issued", "due",
                "subtotal_pence", "vat_pence", "total_pence", "status", "lines"}
LINE_KEYS = {"deployment_id", "leader_id", "date_from", "date_to", "days", "full_days",
             "half_days", "rate_pence", "amount_pence", "kind"}


@pytest.fixture
def three_schools(mini: Run) -> Run:
    """September 2026: a negotiated LLE rate, a card SLE rate, and the small-school band."""
    lle = deploy(mini, school=131543, leader="L9006", days="3", rate="420", half="250")
    log(mini, lle, "2026-09-07")
    log(mini, lle, "2026-09-08", "2026-09-09", half=True)
    sle = deploy(mini, school=131545, leader="L9002", days="3")
    log(mini, sle, "2026-09-14", "2026-09-15")
    log(mini, sle, "2026-09-16", half=True)
    band = deploy(mini, school=131542, leader="L9003", days="5")
    log(mini, band, "2026-09-21", "2026-09-22", "2026-09-23")
    log(mini, band, "2026-09-24", half=True)
    return mini


# --------------------------------------------------------------------------- hand-worked


def test_negotiated_card_and_size_band_rates(three_schools: Run, snapshot, db, monkeypatch):
    monkeypatch.setenv("S2S_TODAY", "2026-10-01")  # issued today: not yet due
    before = snapshot(db)
    draft = three_schools.json("invoice", "--month", "2026-09")
    assert snapshot(db) == before  # a draft changes nothing
    invs = by_payer(draft)
    assert set(invs) == {"Bolton High School", "Plymouth Sound Academy",
                         "Brookfield Primary School"}
    # LLE at a negotiated £420 a day, £250 a half day: 1 day + 2 halves = £920
    assert lines(invs["Bolton High School"]) == [
        ("L9006", "charged", "2026-09-07", "2026-09-09", "2", 1, 2, 42000, 92000)]
    # SLE at the card rate (900 pupils): £350 + £350 + £175 = £875
    assert lines(invs["Plymouth Sound Academy"]) == [
        ("L9002", "charged", "2026-09-14", "2026-09-16", "2.5", 2, 1, 35000, 87500)]
    # SLE at the small-school band (180 pupils <= 210): 3 x £300 + £150 = £1,050
    assert lines(invs["Brookfield Primary School"]) == [
        ("L9003", "charged", "2026-09-21", "2026-09-24", "3.5", 3, 1, 30000, 105000)]
    band = invs["Brookfield Primary School"]
    assert band["lines"][0]["half_day_rate_pence"] == 15000
    assert band["lines"][0]["supply_pence"] == 3 * 25500 + 12750  # 15% admin kept
    assert (band["subtotal_pence"], band["vat_pence"], band["total_pence"]) == (105000, 0, 105000)
    for inv in draft:
        assert INVOICE_KEYS <= set(inv)
        assert (inv["number"], inv["status"], inv["issued"], inv["due"]) == (None, "draft",
                                                                             None, None)
        assert (inv["period_from"], inv["period_to"]) == ("2026-09-01", "2026-09-30")
        assert all(LINE_KEYS <= set(ln) for ln in inv["lines"])

    issued = three_schools.json("invoice", "--month", "2026-09", "--issue",
                                "--date", "2026-10-01")
    # one invoice per payer, numbered in payer-name order, due after 28 days
    assert [(i["number"], i["payer"], i["total_pence"]) for i in issued] == [
        ("S2S-2026-0001", "Bolton High School", 92000),
        ("S2S-2026-0002", "Brookfield Primary School", 105000),
        ("S2S-2026-0003", "Plymouth Sound Academy", 87500)]
    assert {(i["status"], i["issued"], i["due"]) for i in issued} == {
        ("issued", "2026-10-01", "2026-10-29")}
    # the issued invoices say exactly what the draft said
    # days: the schedule, once issued; paid and balance: an issued invoice's account
    strip = ("number", "status", "issued", "due", "days", "paid_pence", "balance_pence",
             "payments")
    assert [{k: v for k, v in i.items() if k not in strip} for i in issued] == \
        sorted(({k: v for k, v in d.items() if k not in strip} for d in draft),
               key=lambda d: d["payer"])


def test_nlg_five_free_days_span_two_deployments_and_restart_each_academic_year(mini: Run):
    a = deploy(mini, school=131543, leader="L9005", days="6", start="2026-06-01",
               need="governance")
    b = deploy(mini, school=131544, leader="L9005", days="4", start="2026-06-01",
               need="governance")
    log(mini, a, "2026-06-01", "2026-06-05", "2026-08-31", "2026-09-02")
    log(mini, a, "2026-06-03", half=True)
    log(mini, b, "2026-06-02", "2026-06-04", "2026-09-01")
    log(mini, b, "2026-06-08", half=True)
    # June: 2 + 2 + 1 + 2 + 2 + 1 halves = the 5 free days of 2025-26, over both deployments
    june = by_payer(mini.json("invoice", "--month", "2026-06", "--issue", "--date", "2026-07-01"))
    assert lines(june["Bolton High School"]) == [
        ("L9005", "free", "2026-06-01", "2026-06-05", "2.5", 2, 1, 40000, 0)]
    assert lines(june["Richmond Park Primary"]) == [
        ("L9005", "free", "2026-06-02", "2026-06-08", "2.5", 2, 1, 40000, 0)]
    # an invoice of free days only is still issued, at £0
    assert june["Richmond Park Primary"]["number"] == "S2S-2026-0002"
    assert june["Richmond Park Primary"]["total_pence"] == 0
    # a later run in the same academic year finds the allowance used up
    summer = mini.json("invoice", "--from", "2026-07-01", "--to", "2026-08-31", "--issue",
                       "--date", "2026-09-01")
    assert [(i["payer"], lines(i)) for i in summer] == [("Bolton High School", [
        ("L9005", "charged", "2026-08-31", "2026-08-31", "1", 1, 0, 40000, 40000)])]
    # 1 September starts a new academic year and a new allowance
    sept = by_payer(mini.json("invoice", "--month", "2026-09"))
    assert lines(sept["Bolton High School"]) == [
        ("L9005", "free", "2026-09-02", "2026-09-02", "1", 1, 0, 40000, 0)]
    assert lines(sept["Richmond Park Primary"]) == [
        ("L9005", "free", "2026-09-01", "2026-09-01", "1", 1, 0, 40000, 0)]


def test_nlg_allowance_in_a_draft_before_earlier_days_are_invoiced(mini: Run):
    a = deploy(mini, school=131543, leader="L9005", days="7", start="2026-09-01",
               need="governance")
    log(mini, a, *[f"2026-09-{d:02d}" for d in (1, 2, 3, 4)], "2026-10-01", "2026-10-02")
    # September is not invoiced yet: October's run carries its 4 days (first, so free), and
    # says so; October has 1 free day left
    [october] = mini.json("invoice", "--month", "2026-10")
    assert lines(october) == [
        ("L9005", "charged", "2026-10-02", "2026-10-02", "1", 1, 0, 40000, 40000),
        ("L9005", "free", "2026-09-01", "2026-10-01", "5", 5, 0, 40000, 0)]
    assert october["earlier_days"] == 4
    assert [ln["earlier_days"] for ln in october["lines"]] == [0, 4]


def test_maintained_school_dfe_package_then_charged_days(mini: Run):
    # 131544 is voluntary aided (maintained): an NLG's 3-day package
    dep = deploy(mini, school=131544, leader="L9005", days="5", start="2026-10-01",
                 funding="dfe", need="governance")
    log(mini, dep, "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08")
    log(mini, dep, "2026-10-09", half=True)
    invs = by_payer(mini.json("invoice", "--month", "2026-10", "--issue", "--date",
                              "2026-11-02"))
    assert lines(invs["DfE"]) == [
        ("L9005", "funded", "2026-10-05", "2026-10-07", "3", 3, 0, 40000, 120000)]
    assert invs["DfE"]["payer_school_urn"] is None
    # beyond the package: charged to the school at the deployment's rates, never free
    assert lines(invs["Richmond Park Primary"]) == [
        ("L9005", "charged", "2026-10-08", "2026-10-09", "1.5", 1, 1, 40000, 60000)]


def test_trust_dfe_package_with_additional_days(mini: Run):
    # 131542 is an academy (a trust): an NLG's 5 days + 2 additional = 7 funded days
    dep = deploy(mini, school=131542, leader="L9005", days="9", start="2026-11-01",
                 funding="dfe", extra=2, need="governance")
    log(mini, dep, *[f"2026-11-{d:02d}" for d in (2, 3, 4, 5, 6, 9, 10, 11)])
    log(mini, dep, "2026-11-12", half=True)
    invs = by_payer(mini.json("invoice", "--month", "2026-11"))
    assert lines(invs["DfE"]) == [
        ("L9005", "funded", "2026-11-02", "2026-11-10", "7", 7, 0, 40000, 280000)]
    # beyond the package: charged to the school (never the NLG's free days)
    assert lines(invs["Brookfield Primary School"]) == [
        ("L9005", "charged", "2026-11-11", "2026-11-12", "1.5", 1, 1, 40000, 60000)]
    # issuing the first week only, then the rest, still funds exactly 7 days
    mini("invoice", "--from", "2026-11-01", "--to", "2026-11-06", "--issue", ok=True)
    rest = by_payer(mini.json("invoice", "--from", "2026-11-07", "--to", "2026-11-30",
                              "--issue"))
    assert lines(rest["DfE"]) == [
        ("L9005", "funded", "2026-11-09", "2026-11-10", "2", 2, 0, 40000, 80000)]
    assert rest["Brookfield Primary School"]["total_pence"] == 60000


def nlg_package_then_own_work(mini: Run) -> None:
    """NLG L9005: 8 days on a DfE package at a maintained school (3 funded, 5 charged), then
    2 school-paid days elsewhere (free: the package days used none of the allowance)."""
    dep = deploy(mini, school=131544, leader="L9005", days="8", start="2026-11-01",
                 funding="dfe", need="governance")
    log(mini, dep, *[f"2026-11-{d:02d}" for d in (2, 3, 4, 5, 6, 9, 10, 11)])
    own = deploy(mini, school=131543, leader="L9005", days="2", start="2026-11-01",
                 need="governance")
    log(mini, own, "2026-11-16", "2026-11-17")


def test_nlg_dfe_package_days_do_not_use_the_allowance(mini: Run):
    nlg_package_then_own_work(mini)
    invs = by_payer(mini.json("invoice", "--month", "2026-11"))
    assert [(ln["kind"], ln["days"]) for ln in invs["DfE"]["lines"]] == [("funded", "3")]
    # days beyond the package are charged to the school, not free ...
    assert [(ln["kind"], ln["days"], ln["amount_pence"])
            for ln in invs["Richmond Park Primary"]["lines"]] == [("charged", "5", 200000)]
    # ... and the allowance is untouched for the NLG's school-funded work
    assert [(ln["kind"], ln["days"], ln["amount_pence"])
            for ln in invs["Bolton High School"]["lines"]] == [("free", "2", 0)]
    issued = by_payer(mini.json("invoice", "--month", "2026-11", "--issue"))
    assert {p: i["total_pence"] for p, i in issued.items()} == {
        "DfE": 120000, "Richmond Park Primary": 200000, "Bolton High School": 0}


def test_dfe_funded_nle_deployment_has_every_day_funded(mini: Run):
    # packages are for NLGs only: an NLE's DfE-funded work is funded day for day, no cap
    dep = deploy(mini, school=131545, leader="L9004", days="9", start="2026-11-01",
                 funding="dfe")
    log(mini, dep, *[f"2026-11-{d:02d}" for d in (2, 3, 4, 5, 6, 9, 10, 11)])
    log(mini, dep, "2026-11-12", half=True)
    [draft] = mini.json("invoice", "--month", "2026-11")
    assert (draft["payer"], draft["payer_school_urn"], draft["total_pence"]) == (
        "DfE", None, 8 * 50000 + 25000)
    assert lines(draft) == [
        ("L9004", "funded", "2026-11-02", "2026-11-12", "8.5", 8, 1, 50000, 425000)]
    [issued] = mini.json("invoice", "--month", "2026-11", "--issue")
    assert lines(issued) == lines(draft)


def test_dfe_extra_days_are_for_nlg_packages_only(mini: Run, snapshot, db):
    request_id = mini("request", "log", "--school", "131545", "--need", "achievement",
                      "--received", "2026-01-05", "--funding", "dfe", "--override",
                      "agreed before the programme closed", ok=True).stdout.strip()
    before = snapshot(db)
    result = mini("deploy", request_id, "--leader", "L9004", "--days", "9",
                  "--dfe-extra-days", "2")
    assert result.exit_code == 2
    assert "NLG" in result.stderr
    assert snapshot(db) == before


@pytest.mark.parametrize("funding", ["intervention", "grant"])
def test_funder_paid_deployment(mini: Run, funding):
    dep = deploy(mini, school=131543, leader="L9001", days="2", start="2026-09-01",
                 funding=funding, funder="Bolton LA")
    log(mini, dep, "2026-09-10", "2026-09-11")
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue")
    assert (inv["payer"], inv["payer_school_urn"], inv["total_pence"]) == ("Bolton LA", None,
                                                                            70000)
    assert lines(inv) == [("L9001", "funded", "2026-09-10", "2026-09-11", "2", 2, 0, 35000,
                           70000)]
    assert mini.json("invoice", "--month", "2026-09", "--payer", "bolton la") == []


def test_issue_twice_issues_nothing_new_until_a_day_is_logged(three_schools: Run, snapshot,
                                                                db):
    three_schools("invoice", "--month", "2026-09", "--issue", ok=True)
    before = snapshot(db)
    again = three_schools("invoice", "--month", "2026-09", "--issue", "--format", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout) == []
    assert "nothing new to invoice" in again.stderr
    assert snapshot(db) == before
    assert three_schools.json("invoice", "--month", "2026-09") == []
    # a day logged afterwards is billed by the next run, alone
    dep = three_schools.json("deployment", "list")[0]["id"]
    three_schools("log", str(dep), "--date", "2026-09-30", ok=True)
    [new] = three_schools.json("invoice", "--month", "2026-09", "--issue")
    assert new["number"] == "S2S-2026-0004"
    assert [(ln["date_from"], ln["days"]) for ln in new["lines"]] == [("2026-09-30", "1")]


def test_an_invoiced_day_cannot_be_undone(three_schools: Run):
    day = three_schools.json("log", "list")[0]["id"]
    three_schools("invoice", "--month", "2026-09", "--issue", ok=True)
    result = three_schools("log", "undo", str(day))
    assert result.exit_code == 1
    assert "S2S-2026-0001" in result.stderr


def test_void_writes_a_credit_note_and_frees_the_days(three_schools: Run, db):
    three_schools("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    out = three_schools("invoices", "void", "S2S-2026-0002", "--reason", "wrong school",
                        "--date", "2026-10-05", ok=True)
    assert out.stdout.strip() == "S2S-CR-2026-0001"
    [credit] = three_schools.json("invoices", "show", "S2S-CR-2026-0001")
    assert (credit["status"], credit["credits"], credit["reason"]) == (
        "credit", "S2S-2026-0002", "wrong school")
    assert (credit["subtotal_pence"], credit["total_pence"]) == (-105000, -105000)
    assert [(ln["days"], ln["amount_pence"]) for ln in credit["lines"]] == [("3.5", -105000)]
    [void] = three_schools.json("invoices", "show", "s2s-2026-0002")
    assert (void["status"], void["voided_by"]) == ("void", "S2S-CR-2026-0001")
    # its days are billable again, and are re-invoiced under the next number
    [again] = three_schools.json("invoice", "--month", "2026-09")
    assert (again["payer"], again["total_pence"]) == ("Brookfield Primary School", 105000)
    [reissued] = three_schools.json("invoice", "--month", "2026-09", "--issue")
    assert reissued["number"] == "S2S-2026-0004"
    three_schools("invoices", "void", "S2S-2026-0004", "--reason", "again", ok=True)
    listed = three_schools.json("invoices", "list")
    assert [(r["number"], r["status"]) for r in listed
            if r["number"].startswith("S2S-CR")] == [("S2S-CR-2026-0001", "credit"),
                                                     ("S2S-CR-2026-0002", "credit")]
    # refusals: twice, a credit note, an unknown number, a date before the invoice
    twice = three_schools("invoices", "void", "S2S-2026-0002", "--reason", "x")
    assert twice.exit_code == 1 and "already void" in twice.stderr
    cn = three_schools("invoices", "void", "S2S-CR-2026-0001", "--reason", "x")
    assert cn.exit_code == 1 and "credit note" in cn.stderr
    assert three_schools("invoices", "void", "S2S-2026-0099", "--reason", "x").exit_code == 1
    assert three_schools("invoices", "show", "S2S-2026-0099").exit_code == 1
    early = three_schools("invoices", "void", "S2S-2026-0001", "--reason", "x", "--date",
                          "2026-09-01")
    assert early.exit_code == 1 and "before the invoice's issue date" in early.stderr
    assert three_schools("invoices", "void", "S2S-2026-0001", "--reason", " ").exit_code == 2
    # the database still keeps every rule
    check = three_schools("db", "check", "--format", "json")
    assert check.exit_code == 0, check.stdout


def test_csv_contract_one_row_per_line(three_schools: Run):
    three_schools("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    out = three_schools("invoices", "show", "S2S-2026-0001", "--format", "csv", ok=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["number"], row["payer"], row["issued"], row["kind"], row["days"],
            row["rate_pence"], row["amount_pence"], row["invoice_total_pence"]) == (
        "S2S-2026-0001", "Bolton High School", "2026-10-01", "charged", "2", "42000",
        "92000", "92000")
    draft_csv = three_schools("invoice", "--month", "2026-10", "--format", "csv", ok=True)
    assert draft_csv.stdout.splitlines()[0].startswith("number,status,payer,")


def test_filters_by_school_and_payer(three_schools: Run):
    only = three_schools.json("invoice", "--month", "2026-09", "--school", "131542")
    assert [i["payer"] for i in only] == ["Brookfield Primary School"]
    named = three_schools.json("invoice", "--month", "2026-09", "--payer",
                               "plymouth sound academy")
    assert [i["payer"] for i in named] == ["Plymouth Sound Academy"]
    [issued] = three_schools.json("invoice", "--month", "2026-09", "--school", "131542",
                                  "--issue")
    assert issued["number"] == "S2S-2026-0001"
    assert len(three_schools.json("invoice", "--month", "2026-09")) == 2
    assert three_schools("invoice", "--school", "999999").exit_code == 1


def test_table_output_shows_each_payer_with_totals(three_schools: Run):
    out = three_schools("invoice", "--month", "2026-09", "--format", "table", ok=True).stdout
    assert "Draft invoice - Brookfield Primary School - 2026-09-01 to 2026-09-30" in out
    assert "DRAFT" not in out
    for text in ("Brookfield Primary School", "Chloe Brennan", "£1,050.00", "£300.00",
                 "3.5", "Total £920.00"):
        assert text in out
    empty = three_schools("invoice", "--month", "2026-08", "--format", "table", ok=True)
    assert "Nothing to invoice" in empty.stdout


@pytest.mark.parametrize("args", [
    ["--month", "2026-09", "--from", "2026-09-01", "--to", "2026-09-30"],
    ["--from", "2026-09-01"],
    ["--from", "2026-09-30", "--to", "2026-09-01"],
    ["--month", "2026-13"],
    ["--month", "2026-09", "--format", "pdf"],
    ["--month", "2026-09", "--date", "2026-10-01"],
    ["--school", "131542", "--payer", "DfE"],
    ["--month", "2026-09", "--issue", "--date", "2026-02-30"],
])
def test_invoice_refuses_bad_options(mini: Run, args, snapshot, db):
    before = snapshot(db)
    assert mini("invoice", *args).exit_code == 2
    assert snapshot(db) == before


def test_rate_card_edits_never_change_agreed_rates(mini: Run, tmp_path: Path):
    dep = deploy(mini, school=131542, leader="L9003", days="2")
    log(mini, dep, "2026-09-21")
    dearer = MINI.read_text().replace("SLE: {day: 300, half_day: 150}",
                                      "SLE: {day: 320, half_day: 160}")
    dearer = dearer.replace("vat_percent: 0", "vat_percent: 20")
    dearer = dearer.replace("payment_terms_days: 28", "payment_terms_days: 14")
    path = tmp_path / "dearer.yaml"
    path.write_text(dearer)
    mini("seed", "load", str(path), ok=True)
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert lines(inv)[0][-2:] == (30000, 30000)  # the rate agreed on the deployment
    # ... and the VAT treatment and payment terms agreed with it, not today's card
    assert (inv["subtotal_pence"], inv["vat_pence"], inv["total_pence"]) == (30000, 0, 30000)
    assert (inv["payment_terms_days"], inv["due"]) == (28, "2026-10-29")
    assert mini.json("rates")["invoice"]["vat_percent_bp"] == 2000


def test_rates_prints_the_card(mini: Run):
    card = mini.json("rates")
    rows = {(r["scope"], r["name"]): r for r in card["rates"]}
    assert rows[("kind", "SLE")]["day_pence"] == 35000
    assert rows[("kind", "SLE")]["supply_pence"] == 29750
    assert rows[("kind", "SLE")]["admin_pence"] == 5250
    assert rows[("band small", "SLE")]["max_pupils"] == 210
    assert rows[("work", "diagnosis")]["day_pence"] == 48000
    assert card["split"]["admin_percent_bp"] == 1500
    assert card["invoice"]["alliance_name"] == "Test Teaching School Alliance"
    assert card["invoice"]["payment_terms_days"] == 28
    table = mini("rates", "--format", "table", ok=True).stdout
    assert "£350.00" in table and "S2S-YYYY-NNNN" in table


def test_charges_tell_issued_from_draft(three_schools: Run):
    three_schools("invoice", "--month", "2026-09", "--school", "131542", "--issue", ok=True)
    rows = three_schools.json("charges", "--month", "2026-09")
    got = {(r["group"], r["status"]): (r["days"], r["charged_pence"], r["amount_pence"])
           for r in rows}
    assert got == {
        ("Bolton High School (131543)", "draft"): ("2", 92000, 92000),
        ("Brookfield Primary School (131542)", "issued"): ("3.5", 105000, 105000),
        ("Plymouth Sound Academy (131545)", "draft"): ("2.5", 87500, 87500)}
    by_leader = three_schools.json("charges", "--by", "leader")
    assert {(r["key"], r["status"]) for r in by_leader} == {
        ("L9003", "issued"), ("L9006", "draft"), ("L9002", "draft")}
    by_month = three_schools.json("charges", "--by", "month", "--from", "2026-08-01",
                                  "--to", "2026-10-31")
    assert [(r["group"], r["status"], r["amount_pence"]) for r in by_month] == [
        ("2026-09", "issued", 105000), ("2026-09", "draft", 179500)]
    assert three_schools("charges", "--by", "colour").exit_code == 2


def test_charges_count_free_and_funded_days(mini: Run):
    nlg_package_then_own_work(mini)
    rows = mini.json("charges", "--by", "funding")
    assert [(row["group"], row["status"], row["days"], row["funded_days"],
             row["funded_pence"], row["free_days"], row["charged_days"], row["charged_pence"])
            for row in rows] == [
        ("dfe", "draft", "8", "3", 120000, "0", "5", 200000),
        ("school", "draft", "2", "0", 0, "2", "0", 0)]


def test_remittance_pays_home_schools_for_issued_days(three_schools: Run):
    assert three_schools.json("remittance", "--month", "2026-09") == []
    three_schools("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    rows = three_schools.json("remittance", "--month", "2026-09")
    # L9006 (home 131545): £420 - 15% = £357 and 2 x (£250 - £37.50); L9002 (131544):
    # 2 x £297.50 + £148.75; L9003 (131543): 3 x £255 + £127.50
    assert [(r["urn"], r["name"], r["days"], r["supply_pence"]) for r in rows] == [
        (131543, "Bolton High School", "3.5", 89250),
        (131545, "Plymouth Sound Academy", "2", 35700 + 2 * 21250),
        (131544, "Richmond Park Primary", "2.5", 74375)]
    three_schools("invoices", "void", "S2S-2026-0002", "--reason", "x", ok=True)
    assert [r["urn"] for r in three_schools.json("remittance", "--month", "2026-09")] == [
        131545, 131544]


def test_issue_and_json_to_a_file(three_schools: Run, tmp_path: Path):
    out = tmp_path / "sept.json"
    three_schools("invoice", "--month", "2026-09", "--issue", "--format", "json", "--out",
                  str(out), ok=True)
    assert [i["number"] for i in json.loads(out.read_text())] == [
        "S2S-2026-0001", "S2S-2026-0002", "S2S-2026-0003"]
    listed = three_schools.json("invoices", "list", "--payer", "bolton high school")
    assert [r["number"] for r in listed] == ["S2S-2026-0001"]


# --------------------------------------------------------------------------- properties
# The service layer on an in-process SQLite file copied from a template per example.

DEPLOYMENTS = [
    # leader, school, funding, funder, extra, rate, half
    ("L9001", 131544, "school", None, 0, 35000, 17500),
    ("L9005", 131543, "school", None, 0, 40000, 20000),  # NLG
    ("L9005", 131544, "grant", "Grant Fund", 0, 40000, 20000),  # NLG, funder pays
    ("L9004", 131545, "dfe", None, 0, 50000, 25000),  # NLE: every day funded by DfE
    ("L9005", 131544, "dfe", None, 0, 40000, 19000),  # NLG, maintained package
    ("L9005", 131545, "dfe", None, 2, 40000, 20000),  # NLG, trust package + 2 days
    ("L9002", 131543, "intervention", "Bolton LA", 0, 31000, 16000),
]
START = dt.date(2026, 6, 1)  # the logged days straddle 1 September 2026


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from s2s_cli import db as dbmod

    path = tmp_path_factory.mktemp("template") / "template.db"
    run = Run(str(path))
    run("db", "init", "--demo", ok=True)
    run("seed", "load", str(MINI), ok=True)
    engine = dbmod._ENGINES.pop(dbmod.location.sqlalchemy_url(str(path)))
    engine.dispose()
    return path


class Ledger:
    """A copy of the template database with deployments and days written through the ORM."""

    def __init__(self, template: Path, folder: Path) -> None:
        from s2s_cli import db as dbmod

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "s2s.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copy(template, self.path)
        self.engine = dbmod.make_engine(str(self.path))

    def close(self) -> None:
        from s2s_cli import db as dbmod

        dbmod._ENGINES.pop(dbmod.location.sqlalchemy_url(str(self.path)), None)
        self.engine.dispose()

    def write(self, fn):  # type: ignore[no-untyped-def]
        from s2s_cli import db as dbmod

        return dbmod.run_write(self.engine, fn, actor="test", command="property test")

    def add(self, spec: list[tuple[int, int, int]]) -> None:
        from s2s_cli.models import DayLog, Deployment, Leader, School, SupportRequest
        from s2s_cli.services import rates

        def work(s):  # type: ignore[no-untyped-def]
            deps = []
            for leader, urn, funding, funder, extra, rate, half in DEPLOYMENTS:
                who, school = s.get(Leader, leader), s.get(School, urn)
                terms = rates.frozen_terms(
                    rates.DEFAULT_CARD, leader_kind=who.kind,
                    home_school_urn=who.home_school_urn, school_urn=urn,
                    school_type=school.type, pupils=school.pupils, work="other",
                    funding=funding)
                req = SupportRequest(school_urn=urn, need="achievement", received=START,
                                     funding=funding, funder=funder)
                s.add(req)
                s.flush()
                dep = Deployment(request_id=req.id, leader_id=leader, school_urn=urn,
                                 agreed_halves=400, start=START, funding=funding,
                                 funder=funder, dfe_extra_days=extra, rate_pence=rate,
                                 half_day_rate_pence=half, supply_pence=rate * 85 // 100,
                                 half_day_supply_pence=half * 85 // 100, **terms)
                s.add(dep)
                s.flush()
                deps.append(dep)
            seen = set()
            for dep_index, offset, halves in spec:
                dep = deps[dep_index]
                date = START + dt.timedelta(days=offset)
                if (dep.leader_id, date) in seen:
                    continue
                seen.add((dep.leader_id, date))
                s.add(DayLog(deployment_id=dep.id, leader_id=dep.leader_id, date=date,
                             halves=halves))
            s.flush()

        self.write(work)

    def issue(self, start: dt.date, end: dt.date, issued: dt.date) -> list[int]:
        """Issue the period, checking first that the draft said exactly what is issued."""
        from s2s_cli.services import invoicing

        drafted = self.read(lambda r: invoicing.draft(r, start, end))
        from s2s_cli.services import payments

        try:
            returned = self.write(lambda s: invoicing.issue(s, start, end, issued=issued))
        except invoicing.NothingToIssue:
            returned = []
        ids = [d.id for d in returned]
        issued_docs = self.read(lambda r: invoicing.documents(r, ids))
        # what `s2s invoice --issue` prints (the documents in memory) is what was stored
        payments.annotate_new(returned)
        assert returned == issued_docs
        keys = ("payer", "payer_school_urn", "period_from", "period_to", "subtotal_pence",
                "vat_pence", "total_pence", "lines")
        assert [{k: getattr(d, k) for k in keys} for d in issued_docs] == \
            [{k: getattr(d, k) for k in keys} for d in drafted]
        return ids

    def read(self, fn):  # type: ignore[no-untyped-def]
        from s2s_cli import fastdb

        conn = sqlite3.connect(self.path)
        try:
            return fn(fastdb.sqlite_reader(conn))
        finally:
            conn.close()

    def void(self, number: str, on: dt.date) -> None:
        from s2s_cli.services import invoicing

        self.write(lambda s: invoicing.void(s, number, reason="test", on=on))

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def reference_total(ledger: Ledger) -> int:
    """Every logged day priced by the pure rules in one pass, as if nothing were invoiced."""
    from s2s_cli.services import charging, invoicing

    conn = sqlite3.connect(ledger.path)
    try:
        from s2s_cli import fastdb

        reader = fastdb.sqlite_reader(conn)
        deps = invoicing.load_deps(reader, [r[0] for r in reader.all("SELECT id FROM deployment")])
        days = [charging.Day(int(i), int(d), dt.date.fromisoformat(date), int(h))
                for i, d, date, h in reader.all(
                    "SELECT id, deployment_id, date, halves FROM day_log")]
    finally:
        conn.close()
    parts = charging.classify_parts(days, deps)
    return sum(charging.day_amounts(deps[d.deployment_id], halves, kind)[0]
               for d in days for kind, halves in parts[d.id])


def assert_books_balance(ledger: Ledger) -> None:
    # every day is on exactly one live invoice, through an invoice_day row of that invoice
    assert ledger.rows("SELECT count(*) FROM day_log WHERE invoice_id IS NULL") == [(0,)]
    assert ledger.rows(
        "SELECT count(*) FROM day_log d LEFT JOIN invoice_day x ON x.day_log_id = d.id "
        "AND x.invoice_id = d.invoice_id WHERE x.day_log_id IS NULL") == [(0,)]
    # invoices minus credit notes = the billable days at their rates
    [(invoiced, credited)] = ledger.rows(
        "SELECT coalesce(sum(CASE WHEN series = 'invoice' THEN total_pence END), 0), "
        "coalesce(sum(CASE WHEN series = 'credit' THEN total_pence END), 0) FROM invoice")
    assert invoiced + credited == reference_total(ledger)
    [(live,)] = ledger.rows("SELECT coalesce(sum(total_pence), 0) FROM invoice "
                            "WHERE series = 'invoice' AND voided_by_id IS NULL")
    assert live == invoiced + credited
    # numbers are gapless per series and year, and formatted from the sequence
    for series, year, seqs, numbers in ledger.rows(
            "SELECT series, year, group_concat(seq), group_concat(number) FROM invoice "
            "GROUP BY series, year"):
        got = sorted(int(s) for s in seqs.split(","))
        assert got == list(range(1, len(got) + 1)), (series, year, got)
        prefix = "S2S" if series == "invoice" else "S2S-CR"
        assert sorted(numbers.split(",")) == [f"{prefix}-{year}-{s:04d}" for s in got]


SPEC = st.lists(st.tuples(st.integers(0, len(DEPLOYMENTS) - 1), st.integers(0, 250),
                          st.sampled_from([1, 2])), min_size=1, max_size=45)
CUTS = st.lists(st.integers(1, 250), max_size=5)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=SPEC, cuts=CUTS, voids=st.lists(st.integers(0, 30), max_size=4))
def test_issuing_consecutive_periods_bills_every_day_once(template, tmp_path, monkeypatch,
                                                          spec, cuts, voids):
    monkeypatch.setenv("S2S_TODAY", "2027-12-31")
    ledger = Ledger(template, tmp_path / "ledger")
    try:
        ledger.add(spec)
        bounds = sorted({START, *(START + dt.timedelta(days=c) for c in cuts),
                         START + dt.timedelta(days=251)})
        issued_ids: list[int] = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            issued_ids += ledger.issue(a, b - dt.timedelta(days=1), b)
        assert_books_balance(ledger)
        # issuing again finds nothing
        assert ledger.issue(START, START + dt.timedelta(days=251), dt.date(2027, 3, 1)) == []
        # void some invoices, then bill what they freed in one run
        numbers = [n for (n,) in ledger.rows(
            "SELECT number FROM invoice WHERE series = 'invoice' ORDER BY id")]
        for pick in voids:
            if numbers:
                ledger.void(numbers.pop(pick % len(numbers)), dt.date(2027, 3, 1))
        ledger.issue(START, START + dt.timedelta(days=251), dt.date(2027, 3, 2))
        assert_books_balance(ledger)
    finally:
        ledger.close()


def test_concurrent_style_reissue_after_void_numbers_continue(template, tmp_path, monkeypatch):
    """A hand-picked case of the property above: two years of numbers and two credit notes."""
    monkeypatch.setenv("S2S_TODAY", "2027-12-31")
    ledger = Ledger(template, tmp_path / "ledger")
    try:
        ledger.add([(0, 0, 2), (1, 10, 2), (3, 100, 2), (5, 120, 1), (2, 220, 2)])
        ledger.issue(START, dt.date(2026, 12, 31), dt.date(2026, 12, 31))
        ledger.issue(dt.date(2027, 1, 1), dt.date(2027, 3, 1), dt.date(2027, 3, 2))
        first = [n for (n,) in ledger.rows("SELECT number FROM invoice ORDER BY id")]
        assert first[0] == "S2S-2026-0001" and first[-1].startswith("S2S-2027-0001")
        ledger.void("S2S-2026-0001", dt.date(2027, 3, 3))
        ledger.void("S2S-2027-0001", dt.date(2027, 3, 3))
        ledger.issue(START, dt.date(2027, 3, 1), dt.date(2027, 3, 4))
        assert_books_balance(ledger)
        credits = [n for (n,) in ledger.rows(
            "SELECT number FROM invoice WHERE series = 'credit' ORDER BY id")]
        assert credits == ["S2S-CR-2027-0001", "S2S-CR-2027-0002"]
    finally:
        ledger.close()


# --------------------------------------------------------------------------- contracts, races


def test_json_keys_are_the_documented_contract(three_schools: Run):
    from s2s_cli.cli.billing import INVOICE_KEYS as INVOICE_ORDER
    from s2s_cli.cli.billing import JSON_LINE_KEYS as LINE_ORDER

    draft = three_schools.json("invoice", "--month", "2026-09")
    issued = three_schools.json("invoice", "--month", "2026-09", "--issue")
    shown = three_schools.json("invoices", "show", issued[0]["number"])
    for inv in (*draft, *issued, *shown):
        assert list(inv) == [*INVOICE_ORDER, "lines"]
        assert all(list(ln) == list(LINE_ORDER) for ln in inv["lines"])
    # `invoices show` adds the payments against it (none yet); `invoice` leaves them null
    assert shown[0]["payments"] == [] and issued[0]["payments"] is None
    # the payer's address by part, frozen at issue (README: the accounting exports read it)
    assert all(set(inv["payer_postal"]) == {"lines", "city", "region", "postcode"}
               for inv in (*draft, *issued, *shown))
    assert [{**inv, "payments": None} for inv in shown] == issued[:1]


@pytest.mark.slow
def test_concurrent_issues_never_share_a_day_or_a_number(three_schools: Run, db):
    import subprocess
    import sys

    env = {"S2S_DB": db, "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-m", "s2s_cli", "invoice", "--month", "2026-09",
                               "--issue", "--format", "json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    numbers = sorted(inv["number"] for out, _err in outputs for inv in json.loads(out))
    assert numbers == ["S2S-2026-0001", "S2S-2026-0002", "S2S-2026-0003"]
    assert three_schools.json("invoice", "--month", "2026-09") == []
    check = three_schools("db", "check", "--format", "json")
    assert check.exit_code == 0, check.stdout


def test_billing_reads_the_one_clock(mini, monkeypatch):
    """`invoice`, `invoices void` and `remittance` read S2S_TODAY like every other command
    (issue 11): the default period, the issue date and the credit note's date."""
    mini("request", "log", "--school", "131543", "--need", "achievement", "--days", "5",
         ok=True)
    mini("deploy", "1", "--leader", "L9002", "--days", "5", "--start", "2026-09-14", ok=True)
    mini("log", "1", "--from", "2026-09-14", "--to", "2026-09-15", ok=True)
    monkeypatch.setenv("S2S_TODAY", "2026-09-30")
    draft = mini.json("invoice")  # no period given: this month, by the one clock
    assert [d["period_from"] for d in draft] == ["2026-09-01"]
    mini("invoice", "--issue", ok=True)
    issued = mini.json("invoices", "show", "S2S-2026-0001")[0]
    assert issued["issued"] == "2026-09-30" and issued["period_to"] == "2026-09-30"
    assert mini.json("remittance")[0]["days"] == "2"  # September's two days, by the clock
    monkeypatch.setenv("S2S_TODAY", "2026-10-02")
    mini("invoices", "void", "S2S-2026-0001", "--reason", "wrong school", ok=True)
    credit = mini.json("invoices", "show", "S2S-CR-2026-0001")[0]
    assert credit["issued"] == "2026-10-02"
    monkeypatch.setenv("S2S_TODAY", "2026-13-01")
    bad = mini("invoice")
    assert bad.exit_code == 2 and "S2S_TODAY" in bad.stderr
