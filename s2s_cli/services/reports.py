"""Reports: read-only summaries for trust boards, local authorities, the DfE and cron.

Every report takes a `Reader` and a `Period` and returns an *iterator* of plain rows (dicts), so
the output layer can stream them (the `days` report runs over a million rows in constant
memory).  Day quantities are integer halves, money integer pence; dates are `datetime.date`
(the `days` report passes SQLite's ISO text through as it is, for speed).

Periods: `this-month`, `last-month`, `this-term`, `last-term`, `academic-year` (the default),
`last-academic-year`, `YYYY-MM` (a month), `YYYY-YY` / `YYYY-YYYY` (an academic year), or
`--from/--to`.  Terms are fixed: autumn 1 Sep - 31 Dec, spring 1 Jan - 31 Mar, summer
1 Apr - 31 Aug.  "Today" is `requests.today()`: `$S2S_TODAY` (an ISO date) when set, else the
system date.  The `reviews` report reuses the brokerage service's rules (`reviews_due`)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from s2s_cli import taxonomy
from s2s_cli.errors import InvalidInput
from s2s_cli.fastdb import Reader
from s2s_cli.parsing import check_range, check_year, parse_date
from s2s_cli.services.requests import as_date as _date
from s2s_cli.services.requests import bind_date as _bind
from s2s_cli.services.requests import today

__all__ = ["REPORTS", "Period", "resolve_period", "run", "today"]

REPORTS = ("deployments", "days", "utilisation", "income", "requests", "reviews", "directory")
PERIOD_WORDS = ("this-month", "last-month", "this-term", "last-term", "academic-year",
                "last-academic-year")


# ---------------------------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str  # what `{period}` becomes in --out: 2026-10, 2026-27, 2026-27-autumn, a_b

    def months(self) -> list[str]:
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def _month(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(dt.date(year, month, 1), dt.date(year, month, last), f"{year:04d}-{month:02d}")


def academic_year(start_year: int) -> Period:
    return Period(dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31),
                  taxonomy.academic_year_label(start_year))


def term_of(d: dt.date) -> Period:
    """The fixed term holding d: autumn 1 Sep-31 Dec, spring 1 Jan-31 Mar, summer 1 Apr-31 Aug."""
    year = taxonomy.academic_year_of(d)
    label = taxonomy.academic_year_label(year)
    if d.month >= 9:
        return Period(dt.date(d.year, 9, 1), dt.date(d.year, 12, 31), f"{label}-autumn")
    if d.month <= 3:
        return Period(dt.date(d.year, 1, 1), dt.date(d.year, 3, 31), f"{label}-spring")
    return Period(dt.date(d.year, 4, 1), dt.date(d.year, 8, 31), f"{label}-summer")


def resolve_period(period: str | None = None, start: str | None = None, end: str | None = None,
                   *, now: dt.date | None = None) -> Period:
    """--period WORD|YYYY-MM|YYYY-YY, or --from and --to; default: this academic year."""
    now = now or today()
    if (start is None) != (end is None):
        raise InvalidInput("give both --from and --to (or use --period)")
    if start is not None and end is not None:
        if period is not None:
            raise InvalidInput("use either --period or --from/--to, not both")
        a, b = parse_date(start, what="--from"), parse_date(end, what="--to")
        check_range(a, b, what="--from/--to")
        return Period(a, b, f"{a.isoformat()}_{b.isoformat()}")
    word = (period or "academic-year").strip().lower()
    if word == "this-month":
        return _month(now.year, now.month)
    if word == "last-month":
        first = now.replace(day=1) - dt.timedelta(days=1)
        return _month(first.year, first.month)
    if word == "this-term":
        return term_of(now)
    if word == "last-term":
        return term_of(term_of(now).start - dt.timedelta(days=1))
    if word == "academic-year":
        return academic_year(taxonomy.academic_year_of(now))
    if word == "last-academic-year":
        return academic_year(taxonomy.academic_year_of(now) - 1)
    m = re.fullmatch(r"(\d{4})[-/](\d{2}|\d{4})", word)
    if m:
        check_year(int(m.group(1)), what="period", raw=word)
    m = re.fullmatch(r"(\d{4})-(\d{2})", word)
    if m and 1 <= int(m.group(2)) <= 12:  # a month wins: 2011-12 is December 2011
        return _month(int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(\d{4})[-/](\d{2}|\d{4})", word)
    if m:
        first_year, second = int(m.group(1)), int(m.group(2))
        if second % 100 == (first_year + 1) % 100 and (second < 100 or second == first_year + 1):
            return academic_year(first_year)
    raise InvalidInput(f"unknown period {period!r}: use {', '.join(PERIOD_WORDS)}, a month such "
                       "as 2026-10 or an academic year such as 2026-27")


# ---------------------------------------------------------------------------------- helpers

def _range(reader: Reader, period: Period) -> dict[str, Any]:
    return {"f": _bind(reader, period.start), "t": _bind(reader, period.end)}


def percent(part: int, whole: int) -> float | None:
    """part/whole as a percentage to one decimal, rounded half up, exactly (integers only)."""
    if whole <= 0:
        return None
    tenths = (part * 1000 * 2 + whole) // (whole * 2)
    return tenths / 10


def _request_specialisms(reader: Reader) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for rid, slug in reader.iter("SELECT request_id, specialism_slug FROM request_specialism "
                                 "ORDER BY request_id, specialism_slug"):
        out.setdefault(int(rid), []).append(slug)
    return out


# Deployments that touch the period: started by its end and not finished before its start
# (the end date, else the closing date, bounds a deployment; an open-ended one runs on).
_OVERLAP = ('d.start <= :t AND (COALESCE(d."end", d.closed_on) IS NULL '
            'OR COALESCE(d."end", d.closed_on) >= :f)')


# ---------------------------------------------------------------------------------- reports

def deployments(reader: Reader, period: Period) -> Iterator[dict[str, Any]]:
    """One row per deployment touching the period (or with days logged in it).  agreed_days is
    the whole agreement; logged_days and invoiced_days count the days dated in the period."""
    specs = _request_specialisms(reader)
    sql = f"""
