"""Starting a database (issue 10): the default database is created with the demo directory on
first use; a named one (--db, $S2S_DB) only by `s2s db init`, which gives reference data and,
with --demo or --from, a directory; a refused command never leaves a file behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from s2s_cli.cli import app
from tests.conftest import PG_URL, Run, dump, query

ALLIANCE = """\
# The Richmond alliance's own directory (invented people, real local authority).
schools:
  - urn: 990001
    name: Orleans Riverside Primary
    la: Richmond upon Thames
    phase: primary
    type: academy
leaders:
  - id: L0001
    name: Hannah Whitcombe
    kind: SLE
    home_school: 990001
    capacity_days: 20
    specialisms: [phonics, early years]
"""


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_database_is_created_with_the_demo_directory_on_first_use(tmp_path):
    result = invoke("find", "--specialism", "phonics", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "created a new database" in result.stderr and "demo" in result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) >= 3 and all("phonics" in r["specialisms"] for r in rows)
    path = tmp_path / "xdg-data" / "s2s" / "s2s.db"
    assert path.exists() and mode(path) == 0o600
    again = invoke("find", "--specialism", "phonics", "--format", "json")
    assert "created" not in again.stderr
    assert json.loads(again.stdout) == rows


@pytest.mark.parametrize("how", ["--db", "S2S_DB"])
def test_a_named_database_that_does_not_exist_is_never_created(tmp_path, monkeypatch, how):
    target = tmp_path / "typo" / "deeper" / "alliance.db"
    if how == "--db":
        result = invoke("--db", str(target), "find", "--specialism", "phonics")
    else:
        monkeypatch.setenv("S2S_DB", str(target))
        result = invoke("find", "--specialism", "phonics")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: no database at {target}; create it with 's2s db init {target}' "
        "(--demo for the sample directory)")
    assert not (tmp_path / "typo").exists()
    assert not (tmp_path / "xdg-data").exists()


@pytest.mark.parametrize("args", [
    ["seed", "load", "{seed}"], ["leader", "show", "L0001"], ["db", "upgrade"],
    ["db", "current"], ["db", "check"], ["invoice", "--month", "2026-09"], ["report", "days"],
])
def test_every_command_but_db_init_refuses_a_missing_named_database(tmp_path, args):
    seed = tmp_path / "ok.yaml"
    seed.write_text(ALLIANCE, encoding="utf-8")
    target = tmp_path / "none" / "s2s.db"
    result = invoke("--db", str(target), *[a.replace("{seed}", str(seed)) for a in args])
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert "no database at" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not target.parent.exists()


def test_db_init_gives_reference_data_and_no_directory(tmp_path):
    target = tmp_path / "new" / "alliance.db"
    result = invoke("db", "init", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(target)
    assert "reference data only" in result.stderr
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    db = str(target)
    assert query(db, "SELECT count(*) FROM school")[0][0] == 0
    assert query(db, "SELECT count(*) FROM leader")[0][0] == 0
    assert query(db, "SELECT count(*) FROM region")[0][0] == 9
    assert query(db, "SELECT count(*) FROM local_authority")[0][0] >= 150
    assert query(db, "SELECT region.name FROM local_authority JOIN region ON "
                     "region.id = local_authority.region_id WHERE local_authority.name = "
                     "'Richmond upon Thames'")[0][0] == "London"
    assert query(db, "SELECT count(*) FROM specialism")[0][0] >= 25
    assert {r[0] for r in query(db, "SELECT key FROM setting")} >= {"rate_card",
                                                                     "review_policy"}
    run = Run(db)
    assert run.json("find") == []
    assert run.json("specialisms")


def test_db_init_from_the_alliances_own_file(tmp_path):
    seed = tmp_path / "richmond.yaml"
    seed.write_text(ALLIANCE, encoding="utf-8")
    target = tmp_path / "richmond.db"
    result = invoke("--as", "Coordinator", "db", "init", str(target), "--from", str(seed))
    assert result.exit_code == 0, result.stderr
    run = Run(str(target))
    rows = run.json("find", "--specialism", "phonics")
    assert [r["id"] for r in rows] == ["L0001"]
    assert rows[0]["local_authority"] == "Richmond upon Thames" and rows[0]["region"] == "London"
    assert query(str(target), "SELECT count(*) FROM leader")[0][0] == 1
    actors = {r[0] for r in query(str(target), "SELECT DISTINCT actor FROM audit_log")}
    assert actors == {"Coordinator"}


def test_db_init_with_a_bad_file_creates_nothing(tmp_path):
    seed = tmp_path / "bad.yaml"
    seed.write_text(ALLIANCE.replace("kind: SLE", "kind: SLEE"), encoding="utf-8")
    target = tmp_path / "new" / "alliance.db"
    result = invoke("db", "init", str(target), "--from", str(seed))
    assert result.exit_code == 2
    assert f"{seed}:11: unknown kind" in result.stderr
    assert not target.parent.exists()


def test_db_init_demo_and_refusals(tmp_path):
    target = tmp_path / "demo.db"
    assert invoke("db", "init", str(target), "--demo").exit_code == 0
    assert len(Run(str(target)).json("find", "--include-inactive")) >= 120
    before = dump(str(target))
    again = invoke("db", "init", str(target))
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert dump(str(target)) == before
    both = invoke("db", "init", str(tmp_path / "x.db"), "--demo", "--from", "f.yaml")
    assert both.exit_code == 2 and not (tmp_path / "x.db").exists()
    missing = invoke("db", "init", str(tmp_path / "y.db"), "--from", str(tmp_path / "no.yaml"))
    assert missing.exit_code == 2 and not (tmp_path / "y.db").exists()


def test_db_init_uses_the_named_database_when_no_path_is_given(tmp_path):
    target = tmp_path / "named.db"
    result = invoke("--db", str(target), "db", "init", "--demo")
    assert result.exit_code == 0, result.stderr
    assert Run(str(target)).json("find", "--limit", "1")


def test_a_refused_first_command_leaves_no_default_database(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("leaders:\n  - id: X\n    kind: SLEE\n", encoding="utf-8")
    result = invoke("seed", "load", str(bad))
    assert result.exit_code == 2
    assert not (tmp_path / "xdg-data").exists()
    unknown = invoke("find", "--specialism", "phonix")
    assert unknown.exit_code == 2 and "phonics" in unknown.stderr
    assert not (tmp_path / "xdg-data").exists()


@pytest.mark.skipif(not PG_URL, reason="needs S2S_TEST_PG_URL")
def test_db_init_on_postgresql(db):
    empty = Run(db)("find", "--specialism", "phonics")
    assert empty.exit_code == 2 and "no database at" in empty.stderr
    assert query(db, "SELECT count(*) FROM information_schema.tables "
                     "WHERE table_schema = 'public'")[0][0] == 0
    assert invoke("db", "init", db).exit_code == 0
    assert Run(db).json("find") == []
    assert invoke("db", "init", db, "--demo").exit_code == 1


@pytest.mark.skipif(bool(PG_URL), reason="the default database is a SQLite file")
def test_first_use_of_the_default_database_by_several_processes_at_once(tmp_path):
    """Coordinators who all run their first command at the same moment: one creates the
    default database and loads the demo, the others wait for it and use it."""
    import os
    import subprocess
    import sys
    import threading

    env = {k: v for k, v in os.environ.items() if k not in ("S2S_DB", "S2S_RAISE_ERRORS")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    procs: list[subprocess.CompletedProcess] = []
    start = threading.Barrier(4)

    def first_command() -> None:
        start.wait()
        procs.append(subprocess.run([sys.executable, "-m", "s2s_cli", "specialisms", "--format",
                                     "json"], capture_output=True, text=True, env=env,
                                    timeout=300))

    threads = [threading.Thread(target=first_command) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [p.stderr for p in procs]
    assert sum("created a new database" in p.stderr for p in procs) == 1
    path = tmp_path / "xdg-data" / "s2s" / "s2s.db"
    assert query(str(path), "SELECT count(*) FROM leader")[0][0] >= 120
