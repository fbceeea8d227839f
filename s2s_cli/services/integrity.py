"""`s2s db check`: the storage engine's own checks (SQLite) plus the domain invariants that no
sequence of s2s commands may ever break, on either backend.

Every check is one read-only query through a `Reader`, so this runs on the fast stdlib sqlite3
path as well as on PostgreSQL.  Each returns findings (plain dicts); an empty list means ok."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from s2s_cli.fastdb import Reader

MAX_EXAMPLES = 20  # findings listed per check; the rest are counted


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: Callable[[Reader], list[str]]


def _limit(found: list[str], total: int | None = None) -> list[str]:
    total = len(found) if total is None else total
    if total > MAX_EXAMPLES:
        return [*found[:MAX_EXAMPLES], f"... and {total - MAX_EXAMPLES} more"]
    return found


def sqlite_integrity(reader: Reader) -> list[str]:
    if reader.dialect != "sqlite":
        return []
    rows = [str(r[0]) for r in reader.all("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else _limit(rows)


def sqlite_foreign_keys(reader: Reader) -> list[str]:
    if reader.dialect != "sqlite":
        return []  # the server enforces foreign keys on every write
    rows = reader.all("PRAGMA foreign_key_check")
    return _limit([f"{r[0]} row {r[1]} points at a missing {r[2]} row" for r in rows])


LIVE_INVOICE = "i.series = 'invoice' AND i.voided_by_id IS NULL"
# a day link of a live invoice that a partial credit note of that invoice has not taken back
NOT_CREDITED = ("NOT EXISTS (SELECT 1 FROM invoice c JOIN invoice_day cd ON cd.invoice_id = "
                "c.id WHERE c.credits_invoice_id = i.id AND cd.day_log_id = d.day_log_id)")


def day_on_two_live_invoices(reader: Reader) -> list[str]:
    rows = reader.all(
        "SELECT d.day_log_id, count(DISTINCT d.invoice_id) FROM invoice_day d "
        f"JOIN invoice i ON i.id = d.invoice_id WHERE {LIVE_INVOICE} AND {NOT_CREDITED} "
        "GROUP BY d.day_log_id HAVING count(DISTINCT d.invoice_id) > 1 "
        "ORDER BY d.day_log_id")
    return _limit([f"day log {r[0]} is on {r[1]} live invoices" for r in rows])


def day_invoice_link_agrees(reader: Reader) -> list[str]:
    """day_log.invoice_id names the live invoice that covers the day, and only that one."""
    found: list[str] = []
    # a day marked invoiced whose invoice is not live, or does not list it
    for day_id, inv_id in reader.iter(
            "SELECT dl.id, dl.invoice_id FROM day_log dl "
            "LEFT JOIN invoice i ON i.id = dl.invoice_id "
            "LEFT JOIN invoice_day d ON d.invoice_id = dl.invoice_id AND d.day_log_id = dl.id "
            "WHERE dl.invoice_id IS NOT NULL AND (i.id IS NULL OR i.series <> 'invoice' "
            "OR i.voided_by_id IS NOT NULL OR d.day_log_id IS NULL) ORDER BY dl.id"):
        found.append(f"day log {day_id} says invoice {inv_id}, which is not a live invoice "
                     "covering it")
    # a day on a live invoice that does not say so
    for day_id, inv_id, said in reader.iter(
            "SELECT d.day_log_id, d.invoice_id, dl.invoice_id FROM invoice_day d "
            "JOIN invoice i ON i.id = d.invoice_id JOIN day_log dl ON dl.id = d.day_log_id "
            f"WHERE {LIVE_INVOICE} AND {NOT_CREDITED} "
            "AND (dl.invoice_id IS NULL OR dl.invoice_id <> d.invoice_id) "
            "ORDER BY d.day_log_id"):
        found.append(f"day log {day_id} is on live invoice {inv_id} but records "
                     f"{'no invoice' if said is None else f'invoice {said}'}")
    return _limit(found)


def invoice_totals(reader: Reader) -> list[str]:
    rows = reader.all(
        "SELECT i.id, i.number, i.subtotal_pence, i.vat_pence, i.total_pence, "
        "coalesce(sum(l.amount_pence), 0) FROM invoice i "
        "LEFT JOIN invoice_line l ON l.invoice_id = i.id "
        "GROUP BY i.id, i.number, i.subtotal_pence, i.vat_pence, i.total_pence ORDER BY i.id")
    found = []
    for inv_id, number, subtotal, vat, total, lines in rows:
        if int(subtotal) != int(lines):
            found.append(f"{number} (id {inv_id}): subtotal {subtotal} pence but its lines "
                         f"add up to {lines}")
        if int(total) != int(subtotal) + int(vat):
            found.append(f"{number} (id {inv_id}): total {total} pence is not subtotal "
                         f"{subtotal} + VAT {vat}")
    return _limit(found)


def leader_day_limit(reader: Reader) -> list[str]:
    """Days logged and sessions still planned together: at most one day a date."""
    rows = reader.all(
        "SELECT x.leader_id, x.date, sum(x.worked), sum(x.planned) FROM (SELECT leader_id, "
        "date, halves AS worked, 0 AS planned FROM day_log UNION ALL SELECT leader_id, date, "
        "0, halves FROM planned_session WHERE status = :planned) x GROUP BY x.leader_id, "
        "x.date HAVING sum(x.worked) + sum(x.planned) > 2 ORDER BY x.leader_id, x.date",
        {"planned": "planned"})
    found = []
    for lid, day, worked, planned in rows:
        what = f"{int(worked) / 2:g} days logged"
        if int(planned):
            what += f" and {int(planned) / 2:g} planned"
        found.append(f"leader {lid} has {what} on {day}")
    return _limit(found)


def planned_session_link(reader: Reader) -> list[str]:
    """A worked session names the day log that confirmed it (same deployment); no other
    session names one."""
    rows = reader.all(
        "SELECT p.id, p.status, p.day_log_id FROM planned_session p "
        "LEFT JOIN day_log g ON g.id = p.day_log_id "
        "WHERE (p.status = :worked AND (g.id IS NULL OR g.deployment_id <> p.deployment_id)) "
        "OR (p.status <> :worked AND p.day_log_id IS NOT NULL) ORDER BY p.id",
        {"worked": "worked"})
    return _limit([f"planned session {r[0]} is {r[1]} but names day log {r[2]}" for r in rows])


def numbering_gapless(reader: Reader) -> list[str]:
    found = []
    for series, year, n, lo, hi, distinct in reader.all(
            "SELECT series, year, count(*), min(seq), max(seq), count(DISTINCT seq) "
            "FROM invoice GROUP BY series, year ORDER BY series, year"):
        if not (lo == 1 and hi == n and distinct == n):
            seqs = sorted(int(r[0]) for r in reader.all(
                "SELECT seq FROM invoice WHERE series = :s AND year = :y",
                {"s": series, "y": year}))
            missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
            dupes = sorted({s for s in seqs if seqs.count(s) > 1})
            detail = []
            if missing:
                detail.append("missing " + ", ".join(str(m) for m in missing[:10])
                              + (" ..." if len(missing) > 10 else ""))
            if dupes:
                detail.append("repeated " + ", ".join(str(d) for d in dupes[:10]))
            found.append(f"{series} numbers for {year} are not 1..{n}: " + "; ".join(detail))
    # the numbering row must stand at the last number taken, or the next one leaves a gap
    for series, year, value, top in reader.all(
            "SELECT c.series, c.year, c.value, (SELECT max(i.seq) FROM invoice i "
            "WHERE i.series = c.series AND i.year = c.year) FROM counter c "
            "ORDER BY c.series, c.year"):
        if int(value) != int(top or 0):
            found.append(f"{series} counter for {year} stands at {value} but the last number "
                         f"issued is {top or 0}")
    return _limit(found)


def credit_notes_reference(reader: Reader) -> list[str]:
    found = []
    for cid, number, target, t_series, t_void, details in reader.iter(
            "SELECT c.id, c.number, c.credits_invoice_id, i.series, i.voided_by_id, c.details "
            "FROM invoice c LEFT JOIN invoice i ON i.id = c.credits_invoice_id "
            "WHERE c.series = 'credit' ORDER BY c.id"):
        if target is None:
            found.append(f"credit note {number} (id {cid}) references no invoice")
        elif t_series is None:
            found.append(f"credit note {number} (id {cid}) references missing invoice {target}")
        elif t_series != "invoice":
            found.append(f"credit note {number} (id {cid}) references {target}, which is not "
                         "an invoice")
        elif t_void != cid and not json.loads(details or "{}").get("days_credited"):
            found.append(f"credit note {number} (id {cid}) credits invoice {target}, which "
                         f"does not record it as its void (voided_by {t_void})")
    for iid, number, void, c_series, c_target in reader.iter(
            "SELECT i.id, i.number, i.voided_by_id, c.series, c.credits_invoice_id "
            "FROM invoice i LEFT JOIN invoice c ON c.id = i.voided_by_id "
            "WHERE i.voided_by_id IS NOT NULL ORDER BY i.id"):
        if c_series != "credit" or c_target != iid:
            found.append(f"invoice {number} (id {iid}) is voided by {void}, which is not a "
                         "credit note for it")
    return _limit(found)


def audit_triggers(reader: Reader) -> list[str]:
    from s2s_cli import tamper

    return tamper.check_triggers(reader)


def audit_chain(reader: Reader) -> list[str]:
    from s2s_cli import tamper

    found, rows, head = tamper.check_chain(reader)
    LAST_CHAIN.update(rows=rows, head=head)
    return _limit(found)


def documents_sealed(reader: Reader) -> list[str]:
    from s2s_cli import tamper

    return _limit(tamper.check_documents(reader))


def supply_cover_agrees(reader: Reader) -> list[str]:
    """The supply cover recorded for each day (what issued documents owe, less what credit
    notes reversed) is what the live invoice holding it owes: nothing for a day on no live
    invoice (0007_books)."""
    def net(sql: str) -> dict[tuple[int, str], tuple[int, int]]:
        out = {}
        for day_id, kind, halves, supply in reader.iter(sql):
            if int(halves or 0) or int(supply or 0):
                out[(int(day_id), kind)] = (int(halves or 0), int(supply or 0))
        return out

    recorded = net("SELECT day_log_id, kind, SUM(halves), SUM(supply_pence) FROM supply_cover "
                   "GROUP BY day_log_id, kind")
    live = net("SELECT x.day_log_id, x.kind, SUM(x.halves), SUM(x.supply_pence) "
               "FROM invoice_day x JOIN day_log d ON d.id = x.day_log_id "
               "AND d.invoice_id = x.invoice_id WHERE x.kind <> 'free' "
               "GROUP BY x.day_log_id, x.kind")
    found = []
    for key in sorted(set(recorded) | set(live)):
        if recorded.get(key, (0, 0)) != live.get(key, (0, 0)):
            found.append(f"day log {key[0]} ({key[1]}): supply cover recorded "
                         f"{recorded.get(key, (0, 0))[1]}p, its live invoice owes "
                         f"{live.get(key, (0, 0))[1]}p")
    return _limit(found)


LAST_CHAIN: dict[str, Any] = {}  # rows and head hash seen by the last audit-chain check


CHECKS: tuple[Check, ...] = (
    Check("sqlite-integrity", "SQLite PRAGMA integrity_check", sqlite_integrity),
    Check("foreign-keys", "SQLite PRAGMA foreign_key_check", sqlite_foreign_keys),
    Check("day-on-one-invoice", "no day log on two live invoices", day_on_two_live_invoices),
    Check("day-invoice-link", "day_log.invoice_id agrees with the invoice that covers it",
          day_invoice_link_agrees),
    Check("invoice-totals", "invoice subtotal = its lines, total = subtotal + VAT",
          invoice_totals),
    Check("leader-day-limit", "no leader over one day on a date (logged and planned)",
          leader_day_limit),
    Check("planned-session-link", "a worked session names the day log that confirmed it",
          planned_session_link),
    Check("numbering", "invoice and credit-note numbers gapless per series and year",
          numbering_gapless),
    Check("credit-notes", "every credit note voids (or partly credits) the invoice it references",
          credit_notes_reference),
    Check("supply-cover", "the supply cover recorded for each day is what its live invoice "
          "owes", supply_cover_agrees),
    Check("audit-triggers", "the triggers keeping the audit trail append-only are in place",
          audit_triggers),
    Check("audit-chain", "every audit row matches its hash, chained to the row before",
          audit_chain),
    Check("documents", "every issued invoice and credit note matches its seal",
          documents_sealed),
)


def run(reader: Reader) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(one row per check with its status, one row per finding)."""
    summary: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    LAST_CHAIN.clear()
    for check in CHECKS:
        if check.name in ("sqlite-integrity", "foreign-keys") and reader.dialect != "sqlite":
            summary.append({"check": check.name, "description": check.description,
                            "status": "skipped", "findings": 0})
            continue
        found = check.run(reader)
        summary.append({"check": check.name, "description": check.description,
                        "status": "ok" if not found else "FAILED", "findings": len(found)})
        findings += [{"check": check.name, "finding": f} for f in found]
    return summary, findings
