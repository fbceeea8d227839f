"""Reading the audit trail, with erased people's personal data masked.

The audit table is append-only (triggers refuse UPDATE and DELETE).  The one sanctioned
exception is `s2s leader erase` (services/privacy.py), which, in its own audited transaction,
redacts the erased leader's personal fields in earlier audit rows.  As a second line of defence,
everything that *shows* audit rows - `s2s audit`, `s2s leader export-data`, exports - passes them
through `Masker`, which replaces the personal fields of erased leaders in the before/after
values with what the leader row now holds (the placeholder name, no email, phone or notes).

Use from other modules:

    from s2s_cli.services import auditlog
    masker = auditlog.Masker.load(reader)        # which leaders are erased
    row = masker.mask(row)                       # row: dict with table_name, record_id,
                                                 #      before, after (JSON text or dict)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from s2s_cli.errors import InvalidInput
from s2s_cli.fastdb import Reader

PERSONAL_FIELDS = ("name", "email", "phone", "notes")
MAX_LIMIT = 10_000_000
DEFAULT_LIMIT = 200

AUDIT_COLUMNS = ("id", "at", "actor", "command", "table_name", "record_id", "action", "before",
                 "after")

# An issued invoice is audited by one row (table `invoice`, action `issue`) whose `after`
# holds the invoice row and, as compact tables, what issuing it wrote with it: its lines
# (`invoice_line`) and its day links (`invoice_day`), each {"columns": ISSUE_PARTS[..],
# "rows": [[...], ...]}, the day logs it marked invoiced (`day_log`: {"ids": [...],
# "before": {"invoice_id": null}, "after": {"invoice_id": <the invoice>}}) and the supply
# cover it owes home schools (`supply_cover`: {"columns", "rows", "supply_pence"}); the row
# carries the invoice's seal (`doc_hash`), so no separate `seal` row is written.  A national
# month is tens of thousands of invoices: one chained row each, not one per line, day, mark,
# supply-cover row and seal.
ISSUE_PARTS = {
    "invoice_line": ("id", "deployment_id", "leader_id", "kind", "date_from", "date_to",
                     "full_days", "half_days", "halves", "rate_pence", "half_day_rate_pence",
                     "amount_pence", "supply_pence"),
    "invoice_day": ("day_log_id", "line_id", "halves", "kind", "amount_pence",
                    "supply_pence"),
}
ISSUE_TABLES = ("invoice_line", "invoice_day", "day_log", "supply_cover")  # in `issue` rows
_ISSUE_ROW = "(table_name = 'invoice' AND action = 'issue')"


def placeholder(leader_id: str) -> str:
    return f"[erased {leader_id}]"


@dataclass
class Masker:
    """Knows which leaders are erased and hides their personal values in audit rows."""

    erased: dict[str, str] = field(default_factory=dict)  # leader id -> placeholder name

    @classmethod
    def load(cls, reader: Reader) -> Masker:
        rows = reader.all("SELECT id, name FROM leader WHERE erased = :erased", {"erased": True})
        return cls({str(r[0]): str(r[1] or placeholder(str(r[0]))) for r in rows})

    def _about(self, row: dict[str, Any]) -> str | None:
        """The erased leader an audit row is about (their own leader row), if any."""
        if row.get("table_name") != "leader":
            return None
        rid = str(row.get("record_id") or "")
        return rid if rid in self.erased else None

    def _mask_values(self, value: Any, leader_id: str) -> Any:
        if value is None:
            return None
        data = json.loads(value) if isinstance(value, str) else dict(value)
        if not isinstance(data, dict):
            return value
        for key in PERSONAL_FIELDS:
            if key in data:
                data[key] = self.erased[leader_id] if key == "name" else None
        if isinstance(value, str):
            return json.dumps(data, sort_keys=True, ensure_ascii=False)
        return data

    def mask(self, row: dict[str, Any]) -> dict[str, Any]:
        leader_id = self._about(row)
        if leader_id is None:
            return row
        out = dict(row)
        out["before"] = self._mask_values(row.get("before"), leader_id)
        out["after"] = self._mask_values(row.get("after"), leader_id)
        return out


def mask_rows(reader: Reader, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    masker = Masker.load(reader)
    for row in rows:
        yield masker.mask(row)


@dataclass
class AuditQuery:
    record: str | None = None
    table: str | None = None
    since: dt.date | None = None
    limit: int = DEFAULT_LIMIT


def known_tables() -> tuple[str, ...]:
    """Every table whose writes are audited (the schema's, and the migrations' version)."""
    from s2s_cli import schema

    return (*sorted(t for t in schema.TABLES if t != "audit_log"), "alembic_version")


def build_query(*, record: str | None, table: str | None, since: str | None,
                limit: int | None) -> AuditQuery:
    from s2s_cli import taxonomy
    from s2s_cli.parsing import clean_text, parse_date

    q = AuditQuery()
    if record is not None:
        q.record = clean_text(record, what="--record", max_len=100, required=True)
    if table is not None:
        t = table.strip().lower().replace("-", "_")
        if t not in known_tables():
            hint = taxonomy.suggest(t, known_tables())
            raise InvalidInput(f"unknown table '{table}'" + (
                f" (did you mean '{hint}'?)" if hint else
                f": use one of {', '.join(known_tables())}"))
        q.table = t
    if since is not None:
        q.since = parse_date(since, what="--since")
    if limit is not None:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"--limit must be between 1 and {MAX_LIMIT:,}")
        q.limit = limit
    return q


def _row(r: Any) -> dict[str, Any]:
    row = dict(zip(AUDIT_COLUMNS, r, strict=True))
    at = row["at"]
    if isinstance(at, str):
        row["at"] = at[:19].replace(" ", "T")
    elif isinstance(at, dt.datetime):
        row["at"] = at.replace(microsecond=0).isoformat()
    return row


def listing(reader: Reader, q: AuditQuery) -> tuple[list[dict[str, Any]], int]:
    """The newest `limit` matching rows, oldest first, masked; and how many matched in all."""
    where: list[str] = []
    params: dict[str, Any] = {}
    invoice_id = _invoice_id(reader, q.record) if q.record else None
    if invoice_id is not None:
        # an invoice or credit note number: the invoice row, its lines and its days
        line_ids = [str(r[0]) for r in reader.all(
            "SELECT id FROM invoice_line WHERE invoice_id = :inv", {"inv": invoice_id})]
        marks = ", ".join(f":line{j}" for j in range(len(line_ids))) or "NULL"
        where.append("((table_name = 'invoice' AND record_id = :inv) OR "
                     "(table_name = 'invoice_day' AND record_id LIKE :inv_days) OR "
                     f"(table_name = 'invoice_line' AND record_id IN ({marks})))")
        params.update(inv=str(invoice_id), inv_days=f"{invoice_id}/%",
                      **{f"line{j}": v for j, v in enumerate(line_ids)})
    elif q.record:
        rec = q.record.strip()
        # leader ids are typed in any case; composite keys (L0042/phonics) belong to L0042
        clause = ("record_id = :rec OR record_id = :rec_up OR record_id LIKE :prefix "
                  "ESCAPE '\\' OR record_id LIKE :prefix_up ESCAPE '\\'")
        params.update(rec=rec, rec_up=rec.upper(), prefix=_like(rec) + "/%",
                      prefix_up=_like(rec.upper()) + "/%")
        if rec.isdigit() and q.table in (None, *ISSUE_TABLES):
            # a day log or invoice line id: also the `issue` rows of the invoices holding it
            holders = []
            if q.table != "invoice_line":
                holders.append("SELECT invoice_id FROM invoice_day WHERE day_log_id = :rec_n")
            if q.table in (None, "invoice_line"):
                holders.append("SELECT invoice_id FROM invoice_line WHERE id = :rec_n")
            clause += (f" OR ({_ISSUE_ROW} AND record_id IN (SELECT CAST(invoice_id AS "
                       f"VARCHAR) FROM ({' UNION '.join(holders)}) h))")
            params["rec_n"] = int(rec)
        where.append(f"({clause})")
    if q.table:
        # lines, day links and day marks written by issuing are in the invoices' issue rows
        where.append(f"(table_name = :table OR {_ISSUE_ROW})" if q.table in ISSUE_TABLES
                     else "table_name = :table")
        params["table"] = q.table
    if q.since:
        where.append("at >= :since")
        params["since"] = dt.datetime.combine(q.since, dt.time())
        if reader.dialect == "sqlite":
            params["since"] = params["since"].isoformat(sep=" ")
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = int(reader.scalar(f"SELECT count(*) FROM audit_log{clause}", params) or 0)
    params["limit"] = q.limit
    rows = [_row(r) for r in reader.all(
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log{clause} ORDER BY id DESC "
        "LIMIT :limit", params)]
    rows.reverse()
    return list(mask_rows(reader, rows)), total


def _invoice_id(reader: Reader, record: str) -> int | None:
    """The id of the invoice or credit note numbered `record` (any case), if there is one."""
    rec = record.strip()
    if not any(c.isalpha() for c in rec) or "-" not in rec:
        return None  # a plain id or a leader id, never an invoice number
    row = reader.one("SELECT id FROM invoice WHERE lower(number) = :n", {"n": rec.lower()})
    return int(row[0]) if row is not None else None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def rows_about_leader(reader: Reader, leader_id: str, deployment_ids: list[int],
                      day_ids: list[int], evaluation_ids: list[int],
                      plan_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Every audit row about a leader: their leader row, their specialism links, and the
    deployments, day logs and evaluations that name them.  Masked; oldest first."""
    rows: dict[int, dict[str, Any]] = {}
    cols = ", ".join(AUDIT_COLUMNS)
    for r in reader.iter(
            f"SELECT {cols} FROM audit_log WHERE (table_name = 'leader' AND record_id = :id) "
            "OR (table_name = 'leader_specialism' AND (record_id = :id OR record_id LIKE "
            ":prefix ESCAPE '\\'))", {"id": leader_id, "prefix": _like(leader_id) + "/%"}):
        row = _row(r)
        rows[row["id"]] = row
    for table, ids in (("deployment", deployment_ids), ("day_log", day_ids),
                       ("evaluation", evaluation_ids), ("planned_session", plan_ids or [])):
        keys = [str(i) for i in ids]
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ", ".join(f":k{j}" for j in range(len(chunk)))
            params: dict[str, Any] = {f"k{j}": v for j, v in enumerate(chunk)}
            params["table"] = table
            for r in reader.iter(f"SELECT {cols} FROM audit_log WHERE table_name = :table "
                                 f"AND record_id IN ({marks})", params):
                row = _row(r)
                rows[row["id"]] = row
    ordered = [rows[k] for k in sorted(rows)]
    ordered.extend(_marks_of(reader, leader_id, set(day_ids)))
    ordered.sort(key=lambda r: r["id"])  # stable: a row's own entries stay together
    return list(mask_rows(reader, ordered))