SELECT d.id, d.school_urn, s.name, d.leader_id, l.name, l.kind, r.need, d.request_id, d.work,
       d.funding, d.start, d."end", d.agreed_halves, COALESCE(x.logged, 0),
       COALESCE(x.invoiced, 0), d.status
FROM deployment d
JOIN school s ON s.urn = d.school_urn
JOIN leader l ON l.id = d.leader_id
JOIN support_request r ON r.id = d.request_id
LEFT JOIN (SELECT deployment_id, SUM(halves) AS logged,
                  SUM(CASE WHEN invoice_id IS NOT NULL THEN halves ELSE 0 END) AS invoiced
           FROM day_log WHERE date >= :f AND date <= :t GROUP BY deployment_id) x
       ON x.deployment_id = d.id
WHERE ({_OVERLAP}) OR x.deployment_id IS NOT NULL
ORDER BY d.id"""
    for (did, urn, school, lid, leader, kind, need, rid, work, funding, start, end, agreed,
         logged, invoiced, status) in reader.iter(sql, _range(reader, period)):
        yield {"id": did, "school_urn": urn, "school": school, "leader_id": lid,
               "leader": leader, "kind": kind, "need": need,
               "specialisms": specs.get(int(rid), []), "work": work, "funding": funding,
               "start": _date(start), "end": _date(end), "agreed_days": int(agreed),
               "logged_days": int(logged), "invoiced_days": int(invoiced), "status": status}


DAYS_SQL = """
SELECT dl.id, dl.date, dl.deployment_id, dl.leader_id, l.name, d.school_urn, s.name, dl.halves,
       dl.activity, d.funding, i.number, dl.note
