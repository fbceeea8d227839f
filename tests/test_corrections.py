"""Correcting mistakes: `request edit`, `deployment edit`, `deployment cancel`, back-dating
(`deploy --on`, `deployment close --on`, `request cancel --on`), `log edit` and `log undo` of a
day once on a voided invoice, and the days `log` refuses (not worked yet, weekends, England's
bank holidays)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Run, query

TODAY = "2026-11-30"  # a Monday
HINT = '(use --override "reason" to change it anyway)'


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


def request(cli: Run, urn: str = "131543", *args: str) -> int:
    return int(cli.json("request", "log", "--school", urn, "--need", "achievement",
                        *args)["id"])


def deploy(cli: Run, rid: int, leader: str, *args: str) -> int:
    return int(cli.json("deploy", str(rid), "--leader", leader, *args)["id"])


def audit(cli: Run, table: str) -> list[tuple[str, dict, dict]]:
    rows = query(cli.target, "SELECT action, before, after FROM audit_log "
                 "WHERE table_name = :t ORDER BY id", t=table)
    return [(a, json.loads(b) if b else {}, json.loads(c) if c else {}) for a, b, c in rows]


def refused(cli: Run, snapshot, code: int, message: str, *args: str) -> None:  # type: ignore
    """`args` exit `code` with exactly `Error: message` and change nothing."""
    before = snapshot(cli.target)
    result = cli(*args)
    assert (result.exit_code, result.stderr) == (code, f"Error: {message}\n"), args
    assert snapshot(cli.target) == before, args


# --- request edit -----------------------------------------------------------------------------

def test_request_edit_changes_only_what_is_given_and_is_audited(mini, snapshot):
    rid = request(mini, "131543", "-s", "maths", "--days", "3", "--funding", "grant",
                  "--funder", "Bolton LA", "--contact", "Head of maths", "--note", "KS3")
    result = mini("--as", "coordinator", "request", "edit", str(rid), "--days", "4.5",
                  "-s", "numeracy", "-s", "SEND", "--kind", "sle", "--need",
                  "teaching and learning", "--po", "PO-4471", "--note", "", ok=True)
    assert result.stdout == ""
    assert result.stderr == (f"request {rid}: changed need, kind, days, note, po, "
                             "specialisms\n")
    rec = mini.json("request", "show", str(rid))
    assert {k: rec[k] for k in ("need", "kind", "days", "specialisms", "terms", "funding",
                                "funder", "contact", "note", "po")} == {
        "need": "curriculum-and-teaching", "kind": "SLE", "days": "4.5",
        "specialisms": ["maths", "send"], "terms": {"maths": "numeracy"}, "funding": "grant",
        "funder": "Bolton LA", "contact": "Head of maths", "note": None, "po": "PO-4471"}
    [(action, before, after)] = audit(mini, "support_request")[1:]
    assert action == "update"
    assert (before["days_halves"], after["days_halves"], after["po"]) == (6, 9, "PO-4471")
    assert sorted(a for a, _, _ in audit(mini, "request_specialism")) == [
        "insert", "insert", "update"]
    # school funding: the grant's funder goes with it; nothing to change says so
    mini("request", "edit", str(rid), "--funding", "school", ok=True)
    rec = mini.json("request", "show", str(rid))
    assert (rec["funding"], rec["funder"]) == ("school", None)
    assert mini("request", "edit", str(rid), "--po", "PO-4471",
                ok=True).stderr == f"request {rid}: nothing changed\n"

    for args, fragment in (
            ([], "nothing to change"),
            (["--days", "0.3"], "half days"),
            (["--need", "money"], "unknown need"),
            (["-s", "phonix"], "no specialism matches 'phonix'"),
            (["--kind", "XLE"], "unknown kind of leader"),
            (["--funding", "grant"], "--funder NAME is required"),
            (["--funder", "Someone"], "--funder is only for intervention, grant or rise"),
            (["--po", "x" * 61], "--po is 61 characters long"),
            (["--contact", "bad\x1b[2J"], "control characters")):
        before = snapshot(mini.target)
        out = mini("request", "edit", str(rid), *args)
        assert out.exit_code == 2 and fragment in out.stderr, (args, out.stderr)
        assert len(out.stderr.splitlines()) == 1
        assert snapshot(mini.target) == before
    refused(mini, snapshot, 1, "no request with id 99", "request", "edit", "99", "--days", "2")


# --- deploy --po / --on, back-dating ----------------------------------------------------------

def test_deploy_on_and_po_back_date_the_match(mini, snapshot):
    rid = request(mini, "131543", "--days", "4", "--po", "PO-1", "--received", "2026-09-01")
    first = deploy(mini, rid, "L9001", "--start", "2026-09-14", "--on", "2026-09-10")
    second = deploy(mini, rid, "L9002", "--start", "2026-09-21", "--po", "PO-2")
    one, two = (mini.json("deployment", "show", str(d)) for d in (first, second))
    assert (one["agreed_on"], one["po"], two["agreed_on"], two["po"]) == (
        "2026-09-10", "PO-1", TODAY, "PO-2")
    assert mini.json("request", "show", str(rid))["matched_on"] == "2026-09-10"
    [row] = mini.json("report", "requests", "--from", "2026-09-01", "--to", "2026-11-30")
    assert (row["matched_on"], row["days_to_match"]) == ("2026-09-10", 9)
    refused(mini, snapshot, 2, "--on 2026-12-01 is in the future (today is 2026-11-30)",
            "deploy", str(rid), "--leader", "L9003", "--on", "2026-12-01")
    refused(mini, snapshot, 1, f"--on 2026-08-31 is before request {rid} was received "
            "(2026-09-01)", "deploy", str(rid), "--leader", "L9003", "--on", "2026-08-31")


def test_close_and_cancel_on_a_past_date(mini, snapshot):
    rid = request(mini, "131543", "--days", "3", "--received", "2026-09-01")
    did = deploy(mini, rid, "L9001", "--start", "2026-09-14")
    mini("log", str(did), "--date", "2026-09-15", ok=True)
    refused(mini, snapshot, 1, f"--on 2026-09-14 is before the last day logged on deployment "
            f"{did} (2026-09-15)", "deployment", "close", str(did), "--on", "2026-09-14")
    refused(mini, snapshot, 2, "--on 2026-12-25 is in the future (today is 2026-11-30)",
            "deployment", "close", str(did), "--on", "2026-12-25")
    mini("deployment", "close", str(did), "--on", "2026-09-15", ok=True)
    assert mini.json("deployment", "show", str(did))["closed_on"] == "2026-09-15"
    req = mini.json("request", "show", str(rid))
    assert (req["status"], req["closed_on"]) == ("completed", "2026-09-15")

    empty = deploy(mini, request(mini, "131545", "--days", "1"), "L9002", "--start",
                   "2026-10-01")
    refused(mini, snapshot, 1, f"--on 2026-09-30 is before deployment {empty} starts "
            "(2026-10-01)", "deployment", "close", str(empty), "--on", "2026-09-30")

    gone = request(mini, "131544", "--received", "2026-10-01")
    refused(mini, snapshot, 1, f"--on 2026-09-30 is before request {gone} was received "
            "(2026-10-01)", "request", "cancel", str(gone), "--reason", "x", "--on",
            "2026-09-30")
    mini("request", "cancel", str(gone), "--reason", "head left", "--on", "2026-10-20", ok=True)
    req = mini.json("request", "show", str(gone))
    assert (req["status"], req["closed_on"]) == ("cancelled", "2026-10-20")


# --- deployment edit --------------------------------------------------------------------------

def test_deployment_edit_rechecks_dates_days_and_capacity(mini, snapshot):
    rid = request(mini, "131543", "--days", "5")
    did = deploy(mini, rid, "L9002", "--start", "2026-09-14", "--end", "2026-12-18")
    mini("log", str(did), "--date", "2026-09-15", ok=True)
    mini("log", str(did), "--date", "2026-10-20", "--half", ok=True)
    result = mini("deployment", "edit", str(did), "--start", "2026-09-07", "--end", "",
                  "--days", "6", "--work", "coaching", "--po", "PO-77", ok=True)
    assert result.stderr == (f"deployment {did}: changed start, end, agreed days, work, po\n")
    dep = mini.json("deployment", "show", str(did))
    assert (dep["start"], dep["end"], dep["agreed_days"], dep["work"], dep["po"]) == (
        "2026-09-07", None, "6", "coaching", "PO-77")
    [(action, before, after)] = [a for a in audit(mini, "deployment") if a[0] == "update"]
    assert (before["agreed_halves"], after["agreed_halves"], after["end"]) == (10, 12, None)

    # L9002 is released 10 days a year: 6 agreed here leaves 4
    refused(mini, snapshot, 1, f"L9002 has 10 of 10 days left in 2026-27; 11 asked {HINT}",
            "deployment", "edit", str(did), "--days", "11")
    refused(mini, snapshot, 1, f"deployment {did} has days logged from 2026-09-15; it cannot "
            "start later (2026-09-16)", "deployment", "edit", str(did), "--start", "2026-09-16")
    refused(mini, snapshot, 1, f"deployment {did} has days logged up to 2026-10-20; it cannot "
            "end sooner (2026-10-19)", "deployment", "edit", str(did), "--end", "2026-10-19")
    refused(mini, snapshot, 1, f"deployment {did} already has 1.5 days logged; 1 agreed is "
            f"fewer {HINT}", "deployment", "edit", str(did), "--days", "1")
    refused(mini, snapshot, 2, "--start/--end: the end 2026-09-01 is before the start "
            "2026-09-07", "deployment", "edit", str(did), "--end", "2026-09-01")
    for args, fragment in (([], "nothing to change"), (["--days", "2.25"], "half days"),
                           (["--work", "gardening"], "kind of work"),
                           (["--rate", "cheap"], "--rate"),
                           (["--rate", "card", "--half-day-rate", "100"], "--rate card"),
                           (["--funding", "grant"], "--funder"),
                           (["--dfe-extra-days", "9"], "0 and 5"),
                           (["--override", " ", "--days", "2"], "--override")):
        before = snapshot(mini.target)
        out = mini("deployment", "edit", str(did), *args)
        assert out.exit_code == 2 and fragment in out.stderr, (args, out.stderr)
        assert snapshot(mini.target) == before
    refused(mini, snapshot, 1, "no deployment with id 99", "deployment", "edit", "99",
            "--days", "2")

    # with --override the capacity refusal is recorded, and remaining goes negative
    over = mini("deployment", "edit", str(did), "--days", "11", "--override",
                "head agreed extra release", ok=True)
    assert "overridden: L9002 has 10 of 10 days left" in over.stderr
    assert mini.json("deployment", "show", str(did))["override_reason"] == (
        "head agreed extra release")
    assert mini.json("capacity", "--leader", "L9002")[0]["remaining_days"] == "-1"
    # a start moved into another academic year is checked against that year
    other = deploy(mini, request(mini, "131545", "--days", "8"), "L9002", "--start",
                   "2027-09-06", "--override", "next year")
    refused(mini, snapshot, 1, f"L9002 has -1 of 10 days left in 2026-27; 8 asked {HINT}",
            "deployment", "edit", str(other), "--start", "2027-08-30")


def test_void_then_edit_rate_then_issue_bills_the_new_rate_to_the_penny(mini, snapshot):
    rid = request(mini, "131543", "--days", "5")
    did = deploy(mini, rid, "L9001", "--rate", "350", "--start", "2026-10-01")
    mini("log", str(did), "--date", "2026-10-05", ok=True)
    mini("log", str(did), "--date", "2026-10-06", "--half", ok=True)
    [first] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02")
    assert (first["number"], first["total_pence"]) == ("S2S-2026-0001", 52500)

    refused(mini, snapshot, 1, f"cannot change its rates: deployment {did} has days on live "
            "invoice S2S-2026-0001; void it first (s2s invoices void NUMBER --reason TEXT)",
            "deployment", "edit", str(did), "--rate", "380")
    refused(mini, snapshot, 1, f"cannot change its funding: deployment {did} has days on live "
            "invoice S2S-2026-0001; void it first (s2s invoices void NUMBER --reason TEXT)",
            "deployment", "edit", str(did), "--funding", "grant", "--funder", "Bolton LA")
    # what does not touch the money may change on an invoiced deployment
    mini("deployment", "edit", str(did), "--po", "PO-9", ok=True)

    assert mini("invoices", "void", "S2S-2026-0001", "--reason", "wrong rate", "--date",
                "2026-11-03", ok=True).stdout.strip() == "S2S-CR-2026-0001"
    edited = mini("deployment", "edit", str(did), "--rate", "380", ok=True)
    assert edited.stderr == (f"deployment {did}: changed rate_pence, half_day_rate_pence\n"
                             f"deployment {did}: £380.00 a day, £190.00 a half day "
                             "(negotiated)\n")
    dep = mini.json("deployment", "show", str(did))
    assert (dep["rate_pence"], dep["half_day_rate_pence"], dep["supply_pence"],
            dep["half_day_supply_pence"], dep["rate_source"]) == (38000, 19000, 32300, 16150,
                                                                  "negotiated")
    [again] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-04")
    assert (again["number"], again["subtotal_pence"], again["vat_pence"],
            again["total_pence"]) == ("S2S-2026-0002", 57000, 0, 57000)
    assert [(ln["days"], ln["full_days"], ln["half_days"], ln["rate_pence"],
             ln["half_day_rate_pence"], ln["amount_pence"], ln["supply_pence"])
            for ln in again["lines"]] == [("1.5", 1, 1, 38000, 19000, 57000, 48450)]
    [credit] = mini.json("invoices", "show", "S2S-CR-2026-0001")
    assert (credit["credits"], credit["reason"], credit["total_pence"]) == (
        "S2S-2026-0001", "wrong rate", -52500)
    assert [(ln["days"], ln["rate_pence"], ln["amount_pence"], ln["supply_pence"])
            for ln in credit["lines"]] == [("1.5", 35000, -52500, -44625)]
    [(_, before, after)] = [a for a in audit(mini, "deployment")
                              if a[0] == "update" and "rate_pence" in a[2]]
    assert (before["rate_pence"], after["rate_pence"]) == (35000, 38000)
    # back to the card: the SLE rate for a school of Bolton High's size
    mini("invoices", "void", "S2S-2026-0002", "--reason", "card rate after all", ok=True)
    mini("deployment", "edit", str(did), "--rate", "card", ok=True)
    assert mini.json("deployment", "show", str(did))["rate_source"] == "card"
    assert mini("db", "check", "--format", "json").exit_code == 0


# --- deployment cancel ------------------------------------------------------------------------

def test_cancel_removes_its_days_frees_capacity_and_reopens_the_request(mini, snapshot):
    rid = request(mini, "131543", "--days", "4")
    did = deploy(mini, rid, "L9002", "--start", "2026-09-14", "--work", "governance-review")
    mini("log", str(did), "--date", "2026-09-15", ok=True)
    mini("log", str(did), "--date", "2026-09-16", "--half", ok=True)
    assert [r["deployment_id"] for r in mini.json("reviews", "due", "--within", "400")] == [did]
    assert mini.json("capacity", "--leader", "L9002")[0]["remaining_days"] == "6"
    result = mini("deployment", "cancel", str(did), "--reason", "agreed by mistake", ok=True)
    assert result.stderr == (f"deployment {did} cancelled; removed 2 day log(s), 1.5 days; "
                             f"request {rid} is open\n")
    dep = mini.json("deployment", "show", str(did))
    assert (dep["status"], dep["cancel_reason"], dep["cancelled_on"], dep["logged_days"]) == (
        "cancelled", "agreed by mistake", TODAY, "0")
    req = mini.json("request", "show", str(rid))
    assert (req["status"], req["matched_on"], req["deployments"]) == ("open", None, [did])
    assert mini.json("log", "list") == []
    assert mini.json("capacity", "--leader", "L9002")[0] == {
        "leader_id": "L9002", "name": "Ben Hallam", "kind": "SLE", "capacity_days": "10",
        "agreed_days": "0", "worked_days": "0", "remaining_days": "10"}
    assert mini.json("reviews", "due", "--within", "400") == []
    util = [r for r in mini.json("report", "utilisation", "-p", "2026-27")
            if r["leader_id"] == "L9002"]
    assert (util[0]["agreed_days"], util[0]["worked_days"]) == ("0", "0")
    assert [d["id"] for d in mini.json("deployment", "list", "--status", "cancelled")] == [did]
    assert mini.json("deployment", "list", "--status", "active") == []
    assert [a for a, _, _ in audit(mini, "day_log")] == ["insert", "insert", "delete", "delete"]
    assert audit(mini, "deployment")[-1][2] == {"status": "cancelled",
                                                "cancel_reason": "agreed by mistake",
                                                "cancelled_on": TODAY}
    # nothing more can happen to it
    refused(mini, snapshot, 1, f"deployment {did} is already cancelled (on {TODAY})",
            "deployment", "cancel", str(did), "--reason", "again")
    refused(mini, snapshot, 1, f"deployment {did} is cancelled; nothing was logged",
            "log", str(did), "--date", "2026-09-17")
    refused(mini, snapshot, 1, f"deployment {did} was cancelled (on {TODAY}); nothing to edit",
            "deployment", "edit", str(did), "--days", "2")
    refused(mini, snapshot, 1, f"deployment {did} was cancelled (on {TODAY})",
            "deployment", "close", str(did))
    refused(mini, snapshot, 2, "unknown deployment status 'lost' (did you mean 'closed'?)",
            "deployment", "list", "--status", "lost")
    # the request can be matched again
    again = deploy(mini, rid, "L9001")
    assert mini.json("request", "show", str(rid))["status"] == "matched"
    assert mini.json("deployment", "show", str(again))["status"] == "active"


def test_cancel_one_of_two_keeps_the_request_matched_and_refuses_invoiced_days(mini, snapshot):
    rid = request(mini, "131543", "--days", "2", "--received", "2026-09-01")
    a = deploy(mini, rid, "L9001", "--start", "2026-09-14", "--on", "2026-09-10")
    b = deploy(mini, rid, "L9002", "--start", "2026-09-14", "--on", "2026-09-12")
    mini("log", str(a), "--date", "2026-09-15", ok=True)
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    refused(mini, snapshot, 1, f"cannot cancel it: deployment {a} has days on live invoice "
            "S2S-2026-0001; void it first (s2s invoices void NUMBER --reason TEXT)",
            "deployment", "cancel", str(a), "--reason", "x")
    refused(mini, snapshot, 2, "--reason must not be empty", "deployment", "cancel", str(b),
            "--reason", " ")
    refused(mini, snapshot, 1, f"--on 2026-09-11 is before deployment {b} was agreed "
            "(2026-09-12)", "deployment", "cancel", str(b), "--reason", "x", "--on",
            "2026-09-11")
    mini("deployment", "cancel", str(b), "--reason", "leader unwell", "--on", "2026-09-13",
         ok=True)
    req = mini.json("request", "show", str(rid))
    assert (req["status"], req["matched_on"]) == ("matched", "2026-09-10")
    # after a void its days were only ever on a voided invoice: it may be cancelled
    mini("invoices", "void", "S2S-2026-0001", "--reason", "withdrawn", ok=True)
    mini("deployment", "cancel", str(a), "--reason", "withdrawn", ok=True)
    req = mini.json("request", "show", str(rid))
    assert (req["status"], req["matched_on"]) == ("open", None)
    assert query(mini.target, "SELECT count(*) FROM day_log") == [(0,)]
    [credit] = mini.json("invoices", "show", "S2S-CR-2026-0001")
    assert credit["total_pence"] < 0 and credit["lines"][0]["days"] == "1"
    assert mini("db", "check", "--format", "json").exit_code == 0


# --- days once on a voided invoice ------------------------------------------------------------

def test_a_day_only_ever_on_voided_invoices_may_be_edited_or_undone(mini, snapshot):
    did = deploy(mini, request(mini, "131543", "--days", "5"), "L9001", "--rate", "300",
                 "--start", "2026-10-01")
    mini("log", str(did), "--date", "2026-10-05", ok=True)
    mini("log", str(did), "--date", "2026-10-06", ok=True)
    mini("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02", ok=True)
    refused(mini, snapshot, 1, "day 1 is on invoice S2S-2026-0001; void the invoice first "
            "(s2s invoices void S2S-2026-0001 --reason TEXT)", "log", "edit", "1", "--half")
    refused(mini, snapshot, 1, "day 2 is on invoice S2S-2026-0001; void the invoice first "
            "(s2s invoices void S2S-2026-0001 --reason TEXT)", "log", "undo", "2")
    mini("invoices", "void", "S2S-2026-0001", "--reason", "wrong days", ok=True)

    out = mini("log", "edit", "1", "--date", "2026-10-07", "--half", "--note", "pm only",
               ok=True)
    assert out.stderr == ("day 1: changed date, days, note; deployment 1: 1.5 of 5 agreed "
                          "days logged\n")
    mini("log", "undo", "2", ok=True)
    assert [(r["id"], r["date"], r["days"], r["note"]) for r in mini.json("log", "list")] == [
        (1, "2026-10-07", "0.5", "pm only")]
    # the credit note still says what was billed; the audit trail holds the old day and links
    [credit] = mini.json("invoices", "show", "S2S-CR-2026-0001")
    assert [(ln["date_from"], ln["date_to"], ln["days"], ln["amount_pence"])
            for ln in credit["lines"]] == [("2026-10-05", "2026-10-06", "2", -60000)]
    changes = audit(mini, "day_log")
    assert [c for c in changes if "date" in c[2]][-1] == (
        "update", {"date": "2026-10-05", "halves": 2, "note": None},
        {"date": "2026-10-07", "halves": 1, "note": "pm only"})
    assert changes[-1][0] == "delete" and changes[-1][1]["date"] == "2026-10-06"
    assert [a for a, _, _ in audit(mini, "invoice_day") if a == "delete"] == ["delete"] * 2
    [reissued] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-05")
    assert (reissued["total_pence"], reissued["lines"][0]["days"]) == (15000, "0.5")
    assert mini("db", "check", "--format", "json").exit_code == 0


def test_log_edit_rechecks_what_log_checks(mini, snapshot):
    did = deploy(mini, request(mini, "131543", "--days", "1.5"), "L9001", "--start",
                 "2026-10-01", "--end", "2026-11-27")
    other = deploy(mini, request(mini, "131545", "--days", "2"), "L9001", "--start",
                   "2026-10-01")
    mini("log", str(did), "--date", "2026-10-05", ok=True)
    mini("log", str(did), "--date", "2026-10-06", "--half", ok=True)
    mini("log", str(other), "--date", "2026-10-07", "--half", ok=True)
    for args, message in (
            (["1", "--date", "2026-09-30"], f"2026-09-30 is before deployment {did} starts "
             "(2026-10-01)"),
            (["1", "--date", "2026-11-30"], f"2026-11-30 is after deployment {did} ends "
             "(2026-11-27)"),
            (["1", "--date", "2026-10-10"], "2026-10-10 is a Saturday; add --include-weekends "
             "to log weekend work for an SLE"),
            (["1", "--date", "2026-10-07"], "L9001 already has 0.5 day(s) logged on "
             "2026-10-07; 1 more would exceed one day"),
            (["2", "--full"], f"deployment {did} would have 2 of 1.5 agreed days logged; use "
             '--over "reason" to log beyond the agreement'),
            (["99", "--half"], "no day log with id 99")):
        refused(mini, snapshot, 1, message, "log", "edit", *args)
    for args, fragment in ((["1"], "nothing to change"), (["1", "--half", "--full"], "not both"),
                           (["1", "--date", "2026-12-01"], "not worked yet"),
                           (["1", "--activity", "dancing"], "activity"),
                           (["1", "--note", "x\x07"], "control characters")):
        before = snapshot(mini.target)
        out = mini("log", "edit", *args)
        assert out.exit_code == 2 and fragment in out.stderr, (args, out.stderr)
        assert snapshot(mini.target) == before
    mini("log", "edit", "1", "--date", "2026-10-10", "--include-weekends", "--activity",
         "coaching", ok=True)
    mini("log", "edit", "2", "--full", "--over", "extra afternoon agreed", ok=True)
    rows = {r["id"]: r for r in mini.json("log", "list", "--deployment", str(did))}
    assert (rows[1]["date"], rows[1]["activity"], rows[2]["days"]) == ("2026-10-10",
                                                                      "coaching", "1")
    assert query(mini.target, "SELECT over_reason FROM day_log WHERE id = 2") == [
        ("extra afternoon agreed",)]


# --- what `log` refuses -----------------------------------------------------------------------

def test_log_refuses_days_not_worked_yet_weekends_and_bank_holidays(mini, snapshot):
    sle = deploy(mini, request(mini, "131543", "--days", "20"), "L9001", "--start", "2026-09-01")
    nlg = deploy(mini, request(mini, "131543", "--days", "5"), "L9005", "--start", "2026-09-01")
    refused(mini, snapshot, 2, "--date 2026-12-01 is after today (2026-11-30): not worked yet",
            "log", str(sle), "--date", "2026-12-01")
    refused(mini, snapshot, 2, "--to 2026-12-02 is after today (2026-11-30): not worked yet",
            "log", str(sle), "--from", "2026-11-23", "--to", "2026-12-02")
    refused(mini, snapshot, 1, "2026-11-28 is a Saturday; add --include-weekends to log "
            "weekend work for an SLE", "log", str(sle), "--date", "2026-11-28")
    mini("log", str(sle), "--date", "2026-11-29", "--include-weekends", ok=True)  # a Sunday
    mini("log", str(nlg), "--date", "2026-11-28", ok=True)  # NLGs work weekends
    # "today" is the one clock: S2S_TODAY moves it
    mini("log", str(sle), "--date", "2026-12-01", ok=True, env={"S2S_TODAY": "2026-12-01"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("S2S_TODAY", "2027-01-08")
        refused(mini, snapshot, 1, "2026-12-25 is a bank holiday (Christmas Day); add "
                "--include-holidays to log it", "log", str(sle), "--date", "2026-12-25")
        refused(mini, snapshot, 1, "2026-12-28 is a bank holiday (Boxing Day (observed)); add "
                "--include-holidays to log it", "log", str(nlg), "--date", "2026-12-28")
        # a block skips weekends and England's bank holidays, and says which holidays
        block = mini("log", str(sle), "--from", "2026-12-21", "--to", "2027-01-05", ok=True)
        assert "skipped bank holiday(s): 2026-12-25 Christmas Day, 2026-12-28 Boxing Day " \
               "(observed), 2027-01-01 New Year's Day (--include-holidays to log them)" \
               in block.stderr
        dates = [r["date"] for r in mini.json("log", "list", "--deployment", str(sle),
                                              "--from", "2026-12-21")]
        assert dates == ["2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24", "2026-12-29",
                         "2026-12-30", "2026-12-31", "2027-01-04",
                         "2027-01-05"]
        mini("log", str(nlg), "--date", "2026-12-25", "--include-holidays", "--half", ok=True)
    # a block of bank holidays only, and a weekend block without --include-weekends
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("S2S_TODAY", "2027-04-30")
        refused(mini, snapshot, 2, "no working days from 2027-03-26 to 2027-03-29 (add "
                "--include-weekends for weekend work, --include-holidays for bank holidays)",
                "log", str(sle), "--from", "2027-03-26", "--to", "2027-03-29")
        ids = mini.json("log", str(sle), "--from", "2027-03-26", "--to", "2027-03-29",
                        "--include-holidays")["ids"]
        assert len(ids) == 2  # Good Friday and Easter Monday, not the weekend between
