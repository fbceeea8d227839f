"""`deployment edit` changes every term frozen at agreement explicitly and audibly (issue 12):
the leader kind, home school, supported school's type and size band while none of its days is
on a live invoice; the payer (school or trust), VAT and payment terms for the days not yet
invoiced.  Hand-worked pence."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Run
from tests.test_gias_current import CURRENT, imp
from tests.test_invoicing import deploy, log


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2027-06-30")


def edit(run: Run, dep: int, *args: str) -> str:
    return run("deployment", "edit", str(dep), *args, ok=True).stderr


def test_kind_type_and_home_school_change_before_invoicing_and_are_audited(mini: Run):
    nle = deploy(mini, school=131543, leader="L9004", days="6")  # NLE £500, home 131544
    log(mini, nle, "2026-09-07", "2026-09-08")
    edit(mini, nle, "--leader-kind", "NLG", "--home-school", "131545")
    shown = mini.json("deployment", "show", str(nle))
    assert (shown["leader_kind"], shown["home_school_urn"]) == ("NLG", 131545)
    [draft] = mini.json("invoice", "--month", "2026-09")
    assert draft["total_pence"] == 0  # agreed as an NLG now: both days in the allowance
    trail = [r for r in mini.json("audit", "--table", "deployment", "--record", str(nle))
             if r["action"] == "update"]
    assert {"leader_kind": "NLE", "home_school_urn": 131544} == {
        k: v for k, v in trail[-1]["before"].items() if k in ("leader_kind", "home_school_urn")}
    edit(mini, nle, "--leader-kind", "nle")
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert inv["total_pence"] == 100000
    # supply cover goes to the home school set by the edit (85% of £500 a day)
    [owed] = mini.json("remittance", "--month", "2026-09")
    assert (owed["urn"], owed["supply_pence"]) == (131545, 2 * 42500)
    # now on a live invoice: these terms are refused until it is voided
    for args, what in ((("--leader-kind", "SLE"), "leader kind"),
                       (("--home-school", "131544"), "home school"),
                       (("--school-type", "academy"), "school type"),
                       (("--school-band", "small"), "size band")):
        got = mini("deployment", "edit", str(nle), *args)
        assert got.exit_code == 1 and f"cannot change its {what}" in got.stderr, got.stderr
        assert "S2S-2026-0001" in got.stderr


def test_school_type_edit_resizes_the_dfe_package(mini: Run):
    nlg = deploy(mini, school=131543, leader="L9005", days="6", funding="dfe",
                 need="governance")  # maintained: a 3-day package
    log(mini, nlg, "2026-09-07", "2026-09-08", "2026-09-09", "2026-09-10", "2026-09-11",
        "2026-09-14")
    before = {i["payer"]: i["total_pence"] for i in mini.json("invoice", "--month", "2026-09")}
    assert before == {"DfE": 3 * 40000, "Bolton High School": 3 * 40000}
    edit(mini, nlg, "--school-type", "academy")  # a trust: 5 days
    after = {i["payer"]: i["total_pence"] for i in mini.json("invoice", "--month", "2026-09")}
    assert after == {"DfE": 5 * 40000, "Bolton High School": 40000}
    edit(mini, nlg, "--school-type", "")
    assert mini.json("deployment", "show", str(nlg))["school_type"] is None
    bad = mini("deployment", "edit", str(nlg), "--school-band", "huge")
    assert bad.exit_code == 2 and "not a band of the rate card (small)" in bad.stderr
    edit(mini, nlg, "--school-band", "small")
    assert mini.json("deployment", "show", str(nlg))["school_band"] == "small"


def test_payer_vat_and_terms_change_for_days_not_yet_invoiced(mini: Run, tmp_path):
    from tests.test_money import reload

    reload(mini, tmp_path, ("vat_percent: 0", "vat_percent: 0\n    vat_number: gb123456782"))
    sle = deploy(mini, school=131543, leader="L9002", days="5")  # SLE £350
    log(mini, sle, "2026-09-07")
    [sept] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    sept_json = mini("invoices", "show", sept["number"], "--format", "json", ok=True).stdout
    note = edit(mini, sle, "--payer", "Plymouth Sound", "--vat", "standard",
                "--payment-terms", "14")
    assert "changed" in note and "payer" in note and "VAT rate" in note
    log(mini, sle, "2026-10-05")
    [octo] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02")
    assert (octo["payer"], octo["payer_school_urn"], octo["subtotal_pence"], octo["vat_pence"],
            octo["total_pence"], octo["due"]) == ("Plymouth Sound Academy", 131545, 35000, 7000,
                                                 42000, "2026-11-16")
    # the September invoice is as issued
    assert mini("invoices", "show", sept["number"], "--format", "json",
                ok=True).stdout == sept_json
    assert (json.loads(sept_json)[0]["payer"], json.loads(sept_json)[0]["total_pence"]) == (
        "Bolton High School", 35000)
    for args in (("--vat", "luxury"), ("--payment-terms", "400"), ("--bill-to", "parents")):
        assert mini("deployment", "edit", str(sle), *args).exit_code == 2
    assert mini("deployment", "edit", str(sle), "--payer", "999999").exit_code in (1, 2)


def test_bill_to_edit_moves_the_next_invoice_to_the_trust_and_back(mini: Run):
    imp(mini, CURRENT)  # Brookfield Primary (182 pupils: the small band) is in trust 5001
    dep = deploy(mini, school=131542, leader="L9002", days="5")  # SLE £300
    no_trust = deploy(mini, school=131543, leader="L9001", days="5")
    got = mini("deployment", "edit", str(no_trust), "--bill-to", "trust")
    assert got.exit_code == 1 and "belongs to no trust" in got.stderr
    log(mini, dep, "2026-09-07")
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    edit(mini, dep, "--bill-to", "trust")  # allowed: September stays with the school
    log(mini, dep, "2026-10-05")
    [octo] = mini.json("invoice", "--month", "2026-10")
    assert (octo["payer"], octo["payer_trust_uid"], octo["total_pence"]) == (
        "Northern Lights Trust", "5001", 30000)
    edit(mini, dep, "--bill-to", "school")
    [back] = mini.json("invoice", "--month", "2026-10")
    assert (back["payer"], back["payer_trust_uid"]) == ("Brookfield Primary School", None)
    shown = mini.json("deployment", "show", str(dep))
    assert (shown["bill_to"], shown["payer_trust_uid"]) == ("school", None)


def test_payer_on_a_bill_to_trust_deployment_is_refused_not_ignored(mini: Run, snapshot):
    imp(mini, CURRENT)  # Brookfield Primary is in trust 5001
    dep = deploy(mini, school=131542, leader="L9002", days="5")
    edit(mini, dep, "--bill-to", "trust")
    log(mini, dep, "2026-09-07")
    before = snapshot(mini.target)
    got = mini("deployment", "edit", str(dep), "--payer", "Bolton")
    assert got.exit_code == 1, got.stderr
    assert f"deployment {dep} bills its trust: use --bill-to school first" in got.stderr
    assert len(got.stderr.strip().splitlines()) == 1 and snapshot(mini.target) == before
    [draft] = mini.json("invoice", "--month", "2026-09")
    assert (draft["payer"], draft["payer_trust_uid"]) == ("Northern Lights Trust", "5001")
    # both at once: bill the school again, and which school
    edit(mini, dep, "--bill-to", "school", "--payer", "Bolton")
    [draft] = mini.json("invoice", "--month", "2026-09")
    assert (draft["payer"], draft["payer_school_urn"]) == ("Bolton High School", 131543)


@pytest.mark.parametrize("value", ["", "DfE"])
def test_a_bad_payer_names_the_payer_option(mini: Run, value: str):
    dep = deploy(mini, school=131543, leader="L9001", days="5")
    for option in ("--payer", "--home-school"):
        got = mini("deployment", "edit", str(dep), option, value)
        assert got.exit_code == 2 and option in got.stderr, got.stderr
        assert "--school" not in got.stderr.replace("--home-school", "")