FROM day_log dl
JOIN deployment d ON d.id = dl.deployment_id
JOIN leader l ON l.id = dl.leader_id
JOIN school s ON s.urn = d.school_urn
LEFT JOIN invoice i ON i.id = dl.invoice_id
WHERE dl.date >= :f AND dl.date <= :t
ORDER BY dl.date, dl.id"""


def days(reader: Reader, period: Period) -> Iterator[dict[str, Any]]:
    """One row per logged day or half day dated in the period, streamed from the cursor."""
    for (lid, date, did, leader_id, leader, urn, school, halves, activity, funding, number,
         note) in reader.stream(DAYS_SQL, _range(reader, period)):
        yield {"id": lid, "date": date if isinstance(date, str) else _date(date),
               "deployment_id": did, "leader_id": leader_id, "leader": leader,
               "school_urn": urn, "school": school, "days": halves, "activity": activity,
               "funding": funding, "invoice_number": number, "note": note}


def _copy_text(expr: str) -> str:
    """A `text` cell for PostgreSQL's COPY ... CSV to write as `output.write_csv` does: a
    leading = + - @ tab or carriage return prefixed with a single quote (`neutralise`), and
    an empty text as NULL (COPY quotes an empty string; the csv writer leaves both empty).
    COPY's own CSV quoting is the csv writer's QUOTE_MINIMAL: a cell holding the delimiter,
    a quote, CR or LF is quoted, its quotes doubled."""
    return (f"NULLIF(CASE WHEN ascii({expr}) IN (61, 43, 45, 64, 9, 13) THEN '''' || {expr} "
            f"ELSE {expr} END, '')")


def _copy_days(expr: str) -> str:
    """Halves as `parsing.days_str` writes them: 4 -> 2, 5 -> 2.5, -1 -> -0.5."""
    return (f"CASE WHEN {expr} >= 0 AND {expr} % 2 = 0 THEN ({expr} / 2)::text "
            f"ELSE (CASE WHEN {expr} < 0 THEN '-' ELSE '' END) || (abs({expr}) / 2)::text "
            f"|| (CASE WHEN abs({expr}) % 2 = 1 THEN '.5' ELSE '' END) END")


# The `days` report for PostgreSQL's COPY ... TO STDOUT (FORMAT csv): DAYS_SQL's rows and
# order, each cell already the text `output.write_csv` writes for its column.
DAYS_COPY_SQL = ("COPY (SELECT " + ", ".join([
    "dl.id", "to_char(dl.date, 'YYYY-MM-DD')", "dl.deployment_id", _copy_text("dl.leader_id"),
    _copy_text("l.name"), "d.school_urn", _copy_text("s.name"), _copy_days("dl.halves"),
    _copy_text("dl.activity"), _copy_text("d.funding"), _copy_text("i.number"),
    _copy_text("dl.note")]) + "\n" + DAYS_SQL[DAYS_SQL.index("FROM day_log"):]
    + ") TO STDOUT (FORMAT csv)")


def days_csv(reader: Reader, period: Period, batch: int = 4096) -> Any | None:
    """On PostgreSQL, a writer of the `days` report's CSV body (no header) as `output.write_csv`
    writes it (UTF-8, CRLF line ends), formatted by the server's COPY: `days_csv(...)(write)`
    streams it to write(bytes) in blocks of `batch` rows and returns the rows
    (tests/test_reports_copy.py holds the two equal on hostile text).  None on other
    backends: use `days()`."""
    copy_out = reader.copy_out
    if copy_out is None:
        return None
    params = _range(reader, period)

    def run(write: Any) -> int:
        chunk: list[Any] = []

        def row(data: Any) -> None:
            chunk.append(data)
            if len(chunk) >= batch:
                write(_crlf(chunk))
                chunk.clear()

        rows = copy_out(DAYS_COPY_SQL, params, row)
        if chunk:
            write(_crlf(chunk))
        return rows

    return run


def _crlf(rows: list[Any]) -> bytes:
    """COPY's rows (one message each, ending in LF) with the csv writer's CRLF line ends; a
    line break inside a quoted cell stays as it is."""
    block = b"".join(rows)
    if block.count(b"\n") == len(rows):  # no line break inside a cell
        return block.replace(b"\n", b"\r\n")
    return b"".join(bytes(r[:-1]) + b"\r\n" for r in rows)


def utilisation(reader: Reader, period: Period) -> Iterator[dict[str, Any]]:
    """Per leader (active, or with work in the period): days released by the home school for
    the academic year (capacity), agreed in deployments touching the period, worked in it."""
    params = {**_range(reader, period), "cancelled": "cancelled"}
    agreed = {lid: int(n) for lid, n in reader.iter(
        f"SELECT d.leader_id, SUM(d.agreed_halves) FROM deployment d WHERE ({_OVERLAP}) "
        "AND d.status <> :cancelled GROUP BY d.leader_id", params)}
    worked = {lid: int(n) for lid, n in reader.iter(
        "SELECT leader_id, SUM(halves) FROM day_log WHERE date >= :f AND date <= :t "
        "GROUP BY leader_id", _range(reader, period))}
    for lid, name, kind, capacity, active, school in reader.iter(
            "SELECT l.id, l.name, l.kind, l.capacity_days, l.active, s.name FROM leader l "
            "JOIN school s ON s.urn = l.home_school_urn ORDER BY l.id"):
        if not active and lid not in agreed and lid not in worked:
            continue
        released = int(capacity or 0) * 2
        done = worked.get(lid, 0)
        yield {"leader_id": lid, "leader": name, "kind": kind, "home_school": school,
               "active": bool(active), "released_days": released,
               "agreed_days": agreed.get(lid, 0), "worked_days": done,
               "utilisation_pct": percent(done, released)}


INCOME_FIGURES = ("charged_days", "charged_pence", "free_days", "funded_days", "funded_pence",
                  "supply_pence", "admin_pence", "total_pence", "invoiced_pence",
                  "received_pence", "outstanding_pence")


def income(reader: Reader, period: Period) -> Iterator[dict[str, Any]]:
    """Per month (of the day worked) and funding route, from the days on live invoices (not
    credit notes, not voided, not credited by a partial credit note).  admin = amount - supply
    cover; total = charged + funded (net of VAT).  Then the money side: `invoiced` is what the
    invoices ask for (with VAT, less any credit notes against them), `received` what has been
    paid against them so far, and `outstanding` the rest - an invoice's figures shared over the
    months and routes it bills in proportion to their amounts (to the penny, largest
    remainder), so each column sums to the invoices' totals, payments and balances."""
    from s2s_cli.services.books import spread
    from s2s_cli.services.payments import amounts

    sql = """
SELECT i.id, dl.date, d.funding, idy.kind, SUM(idy.halves), SUM(idy.amount_pence),
       SUM(idy.supply_pence)
FROM invoice_day idy
JOIN invoice i ON i.id = idy.invoice_id
JOIN day_log dl ON dl.id = idy.day_log_id
JOIN deployment d ON d.id = dl.deployment_id
WHERE i.series = :series AND dl.invoice_id = idy.invoice_id AND dl.date >= :f AND dl.date <= :t
GROUP BY i.id, dl.date, d.funding, idy.kind"""
    buckets: dict[tuple[str, str], dict[str, int]] = {}
    shares: dict[int, dict[tuple[str, str], int]] = {}  # invoice -> bucket -> net amount
    for iid, date, funding, kind, halves, amount, supply in reader.iter(
            sql, {**_range(reader, period), "series": "invoice"}):
        key = (str(date)[:7], funding)
        b = buckets.setdefault(key, dict.fromkeys(INCOME_FIGURES, 0))
        halves, amount, supply = int(halves or 0), int(amount or 0), int(supply or 0)
        if kind == "free":
            b["free_days"] += halves
        elif kind == "funded":
            b["funded_days"] += halves
            b["funded_pence"] += amount
        else:
            b["charged_days"] += halves
            b["charged_pence"] += amount
        b["supply_pence"] += supply
        b["admin_pence"] += amount - supply
        b["total_pence"] += amount
        per = shares.setdefault(int(iid), {})
        per[key] = per.get(key, 0) + amount
    if shares:
        totals = dict(reader.all("SELECT id, total_pence FROM invoice WHERE series = :s",
                                 {"s": "invoice"}))
        sums = amounts(reader, list(shares))
        # the net of the days still on each invoice (a day credited by a partial credit
        # note has left it: its share is in the credit note, not in what stays invoiced)
        nets = {int(i): int(a or 0) for i, a in reader.all(
            "SELECT idy.invoice_id, SUM(idy.amount_pence) FROM invoice_day idy "
            "JOIN day_log dl ON dl.id = idy.day_log_id AND dl.invoice_id = idy.invoice_id "
            "GROUP BY idy.invoice_id")}
        for iid, per in shares.items():
            credited, paid = sums.get(iid, (0, 0))
            keys = sorted(per)
            weights = [per[k] for k in keys]
            # the whole invoice's net: days outside the period keep their share
            outside = nets.get(iid, 0) - sum(weights)
            keys, weights = [*keys, None], [*weights, max(outside, 0)]
            invoiced = int(totals.get(iid, 0)) - credited
            for k, inv, rec in zip(keys, spread(invoiced, weights), spread(paid, weights),
                                   strict=True):
                if k is None:
                    continue
                b = buckets[k]
                b["invoiced_pence"] += inv
                b["received_pence"] += rec
                b["outstanding_pence"] += inv - rec
    for (month, funding), b in sorted(buckets.items()):
        yield {"month": month, "funding": funding, **b}


