"""SIGKILL in the middle of a large write leaves the database either fully before or fully
after it, and `s2s db check` passes.

A seed load and an invoice run are each one transaction (BEGIN IMMEDIATE ... COMMIT) on a WAL
database.  The test starts the real command as a process, waits until its transaction is
spilling pages into the -wal file (so it is truly half-way through writing), kills it with
SIGKILL, and then inspects the file."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Run

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

LEADERS = 8_000
DAYS_PER_LEADER = 60
WAL_TRIGGER = 256 * 1024  # bytes in the -wal: the transaction is writing


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2027-09-30")  # runs issue on dates up to 1 September 2027


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("S2S_RAISE_ERRORS", None)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    env["S2S_TODAY"] = "2027-09-30"  # the runs below issue on dates up to 1 September 2027
    return env


def _release_engines() -> None:
    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()


def kill_midway(db: str, *args: str, timeout: float = 90) -> int:
    """Run `s2s --db DB ARGS` and SIGKILL it once its write transaction is under way."""
    wal = Path(f"{db}-wal")
    proc = subprocess.Popen([sys.executable, "-m", "s2s_cli", "--db", db, *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if wal.stat().st_size >= WAL_TRIGGER:
                    proc.send_signal(signal.SIGKILL)
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.002)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode


def counts(db: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("leader", "leader_specialism", "school", "audit_log", "invoice",
                          "invoice_line", "invoice_day", "counter")} | {
            "invoiced_days": conn.execute(
                "SELECT count(*) FROM day_log WHERE invoice_id IS NOT NULL").fetchone()[0],
            "day_log": conn.execute("SELECT count(*) FROM day_log").fetchone()[0]}
    finally:
        conn.close()


def big_directory(path: Path, n: int) -> None:
    lines = ["regions: [London]", "local_authorities:",
             "  - {code: 202, name: Camden, region: London}", "schools:"]
    lines += [f"  - {{urn: {300000 + s}, name: Crash School {s}, la: Camden, phase: primary}}"
              for s in range(50)]
    lines.append("leaders:")
    lines += [f"  - {{id: L{100000 + i}, name: Person {i}, kind: SLE, home_school: "
              f"{300000 + i % 50}, email: p{i}@example.org, specialisms: [phonics, maths]}}"
              for i in range(n)]
    path.write_text("\n".join(lines) + "\n")


def test_sigkill_during_a_large_seed_load(sqlite_db, tmp_path):
    Run(sqlite_db)("db", "init", "--demo", ok=True)
    _release_engines()
    seed = tmp_path / "national.yaml"
    big_directory(seed, LEADERS)
    before = counts(sqlite_db)
    code = kill_midway(sqlite_db, "seed", "load", str(seed))
    assert code == -signal.SIGKILL, "the load finished before it could be killed"
    after = counts(sqlite_db)
    assert after == before  # the whole load rolled back: nothing half-written
    run = Run(sqlite_db)
    assert run("db", "check").exit_code == 0
    # the database is usable at once: the same load now completes, all of it
    run("seed", "load", str(seed), ok=True)
    done = counts(sqlite_db)
    assert done["leader"] == before["leader"] + LEADERS
    assert done["leader_specialism"] == before["leader_specialism"] + 2 * LEADERS
    assert run("db", "check").exit_code == 0


def add_days(db: str, per_leader: int) -> int:
    """One deployment per bundled leader with `per_leader` weekdays logged (straight into the
    file, as a year of use would leave it)."""
    conn = sqlite3.connect(db)
    now = "2026-09-01 00:00:00.000000"
    leaders = conn.execute("SELECT id, home_school_urn FROM leader ORDER BY id").fetchall()
    schools = [r[0] for r in conn.execute("SELECT urn FROM school ORDER BY urn")]
    dates: list[str] = []
    d = dt.date(2026, 9, 1)
    while len(dates) < per_leader:
        if d.weekday() < 5:
            dates.append(d.isoformat())
        d += dt.timedelta(days=1)
    with conn:
        for i, (lid, home) in enumerate(leaders):
            school = next(s for s in schools[i % len(schools):] + schools if s != home)
            rid = conn.execute(
                "INSERT INTO support_request (school_urn, need, funding, received, status, "
                "created_at) VALUES (?, 'achievement', 'school', '2026-09-01', 'matched', ?)",
                (school, now)).lastrowid
            did = conn.execute(
                "INSERT INTO deployment (request_id, leader_id, school_urn, agreed_halves, "
                "start, work, funding, dfe_extra_days, rate_pence, half_day_rate_pence, "
                "supply_pence, half_day_supply_pence, rate_source, status, created_at) "
                "VALUES (?, ?, ?, 800, '2026-09-01', 'coaching', 'school', 0, 35000, 17500, "
                "29750, 14875, 'card', 'active', ?)", (rid, lid, school, now)).lastrowid
            conn.executemany(
                "INSERT INTO day_log (deployment_id, leader_id, date, halves, activity, "
                "created_at) VALUES (?, ?, ?, 2, 'coaching', ?)",
                [(did, lid, x, now) for x in dates])
    total = conn.execute("SELECT count(*) FROM day_log").fetchone()[0]
    conn.close()
    return int(total)


def test_sigkill_during_an_invoice_run(sqlite_db):
    Run(sqlite_db)("db", "init", "--demo", ok=True)
    _release_engines()
    total = add_days(sqlite_db, DAYS_PER_LEADER)
    before = counts(sqlite_db)
    assert before["invoiced_days"] == 0 and before["invoice"] == 0
    args = ("invoice", "--from", "2026-09-01", "--to", "2027-08-31", "--issue", "--date",
            "2027-09-01")
    code = kill_midway(sqlite_db, *args)
    assert code == -signal.SIGKILL, "the invoice run finished before it could be killed"
    after = counts(sqlite_db)
    assert after == before  # no invoice, no number taken, no day marked: fully before
    run = Run(sqlite_db)
    assert run("db", "check").exit_code == 0
    # run again: everything is billed exactly once, numbers start at 1 with no gap
    run(*args, ok=True)
    done = counts(sqlite_db)
    assert done["invoiced_days"] == total == done["invoice_day"]
    conn = sqlite3.connect(sqlite_db)
    seqs = [r[0] for r in conn.execute("SELECT seq FROM invoice ORDER BY seq")]
    conn.close()
    assert seqs == list(range(1, len(seqs) + 1))
    assert run("db", "check").exit_code == 0
