"""Light write transactions: one DB-API connection (stdlib sqlite3 on a SQLite file, psycopg2 or
psycopg on PostgreSQL: `fastdb.pg_driver`), no SQLAlchemy or SQLModel import (~0.4 s of a
~0.1 s command).  The everyday writes (`log`, `deploy`) run here; everything else goes through
`db.run_write`.

The guarantees are those of `db.run_write`, kept the same way:

* SQLite: foreign keys on, WAL, a busy timeout, and `BEGIN IMMEDIATE`, so a check and its
  write happen under one write lock.
* PostgreSQL: the rows a rule depends on are locked (`Tx.get(..., lock=True)`: `SELECT ... FOR
  UPDATE`); every lock wait is bounded by S2S_LOCK_TIMEOUT; serialisation failures and
  deadlocks are retried; a lock wait that ran out is `Busy`.
* The audit trail: every insert and update is recorded as `audit.py`'s `after_flush` records
  an ORM write (table, record id, action, before and after values in the same JSON), and
  appended to the hash chain (`tamper.seal_rows`) after the tail, which is read under the
  chain lock (SQLite's write lock; PostgreSQL's advisory transaction lock), in the same
  transaction as the change.
* The schema must be the one this code knows (`location.schema_problem`).

Rows come back as `Row` (a dict with attribute access) typed as the ORM would type them
(dates, timezone-aware timestamps, booleans), whichever driver served them."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from s2s_cli import location, schema, tamper
from s2s_cli.errors import Busy, S2SError, SchemaMismatch
from s2s_cli.fastdb import Reader, is_busy, lock_timeout, pg_connect, pg_cursor, pg_errors, pg_sql

if TYPE_CHECKING:
    import sqlite3

T = TypeVar("T")

_RETRY_PGCODES = {"40001", "40P01"}  # serialisation failure, deadlock: as db.run_write


def utcnow() -> dt.datetime:
    """models.utcnow, without importing the models."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Row(dict):  # type: ignore[type-arg]
    """One table row: a dict whose values also read as attributes (`row.status`)."""

    table = ""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def dumps(values: dict[str, Any] | None) -> str | None:
    """audit.dumps, without importing SQLAlchemy."""
    import json

    if values is None:
        return None
    return json.dumps({k: _jsonable(v) for k, v in values.items()}, sort_keys=True,
                      ensure_ascii=False)