def requests(reader: Reader, period: Period, *, now: dt.date | None = None
             ) -> Iterator[dict[str, Any]]:
    """Every request open at some point in the period (received by its end, not closed before
    its start).  age_days runs from receipt to closing, or to today while still open;
    days_to_match from receipt to the first deployment."""
    now = now or today()
    specs = _request_specialisms(reader)
    sql = """
SELECT r.id, r.school_urn, s.name, r.need, r.kind, r.funding, r.status, r.received,
       r.matched_on, r.closed_on, r.note
FROM support_request r JOIN school s ON s.urn = r.school_urn
WHERE r.received <= :t AND (r.closed_on IS NULL OR r.closed_on >= :f)
ORDER BY r.received, r.id"""
    for (rid, urn, school, need, kind, funding, status, received, matched, closed,
         note) in reader.iter(sql, _range(reader, period)):
        received, matched, closed = _date(received), _date(matched), _date(closed)
        assert received is not None
        yield {"id": rid, "school_urn": urn, "school": school, "need": need,
               "specialisms": specs.get(int(rid), []), "kind": kind, "funding": funding,
               "status": status, "received": received, "matched_on": matched,
               "closed_on": closed, "age_days": ((closed or now) - received).days,
               "days_to_match": (matched - received).days if matched else None, "note": note}


