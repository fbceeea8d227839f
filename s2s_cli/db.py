"""Engine, connections and units of work.

* SQLite: foreign keys on, WAL, a busy timeout, and every write transaction starts with
  `BEGIN IMMEDIATE`, so a check and its write happen under one write lock.
* PostgreSQL: writes lock the rows they depend on (`SELECT ... FOR UPDATE`) and are retried on
  serialisation failures and deadlocks.
* A missing or empty database is created by the Alembic migrations and loaded with the bundled
  seed; a database at another schema version is refused with one line.
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from s2s_cli import location
from s2s_cli.errors import Busy, InvalidInput, Refused, S2SError, SchemaMismatch
from s2s_cli.fastdb import is_busy, lock_timeout

T = TypeVar("T")

_ENGINES: dict[str, Engine] = {}
_ENGINE_WAIT: dict[str, float] = {}  # the lock timeout each cached engine was made with


# What this process created (the default database on first use, folders above it): removed
# again if the command that created them is refused, so a refusal never leaves a file behind.
CREATED: list = []  # type: ignore[type-arg]


def make_folders(folder) -> list:  # type: ignore[no-untyped-def,type-arg]
    """Create missing folders readable by their owner only (0700), whatever the umask; the
    folders this call made, innermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    made = []
    for new in reversed(missing):
        try:
            os.mkdir(new, 0o700)
        except FileExistsError:
            continue
        os.chmod(new, 0o700)
        made.insert(0, new)
    return made


