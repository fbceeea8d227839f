"""Shared fixtures: a fresh database per test (a SQLite file under tmp_path, or - when
S2S_TEST_PG_URL is set - a clean schema on that PostgreSQL server), and `cli()` to run s2s
through typer's CliRunner against it."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from s2s_cli.cli import app

PG_URL = os.environ.get("S2S_TEST_PG_URL")
# Under pytest-xdist each worker has its own PostgreSQL databases (names carry the worker id).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

_COMMANDS: dict[tuple[int, str | None], Any] = {}


def _command_once(typer_app: Any) -> Any:
    """typer's CliRunner rebuilds the whole click command tree (every command's signature and
    type hints) on each invoke - about 0.12 s, most of the suite's time.  The tree depends only
    on the code, so build it once per app and hand the same command to every invoke (the
    `s2s` process builds it once too).  typer reads one variable while building (shell
    detection for --show-completion), so it is part of the key."""
    key = (id(typer_app), os.environ.get("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"))
    command = _COMMANDS.get(key)
    if command is None:
        command = _COMMANDS[key] = typer.main.get_command(typer_app)
    return command


typer.testing._get_command = _command_once


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_env(monkeypatch, tmp_path)


def isolate_env(mp: pytest.MonkeyPatch, root: Path) -> None:
    """The environment every test runs in (module-scoped fixtures call it too)."""
    # Unexpected exceptions surface in tests instead of becoming one-line errors.
    mp.setenv("S2S_RAISE_ERRORS", "1")
    mp.delenv("S2S_DB", raising=False)
    mp.setenv("XDG_DATA_HOME", str(root / "xdg-data"))
    mp.setenv("NO_COLOR", "1")
    mp.setenv("COLUMNS", "200")


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close every pooled connection a test opened (no leaked file handles across tests)."""
    yield
    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()
    dbmod.CREATED.clear()


def _dispose_all() -> None:
    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()


def _pg_admin(sql: str) -> None:
    """Run one statement on the test server (connected to S2S_TEST_PG_URL's own database)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _pg_name(suffix: str) -> str:
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL).database
    return f"{base}_{WORKER}_{suffix}" if WORKER else f"{base}_{suffix}"


def _pg_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _pg_fresh(name: str, template: str | None = None) -> str:
    _dispose_all()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return _pg_url(name)


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    _dispose_all()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def init_db(target: str, *, demo: bool = True) -> None:
    """Create a database with the real command (`s2s db init TARGET [--demo]`)."""
    result = CliRunner().invoke(app, ["db", "init", target, *(["--demo"] if demo else [])],
                                catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    _dispose_all()


class Templates:
    """Databases built once per test run with the real commands - the demo directory
    (`db init --demo`) and that plus the mini directory (`seed load`) - and copied for each
    test (SQLite: a file copy; PostgreSQL: CREATE DATABASE ... TEMPLATE)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[str, str] = {}

    def _build(self, kind: str) -> str:
        with pytest.MonkeyPatch.context() as mp:
            isolate_env(mp, self.root)
            if PG_URL:
                target = (_pg_fresh(_pg_name("tmpl_demo")) if kind == "demo" else
                          _pg_fresh(_pg_name("tmpl_mini"), self.get("demo")))
            else:
                target = str(self.root / f"{kind}.db")
                if kind == "mini":
                    shutil.copy2(self.get("demo"), target)
            if kind == "demo":
                init_db(target)
            else:
                result = CliRunner().invoke(app, ["--db", target, "seed", "load", str(MINI),
                                                  "--deactivate-missing"],
                                            catch_exceptions=False)
                assert result.exit_code == 0, result.stderr
            _dispose_all()
            if not PG_URL:
                conn = sqlite3.connect(target)
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.close()
        return _pg_name(f"tmpl_{kind}") if PG_URL else target

    def get(self, kind: str) -> str:
        if kind not in self.built:
            self.built[kind] = self._build(kind)
        return self.built[kind]

    def copy(self, kind: str, dest: Path) -> str:
        """A database holding the template's data: at `dest` (SQLite) or the per-test
        PostgreSQL database."""
        source = self.get(kind)
        if PG_URL:
            return _pg_fresh(_pg_name("case"), source)
        _dispose_all()
        for suffix in ("-wal", "-shm"):
            Path(str(dest) + suffix).unlink(missing_ok=True)
        shutil.copy2(source, dest)
        return str(dest)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    """Always a SQLite file (for tests of SQLite-specific behaviour); not created yet."""
    return str(tmp_path / "s2s.db")


@pytest.fixture
def db(tmp_path: Path) -> str:
    """The database under test, not created yet (tests of creation start here; most tests use
    `cli`): a SQLite path by default, an empty PostgreSQL database when S2S_TEST_PG_URL is
    set."""
    if PG_URL:
        return _pg_fresh(_pg_name("case"))
    return str(tmp_path / "s2s.db")


class Run:
    """Runs `s2s --db TARGET ...` in-process and keeps stdout/stderr apart."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool | None = None,
                 env: dict[str, str] | None = None) -> Any:
        result = self.runner.invoke(app, ["--db", self.target, *args], input=input, env=env,
                                    catch_exceptions=False)
        if ok is True:
            assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        result = self(*args, "--format", "json", ok=True)
        return json.loads(result.stdout)


@pytest.fixture
def cli(db: str, templates: Templates, tmp_path: Path) -> Run:
    """A database holding the bundled demo directory (as `s2s db init --demo` makes it)."""
    return Run(templates.copy("demo", tmp_path / "s2s.db"))


@pytest.fixture
def sqlite_cli(sqlite_db: str, templates: Templates) -> Run:
    if PG_URL:  # the templates are PostgreSQL databases in this run
        init_db(sqlite_db)
        return Run(sqlite_db)
    return Run(templates.copy("demo", Path(sqlite_db)))


def query(target: str, sql: str, **params: Any) -> list[Any]:
    """Read rows straight from the database under test (for assertions on stored values)."""
    from sqlalchemy import text

    from s2s_cli import db

    with db.make_engine(target).connect().execution_options(s2s_readonly=True) as conn:
        return list(conn.execute(text(sql), params).all())


def dump(target: str) -> str:
    """A logical dump of every table, for 'nothing changed' assertions on either backend."""
    if "://" not in target:
        conn = sqlite3.connect(target)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(target)
    out = []
    with engine.connect() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            out.append(f"{table}: " + json.dumps(sorted(repr(r) for r in rows)))
    engine.dispose()
    return "\n".join(out)


@pytest.fixture
def snapshot() -> Callable[[str], str]:
    return dump


MINI = Path(__file__).parent / "data" / "mini_directory.yaml"


@pytest.fixture
def mini(cli: Run, templates: Templates, tmp_path: Path) -> Run:
    """A database holding the bundled seed, then the small test directory loaded over it
    with --deactivate-missing (which leaves only the test directory's leaders active)."""
    cli.target = templates.copy("mini", tmp_path / "s2s.db")
    return cli
