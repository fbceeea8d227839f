"""Getting paid: payments and reversals, invoice statuses, debtors' aging and statements, with
hand-worked amounts, every refusal leaving the database as it was, and a property over random
sequences of issues, credit notes, payments and reversals."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Run, query
from tests.test_invoicing import deploy, log

BOLTON, PLYMOUTH = "Bolton High School", "Plymouth Sound Academy"


@pytest.fixture
def billed(mini: Run, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Two September invoices issued 1 October 2026, due 29 October: Bolton £920 (LLE at a
    negotiated £420/£250: 1 day + 2 halves) and Plymouth £875 (SLE card: 2.5 days); the clock
    then stands at 25 October."""
    return bill_september(mini, monkeypatch)


def bill_september(mini: Run, monkeypatch: pytest.MonkeyPatch, *, po: str | None = None) -> Run:
    """The `billed` fixture's work; `po` is Bolton's purchase order on its deployment."""
    monkeypatch.setenv("S2S_TODAY", "2026-10-01")
    lle = deploy(mini, school=131543, leader="L9006", days="3", rate="420", half="250")
    if po:
        mini("deployment", "edit", str(lle), "--po", po, ok=True)
    log(mini, lle, "2026-09-07")
    log(mini, lle, "2026-09-08", "2026-09-09", half=True)
    sle = deploy(mini, school=131545, leader="L9002", days="3")
    log(mini, sle, "2026-09-14", "2026-09-15")
    log(mini, sle, "2026-09-16", half=True)
    issued = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert [(i["number"], i["payer"], i["total_pence"], i["due"]) for i in issued] == [
        ("S2S-2026-0001", BOLTON, 92000, "2026-10-29"),
        ("S2S-2026-0002", PLYMOUTH, 87500, "2026-10-29")]
    monkeypatch.setenv("S2S_TODAY", "2026-10-25")  # the clock for the tests: not yet due
    return mini


def account(run: Run, number: str) -> tuple[str, int, int]:
    rows = {r["number"]: r for r in run.json("invoices", "list")}
    r = rows[number]
    return r["status"], r["paid_pence"], r["balance_pence"]


def at(run: Run, today: str, *args: str) -> Any:
    """`--format json` output with the clock ($S2S_TODAY) at `today`."""
    return json.loads(run(*args, "--format", "json", ok=True, env={"S2S_TODAY": today}).stdout)


def pay(run: Run, number: str, amount: str, date: str, *extra: str) -> int:
    return int(run("invoices", "pay", number, "--amount", amount, "--date", date, *extra,
                   ok=True).stdout.strip())


# --------------------------------------------------------------------------- hand-worked

def test_part_payments_to_a_zero_balance(billed: Run) -> None:
    assert account(billed, "S2S-2026-0001") == ("issued", 0, 92000)
    first = pay(billed, "S2S-2026-0001", "500", "2026-10-10", "--method", "bacs",
                "--ref", "BACS 88123")
    assert account(billed, "S2S-2026-0001") == ("part-paid", 50000, 42000)
    second = pay(billed, "S2S-2026-0001", "£419.99", "2026-10-20", "--method", "cheque")
    assert account(billed, "S2S-2026-0001") == ("part-paid", 91999, 1)
    last = pay(billed, "s2s-2026-0001", "0.01", "2026-10-21", "--method", "card")
    assert (first, second, last) == (1, 2, 3)
    assert account(billed, "S2S-2026-0001") == ("paid", 92000, 0)
    shown = billed.json("invoices", "show", "S2S-2026-0001")[0]
    assert (shown["status"], shown["paid_pence"], shown["balance_pence"]) == ("paid", 92000, 0)
    assert [(p["id"], p["date"], p["amount_pence"], p["method"], p["ref"])
            for p in shown["payments"]] == [
        (1, "2026-10-10", 50000, "bacs", "BACS 88123"), (2, "2026-10-20", 41999, "cheque", None),
        (3, "2026-10-21", 1, "card", None)]
    table = billed("invoices", "show", "S2S-2026-0001", "--format", "table", ok=True).stdout
    assert "BACS 88123" in table and "Balance £0.00 (paid)" in table
    # paid stays paid after the due date; the other one, unpaid, is overdue
    after = {r["number"]: r["status"] for r in at(billed, "2026-10-30", "invoices", "list")}
    assert after == {"S2S-2026-0001": "paid", "S2S-2026-0002": "overdue"}
    assert [r["number"] for r in billed.json("invoices", "list", "--status", "paid")] == [
        "S2S-2026-0001"]
    assert billed.json("invoices", "list", "--overdue") == []  # 25 October: nothing due yet
    assert [r["number"] for r in at(billed, "2026-10-30", "invoices", "list", "--overdue")] == [
        "S2S-2026-0002"]


