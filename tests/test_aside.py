"""`aside.compute`: pure work done by a forked child while the process writes (issuing seals
its documents that way): the same value as computing it here, errors raised here, the
parent's open write transaction untouched, and a plain call where there is no fork."""

from __future__ import annotations

import os
import sqlite3

import pytest

from s2s_cli import aside


def test_the_value_comes_back_from_a_child():
    texts = [f"Zoë Ó’Brien 李 {n}" * 3 for n in range(50_000)]
    job = aside.compute(lambda: (os.getpid(), dict(enumerate(texts))))
    pid, value = job.result()
    assert pid != os.getpid()  # computed in the child
    assert value == dict(enumerate(texts))


def test_an_error_in_the_child_is_raised_here():
    calls = []

    def fails() -> int:
        calls.append(os.getpid())
        raise ValueError("no seal")

    job = aside.compute(fails)
    with pytest.raises(ValueError, match="no seal"):
        job.result()
    assert calls == [os.getpid()]  # the parent ran it again, to raise the real error


def test_a_job_given_up_leaves_no_child_behind():
    """The caller failed before `result()` (a refused run): close() stops and reaps the
    child, which would otherwise wait on its pipe until the process ends."""
    job = aside.compute(lambda: "x" * 10_000_000)  # more than a pipe holds: the child waits
    pid = job._pid
    assert pid
    job.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped
    job.close()  # twice is harmless
    done = aside.compute(lambda: 7)
    assert done.result() == 7
    done.close()  # after the result: nothing to do


def test_without_fork_it_is_computed_here(monkeypatch):
    monkeypatch.delattr(os, "fork")
    job = aside.compute(lambda: os.getpid())
    assert job.result() == os.getpid()


def test_the_parents_write_transaction_survives_the_child(tmp_path):
    path = tmp_path / "t.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t (v) VALUES ('before')")
    job = aside.compute(lambda: sum(range(1000)))
    conn.execute("INSERT INTO t (v) VALUES ('during')")
    assert job.result() == 499500
    conn.execute("INSERT INTO t (v) VALUES ('after')")
    other = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")  # this process still holds the write lock
    conn.execute("COMMIT")
    assert [r[0] for r in other.execute("SELECT v FROM t ORDER BY id")] == [
        "before", "during", "after"]
    other.close()
    conn.close()


def test_an_issue_run_seals_alike_with_and_without_a_child(mini, monkeypatch):
    """The seals and audit rows made aside are those made here: issue twice, once without
    fork, and `db check` finds both runs' documents sealed in the chain."""
    from tests.test_tamper import deploy, log

    first = deploy(mini, school=131543, leader="L9006", days="3", rate="420", half="250")
    second = deploy(mini, school=131545, leader="L9002", days="3")
    log(mini, first, "2026-09-21", "2026-09-22")
    log(mini, second, "2026-09-24")
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    log(mini, first, "2026-10-05")
    log(mini, second, "2026-10-06", half=True)
    monkeypatch.delattr(os, "fork")
    mini("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02", ok=True)
    assert mini("db", "check").exit_code == 0
    issued = [r for r in mini.json("audit", "--table", "invoice", "--limit", "1000")
              if r["action"] == "issue"]
    assert len(issued) == 4 and all(len(r["after"]["doc_hash"]) == 64 for r in issued)
