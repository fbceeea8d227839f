"""Partial credit notes (issue 12): `s2s invoices credit NUMBER --day ID ... --reason TEXT`
credits chosen days of an issued invoice for exactly what they were billed (both parts of a
split day, their VAT share); they become billable again; `invoices void` credits what is left.
Every figure is hand-worked in pence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run
from tests.test_invoicing import deploy, lines, log
from tests.test_money import REVAT, reload


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2027-06-30")


def day_ids(doc: dict) -> dict[str, int]:
    """date -> day log id, from an issued invoice's schedule of days."""
    return {d["date"]: d["day_log_id"] for d in doc["days"]}


@pytest.fixture
def nlg(mini: Run) -> Run:
    """An NLG at Bolton High in September 2026: 4.5 days free, the 8th split half free and
    half charged (£200), the 9th charged (£400): invoice S2S-2026-0001 for £600."""
    dep = deploy(mini, school=131543, leader="L9005", days="8", need="governance")
    log(mini, dep, "2026-09-01", half=True)
    log(mini, dep, "2026-09-02", "2026-09-03", "2026-09-04", "2026-09-07")
    log(mini, dep, "2026-09-08", "2026-09-09")
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert (inv["number"], inv["total_pence"]) == ("S2S-2026-0001", 60000)
    return mini


def test_crediting_a_charged_and_a_free_day_credits_what_was_billed_and_rebills_them(nlg: Run):
    [inv] = nlg.json("invoices", "show", "S2S-2026-0001")
    ids = day_ids(inv)
    out = nlg("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-02"]),
              "--day", str(ids["2026-09-09"]), "--reason", "sessions not held",
              "--date", "2026-10-05", ok=True)
    assert out.stdout.strip() == "S2S-CR-2026-0001"
    [cn] = nlg.json("invoices", "show", "S2S-CR-2026-0001")
    # the charged day credits its £400; the free day credits £0 (and hands its allowance back)
    assert (cn["status"], cn["credits"], cn["reason"]) == ("credit", "S2S-2026-0001",
                                                           "sessions not held")
    assert (cn["subtotal_pence"], cn["vat_pence"], cn["total_pence"]) == (-40000, 0, -40000)
    assert lines(cn) == [
        ("L9005", "charged", "2026-09-09", "2026-09-09", "1", 1, 0, 40000, -40000),
        ("L9005", "free", "2026-09-02", "2026-09-02", "1", 1, 0, 40000, 0)]
    assert [(d["date"], d["kind"], d["amount_pence"]) for d in cn["days"]] == [
        ("2026-09-02", "free", 0), ("2026-09-09", "charged", -40000)]
    # the invoice stays issued, with what is left to pay
    [after] = nlg.json("invoices", "show", "S2S-2026-0001")
    assert (after["status"], after["balance_pence"], after["voided_by"]) == (
        "overdue", 20000, None)  # due 2026-10-29: still owed, not void
    # both days are billable again: the free one is free again (the allowance is counted from
    # the days still on live invoices: 8 halves), the charged one charged again
    [again] = nlg.json("invoice", "--month", "2026-10")
    assert again["earlier_days"] == 2
    assert lines(again) == [
        ("L9005", "charged", "2026-09-09", "2026-09-09", "1", 1, 0, 40000, 40000),
        ("L9005", "free", "2026-09-02", "2026-09-02", "1", 1, 0, 40000, 0)]
    [rebilled] = nlg.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02")
    assert (rebilled["number"], rebilled["total_pence"]) == ("S2S-2026-0002", 40000)
    assert nlg("db", "check").exit_code == 0


def test_crediting_a_split_day_credits_both_parts_and_the_rebill_splits_it_again(nlg: Run):
    [inv] = nlg.json("invoices", "show", "S2S-2026-0001")
    split = day_ids(inv)["2026-09-08"]
    nlg("invoices", "credit", "S2S-2026-0001", "--day", str(split), "--reason", "wrong day",
        "--date", "2026-10-05", ok=True)
    [cn] = nlg.json("invoices", "show", "S2S-CR-2026-0001")
    assert cn["total_pence"] == -20000  # the charged half's £200; the free half £0
    assert sorted((d["kind"], d["halves"], d["amount_pence"]) for d in cn["days"]) == [
        ("charged", 1, -20000), ("free", 1, 0)]
    assert lines(cn) == [
        ("L9005", "charged", "2026-09-08", "2026-09-08", "0.5", 0, 1, 40000, -20000),
        ("L9005", "free", "2026-09-08", "2026-09-08", "0.5", 0, 1, 40000, 0)]
    [again] = nlg.json("invoice", "--month", "2026-10")  # one free half left: split again
    assert again["total_pence"] == 20000
    # then void: the credit note takes only what is still on the invoice (£400, the 9th)
    nlg("invoices", "void", "S2S-2026-0001", "--reason", "all wrong", "--date", "2026-10-06",
        ok=True)
    [void] = nlg.json("invoices", "show", "S2S-CR-2026-0002")
    assert void["total_pence"] == -40000
    assert sorted(d["date"] for d in void["days"]) == [
        "2026-09-01", "2026-09-02", "2026-09-03", "2026-09-04", "2026-09-07", "2026-09-09"]
    [old] = nlg.json("invoices", "show", "S2S-2026-0001")
    assert (old["status"], old["voided_by"], old["balance_pence"]) == (
        "void", "S2S-CR-2026-0002", 0)
    [rebill] = nlg.json("invoice", "--month", "2026-10")
    assert rebill["total_pence"] == 60000  # every day back in date order: as first billed


