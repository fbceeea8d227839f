"""Personal data (UK GDPR): subject access export and erasure of a leader.

* `export_data()` gathers everything held about a leader - their row, specialisms, home and
  designating schools, deployments, day logs, evaluations of their deployments, invoice lines
  naming them, and the audit rows about them (masked if they were erased) - as one JSON object.
* `erase()` replaces their personal fields (name, email, phone, notes) with a placeholder,
  marks them erased and inactive, redacts them everywhere else s2s holds them (below), and
  records one `erase` audit row that holds no personal values, only counts per place.
  Deployments, days and invoice totals are untouched, so every total stays the same.

What is theirs: the names, emails and phones they have held *as a leader* - their row now and
every before/after of their own audit rows (`Identity`).  A value that is also another record's
(a school called "Bolton High School", another leader's name or phone) is not theirs alone:
it is redacted in their own rows only, and counted as `shared_values_kept`.  Redacted:

* live rows: mentions in other leaders' notes, requests' contacts, notes and cancel reasons,
  deployments' override reasons, day notes and over-capacity reasons, evaluations, and issued
  invoices and credit notes (their JSON details, e.g. a void reason; a payer that is exactly
  them): each mention becomes the placeholder `[erased L0042]`, a stable pseudonym, so an
  issued document keeps its totals and reads sensibly;
* the audit trail: their own rows (`name` -> the placeholder; `email`, `phone`, `notes` ->
  null); the `actor` of commands they ran (`--as "Their Name"`); in other rows the same free
  text keys, an `email`/`phone` equal to theirs (null) and a person-valued `name` equal to
  theirs - but never the `name` of a region, authority, school, specialism or another leader,
  which is that record's own.

Audit redaction is the one exception to the append-only trail, narrow and in the erasure's own
transaction: the triggers that refuse UPDATE/DELETE are dropped, only the rows holding the
person's values are rewritten, and the triggers are recreated with the very statements
migration 0002 uses (`audit.append_only_ddl`) before the transaction commits (on PostgreSQL the
DROP TRIGGER holds an exclusive lock on audit_log until then, so nobody else can change a row
meanwhile).

On SQLite the erasure runs with `secure_delete` on (the old bytes are overwritten, not just
unlinked) and the CLI then checkpoints the WAL (`checkpoint_wal`).  Readers still mask audit
rows (services/auditlog.py) as well: a second line of defence.  Files written before the
erasure (exports, PDFs someone saved) are outside s2s: the next export is clean."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from s2s_cli.errors import InvalidInput, NotFound
from s2s_cli.fastdb import Reader
from s2s_cli.services.auditlog import PERSONAL_FIELDS, _like, placeholder, rows_about_leader


def normalise_id(leader_id: str) -> str:
    from s2s_cli.parsing import text_problem

    lid = (leader_id or "").strip().upper()
    if not lid or len(lid) > 20 or text_problem(lid):
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


# Where a coordinator types free text that may mention a person (live rows and the same keys in
# audit before/after values), and the place each is reported under.
FREE_TEXT: dict[str, dict[str, str]] = {
    "leader": {"notes": "leader_notes"},
    "support_request": {"contact": "request_contacts", "note": "request_notes",
                        "cancel_reason": "request_notes"},
    "deployment": {"override_reason": "deployment_notes"},
    "day_log": {"note": "day_notes", "over_reason": "day_notes"},
    "evaluation": {"impact": "evaluations"},
    "invoice": {"details": "invoices", "payer": "invoices", "document": "invoices"},
}
# Tables whose `name` column is the record's own name: never a person's value to redact
# (a school called "Bolton High School" keeps its name whoever else was once called that).
NAMED_TABLES = ("region", "local_authority", "school", "specialism", "leader")
FREE_KEYS = {key for cols in FREE_TEXT.values() for key in cols} | {"reason"}
PLACES = ("leader", "leader_notes", "request_contacts", "request_notes", "deployment_notes",
          "day_notes", "evaluations", "invoices", "audit_actors", "audit_values")


@dataclass
class EraseResult:
    leader_id: str
    placeholder: str
    already: bool
    audit_rows_redacted: int = 0
    redacted: dict[str, int] | None = None  # place -> rows changed (PLACES)
    shared_values_kept: int = 0  # held values also another record's: left alone elsewhere

    def summary(self) -> str:
        counts = self.redacted or {}
        parts = [f"{place.replace('_', ' ')} {n}" for place, n in counts.items() if n]
        return ", ".join(parts) or "nothing"


def _load(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass
class Identity:
    """The values that are an erased leader's: the names, emails and phones they have held as
    a leader (their row now and every before/after of their own audit rows), less any equal
    to another record's (another leader's, a school's, an authority's...), which are not
    theirs alone and so are left alone outside the leader's own rows."""

    leader_id: str
    placeholder: str
    names: set[str]
    emails: set[str]  # lower case
    phones: set[str]
    shared: set[str]

    def values(self) -> list[str]:
        return sorted(self.names | self.emails | self.phones, key=len, reverse=True)

    def _pattern(self) -> Any:
        import re

        if not hasattr(self, "_re"):
            alts = "|".join(re.escape(v) for v in self.values())
            self._re = re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE) if alts else None
        return self._re

    def scrub(self, text: str) -> str:
        """`text` with every mention of the person replaced by the placeholder."""
        pattern = self._pattern()
        if pattern is None or not text:
            return text
        return pattern.sub(self.placeholder, text)

    def scrub_value(self, value: Any) -> Any:
        """Free text, or a JSON document (an invoice's details) whose strings are free text."""
        if not isinstance(value, str):
            return value
        stripped = value.lstrip()
        if stripped.startswith("{"):
            try:
                data = json.loads(value)
            except ValueError:
                data = None
            if isinstance(data, dict):
                fixed = self._walk(data)
                return value if fixed == data else json.dumps(fixed)
        return self.scrub(value)

    def _walk(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.scrub(data)
        if isinstance(data, list):
            return [self._walk(v) for v in data]
        if isinstance(data, dict):
            return {k: self._walk(v) for k, v in data.items()}
        return data

    def is_theirs(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        v = " ".join(value.split()).lower()
        return v in {n.lower() for n in self.names} or v in self.emails

    def like_patterns(self) -> list[str]:
        """Lower-case LIKE patterns finding a value however it was stored (plain text, in an
        audit row's JSON, or ASCII-escaped inside an invoice's JSON details)."""
        forms: set[str] = set()
        for v in self.values():
            for form in (v, json.dumps(v, ensure_ascii=False)[1:-1], json.dumps(v)[1:-1],
                         json.dumps(json.dumps(v)[1:-1], ensure_ascii=False)[1:-1]):
                forms.add(form.lower())
        return [f"%{_like(f)}%" for f in sorted(forms)]


def _identity(conn: Any, leader_id: str, row: Any) -> Identity:
    from sqlalchemy import text

    name = placeholder(leader_id)
    names: set[str] = {row.name or ""}
    emails: set[str] = {row.email or ""}
    phones: set[str] = {row.phone or ""}
    own = conn.execute(text("SELECT before, after FROM audit_log WHERE table_name = 'leader' "
                            "AND record_id = :id"), {"id": leader_id}).all()
    for r in own:  # every value they have held, not only the last
        for data in (_load(r.before), _load(r.after)):
            for key, found in (("name", names), ("email", emails), ("phone", phones)):
                if data and isinstance(data.get(key), str):
                    found.add(data[key])
    names = {" ".join(n.split()) for n in names}
    names = {n for n in names if len(n) >= 3 and n != name and not n.startswith("[erased ")}
    emails = {e.strip().lower() for e in emails if len(e.strip()) >= 3}
    phones = {p.strip() for p in phones if sum(c.isdigit() for c in p) >= 6}
    shared: set[str] = set()
    lowered = sorted({n.lower() for n in names})
    if lowered:
        marks = ", ".join(f":n{i}" for i in range(len(lowered)))
        params: dict[str, Any] = {f"n{i}": v for i, v in enumerate(lowered)}
        params["id"] = leader_id
        for table in NAMED_TABLES:
            extra = " AND id <> :id" if table == "leader" else ""
            for (found,) in conn.execute(text(
                    f"SELECT lower(name) FROM {table} WHERE lower(name) IN ({marks}){extra}"),
                    params):
                shared.add(found)
    if emails:
        marks = ", ".join(f":e{i}" for i in range(len(emails)))
        params = {f"e{i}": v for i, v in enumerate(sorted(emails))}
        params["id"] = leader_id
        shared |= {r[0] for r in conn.execute(text(
            f"SELECT lower(email) FROM leader WHERE lower(email) IN ({marks}) AND id <> :id"),
            params)}
    if phones:
        marks = ", ".join(f":p{i}" for i in range(len(phones)))
        params = {f"p{i}": v for i, v in enumerate(sorted(phones))}
        params["id"] = leader_id
        shared |= {r[0] for r in conn.execute(text(
            f"SELECT phone FROM leader WHERE phone IN ({marks}) AND id <> :id"), params)}
    return Identity(leader_id, name, {n for n in names if n.lower() not in shared},
                    {e for e in emails if e not in shared},
                    {p for p in phones if p not in shared}, shared)


def _where_like(columns: list[str], patterns: list[str]) -> tuple[str, dict[str, Any]]:
    params = {f"q{i}": p for i, p in enumerate(patterns)}
    clauses = [f"lower({c}) LIKE :q{i} ESCAPE '\\'" for c in columns
               for i in range(len(patterns))]
    return "(" + " OR ".join(clauses) + ")", params


def _redact_live(conn: Any, who: Identity, counts: dict[str, int]) -> None:
    """Mentions of the person in other rows' free text (other leaders' notes, requests'
    contacts and notes, deployments' reasons, day notes, evaluations, invoices)."""
    from sqlalchemy import text

    patterns = who.like_patterns()
    if not patterns:
        return
    resealed: list[int] = []
    for table, cols in FREE_TEXT.items():
        key = "id"
        where, params = _where_like(list(cols), patterns)
        if table == "leader":
            where += " AND id <> :lid"
            params["lid"] = who.leader_id
        rows = conn.execute(text(f"SELECT {key}, {', '.join(cols)} FROM {table} WHERE {where} "
                                 f"ORDER BY {key}"), params).all()
        for r in rows:
            changes: dict[str, Any] = {}
            for i, col in enumerate(cols, start=1):
                old = r[i]
                if table == "invoice" and col == "payer":
                    new = who.placeholder if who.is_theirs(old) else old
                else:
                    new = who.scrub_value(old)
                if new != old:
                    changes[col] = new
            if not changes:
                continue
            sets = ", ".join(f"{c} = :v_{c}" for c in changes)
            conn.execute(text(f"UPDATE {table} SET {sets} WHERE {key} = :k"),
                         {**{f"v_{c}": v for c, v in changes.items()}, "k": r[0]})
            for place in {cols[c] for c in changes}:
                counts[place] = counts.get(place, 0) + 1
            if table == "invoice":
                resealed.append(int(r[0]))
    if resealed:  # issued documents rewritten by the erasure: sealed again, in the chain
        from s2s_cli import audit

        audit.seal_documents(conn, resealed, command="s2s leader erase")


def _redacted(data: dict[str, Any], *, table: str, own: bool, who: Identity) -> dict[str, Any]:
    out = dict(data)
    for key, value in data.items():
        if own and key in PERSONAL_FIELDS:
            out[key] = (who.placeholder if key == "name" else None) if value is not None \
                else None
            continue
        if not isinstance(value, str):
            continue
        if key in FREE_KEYS and not (key == "payer"):
            out[key] = who.scrub_value(value)
        elif table == "leader" and key in PERSONAL_FIELDS:
            continue  # another leader's own name/email/phone: theirs, even if the same
        elif key == "name" and table in NAMED_TABLES:
            continue  # a school's (an authority's...) own name is never the person's
        elif key in ("name", "payer") and who.is_theirs(value):
            out[key] = who.placeholder
        elif key == "email" and value.strip().lower() in who.emails:
            out[key] = None
        elif key == "phone" and value.strip() in who.phones:
            out[key] = None
    return out


def redact_audit(session: Any, who: Identity, counts: dict[str, int]) -> int:
    """Rewrite the erased leader's values in the audit trail: their own rows' personal keys,
    the actor of the commands they ran (`--as "Their Name"`), and mentions of them in other
    rows (see the module notes).  The number of audit rows changed; runs in the caller's
    (the erasure's) transaction."""
    from sqlalchemy import text

    from s2s_cli import audit

    conn = session.connection()
    lid = who.leader_id
    own = conn.execute(text("SELECT id, table_name, record_id, actor, before, after FROM "
                            "audit_log WHERE table_name = 'leader' AND record_id = :id"),
                       {"id": lid}).all()
    patterns = who.like_patterns()
    others = []
    if patterns:
        where, params = _where_like(["before", "after", "actor"], patterns)
        params["id"] = lid
        others = conn.execute(text(
            "SELECT id, table_name, record_id, actor, before, after FROM audit_log WHERE NOT "
            f"(table_name = 'leader' AND record_id = :id) AND {where}"), params).all()
    changes = []
    for r, is_own in [(r, True) for r in own] + [(r, False) for r in others]:
        new: dict[str, Any] = {}
        for key in ("before", "after"):
            value = getattr(r, key)
            data = _load(value)
            if data is None:
                new[key] = value
                continue
            fixed = _redacted(data, table=r.table_name, own=is_own, who=who)
            new[key] = audit.dumps(fixed) if fixed != data else value
        actor = who.placeholder if who.is_theirs(r.actor) else who.scrub(r.actor or "")
        actor = actor or r.actor
        if actor != r.actor:
            counts["audit_actors"] = counts.get("audit_actors", 0) + 1
        if (new["before"], new["after"]) != (r.before, r.after):
            counts["audit_values"] = counts.get("audit_values", 0) + 1
        if (new["before"], new["after"], actor) != (r.before, r.after, r.actor):
            changes.append({"k_id": r.id, "k_before": new["before"], "k_after": new["after"],
                            "k_actor": actor})
    if not changes:
        return 0
    dialect = conn.dialect.name
    for statement in audit.drop_append_only_ddl(dialect):
        conn.exec_driver_sql(statement)
    conn.execute(text("UPDATE audit_log SET before = :k_before, after = :k_after, "
                      "actor = :k_actor WHERE id = :k_id"), changes)
    for statement in audit.append_only_ddl(dialect):
        conn.exec_driver_sql(statement)
    # the rewritten rows no longer match their hashes: chain again from the first of them
    # (recorded as a `reseal` audit row)
    audit.reseal(session, min(c["k_id"] for c in changes),
                 reason=f"erasure of {who.leader_id}")
    return len(changes)


def erase(session: Any, leader_id: str) -> EraseResult:
    """Erase a leader's personal fields in the caller's transaction (Core update, so the
    automatic ORM audit never copies the old values), redact them wherever else s2s holds
    them (free text of other rows, the audit trail), and record one explicit `erase` audit
    row holding only counts."""
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
        return EraseResult(lid, placeholder(lid), True, 0, dict.fromkeys(PLACES, 0))
    who = _identity(conn, lid, row)
    name = who.placeholder
    new = {"name": name, "email": None, "phone": None, "notes": None, "erased": True,
           "active": False}
    session.execute(update(t).where(t.c.id == lid).values(**new))
    counts = dict.fromkeys(PLACES, 0)
    counts["leader"] = 1
    _redact_live(conn, who, counts)
    redacted = redact_audit(session, who, counts)
    held = ["name"] + [f for f in ("email", "phone", "notes") if getattr(row, f) is not None]
    audit.record(session, "leader", lid, "erase",
                 {"erased": False, "active": bool(row.active), "fields_erased": held},
                 {**new, "audit_rows_redacted": redacted, "redacted": counts,
                  "shared_values_kept": len(who.shared)})
    return EraseResult(lid, name, False, redacted, counts, len(who.shared))


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


__all__ = ["PERSONAL_FIELDS", "PLACES", "EraseResult", "checkpoint_wal", "erase",
           "export_data", "normalise_id", "redact_audit"]