def reviews(reader: Reader, period: Period, *, now: dt.date | None = None
            ) -> Iterator[dict[str, Any]]:
    """What is owed by the end of the period, overdue items included whenever they fell due.
    The rules are the brokerage service's (`deployments.reviews_due`, as `s2s reviews due`):
    a progress review some months after the first logged day (the review policy's months for
    the kind of work, 4 for governance-review by default; 4 for a DfE-funded NLG deployment),
    until a `review` evaluation on/after that day exists; a school
    evaluation for every closed deployment without one, due from its closing day."""
    from s2s_cli.services.deployments import reviews_due

    now = now or today()
    due = reviews_due(reader, within=max((period.end - now).days, 0), on=now)
    due = [r for r in due if r["due"] <= period.end]
    if not due:
        return
    facts = {int(did): (kind, work, funding, first) for did, kind, work, funding, first in
             reader.iter("""
SELECT d.id, l.kind, d.work, d.funding, f.first_day
FROM deployment d JOIN leader l ON l.id = d.leader_id
LEFT JOIN (SELECT deployment_id, MIN(date) AS first_day FROM day_log GROUP BY deployment_id) f
       ON f.deployment_id = d.id""")}
    for r in due:
        kind, work, funding, first = facts.get(int(r["deployment_id"]), (None,) * 4)
        late = (now - r["due"]).days
        yield {"deployment_id": r["deployment_id"], "item": r["what"], "due": r["due"],
               "state": "overdue" if late > 0 else "due", "days_overdue": max(late, 0),
               "school_urn": r["school_urn"], "school": r["school"],
               "leader_id": r["leader_id"], "leader": r["leader"], "kind": kind,
               "work": work, "funding": funding, "first_day": _date(first)}


def directory(reader: Reader, period: Period | None = None) -> Iterator[dict[str, Any]]:
    """The active leaders with their specialisms, for sharing (no contact details).  An erased
    leader shows only their id and the placeholder name the database holds."""
    specs: dict[str, list[str]] = {}
    for lid, slug in reader.iter(
            "SELECT ls.leader_id, ls.specialism_slug FROM leader_specialism ls "
            "JOIN leader l ON l.id = ls.leader_id WHERE l.active = :active "
            "ORDER BY ls.leader_id, ls.specialism_slug", {"active": True}):
        specs.setdefault(lid, []).append(slug)
    sql = """
SELECT l.id, l.name, l.kind, l.erased, l.designations, l.capacity_days, s.urn, s.name,
       la.name, r.name, s.phase
FROM leader l
JOIN school s ON s.urn = l.home_school_urn
JOIN local_authority la ON la.id = s.la_id
JOIN region r ON r.id = la.region_id
WHERE l.active = :active
ORDER BY l.id"""
    for (lid, name, kind, erased, designations, capacity, urn, school, la, region,
         phase) in reader.iter(sql, {"active": True}):
        if erased:
            yield {"id": lid, "name": name, "specialisms": [], "designations": []}
            continue
        yield {"id": lid, "name": name, "kind": kind, "specialisms": specs.get(lid, []),
               "designations": [d for d in (designations or "").split(",") if d],
               "home_school_urn": urn, "home_school": school, "local_authority": la,
               "region": region, "phase": phase, "capacity_days": capacity}


def run(name: str, reader: Reader, period: Period) -> Iterator[dict[str, Any]]:
    """The rows of report `name` (looked up at call time, so tests can replace one)."""
    if name not in REPORTS:
        raise InvalidInput(f"unknown report '{name}': use one of {', '.join(REPORTS)}")
    fn = globals()[name]
    return fn(reader, period)  # type: ignore[no-any-return]
