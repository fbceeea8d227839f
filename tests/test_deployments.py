"""Deployments: deploy (rates fixed now, refusals, override), list/show/close, capacity."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import query

TODAY = "2026-09-10"
HINT = '(use --override "reason" to deploy anyway)'


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


def request(cli, urn: str, *args: str) -> int:  # type: ignore[no-untyped-def]
    return int(cli.json("request", "log", "--school", urn, "--need", "achievement", *args)["id"])


def test_deploy_fixes_card_rates_and_matches_the_request(mini):
    rid = request(mini, "131542", "--days", "3")  # Brookfield: 180 pupils, the "small" band
    assert mini("deploy", str(rid), "--leader", "l9002", ok=True).stdout == "1\n"
    dep = mini.json("deployment", "show", "1")
    assert {"id", "request_id", "leader_id", "leader", "school_urn", "school", "status", "start",
            "end", "work", "funding", "funder", "agreed_days", "logged_days", "rate_pence",
            "half_day_rate_pence", "rate_source", "override_reason", "evaluations"} <= set(dep)
    assert {k: dep[k] for k in ("id", "request_id", "leader_id", "leader", "school_urn",
                                "school", "status", "start", "end", "work", "funding",
                                "funder", "agreed_days", "logged_days", "override_reason",
                                "evaluations")} == {
        "id": 1, "request_id": rid, "leader_id": "L9002", "leader": "Ben Hallam",
        "school_urn": 131542, "school": "Brookfield Primary School", "status": "active",
        "start": TODAY, "end": None, "work": "other", "funding": "school", "funder": None,
        "agreed_days": "3", "logged_days": "0", "override_reason": None, "evaluations": []}
    # SLE card rate for a small school, 15% kept by the alliance, the rest is supply cover
    assert (dep["rate_pence"], dep["half_day_rate_pence"], dep["supply_pence"],
            dep["half_day_supply_pence"], dep["rate_source"]) == (30000, 15000, 25500, 12750,
                                                                  "card")
    req = mini.json("request", "show", str(rid))
    assert (req["status"], req["matched_on"], req["deployments"]) == ("matched", TODAY, [1])

    # a second deployment on the same request; a rate for the kind of work wins
    mini("deploy", str(rid), "--leader", "L9004", "--days", "1.5", "--work", "diagnosis",
         "--start", "2026-09-21", "--end", "2026-12-18", ok=True)
    nle = mini.json("deployment", "show", "2")
    assert (nle["rate_pence"], nle["half_day_rate_pence"], nle["agreed_days"], nle["end"]) == (
        48000, 24000, "1.5", "2026-12-18")
    # negotiated rates: half defaults to half the day rate
    rid2 = request(mini, "131543", "--days", "2", "--funding", "grant", "--funder", "Bolton LA")
    assert mini.json("deploy", str(rid2), "--leader", "L9001", "--rate", "£420") == {"id": 3}
    neg = mini.json("deployment", "show", "3")
    assert (neg["rate_pence"], neg["half_day_rate_pence"], neg["supply_pence"],
            neg["rate_source"], neg["funding"], neg["funder"]) == (
        42000, 21000, 35700, "negotiated", "grant", "Bolton LA")
    mini("deploy", str(rid2), "--leader", "L9006", "--rate", "420", "--half-day-rate", "250",
         "--funding", "school", ok=True)
    own = mini.json("deployment", "show", "4")
    assert (own["half_day_rate_pence"], own["funding"], own["funder"]) == (25000, "school", None)


def test_deploy_bad_input_exits_2_and_writes_nothing(mini, snapshot):
    bare = request(mini, "131543")  # no days
    rid = request(mini, "131543", "--days", "2")
    cases = [
        ([str(bare), "--leader", "L9001"], "--days"),
        ([str(rid), "--leader", "L9001", "--start", "2026-10-01", "--end", "2026-09-30"],
         "before"),
        ([str(rid), "--leader", "L9001", "--work", "gardening"], "kind of work"),
        ([str(rid), "--leader", "L9001", "--half-day-rate", "200"], "--rate"),
        ([str(rid), "--leader", "L9001", "--rate", "cheap"], "--rate"),
        ([str(rid), "--leader", "L9001", "--days", "2.25"], "half days"),
        ([str(rid), "--leader", "L9001", "--funding", "grant"], "--funder"),
        ([str(rid), "--leader", "L9001", "--funder", "Someone"], "--funder"),
        ([str(rid), "--leader", "L9001", "--dfe-extra-days", "2"], "dfe"),
        ([str(rid), "--leader", "L9001", "--funding", "dfe", "--dfe-extra-days", "2"],
         "trust school"),
        ([str(rid), "--leader", "L9001", "--funding", "dfe", "--dfe-extra-days", "6"], "0 and 5"),
        ([str(rid), "--leader", "L9001", "--override", " "], "--override"),
    ]
    before = snapshot(mini.target)
    for args, fragment in cases:
        result = mini("deploy", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert fragment in result.stderr, (args, result.stderr)
    assert snapshot(mini.target) == before


def test_dfe_extra_days_for_a_trust_school(mini):
    rid = request(mini, "131542", "--days", "5", "--funding", "dfe", "--override", "legacy")
    mini("deploy", str(rid), "--leader", "L9005", "--dfe-extra-days", "3", "--days", "8",
         "--work", "governance-review", "--override", "agreed before the programme closed",
         ok=True)
    dep = mini.json("deployment", "show", "1")
    assert (dep["funding"], dep["dfe_extra_days"], dep["agreed_days"]) == ("dfe", 3, "8")


def test_deploy_refusals_exit_1_and_write_nothing(mini, snapshot):
    big = request(mini, "131543", "--days", "12")
    small = request(mini, "131543", "--days", "1")
    cancelled = request(mini, "131543", "--days", "1")
    mini("request", "cancel", str(cancelled), "--reason", "withdrawn", ok=True)
    completed = request(mini, "131542", "--days", "1")
    mini("deploy", str(completed), "--leader", "L9004", ok=True)
    mini("deployment", "close", "1", ok=True)
    cases = [
        ([str(big), "--leader", "L9002"],
         f"L9002 has 10 of 10 days left in 2026-27; 12 asked {HINT}"),
        ([str(small), "--leader", "L9007"], f"L9007 is inactive {HINT}"),
        ([str(small), "--leader", "L9003"],
         f"L9003 is based at the supported school (131543) {HINT}"),
        ([str(cancelled), "--leader", "L9001"], f"request {cancelled} is cancelled {HINT}"),
        ([str(completed), "--leader", "L9003"], f"request {completed} is completed {HINT}"),
        ([str(small), "--leader", "L9999"], "no leader with id 'L9999'"),
        (["99", "--leader", "L9001"], "no request with id 99"),
    ]
    before = snapshot(mini.target)
    for args, message in cases:
        result = mini("deploy", *args)
        assert result.exit_code == 1, (args, result.stderr)
        assert result.stderr == f"Error: {message}\n"
    assert snapshot(mini.target) == before


def test_override_is_recorded_and_audited(mini):
    rid = request(mini, "131543", "--days", "12")
    result = mini("--as", "coordinator", "deploy", str(rid), "--leader", "L9003",
                  "--override", "Only SEND lead free this term", ok=True)
    assert "overridden: L9003 is based at the supported school" in result.stderr
    assert "L9003 has 15 of 15 days left" not in result.stderr
    dep = mini.json("deployment", "show", "1")
    assert dep["override_reason"] == "Only SEND lead free this term"
    audit = query(mini.target, "SELECT actor, action, after FROM audit_log "
                  "WHERE table_name = :t", t="deployment")
    assert [(a, b) for a, b, _ in audit] == [("coordinator", "insert")]
    assert json.loads(audit[0][2])["override_reason"] == "Only SEND lead free this term"
    # over capacity: remaining goes negative and says so exactly
    mini("deploy", str(rid), "--leader", "L9002", "--override", "Head agreed extra release",
         ok=True)
    row = mini.json("capacity", "--leader", "L9002")[0]
    assert (row["agreed_days"], row["remaining_days"]) == ("12", "-2")
    # a cancelled request deployed with an override is matched again
    gone = request(mini, "131544", "--days", "1")
    mini("request", "cancel", str(gone), "--reason", "withdrawn", ok=True)
    mini("deploy", str(gone), "--leader", "L9001", "--override", "School asked again", ok=True)
    assert mini.json("request", "show", str(gone))["status"] == "matched"


def test_capacity_by_academic_year_of_the_start_date(mini, snapshot):
    rid = request(mini, "131543", "--days", "6")
    mini("deploy", str(rid), "--leader", "L9002", "--start", "2026-09-14", ok=True)
    mini("deploy", str(rid), "--leader", "L9002", "--start", "2027-09-06", ok=True)  # 2027-28
    before = snapshot(mini.target)
    late = mini("deploy", str(rid), "--leader", "L9002", "--days", "5", "--start", "2027-08-31")
    assert late.exit_code == 1
    assert "L9002 has 4 of 10 days left in 2026-27; 5 asked" in late.stderr
    assert snapshot(mini.target) == before
    # a closed deployment takes only the days it logged (logged and closed once worked)
    later = {"S2S_TODAY": "2026-09-30"}
    mini("log", "1", "--date", "2026-09-14", ok=True, env=later)
    mini("log", "1", "--date", "2026-09-15", "--half", ok=True, env=later)
    mini("deployment", "close", "1", ok=True, env=later)
    mini("deploy", str(rid), "--leader", "L9002", "--days", "5", "--start", "2027-08-31", ok=True)
    assert mini.json("capacity", "--leader", "l9002") == [{
        "leader_id": "L9002", "name": "Ben Hallam", "kind": "SLE", "capacity_days": "10",
        "agreed_days": "11", "worked_days": "1.5", "remaining_days": "3.5"}]
    nxt = mini.json("capacity", "--leader", "L9002", "--year", "2027-28")[0]
    assert (nxt["agreed_days"], nxt["worked_days"], nxt["remaining_days"]) == ("6", "0", "4")
    everyone = mini.json("capacity")
    assert [r["leader_id"] for r in everyone] == ["L9001", "L9002", "L9003", "L9004", "L9005",
                                                  "L9006"]
    assert everyone[3]["remaining_days"] == "60"
    assert mini("capacity", "--leader", "L0000").exit_code == 1
    assert mini("capacity", "--year", "2026-28").exit_code == 2


def test_list_show_and_close(mini, snapshot):
    rid = request(mini, "131543", "--days", "4")
    other = request(mini, "131545", "--days", "2")
    mini("deploy", str(rid), "--leader", "L9004", "--work", "coaching", ok=True)
    mini("deploy", str(rid), "--leader", "L9001", "--days", "2", ok=True)
    mini("deploy", str(other), "--leader", "L9001", ok=True)
    assert [d["id"] for d in mini.json("deployment", "list")] == [1, 2, 3]
    assert [d["id"] for d in mini.json("deployment", "list", "--leader", "L9001")] == [2, 3]
    assert [d["id"] for d in mini.json("deployment", "list", "--school", "131545")] == [3]
    out = mini("deployment", "list", "--format", "csv", ok=True).stdout
    header = next(csv.reader(io.StringIO(out)))
    assert header == ["id", "request_id", "leader_id", "leader", "school_urn", "school",
                      "status", "start", "end", "work", "funding", "funder", "agreed_days",
                      "logged_days"]

    closed = mini("deployment", "close", "1", ok=True)
    assert "request 1 is matched" in closed.stderr
    assert [d["id"] for d in mini.json("deployment", "list", "--active")] == [2, 3]
    before = snapshot(mini.target)
    again = mini("deployment", "close", "1")
    assert again.exit_code == 1 and "already closed" in again.stderr
    assert mini("deployment", "close", "42").exit_code == 1
    assert snapshot(mini.target) == before
    mini("deployment", "close", "2", ok=True)
    req = mini.json("request", "show", str(rid))
    assert (req["status"], req["closed_on"]) == ("completed", TODAY)
    assert mini.json("deployment", "show", "1")["status"] == "closed"
    assert mini.json("request", "show", str(other))["status"] == "matched"
    table = mini("deployment", "show", "3", "--format", "table", ok=True).stdout
    assert "Ben Hallam" not in table and "Amira Okafor" in table
    assert mini("deployment", "show", "42").exit_code == 1


def test_half_day_rate_above_the_day_rate_is_bad_input(mini, snapshot):
    rid = request(mini, "131543", "--days", "2")
    before = snapshot(mini.target)
    result = mini("deploy", str(rid), "--leader", "L9001", "--rate", "300",
                  "--half-day-rate", "500")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("Error: --half-day-rate £500.00 is more than the day rate "
                             "£300.00\n")
    assert snapshot(mini.target) == before
    # a half day may cost as much as a full day (a minimum charge), not more
    mini("deploy", str(rid), "--leader", "L9001", "--rate", "300", "--half-day-rate", "300",
         ok=True)
    assert query(mini.target, "SELECT rate_pence, half_day_rate_pence FROM deployment") == [
        (30000, 30000)]
