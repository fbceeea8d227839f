"""Personal data (UK GDPR): subject access export and erasure of a leader.

* `export_data()` gathers everything held about a leader - their row, specialisms, home and
  designating schools, deployments, day logs, evaluations of their deployments, invoice lines
  naming them, and the audit rows about them (masked if they were erased) - as one JSON object.
* `erase()` replaces their personal fields (name, email, phone, notes) with a placeholder,
  marks them erased and inactive, redacts the same fields in the audit trail (below), and
  records one `erase` audit row that holds no personal values and counts the audit rows
  redacted.  Deployments, days and invoices are untouched, so every total stays the same.

Audit redaction is the one exception to the append-only trail, narrow and in the erasure's own
transaction: the triggers that refuse UPDATE/DELETE are dropped, only the personal keys of the
rows holding the person's data are rewritten, and the triggers are recreated with the very
statements migration 0002 uses (`audit.append_only_ddl`) before the transaction commits (on
PostgreSQL the DROP TRIGGER holds an exclusive lock on audit_log until then, so nobody else can
change a row meanwhile).  Rows rewritten:

* their own rows (table `leader`, record their id): `name` -> the placeholder; `email`,
  `phone`, `notes` -> null (what the leader row now holds);
* any other row whose before/after holds one of the names or emails they have had (found with
  LIKE, then checked value by value): a `name` equal to one of their names -> the placeholder,
  an `email` equal to one of their emails -> null, and inside `notes` each mention of them ->
  the placeholder.  Another leader's own `name`/`email` are theirs (two people may share a
  name) and are left alone.  No other key (a request's contact, a day's note...) is touched.

On SQLite the erasure runs with `secure_delete` on (the old bytes are overwritten, not just
unlinked) and the CLI then checkpoints the WAL (`checkpoint_wal`).  Readers still mask audit
rows (services/auditlog.py) as well: a second line of defence."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from s2s_cli.errors import InvalidInput, NotFound
from s2s_cli.fastdb import Reader
from s2s_cli.services.auditlog import PERSONAL_FIELDS, _like, placeholder, rows_about_leader


def normalise_id(leader_id: str) -> str:
    lid = (leader_id or "").strip().upper()
    if not lid or len(lid) > 20 or any(ord(c) < 32 for c in lid):
        raise InvalidInput(f"'{leader_id}' is not a leader id (they look like L0042)")
    return lid


def _columns(table_name: str) -> list[tuple[str, bool]]:
    """(column, is_boolean) for a table, from the models."""
    from sqlalchemy import Boolean
    from sqlmodel import SQLModel

    import s2s_cli.models  # noqa: F401  (registers the tables)

    table = SQLModel.metadata.tables[table_name]
    return [(c.name, isinstance(c.type, Boolean)) for c in table.columns]


def _value(value: Any, boolean: bool) -> Any:
    if boolean and value is not None:
        return bool(value)
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 26 and value[10] == " " and value[4] == "-":
        return value[:19].replace(" ", "T")  # SQLite datetime text
    return value


def _fetch(reader: Reader, table: str, where: str, params: dict[str, Any],
           order: str = "id") -> list[dict[str, Any]]:
    cols = _columns(table)
    names = ", ".join(f"t.{c}" for c, _ in cols)
    rows = reader.all(f"SELECT {names} FROM {table} t WHERE {where} ORDER BY t.{order}", params)
    return [{c: _value(v, b) for (c, b), v in zip(cols, r, strict=True)} for r in rows]


def _in(ids: list[int], prefix: str) -> tuple[str, dict[str, Any]]:
    marks = ", ".join(f":{prefix}{i}" for i in range(len(ids)))
    return f"({marks})", {f"{prefix}{i}": v for i, v in enumerate(ids)}


def _chunked(reader: Reader, table: str, column: str, ids: list[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), 500):
        marks, params = _in(ids[i:i + 500], "k")
        out += _fetch(reader, table, f"t.{column} IN {marks}", params)
    return sorted(out, key=lambda r: r["id"])


def export_data(reader: Reader, leader_id: str) -> dict[str, Any]:
    from s2s_cli import __version__

    lid = normalise_id(leader_id)
    leaders = _fetch(reader, "leader", "t.id = :id", {"id": lid})
    if not leaders:
        raise NotFound(f"no leader with id '{leader_id.strip()}'")
    leader = leaders[0]
    leader["designations"] = [d for d in (leader.get("designations") or "").split(",") if d]
    specialisms = [
        {"slug": r[0], "name": r[1]} for r in reader.all(
            "SELECT s.slug, s.name FROM leader_specialism ls JOIN specialism s "
            "ON s.slug = ls.specialism_slug WHERE ls.leader_id = :id ORDER BY s.slug",
            {"id": lid})]

    def school(urn: Any) -> dict[str, Any] | None:
        if urn is None:
            return None
        row = reader.one(
            "SELECT s.urn, s.name, la.name, r.name, s.phase FROM school s "
            "JOIN local_authority la ON la.id = s.la_id JOIN region r ON r.id = la.region_id "
            "WHERE s.urn = :urn", {"urn": urn})
        if row is None:
            return {"urn": urn}
        return dict(zip(("urn", "name", "local_authority", "region", "phase"), row,
                        strict=True))

    deployments = _fetch(reader, "deployment", "t.leader_id = :id", {"id": lid})
    day_logs = _fetch(reader, "day_log", "t.leader_id = :id", {"id": lid}, order="id")
    planned = _fetch(reader, "planned_session", "t.leader_id = :id", {"id": lid}, order="id")
    dep_ids = [d["id"] for d in deployments]
    evaluations = _chunked(reader, "evaluation", "deployment_id", dep_ids)
    lines = _fetch(reader, "invoice_line", "t.leader_id = :id", {"id": lid})
    numbers = {}
    inv_ids = sorted({ln["invoice_id"] for ln in lines})
    for i in range(0, len(inv_ids), 500):
        marks, params = _in(inv_ids[i:i + 500], "k")
        for iid, series, number, issued, voided in reader.all(
                f"SELECT id, series, number, issued, voided_by_id FROM invoice WHERE id IN "
                f"{marks}", params):
            numbers[iid] = {"series": series, "number": number, "issued": _value(issued, False),
                            "voided": voided is not None}
    for ln in lines:
        ln["invoice"] = numbers.get(ln["invoice_id"])
    audit_rows = rows_about_leader(reader, lid, dep_ids, [d["id"] for d in day_logs],
                                   [e["id"] for e in evaluations],
                                   [p["id"] for p in planned])
    return {
        "subject_access_export": {
            "leader_id": lid,
            "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "generated_by": f"s2s {__version__}",
            "notes": "Money is in pence; day quantities are in halves (a full day is 2).",
        },
        "leader": leader,
        "specialisms": specialisms,
        "home_school": school(leader.get("home_school_urn")),
        "designated_by": school(leader.get("designated_by_urn")),
        "deployments": deployments,
        "day_logs": day_logs,
        "planned_sessions": planned,
        "evaluations": evaluations,
        "invoice_lines": lines,
        "audit": audit_rows,
    }


@dataclass
class EraseResult:
    leader_id: str
    placeholder: str
    already: bool
    audit_rows_redacted: int = 0


def _load(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _json_text(text: str) -> str:
    """How text appears inside the stored JSON (audit.dumps: ensure_ascii=False)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _replace_mentions(text: str, names: set[str], emails: set[str], name: str) -> str:
    import re

    for email in sorted(emails, key=len, reverse=True):
        text = re.sub(re.escape(email), name, text, flags=re.IGNORECASE)
    for old in sorted(names, key=len, reverse=True):
        text = text.replace(old, name)
    return text


