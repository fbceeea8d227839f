"""Home schools: the supply cover the alliance owes them, recorded when documents are issued,
and the alliance's settlements of their invoices.

`record(session, document_id)` runs inside the transaction that issues an invoice or a credit
note: an invoice writes one `supply_cover` row per charged or funded day (part) it bills - the
amount worked out when it was issued (`invoice_day.supply_pence`), owed to the home school
frozen on the deployment, under that school's name as it stands at issue; a credit note writes,
for each day it credits, the negation of the row its invoice wrote (so a partial credit
reverses only its days).  Free days owe nothing and have no row.  A month's remittance is the
sum of these rows by the date worked: a leader moving school, a school renamed or a new rate
card never move it; a void reverses it; a re-bill owes it again, once.

Settlements (`settle`) record that the alliance paid a home school's invoice; they are not tied
to a month: a home school's settlements pay its oldest months first (first in, first out), so
each month shows what is owed, settled and outstanding.  A reversal (`unsettle`) is a row of
its own, never a delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.fastdb import Reader


def _date(value: Any) -> dt.date:
    from s2s_cli.services.invoicing import _date as to_date

    return to_date(value)


# --------------------------------------------------------------------------- recording

def record(session: Any, document_ids: Sequence[int]) -> int:
    """Write the supply cover credit notes reverse (or documents owe), read back from their
    day links; how many rows.  Called by the credit-note writer; `invoicing.issue` builds an
    invoice run's rows from memory instead (`issued_rows`, `insert`)."""
    from s2s_cli import fastdb
    from s2s_cli.models import utcnow
    from s2s_cli.services.invoicing import _chunks, _in

    reader = fastdb.session_reader(session)
    issued_at = utcnow()
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(list(document_ids)):
        marks, params = _in("i", chunk)
        docs = {int(r[0]): (r[1], r[2]) for r in reader.all(
            f"SELECT id, series, credits_invoice_id FROM invoice WHERE id IN ({marks})",
            params)}
        original: dict[tuple[int, int, str], Sequence[Any]] = {}
        credited = sorted({int(c) for series, c in docs.values()
                           if series == "credit" and c is not None})
        if credited:
            cmarks, cparams = _in("c", credited)
            for r in reader.all("SELECT invoice_id, day_log_id, kind, home_school_urn, "
                                "home_school, deployment_id, leader_id, date FROM supply_cover "
                                f"WHERE invoice_id IN ({cmarks})", cparams):
                original[(int(r[0]), int(r[1]), r[2])] = r
        for (doc_id, day_id, kind, halves, supply, dep_id, leader_id, date, urn,
             name) in reader.all(
                "SELECT x.invoice_id, x.day_log_id, x.kind, x.halves, x.supply_pence, "
                "d.deployment_id, d.leader_id, d.date, "
                "COALESCE(dep.home_school_urn, l.home_school_urn), s.name "
                "FROM invoice_day x JOIN day_log d ON d.id = x.day_log_id "
                "JOIN deployment dep ON dep.id = d.deployment_id "
                "JOIN leader l ON l.id = d.leader_id "
                "JOIN school s ON s.urn = COALESCE(dep.home_school_urn, l.home_school_urn) "
                f"WHERE x.invoice_id IN ({marks}) AND x.kind <> :free "
                "ORDER BY x.invoice_id, d.date, x.day_log_id, x.line_id",
                {**params, "free": "free"}):
            series, credits = docs[int(doc_id)]
            row = {"invoice_id": int(doc_id), "day_log_id": int(day_id),
                   "deployment_id": int(dep_id), "leader_id": leader_id,
                   "home_school_urn": int(urn), "home_school": name, "date": _date(date),
                   "kind": kind, "halves": (-1 if series == "credit" else 1) * int(halves),
                   "supply_pence": int(supply), "created_at": issued_at}
            was = original.get((int(credits or 0), int(day_id), kind))
            if was is not None:  # reverse exactly what the invoice recorded
                row.update({"home_school_urn": int(was[3]), "home_school": was[4],
                            "deployment_id": int(was[5]), "leader_id": was[6],
                            "date": _date(was[7])})
            rows.append(row)
    return _write(session, rows)


