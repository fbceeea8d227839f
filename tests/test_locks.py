"""A command blocked by another process's lock waits a bounded time ($S2S_LOCK_TIMEOUT seconds,
default 30), then stops with one line - "the database is busy (another s2s or a backup holds
it); try again" - exit 1, nothing written.  SQLite: another process holding the write lock
(`BEGIN IMMEDIATE`); PostgreSQL: another connection holding a table lock (`lock_timeout`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import PG_URL, Run

BUSY = "Error: the database is busy (another s2s or a backup holds it); try again\n"

HOLD_SQLITE = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE leader SET notes = 'held' WHERE id = (SELECT min(id) FROM leader)")
    print("held", flush=True)
    time.sleep(60)
""")


def _hold_sqlite(path: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_SQLITE, path], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _release(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()


WRITES = [
    ("request", "log", "--school", "131543", "--need", "achievement"),
    ("leader", "erase", "L9001", "--confirm"),
]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's write lock")
def test_sqlite_writer_waits_the_lock_timeout_then_says_busy(mini: Run, snapshot):
    before = snapshot(mini.target)
    holder = _hold_sqlite(mini.target)
    try:
        for args in WRITES:
            t0 = time.monotonic()
            result = mini(*args, env={"S2S_LOCK_TIMEOUT": "1"})
            elapsed = time.monotonic() - t0
            assert result.exit_code == 1, (args, result.stderr)
            assert result.stderr == BUSY and result.stdout == ""
            assert 0.9 <= elapsed < 6, (args, elapsed)  # waited about a second, no retries
        # a reader is not blocked by a writer (WAL)
        mini("find", "--specialism", "maths", ok=True, env={"S2S_LOCK_TIMEOUT": "1"})
    finally:
        _release(holder)
    assert snapshot(mini.target) == before
    mini(*WRITES[0], ok=True)  # the lock gone, the same command goes through


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's write lock")
def test_the_default_wait_is_thirty_seconds(mini: Run):
    from s2s_cli import db as dbmod
    from s2s_cli import fastdb

    assert fastdb.lock_timeout() == 30.0
    engine = dbmod.make_engine(mini.target)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_a_bad_lock_timeout_is_bad_input(mini: Run, snapshot):
    before = snapshot(mini.target)
    for bad in ("soon", "-1", "nan"):
        result = mini(*WRITES[0], env={"S2S_LOCK_TIMEOUT": bad})
        assert result.exit_code == 2, bad
        assert "S2S_LOCK_TIMEOUT" in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(mini.target) == before


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL lock_timeout")
def test_postgres_waits_the_lock_timeout_then_says_busy(mini: Run, snapshot):
    from sqlalchemy import create_engine

    before = snapshot(mini.target)
    engine = create_engine(mini.target)
    conn = engine.connect()
    try:
        conn.exec_driver_sql("LOCK TABLE support_request, leader IN ACCESS EXCLUSIVE MODE")
        for args in WRITES:
            t0 = time.monotonic()
            result = mini(*args, env={"S2S_LOCK_TIMEOUT": "1"})
            elapsed = time.monotonic() - t0
            assert result.exit_code == 1, (args, result.stderr)
            assert result.stderr == BUSY and result.stdout == ""
            assert 0.9 <= elapsed < 6, (args, elapsed)
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()
    assert snapshot(mini.target) == before
    mini(*WRITES[0], ok=True)