def _create_private_file(path) -> None:  # type: ignore[no-untyped-def]
    """Create the SQLite file readable by its owner only (0600) before SQLite opens it, and
    remember it (and new folders) when this process is the one that made it."""
    made = make_folders(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    CREATED.extend([path, *made])


def _only_created_by_init(path) -> bool:  # type: ignore[no-untyped-def]
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "audit_log" not in names:
            return True
        return conn.execute("SELECT 1 FROM audit_log WHERE command NOT IN ('init', 'upgrade') "
                            "LIMIT 1").fetchone() is None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def forget_created() -> None:
    CREATED.clear()


def remove_created() -> None:
    """Undo what this process created (a refused first command): the database file, its
    journal files and the folders made for it, innermost first - unless another process has
    written to it meanwhile (anything in its audit trail but the creation)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    if CREATED and not _only_created_by_init(CREATED[0]):
        CREATED.clear()
        return
    for item in CREATED:
        for suffix in ("", "-wal", "-shm", "-journal"):
            victim = item.with_name(item.name + suffix) if suffix else item
            try:
                if victim.is_dir():
                    victim.rmdir()
                else:
                    victim.unlink()
            except OSError:
                pass
    CREATED.clear()


def make_engine(target: str) -> Engine:
    url = location.sqlalchemy_url(target)
    wait = lock_timeout()
    key = url
    if key in _ENGINES:
        if _ENGINE_WAIT.get(key) == wait:
            return _ENGINES[key]
        _ENGINES.pop(key).dispose()  # S2S_LOCK_TIMEOUT changed: connect afresh
    path = location.sqlite_path(target)
    if url.startswith("sqlite"):
        if path is not None and not path.exists():
            _create_private_file(path)
        engine = create_engine(url, connect_args={"timeout": wait})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            if conn.get_execution_options().get("s2s_readonly"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connect_args: dict[str, object] = {}
        if url.startswith("postgresql"):
            from s2s_cli.fastdb import pg_connect_args

            connect_args = pg_connect_args()
        try:
            engine = create_engine(url, pool_pre_ping=False, connect_args=connect_args)
        except Exception as exc:  # unknown driver, malformed URL
            raise S2SError(f"cannot use database {location.describe(target)}: {exc}") from exc
    _ENGINES[key] = engine
    _ENGINE_WAIT[key] = wait
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def current_revision(engine: Engine) -> tuple[str | None, bool]:
    """(alembic revision or None, whether the database holds any table)."""
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        if "alembic_version" not in names:
            return None, bool(names)
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return rev, True


def upgrade(engine: Engine, revision: str = "head") -> None:
    from s2s_cli.migrate import run_upgrade

    run_upgrade(engine, revision)


def exists(target: str, *, complete: bool = False) -> bool:
    """Whether a database is at the target (any tables; with `complete`, an s2s schema that
    holds its reference data too).  Never creates anything: a missing file stays missing."""
    path = location.sqlite_path(target)
    if path is not None and location.sqlite_missing(path):
        return False
    engine = make_engine(target)
    try:
        rev, has_tables = current_revision(engine)
        if not complete or not has_tables or rev is None:
            return has_tables
        return has_directory(engine)
    except DBAPIError as exc:
        if is_busy(exc):
            raise Busy() from exc
        raise _cannot_open(target, exc) from exc


def _cannot_open(target: str, exc: DBAPIError) -> S2SError:
    path = location.sqlite_path(target)
    if path is not None and path.is_file() and not os.access(path.parent, os.W_OK):
        return S2SError(f"cannot use {path}: its folder is read-only (SQLite needs to write "
                        "its -shm/-wal files beside it); reading commands such as find, report "
                        "and export work there, this one needs a writable folder")
    return S2SError(f"cannot open database {location.describe(target)}: "
                    f"{str(exc.orig).splitlines()[0]}")


def prepare(target: str, *, auto_init: bool = True, check_schema: bool = True,
            explicit: bool = False) -> Engine:
    """The engine for a target.  The default database (neither --db nor $S2S_DB) is created and
    loaded with the demo directory on first use; a named one must exist (`s2s db init`)."""
    if explicit and not exists(target):
        raise InvalidInput(location.missing_message(target))
    engine = make_engine(target)
    try:
        rev, has_tables = current_revision(engine)
    except DBAPIError as exc:
        if is_busy(exc):
            raise Busy() from exc
        raise _cannot_open(target, exc) from exc
    if rev is None and not has_tables:
        if not auto_init:
            return engine
        with init_lock(engine, target):  # several first users at once: one creates it
            rev, has_tables = current_revision(engine)
            if rev is None and not has_tables:
                initialise(engine, target)
                return engine
    if rev is None:
        raise SchemaMismatch(f"{location.describe(target)} holds tables but is not an s2s "
                             "database (no schema version)")
    if check_schema:
        problem = location.schema_problem(rev)
        if problem:
            raise SchemaMismatch(problem)
        if auto_init and not explicit and not has_directory(engine):  # the seed never landed
            with init_lock(engine, target):
                if not has_directory(engine):
                    initialise(engine, target, migrate=False)
    return engine


INIT_LOCK_KEY = 0x5325_0001  # PostgreSQL advisory lock: creating/seeding a new database


@contextmanager
def init_lock(engine: Engine, target: str) -> Iterator[None]:
    """Serialise creating and seeding a new database between processes: a session advisory
    lock on PostgreSQL, an exclusive flock on the SQLite file (flock and SQLite's own POSIX
    locks do not interact).  The caller re-checks the database once it holds the lock."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({INIT_LOCK_KEY})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({INIT_LOCK_KEY})")
                conn.commit()
        return
    path = location.sqlite_path(target)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: SQLite's write lock must do
        fcntl = None  # type: ignore[assignment]
    if fcntl is None or path is None or not path.exists():
        yield
        return
    with open(path, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def has_directory(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM specialism LIMIT 1")).first() is not None


def initialise(engine: Engine, target: str, *, migrate: bool = True) -> None:
    """First use of the default database: the schema, reference data and the demo directory."""
    from s2s_cli import seed

    if migrate:
        upgrade(engine)
    result = seed.load_bundled(engine)
    print(f"s2s: created a new database at {location.describe(target)} and loaded the bundled "
          f"demo directory ({result.summary()})", file=sys.stderr)


def init_new(target: str, fill: Callable[[Session], T], *, actor: str, command: str) -> T:
    """`s2s db init`: create the schema at a target that holds no database, then run
    fill(session) (reference data, and the demo or the alliance's directory) in one
    transaction.  A SQLite file created here is removed again if anything fails."""
    engine = make_engine(target)
    with init_lock(engine, target):
        if exists(target, complete=True):
            raise Refused(f"a database already exists at {location.describe(target)}; "
                           "nothing was changed (use it, or `s2s db restore` a backup)")
        rev, _has_tables = current_revision(engine)
        if rev is None:
            upgrade(engine)
        elif location.schema_problem(rev):
            raise SchemaMismatch(location.schema_problem(rev) or "")
        result = run_write(engine, fill, actor=actor, command=command)
    forget_created()
    return result


def actor_name(explicit: str | None) -> str:
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@contextmanager
def read_session(engine: Engine, *, snapshot: bool = False) -> Iterator[Session]:
    """A read-only session.  SQLite: one deferred transaction, so one snapshot.  PostgreSQL:
    with snapshot, REPEATABLE READ READ ONLY (otherwise each statement sees the latest
    commits)."""
    options: dict[str, object] = {"s2s_readonly": True}
    if snapshot and engine.dialect.name == "postgresql":
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    try:
        conn = engine.connect().execution_options(**options)
    except DBAPIError as exc:
        if is_busy(exc):
            raise Busy() from exc
        raise
    try:
        with Session(bind=conn) as session:
            yield session
    except DBAPIError as exc:
        if is_busy(exc):
            raise Busy() from exc
        raise
    finally:
        conn.close()


# serialisation failures and deadlocks are retried; a lock wait that ran out is not (it has
# already waited S2S_LOCK_TIMEOUT): it becomes `Busy`
_RETRY_PGCODES = {"40001", "40P01"}


def _retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in _RETRY_PGCODES


def run_write(engine: Engine, fn: Callable[[Session], T], *, actor: str, command: str,
              attempts: int = 8) -> T:
    """Run fn(session) in one write transaction with audit context; commit or roll back as a
    whole; retry when the server reports a serialisation conflict."""
    from s2s_cli import audit

    delay = 0.05
    for attempt in range(attempts):
        session = Session(engine, expire_on_commit=False)
        audit.attach(session, actor=actor, command=command)
        try:
            result = fn(session)
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if is_busy(exc):
                raise Busy() from exc
            if attempt + 1 < attempts and _retryable(exc):
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    raise S2SError("the database stayed busy; nothing was written")  # pragma: no cover
