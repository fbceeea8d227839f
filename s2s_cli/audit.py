"""The append-only audit trail.  Every ORM write in a unit of work is recorded automatically
(after_flush sees new, changed and deleted rows with their before/after values); bulk writes
done with Core call `record()` themselves.  The table refuses UPDATE and DELETE (triggers,
`append_only_ddl()`); only an erasure lifts them, inside its own transaction, to redact the
erased person's values (services/privacy.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlmodel import Session

from s2s_cli.models import AuditLog, utcnow

_AUDIT_TABLE = AuditLog.__table__  # type: ignore[attr-defined]

def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make audit_log refuse UPDATE and DELETE (migration 0002 creates
    them; a redaction during erasure drops and recreates them with these same statements)."""
    if dialect == "sqlite":
        return ["CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"]
    if dialect == "postgresql":
        return ["CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$",
                "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"]
    return []


def drop_append_only_ddl(dialect: str) -> list[str]:
    """The statements that remove what `append_only_ddl` creates."""
    if dialect == "sqlite":
        return ["DROP TRIGGER IF EXISTS audit_log_no_update",
                "DROP TRIGGER IF EXISTS audit_log_no_delete"]
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
                "DROP FUNCTION IF EXISTS audit_log_append_only()"]
    return []


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def dumps(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps({k: _jsonable(v) for k, v in values.items()}, sort_keys=True,
                      ensure_ascii=False)


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
    session.execute(insert(_AUDIT_TABLE), [{
        "at": utcnow(), "actor": ctx["actor"], "command": ctx["command"], "table_name": table,
        "record_id": record_id, "action": action, "before": dumps(before), "after": dumps(after),
    }])


def record_many(session: Session, table: str,
                items: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]
                ) -> None:
    """`record()` for many rows in one executemany: [(record_id, action, before, after)]."""
    if not items:
        return
    ctx = session.info.get("audit") or {"actor": "unknown", "command": "unknown"}
    now = utcnow()
    session.execute(insert(_AUDIT_TABLE), [{
        "at": now, "actor": ctx["actor"], "command": ctx["command"], "table_name": table,
        "record_id": record_id, "action": action, "before": dumps(before), "after": dumps(after),
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
        session.connection().execute(insert(_AUDIT_TABLE), rows)
