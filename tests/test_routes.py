"""Funding routes as they are now: RISE-commissioned support (billed to the named funder, with
its reference), the closed DfE NLG programme (refused for new work unless overridden), needs
as report-card areas, and the ECTE specialism."""

from __future__ import annotations

import pytest

from tests.conftest import Run

RISE = ["--funding", "rise", "--funder", "RISE North West", "--rise-ref", "RISE-NW-2026-014"]


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2026-09-10")


def test_rise_support_is_billed_to_the_funder_with_its_reference(mini: Run):
    rid = mini.json("request", "log", "--school", "131543", "--need", "leadership", *RISE,
                    "--days", "3")["id"]
    req = mini.json("request", "show", str(rid))
    assert (req["need"], req["funding"], req["funder"], req["rise_ref"]) == (
        "leadership-and-governance", "rise", "RISE North West", "RISE-NW-2026-014")
    did = mini.json("deploy", str(rid), "--leader", "L9004", "--start", "2026-09-14")["id"]
    dep = mini.json("deployment", "show", str(did))
    assert (dep["funding"], dep["funder"], dep["rise_ref"]) == (
        "rise", "RISE North West", "RISE-NW-2026-014")
    mini("log", str(did), "--date", "2026-09-15", ok=True,
         env={"S2S_TODAY": "2026-09-30"})
    [draft] = mini.json("invoice", "--month", "2026-09")
    assert (draft["payer"], draft["payer_school_urn"]) == ("RISE North West", None)
    assert [ln["kind"] for ln in draft["lines"]] == ["funded"]


def test_rise_needs_its_reference_and_a_funder(mini: Run, snapshot):
    before = snapshot(mini.target)
    for args, fragment in [
            (["--funding", "rise", "--funder", "RISE NW"], "--rise-ref REF is required"),
            (["--funding", "rise", "--rise-ref", "X1"], "--funder NAME is required"),
            (["--rise-ref", "X1"], "--rise-ref is only for rise funding")]:
        result = mini("request", "log", "--school", "131543", "--need", "achievement", *args)
        assert result.exit_code == 2 and fragment in result.stderr, (args, result.stderr)
    assert snapshot(mini.target) == before


def test_dfe_nlg_route_is_closed_to_new_work_unless_overridden(mini: Run, snapshot):
    before = snapshot(mini.target)
    refused = mini("request", "log", "--school", "131544", "--need", "governance",
                   "--funding", "dfe")
    assert refused.exit_code == 1
    assert "the DfE-funded NLG programme closed to new commissions in October 2023" in (
        refused.stderr)
    assert snapshot(mini.target) == before
    rid = mini.json("request", "log", "--school", "131544", "--need", "governance",
                    "--funding", "dfe", "--override", "package agreed in 2023")["id"]
    assert mini.json("request", "show", str(rid))["override_reason"] == "package agreed in 2023"
    school = mini.json("request", "log", "--school", "131544", "--need", "governance")["id"]
    before = snapshot(mini.target)
    deploy = mini("deploy", str(school), "--leader", "L9005", "--days", "3", "--funding", "dfe")
    assert deploy.exit_code == 1 and "dfe funding: the DfE-funded NLG programme" in (
        deploy.stderr) and '--override "reason"' in deploy.stderr
    assert snapshot(mini.target) == before
    did = mini.json("deploy", str(school), "--leader", "L9005", "--days", "3", "--funding",
                    "dfe", "--override", "agreed before the programme closed")["id"]
    dep = mini.json("deployment", "show", str(did))
    assert (dep["funding"], dep["override_reason"]) == (
        "dfe", "agreed before the programme closed")


def test_needs_are_report_card_areas_with_the_old_five_as_synonyms(mini: Run):
    for typed, need, term in [("inclusion", "inclusion", None), ("post-16", "post-16", None),
                              ("Early years", "early-years", None),
                              ("behaviour", "attendance-and-behaviour", "behaviour"),
                              ("teaching-and-learning", "curriculum-and-teaching",
                               "teaching-and-learning")]:
        rid = mini.json("request", "log", "--school", "131543", "--need", typed)["id"]
        req = mini.json("request", "show", str(rid))
        assert (req["need"], req["need_term"]) == (need, term), typed
    bad = mini("request", "log", "--school", "131543", "--need", "astrology")
    assert bad.exit_code == 2 and "unknown need 'astrology'" in bad.stderr


def test_ecte_is_the_specialism_and_nqt_an_alias(mini: Run):
    rows = {r["slug"]: r for r in mini.json("specialisms")}
    assert rows["nqt"]["name"] == "Early career teacher development (ECTE)"
    assert {"nqt", "ect", "ecte"} <= set(rows["nqt"]["aliases"])
    assert mini.json("find", "-s", "NQT") == mini.json("find", "-s", "ECTE")
