"""Read-only queries through one small interface, served by either driver:

* the stdlib `sqlite3` module on an existing SQLite file (no SQLAlchemy/SQLModel import: the
  search answers in a few tens of milliseconds), or
* a SQLAlchemy session (PostgreSQL, or a database that first needs creating).

Services write their SQL once, with `:name` parameters, which both drivers accept."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from s2s_cli import location
from s2s_cli.errors import Busy, InvalidInput, SchemaMismatch

LOCK_TIMEOUT_DEFAULT = 30.0  # seconds


def lock_timeout() -> float:
    """How long a command waits for another process's lock before giving up
    ($S2S_LOCK_TIMEOUT seconds, default 30)."""
    raw = os.environ.get("S2S_LOCK_TIMEOUT", "").strip()
    if not raw:
        return LOCK_TIMEOUT_DEFAULT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400 or value != value:
        raise InvalidInput(f"S2S_LOCK_TIMEOUT must be a number of seconds (0 to 86400), "
                           f"not '{raw}'")
    return value


def is_busy(exc: BaseException) -> bool:
    """A lock wait that ran out: SQLite's 'database is locked/busy', PostgreSQL's
    lock_timeout (55P03)."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code == "55P03":
        return True
    text = str(orig)
    return isinstance(orig, sqlite3.OperationalError) and (
        "database is locked" in text or "database is busy" in text
        or "database table is locked" in text)


class Reader:
    def __init__(self, run: Callable[[str, dict[str, Any]], Any], dialect: str,
                 stream: Callable[[str, dict[str, Any]], Any] | None = None) -> None:
        self._run = run
        self._stream = stream or run
        self.dialect = dialect

    def all(self, sql: str, params: dict[str, Any] | None = None) -> list[Sequence[Any]]:
        return list(self._run(sql, params or {}))

    def iter(self, sql: str, params: dict[str, Any] | None = None) -> Iterator[Sequence[Any]]:
        # A plain loop, not `yield from`: an abandoned generator (say, `| head`) must not call
        # close() on a cursor whose connection is already closed.
        for row in self._run(sql, params or {}):  # noqa: UP028
            yield row

    def stream(self, sql: str, params: dict[str, Any] | None = None
               ) -> Iterator[Sequence[Any]]:
        """Like `iter`, but never buffers the result on the client (a server-side cursor on
        PostgreSQL, fetched in batches): for reports over millions of rows."""
        for row in self._stream(sql, params or {}):  # noqa: UP028
            yield row

    def one(self, sql: str, params: dict[str, Any] | None = None) -> Sequence[Any] | None:
        for row in self._run(sql, params or {}):
            return row
        return None

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        row = self.one(sql, params)
        return row[0] if row else None

    def agg(self, expr: str, sep: str = ",") -> str:
        """String aggregation, spelled per dialect."""
        if self.dialect == "postgresql":
            return f"string_agg({expr}, '{sep}')"
        return f"group_concat({expr}, '{sep}')"


def open_sqlite(target: str) -> sqlite3.Connection | None:
    """A stdlib connection to an existing, current s2s SQLite file, else None (the caller then
    takes the SQLAlchemy path, which creates or explains)."""
    path = location.sqlite_path(target)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        wait = lock_timeout()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=wait)
        conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        seeded = conn.execute("SELECT 1 FROM specialism LIMIT 1").fetchone()
    except sqlite3.Error as exc:
        if is_busy(exc):
            raise Busy() from exc
        return None
    if not seeded:  # created but never seeded: the SQLAlchemy path finishes the job
        conn.close()
        return None
    problem = location.schema_problem(row[0] if row else None)
    if problem:
        conn.close()
        raise SchemaMismatch(problem)
    return conn


def sqlite_reader(conn: sqlite3.Connection) -> Reader:
    return Reader(lambda sql, params: conn.execute(sql, params), "sqlite")


def session_reader(session: Any) -> Reader:
    from sqlalchemy import text

    def run(sql: str, params: dict[str, Any]) -> Any:
        return session.execute(text(sql), params)

    def stream(sql: str, params: dict[str, Any]) -> Any:
        return session.execute(
            text(sql).execution_options(stream_results=True, yield_per=2000), params)

    return Reader(run, session.get_bind().dialect.name, stream)
