"""Shared fixtures: a fresh database per test (a SQLite file under tmp_path, or - when
S2S_TEST_PG_URL is set - a clean schema on that PostgreSQL server), and `cli()` to run s2s
through typer's CliRunner against it."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from s2s_cli.cli import app

PG_URL = os.environ.get("S2S_TEST_PG_URL")


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


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    from s2s_cli import db as dbmod

    for engine in dbmod._ENGINES.values():
        engine.dispose()
    dbmod._ENGINES.clear()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    """Always a SQLite file (for tests of SQLite-specific behaviour)."""
    return str(tmp_path / "s2s.db")


@pytest.fixture
def db(tmp_path: Path) -> str:
    """The database under test: SQLite by default, PostgreSQL when S2S_TEST_PG_URL is set."""
    if PG_URL:
        _reset_pg(PG_URL)
        return PG_URL
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
def cli(db: str) -> Run:
    run = Run(db)
    run("specialisms", ok=True)  # create and seed the database up front
    return run


@pytest.fixture
def sqlite_cli(sqlite_db: str) -> Run:
    run = Run(sqlite_db)
    run("specialisms", ok=True)
    return run


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
def mini(cli: Run) -> Run:
    """A database holding the bundled seed, then the small test directory loaded over it
    (--deactivate-missing leaves only the test directory's leaders active)."""
    cli("seed", "load", str(MINI), "--deactivate-missing", ok=True)
    return cli