class Tx:
    """One write transaction on a DB-API connection (already begun)."""

    def __init__(self, conn: Any, dialect: str, *, actor: str, command: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self.pg = dialect == "postgresql"
        self.actor, self.command = actor, command
        self.reader = Reader(self._run, dialect)
        self._audit: list[dict[str, Any]] = []

    # --- statements ------------------------------------------------------------------

    def _run(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        cur = self.conn.cursor()
        cur.execute(pg_sql(sql) if self.pg else sql, params or {})
        return cur

    def bind(self, kind: str, value: Any) -> Any:
        """A value as stored: on SQLite dates as ISO text and timestamps as SQLAlchemy
        writes them (UTC, `YYYY-MM-DD HH:MM:SS.ffffff`); as they are on PostgreSQL."""
        if value is None:
            return None
        if kind == "datetime" and isinstance(value, dt.datetime) and not self.pg:
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if kind == "date" and isinstance(value, dt.date) and not self.pg:
            return value.isoformat()
        if kind == "bool":
            return bool(value) if self.pg else int(bool(value))
        return value

    @staticmethod
    def load(kind: str, value: Any) -> Any:
        """A stored value as the ORM reads it."""
        if value is None:
            return None
        if kind == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(value[:10])
        if kind == "datetime":  # timezone-aware columns: aware values, UTC where unsaid
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        if kind == "bool":
            return bool(value)
        return value

    def get(self, table: str, *, lock: bool = False, **key: Any) -> Row | None:
        """The row with these column values (one row: a key), typed; with lock, locked for
        this transaction (FOR UPDATE on PostgreSQL; SQLite's write lock covers it)."""
        cols = schema.TABLES[table]
        where = " AND ".join(f'"{k}" = :k_{k}' for k in key)
        kinds = {c[0]: c[1] for c in cols}
        params = {f"k_{k}": self.bind(kinds[k], v) for k, v in key.items()}
        names = ", ".join(f'"{c[0]}"' for c in cols)
        sql = f'SELECT {names} FROM "{table}" WHERE {where}'
        if lock and self.pg:
            sql += " FOR UPDATE"
        raw = self.reader.one(sql, params)
        if raw is None:
            return None
        return self._row(table, raw)

    def _row(self, table: str, raw: Any) -> Row:
        row = Row((c[0], self.load(c[1], v))
                  for c, v in zip(schema.TABLES[table], raw, strict=True))
        row.table = table
        return row

    def select(self, table: str, where: str, params: dict[str, Any], *, lock: bool = False
               ) -> list[Row]:
        """Rows of a table matching a WHERE clause (`:name` parameters, bound as given)."""
        names = ", ".join(f'"{c[0]}"' for c in schema.TABLES[table])
        sql = f'SELECT {names} FROM "{table}" WHERE {where}'
        if lock and self.pg:
            sql += " FOR UPDATE"
        return [self._row(table, raw) for raw in self.reader.all(sql, params)]

    def insert(self, table: str, **values: Any) -> Row:
        """Insert one row (columns not given take the model's defaults); the row as stored,
        with its new id; audited as an insert."""
        cols = schema.TABLES[table]
        unknown = set(values) - {c[0] for c in cols}
        if unknown:
            raise TypeError(f"{table} has no column(s) {sorted(unknown)}")
        row = Row()
        row.table = table
        for name, _kind, default in cols:
            if name in values:
                row[name] = values[name]
            elif default is schema.NOW:
                row[name] = utcnow()
            elif default is schema.REQUIRED:
                raise TypeError(f"{table}.{name} is required")
            else:
                row[name] = default
        given = [(n, k) for n, k, _d in cols if not (n == "id" and row[n] is None)]
        names = ", ".join(f'"{n}"' for n, _k in given)
        marks = ", ".join(f":{n}" for n, _k in given)
        params = {n: self.bind(k, row[n]) for n, k in given}
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        auto = "id" in row and row["id"] is None
        if auto and self.pg:
            row["id"] = self._run(sql + " RETURNING id", params).fetchone()[0]
        else:
            cur = self._run(sql, params)
            if auto:
                row["id"] = cur.lastrowid
        self._record(table, row, "insert", None, dict(row))
        return row

    def update(self, row: Row, **changes: Any) -> dict[str, Any]:
        """Change columns of a row got from this transaction; only values that differ are
        written and audited (as the ORM does).  The changed columns' new values."""
        table = row.table
        kinds = {c[0]: c[1] for c in schema.TABLES[table]}
        changed = {k: v for k, v in changes.items() if row[k] != v}
        if not changed:
            return {}
        key = schema.PRIMARY_KEYS[table]
        sets = ", ".join(f'"{k}" = :v_{k}' for k in changed)
        where = " AND ".join(f'"{k}" = :k_{k}' for k in key)
        params = {f"v_{k}": self.bind(kinds[k], v) for k, v in changed.items()}
        params.update({f"k_{k}": self.bind(kinds[k], row[k]) for k in key})
        self._run(f'UPDATE "{table}" SET {sets} WHERE {where}', params)
        # in declared column order, as the ORM lists them
        order = [c[0] for c in schema.TABLES[table] if c[0] in changed]
        before = {k: row[k] for k in order}
        after = {k: changed[k] for k in order}
        row.update(changed)
        self._record(table, row, "update", before, after)
        return changed

    # --- the audit trail ---------------------------------------------------------------

    def _record(self, table: str, row: Row, action: str, before: dict[str, Any] | None,
                after: dict[str, Any] | None) -> None:
        key = schema.PRIMARY_KEYS[table]
        ident = [row.get(k) for k in key]
        record_id = "?" if any(v is None for v in ident) else "/".join(str(v) for v in ident)
        self._audit.append({"at": utcnow(), "actor": self.actor, "command": self.command,
                            "table_name": table, "record_id": record_id, "action": action,
                            "before": dumps(before), "after": dumps(after)})

    def _write_audit(self) -> None:
        rows, self._audit = self._audit, []
        if not rows:
            return
        if self.pg:
            self._run(f"SELECT pg_advisory_xact_lock({tamper.CHAIN_LOCK_KEY})")
        tail = self.reader.one("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
        last_id, prev = (0, tamper.GENESIS) if tail is None else (
            int(tail[0]), str(tail[1] or tamper.GENESIS))
        for row in rows:
            last_id += 1
            row["id"] = last_id
        tamper.seal_rows(prev, rows)
        cols = [c[0] for c in schema.TABLES["audit_log"]]
        kinds = {c[0]: c[1] for c in schema.TABLES["audit_log"]}
        names = ", ".join(f'"{c}"' for c in cols)
        if self.pg:
            marks = ", ".join(f"%({c})s" for c in cols)
        else:
            marks = ", ".join(f":{c}" for c in cols)
        cur = self.conn.cursor()
        cur.executemany(f"INSERT INTO audit_log ({names}) VALUES ({marks})",
                        [{c: self.bind(kinds[c], r.get(c)) for c in cols} for r in rows])
        if self.pg:  # ids are given, not drawn: keep the sequence level
            self._run("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), :v)",
                      {"v": last_id})

    def commit(self) -> None:
        self._write_audit()
        if self.pg:
            self.conn.commit()
        else:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self._audit = []
        try:
            if self.pg:
                self.conn.rollback()
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except Exception:  # the connection is closed next anyway
            pass


# --- opening ----------------------------------------------------------------------------


def _check(reader: Reader) -> bool:
    """Whether the database is a seeded s2s database at this code's schema (False: not
    seeded, let the full path finish or explain it; a schema mismatch is refused)."""
    row = reader.one("SELECT (SELECT version_num FROM alembic_version LIMIT 1), "
                     "(SELECT 1 FROM specialism LIMIT 1)")
    if row is None or not row[1]:
        return False
    problem = location.schema_problem(row[0])
    if problem:
        raise SchemaMismatch(problem)
    return True


def open_sqlite(target: str) -> sqlite3.Connection | None:
    path = location.sqlite_path(target)
    if path is None or location.sqlite_missing(path) or path.stat().st_size == 0:
        return None
    wait = lock_timeout()
    import sqlite3  # here: a PostgreSQL command never loads it

    try:
        conn = sqlite3.connect(path, timeout=wait, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        ok = _check(Reader(lambda sql, p: conn.execute(sql, p), "sqlite"))
    except sqlite3.Error as exc:
        conn.close()
        if is_busy(exc):
            raise Busy() from exc
        return None  # a read-only folder, not a database...: the full path explains
    except BaseException:
        conn.close()
        raise
    if not ok:
        conn.close()
        return None
    return conn


def open_pg(target: str) -> Any | None:
    conn = pg_connect(target)
    if conn is None:
        return None
    try:
        ok = _check(Reader(lambda sql, p: pg_cursor(conn, sql, p), "postgresql"))
    except pg_errors() as exc:
        conn.close()
        if is_busy(exc):
            raise Busy() from exc
        return None
    except BaseException:
        conn.close()
        raise
    if not ok:
        conn.close()
        return None
    return conn


def open_write(target: str) -> tuple[Any, str] | None:
    """A connection in a write transaction on an existing, current s2s database, with its
    dialect; None when the full path must prepare (create, seed, explain) it first."""
    if location.is_url(target) and not target.startswith("sqlite:///"):
        conn = open_pg(target)
        return (conn, "postgresql") if conn is not None else None
    conn = open_sqlite(target)
    return (conn, "sqlite") if conn is not None else None


def _retryable(exc: BaseException) -> bool:
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return code in _RETRY_PGCODES


def run(opener: Callable[[], tuple[Any, str] | None], fn: Callable[[Tx], T], *, actor: str,
        command: str, attempts: int = 8) -> tuple[bool, T | None]:
    """(True, fn(tx)) run as one committed transaction, retried on serialisation conflicts;
    (False, None) when `opener` cannot open the database this way."""
    delay = 0.05
    for attempt in range(attempts):
        opened = opener()
        if opened is None:
            return False, None
        conn, dialect = opened
        tx = Tx(conn, dialect, actor=actor, command=command)
        try:
            result = fn(tx)
            tx.commit()
            return True, result
        except Exception as exc:
            tx.rollback()
            if is_busy(exc):
                raise Busy() from exc
            if attempt + 1 < attempts and _retryable(exc):
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            raise
        except BaseException:
            tx.rollback()
            raise
        finally:
            conn.close()
    raise S2SError("the database stayed busy; nothing was written")  # pragma: no cover