def test_unpay_writes_a_reversal_and_reopens_the_balance(billed: Run, db) -> None:
    pid = pay(billed, "S2S-2026-0002", "875", "2026-10-15")
    assert account(billed, "S2S-2026-0002") == ("paid", 87500, 0)
    rid = int(billed("invoices", "unpay", str(pid), "--reason", "cheque bounced",
                     "--date", "2026-10-18", ok=True).stdout.strip())
    assert account(billed, "S2S-2026-0002") == ("issued", 0, 87500)
    rows = query(db, "SELECT id, amount_pence, reverses_id, reason FROM payment ORDER BY id")
    assert [tuple(r) for r in rows] == [(pid, 87500, None, None),
                                        (rid, -87500, pid, "cheque bounced")]
    audited = query(db, "SELECT action, command FROM audit_log WHERE table_name = 'payment' "
                    "ORDER BY id")
    assert [r[0] for r in audited] == ["insert", "insert"]
    assert "unpay" in audited[1][1]
    shown = billed.json("invoices", "show", "S2S-2026-0002")[0]["payments"]
    assert [(p["id"], p["reversed_by"], p["reverses"]) for p in shown] == [
        (pid, rid, None), (rid, None, pid)]


def test_a_part_paid_invoice_is_credited_only_once_its_payments_are_reversed(
        billed: Run, snapshot, db) -> None:
    pid = pay(billed, "S2S-2026-0001", "200", "2026-10-05")
    before = snapshot(db)
    refused = billed("invoices", "void", "S2S-2026-0001", "--reason", "wrong rate")
    assert refused.exit_code == 1 and "£200.00 paid" in refused.stderr
    assert snapshot(db) == before
    billed("invoices", "unpay", str(pid), "--reason", "to be re-billed", ok=True)
    early = billed("invoices", "void", "S2S-2026-0001", "--reason", "wrong rate", "--date",
                   "2026-10-24")
    assert early.exit_code == 1 and "before the last payment or reversal" in early.stderr
    billed("invoices", "void", "S2S-2026-0001", "--reason", "wrong rate", ok=True)
    rows = {r["number"]: r for r in billed.json("invoices", "list")}
    void, credit = rows["S2S-2026-0001"], rows["S2S-CR-2026-0001"]
    # the credit note takes the balance to nothing: invoice 920 - credit 920 - paid (200-200)
    assert (void["status"], void["paid_pence"], void["balance_pence"]) == ("void", 0, 0)
    assert (credit["status"], credit["total_pence"]) == ("credit", -92000)
    statement = billed.json("statement", "Bolton")
    assert [(r["type"], r["debit_pence"], r["credit_pence"], r["balance_pence"])
            for r in statement] == [
        ("invoice", 92000, 0, 92000), ("payment", 0, 20000, 72000),
        ("reversal", 20000, 0, 92000), ("credit note", 0, 92000, 0)]
    assert billed.json("debtors") == [{
        "payer": PLYMOUTH, "payer_school_urn": 131545, "invoices": 1, "not_due_pence": 87500,
        "d1_30_pence": 0, "d31_60_pence": 0, "d61_90_pence": 0, "d90_plus_pence": 0,
        "total_pence": 87500}]


def test_the_week_overview_lists_only_invoices_with_money_still_owed(billed: Run) -> None:
    def unpaid() -> list[str]:
        return [i["number"] for i in billed.json("week")["invoices_unpaid"]]

    assert unpaid() == ["S2S-2026-0001", "S2S-2026-0002"]
    pay(billed, "S2S-2026-0001", "919.99", "2026-10-20")
    assert unpaid() == ["S2S-2026-0001", "S2S-2026-0002"]  # a penny still owed
    last = pay(billed, "S2S-2026-0001", "0.01", "2026-10-21")
    assert unpaid() == ["S2S-2026-0002"]
    billed("invoices", "unpay", str(last), "--reason", "recorded twice", ok=True)
    assert unpaid() == ["S2S-2026-0001", "S2S-2026-0002"]