def issued_rows(reader: Reader, days: Sequence[tuple[Any, ...]],
                 issued_at: dt.datetime) -> list[dict[str, Any]]:
    """The supply-cover rows of invoices just issued, from their day links in memory: what
    `record` reads back otherwise (the same rows, in the same order: by invoice, date, day,
    line), each owed to its deployment's home school (the leader's when the deployment
    names none) under that school's current name; a day whose home school is not in the
    directory owes no row, as the join there drops it.  `days`: the charged and funded day
    links of the run, as (invoice id, day log id, line id, kind, halves, supply pence,
    deployment id, leader id, date)."""
    from s2s_cli.services.invoicing import _chunks, _in

    home: dict[int, tuple[int, str]] = {}
    for chunk in _chunks(sorted({int(d[6]) for d in days})):
        marks, params = _in("d", chunk)
        for dep_id, urn, name in reader.all(
                "SELECT dep.id, COALESCE(dep.home_school_urn, l.home_school_urn), s.name "
                "FROM deployment dep JOIN leader l ON l.id = dep.leader_id "
                "JOIN school s ON s.urn = COALESCE(dep.home_school_urn, l.home_school_urn) "
                f"WHERE dep.id IN ({marks})", params):
            home[int(dep_id)] = (int(urn), name)
    rows = []
    for inv_id, day_id, _line, kind, halves, supply, dep_id, leader_id, date in sorted(
            days, key=lambda d: (d[0], d[8], d[1], d[2])):
        owed = home.get(int(dep_id))
        if owed is None:
            continue
        rows.append({"invoice_id": int(inv_id), "day_log_id": int(day_id),
                     "deployment_id": int(dep_id), "leader_id": leader_id,
                     "home_school_urn": owed[0], "home_school": owed[1], "date": date,
                     "kind": kind, "halves": int(halves), "supply_pence": int(supply),
                     "created_at": issued_at})
    return rows


# What the audit trail keeps of each supply-cover row (compact lists, one audit row per
# document: a national month's run writes tens of thousands, derived from its day links).
AUDIT_COLUMNS = ("day_log_id", "kind", "home_school_urn", "halves", "supply_pence")


def audit_items(rows: Sequence[dict[str, Any]]) -> dict[int, list[list[Any]]]:
    """Document id -> its supply-cover rows as audited (`AUDIT_COLUMNS`), in order."""
    per_doc: dict[int, list[list[Any]]] = {}
    for r in rows:
        per_doc.setdefault(r["invoice_id"], []).append(
            [r["day_log_id"], r["kind"], r["home_school_urn"], r["halves"], r["supply_pence"]])
    return per_doc


def insert(session: Any, rows: list[dict[str, Any]]) -> None:
    """Write supply-cover rows, not audited: the caller audits them (`audit_items`)."""
    from s2s_cli import bulk
    from s2s_cli.models import SupplyCover

    bulk.insert_many(session.connection(), SupplyCover.__table__,  # type: ignore[attr-defined]
                     rows)


def _write(session: Any, rows: list[dict[str, Any]]) -> int:
    """Write supply-cover rows with one `supply_cover` audit row per document."""
    from s2s_cli import audit

    insert(session, rows)
    audit.record_many(session, "supply_cover", [
        (str(doc), "insert", None, {"invoice_id": doc, "columns": list(AUDIT_COLUMNS),
                                    "rows": items, "supply_pence": sum(i[4] for i in items)})
        for doc, items in sorted(audit_items(rows).items())])
    return len(rows)


# --------------------------------------------------------------------------- reading

def _month_of(reader: Reader, column: str) -> str:
    from s2s_cli.services.invoicing import month_expr

    return month_expr(reader, column)


def owed_by_month(reader: Reader, urn: int | None = None) -> dict[int, dict[str, int]]:
    """Home school URN -> {'YYYY-MM': supply cover owed (pence, net of reversals)}."""
    where, params = "", {}
    if urn is not None:
        where, params = "WHERE home_school_urn = :u ", {"u": urn}
    out: dict[int, dict[str, int]] = {}
    for home, month, owed in reader.all(
            f"SELECT home_school_urn, {_month_of(reader, 'date')}, SUM(supply_pence) "
            f"FROM supply_cover {where}GROUP BY home_school_urn, {_month_of(reader, 'date')}",
            params):
        out.setdefault(int(home), {})[str(month)] = int(owed)
    return out


def settled_total(reader: Reader, urn: int | None = None) -> dict[int, int]:
    where, params = "", {}
    if urn is not None:
        where, params = "WHERE home_school_urn = :u ", {"u": urn}
    return {int(h): int(t) for h, t in reader.all(
        f"SELECT home_school_urn, SUM(amount_pence) FROM supply_settlement {where}"
        "GROUP BY home_school_urn", params)}