def _redacted(data: dict[str, Any], *, own: bool, other_leader: bool, names: set[str],
              emails: set[str], name: str) -> dict[str, Any]:
    out = dict(data)
    for key in PERSONAL_FIELDS:
        value = out.get(key)
        if key not in out or value is None:
            continue
        if own:
            out[key] = name if key == "name" else None
        elif not isinstance(value, str):
            continue
        elif key == "notes":
            out[key] = _replace_mentions(value, names, emails, name)
        elif other_leader:
            continue  # another leader's own name/email/phone: theirs, even if the same
        elif key == "name" and value in names:
            out[key] = name
        elif key == "email" and value.lower() in emails:
            out[key] = None
    return out


def redact_audit(session: Any, leader_id: str, *, names: set[str], emails: set[str]) -> int:
    """Rewrite the erased leader's personal values in the audit trail (see the module notes);
    the number of audit rows changed.  Runs in the caller's (the erasure's) transaction."""
    from sqlalchemy import text

    from s2s_cli import audit

    conn = session.connection()
    name = placeholder(leader_id)
    own = conn.execute(text("SELECT id, table_name, record_id, before, after FROM audit_log "
                            "WHERE table_name = 'leader' AND record_id = :id"),
                       {"id": leader_id}).all()
    for r in own:  # every name and email they have had, not only the last
        for data in (_load(r.before), _load(r.after)):
            for key, found in (("name", names), ("email", emails)):
                if data and isinstance(data.get(key), str):
                    found.add(data[key])
    names = {n for n in names if isinstance(n, str) and len(n.strip()) >= 3 and n != name}
    emails = {e.lower() for e in emails if isinstance(e, str) and len(e.strip()) >= 3}
    where, params = [], {"id": leader_id}
    for i, value in enumerate(sorted(names)):
        params[f"n{i}"] = f"%{_like(_json_text(value))}%"
        where += [f"before LIKE :n{i} ESCAPE '\\'", f"after LIKE :n{i} ESCAPE '\\'"]
    for i, value in enumerate(sorted(emails)):
        params[f"e{i}"] = f"%{_like(_json_text(value))}%"
        where += [f"lower(before) LIKE :e{i} ESCAPE '\\'",
                  f"lower(after) LIKE :e{i} ESCAPE '\\'"]
    others = conn.execute(text(
        "SELECT id, table_name, record_id, before, after FROM audit_log WHERE NOT "
        f"(table_name = 'leader' AND record_id = :id) AND ({' OR '.join(where)})"),
        params).all() if where else []
    changes = []
    for r, is_own in [(r, True) for r in own] + [(r, False) for r in others]:
        new = {}
        for key in ("before", "after"):
            value = getattr(r, key)
            data = _load(value)
            if data is None:
                new[key] = value
                continue
            fixed = _redacted(data, own=is_own, other_leader=r.table_name == "leader",
                              names=names, emails=emails, name=name)
            new[key] = audit.dumps(fixed) if fixed != data else value
        if (new["before"], new["after"]) != (r.before, r.after):
            changes.append({"k_id": r.id, "k_before": new["before"], "k_after": new["after"]})
    if not changes:
        return 0
    dialect = conn.dialect.name
    for statement in audit.drop_append_only_ddl(dialect):
        conn.exec_driver_sql(statement)
    conn.execute(text("UPDATE audit_log SET before = :k_before, after = :k_after "
                      "WHERE id = :k_id"), changes)
    for statement in audit.append_only_ddl(dialect):
        conn.exec_driver_sql(statement)
    # the rewritten rows no longer match their hashes: chain again from the first of them
    # (recorded as a `reseal` audit row)
    audit.reseal(session, min(c["k_id"] for c in changes), reason=f"erasure of {leader_id}")
    return len(changes)