def test_debtors_age_across_the_buckets_as_the_clock_moves(billed: Run) -> None:
    pay(billed, "S2S-2026-0001", "120", "2026-10-10")  # Bolton owes £800
    # due 29 October: on the due date not yet overdue; the day after, 1 day late
    steps = {"2026-10-29": "not_due_pence", "2026-10-30": "d1_30_pence",
             "2026-11-28": "d1_30_pence", "2026-11-29": "d31_60_pence",
             "2026-12-28": "d31_60_pence", "2026-12-29": "d61_90_pence",
             "2027-01-27": "d61_90_pence", "2027-01-28": "d90_plus_pence"}
    for today, bucket in steps.items():
        rows = at(billed, today, "debtors")
        assert [(r["payer"], r[bucket], r["total_pence"]) for r in rows] == [
            (BOLTON, 80000, 80000), (PLYMOUTH, 87500, 87500)], today
        assert all(sum(r[k] for k in BUCKETS) == r["total_pence"] for r in rows)
    # --as-of looks back: before the payment Bolton owed all £920
    rows = at(billed, "2027-03-01", "debtors", "--as-of", "2026-10-05")
    assert [(r["payer"], r["not_due_pence"]) for r in rows] == [(BOLTON, 92000),
                                                                 (PLYMOUTH, 87500)]
    assert billed.json("debtors", "--as-of", "2026-09-30") == []  # before anything was issued
    text = billed("debtors", "--format", "csv", env={"S2S_TODAY": "2026-11-15"}, ok=True).stdout
    got = list(csv.DictReader(io.StringIO(text)))
    assert list(got[0]) == ["payer", "payer_school_urn", "invoices", *BUCKETS, "total_pence"]
    assert (got[0]["payer"], got[0]["d1_30_pence"]) == (BOLTON, "80000")
    table = billed("debtors", "--format", "table", env={"S2S_TODAY": "2026-11-15"},
                   ok=True).stdout
    assert "£1,675.00 outstanding" in table


