"""Start-up stays light: `s2s --help` and read-only queries on an existing SQLite file never
import the heavy libraries (SQLAlchemy/SQLModel ~0.4 s, rich, Alembic, PyYAML, pydantic).

This is a structural test, not a timing assertion: it reads `python -X importtime`, which lists
every module a process imports, so it fails the moment someone adds a heavy top-level import on
these paths (see docs/architecture.md, "Start-up")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "rich", "alembic", "yaml")
pytestmark = pytest.mark.slow


def imported_modules(*args: str, cwd: Path, today: str | None = None
                     ) -> tuple[set[str], subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("S2S_")}
    env.update({"NO_COLOR": "1", "XDG_DATA_HOME": str(cwd / "xdg")})
    if today:
        env["S2S_TODAY"] = today
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)
    names = set()
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", line)
        if m:
            names.add(m.group(1))
    return names, proc


def heavy_in(names: set[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in heavy)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An existing, seeded SQLite file (created by a first command, as a user would)."""
    tmp = tmp_path_factory.mktemp("startup")
    path = tmp / "s2s.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("S2S_")}
    subprocess.run([sys.executable, "-m", "s2s_cli", "db", "init", str(path), "--demo"],
                   check=True, capture_output=True, env=env, cwd=tmp,
                   timeout=120)
    return path


def typer_needs_pydantic(tmp: Path) -> bool:
    names, _ = imported_modules("-c", "import typer", cwd=tmp)
    return "pydantic" in names


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    names, proc = imported_modules("-m", "s2s_cli", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "s2s_cli.cli" in names  # the measurement saw our modules at all
    assert heavy_in(names) == []


@pytest.mark.parametrize("args", [
    ["find", "--specialism", "phonics", "--format", "json"],
    ["find", "--specialism", "phonics", "--region", "London", "--format", "csv"],
    ["specialisms", "--format", "json"],
])
def test_read_only_queries_on_sqlite_import_nothing_heavy(seeded: Path, tmp_path: Path,
                                                          args: list[str]) -> None:
    names, proc = imported_modules("-m", "s2s_cli", "--db", str(seeded), *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "s2s_cli.fastdb" in names
    heavy = HEAVY if typer_needs_pydantic(tmp_path) else (*HEAVY, "pydantic")
    assert heavy_in(names, heavy) == []


def test_find_on_a_missing_database_still_works(tmp_path: Path) -> None:
    """The counterpart: the first run creates the default database through SQLAlchemy
    (allowed); a named database that is missing is refused before SQLAlchemy loads."""
    names, proc = imported_modules("-m", "s2s_cli", "find",
                                   "--specialism", "phonics", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "created a new database" in proc.stderr
    assert "sqlalchemy" in names
    assert (tmp_path / "xdg" / "s2s" / "s2s.db").exists()
    target = tmp_path / "typo.db"
    names, proc = imported_modules("-m", "s2s_cli", "--db", str(target), "find",
                                   "--specialism", "phonics", cwd=tmp_path)
    assert proc.returncode == 2 and "no database at" in proc.stderr
    assert not target.exists()
    assert heavy_in(names) == []


def test_log_and_deploy_on_sqlite_import_nothing_heavy(seeded: Path, tmp_path: Path) -> None:
    """The everyday writes run in a light transaction (s2s_cli.unit): no SQLAlchemy, SQLModel
    or `holidays` import, and still audited into the hash chain."""
    import shutil
    import sqlite3

    db = tmp_path / "w.db"
    shutil.copyfile(seeded, db)
    con = sqlite3.connect(db)
    urn, leader = con.execute(
        "SELECT s.urn, l.id FROM school s JOIN leader l ON l.home_school_urn <> s.urn "
        "AND l.active = 1 AND l.kind = 'SLE' ORDER BY s.urn, l.id LIMIT 1").fetchone()
    con.close()
    base = ["-m", "s2s_cli", "--db", str(db)]
    today = "2026-11-27"
    _names, proc = imported_modules(*base, "request", "log", "--school", str(urn), "--need",
                                    "achievement", "--days", "3", "--received",
                                    "2026-11-02", cwd=tmp_path, today=today)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rid = proc.stdout.strip()
    heavy = (*HEAVY, "holidays")
    names, proc = imported_modules(*base, "deploy", rid, "--leader", leader, "--start",
                                   "2026-11-09", "--on", "2026-11-05", cwd=tmp_path, today=today)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "s2s_cli.unit" in names and heavy_in(names, heavy) == []
    did = proc.stdout.strip()
    names, proc = imported_modules(*base, "log", did, "--date", "2026-11-10", cwd=tmp_path,
                                   today=today)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "s2s_cli.unit" in names and heavy_in(names, heavy) == []
    _names, proc = imported_modules(*base, "db", "check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("S2S_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "100", "XDG_DATA_HOME": str(cwd / "xdg")})
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("args", [["--help"], [], ["log", "4", "--help"], ["log", "--help"],
                                  ["log", "list", "--help"], ["request", "show", "--help"],
                                  ["db", "--help"], ["log", "lst"], ["request", "bogus"]])
def test_what_the_process_builds_prints_what_the_whole_tree_prints(tmp_path: Path,
                                                                    args: list[str]) -> None:
    """`s2s` builds only what its command line needs (the help listing from stand-ins, one
    command of a group); the output is what building them all prints, to the byte."""
    proc = _run("-m", "s2s_cli", *args, cwd=tmp_path)
    whole = _run("-c", WHOLE_TREE, *args, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        whole.returncode, whole.stdout, whole.stderr)
    assert proc.stdout or proc.stderr


WHOLE_TREE = """
import sys
import s2s_cli.cli as cli
cli._top_level_help = lambda argv: False  # no stand-ins
cli._sub_command = lambda sub, rest: None  # every command of a group
from s2s_cli.__main__ import main
sys.argv[0] = "s2s"
main()
"""


PROBE = """
import atexit, sys, threading, time
import s2s_cli.__main__ as m
inherited = m._open_descriptors()
case = sys.argv[1]
if case == "file":
    kept = open(sys.argv[2], "w")
elif case == "atexit":
    atexit.register(print, "bye")
elif case == "thread":
    threading.Thread(target=time.sleep, args=(0.5,)).start()
elif case == "sqlalchemy":
    import sqlalchemy
print(m._nothing_left_open(inherited))
"""


@pytest.mark.parametrize(("case", "quick"), [("clean", "True"), ("file", "False"),
                                             ("atexit", "False"), ("thread", "False"),
                                             ("sqlalchemy", "False")])
def test_the_process_skips_teardown_only_when_nothing_needs_it(tmp_path: Path, case: str,
                                                               quick: str) -> None:
    proc = _run("-c", PROBE, case, str(tmp_path / "f.txt"), cwd=tmp_path)
    assert proc.stdout.splitlines()[0] == quick, proc.stderr
