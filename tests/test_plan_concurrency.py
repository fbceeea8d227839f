"""Planned and worked days under concurrent writers: five processes book, log, move and
cancel sessions for one leader on the same dates at once.  Whatever order they run in, the
leader never has more than one day on a date across planned and worked, every write reported
done is in the database, and `s2s db check` passes.  Runs on SQLite, and on PostgreSQL when
S2S_TEST_PG_URL is set (the `mini` fixture is then a PostgreSQL database: the leader row
lock, `FOR UPDATE`, is what serialises the writers there)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import query
from tests.test_concurrency import WORKER, _env, start_together

pytestmark = pytest.mark.slow

DATES = ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-07",
         "2026-12-08", "2026-12-09", "2026-12-10"]
PLANNER_TODAY = "2026-11-25"  # the dates are ahead: they can be planned
LOGGER_TODAY = "2026-12-20"   # the dates have passed: they can be logged


@pytest.fixture
def contested(mini):
    """L9004 (NLE, 60 days released) deployed twice, 20 days each, from 2 November."""
    for school in ("131543", "131545"):
        rid = mini.json("request", "log", "--school", school, "--need",
                        "leadership-and-management", "--received", "2026-10-01")["id"]
        mini("deploy", str(rid), "--leader", "L9004", "--days", "20", "--start", "2026-11-02",
             ok=True, env={"S2S_TODAY": "2026-10-15"})
    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()
    return mini


def _workers() -> list[tuple[str, list[list[str]]]]:
    return [
        (PLANNER_TODAY, [["plan", "1", "--date", d] for d in DATES]),
        (PLANNER_TODAY, [["plan", "2", "--date", d, "--half"] for d in DATES]),
        (PLANNER_TODAY, [["plan", "2", "--from", DATES[0], "--to", DATES[-1], "--half"],
                         ["plan", "move", "1", "--to", "2026-12-11"],
                         ["plan", "cancel", "2"]] * 2),
        (LOGGER_TODAY, [["log", "2", "--date", d] for d in DATES]),
        (LOGGER_TODAY, [["log", "1", "--date", d, "--half"] for d in reversed(DATES)]),
    ]


def test_planned_and_worked_never_exceed_a_day_under_concurrent_writers(contested, tmp_path):
    target = contested.target
    go = tmp_path / "go"
    procs = []
    for day, plan in _workers():
        env = {**_env(), "S2S_TODAY": day}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, target, str(go),
                                       json.dumps(plan)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=env))
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
        if r["code"] == 1:  # a domain refusal, on one line
            assert r["err"].startswith("Error: ") and r["err"].count("\n") == 1, r

    # the rule: per date, days logged plus sessions still planned are at most one day
    totals: dict[str, int] = {}
    for day, halves in query(target, "SELECT date, halves FROM day_log"):
        totals[str(day)] = totals.get(str(day), 0) + halves
    for day, halves in query(target, "SELECT date, halves FROM planned_session "
                             "WHERE status = 'planned'"):
        totals[str(day)] = totals.get(str(day), 0) + halves
    assert totals and max(totals.values()) <= 2, totals

    # no write lost: every id a successful plan or log printed is there, as asked
    planned = {r[0]: r for r in query(target, "SELECT id, deployment_id, date, halves, status "
                                      "FROM planned_session")}
    moved = {int(r["args"][2]) for r in results if r["args"][:2] == ["plan", "move"]
             and r["code"] == 0}
    logged = {r[0]: r for r in query(target, "SELECT id, deployment_id, date, halves "
                                     "FROM day_log")}
    made_plans = made_logs = 0
    for r in results:
        if r["code"] != 0 or r["args"][0] not in ("plan", "log") or r["args"][1] in (
                "move", "cancel"):
            continue
        table = planned if r["args"][0] == "plan" else logged
        for new_id in (int(x) for x in r["out"].split()):
            row = table[new_id]
            assert row[1] == int(r["args"][1])
            worked = table is planned and row[4] == "worked"  # takes the halves logged
            if not worked:
                assert row[3] == (1 if "--half" in r["args"] else 2)
            if "--date" in r["args"] and not (table is planned and new_id in moved):
                assert str(row[2]) == r["args"][r["args"].index("--date") + 1]
            made_plans += r["args"][0] == "plan"
            made_logs += r["args"][0] == "log"
    assert made_plans == len(planned) and made_logs == len(logged)
    assert made_plans and made_logs  # both kinds of writer got through
    # a worked session names its day log; db check agrees with all of it
    for (log_id,) in query(target, "SELECT day_log_id FROM planned_session "
                           "WHERE status = 'worked'"):
        assert log_id in logged
    assert contested("db", "check").exit_code == 0
