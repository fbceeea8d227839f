"""Support requests: log, list, show, cancel; every refusal exits with its code and writes
nothing."""

from __future__ import annotations

import csv
import io

import pytest

TODAY = "2026-09-10"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


def test_log_prints_id_and_show_gives_the_record(mini):
    out = mini("request", "log", "--school", "131543", "--need", "achievement", "-s", "Maths",
               "-s", "SEN", "-s", "maths", "--days", "2.5", "--note", "KS3 maths",
               "--contact", "Head of maths", "--po", "PO-4471", ok=True)
    assert out.stdout == "1\n"
    assert mini.json("request", "log", "--school", "131544", "--need", "behaviour") == {"id": 2}
    rec = mini.json("request", "show", "1")
    assert rec == {
        "id": 1, "school_urn": 131543, "school": "Bolton High School", "need": "achievement",
        "specialisms": ["maths", "send"], "kind": None, "days": "2.5", "funding": "school",
        "funder": None, "received": TODAY, "status": "open", "deployments": [],
        "contact": "Head of maths", "note": "KS3 maths", "cancel_reason": None,
        "matched_on": None, "closed_on": None, "terms": {"send": "SEN"}, "po": "PO-4471",
        "need_term": None, "rise_ref": None, "override_reason": None,
        "bill_to": "school",
    }


def test_kind_funding_funder_and_received_are_kept(mini):
    rid = mini.json("request", "log", "--school", "131545", "--need", "Leadership and management",
                    "--kind", "lle", "--funding", "GRANT", "--funder", "Plymouth LA",
                    "--received", "2026-08-28")["id"]
    rec = mini.json("request", "show", str(rid))
    assert (rec["need"], rec["kind"], rec["funding"], rec["funder"], rec["received"]) == (
        "leadership-and-governance", "LLE", "grant", "Plymouth LA", "2026-08-28")
    assert rec["need_term"] == "leadership-and-management"  # the old need, as a synonym


def test_list_filters_and_csv(mini):
    mini("request", "log", "--school", "131543", "--need", "achievement", ok=True)
    mini("request", "log", "--school", "131544", "--need", "behaviour", ok=True)
    mini("request", "cancel", "2", "--reason", "solved in house", ok=True)
    assert [r["id"] for r in mini.json("request", "list")] == [1, 2]
    assert [r["id"] for r in mini.json("request", "list", "--status", "open")] == [1]
    assert [r["id"] for r in mini.json("request", "list", "--status", "cancelled")] == [2]
    assert [r["id"] for r in mini.json("request", "list", "--school", "131544")] == [2]
    rows = list(csv.reader(io.StringIO(mini("request", "list", "--format", "csv", ok=True).stdout)))
    assert rows[0] == ["id", "school_urn", "school", "need", "specialisms", "kind", "days",
                       "funding", "funder", "received", "status", "deployments"]
    assert mini("request", "list", "--status", "opn").exit_code == 2


BAD_INPUT = [
    (["--need", "maths"], "need"),
    (["--need", "achievement", "--funding", "lottery"], "funding"),
    (["--need", "achievement", "--funding", "grant"], "--funder"),
    (["--need", "achievement", "--funding", "intervention"], "--funder"),
    (["--need", "achievement", "--funder", "Bolton LA"], "--funder"),
    (["--need", "achievement", "--funding", "dfe", "--funder", "DfE"], "--funder"),
    (["--need", "achievement", "--days", "2.25"], "half days"),
    (["--need", "achievement", "--days", "0"], "more than zero"),
    (["--need", "achievement", "-s", "phonix"], "phonics"),
    (["--need", "achievement", "--kind", "HLTA"], "SLE"),
    (["--need", "achievement", "--received", "2026-02-30"], "not a real date"),
    (["--need", "achievement", "--note", "bad\x07text"], "control"),
]


def test_bad_input_exits_2_and_writes_nothing(mini, snapshot):
    before = snapshot(mini.target)
    for args, fragment in BAD_INPUT:
        result = mini("request", "log", "--school", "131543", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert fragment in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1
    assert snapshot(mini.target) == before


def test_unknown_school_exits_1_and_writes_nothing(mini, snapshot):
    before = snapshot(mini.target)
    result = mini("request", "log", "--school", "999999", "--need", "achievement")
    assert result.exit_code == 1
    assert "999999" in result.stderr
    assert snapshot(mini.target) == before
    assert mini("request", "show", "1").exit_code == 1


def test_cancel_rules(mini, snapshot):
    mini("request", "log", "--school", "131543", "--need", "achievement", "--days", "2", ok=True)
    assert mini("request", "cancel", "1").exit_code == 2  # --reason is required
    mini("deploy", "1", "--leader", "L9002", ok=True)
    before = snapshot(mini.target)
    refused = mini("request", "cancel", "1", "--reason", "changed mind")
    assert refused.exit_code == 1 and "active deployment" in refused.stderr
    assert snapshot(mini.target) == before

    mini("request", "log", "--school", "131544", "--need", "behaviour", ok=True)
    mini("request", "cancel", "2", "--reason", "solved in house", ok=True)
    rec = mini.json("request", "show", "2")
    assert (rec["status"], rec["cancel_reason"], rec["closed_on"]) == (
        "cancelled", "solved in house", TODAY)
    before = snapshot(mini.target)
    again = mini("request", "cancel", "2", "--reason", "again")
    assert again.exit_code == 1 and "already cancelled" in again.stderr
    assert snapshot(mini.target) == before

    mini("deployment", "close", "1", ok=True)
    assert mini.json("request", "show", "1")["status"] == "completed"
    done = mini("request", "cancel", "1", "--reason", "late")
    assert done.exit_code == 1 and "already completed" in done.stderr
    assert mini("request", "cancel", "99", "--reason", "x").exit_code == 1


def test_received_in_the_future_is_bad_input(mini, snapshot, monkeypatch):
    before = snapshot(mini.target)
    for day in ("2030-01-01", "2026-09-11"):  # S2S_TODAY is 2026-09-10
        result = mini("request", "log", "--school", "131543", "--need", "achievement",
                      "--received", day)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr == (f"Error: --received {day} is in the future (today is "
                                 f"{TODAY})\n")
    assert snapshot(mini.target) == before
    assert mini.json("request", "log", "--school", "131543", "--need", "achievement",
                     "--received", TODAY) == {"id": 1}
    # "today" is the real date when S2S_TODAY is not set
    monkeypatch.delenv("S2S_TODAY")
    import datetime as dt

    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    late = mini("request", "log", "--school", "131543", "--need", "achievement",
                "--received", tomorrow)
    assert late.exit_code == 2 and "in the future" in late.stderr