def test_statement_with_opening_balance_and_running_balance(billed: Run, monkeypatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2026-11-10")
    pay(billed, "S2S-2026-0002", "375", "2026-10-12", "--ref", "REMIT 7")
    pay(billed, "S2S-2026-0002", "500", "2026-11-02")
    rows = billed.json("statement", "131545")
    assert [(r["date"], r["type"], r["reference"], r["balance_pence"]) for r in rows] == [
        ("2026-10-01", "invoice", "S2S-2026-0002", 87500),
        ("2026-10-12", "payment", "1", 50000), ("2026-11-02", "payment", "2", 0)]
    assert rows[1]["detail"] == "S2S-2026-0002 bacs REMIT 7"
    later = billed.json("statement", "plymouth", "--from", "2026-11-01")
    assert [(r["type"], r["balance_pence"]) for r in later] == [("opening balance", 50000),
                                                                ("payment", 0)]
    text = billed("statement", PLYMOUTH, "--format", "csv", ok=True).stdout
    assert text.splitlines()[0] == ("date,type,reference,detail,debit_pence,credit_pence,"
                                    "balance_pence")


# --------------------------------------------------------------------------- refusals

BUCKETS = ("not_due_pence", "d1_30_pence", "d31_60_pence", "d61_90_pence", "d90_plus_pence")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["pay", "S2S-2026-0001", "--amount", "920.01", "--date", "2026-10-02"], 1,
     "more than the £920.00 outstanding"),
    (["pay", "S2S-2026-0002", "--amount", "10", "--date", "2026-10-02"], 1, "is void"),
    (["pay", "S2S-CR-2026-0001", "--amount", "10", "--date", "2026-10-02"], 1,
     "is a credit note"),
    (["pay", "S2S-2026-0001", "--amount", "10", "--date", "2026-09-30"], 1,
     "before invoice S2S-2026-0001 was issued"),
    (["pay", "S2S-2026-0099", "--amount", "10"], 1, "no invoice numbered"),
    (["pay", "S2S-2026-0001", "--amount", "0"], 2, "more than £0.00"),
    (["pay", "S2S-2026-0001", "--amount", "-5"], 2, "--amount"),
    (["pay", "S2S-2026-0001", "--amount", "1.005"], 2, "--amount"),
    (["pay", "S2S-2026-0001", "--amount", "10", "--method", "gold"], 2, "--method"),
    (["pay", "S2S-2026-0001", "--amount", "10", "--date", "2026-02-30"], 2, "--date"),
    (["pay", "S2S-2026-0001", "--amount", "10", "--date", "2026-10-26"], 2,
     "is after today (2026-10-25)"),
    (["pay", "S2S-2026-0001", "--amount", "1,0"], 2, "commas may only group thousands"),
    (["pay", "S2S-2026-0001", "--amount", "£1,00"], 2, "commas may only group thousands"),
    (["pay", "S2S-2026-0001", "--amount", ",100"], 2, "commas may only group thousands"),
    (["pay", "S2S-2026-0001", "--amount", "100,"], 2, "commas may only group thousands"),
    (["pay", "S2S-2026-0001", "--amount", "1,,000"], 2, "commas may only group thousands"),
    (["unpay", "1", "--reason", "x", "--date", "2026-09-30"], 1,
     "before payment 1 was made (2026-10-01)"),
    (["unpay", "99", "--reason", "x"], 1, "no payment 99"),
    (["unpay", "1", "--reason", "   "], 2, "--reason"),
    (["list", "--status", "owing"], 2, "--status must be one of"),
])
def test_refusals_leave_the_database_unchanged(billed: Run, snapshot, db, args: list[str],
                                               code: int, message: str) -> None:
    billed("invoices", "void", "S2S-2026-0002", "--reason", "duplicate", ok=True)
    pay(billed, "S2S-2026-0001", "0.01", "2026-10-01")  # payment 1; 919.99 outstanding
    if "920.01" in args:
        args = [a.replace("920.01", "919.99") if a == "920.01" else a for a in args]
        args[3] = "920.00"
        message = "more than the £919.99 outstanding"
    before = snapshot(db)
    result = billed("invoices", *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(db) == before


def test_money_with_grouped_thousands_is_paid_exactly(billed: Run) -> None:
    pay(billed, "S2S-2026-0001", "£0.50", "2026-10-02")  # Bolton owes £920
    assert account(billed, "S2S-2026-0001") == ("part-paid", 50, 91950)
    refused = billed("invoices", "pay", "S2S-2026-0001", "--amount", "1,0")
    assert refused.exit_code == 2 and "commas may only group thousands" in refused.stderr
    assert account(billed, "S2S-2026-0001") == ("part-paid", 50, 91950)
    over = billed("invoices", "pay", "S2S-2026-0001", "--amount", "1,000")
    assert over.exit_code == 1 and "more than the £919.50 outstanding" in over.stderr
    pay(billed, "S2S-2026-0001", "919.50", "2026-10-03")
    assert account(billed, "S2S-2026-0001") == ("paid", 92000, 0)


def test_a_payment_is_not_reversed_on_a_date_before_it(billed: Run, snapshot, db) -> None:
    pid = pay(billed, "S2S-2026-0002", "875", "2026-10-15")
    before = snapshot(db)
    early = billed("invoices", "unpay", str(pid), "--reason", "bounced", "--date",
                   "2026-10-14")
    assert early.exit_code == 1, early.stderr
    assert f"before payment {pid} was made (2026-10-15)" in early.stderr
    assert len(early.stderr.strip().splitlines()) == 1 and snapshot(db) == before
    billed("invoices", "unpay", str(pid), "--reason", "bounced", "--date", "2026-10-15",
           ok=True)
    dates = [str(r[0])[:10] for r in query(db, "SELECT date FROM payment ORDER BY id")]
    assert dates == ["2026-10-15", "2026-10-15"]


def test_paying_in_full_twice_and_reversing_twice_are_refused(billed: Run, snapshot,
                                                              db) -> None:
    pid = pay(billed, "S2S-2026-0001", "920", "2026-10-03")
    before = snapshot(db)
    again = billed("invoices", "pay", "S2S-2026-0001", "--amount", "1")
    assert again.exit_code == 1 and "already paid in full" in again.stderr
    assert snapshot(db) == before
    rid = int(billed("invoices", "unpay", str(pid), "--reason", "wrong invoice",
                     ok=True).stdout.strip())
    before = snapshot(db)
    for target, words in ((pid, "already reversed"), (rid, "itself a reversal")):
        result = billed("invoices", "unpay", str(target), "--reason", "again")
        assert result.exit_code == 1 and words in result.stderr
    assert snapshot(db) == before


def test_a_void_dated_before_the_issue_is_refused_like_other_date_orders(billed: Run,
                                                                         snapshot, db) -> None:
    before = snapshot(db)
    early = billed("invoices", "void", "S2S-2026-0001", "--reason", "x", "--date",
                   "2026-09-30")
    assert early.exit_code == 1, early.stderr
    assert "before the invoice's issue date 2026-10-01" in early.stderr
    assert snapshot(db) == before


def test_invoice_for_a_payer_matching_nothing_is_refused(billed: Run, snapshot, db) -> None:
    from tests.test_invoicing import log

    log(billed, 1, "2026-10-05")  # Bolton has an October day to invoice
    before = snapshot(db)
    for extra in ((), ("--issue",)):
        got = billed("invoice", "--month", "2026-10", "--payer", "zzzz", *extra)
        assert got.exit_code == 1, got.stderr
        assert "no payer matching 'zzzz' in this period" in got.stderr and BOLTON in got.stderr
        assert len(got.stderr.strip().splitlines()) == 1 and snapshot(db) == before
    [draft] = billed.json("invoice", "--month", "2026-10", "--payer", "bolton high school")
    assert draft["total_pence"] == 42000
    # a period with nothing at all to invoice (September is all issued): said so, as before
    for extra in ((), ("--issue",)):
        quiet = billed("invoice", "--month", "2026-09", "--payer", "zzzz", *extra)
        assert quiet.exit_code == 0, quiet.stderr
    assert "nothing new to invoice" in billed("invoice", "--month", "2026-09", "--payer",
                                              "zzzz", "--issue").stderr


def test_statement_and_debtors_refuse_bad_input(billed: Run) -> None:
    assert billed("statement", "Nowhere Academy").exit_code == 1
    assert billed("statement", "o").exit_code == 2  # Bolton and Plymouth both match
    assert billed("debtors", "--as-of", "2026-13-01").exit_code == 2


# --------------------------------------------------------------------------- property

OPS = st.lists(st.tuples(st.sampled_from(["pay", "pay", "unpay", "void", "issue"]),
                         st.integers(0, 5), st.integers(1, 100_000)), max_size=12)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_balances_never_negative_and_buckets_sum(billed: Run, tmp_path, ops) -> None:
    """Random payments, reversals, voids and re-issues of what the voids freed: each invoice's
    balance is its total - credit notes - payments, never negative; each payer's debtors
    total is the sum of its balances, its buckets sum to that, and its statement closes on it.
    (SQLite: each example runs on a fresh copy of the two-invoice database.)"""
    import shutil

    from s2s_cli import db as dbmod

    if "://" in billed.target:
        pytest.skip("the property copies an SQLite file per example")
    base = tmp_path / "base.db"
    if not base.exists():
        billed("invoices", "list", ok=True)
        for engine in dbmod._ENGINES.values():
            engine.dispose()
        shutil.copy(billed.target, base)
    path = tmp_path / "example.db"
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"example.db{suffix}").unlink(missing_ok=True)
    shutil.copy(base, path)
    run = Run(str(path))
    try:
        _play(run, ops)
    finally:
        engine = dbmod._ENGINES.pop(dbmod.location.sqlalchemy_url(str(path)), None)
        if engine is not None:
            engine.dispose()


