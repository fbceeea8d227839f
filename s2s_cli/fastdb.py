"""Read-only queries through one small interface, served by either driver:

* the stdlib `sqlite3` module on an existing SQLite file (no SQLAlchemy/SQLModel import: the
  search answers in a few tens of milliseconds), or
* a SQLAlchemy session (PostgreSQL, or a database that first needs creating).

Services write their SQL once, with `:name` parameters, which both drivers accept."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2s_cli import location
from s2s_cli.errors import Busy, InvalidInput, S2SError, SchemaMismatch

if TYPE_CHECKING:
    import sqlite3

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
    sqlite3 = sys.modules.get("sqlite3")  # not loaded: not one of its errors
    return sqlite3 is not None and isinstance(orig, sqlite3.OperationalError) and (
        "database is locked" in text or "database is busy" in text
        or "database table is locked" in text)


class Reader:
    def __init__(self, run: Callable[[str, dict[str, Any]], Any], dialect: str,
                 stream: Callable[[str, dict[str, Any]], Any] | None = None, *,
                 copy_out: Callable[[str, dict[str, Any]], Any] | None = None) -> None:
        self._run = run
        self._stream = stream or run
        self.dialect = dialect
        # PostgreSQL: COPY (sql) TO STDOUT ..., each row's bytes to a callback (pg_reader)
        self.copy_out = copy_out

    def all(self, sql: str, params: dict[str, Any] | None = None) -> list[Sequence[Any]]:
        result = self._run(sql, params or {})
        fetchall = getattr(result, "fetchall", None)  # a cursor: the rows in one call
        return fetchall() if fetchall is not None else list(result)

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

    def cursor(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """The streaming cursor `stream` iterates (the driver's, or SQLAlchemy's result), for
        callers that take rows in batches with `fetchmany(n)`: no Python call per row."""
        return self._stream(sql, params or {})

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
    import sqlite3  # here: a PostgreSQL command never loads it

    try:
        wait = lock_timeout()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=wait)
        conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        seeded = conn.execute("SELECT 1 FROM specialism LIMIT 1").fetchone()
    except sqlite3.Error as exc:
        if is_busy(exc):
            raise Busy() from exc
        conn = _open_in_read_only_folder(path)
        if conn is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        seeded = conn.execute("SELECT 1 FROM specialism LIMIT 1").fetchone()
    if not seeded:  # created but never seeded: the SQLAlchemy path finishes the job
        conn.close()
        return None
    problem = location.schema_problem(row[0] if row else None)
    if problem:
        conn.close()
        raise SchemaMismatch(problem)
    return conn


def read_only_folder(path: Path) -> bool:
    import os

    return not os.access(path.parent, os.W_OK)


def _open_in_read_only_folder(path: Path) -> sqlite3.Connection | None:
    """A WAL database in a folder nobody can write to (a read-only mount, a copy on a CD,
    another user's folder): SQLite cannot create the -shm file even to read.  Nobody can write
    there either, so the file is opened as immutable - unless a -wal file holds changes not
    yet in the database, which a read would silently miss: then say so."""
    if not read_only_folder(path):
        return None
    wal = path.with_name(path.name + "-wal")
    import sqlite3

    if wal.exists() and wal.stat().st_size > 0:
        raise S2SError(f"cannot read {path}: its folder is read-only and {wal.name} holds "
                       "changes not yet written into the database; make the folder writable "
                       "(or copy both files somewhere writable) and try again")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return conn


def sqlite_reader(conn: sqlite3.Connection) -> Reader:
    return Reader(lambda sql, params: conn.execute(sql, params), "sqlite")


# --- PostgreSQL straight through psycopg2 or psycopg (no SQLAlchemy on the read paths) ------

# SQLAlchemy's own rule for `:name` parameters in text() (not `::type` casts, not `\\:`)
_BIND = re.compile(r"(?<![:\w\x5c]):(\w+)(?!:)", re.UNICODE)
_PG_SQL: dict[str, str] = {}


def pg_sql(sql: str) -> str:
    """The `:name` SQL text in psycopg's `%(name)s` style (a literal `%` doubled)."""
    done = _PG_SQL.get(sql)
    if done is None:
        done = _PG_SQL[sql] = _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))
    return done


