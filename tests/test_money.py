"""Money you can stand behind (issue 12): terms frozen when a deployment is agreed, issued
documents that never change, nothing billable left behind, the NLG allowance and DfE packages
to the half day, and the checks on issue dates, numbering, rounding and the rate card.
Every figure is hand-worked in pence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MINI, Run
from tests.test_invoicing import deploy, lines, log


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2027-06-30")


def reload(run: Run, tmp_path: Path, *edits: tuple[str, str], name: str = "edited") -> None:
    """Load the test directory again with some text replaced (a directory or card change)."""
    text = MINI.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    run("seed", "load", str(path), ok=True)


RENAME = ("name: Bolton High School", "name: Bolton High Academy")
CONVERT = ("type: community school", "type: academy")
REDESIGNATE = ("    name: Femi Adeyemi\n    kind: LLE", "    name: Femi Adeyemi\n    kind: NLG")
MOVE = ("    name: Femi Adeyemi\n    kind: LLE\n    home_school: 131545",
        "    name: Femi Adeyemi\n    kind: LLE\n    home_school: 131544")
RECARD = ('alliance_name: Test Teaching School Alliance\n    address: ["Brookfield Primary',
          'alliance_name: Renamed Alliance\n    address: ["Elsewhere", "Brookfield Primary')
REVAT = ("vat_percent: 0", "vat_percent: 20")


# --------------------------------------------------------------------------- frozen terms

def test_issued_documents_never_change_whatever_happens_to_the_directory_or_card(
        mini: Run, tmp_path: Path):
    lle = deploy(mini, school=131543, leader="L9006", days="3", need="leadership-and-management")
    log(mini, lle, "2026-09-07", "2026-09-08")
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    number = inv["number"]
    pdf = tmp_path / "before.pdf"

    def shown() -> tuple[str, str, bytes]:
        mini("invoices", "show", number, "--format", "pdf", "--out", str(pdf), ok=True)
        return (mini("invoices", "show", number, "--format", "json", ok=True).stdout,
                mini("invoices", "show", number, "--format", "csv", ok=True).stdout,
                pdf.read_bytes())

    before = shown()
    assert "Bolton High School" in before[0] and "Bolton High School" in before[1]
    reload(mini, tmp_path, RENAME, CONVERT, MOVE, RECARD, REVAT, name="a")
    reload(mini, tmp_path, RENAME, CONVERT, REDESIGNATE, RECARD, REVAT, name="b")
    assert mini.json("school", "show", "131543")["name"] == "Bolton High Academy"
    assert shown() == before


def test_a_re_designated_leader_keeps_the_terms_agreed(mini: Run, tmp_path: Path):
    # agreed with Femi as an LLE: every day charged at £450, none free
    lle = deploy(mini, school=131543, leader="L9006", days="3", need="leadership-and-management")
    reload(mini, tmp_path, REDESIGNATE)  # now an NLG: a new deployment would get free days
    log(mini, lle, "2026-09-07", "2026-09-08")
    [inv] = mini.json("invoice", "--month", "2026-09")
    assert lines(inv) == [("L9006", "charged", "2026-09-07", "2026-09-08", "2", 2, 0, 45000,
                           90000)]


def test_a_school_converting_to_an_academy_keeps_its_three_day_package(mini: Run,
                                                                        tmp_path: Path):
    dfe = deploy(mini, school=131543, leader="L9005", days="5", funding="dfe",
                 need="governance")
    reload(mini, tmp_path, CONVERT)  # an academy's package would be 5 days
    log(mini, dfe, *[f"2026-09-{d:02d}" for d in (7, 8, 9, 10)])
    invs = {i["payer"]: i for i in mini.json("invoice", "--month", "2026-09")}
    assert lines(invs["DfE"])[0][4] == "3"
    assert lines(invs["Bolton High School"]) == [
        ("L9005", "charged", "2026-09-10", "2026-09-10", "1", 1, 0, 40000, 40000)]


def test_supply_cover_goes_to_the_home_school_the_leader_had_when_agreed(mini: Run,
                                                                          tmp_path: Path):
    lle = deploy(mini, school=131543, leader="L9006", days="3", need="leadership-and-management")
    reload(mini, tmp_path, MOVE)  # Femi moves from Plymouth Sound to Richmond Park
    log(mini, lle, "2026-09-07")
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    [row] = mini.json("remittance", "--month", "2026-09")
    assert (row["urn"], row["supply_pence"]) == (131545, 45000 - 6750)


# --------------------------------------------------------------------------- nothing left behind

def test_a_day_logged_late_for_an_invoiced_month_is_billed_by_the_next_run(mini: Run):
    sle = deploy(mini, school=131545, leader="L9002", days="5")
    log(mini, sle, "2026-09-14")
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    log(mini, sle, "2026-09-15")  # late, for September
    log(mini, sle, "2026-10-05")
    [draft] = mini.json("invoice", "--month", "2026-10")
    assert draft["earlier_days"] == 1
    assert lines(draft) == [("L9002", "charged", "2026-09-15", "2026-10-05", "2", 2, 0, 35000,
                             70000)]
    [issued] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02")
    assert [(d["date"], d["kind"], d["amount_pence"]) for d in issued["days"]] == [
        ("2026-09-15", "charged", 35000), ("2026-10-05", "charged", 35000)]
    table = mini("invoice", "--month", "2026-11", "--format", "table", ok=True).stdout
    assert "Nothing to invoice" in table


def test_days_freed_by_a_void_are_billed_by_the_next_months_run(mini: Run):
    sle = deploy(mini, school=131545, leader="L9002", days="5")
    log(mini, sle, "2026-09-14", "2026-09-15")
    [sep] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    mini("invoices", "void", sep["number"], "--reason", "wrong school", "--date",
         "2026-10-02", ok=True)
    log(mini, sle, "2026-10-05")
    [octo] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02")
    assert (octo["earlier_days"], octo["total_pence"]) == (2, 3 * 35000)


# --------------------------------------------------------------------------- allowance, packages

def test_the_nlg_allowance_is_five_days_exactly_a_straddling_day_is_split(mini: Run):
    nlg = deploy(mini, school=131543, leader="L9005", days="8", need="governance")
    log(mini, nlg, "2026-09-01", half=True)
    log(mini, nlg, "2026-09-02", "2026-09-03", "2026-09-04", "2026-09-07")  # 4.5 days free
    log(mini, nlg, "2026-09-08", "2026-09-09")  # the 8th: half free, half charged
    [inv] = mini.json("invoice", "--month", "2026-09")
    assert lines(inv) == [
        ("L9005", "charged", "2026-09-08", "2026-09-09", "1.5", 1, 1, 40000, 60000),
        ("L9005", "free", "2026-09-01", "2026-09-08", "5", 4, 2, 40000, 0)]
    [issued] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert issued["total_pence"] == 60000
    split = [(d["kind"], d["halves"], d["amount_pence"]) for d in issued["days"]
             if d["date"] == "2026-09-08"]
    assert split == [("charged", 1, 20000), ("free", 1, 0)]
    check = mini("db", "check", "--format", "json")
    assert check.exit_code == 0, check.stdout


def test_the_dfe_package_is_per_school_per_academic_year_across_deployments(mini: Run):
    a = deploy(mini, school=131543, leader="L9005", days="3", funding="dfe", need="governance")
    b = deploy(mini, school=131543, leader="L9005", days="3", funding="dfe", need="governance")
    log(mini, a, "2026-09-07", "2026-09-08")
    log(mini, b, "2026-09-09", "2026-09-10")
    invs = {i["payer"]: i for i in mini.json("invoice", "--month", "2026-09")}
    # 3 days for the maintained school in 2026-27, not 3 per deployment
    assert invs["DfE"]["total_pence"] == 3 * 40000
    assert invs["Bolton High School"]["total_pence"] == 40000


# --------------------------------------------------------------------------- issue dates

@pytest.mark.parametrize("date,code,message", [
    ("2026-09-10", 1, "before the last day it bills (2026-09-14)"),
    ("2027-07-01", 2, "after today (2027-06-30)"),
])
def test_issue_dates_are_refused_before_the_work_or_after_today(mini: Run, snapshot, db,
                                                                 date, code, message):
    sle = deploy(mini, school=131545, leader="L9002", days="5")
    log(mini, sle, "2026-09-14")
    before = snapshot(db)
    result = mini("invoice", "--month", "2026-09", "--issue", "--date", date)
    assert (result.exit_code, message in result.stderr) == (code, True), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(db) == before


def test_an_issue_date_never_goes_back_before_the_last_invoice(mini: Run, snapshot, db):
    sle = deploy(mini, school=131545, leader="L9002", days="5")
    log(mini, sle, "2026-09-14")
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-11-02", ok=True)
    log(mini, sle, "2026-10-05")
    before = snapshot(db)
    result = mini("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-01")
    assert result.exit_code == 1
    assert "before the last invoice already issued (2026-11-02)" in result.stderr
    assert snapshot(db) == before


def test_the_one_clock_s2s_today_sets_the_default_issue_date_and_month(mini: Run):
    sle = deploy(mini, school=131545, leader="L9002", days="5")
    log(mini, sle, "2027-06-14")
    [inv] = mini.json("invoice", "--issue")  # this month (June 2027), issued today
    assert (inv["period_from"], inv["issued"]) == ("2027-06-01", "2027-06-30")


@pytest.mark.parametrize("scheme,number", [("calendar", "S2S-2027-0001"),
                                           ("academic", "S2S-2026-27-0001"),
                                           ("financial", "S2S-2026-27-0001")])
def test_numbering_by_calendar_academic_or_financial_year(mini: Run, tmp_path: Path, scheme,
                                                          number):
    reload(mini, tmp_path, ("number_prefix: S2S", f"number_prefix: S2S\n    numbering: {scheme}"))
    sle = deploy(mini, school=131545, leader="L9002", days="5")
    log(mini, sle, "2027-02-01")
    [inv] = mini.json("invoice", "--month", "2027-02", "--issue", "--date", "2027-03-01")
    assert inv["number"] == number
    mini("invoices", "void", number, "--reason", "test", "--date", "2027-03-02", ok=True)
    credit = [i["number"] for i in mini.json("invoices", "list") if i["status"] == "credit"]
    assert credit == [number.replace("S2S-", "S2S-CR-")]


# --------------------------------------------------------------------------- the card

def test_half_day_rates_round_half_up_to_the_penny(mini: Run):
    dep = deploy(mini, school=131545, leader="L9002", days="5", rate="333.33")
    log(mini, dep, "2026-09-14", "2026-09-15", half=True)
    [inv] = mini.json("invoice", "--month", "2026-09")
    assert inv["lines"][0]["half_day_rate_pence"] == 16667
    assert inv["total_pence"] == 33334


def test_work_rates_by_kind_of_leader(mini: Run, tmp_path: Path):
    reload(mini, tmp_path, ("    diagnosis: {day: 480, half_day: 240}",
                            "    diagnosis:\n      day: 480\n      half_day: 240\n      kinds:\n"
                            "        NLE: {day: 650, half_day: 325}\n"
                            "        SLE: {day: 520}"))
    nle = mini("request", "log", "--school", "131543", "--need", "leadership-and-management",
               "--received", "2026-01-05", ok=True).stdout.strip()
    sle = mini("request", "log", "--school", "131545", "--need", "achievement",
               "--received", "2026-01-05", ok=True).stdout.strip()
    rates = {}
    for req, leader in ((nle, "L9004"), (sle, "L9002")):
        dep = mini("deploy", req, "--leader", leader, "--days", "2", "--start", "2026-09-01",
                   "--work", "diagnosis", ok=True).stdout.strip()
        shown = mini.json("deployment", "show", dep)
        shown = shown[0] if isinstance(shown, list) else shown
        rates[leader] = (shown["rate_pence"], shown["half_day_rate_pence"])
    assert rates == {"L9004": (65000, 32500), "L9002": (52000, 26000)}


@pytest.mark.parametrize("edit,message", [
    (("admin_percent: 15", "admin_fixed: 320"), "is more than the day rate £300.00"),
    (("credit_prefix: S2S-CR", "credit_prefix: S2S"), "prefixes are both 'S2S'"),
])
def test_the_card_refuses_a_fixed_admin_share_above_a_rate_and_equal_prefixes(
        mini: Run, tmp_path: Path, snapshot, db, edit, message):
    text = MINI.read_text().replace(*edit)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    before = snapshot(db)
    result = mini("seed", "load", str(path))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert snapshot(db) == before


def test_a_negotiated_rate_below_the_fixed_admin_share_is_refused(mini: Run, tmp_path: Path,
                                                                   snapshot, db):
    reload(mini, tmp_path, ("admin_percent: 15", "admin_fixed: 100"))
    req = mini("request", "log", "--school", "131545", "--need", "achievement",
               "--received", "2026-01-05", ok=True).stdout.strip()
    before = snapshot(db)
    result = mini("deploy", req, "--leader", "L9002", "--days", "2", "--start", "2026-09-01",
                  "--rate", "80")
    assert result.exit_code == 1
    assert "fixed administration share £100.00 is more than the day rate £80.00" in \
        result.stderr
    assert snapshot(db) == before


def test_the_readme_card_loads_and_prices_as_it_says(mini: Run, tmp_path: Path):
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Charging and invoices"):]
    [card] = [b for b in re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
              if b.startswith("rates:")][:1]
    path = tmp_path / "card.yaml"
    path.write_text(card)
    mini("seed", "load", str(path), ok=True)
    shown = mini.json("rates")
    got = {(r["scope"], r["name"]): (r["day_pence"], r["half_day_pence"])
           for r in shown["rates"]}
    assert got[("kind", "SLE")] == (35000, 17500)
    assert got[("work diagnosis", "NLE")] == (65000, 32500)
    assert shown["invoice"]["numbering"] == "academic"
    req = mini("request", "log", "--school", "131545", "--need", "achievement",
               "--received", "2026-01-05", ok=True).stdout.strip()
    dep = mini("deploy", req, "--leader", "L9002", "--days", "2", "--start", "2026-09-01",
               "--work", "diagnosis", ok=True).stdout.strip()
    log(mini, int(dep), "2026-09-14")
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    # a diagnosis day by an SLE: £520 + 20% VAT (standard-rated work): a VAT invoice
    assert (inv["number"], inv["subtotal_pence"], inv["vat_pence"], inv["total_pence"]) == (
        "SHT-2026-27-0001", 52000, 10400, 62400)
    assert inv["vat_rates"] == [{"vat_percent_bp": 2000, "net_pence": 52000,
                                 "vat_pence": 10400}]