def test_vat_on_partial_credits_leaves_exactly_the_vat_on_what_stays(mini: Run,
                                                                       tmp_path: Path):
    # 20% VAT on new deployments, and the VAT number a VAT invoice needs
    reload(mini, tmp_path, REVAT,
           ("vat_percent: 20", "vat_percent: 20\n    vat_number: gb123456782"))
    dep = deploy(mini, school=131543, leader="L9002", days="3", rate="333.33")
    log(mini, dep, "2026-09-07", "2026-09-08", "2026-09-09")
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    # 3 x £333.33 = £999.99; VAT 20% = £199.998 -> £200.00
    assert (inv["subtotal_pence"], inv["vat_pence"], inv["total_pence"]) == (99999, 20000,
                                                                             119999)
    ids = day_ids(inv)
    mini("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-07"]), "--reason",
         "a", "--date", "2026-10-02", ok=True)
    mini("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-08"]), "--reason",
         "b", "--date", "2026-10-03", ok=True)
    [one] = mini.json("invoices", "show", "S2S-CR-2026-0001")
    [two] = mini.json("invoices", "show", "S2S-CR-2026-0002")
    # what stays after the first: £666.66, VAT £133.332 -> £133.33; credited 200.00 - 133.33
    assert (one["subtotal_pence"], one["vat_pence"], one["total_pence"]) == (-33333, -6667,
                                                                             -40000)
    assert one["vat_rates"] == [{"vat_percent_bp": 2000, "net_pence": -33333,
                                 "vat_pence": -6667}]
    # after the second: £333.33, VAT £66.666 -> £66.67; credited 133.33 - 66.67 = 66.66
    assert (two["subtotal_pence"], two["vat_pence"], two["total_pence"]) == (-33333, -6666,
                                                                             -39999)
    [left] = mini.json("invoices", "show", "S2S-2026-0001")
    assert left["balance_pence"] == 33333 + 6667
    mini("invoices", "void", "S2S-2026-0001", "--reason", "c", "--date", "2026-10-04", ok=True)
    [three] = mini.json("invoices", "show", "S2S-CR-2026-0003")
    assert (three["vat_pence"], three["total_pence"]) == (-6667, -40000)
    assert one["total_pence"] + two["total_pence"] + three["total_pence"] == -119999


def test_partial_credit_refusals_change_nothing(nlg: Run, snapshot, db):
    [inv] = nlg.json("invoices", "show", "S2S-2026-0001")
    ids = day_ids(inv)
    nlg("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-09"]), "--reason",
        "x", "--date", "2026-10-05", ok=True)
    other = deploy(nlg, school=131545, leader="L9002", days="2")
    log(nlg, other, "2026-10-05")
    nlg("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02", ok=True)
    [oct_inv] = [i for i in nlg.json("invoices", "list") if i["number"] == "S2S-2026-0003"]
    assert oct_inv["payer"] == "Plymouth Sound Academy"
    before = snapshot(db)
    cases = [
        (["--day", str(ids["2026-09-09"])], "already credited (credit note S2S-CR-2026-0001)"),
        (["--day", "99999"], "day 99999 is not on invoice S2S-2026-0001"),
        (["--day", str(ids["2026-09-01"]), "--date", "2026-09-30"], "before the invoice"),
        ([*(a for d, i in ids.items() if d != "2026-09-09" for a in ("--day", str(i)))],
         "void it instead"),
    ]
    for extra, message in cases:
        got = nlg("invoices", "credit", "S2S-2026-0001", "--reason", "x", *extra)
        assert got.exit_code in (1, 2) and message in got.stderr, (extra, got.stderr)
    cn = nlg("invoices", "credit", "S2S-CR-2026-0001", "--day", str(ids["2026-09-01"]),
             "--reason", "x")
    assert cn.exit_code == 1 and "is a credit note" in cn.stderr
    assert nlg("invoices", "credit", "S2S-2026-0099", "--day", "1", "--reason", "x"
               ).exit_code == 1
    assert nlg("invoices", "credit", "S2S-2026-0001", "--day", "1", "--reason", " "
               ).exit_code == 2
    assert snapshot(db) == before
    nlg("invoices", "void", "S2S-2026-0001", "--reason", "x", "--date", "2026-11-03", ok=True)
    void = nlg("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-01"]),
               "--reason", "x")
    assert void.exit_code == 1 and "already void" in void.stderr


