"""Money in and out under concurrent writers: four processes record payments against the same
invoice at once while two settle the same home school's supply cover.  Whatever order they run
in, the invoice is never overpaid (the invoice row is locked, `SELECT ... FOR UPDATE`, before its
balance is read), the home school is never paid more than it is owed (its school row is locked
the same way), every payment reported done is in the database, and `s2s db check` passes.
Runs on SQLite (`BEGIN IMMEDIATE` serialises the writers), and on PostgreSQL when
S2S_TEST_PG_URL is set (the `billed` fixture is then a PostgreSQL database)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests import test_payments
from tests.conftest import query
from tests.test_concurrency import WORKER, _env, start_together

# The real commands, with a pause between reading a balance and writing against it, so that
# every writer is inside that window at once: only the row lock keeps them from all seeing the
# same balance (take the lock away and this test overpays).
SLOW_WORKER = """
import time
from s2s_cli.services import payments, remittance
_balance, _settled = payments._balance, remittance.settled_total
def slow_balance(*a, **k):
    out = _balance(*a, **k); time.sleep(0.15); return out
def slow_settled(*a, **k):
    out = _settled(*a, **k); time.sleep(0.15); return out
payments._balance, remittance.settled_total = slow_balance, slow_settled
""" + WORKER

pytestmark = pytest.mark.slow

billed = test_payments.billed  # S2S-2026-0001: Bolton, £920; Plymouth Sound owed £782 cover


def test_concurrent_payments_never_overpay_an_invoice(billed, tmp_path):
    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()
    target = billed.target
    go = tmp_path / "go"
    plans = [[["invoices", "pay", "S2S-2026-0001", "--amount", "100", "--date", "2026-10-20",
               "--ref", f"worker {w} #{i}"] for i in range(5)] for w in range(4)]
    plans += [[["remittance", "settle", "131545", "--amount", "100", "--date", "2026-10-20",
                "--ref", f"PSA {w}-{i}"] for i in range(5)] for w in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", SLOW_WORKER, target, str(go),
                               json.dumps(plan)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**_env(), "S2S_TODAY": "2026-10-25"}) for plan in plans]
    start_together(go, procs)
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        results += json.loads(out)
    for r in results:
        assert "locked" not in r["err"] and "busy" not in r["err"], r
        assert "Traceback" not in r["err"] and "unexpected" not in r["err"].lower(), r
        assert r["code"] in (0, 1), r
        if r["code"] == 1:
            assert ("more than the" in r["err"] or "paid in full" in r["err"]
                    or "settled in full" in r["err"]), r
    paid = [r for r in results if r["args"][0] == "invoices" and r["code"] == 0]
    settled = [r for r in results if r["args"][0] == "remittance" and r["code"] == 0]
    # £920 takes nine payments of £100 (the tenth would overpay); £782 takes seven
    assert len(paid) == 9 and len(settled) == 7
    rows = query(target, "SELECT id, amount_pence, ref FROM payment ORDER BY id")
    assert sum(r[1] for r in rows) == 90000
    assert {int(r["out"]) for r in paid} == {r[0] for r in rows}  # every id printed is there
    assert query(target, "SELECT SUM(amount_pence) FROM supply_settlement")[0][0] == 70000
    [bolton] = [r for r in billed.json("invoices", "list") if r["number"] == "S2S-2026-0001"]
    assert (bolton["status"], bolton["balance_pence"]) == ("part-paid", 2000)
    assert billed("db", "check").exit_code == 0