def allocate(owed: dict[str, int], settled: int) -> dict[str, int]:
    """Settlements spread over the months owed, oldest first: month -> settled pence."""
    out: dict[str, int] = {}
    left = max(settled, 0)
    for month in sorted(owed):
        take = min(max(owed[month], 0), left)
        out[month] = take
        left -= take
    return out


def remittance(reader: Reader, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per home school owed anything for days dated start..end (a calendar month): the days
    and leaders, the supply cover owed (`supply_pence`, also `owed_pence`), what its
    settlements cover of it (oldest months first), what is outstanding, and the home school's
    balance over every month (owed - settled; negative when it was paid for work since
    credited)."""
    f, t = _bind(reader, start), _bind(reader, end)
    month = start.strftime("%Y-%m")
    rows = reader.all(
        "SELECT home_school_urn, SUM(halves), SUM(supply_pence) FROM supply_cover "
        "WHERE date >= :f AND date <= :t GROUP BY home_school_urn", {"f": f, "t": t})
    names = {int(u): n for u, n in reader.all(
        "SELECT c.home_school_urn, c.home_school FROM supply_cover c WHERE c.id IN ("
        "SELECT MIN(id) FROM supply_cover WHERE date >= :f AND date <= :t "
        "GROUP BY home_school_urn)", {"f": f, "t": t})}
    leaders: dict[int, int] = {}
    for urn, _leader, halves in reader.all(
            "SELECT home_school_urn, leader_id, SUM(halves) FROM supply_cover "
            "WHERE date >= :f AND date <= :t GROUP BY home_school_urn, leader_id",
            {"f": f, "t": t}):
        if int(halves) > 0:
            leaders[int(urn)] = leaders.get(int(urn), 0) + 1
    owed_all = owed_by_month(reader)
    settled = settled_total(reader)
    out = []
    for urn, halves, supply in rows:
        urn, supply = int(urn), int(supply)
        paid = allocate(owed_all.get(urn, {}), settled.get(urn, 0)).get(month, 0)
        if supply == 0 and paid == 0:
            continue  # everything owed for the month was credited
        out.append({"urn": urn, "name": names.get(urn, ""), "leaders": leaders.get(urn, 0),
                    "days": int(halves), "supply_pence": supply, "owed_pence": supply,
                    "settled_pence": paid, "outstanding_pence": supply - paid,
                    "balance_pence": sum(owed_all.get(urn, {}).values())
                    - settled.get(urn, 0)})
    return sorted(out, key=lambda r: (r["name"].lower(), r["urn"]))


def _bind(reader: Reader, day: dt.date) -> Any:
    from s2s_cli.services.invoicing import _bind as bind

    return bind(reader, day)


def home_days(reader: Reader, urn: int, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The dated days a home school is owed supply cover for (start..end), with the invoice
    or credit note that recorded each (a credit note's rows are negative)."""
    rows = reader.all(
        "SELECT c.date, c.leader_id, l.name, c.deployment_id, dep.school_urn, s.name, "
        "i.number, c.kind, c.halves, c.supply_pence, c.home_school, c.id "
        "FROM supply_cover c JOIN invoice i ON i.id = c.invoice_id "
        "JOIN leader l ON l.id = c.leader_id JOIN deployment dep ON dep.id = c.deployment_id "
        "JOIN school s ON s.urn = dep.school_urn "
        "WHERE c.home_school_urn = :u AND c.date >= :f AND c.date <= :t "
        "ORDER BY c.date, c.leader_id, c.id",
        {"u": urn, "f": _bind(reader, start), "t": _bind(reader, end)})
    return [{"date": _date(r[0]), "leader_id": r[1], "leader": r[2] or "",
             "deployment_id": int(r[3]), "school_urn": int(r[4]), "school": r[5],
             "document": r[6], "kind": r[7], "days": int(r[8]), "supply_pence": int(r[9]),
             "home_school": r[10]} for r in rows]


def settlements(reader: Reader, urn: int | None = None) -> list[dict[str, Any]]:
    where, params = "", {}
    if urn is not None:
        where, params = "WHERE p.home_school_urn = :u ", {"u": urn}
    return [{"id": int(r[0]), "urn": int(r[1]), "date": _date(r[2]), "amount_pence": int(r[3]),
             "ref": r[4], "reverses": r[5], "reason": r[6], "reversed_by": r[7]}
            for r in reader.all(
                "SELECT p.id, p.home_school_urn, p.date, p.amount_pence, p.ref, p.reverses_id, "
                "p.reason, r.id FROM supply_settlement p "
                "LEFT JOIN supply_settlement r ON r.reverses_id = p.id "
                f"{where}ORDER BY p.date, p.id", params)]


def home_statement(reader: Reader, urn: int, start: dt.date, end: dt.date) -> dict[str, Any]:
    """What the alliance sends a home school for a month: its staff's dated days and the
    supply cover for each, what is owed, settled (oldest months first) and outstanding."""
    days = home_days(reader, urn, start, end)
    row = reader.one("SELECT name FROM school WHERE urn = :u", {"u": urn})
    if row is None:
        raise NotFound(f"no school with URN {urn}")
    month = start.strftime("%Y-%m")
    owed_months = owed_by_month(reader, urn).get(urn, {})
    settled = settled_total(reader, urn).get(urn, 0)
    owed = sum(d["supply_pence"] for d in days)
    paid = allocate(owed_months, settled).get(month, 0)
    name = days[0]["home_school"] if days else row[0]
    return {"urn": urn, "name": name, "month": month, "period_from": start, "period_to": end,
            "days": days, "owed_pence": owed, "settled_pence": paid,
            "outstanding_pence": owed - paid,
            "balance_pence": sum(owed_months.values()) - settled,
            "settlements": settlements(reader, urn)}


# --------------------------------------------------------------------------- settlements

def _lock_school(session: Any, urn: int) -> Any:
    from sqlalchemy import select

    from s2s_cli.models import School

    school = session.execute(select(School).where(School.urn == urn).with_for_update()
                             ).scalars().first()
    if school is None:
        raise NotFound(f"no school with URN {urn}")
    return school


def settle(session: Any, urn: int, *, amount: int, on: dt.date, ref: str) -> int:
    """Record that the alliance paid a home school's invoice for supply cover; the
    settlement's id.  Refused: nothing owed, more than is outstanding, a date before anything
    was owed."""
    from s2s_cli import fastdb
    from s2s_cli.models import SupplySettlement
    from s2s_cli.parsing import format_pence

    if amount <= 0:
        raise InvalidInput("--amount must be more than £0.00")
    school = _lock_school(session, urn)  # serialises settlements of one home school
    reader = fastdb.session_reader(session)
    owed = sum(owed_by_month(reader, urn).get(urn, {}).values())
    settled = settled_total(reader, urn).get(urn, 0)
    outstanding = owed - settled
    if owed <= 0:
        raise Refused(f"no supply cover is owed to {school.name} ({urn})")
    if outstanding <= 0:
        raise Refused(f"the supply cover owed to {school.name} ({urn}) is settled in full")
    if amount > outstanding:
        raise Refused(f"{format_pence(amount)} is more than the {format_pence(outstanding)} "
                      f"outstanding to {school.name} ({urn}); overpayments are not recorded")
    first = reader.scalar("SELECT MIN(i.issued) FROM supply_cover c JOIN invoice i "
                          "ON i.id = c.invoice_id WHERE c.home_school_urn = :u", {"u": urn})
    if first is not None and on < _date(first):
        raise Refused(f"the settlement date {on} is before anything was owed to "
                      f"{school.name} ({urn}): the first invoice was issued {_date(first)}")
    row = SupplySettlement(home_school_urn=urn, date=on, amount_pence=amount, ref=ref)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def unsettle(session: Any, settlement_id: int, *, reason: str, on: dt.date) -> int:
    """Reverse a settlement (recorded against the wrong school, a payment that bounced): a
    row of its own; the reversal's id."""
    from sqlalchemy import select

    from s2s_cli.models import SupplySettlement

    original = session.get(SupplySettlement, settlement_id)
    if original is None:
        raise NotFound(f"no settlement {settlement_id}")
    _lock_school(session, original.home_school_urn)
    if original.reverses_id is not None:
        raise Refused(f"settlement {settlement_id} is itself a reversal (of settlement "
                      f"{original.reverses_id}); record the settlement again instead")
    done = session.execute(select(SupplySettlement.id).where(
        SupplySettlement.reverses_id == settlement_id)).scalars().first()
    if done is not None:
        raise Refused(f"settlement {settlement_id} was already reversed (settlement {done})")
    if on < _date(original.date):
        raise Refused(f"the reversal date {on} is before settlement {settlement_id} was made "
                      f"({_date(original.date)})")
    row = SupplySettlement(home_school_urn=original.home_school_urn,
                           date=on, amount_pence=-original.amount_pence,
                           ref=original.ref, reverses_id=original.id, reason=reason)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id