def _play(run: Run, ops: list[tuple[str, int, int]]) -> None:
    for op, which, n in ops:
        numbers = [r["number"] for r in run.json("invoices", "list") if not r["credits"]]
        number = numbers[which % len(numbers)]
        if op == "pay":
            run("invoices", "pay", number, "--amount", f"{n / 100:.2f}", "--date",
                "2026-10-15")
        elif op == "unpay":
            live = [p["id"] for p in run.json("invoices", "show", number)[0]["payments"]
                    if p["reverses"] is None and p["reversed_by"] is None]
            if live:
                run("invoices", "unpay", str(live[n % len(live)]), "--reason", "test")
        elif op == "void":
            run("invoices", "void", number, "--reason", "test", "--date", "2026-10-16")
        else:
            run("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-16")
    docs = run.json("invoices", "list")
    per: dict[str, int] = {}
    for d in docs:
        if d["status"] == "credit":
            continue
        paid = sum(p["amount_pence"]
                   for p in run.json("invoices", "show", d["number"])[0]["payments"])
        credits = -sum(c["total_pence"] for c in docs if c["credits"] == d["number"])
        assert d["balance_pence"] == d["total_pence"] - credits - paid >= 0
        assert d["paid_pence"] == paid
        per[d["payer"]] = per.get(d["payer"], 0) + d["balance_pence"]
    for today in ("2026-10-25", "2026-12-15", "2027-06-01"):  # every row dated by then
        owed = at(run, today, "debtors")
        assert {r["payer"]: r["total_pence"] for r in owed} == {
            k: v for k, v in per.items() if v > 0}
        for r in owed:
            assert sum(r[k] for k in BUCKETS) == r["total_pence"]
    assert {p: run.json("statement", p)[-1]["balance_pence"] for p in per} == per