def erase(session: Any, leader_id: str) -> EraseResult:
    """Erase a leader's personal fields in the caller's transaction (Core update, so the
    automatic ORM audit never copies the old values), redact them in the audit trail, and
    record one explicit `erase` audit row."""
    from sqlalchemy import select, update

    from s2s_cli import audit
    from s2s_cli.models import Leader

    t = Leader.__table__  # type: ignore[attr-defined]
    lid = normalise_id(leader_id)
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")  # overwrite the old bytes
    row = session.execute(select(t.c.id, t.c.erased, t.c.active, t.c.name, t.c.email,
                                 t.c.phone, t.c.notes).where(t.c.id == lid).with_for_update()
                          ).first()
    if row is None:
        raise NotFound(f"no leader with id '{leader_id.strip()}'")
    if row.erased:
        return EraseResult(lid, placeholder(lid), True)
    name = placeholder(lid)
    new = {"name": name, "email": None, "phone": None, "notes": None, "erased": True,
           "active": False}
    session.execute(update(t).where(t.c.id == lid).values(**new))
    redacted = redact_audit(session, lid, names={row.name or ""}, emails={row.email or ""})
    held = ["name"] + [f for f in ("email", "phone", "notes") if getattr(row, f) is not None]
    audit.record(session, "leader", lid, "erase",
                 {"erased": False, "active": bool(row.active), "fields_erased": held},
                 {**new, "audit_rows_redacted": redacted})
    return EraseResult(lid, name, False, redacted)


def checkpoint_wal(engine: Any) -> bool:
    """SQLite: after an erasure, copy the WAL into the database file and truncate it, so no
    older copy of the erased values stays in the -wal file.  False if readers kept it from
    finishing (the next checkpoint does it)."""
    if engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()
    try:
        busy = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        raw.close()
    return not busy


__all__ = ["PERSONAL_FIELDS", "EraseResult", "checkpoint_wal", "erase", "export_data",
           "normalise_id", "redact_audit"]