def test_a_partial_credit_never_leaves_an_invoice_overpaid(nlg: Run):
    [inv] = nlg.json("invoices", "show", "S2S-2026-0001")
    nlg("invoices", "pay", "S2S-2026-0001", "--amount", "300", "--date", "2026-10-10", ok=True)
    ids = day_ids(inv)
    over = nlg("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-09"]),
               "--reason", "x", "--date", "2026-10-11")
    assert over.exit_code == 1 and "overpaid" in over.stderr  # £400 credit, £300 owed
    early = nlg("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-08"]),
                "--reason", "x", "--date", "2026-10-09")
    assert early.exit_code == 1 and "before the last payment" in early.stderr
    nlg("invoices", "credit", "S2S-2026-0001", "--day", str(ids["2026-09-08"]), "--reason",
        "x", "--date", "2026-10-11", ok=True)  # £200 of the £300 owed
    [after] = nlg.json("invoices", "show", "S2S-2026-0001")
    assert (after["status"], after["paid_pence"], after["balance_pence"]) == (
        "overdue", 30000, 10000)
    statement = nlg.json("statement", "Bolton High School")
    assert [(r["type"], r["debit_pence"], r["credit_pence"], r["balance_pence"])
            for r in statement] == [("invoice", 60000, 0, 60000), ("payment", 0, 30000, 30000),
                                    ("credit note", 0, 20000, 10000)]


def test_a_credited_free_day_billed_again_counts_once_against_the_allowance(mini: Run):
    dep = deploy(mini, school=131543, leader="L9005", days="8", need="governance")
    log(mini, dep, "2026-09-07", "2026-09-08", "2026-09-09")  # 3 of the 5 free days
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    mini("invoices", "credit", inv["number"], "--day", str(day_ids(inv)["2026-09-07"]),
         "--reason", "x", "--date", "2026-10-02", ok=True)
    [again] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-10-03")
    assert again["total_pence"] == 0  # the 7th free again: 3 days used, not 5
    log(mini, dep, "2026-10-05", "2026-10-06")
    [draft] = mini.json("invoice", "--month", "2026-10")
    assert lines(draft) == [("L9005", "free", "2026-10-05", "2026-10-06", "2", 2, 0, 40000, 0)]


def test_income_after_a_partial_credit_note_matches_the_invoice_less_its_credit(
        mini: Run, tmp_path: Path):
    """A credited day leaves the income report: it takes no share of the invoice's figures,
    so invoiced and outstanding are the invoice's total less its credit note (its balance)."""
    reload(mini, tmp_path, ("vat_percent: 0", "vat_percent: 0\n    vat_number: gb123456782"))
    dep = deploy(mini, school=131543, leader="L9002", days="3", rate="333.33",
                 start="2026-11-02")
    mini("deployment", "edit", str(dep), "--vat", "standard", ok=True)
    log(mini, dep, "2026-11-02", "2026-11-03", "2026-11-04")
    [inv] = mini.json("invoice", "--month", "2026-11", "--issue", "--date", "2026-12-01")
    # net 3 x £333.33 = £999.99; VAT 20% = 19999.8p -> 20000p; total 119999p
    assert (inv["subtotal_pence"], inv["vat_pence"], inv["total_pence"]) == (99999, 20000,
                                                                             119999)

    def income() -> list[tuple[int, ...]]:
        return [(r["charged_pence"], r["invoiced_pence"], r["received_pence"],
                 r["outstanding_pence"])
                for r in mini.json("report", "income", "--period", "2026-11")]

    assert income() == [(99999, 119999, 0, 119999)]
    ids = day_ids(mini.json("invoices", "show", inv["number"])[0])
    mini("invoices", "credit", inv["number"], "--day", str(ids["2026-11-04"]), "--reason",
         "not held", "--date", "2026-12-05", ok=True)
    # credit: net -33333p; 66666p stays, VAT on it 13333.2p -> 13333p, so the credit's VAT is
    # -(20000 - 13333) = -6667p: -40000p in all; the invoice's balance 119999 - 40000 = 79999p
    [after] = mini.json("invoices", "show", inv["number"])
    assert after["balance_pence"] == 79999
    assert income() == [(66666, 79999, 0, 79999)]
