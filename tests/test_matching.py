"""Matching: the pure scoring weights, and `s2s match` on the mini directory."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from s2s_cli.services.matching import Candidate, Need, rank, score

TODAY = "2026-09-10"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


NEED = Need(need="achievement", kind=None, specialisms=("phonics",), days_halves=10,
            school_urn=100001, phase="primary", la_id=1, region_id=1, year_label="2026-27")
CAND = Candidate(id="L1", name="A", kind="SLE", specialisms=frozenset({"phonics"}),
                 home_school_urn=100002, phase="secondary", la_id=2, la="Bolton", region_id=2,
                 region="North West", remaining_halves=20, active_deployments=0)


def need(**kw: Any) -> Need:
    return replace(NEED, **kw)


def cand(**kw: Any) -> Candidate:
    return replace(CAND, **kw)


def test_weights_and_words():
    assert score(need(), cand()) == (50, ["holds phonics", "10 days free for 5 wanted"])
    # another specialism in the same Ofsted focus area, once per area
    assert score(need(specialisms=("phonics", "maths")), cand(specialisms=frozenset({"art"}))
                 ) == (40, ["same focus area: Pupil achievement (2 specialisms)",
                            "10 days free for 5 wanted"])
    assert score(need(), cand(specialisms=frozenset({"behaviour"})))[0] == 10
    # kind asked / other kind
    assert score(need(kind="SLE"), cand())[1][1] == "SLE as asked"
    assert score(need(kind="NLE"), cand()) == (
        40, ["holds phonics", "SLE, not the NLE asked", "10 days free for 5 wanted"])
    # no kind asked: NLG/LLE/NLE for leadership and governance (logged as governance: says so)
    gov = need(need="leadership-and-governance", need_term="governance", specialisms=())
    assert "NLG for governance" in score(gov, cand(kind="NLG"))[1]
    assert score(gov, cand(kind="SLE"))[0] == 10
    lead = need(need="leadership-and-governance", specialisms=())
    assert score(lead, cand(kind="LLE", specialisms=frozenset({"curriculum"}))) == (
        45, ["specialism in the need's focus area: Leadership and management",
             "LLE for leadership and governance", "10 days free for 5 wanted"])
    # phase, LA, else region
    assert score(need(), cand(phase="primary", la_id=1, la="Camden")) == (
        70, ["holds phonics", "same phase: primary", "same LA: Camden",
             "10 days free for 5 wanted"])
    assert score(need(), cand(region_id=1, region="London"))[1][1] == "same region: London"
    # capacity short of the days wanted, exact halves in words
    assert score(need(), cand(remaining_halves=5)) == (20, ["holds phonics",
                                                            "only 2.5 of 5 days free"])
    assert score(need(days_halves=None), cand(remaining_halves=0)) == (
        20, ["holds phonics", "no days free in 2026-27"])
    # -3 per active deployment
    assert score(need(), cand(active_deployments=2)) == (
        44, ["holds phonics", "10 days free for 5 wanted", "2 active deployments"])


def test_specialism_fit_tiers_exact_alias_related_focus_area():
    """Exact and alias score alike (the reason says what was typed); a closely related
    specialism is a genuinely weaker tier; the same Ofsted focus area is weaker still."""
    exact = score(need(), cand())
    alias = score(need(terms={"phonics": "early reading"}), cand())
    related = score(need(), cand(specialisms=frozenset({"english", "early-years"})))
    focus = score(need(), cand(specialisms=frozenset({"art"})))
    assert exact == (50, ["holds phonics", "10 days free for 5 wanted"])
    assert alias == (50, ["holds phonics (asked for as 'early reading')",
                          "10 days free for 5 wanted"])
    assert related == (35, ["related: early-years (close to phonics)",
                            "10 days free for 5 wanted"])
    assert focus == (25, ["same focus area: Pupil achievement", "10 days free for 5 wanted"])
    assert exact[0] == alias[0] > related[0] > focus[0]
    # related is symmetric, and once per requested specialism; focus area only when unrelated
    assert score(need(specialisms=("english", "maths")), cand(specialisms=frozenset(
        {"phonics"})))[1][:2] == ["related: phonics (close to english)",
                                  "same focus area: Pupil achievement"]
    rows = rank(need(), [cand(id="L1", specialisms=frozenset({"art"})),
                         cand(id="L2", specialisms=frozenset({"english"})),
                         cand(id="L3"), cand(id="L4", specialisms=frozenset({"behaviour"}))])
    assert [r["leader_id"] for r in rows] == ["L3", "L2", "L1", "L4"]


def test_match_says_which_short_form_was_typed(mini):
    """The request keeps the typed term when it resolved through a short form; matching and
    `request show` both show it, and the match JSON keys stay as they are."""
    mini("request", "log", "--school", "131545", "--need", "achievement", "-s", " numeracy ",
         "-s", "Phonics", "--days", "2", ok=True)
    assert mini.json("request", "show", "1")["terms"] == {"maths": "numeracy"}
    rows = {r["leader_id"]: r for r in mini.json("match", "1")}
    assert set(rows["L9002"]) == {"leader_id", "name", "kind", "score", "remaining_days",
                                  "reasons"}
    assert rows["L9002"]["reasons"][:2] == ["holds maths (asked for as 'numeracy')",
                                            "holds phonics"]
    assert "holds maths (asked for as 'numeracy')" in rows["L9003"]["reasons"]
    # named directly as well as by a short form: an exact match, no term kept
    mini("request", "log", "--school", "131545", "--need", "achievement", "-s", "numeracy",
         "-s", "maths", ok=True)
    assert mini.json("request", "show", "2")["terms"] == {}
    assert "holds maths" in {r["leader_id"]: r for r in mini.json("match", "2")}["L9002"][
        "reasons"]


def test_rank_never_offers_the_requesting_school_and_breaks_ties_by_id():
    rows = rank(need(), [cand(id="L3"), cand(id="L2"), cand(id="L1", home_school_urn=100001),
                         cand(id="L4", specialisms=frozenset())])
    assert [r["leader_id"] for r in rows] == ["L2", "L3", "L4"]
    assert [r["leader_id"] for r in rank(need(), [cand(id="L3"), cand(id="L2")], 1)] == ["L2"]


def test_match_json_contract_and_order(mini):
    mini("request", "log", "--school", "131544", "--need", "achievement", "-s", "EYFS",
         "-s", "phonics", "--days", "5", ok=True)
    rows = mini.json("match", "1")
    assert rows[0] == {
        "leader_id": "L9001", "name": "Amira Okafor", "kind": "SLE", "score": 105,
        "remaining_days": "20",
        "reasons": ["holds early-years (asked for as 'EYFS')", "holds phonics",
                    "same phase: primary",
                    "same region: London", "20 days free for 5 wanted"],
    }
    ids = [r["leader_id"] for r in rows]
    # L9002 and L9004 work at the requesting school; L9007 is inactive
    assert ids == ["L9001", "L9003", "L9005", "L9006"]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert rows[2]["score"] == rows[3]["score"]  # tie, broken by id
    assert [r["leader_id"] for r in mini.json("match", "1", "--limit", "2")] == ids[:2]
    assert mini("match", "1", "--format", "table", ok=True).stdout.count("Amira Okafor") == 1


def test_match_counts_capacity_and_active_deployments(mini):
    mini("request", "log", "--school", "131543", "--need", "achievement", "-s", "phonics",
         "--days", "8", ok=True)
    mini("request", "log", "--school", "131545", "--need", "achievement", "--days", "7.5",
         ok=True)
    mini("deploy", "2", "--leader", "L9002", ok=True)
    ben = next(r for r in mini.json("match", "1") if r["leader_id"] == "L9002")
    assert ben["remaining_days"] == "2.5"
    assert ben["reasons"] == ["holds phonics", "only 2.5 of 8 days free",
                              "1 active deployment"]
    assert ben["score"] == 40 - 20 - 3


def test_match_refusals(mini):
    assert mini("match", "7").exit_code == 1
    mini("request", "log", "--school", "131543", "--need", "behaviour", ok=True)
    assert mini("match", "1", "--limit", "0").exit_code == 2
    mini("request", "cancel", "1", "--reason", "no longer needed", ok=True)
    result = mini("match", "1")
    assert result.exit_code == 1 and "cancelled" in result.stderr
