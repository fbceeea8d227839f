"""Deployments, the days worked on them, leaders' capacity, evaluations and reviews due.

Rules (each checked before anything is written, in the transaction that writes):

* **Capacity.** A leader's home school releases them `capacity_days` a year (1 September -
  31 August).  What a deployment takes from the academic year of its *start* date is its agreed
  days while active, and the days actually logged once closed.  Remaining = capacity - that sum.
* **Deploy** refuses (exit 1) a leader short of capacity, an inactive leader, a leader based at
  the supported school and a cancelled or completed request, unless `--override "reason"`
  (stored in `override_reason`; the ORM insert is audited).  Rates are fixed on the deployment
  when it is agreed: a negotiated `--rate`, else the rate card (`setting` row `rate_card`) for
  the leader's kind, the kind of work and the supported school's size.
* **Days** are integer halves.  A leader never has more than one day (2 halves) logged on one
  date across all their deployments: the leader row is locked (`FOR UPDATE`) before the total
  is read, so concurrent writers on PostgreSQL serialise (SQLite's `BEGIN IMMEDIATE` already
  does).  Dates must fall within the deployment, the deployment must be active, and the total
  may pass the agreed days only with `--over "reason"` (stored on the days beyond the
  agreement).  A block of dates is all-or-nothing.  Sessions still planned count too, on both
  rules (`services/planning.py`); logging a planned date confirms that session instead.
* **Reviews due.** A progress review falls due some months after the first logged day of a
  deployment, until a `review` evaluation dated on/after that first day exists: the months for
  its kind of work in the review policy (`setting` row `review_policy`, from the seed file's
  `reviews` section, merged over the default `{"governance-review": 4}`), and 4 months for
  DfE-funded NLG work whatever its kind; when both apply, the earlier date.  A closed
  deployment without a `school` evaluation has that evaluation due from the day it closed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from s2s_cli import parsing, taxonomy
from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.fastdb import Reader
from s2s_cli.parsing import days_str
from s2s_cli.services import planning
from s2s_cli.services.requests import (
    TRUST_TYPES,
    as_date,
    bind_date,
    check_funder,
    choice,
    lock_request,
    today,
)

EVALUATORS = ("school", "leader", "review")
MAX_BLOCK_DAYS = 366
REVIEW_MONTHS = 4
DEFAULT_REVIEW_POLICY = {"governance-review": REVIEW_MONTHS}
OVERRIDE_HINT = '(use --override "reason" to deploy anyway)'


def norm_leader(leader_id: str) -> str:
    lid = leader_id.strip().upper()
    if not lid or len(lid) > 40 or any(ord(c) < 32 for c in lid):
        raise InvalidInput(f"'{leader_id}' is not a leader id")
    return lid


# --- capacity ---------------------------------------------------------------------------------

def committed_halves(reader: Reader, year: int, leader_id: str | None = None
                     ) -> tuple[dict[str, int], dict[str, int]]:
    """Per leader, for deployments starting in academic year `year`: (what they take from the
    year's capacity - agreed while active, logged once closed; total agreed)."""
    start, end = parsing.academic_year_bounds(year)
    sql = ("SELECT d.leader_id, d.status, d.agreed_halves, (SELECT coalesce(sum(g.halves), 0) "
           "FROM day_log g WHERE g.deployment_id = d.id) FROM deployment d "
           "WHERE d.start >= :a AND d.start <= :b")
    params: dict[str, Any] = {"a": bind_date(reader, start), "b": bind_date(reader, end)}
    if leader_id is not None:
        sql += " AND d.leader_id = :lid"
        params["lid"] = leader_id
    taken: dict[str, int] = {}
    agreed: dict[str, int] = {}
    for lid, status, agreed_halves, logged in reader.iter(sql, params):
        taken[lid] = taken.get(lid, 0) + int(agreed_halves if status == "active" else logged)
        agreed[lid] = agreed.get(lid, 0) + int(agreed_halves)
    return taken, agreed


def remaining_halves(reader: Reader, leader_id: str, capacity_days: int, year: int) -> int:
    taken, _ = committed_halves(reader, year, leader_id)
    return capacity_days * 2 - taken.get(leader_id, 0)


def capacity(reader: Reader, *, leader_id: str | None = None,
             year: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """(academic year, rows of capacity / agreed / worked / remaining days as halves)."""
    year = taxonomy.academic_year_of(today()) if year is None else year
    if leader_id is not None:
        lid = norm_leader(leader_id)
        leaders = reader.all("SELECT id, name, kind, capacity_days FROM leader WHERE id = :id",
                             {"id": lid})
        if not leaders:
            raise NotFound(f"no leader with id '{leader_id}'")
    else:
        lid = None
        leaders = reader.all("SELECT id, name, kind, capacity_days FROM leader "
                             "WHERE active = :active AND erased = :erased ORDER BY id",
                             {"active": True, "erased": False})
    taken, agreed = committed_halves(reader, year, lid)
    start, end = parsing.academic_year_bounds(year)
    sql = ("SELECT g.leader_id, sum(g.halves) FROM day_log g WHERE g.date >= :a AND "
           "g.date <= :b" + (" AND g.leader_id = :lid" if lid else "") + " GROUP BY g.leader_id")
    params: dict[str, Any] = {"a": bind_date(reader, start), "b": bind_date(reader, end)}
    if lid:
        params["lid"] = lid
    worked = {r[0]: int(r[1]) for r in reader.iter(sql, params)}
    rows = []
    for i, name, kind, cap in leaders:
        rows.append({"leader_id": i, "name": name, "kind": kind, "capacity_days": cap * 2,
                     "agreed_days": agreed.get(i, 0), "worked_days": worked.get(i, 0),
                     "remaining_days": cap * 2 - taken.get(i, 0)})
    return year, rows


# --- deploy -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeployInput:
    request_id: int
    leader_id: str
    days_halves: int | None
    start: dt.date
    end: dt.date | None
    work: str
    funding: str | None
    funder: str | None
    dfe_extra_days: int
    rate_pence: int | None
    half_day_rate_pence: int | None
    override: str | None


def validate_deploy(*, request_id: int, leader: str, days: str | None = None,
                    start: str | None = None, end: str | None = None, work: str = "other",
                    funding: str | None = None, funder: str | None = None,
                    dfe_extra_days: int = 0, rate: str | None = None,
                    half_day_rate: str | None = None,
                    override: str | None = None) -> DeployInput:
    begin = parsing.parse_date(start, what="--start") if start else today()
    finish = parsing.parse_date(end, what="--end") if end else None
    parsing.check_range(begin, finish, what="--start/--end")
    if not 0 <= dfe_extra_days <= 5:
        raise InvalidInput(f"--dfe-extra-days must be between 0 and 5, not {dfe_extra_days}")
    if half_day_rate is not None and rate is None:
        raise InvalidInput("--half-day-rate needs --rate (the negotiated day rate) as well")
    rate_pence = parsing.parse_money(rate, what="--rate") if rate is not None else None
    half_pence = (parsing.parse_money(half_day_rate, what="--half-day-rate")
                  if half_day_rate is not None else None)
    if rate_pence is not None and half_pence is not None and half_pence > rate_pence:
        raise InvalidInput(f"--half-day-rate {parsing.format_pence(half_pence)} is more than "
                           f"the day rate {parsing.format_pence(rate_pence)}")
    return DeployInput(
        request_id=request_id, leader_id=norm_leader(leader),
        days_halves=parsing.parse_days(days, what="--days") if days is not None else None,
        start=begin, end=finish, work=choice(work, taxonomy.WORK_TYPES, "kind of work"),
        funding=choice(funding, taxonomy.FUNDING_ROUTES, "funding route") if funding else None,
        funder=parsing.clean_text(funder, what="--funder", max_len=200),
        dfe_extra_days=dfe_extra_days,
        rate_pence=rate_pence, half_day_rate_pence=half_pence,
        override=(parsing.clean_text(override, what="--override", required=True)
                  if override is not None else None))


def lock_leader(session: Any, leader_id: str) -> Any:
    """The leader row, locked for this transaction (FOR UPDATE on PostgreSQL)."""
    from sqlmodel import select

    from s2s_cli.models import Leader

    leader = session.exec(select(Leader).where(Leader.id == leader_id).with_for_update()).first()
    if leader is None:
        raise NotFound(f"no leader with id '{leader_id}'")
    return leader


def deploy(session: Any, inp: DeployInput) -> dict[str, Any]:
    """Create a deployment; returns {"id", "rates", "overrode": [refusals overridden]}."""
    from s2s_cli.fastdb import session_reader
    from s2s_cli.models import Deployment, School, Setting
    from s2s_cli.services import rates

    req = lock_request(session, inp.request_id)
    leader = lock_leader(session, inp.leader_id)
    school = session.get(School, req.school_urn)
    halves = inp.days_halves if inp.days_halves is not None else req.days_halves
    if halves is None:
        raise InvalidInput(f"give --days: request {req.id} does not say how many days")
    funding = inp.funding or req.funding
    if inp.funder is not None:
        funder = inp.funder
    else:
        funder = req.funder if funding == req.funding else None
    check_funder(funding, funder)
    if inp.dfe_extra_days:
        if funding != "dfe":
            raise InvalidInput("--dfe-extra-days is only for DfE-funded deployments "
                               "(--funding dfe)")
        if school.type not in TRUST_TYPES:
            raise InvalidInput(f"--dfe-extra-days is only for a trust school (academy or free "
                               f"school); {school.urn} is {school.type or 'of unknown type'}")
        if leader.kind != "NLG":
            raise InvalidInput(f"--dfe-extra-days is only for a national leader of governance "
                               f"(NLG) package; {leader.id} is an {leader.kind}")
        if inp.dfe_extra_days * 2 > halves:
            raise InvalidInput(f"--dfe-extra-days {inp.dfe_extra_days} is more than the "
                               f"{days_str(halves)} days agreed")

    refusals = []
    if req.status in ("cancelled", "completed"):
        refusals.append(f"request {req.id} is {req.status}")
    if not leader.active or leader.erased:
        refusals.append(f"{leader.id} is inactive")
    if leader.home_school_urn == req.school_urn:
        refusals.append(f"{leader.id} is based at the supported school ({req.school_urn})")
    year = taxonomy.academic_year_of(inp.start)
    left = remaining_halves(session_reader(session), leader.id, leader.capacity_days, year)
    if left < halves:
        refusals.append(f"{leader.id} has {days_str(left)} of {leader.capacity_days} days left "
                        f"in {taxonomy.academic_year_label(year)}; {days_str(halves)} asked")
    if refusals and inp.override is None:
        raise Refused("; ".join(refusals) + " " + OVERRIDE_HINT)

    setting = session.get(Setting, "rate_card")
    card = rates.card_from_json(setting.value if setting else None)
    if inp.rate_pence is not None:
        r = rates.negotiated(card, inp.rate_pence, inp.half_day_rate_pence)
    else:
        r = rates.rates_for(card, leader.kind, inp.work, school.pupils)
    dep = Deployment(
        request_id=req.id, leader_id=leader.id, school_urn=req.school_urn, agreed_halves=halves,
        start=inp.start, end=inp.end, work=inp.work, funding=funding, funder=funder,
        dfe_extra_days=inp.dfe_extra_days, rate_pence=r.day_pence,
        half_day_rate_pence=r.half_day_pence, supply_pence=r.supply_pence,
        half_day_supply_pence=r.half_day_supply_pence,
        rate_source="negotiated" if inp.rate_pence is not None else "card",
        override_reason=inp.override if refusals else None)
    session.add(dep)
    if req.status != "matched":
        req.status = "matched"
        req.closed_on = None
    req.matched_on = req.matched_on or today()
    session.add(req)
    session.flush()
    return {"id": dep.id, "rates": r, "overrode": refusals}


# --- deployments: list, show, close -----------------------------------------------------------

DEPLOYMENT_SELECT = """
SELECT d.id, d.request_id, d.leader_id, l.name, d.school_urn, s.name, d.status, d.start,
       d."end", d.work, d.funding, d.funder, d.dfe_extra_days, d.agreed_halves,
       (SELECT coalesce(sum(g.halves), 0) FROM day_log g WHERE g.deployment_id = d.id),
       d.rate_pence, d.half_day_rate_pence, d.supply_pence, d.half_day_supply_pence,
       d.rate_source, d.override_reason, d.closed_on
FROM deployment d JOIN leader l ON l.id = d.leader_id JOIN school s ON s.urn = d.school_urn
"""
DEPLOYMENT_KEYS = ("id", "request_id", "leader_id", "leader", "school_urn", "school", "status",
                   "start", "end", "work", "funding", "funder", "dfe_extra_days", "agreed_days",
                   "logged_days", "rate_pence", "half_day_rate_pence", "supply_pence",
                   "half_day_supply_pence", "rate_source", "override_reason", "closed_on")


def _deployment_rows(reader: Reader, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in reader.iter(sql, params):
        row = dict(zip(DEPLOYMENT_KEYS, r, strict=True))
        for k in ("start", "end", "closed_on"):
            row[k] = as_date(row[k])
        row["logged_days"] = int(row["logged_days"])
        rows.append(row)
    return rows


def _require(reader: Reader, *, leader: str | None = None, school: int | None = None,
             deployment_id: int | None = None) -> None:
    """A filter naming something that does not exist is a refusal, not an empty list."""
    if leader and reader.one("SELECT 1 FROM leader WHERE id = :id",
                             {"id": norm_leader(leader)}) is None:
        raise NotFound(f"no leader with id '{leader}'")
    if school is not None and reader.one("SELECT 1 FROM school WHERE urn = :u",
                                         {"u": school}) is None:
        raise NotFound(f"no school with URN {school}")
    if deployment_id is not None and reader.one("SELECT 1 FROM deployment WHERE id = :d",
                                                {"d": deployment_id}) is None:
        raise NotFound(f"no deployment {deployment_id}")


def list_deployments(reader: Reader, *, leader: str | None = None, school: int | None = None,
                     active: bool = False) -> list[dict[str, Any]]:
    _require(reader, leader=leader, school=school)
    where, params = [], {}
    if leader:
        where.append("d.leader_id = :lid")
        params["lid"] = norm_leader(leader)
    if school is not None:
        where.append("d.school_urn = :urn")
        params["urn"] = school
    if active:
        where.append("d.status = :status")
        params["status"] = "active"
    sql = DEPLOYMENT_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY d.id"
    return _deployment_rows(reader, sql, params)


def evaluations(reader: Reader, deployment_id: int) -> list[dict[str, Any]]:
    return [{"id": i, "by": by, "rating": rating, "impact": impact, "date": as_date(d)}
            for i, by, rating, impact, d in reader.iter(
                'SELECT e.id, e."by", e.rating, e.impact, e.date FROM evaluation e '
                "WHERE e.deployment_id = :id ORDER BY e.date, e.id", {"id": deployment_id})]


def deployment(reader: Reader, deployment_id: int) -> dict[str, Any]:
    rows = _deployment_rows(reader, DEPLOYMENT_SELECT + " WHERE d.id = :id", {"id": deployment_id})
    if not rows:
        raise NotFound(f"no deployment with id {deployment_id}")
    row = rows[0]
    first, last = reader.one("SELECT min(g.date), max(g.date) FROM day_log g "
                             "WHERE g.deployment_id = :id", {"id": deployment_id}) or (None, None)
    row["first_day"], row["last_day"] = as_date(first), as_date(last)
    row["evaluations"] = evaluations(reader, deployment_id)
    return row


def close_deployment(session: Any, deployment_id: int) -> dict[str, Any]:
    from sqlmodel import select

    from s2s_cli.models import DayLog, Deployment

    request_id = session.exec(select(Deployment.request_id)
                              .where(Deployment.id == deployment_id)).first()
    if request_id is None:
        raise NotFound(f"no deployment with id {deployment_id}")
    req = lock_request(session, request_id)
    dep = session.exec(select(Deployment).where(Deployment.id == deployment_id)
                       .with_for_update()).one()
    if dep.status == "closed":
        raise Refused(f"deployment {deployment_id} is already closed (on {dep.closed_on})")
    dep.status = "closed"
    dep.closed_on = today()
    session.add(dep)
    session.flush()
    still_active = session.exec(select(Deployment.id).where(
        Deployment.request_id == request_id, Deployment.status == "active")).first()
    if still_active is None and req.status in ("open", "matched"):
        req.status = "completed"
        req.closed_on = today()
        session.add(req)
        session.flush()
    cancelled = planning.cancel_open(session, deployment_id, "deployment closed")
    logged = sum(session.exec(select(DayLog.halves)
                              .where(DayLog.deployment_id == deployment_id)).all())
    return {"request_id": request_id, "request_status": req.status, "logged": logged,
            "agreed": dep.agreed_halves, "cancelled_sessions": cancelled}


# --- days worked ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogInput:
    deployment_id: int
    dates: tuple[dt.date, ...]
    block: bool
    halves: int
    activity: str | None
    note: str | None
    over: str | None


def validate_log(*, deployment_id: int, date: str | None = None, date_from: str | None = None,
                 date_to: str | None = None, half: bool = False, include_weekends: bool = False,
                 activity: str | None = None, note: str | None = None,
                 over: str | None = None) -> LogInput:
    if date is not None and (date_from is not None or date_to is not None):
        raise InvalidInput("give either --date DATE or --from DATE --to DATE, not both")
    if date is not None:
        dates: tuple[dt.date, ...] = (parsing.parse_date(date, what="--date"),)
    elif date_from is not None and date_to is not None:
        a = parsing.parse_date(date_from, what="--from")
        b = parsing.parse_date(date_to, what="--to")
        parsing.check_range(a, b, what="--from/--to")
        if (b - a).days >= MAX_BLOCK_DAYS:
            raise InvalidInput(f"a block may span at most {MAX_BLOCK_DAYS} days")
        span = (a + dt.timedelta(days=i) for i in range((b - a).days + 1))
        dates = tuple(d for d in span if include_weekends or d.weekday() < 5)
        if not dates:
            raise InvalidInput(f"no weekdays from {a} to {b} (add --include-weekends for "
                               "weekend work)")
    elif date_from is not None or date_to is not None:
        raise InvalidInput("--from and --to go together")
    else:
        raise InvalidInput("give --date DATE, or --from DATE --to DATE for a block")
    return LogInput(
        deployment_id=deployment_id, dates=dates, block=date is None, halves=1 if half else 2,
        activity=choice(activity, taxonomy.ACTIVITIES, "activity") if activity else None,
        note=parsing.clean_text(note, what="--note"),
        over=parsing.clean_text(over, what="--over", required=True) if over is not None else None)


def log_days(session: Any, inp: LogInput) -> dict[str, Any]:
    """Record the days (all or nothing); returns {"ids", "logged", "agreed"}."""
    from sqlmodel import select

    from s2s_cli.fastdb import session_reader
    from s2s_cli.models import DayLog, Deployment

    did = inp.deployment_id
    leader_id = session.exec(select(Deployment.leader_id).where(Deployment.id == did)).first()
    if leader_id is None:
        raise NotFound(f"no deployment with id {did}")
    lock_leader(session, leader_id)  # serialises every writer of this leader's days
    dep = session.exec(select(Deployment).where(Deployment.id == did).with_for_update()).one()
    if dep.status != "active":
        raise Refused(f"deployment {did} is closed; nothing was logged")
    first, last = inp.dates[0], inp.dates[-1]
    for d in inp.dates:
        if d < dep.start:
            raise Refused(f"{d} is before deployment {did} starts ({dep.start})")
        if dep.end is not None and d > dep.end:
            raise Refused(f"{d} is after deployment {did} ends ({dep.end})")
    reader = session_reader(session)
    plans = planning.LogPlans(session, reader, leader_id, did, inp.dates)
    existing = {as_date(d): int(h) for d, h in reader.iter(
        "SELECT g.date, sum(g.halves) FROM day_log g WHERE g.leader_id = :lid "
        "AND g.date >= :a AND g.date <= :b GROUP BY g.date",
        {"lid": leader_id, "a": bind_date(reader, first), "b": bind_date(reader, last)})}
    for d in inp.dates:
        refusal = planning.day_refusal(leader_id, d, existing.get(d, 0), plans.planned_on(d),
                                       inp.halves)
        if refusal is not None:
            raise refusal
    logged = int(reader.scalar("SELECT coalesce(sum(g.halves), 0) FROM day_log g "
                               "WHERE g.deployment_id = :id", {"id": did}) or 0)
    total = logged + inp.halves * len(inp.dates)
    booked = total + plans.remaining  # planned sessions count like days worked
    adds = inp.halves * len(inp.dates) - plans.confirmed_halves
    if booked > dep.agreed_halves and adds > 0 and inp.over is None:
        raise Refused(f"deployment {did} would have {days_str(booked)} of "
                      f"{days_str(dep.agreed_halves)} agreed days logged"
                      f"{' or planned' if plans.remaining else ''}; use --over \"reason\" "
                      "to log beyond the agreement")
    activity = inp.activity or (dep.work if dep.work in taxonomy.ACTIVITIES else "other")
    logs = []
    running = logged + plans.remaining
    for d in inp.dates:
        running += inp.halves
        plan = plans.confirms.get(d)  # a session planned for this date, now worked
        logs.append(DayLog(deployment_id=did, leader_id=leader_id, date=d, halves=inp.halves,
                           activity=inp.activity or (plan.activity if plan else activity),
                           note=inp.note if inp.note is not None or plan is None else plan.note,
                           over_reason=(plan.over_reason if plan and plan.over_reason else
                                        inp.over if running > dep.agreed_halves else None)))
    session.add_all(logs)
    session.flush()
    confirmed = plans.confirm(logs)
    return {"ids": [g.id for g in logs], "logged": total, "agreed": dep.agreed_halves,
            "confirmed": confirmed}


LOG_SELECT = """
SELECT g.id, g.deployment_id, g.leader_id, d.school_urn, g.date, g.halves, g.activity, g.note,
       g.invoice_id
FROM day_log g JOIN deployment d ON d.id = g.deployment_id
"""
LOG_KEYS = ("id", "deployment_id", "leader_id", "school_urn", "date", "days", "activity", "note",
            "invoice_id")


def list_logs(reader: Reader, *, deployment_id: int | None = None, leader: str | None = None,
              date_from: str | None = None, date_to: str | None = None) -> list[dict[str, Any]]:
    _require(reader, leader=leader, deployment_id=deployment_id)
    where, params = [], {}
    if deployment_id is not None:
        where.append("g.deployment_id = :did")
        params["did"] = deployment_id
    if leader:
        where.append("g.leader_id = :lid")
        params["lid"] = norm_leader(leader)
    a = parsing.parse_date(date_from, what="--from") if date_from else None
    b = parsing.parse_date(date_to, what="--to") if date_to else None
    parsing.check_range(a, b, what="--from/--to")
    if a:
        where.append("g.date >= :a")
        params["a"] = bind_date(reader, a)
    if b:
        where.append("g.date <= :b")
        params["b"] = bind_date(reader, b)
    sql = LOG_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY g.date, g.id"
    rows = []
    for r in reader.iter(sql, params):
        row = dict(zip(LOG_KEYS, r, strict=True))
        row["date"] = as_date(row["date"])
        rows.append(row)
    return rows


def undo_log(session: Any, log_id: int) -> dict[str, Any]:
    from sqlmodel import select

    from s2s_cli.models import DayLog, Invoice, InvoiceDay

    log = session.get(DayLog, log_id)
    if log is None:
        raise NotFound(f"no day log with id {log_id}")
    if log.invoice_id is not None:
        inv = session.get(Invoice, log.invoice_id)
        number = inv.number if inv else f"id {log.invoice_id}"
        raise Refused(f"day {log_id} is on invoice {number}; void the invoice first")
    was = session.exec(select(Invoice.number).join(InvoiceDay, InvoiceDay.invoice_id == Invoice.id)
                       .where(InvoiceDay.day_log_id == log_id)).first()
    if was is not None:
        raise Refused(f"day {log_id} was on invoice {was} (since voided) and is kept for the "
                      "audit trail; it cannot be undone")
    info = {"id": log.id, "deployment_id": log.deployment_id, "date": log.date,
            "halves": log.halves}
    info["replanned"] = planning.unconfirm(session, log_id)
    session.delete(log)
    session.flush()
    return info


# --- evaluations and reviews ------------------------------------------------------------------

@dataclass(frozen=True)
class EvaluationInput:
    deployment_id: int
    by: str
    rating: int
    impact: str
    date: dt.date


def validate_evaluation(*, deployment_id: int, by: str, rating: int, impact: str,
                        date: str | None = None) -> EvaluationInput:
    who = by.strip().lower()
    if who not in EVALUATORS:
        raise InvalidInput(f"--by must be one of {', '.join(EVALUATORS)}, not '{by}'")
    if not 1 <= rating <= 5:
        raise InvalidInput(f"--rating must be from 1 to 5, not {rating}")
    text = parsing.clean_text(impact, what="--impact", required=True)
    assert text is not None
    return EvaluationInput(deployment_id=deployment_id, by=who, rating=rating, impact=text,
                           date=parsing.parse_date(date, what="--date") if date else today())


def evaluate(session: Any, inp: EvaluationInput) -> int:
    from s2s_cli.models import Deployment, Evaluation

    if session.get(Deployment, inp.deployment_id) is None:
        raise NotFound(f"no deployment with id {inp.deployment_id}")
    ev = Evaluation(deployment_id=inp.deployment_id, by=inp.by, rating=inp.rating,
                    impact=inp.impact, date=inp.date)
    session.add(ev)
    session.flush()
    assert ev.id is not None
    return ev.id


def add_months(d: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Oct + 4 -> 28/29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def review_policy(reader: Reader) -> dict[str, int]:
    """Kind of work -> months after the first logged day when a progress review is due."""
    raw = reader.scalar("SELECT value FROM setting WHERE key = :k", {"k": "review_policy"})
    configured = json.loads(raw) if raw else {}
    return {**DEFAULT_REVIEW_POLICY, **{str(k): int(v) for k, v in configured.items()}}


def reviews_due(reader: Reader, *, within: int = 30,
                on: dt.date | None = None) -> list[dict[str, Any]]:
    if within < 0:
        raise InvalidInput(f"--within must be 0 or more days, not {within}")
    on = on or today()
    policy = review_policy(reader)
    horizon = on + dt.timedelta(days=within)
    base = ("SELECT d.id, d.school_urn, s.name, d.leader_id, l.name, {extra} FROM deployment d "
            "JOIN school s ON s.urn = d.school_urn JOIN leader l ON l.id = d.leader_id ")
    reviewed: dict[int, dt.date] = {}
    for did, last in reader.iter('SELECT e.deployment_id, max(e.date) FROM evaluation e '
                                 'WHERE e."by" = :by GROUP BY e.deployment_id', {"by": "review"}):
        reviewed[did] = as_date(last)  # type: ignore[assignment]
    rows: list[dict[str, Any]] = []

    def add(r: Any, what: str, due: dt.date) -> None:
        if due <= horizon:
            rows.append({"deployment_id": r[0], "school_urn": r[1], "school": r[2],
                         "leader_id": r[3], "leader": r[4], "what": what, "due": due,
                         "days_left": (due - on).days})

    works = sorted(policy)
    marks = ", ".join(f":w{i}" for i in range(len(works)))
    for r in reader.iter(base.format(extra="(SELECT min(g.date) FROM day_log g "
                                     "WHERE g.deployment_id = d.id), d.work, d.funding, l.kind")
                         + f"WHERE d.work IN ({marks}) OR (d.funding = :dfe AND l.kind = :nlg)",
                         {**{f"w{i}": w for i, w in enumerate(works)}, "dfe": "dfe",
                          "nlg": "NLG"}):
        first = as_date(r[5])
        if first is None:
            continue
        done = reviewed.get(r[0])
        if done is None or done < first:
            months = [policy[r[6]]] if r[6] in policy else []
            if r[7] == "dfe" and r[8] == "NLG":
                months.append(REVIEW_MONTHS)
            add(r, "progress review", add_months(first, min(months)))
    for r in reader.iter(base.format(extra="d.closed_on")
                         + "WHERE d.status = :closed AND NOT EXISTS (SELECT 1 FROM evaluation e "
                         'WHERE e.deployment_id = d.id AND e."by" = :school)',
                         {"closed": "closed", "school": "school"}):
        add(r, "school evaluation", as_date(r[5]) or on)
    rows.sort(key=lambda row: (row["due"], row["deployment_id"], row["what"]))
    return rows