def pg_conninfo(target: str) -> str | None:
    """A libpq URL for a PostgreSQL target that libpq can open as it is (the SQLAlchemy
    URL less its `+psycopg` or `+psycopg2` driver name), else None (the SQLAlchemy path takes
    it)."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgresql://",
                   "postgres://"):
        if target.startswith(prefix):
            return "postgresql://" + target[len(prefix):]
    return None


def pg_connect_args() -> dict[str, Any]:
    """What every PostgreSQL connection of s2s sets: each lock wait (row, table, advisory) is
    bounded by S2S_LOCK_TIMEOUT, and so is reaching the server (libpq takes whole seconds,
    at least 2).  Shared with the SQLAlchemy engine (db.make_engine)."""
    import math

    wait = lock_timeout()
    return {"connect_timeout": max(2, math.ceil(wait)),
            "options": f"-c lock_timeout={max(1, int(wait * 1000))}"}


def pg_driver() -> Any | None:
    """The DB-API module of the light PostgreSQL paths: psycopg2 when installed (it imports in
    ~8 ms, `_import_psycopg2`), else psycopg (~110-150 ms: importlib.metadata, asyncio,
    logging, ctypes); None without either.  Rows come back typed alike (ints, text,
    `datetime.date`, aware timestamps, `Decimal`), as the ORM reads them through psycopg:
    `tests/test_pg_light.py` compares the two."""
    try:
        psycopg2 = _import_psycopg2()
    except ImportError:
        pass
    else:
        return psycopg2
    try:
        import psycopg
    except ImportError:
        return None
    return psycopg


def _import_psycopg2() -> Any:
    """`import psycopg2`, without Python's `ssl` module when nothing has loaded it yet.

    psycopg2's C module imports `ssl` (~12 ms of its ~25) only so that Python sets up
    libcrypto's locking callbacks before libpq would (psycopgmodule.c, for OpenSSL < 1.1,
    which needed them); when that import fails it lets libpq set up OpenSSL itself, as any
    libpq program does.  OpenSSL 1.1 and later need no callbacks, and libpq still speaks TLS
    (`sslmode=require`) through its own OpenSSL.  The import lock is held meanwhile, so no
    other thread can see `ssl` missing; a later `import ssl` works as usual."""
    if "psycopg2" in sys.modules or "ssl" in sys.modules:
        import psycopg2

        return psycopg2
    import _imp

    _imp.acquire_lock()
    try:
        sys.modules["ssl"] = None  # type: ignore[assignment]  # `import ssl` fails
        try:
            import psycopg2
        finally:
            if sys.modules.get("ssl", 0) is None:
                del sys.modules["ssl"]
    finally:
        _imp.release_lock()
    return psycopg2


def pg_errors() -> tuple[type[BaseException], ...]:
    """The driver errors a light PostgreSQL path can raise (those of the drivers loaded)."""
    mods = (sys.modules.get("psycopg2"), sys.modules.get("psycopg"))
    return tuple(m.Error for m in mods if m is not None and hasattr(m, "Error"))


def pg_connect(target: str) -> Any | None:
    """A plain DB-API connection (`pg_driver`) to the server `target` names, not in
    autocommit (the first statement begins a transaction), else None (not a PostgreSQL URL,
    no driver, or no connection): the caller then takes the SQLAlchemy path, which explains
    any problem in one line."""
    info = pg_conninfo(target)
    if info is None:
        return None
    driver = pg_driver()
    if driver is None:
        return None
    try:
        return driver.connect(info, **pg_connect_args())
    except driver.Error:
        return None


def pg_cursor(conn: Any, sql: str, params: dict[str, Any] | None = None) -> Any:
    """A cursor that has run `:name` SQL on a connection of either driver (the parameters
    always bound, so a literal `%` reads as one whether or not there are any)."""
    cur = conn.cursor()
    cur.execute(pg_sql(sql), params or {})
    return cur


def _read_only(conn: Any, snapshot: bool) -> None:
    """Make the connection's transactions read-only (REPEATABLE READ with snapshot), in the
    BEGIN itself: no statement more."""
    if type(conn).__module__.startswith("psycopg2"):
        conn.set_session(readonly=True,
                         isolation_level="REPEATABLE READ" if snapshot else None)
        return
    import psycopg

    conn.read_only = True
    if snapshot:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ


def open_pg(target: str, *, snapshot: bool = False) -> Any | None:
    """A DB-API connection (`pg_connect`) to an existing, current s2s database on a
    PostgreSQL server, in a read-only transaction (REPEATABLE READ with snapshot), else None:
    anything unexpected (no server, no such database, no s2s tables) goes to the SQLAlchemy
    path, which explains it in one line."""
    conn = pg_connect(target)
    if conn is None:
        return None
    try:
        _read_only(conn, snapshot)
        row = pg_cursor(conn, "SELECT (SELECT version_num FROM alembic_version LIMIT 1), "
                              "EXISTS (SELECT 1 FROM specialism)").fetchone()
    except pg_errors() as exc:
        conn.close()
        if is_busy(exc):
            raise Busy() from exc
        return None
    if row is None or not row[1]:
        conn.close()
        return None
    problem = location.schema_problem(row[0])
    if problem:
        conn.close()
        raise SchemaMismatch(problem)
    return conn


class _CopySink:
    """The file psycopg2's copy_expert writes COPY's rows to (one write per row)."""

    def __init__(self, write: Callable[[Any], Any]) -> None:
        self.write = write


def pg_reader(conn: Any) -> Reader:
    names = iter(range(1, 1 << 30))

    def run(sql: str, params: dict[str, Any]) -> Any:
        return pg_cursor(conn, sql, params)

    def stream(sql: str, params: dict[str, Any]) -> Any:
        cur = conn.cursor(name=f"s2s_stream_{next(names)}")
        cur.itersize = 5000
        cur.execute(pg_sql(sql), params or {})
        return cur

    def copy_out(sql: str, params: dict[str, Any], write: Callable[[Any], Any]) -> int:
        """Run `COPY (...) TO STDOUT ...`, handing each row's bytes (one COPY message) to
        write as the server sends it; the rows copied."""
        if type(conn).__module__.startswith("psycopg2"):
            cur = conn.cursor()
            try:
                cur.copy_expert(cur.mogrify(pg_sql(sql), params or {}).decode(),
                                _CopySink(write), size=1 << 16)
                return int(cur.rowcount)
            finally:
                cur.close()
        with conn.cursor() as cur, cur.copy(pg_sql(sql), params or None) as copy:
            for data in copy:
                write(data)
            return int(cur.rowcount)

    return Reader(run, "postgresql", stream, copy_out=copy_out)


def driver_reader(session: Any) -> Reader:
    """`session_reader` straight on the driver's connection the session holds (its open
    transaction: the same snapshot, its own writes seen), without SQLAlchemy's result
    objects: plain tuples, read by position - for a write that reads a national month's
    rows (issuing).  The values are the driver's either way (`text()` results are untyped)."""
    conn = session.connection()
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        return Reader(raw.execute, "sqlite")
    if conn.dialect.name == "postgresql":
        return pg_reader(raw)
    return session_reader(session)


def session_reader(session: Any) -> Reader:
    from sqlalchemy import text

    def run(sql: str, params: dict[str, Any]) -> Any:
        return session.execute(text(sql), params)

    def stream(sql: str, params: dict[str, Any]) -> Any:
        return session.execute(
            text(sql).execution_options(stream_results=True, yield_per=2000), params)

    return Reader(run, session.get_bind().dialect.name, stream)
