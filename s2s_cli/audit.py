"""The append-only audit trail.  Every ORM write in a unit of work is recorded automatically
(after_flush sees new, changed and deleted rows with their before/after values); bulk writes
done with Core call `record()` themselves.  The table refuses UPDATE and DELETE (triggers,
`append_only_ddl()`); only an erasure lifts them, inside its own transaction, to redact the
erased person's values (services/privacy.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import bindparam, event, inspect, text, update
from sqlmodel import Session

from s2s_cli import bulk, tamper
from s2s_cli.models import AuditLog, Invoice, utcnow

_AUDIT_TABLE = AuditLog.__table__  # type: ignore[attr-defined]
_INVOICE_TABLE = Invoice.__table__  # type: ignore[attr-defined]

# The triggers' statements live with the rest of the tamper evidence (stdlib only, so `db
# check` can verify them on the fast path); migrations and erasure import them from here.
append_only_ddl = tamper.append_only_ddl
drop_append_only_ddl = tamper.drop_append_only_ddl


def _tail(session_or_conn: Any) -> tuple[int, str]:
    """(last id, last hash) of the chain, inside the current write transaction.  PostgreSQL:
    an advisory transaction lock first, so concurrent writers take the tail one at a time
    (SQLite's BEGIN IMMEDIATE already does).  Cached per transaction on a Session."""
    info = getattr(session_or_conn, "info", None)
    cached = info.get("audit_tail") if isinstance(session_or_conn, Session) else None
    if cached is not None:
        return cached
    conn = (session_or_conn.connection() if isinstance(session_or_conn, Session)
            else session_or_conn)
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({tamper.CHAIN_LOCK_KEY})"))
    row = conn.execute(text("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")).first()
    tail = (0, tamper.GENESIS) if row is None else (int(row[0]), str(row[1] or tamper.GENESIS))
    return tail


def _append(session_or_conn: Any, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows, numbered and chained after the current tail."""
    if not rows:
        return
    last_id, prev = _tail(session_or_conn)
    for row in rows:
        last_id += 1
        row["id"] = last_id
    prev = tamper.seal_rows(prev, rows)
    is_session = isinstance(session_or_conn, Session)
    conn = session_or_conn.connection() if is_session else session_or_conn
    bulk.insert_many(conn, _AUDIT_TABLE, rows)
    if conn.dialect.name == "postgresql":  # ids are given, not drawn: keep the sequence level
        conn.execute(text("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), :v)"),
                     {"v": last_id})
    if is_session:
        session_or_conn.info["audit_tail"] = (last_id, prev)


@event.listens_for(Session, "after_transaction_end")
def _forget_tail(session: Session, _transaction: Any) -> None:
    session.info.pop("audit_tail", None)  # a rollback (or a savepoint's) may undo rows


def reseal(session: Session, from_id: int, *, reason: str) -> int:
    """Recompute the chain from audit row from_id to the end, after a sanctioned rewrite of
    audit rows (an erasure's redaction), and record that it was done; the rows resealed.
    Runs in the caller's transaction; lifts the append-only triggers while it updates."""
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({tamper.CHAIN_LOCK_KEY})"))
    prev_row = conn.execute(text("SELECT hash FROM audit_log WHERE id < :i ORDER BY id DESC "
                                 "LIMIT 1"), {"i": from_id}).first()
    prev = str(prev_row[0]) if prev_row is not None and prev_row[0] else tamper.GENESIS
    cols = ", ".join(tamper.AUDIT_FIELDS)
    rows = conn.execute(text(f"SELECT {cols}, hash FROM audit_log WHERE id >= :i "
                             "ORDER BY id"), {"i": from_id}).all()
    changes = []
    for r in rows:
        prev = tamper.link(prev, tamper.audit_content(list(r[:-1])))
        if prev != r[-1]:
            changes.append({"k_id": r[0], "k_hash": prev})
    if changes:
        for statement in drop_append_only_ddl(dialect):
            conn.exec_driver_sql(statement)
        conn.execute(text("UPDATE audit_log SET hash = :k_hash WHERE id = :k_id"), changes)
        for statement in append_only_ddl(dialect):
            conn.exec_driver_sql(statement)
    session.info["audit_tail"] = (int(rows[-1][0]), prev) if rows else _tail(conn)
    record(session, "audit_log", str(from_id), "reseal", None,
           {"from_id": from_id, "rows": len(rows), "rehashed": len(changes), "reason": reason})
    return len(rows)


def seal_documents(session_or_conn: Any, ids: list[int], *, actor: str | None = None,
                   command: str | None = None, hashes: dict[int, str] | None = None,
                   stored: bool = False) -> None:
    """Seal issued invoices / credit notes: store the hash of their content (invoice, lines,
    day links) and record it in the chain as a `seal` row.  Call once their rows are written,
    in the same transaction (batched: a few queries for any number of documents).  `hashes`:
    already computed from the rows just written (tamper.hashes_of_rows), not read back;
    `stored`: those hashes were written with the invoice rows themselves (`doc_hash`), so
    only the seal rows are appended."""
    from s2s_cli.fastdb import Reader

    if not ids:
        return
    is_session = isinstance(session_or_conn, Session)
    if is_session:
        session_or_conn.flush()
    conn = session_or_conn.connection() if is_session else session_or_conn
    reader = Reader(lambda sql, params: conn.execute(text(sql), params), conn.dialect.name)
    if hashes is None:
        hashes = tamper.document_hashes(reader, ids)
    elif stored and set(hashes) != set(ids):
        raise ValueError("stored seals for other documents than those given")
    if not stored:
        table = _INVOICE_TABLE
        conn.execute(update(table).where(table.c.id == bindparam("k_id"))
                     .values(doc_hash=bindparam("k_hash")),
                     [{"k_id": i, "k_hash": h} for i, h in hashes.items()])
    ctx = (session_or_conn.info.get("audit") if is_session else None) or {
        "actor": "s2s", "command": "seal"}
    ctx = {"actor": actor or ctx["actor"], "command": command or ctx["command"]}
    now = utcnow()
    _append(session_or_conn, [{
        "at": now, "actor": ctx["actor"], "command": ctx["command"], "table_name": "invoice",
        "record_id": str(i), "action": "seal", "before": None,
        "after": dumps({"doc_hash": h})} for i, h in sorted(hashes.items())])


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# one encoder for every row (json.dumps with options builds a new one per call); dates are
# written as isoformat() by `default`
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=_iso)


def dumps(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    return _ENCODER.encode(values)


def attach(session: Session, *, actor: str, command: str) -> None:
    session.info["audit"] = {"actor": actor, "command": command}


def _pk(obj: Any) -> str:
    state = inspect(obj)
    ident = state.identity
    if ident is None:  # a row inserted by this flush: its key is set, its identity not yet
        ident = state.mapper.primary_key_from_instance(obj)
    if ident is None or any(v is None for v in ident):
        return "?"
    return "/".join(str(v) for v in ident)


def _values(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}


def record(session: Session, table: str, record_id: str, action: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    ctx = session.info.get("audit") or {"actor": "unknown", "command": "unknown"}
    _append(session, [{
        "at": utcnow(), "actor": ctx["actor"], "command": ctx["command"], "table_name": table,
        "record_id": record_id, "action": action, "before": dumps(before), "after": dumps(after),
    }])


def record_many(session: Session, table: str,
                items: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]],
                *, encoded: bool = False) -> None:
    """`record()` for many rows in one executemany: [(record_id, action, before, after)].
    `encoded`: before and after are already `dumps()` of the values (shared by many rows)."""
    if not items:
        return
    ctx = session.info.get("audit") or {"actor": "unknown", "command": "unknown"}
    now = utcnow()
    enc: Any = (lambda v: v) if encoded else dumps
    _append(session, [{
        "at": now, "actor": ctx["actor"], "command": ctx["command"], "table_name": table,
        "record_id": record_id, "action": action, "before": enc(before), "after": enc(after),
    } for record_id, action, before, after in items])


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context: Any) -> None:
    ctx = session.info.get("audit")
    if ctx is None:
        return
    rows: list[dict[str, Any]] = []
    now = utcnow()

    def add(obj: Any, action: str, before: dict | None, after: dict | None) -> None:
        rows.append({"at": now, "actor": ctx["actor"], "command": ctx["command"],
                     "table_name": obj.__tablename__, "record_id": _pk(obj), "action": action,
                     "before": dumps(before), "after": dumps(after)})

    for obj in session.new:
        if not isinstance(obj, AuditLog):
            add(obj, "insert", None, _values(obj))
    for obj in session.dirty:
        if isinstance(obj, AuditLog) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for attr in state.mapper.column_attrs:
            hist = state.attrs[attr.key].history
            if hist.has_changes():
                before[attr.key] = hist.deleted[0] if hist.deleted else None
                after[attr.key] = hist.added[0] if hist.added else None
        if after:
            add(obj, "update", before, after)
    for obj in session.deleted:
        if not isinstance(obj, AuditLog):
            add(obj, "delete", _values(obj), None)
    if rows:
        _append(session, rows)
