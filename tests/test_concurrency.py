"""Several processes writing one SQLite file at once: coordinators logging days for the same
leader on the same dates while others issue invoices and take a backup.

Each worker is a separate Python process running the real `s2s` commands (its own engine and
connections); they start together behind a barrier so their writes really overlap.  Afterwards:
no "database is locked" reached anyone, every write reported as done is in the database, the
leader never has more than one day on a date, no day is on two live invoices, numbers are
gapless, and `s2s db check` passes - on the database and on the backup taken mid-way."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import MINI, Run

pytestmark = pytest.mark.slow

DATES = ["2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08", "2026-10-09",
         "2026-10-12", "2026-10-13", "2026-10-14", "2026-10-15", "2026-10-16"]

WORKER = textwrap.dedent("""
    import contextlib, io, json, os, sys, time
    from s2s_cli.cli import app

    db, go, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    results = []
    open(f"{go}.ready.{os.getpid()}", "w").close()  # imported: ready to start
    while not os.path.exists(go):  # start together
        time.sleep(0.005)
    for args in plan:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                app(args=["--db", db, *args], prog_name="s2s")
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        results.append({"args": args, "code": code, "out": out.getvalue(),
                        "err": err.getvalue()})
    print(json.dumps(results))
""")


def start_together(go: Path, procs: list[subprocess.Popen[str]], timeout: float = 120) -> None:
    """Wait until every worker has imported and is waiting (its ready file), then let them
    all go at once: on a loaded machine a fixed pause lets some start long after others."""
    deadline = time.monotonic() + timeout
    while len(list(go.parent.glob(go.name + ".ready.*"))) < len(procs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            break  # a worker died or hung: its own failure is reported when it is read
        time.sleep(0.01)
    go.touch()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("S2S_RAISE_ERRORS", None)  # what users see
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


@pytest.fixture
def contested(sqlite_db: str) -> Run:
    """L9004 (NLE, 60 days' capacity) deployed twice, to two schools, from 1 October."""
    run = Run(sqlite_db)
    run("db", "init", "--demo", ok=True)
    run("seed", "load", str(MINI), ok=True)
    for school in ("131543", "131545"):
        rid = run("request", "log", "--school", school, "--need", "leadership-and-management",
                  ok=True).stdout.strip()
        run("deploy", rid, "--leader", "L9004", "--days", "20", "--start", "2026-10-01",
            ok=True)
    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()
    return run


def _plans() -> list[list[list[str]]]:
    """Four workers: two per deployment, full and half days over the same dates (only some
    can fit), invoice runs in between."""
    plans = []
    for w in range(4):
        dep = str(1 + w % 2)
        plan: list[list[str]] = []
        for i, date in enumerate(DATES):
            half = ["--half"] if (w + i) % 3 == 0 else []
            plan.append(["log", dep, "--date", date, *half, "--note", f"worker {w}"])
            if i in (3, 7) and w in (0, 3):
                # one issue date for every run: dates may not go back (numbers follow dates)
                plan.append(["invoice", "--month", "2026-10", "--issue", "--date",
                             "2026-10-31"])
        plans.append(plan)
    return plans


def test_concurrent_logging_and_invoicing_lose_nothing(contested, sqlite_db, tmp_path):
    go = tmp_path / "go"
    env = _env()
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, sqlite_db, str(go),
                                 json.dumps(plan)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
               for plan in _plans()]
    # plain `python -m s2s_cli` processes too: two invoice runs and a backup, mid-flight
    backup_path = tmp_path / "during.db"
    cli_cmds = [
        ["invoice", "--month", "2026-10", "--issue", "--date", "2026-10-31"],
        ["invoice", "--month", "2026-10", "--issue", "--date", "2026-10-31"],
        ["db", "backup", str(backup_path)],
    ]
    start_together(go, workers)
    started = time.monotonic()
    time.sleep(0.15)
    singles = [subprocess.Popen([sys.executable, "-m", "s2s_cli", "--db", sqlite_db, *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env) for cmd in cli_cmds]
    results = []
    for proc in workers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        results += json.loads(out)
    for cmd, proc in zip(cli_cmds, singles, strict=True):
        out, err = proc.communicate(timeout=120)
        results.append({"args": cmd, "code": proc.returncode, "out": out, "err": err})
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"took {elapsed:.1f}s"

    # nobody saw the database locked; every refusal was a domain refusal, on one line
    for r in results:
        assert "locked" not in r["err"] and "busy" not in r["err"], r
        assert "Traceback" not in r["err"] and "unexpected" not in r["err"].lower(), r
        assert r["code"] in (0, 1), r
        if r["code"] == 1:
            assert r["err"].startswith("Error: ") and r["err"].count("\n") == 1, r
            assert r["args"][0] == "log", r  # invoicing never fails under contention

    conn = sqlite3.connect(sqlite_db)
    try:
        logged = {row[0]: row for row in conn.execute(
            "SELECT id, deployment_id, date, halves, note FROM day_log")}
        # no write lost: every id a successful `log` printed is there, as asked
        accepted = 0
        for r in results:
            if r["args"][0] != "log" or r["code"] != 0:
                continue
            ids = [int(x) for x in r["out"].split()]
            assert len(ids) == 1, r
            row = logged[ids[0]]
            accepted += 1
            assert row[1] == int(r["args"][1]) and row[2] == r["args"][3]
            assert row[3] == (1 if "--half" in r["args"] else 2)
            assert row[4] == r["args"][r["args"].index("--note") + 1]
        assert accepted == len(logged)
        assert accepted >= len(DATES)  # every date got at least one day
        # the leader never has more than a day on a date
        over = conn.execute("SELECT date, sum(halves) FROM day_log GROUP BY leader_id, date "
                            "HAVING sum(halves) > 2").fetchall()
        assert over == []
        # every day is invoiced at most once, and each invoice run's days are all billed
        twice = conn.execute(
            "SELECT x.day_log_id FROM invoice_day x JOIN invoice i ON i.id = x.invoice_id "
            "WHERE i.voided_by_id IS NULL AND i.series = 'invoice' GROUP BY x.day_log_id "
            "HAVING count(*) > 1").fetchall()
        assert twice == []
        seqs = [r[0] for r in conn.execute(
            "SELECT seq FROM invoice WHERE series = 'invoice' ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1)) and seqs
        billed = conn.execute("SELECT coalesce(sum(amount_pence), 0) FROM invoice_line"
                              ).fetchone()[0]
        invoiced_halves = conn.execute(
            "SELECT coalesce(sum(halves), 0) FROM day_log WHERE invoice_id IS NOT NULL"
        ).fetchone()[0]
        assert billed == invoiced_halves * 25000  # NLE £500 a day, £250 a half day
    finally:
        conn.close()
    # the audit trail recorded every accepted day with its command
    audit = Run(sqlite_db).json("audit", "--table", "day_log", "--limit", "100000")
    inserted = {r["record_id"] for r in audit if r["action"] == "insert"}
    assert inserted == {str(i) for i in logged}
    assert {r["command"] for r in audit if r["action"] == "insert"} == {"s2s log add"}
    assert Run(sqlite_db)("db", "check").exit_code == 0
    # the backup taken while all this was going on is a consistent database
    assert backup_path.exists()
    assert Run(str(backup_path))("db", "check").exit_code == 0


def test_two_seed_loads_and_an_erase_at_once(contested, sqlite_db, tmp_path):
    """Directory writes contend too: two seed loads and an erasure, all complete."""
    go = tmp_path / "go"
    env = _env()
    plans = [[["seed", "load", str(MINI)]] * 3,
             [["seed", "load", str(MINI)]] * 3,
             [["leader", "erase", "L9006", "--confirm"], ["log", "1", "--date", "2026-10-05"]]]
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, sqlite_db, str(go),
                                 json.dumps(plan)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for plan in plans]
    start_together(go, workers)
    for proc in workers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        for r in json.loads(out):
            assert r["code"] == 0, r
            assert "locked" not in r["err"], r
    run = Run(sqlite_db)
    shown = run.json("leader", "show", "L9006")
    assert shown["name"] == "[erased L9006]"  # a later seed load never brings it back
    assert run("db", "check").exit_code == 0