def _marks_of(reader: Reader, leader_id: str, day_ids: set[int]) -> list[dict[str, Any]]:
    """The leader's day logs marked invoiced, from the `issue` audit rows of the invoices
    that bill them: one row each, as a day log's own update row reads (same audit id, table
    `day_log`, record id the day, action `update`), with nothing about other leaders."""
    if not day_ids:
        return []
    invoices = [str(r[0]) for r in reader.all(
        "SELECT DISTINCT invoice_id FROM invoice_line WHERE leader_id = :id", {"id": leader_id})]
    out: list[dict[str, Any]] = []
    cols = ", ".join(AUDIT_COLUMNS)
    for i in range(0, len(invoices), 500):
        chunk = invoices[i:i + 500]
        marks = ", ".join(f":k{j}" for j in range(len(chunk)))
        params: dict[str, Any] = {f"k{j}": v for j, v in enumerate(chunk)}
        for r in reader.iter(f"SELECT {cols} FROM audit_log WHERE {_ISSUE_ROW} "
                             f"AND record_id IN ({marks})", params):
            row = _row(r)
            marked = (json.loads(row["after"] or "{}") or {}).get("day_log") or {}
            before = json.dumps(marked.get("before"), sort_keys=True, ensure_ascii=False)
            after = json.dumps(marked.get("after"), sort_keys=True, ensure_ascii=False)
            for day in marked.get("ids") or ():
                if day in day_ids:
                    out.append({**row, "table_name": "day_log", "record_id": str(day),
                                "action": "update", "before": before, "after": after})
    return out
