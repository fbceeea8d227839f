"""Several coordinators on one PostgreSQL server at once.

Real processes (`python -m s2s_cli --db URL ...`) log days for the same leader on overlapping
dates and issue invoices at the same moment.  Nothing may be lost, no leader may end up with
more than one day on a date, no day may be invoiced twice, and invoice numbers stay gapless.
Runs only when S2S_TEST_PG_URL points at a PostgreSQL database (`.ci/run` starts one)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, Run

pytestmark = [
    pytest.mark.pg, pytest.mark.slow,
    pytest.mark.skipif(not (PG_URL and PG_URL.startswith("postgresql")),
                       reason="needs S2S_TEST_PG_URL=postgresql+psycopg://... (see .ci/run)"),
]

MARCH = [dt.date(2026, 3, d) for d in (2, 3, 4, 5)]
BUSY_WORDS = ("database error", "busy", "Traceback", "deadlock", "could not serialize")


def s2s(target: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("S2S_DB", "S2S_RAISE_ERRORS")}
    env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, "-m", "s2s_cli", "--db", target, "--as", "ci",
                           *args], capture_output=True, text=True, env=env, timeout=300)


def run_parallel(jobs: list[list[list[str]]], target: str) -> list[tuple[list[str], Any]]:
    """Each job is a list of commands run one after another; the jobs run at the same time
    (one thread each, every command its own process)."""
    results: list[tuple[list[str], Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(jobs))

    def worker(commands: list[list[str]]) -> None:
        start.wait()
        for args in commands:
            proc = s2s(target, *args)
            with lock:
                results.append((args, proc))

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def new_id(run: Run, *args: str) -> int:
    result = run(*args, "--format", "json", ok=True)
    return int(json.loads(result.stdout)["id"])


@pytest.fixture
def brokered(mini: Run) -> dict[str, Any]:
    """L9001 deployed at three schools, L9004 at two; two requests paid by grant funders."""
    deps: dict[str, Any] = {"L9001": [], "L9004": []}
    plan = [("L9001", 131543, "school", None), ("L9001", 131544, "school", None),
            ("L9001", 131545, "grant", "Tamar Maths Hub"),
            ("L9004", 131542, "school", None), ("L9004", 131545, "grant", "Northern Fund")]
    for leader, urn, funding, funder in plan:
        req = ["request", "log", "--school", str(urn), "--need", "achievement",
               "--specialism", "phonics", "--days", "5", "--funding", funding,
               "--received", "2026-02-02"]
        if funder:
            req += ["--funder", funder]
        rid = new_id(mini, *req)
        did = new_id(mini, "deploy", str(rid), "--leader", leader, "--days", "5", "--start",
                     "2026-03-02", "--end", "2026-03-31", "--work", "coaching")
        deps[leader].append(did)
    return {"run": mini, "deployments": deps}


def test_concurrent_logging_and_invoicing(brokered: dict[str, Any]) -> None:
    run: Run = brokered["run"]
    target = run.target
    l1, l4 = brokered["deployments"]["L9001"], brokered["deployments"]["L9004"]
    rng = random.Random(6)

    # --- phase 1: four coordinators log L9001's days on the same dates, at once ----------
    jobs: list[list[list[str]]] = []
    for i in range(4):
        dates = MARCH[:]
        rng.shuffle(dates)
        dep = l1[i % 3]
        half = ["--half"] if i % 2 else []
        jobs.append([["log", str(dep), "--date", d.isoformat(), *half, "--over", "ci test"]
                     for d in dates])
    # ... while two others log L9004's days (no conflicts: every one must succeed)
    jobs.append([["log", str(l4[0]), "--date", d.isoformat()] for d in MARCH[:2]])
    jobs.append([["log", str(l4[1]), "--date", d.isoformat()] for d in MARCH[2:]])
    results = run_parallel(jobs, target)

    assert len(results) == 4 * len(MARCH) + len(MARCH)
    printed_ids: list[int] = []
    refused = 0
    for args, proc in results:
        assert not any(w in proc.stderr for w in BUSY_WORDS), (args, proc.stderr)
        if proc.returncode == 0:
            printed_ids += [int(x) for x in proc.stdout.split()]
        else:
            assert proc.returncode == 1, (args, proc.stderr)
            assert "exceed one day" in proc.stderr, (args, proc.stderr)
            assert args[1] in {str(d) for d in l1}  # L9004's days never conflict
            refused += 1
    assert refused > 0  # the overlap was real

    engine = create_engine(target)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, leader_id, date, halves FROM day_log ORDER BY id")).all()
            # no lost writes: every id a process printed is there, and nothing else is
            assert sorted(printed_ids) == [r.id for r in rows]
            per_date = Counter()
            for r in rows:
                if r.leader_id == "L9001":
                    per_date[r.date] += r.halves
            # one day per leader per date, and each date got its full day from someone
            assert per_date == dict.fromkeys(MARCH, 2)
            assert sum(1 for r in rows if r.leader_id == "L9004") == len(MARCH)

        # --- phase 2: four coordinators issue March's invoices at the same moment -------
        issue = ["invoice", "--month", "2026-03", "--issue", "--date", "2026-04-01"]
        jobs = [[issue] for _ in range(3)] + [[[*issue, "--school", "131543"]]]
        results = run_parallel(jobs, target)
        for args, proc in results:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
            assert not any(w in proc.stderr for w in BUSY_WORDS), (args, proc.stderr)
        again = s2s(target, *issue)
        assert again.returncode == 0 and "nothing new" in again.stderr, again.stderr

        with engine.connect() as conn:
            invoices = conn.execute(text(
                "SELECT id, number, seq, payer, total_pence FROM invoice "
                "WHERE series = 'invoice' AND year = 2026 ORDER BY seq")).all()
            # gapless, unique numbering, and the counter agrees
            assert [i.seq for i in invoices] == list(range(1, len(invoices) + 1))
            assert len({i.number for i in invoices}) == len(invoices)
            assert conn.execute(text("SELECT value FROM counter WHERE series = 'invoice' "
                                     "AND year = 2026")).scalar() == len(invoices)
            # one invoice per payer for the month (nobody issued a second one)
            payers = [i.payer for i in invoices]
            assert len(payers) == len(set(payers)) == 5
            # every day invoiced exactly once, and on the invoice its log points at
            twice = conn.execute(text("SELECT day_log_id FROM invoice_day GROUP BY day_log_id "
                                      "HAVING count(*) > 1")).all()
            assert twice == []
            assert conn.execute(text("SELECT count(*) FROM day_log WHERE invoice_id IS NULL")
                                ).scalar() == 0
            mismatched = conn.execute(text(
                "SELECT count(*) FROM invoice_day x JOIN day_log g ON g.id = x.day_log_id "
                "WHERE g.invoice_id <> x.invoice_id")).scalar()
            assert mismatched == 0
            assert conn.execute(text("SELECT count(*) FROM invoice_day")).scalar() == len(rows)
            # totals equal their lines
            bad = conn.execute(text(
                "SELECT i.id FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id "
                "GROUP BY i.id, i.subtotal_pence HAVING sum(l.amount_pence) <> i.subtotal_pence"
            )).all()
            assert bad == []
    finally:
        engine.dispose()
    check = s2s(target, "db", "check", "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr


def test_schema_version_checked_on_the_server(cli: Run) -> None:
    target = cli.target
    current = s2s(target, "db", "current", "--format", "json")
    assert current.returncode == 0, current.stderr
    record = json.loads(current.stdout)
    assert record["status"] == "current" and record["database"].startswith("postgresql")

    engine = create_engine(target)
    try:
        with engine.begin() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        for args in (["find", "--specialism", "phonics"], ["request", "list"]):
            proc = s2s(target, *args)
            assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and "newer" in lines[0], proc.stderr
        assert json.loads(s2s(target, "db", "current", "--format", "json").stdout
                          )["status"].startswith("newer")
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        proc = s2s(target, "find", "--specialism", "phonics")
        assert proc.returncode == 1 and "s2s db upgrade" in proc.stderr, proc.stderr
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
        assert s2s(target, "find", "--specialism", "phonics").returncode == 0
    finally:
        engine.dispose()
