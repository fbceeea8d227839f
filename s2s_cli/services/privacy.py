"""Personal data (UK GDPR): subject access export and erasure of a leader.

* `export_data()` gathers everything held about a leader - their row, specialisms, home and
  designating schools, deployments, day logs, evaluations of their deployments, invoice lines
  naming them, and the audit rows about them (masked if they were erased) - as one JSON object.
* `erase()` replaces their personal fields (name, email, phone, notes) with a placeholder,
  marks them erased and inactive, and records one `erase` audit row that holds no personal
  values.  Deployments, days and invoices are untouched, so every total stays the same.  The
  audit trail is append-only and is never rewritten: readers mask it (services/auditlog.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from s2s_cli.errors import InvalidInput, NotFound
from s2s_cli.fastdb import Reader
from s2s_cli.services.auditlog import PERSONAL_FIELDS, placeholder, rows_about_leader


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
                                   [e["id"] for e in evaluations])
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
        "evaluations": evaluations,
        "invoice_lines": lines,
        "audit": audit_rows,
    }


@dataclass
class EraseResult:
    leader_id: str
    placeholder: str
    already: bool


def erase(session: Any, leader_id: str) -> EraseResult:
    """Erase a leader's personal fields in the caller's transaction (Core update, so the
    automatic ORM audit never copies the old values; one explicit `erase` audit row instead)."""
    from sqlalchemy import select, update

    from s2s_cli import audit
    from s2s_cli.models import Leader

    t = Leader.__table__  # type: ignore[attr-defined]
    lid = normalise_id(leader_id)
    row = session.execute(select(t.c.id, t.c.erased, t.c.active, t.c.email, t.c.phone,
                                 t.c.notes).where(t.c.id == lid).with_for_update()).first()
    if row is None:
        raise NotFound(f"no leader with id '{leader_id.strip()}'")
    if row.erased:
        return EraseResult(lid, placeholder(lid), True)
    name = placeholder(lid)
    new = {"name": name, "email": None, "phone": None, "notes": None, "erased": True,
           "active": False}
    session.execute(update(t).where(t.c.id == lid).values(**new))
    held = ["name"] + [f for f in ("email", "phone", "notes") if getattr(row, f) is not None]
    audit.record(session, "leader", lid, "erase",
                 {"erased": False, "active": bool(row.active), "fields_erased": held},
                 new)
    return EraseResult(lid, name, False)


__all__ = ["PERSONAL_FIELDS", "EraseResult", "erase", "export_data", "normalise_id"]
