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
  agreement).  A block of dates is all-or-nothing.  No day after today ("not worked yet");
  a single date on a Saturday or Sunday only for an NLG or with `--include-weekends`; blocks
  are weekdays unless `--include-weekends`, and skip England's bank holidays (the `holidays`
  library) unless `--include-holidays`, without which a single bank-holiday date is refused.
  Sessions still planned count too, on both rules (`services/planning.py`); logging a
  planned date confirms that session instead of adding a day.
* **Corrections.** `deployment edit` re-checks dates (every logged day inside them) and agreed
  days (capacity, as `deploy`); its rates and funding change only while none of its days is
  on a live invoice (void first).  `deployment cancel` needs no live-invoiced day: its days
  are deleted, it takes no capacity and drops out of reviews due.  A day on no live invoice
  (perhaps once on a voided one) may be undone or edited.  Each write is audited.
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
    UNSET,
    as_date,
    bind_date,
    check_funder,
    check_rise_ref,
    choice,
    clean_bill_to,
    clean_po,
    lock_request,
    past_date,
    today,
)

EVALUATORS = ("school", "leader", "review")
MAX_BLOCK_DAYS = 366
REVIEW_MONTHS = 4
DEFAULT_REVIEW_POLICY = {"governance-review": REVIEW_MONTHS}
OVERRIDE_HINT = '(use --override "reason" to deploy anyway)'


def norm_leader(leader_id: str) -> str:
    lid = leader_id.strip().upper()
    if not lid or len(lid) > 40 or parsing.text_problem(lid):
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
           "WHERE d.start >= :a AND d.start <= :b AND d.status <> :cancelled")
    params: dict[str, Any] = {"a": bind_date(reader, start), "b": bind_date(reader, end),
                              "cancelled": "cancelled"}
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
    po: str | None = None
    on: dt.date | None = None  # the date agreed (default today)
    rise_ref: str | None = None
    bill_to: str | None = None  # school | trust (default: the request's)


def validate_deploy(*, request_id: int, leader: str, days: str | None = None,
                    start: str | None = None, end: str | None = None, work: str = "other",
                    funding: str | None = None, funder: str | None = None,
                    dfe_extra_days: int = 0, rate: str | None = None,
                    half_day_rate: str | None = None,
                    override: str | None = None, po: str | None = None,
                    on: str | None = None, rise_ref: str | None = None,
                    bill_to: str | None = None) -> DeployInput:
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
                  if override is not None else None),
        po=clean_po(po), on=past_date(on, what="--on") if on is not None else None,
        rise_ref=parsing.clean_text(rise_ref, what="--rise-ref", max_len=100),
        bill_to=clean_bill_to(bill_to))


def check_dfe_extra(extra: int, funding: str, school: Any, leader: Any, halves: int) -> None:
    """The additional days of a DfE-funded NLG package at a trust (bad input otherwise)."""
    if not extra:
        return
    if funding != "dfe":
        raise InvalidInput("--dfe-extra-days is only for DfE-funded deployments "
                           "(--funding dfe)")
    if school.type not in TRUST_TYPES:
        raise InvalidInput(f"--dfe-extra-days is only for a trust school (academy or free "
                           f"school); {school.urn} is {school.type or 'of unknown type'}")
    if leader.kind != "NLG":
        raise InvalidInput(f"--dfe-extra-days is only for a national leader of governance "
                           f"(NLG) package; {leader.id} is an {leader.kind}")
    if extra * 2 > halves:
        raise InvalidInput(f"--dfe-extra-days {extra} is more than the "
                           f"{days_str(halves)} days agreed")


def lock_leader(session: Any, leader_id: str) -> Any:
    """The leader row, locked for this transaction (FOR UPDATE on PostgreSQL)."""
    from sqlmodel import select

    from s2s_cli.models import Leader

    leader = session.exec(select(Leader).where(Leader.id == leader_id).with_for_update()).first()
    if leader is None:
        raise NotFound(f"no leader with id '{leader_id}'")
    return leader


def deploy(tx: Any, inp: DeployInput) -> dict[str, Any]:
    """Create a deployment in a light write transaction (`s2s_cli.unit.Tx`: no SQLAlchemy
    import); returns {"id", "rates", "overrode": [refusals overridden]}."""
    from s2s_cli.services import rates

    req = tx.get("support_request", id=inp.request_id, lock=True)
    if req is None:
        raise NotFound(f"no request with id {inp.request_id}")
    leader = tx.get("leader", id=inp.leader_id, lock=True)
    if leader is None:
        raise NotFound(f"no leader with id '{inp.leader_id}'")
    school = tx.get("school", urn=req.school_urn)
    halves = inp.days_halves if inp.days_halves is not None else req.days_halves
    if halves is None:
        raise InvalidInput(f"give --days: request {req.id} does not say how many days")
    funding = inp.funding or req.funding
    if inp.funder is not None:
        funder = inp.funder
    else:
        funder = req.funder if funding == req.funding else None
    rise_ref = inp.rise_ref if inp.rise_ref is not None else (
        req.rise_ref if funding == req.funding else None)
    check_funder(funding, funder, inp.rise_ref)
    rise_ref = check_rise_ref(funding, rise_ref)
    check_dfe_extra(inp.dfe_extra_days, funding, school, leader, halves)
    bill_to = inp.bill_to or req.bill_to or "school"
    trust_uid = None
    if bill_to == "trust":
        from s2s_cli.services.requests import school_trust

        trust_uid = school_trust(school, req.school_urn)  # frozen: the trust it has today
    agreed_on = inp.on or today()
    if agreed_on < req.received:
        raise Refused(f"--on {agreed_on} is before request {req.id} was received "
                      f"({req.received})")

    refusals = []
    if funding == "dfe":
        refusals.append(f"dfe funding: {taxonomy.DFE_NLG_CLOSED}")
    if req.status in ("cancelled", "completed"):
        refusals.append(f"request {req.id} is {req.status}")
    if not leader.active or leader.erased:
        refusals.append(f"{leader.id} is inactive")
    if leader.home_school_urn == req.school_urn:
        refusals.append(f"{leader.id} is based at the supported school ({req.school_urn})")
    year = taxonomy.academic_year_of(inp.start)
    left = remaining_halves(tx.reader, leader.id, leader.capacity_days, year)
    if left < halves:
        refusals.append(f"{leader.id} has {days_str(left)} of {leader.capacity_days} days left "
                        f"in {taxonomy.academic_year_label(year)}; {days_str(halves)} asked")
    if refusals and inp.override is None:
        raise Refused("; ".join(refusals) + " " + OVERRIDE_HINT)

    setting = tx.get("setting", key="rate_card")
    card = rates.card_from_json(setting.value if setting else None)
    if inp.rate_pence is not None:
        r = rates.negotiated(card, inp.rate_pence, inp.half_day_rate_pence)
    else:
        r = rates.rates_for(card, leader.kind, inp.work, school.pupils)
    misfit = rates.check_admin_fits(card, r.day_pence, r.half_day_pence, "this deployment")
    if misfit:
        raise Refused(misfit)
    terms = rates.frozen_terms(card, leader_kind=leader.kind,
                               home_school_urn=leader.home_school_urn, school_urn=school.urn,
                               school_type=school.type, pupils=school.pupils, work=inp.work,
                               funding=funding)
    dep = tx.insert("deployment", **terms,
        request_id=req.id, leader_id=leader.id, school_urn=req.school_urn, agreed_halves=halves,
        start=inp.start, end=inp.end, work=inp.work, funding=funding, funder=funder,
        rise_ref=rise_ref, dfe_extra_days=inp.dfe_extra_days, rate_pence=r.day_pence,
        half_day_rate_pence=r.half_day_pence, supply_pence=r.supply_pence,
        half_day_supply_pence=r.half_day_supply_pence,
        rate_source="negotiated" if inp.rate_pence is not None else "card",
        override_reason=inp.override if refusals else None,
        po=inp.po if inp.po is not None else req.po, agreed_on=agreed_on,
        bill_to=bill_to, payer_trust_uid=trust_uid)
    changes: dict[str, Any] = {}
    if req.status != "matched":
        changes.update(status="matched", closed_on=None)
    changes["matched_on"] = min(req.matched_on, agreed_on) if req.matched_on else agreed_on
    tx.update(req, **changes)
    return {"id": dep.id, "rates": r, "overrode": refusals}


# --- deployments: list, show, close -----------------------------------------------------------

DEPLOYMENT_SELECT = """
SELECT d.id, d.request_id, d.leader_id, l.name, d.school_urn, s.name, d.status, d.start,
       d."end", d.work, d.funding, d.funder, d.rise_ref, d.dfe_extra_days, d.agreed_halves,
       (SELECT coalesce(sum(g.halves), 0) FROM day_log g WHERE g.deployment_id = d.id),
       d.rate_pence, d.half_day_rate_pence, d.supply_pence, d.half_day_supply_pence,
       d.rate_source, d.override_reason, d.closed_on, d.po, d.agreed_on, d.cancel_reason,
       d.cancelled_on, d.bill_to, d.payer_trust_uid, d.leader_kind, d.home_school_urn,
       d.school_type, d.school_band, d.payer_school_urn, d.vat, d.vat_percent_bp,
       d.payment_terms_days
FROM deployment d JOIN leader l ON l.id = d.leader_id JOIN school s ON s.urn = d.school_urn
"""
DEPLOYMENT_KEYS = ("id", "request_id", "leader_id", "leader", "school_urn", "school", "status",
                   "start", "end", "work", "funding", "funder", "rise_ref", "dfe_extra_days",
                   "agreed_days",
                   "logged_days", "rate_pence", "half_day_rate_pence", "supply_pence",
                   "half_day_supply_pence", "rate_source", "override_reason", "closed_on",
                   "po", "agreed_on", "cancel_reason", "cancelled_on", "bill_to",
                   "payer_trust_uid", "leader_kind", "home_school_urn", "school_type",
                   "school_band", "payer_school_urn", "vat", "vat_percent_bp",
                   "payment_terms_days")


def _deployment_rows(reader: Reader, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in reader.iter(sql, params):
        row = dict(zip(DEPLOYMENT_KEYS, r, strict=True))
        for k in ("start", "end", "closed_on", "agreed_on", "cancelled_on"):
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


DEPLOYMENT_STATUSES = ("active", "closed", "cancelled")


def list_deployments(reader: Reader, *, leader: str | None = None, school: int | None = None,
                     active: bool = False, status: str | None = None) -> list[dict[str, Any]]:
    if status is not None:
        status = choice(status, DEPLOYMENT_STATUSES, "deployment status")
        if active and status != "active":
            raise InvalidInput(f"--active and --status {status} contradict each other")
    _require(reader, leader=leader, school=school)
    where, params = [], {}
    if leader:
        where.append("d.leader_id = :lid")
        params["lid"] = norm_leader(leader)
    if school is not None:
        where.append("d.school_urn = :urn")
        params["urn"] = school
    if active or status:
        where.append("d.status = :status")
        params["status"] = status or "active"
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


def _lock_deployment(session: Any, deployment_id: int) -> tuple[Any, Any]:
    """(request, deployment), both locked in that order (the order every writer takes)."""
    from sqlmodel import select

    from s2s_cli.models import Deployment

    request_id = session.exec(select(Deployment.request_id)
                              .where(Deployment.id == deployment_id)).first()
    if request_id is None:
        raise NotFound(f"no deployment with id {deployment_id}")
    req = lock_request(session, request_id)
    dep = session.exec(select(Deployment).where(Deployment.id == deployment_id)
                       .with_for_update()).one()
    return req, dep


def _logged_span(session: Any, deployment_id: int) -> tuple[int, dt.date | None, dt.date | None]:
    """(halves logged, first date, last date) of a deployment's days."""
    from s2s_cli.fastdb import session_reader

    reader = session_reader(session)
    halves, first, last = reader.one(
        "SELECT coalesce(sum(g.halves), 0), min(g.date), max(g.date) FROM day_log g "
        "WHERE g.deployment_id = :id", {"id": deployment_id}) or (0, None, None)
    return int(halves or 0), as_date(first), as_date(last)


def close_deployment(session: Any, deployment_id: int,
                     on: dt.date | None = None) -> dict[str, Any]:
    """Close a deployment on `on` (back-dated; default today): not before its start or its
    last logged day.  Its request is completed once none of its deployments is active."""
    from sqlmodel import select

    from s2s_cli.models import Deployment

    req, dep = _lock_deployment(session, deployment_id)
    if dep.status == "closed":
        raise Refused(f"deployment {deployment_id} is already closed (on {dep.closed_on})")
    if dep.status == "cancelled":
        raise Refused(f"deployment {deployment_id} was cancelled (on {dep.cancelled_on})")
    logged, _first, last = _logged_span(session, deployment_id)
    when = on or today()
    if when < dep.start:
        raise Refused(f"--on {when} is before deployment {deployment_id} starts ({dep.start})")
    if last is not None and when < last:
        raise Refused(f"--on {when} is before the last day logged on deployment "
                      f"{deployment_id} ({last})")
    dep.status = "closed"
    dep.closed_on = when
    session.add(dep)
    session.flush()
    still_active = session.exec(select(Deployment.id).where(
        Deployment.request_id == req.id, Deployment.status == "active")).first()
    if still_active is None and req.status in ("open", "matched"):
        req.status = "completed"
        req.closed_on = when
        session.add(req)
        session.flush()
    cancelled = planning.cancel_open(session, deployment_id, "deployment closed")
    return {"request_id": req.id, "request_status": req.status, "logged": logged,
            "agreed": dep.agreed_halves, "cancelled_sessions": cancelled}


def live_invoices(session: Any, deployment_id: int) -> list[str]:
    """Numbers of the live invoices holding any of the deployment's days."""
    from sqlmodel import select

    from s2s_cli.models import DayLog, Invoice

    return sorted(set(session.exec(
        select(Invoice.number).join(DayLog, DayLog.invoice_id == Invoice.id)
        .where(DayLog.deployment_id == deployment_id)).all()))


def _void_first(what: str, deployment_id: int, numbers: list[str]) -> Refused:
    plural = "s" if len(numbers) > 1 else ""
    return Refused(f"{what}: deployment {deployment_id} has days on live invoice{plural} "
                   f"{', '.join(numbers)}; void {'them' if plural else 'it'} first "
                   f"(s2s invoices void NUMBER --reason TEXT)")


# --- correcting a deployment ------------------------------------------------------------------

@dataclass(frozen=True)
class DeploymentEdit:
    """What `deployment edit` changes: only the fields given (`end` None = open-ended)."""

    start: Any = UNSET
    end: Any = UNSET
    days_halves: Any = UNSET
    work: Any = UNSET
    funding: Any = UNSET
    funder: Any = UNSET
    dfe_extra_days: Any = UNSET
    rate_pence: Any = UNSET  # pence, or "card": re-price from the rate card
    half_day_rate_pence: Any = UNSET
    po: Any = UNSET
    # the terms frozen at agreement (issue 12), each changed only when given
    leader_kind: Any = UNSET
    home_school_urn: Any = UNSET
    school_type: Any = UNSET  # None clears
    school_band: Any = UNSET  # None clears
    payer_school_urn: Any = UNSET
    bill_to: Any = UNSET
    vat: Any = UNSET
    payment_terms_days: Any = UNSET
    override: str | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not UNSET and k != "override"}


def validate_deployment_edit(*, start: str | None = None, end: str | None = None,
                             days: str | None = None, work: str | None = None,
                             funding: str | None = None, funder: str | None = None,
                             dfe_extra_days: int | None = None, rate: str | None = None,
                             half_day_rate: str | None = None, po: str | None = None,
                             override: str | None = None, leader_kind: str | None = None,
                             home_school: int | None = None, school_type: str | None = None,
                             school_band: str | None = None, payer: int | None = None,
                             bill_to: str | None = None, vat: str | None = None,
                             payment_terms: int | None = None) -> DeploymentEdit:
    """Each option as `deploy` validates it.  `--end ""` makes the deployment open-ended,
    `--funder ""` and `--po ""` clear them, `--rate card` re-prices from the rate card;
    `--school-type ""` and `--school-band ""` clear those frozen terms."""
    from s2s_cli.services.rates import VAT_TREATMENTS
    changes: dict[str, Any] = {}
    if start is not None:
        changes["start"] = parsing.parse_date(start, what="--start")
    if end is not None:
        changes["end"] = None if not end.strip() else parsing.parse_date(end, what="--end")
    if changes.get("start") and changes.get("end"):
        parsing.check_range(changes["start"], changes["end"], what="--start/--end")
    if days is not None:
        changes["days_halves"] = parsing.parse_days(days, what="--days")
    if work is not None:
        changes["work"] = choice(work, taxonomy.WORK_TYPES, "kind of work")
    if funding is not None:
        changes["funding"] = choice(funding, taxonomy.FUNDING_ROUTES, "funding route")
    if funder is not None:
        changes["funder"] = parsing.clean_text(funder, what="--funder", max_len=200)
    if dfe_extra_days is not None:
        if not 0 <= dfe_extra_days <= 5:
            raise InvalidInput(f"--dfe-extra-days must be between 0 and 5, not {dfe_extra_days}")
        changes["dfe_extra_days"] = dfe_extra_days
    if rate is not None:
        if rate.strip().lower() == "card":
            if half_day_rate is not None:
                raise InvalidInput("--half-day-rate goes with a negotiated --rate, not --rate "
                                   "card")
            changes["rate_pence"] = "card"
        else:
            changes["rate_pence"] = parsing.parse_money(rate, what="--rate")
    if half_day_rate is not None:
        changes["half_day_rate_pence"] = parsing.parse_money(half_day_rate,
                                                             what="--half-day-rate")
    if po is not None:
        changes["po"] = clean_po(po)
    if leader_kind is not None:
        from s2s_cli.services.directory import resolve_kind

        changes["leader_kind"] = resolve_kind(leader_kind)
    if home_school is not None:
        changes["home_school_urn"] = home_school
    if school_type is not None:
        changes["school_type"] = parsing.clean_text(school_type, what="--school-type",
                                                    max_len=100) or None
    if school_band is not None:
        changes["school_band"] = parsing.clean_text(school_band, what="--school-band",
                                                    max_len=100) or None
    if payer is not None:
        changes["payer_school_urn"] = payer
    if bill_to is not None:
        changes["bill_to"] = clean_bill_to(bill_to)
    if vat is not None:
        changes["vat"] = choice(vat, VAT_TREATMENTS, "--vat")
    if payment_terms is not None:
        if not 0 <= payment_terms <= 365:
            raise InvalidInput(f"--payment-terms must be 0 to 365 days, not {payment_terms}")
        changes["payment_terms_days"] = payment_terms
    why = (parsing.clean_text(override, what="--override", required=True)
           if override is not None else None)
    if not changes:
        raise InvalidInput("nothing to change: give at least one of --start, --end, --days, "
                           "--work, --funding, --funder, --dfe-extra-days, --rate, "
                           "--half-day-rate, --po, --leader-kind, --home-school, "
                           "--school-type, --school-band, --payer, --bill-to, --vat, "
                           "--payment-terms")
    return DeploymentEdit(**changes, override=why)


MONEY_FIELDS = ("funding", "funder", "dfe_extra_days", "rate_pence", "half_day_rate_pence",
                "supply_pence", "half_day_supply_pence", "rate_source",
                # frozen terms that decide how days already billed were classified or whose
                # supply cover they owe (remittance reads the home school): void first
                "leader_kind", "home_school_urn", "school_type", "school_band")
# Frozen terms that only decide who the next invoice goes to and on what terms: they change
# for the days not yet invoiced (issued documents never change).
PAYER_FIELDS = ("payer_school_urn", "bill_to", "payer_trust_uid", "vat", "vat_percent_bp",
                "payment_terms_days", "po")


def edit_deployment(session: Any, deployment_id: int, edit: DeploymentEdit) -> dict[str, Any]:
    """Correct a deployment (audited).  Dates must hold every logged day; agreed days and a
    start in another academic year are re-checked against capacity (like `deploy`, overridable);
    rates and funding change only while none of its days is on a live invoice.  Returns
    {"changed": {field: (before, after)}, "overrode": [...], "rates": Rates | None}."""
    from s2s_cli.fastdb import session_reader
    from s2s_cli.models import School, Setting
    from s2s_cli.services import rates

    req, dep = _lock_deployment(session, deployment_id)
    leader = lock_leader(session, dep.leader_id)
    if dep.status == "cancelled":
        raise Refused(f"deployment {deployment_id} was cancelled (on {dep.cancelled_on}); "
                      "nothing to edit")
    given = edit.given()
    school = session.get(School, dep.school_urn)
    start = given.get("start", dep.start)
    end = given.get("end", dep.end)
    parsing.check_range(start, end, what="--start/--end")
    halves = given.get("days_halves", dep.agreed_halves)
    work = given.get("work", dep.work)
    funding = given.get("funding", dep.funding)
    if "funder" in given:
        funder = given["funder"]
    else:
        funder = dep.funder if funding in taxonomy.FUNDED_ROUTES else None
    check_funder(funding, funder)
    if funding != dep.funding:
        from s2s_cli.services.requests import check_dfe_closed

        check_dfe_closed(funding, edit.override if funding == "dfe" else None, "deployment")
        if funding == "rise" and not dep.rise_ref:
            raise InvalidInput("a deployment moves to rise funding only with its RISE "
                               "reference: cancel it and deploy again with --rise-ref")
    extra = given.get("dfe_extra_days", dep.dfe_extra_days if funding == "dfe" else 0)
    check_dfe_extra(extra, funding, school, leader, halves)

    new: dict[str, Any] = {"start": start, "end": end, "agreed_halves": halves, "work": work,
                           "funding": funding, "funder": funder, "dfe_extra_days": extra,
                           "po": given.get("po", dep.po)}
    for key in ("leader_kind", "school_type", "school_band", "payment_terms_days"):
        if key in given:
            new[key] = given[key]
    if "payer_school_urn" in given and given.get("bill_to", dep.bill_to) == "trust":
        raise Refused(f"deployment {deployment_id} bills its trust: use --bill-to school "
                      "first")
    for key in ("home_school_urn", "payer_school_urn"):
        if key in given:
            if session.get(School, given[key]) is None:
                raise NotFound(f"no school with URN {given[key]}")
            new[key] = given[key]
    if "school_band" in given and given["school_band"] is not None:
        setting = session.get(Setting, "rate_card")
        bands = [b["name"] for b in rates.card_from_json(
            setting.value if setting else None).get("bands") or []]
        if given["school_band"] not in bands:
            raise InvalidInput(f"--school-band '{given['school_band']}' is not a band of the "
                               f"rate card ({', '.join(bands) or 'it has none'})")
    if "vat" in given:
        new["vat"] = given["vat"]
        new["vat_percent_bp"] = rates.STANDARD_VAT_BP if given["vat"] == "standard" else 0
    if "bill_to" in given:
        new["bill_to"] = given["bill_to"]
        if given["bill_to"] == "trust":
            from s2s_cli.services.requests import trust_of

            new["payer_trust_uid"] = (dep.payer_trust_uid if dep.bill_to == "trust"
                                      else trust_of(session, dep.school_urn))
        else:
            new["payer_trust_uid"] = None
    priced = None
    if "rate_pence" in given or "half_day_rate_pence" in given:
        setting = session.get(Setting, "rate_card")
        card = rates.card_from_json(setting.value if setting else None)
        day = given.get("rate_pence", dep.rate_pence)
        if day == "card":
            priced = rates.rates_for(card, new.get("leader_kind") or dep.leader_kind
                                     or leader.kind, work, school.pupils)
        else:
            half = given.get("half_day_rate_pence")
            if half is not None and half > day:
                raise InvalidInput(f"--half-day-rate {parsing.format_pence(half)} is more than "
                                   f"the day rate {parsing.format_pence(day)}")
            priced = rates.negotiated(card, day, half)
        new.update(rate_pence=priced.day_pence, half_day_rate_pence=priced.half_day_pence,
                   supply_pence=priced.supply_pence,
                   half_day_supply_pence=priced.half_day_supply_pence,
                   rate_source="card" if day == "card" else "negotiated")
    changed = {k: (getattr(dep, k), v) for k, v in new.items() if getattr(dep, k) != v}

    logged, first, last = _logged_span(session, deployment_id)
    if first is not None and start > first:
        raise Refused(f"deployment {deployment_id} has days logged from {first}; it cannot "
                      f"start later ({start})")
    if last is not None and end is not None and end < last:
        raise Refused(f"deployment {deployment_id} has days logged up to {last}; it cannot end "
                      f"sooner ({end})")
    p_first, p_last = planning.planned_span(session, deployment_id)
    if p_first is not None and (start > p_first or (end is not None and end < p_last)):
        raise Refused(f"deployment {deployment_id} has sessions planned from {p_first} to "
                      f"{p_last}; move or cancel them first (s2s plan list --deployment "
                      f"{deployment_id})")
    if dep.status == "closed" and dep.closed_on and start > dep.closed_on:
        raise Refused(f"deployment {deployment_id} closed on {dep.closed_on}; it cannot start "
                      f"after that ({start})")
    money = sorted(k for k in changed if k in MONEY_FIELDS)
    if money:
        numbers = live_invoices(session, deployment_id)
        if numbers:
            terms = {"leader_kind": "leader kind", "home_school_urn": "home school",
                     "school_type": "school type", "school_band": "size band"}
            if any(k.endswith("pence") or k == "rate_source" for k in money):
                what = "rates"
            elif any(k in terms for k in money):
                what = ", ".join(terms[k] for k in money if k in terms)
            else:
                what = "funding"
            raise _void_first(f"cannot change its {what}", deployment_id, numbers)

    refusals = []
    if halves < logged and "agreed_halves" in changed:
        refusals.append(f"deployment {deployment_id} already has {days_str(logged)} days "
                        f"logged; {days_str(halves)} agreed is fewer")
    year = taxonomy.academic_year_of(start)
    moved_year = year != taxonomy.academic_year_of(dep.start)
    if dep.status == "active" and ("agreed_halves" in changed or moved_year):
        left = remaining_halves(session_reader(session), leader.id, leader.capacity_days, year)
        if not moved_year:
            left += dep.agreed_halves  # what this deployment already takes from the year
        if left < halves:
            refusals.append(f"{leader.id} has {days_str(left)} of {leader.capacity_days} days "
                            f"left in {taxonomy.academic_year_label(year)}; {days_str(halves)} "
                            "asked")
    if refusals and edit.override is None:
        raise Refused("; ".join(refusals) + ' (use --override "reason" to change it anyway)')
    if not changed:
        return {"changed": {}, "overrode": [], "rates": priced}
    for k, (_before, after) in changed.items():
        setattr(dep, k, after)
    if refusals:
        dep.override_reason = edit.override
    session.add(dep)
    session.flush()
    return {"changed": changed, "overrode": refusals, "rates": priced}


def cancel_deployment(session: Any, deployment_id: int, reason: str,
                      on: dt.date | None = None) -> dict[str, Any]:
    """Cancel a deployment none of whose days is on a live invoice: its days are deleted
    (audited; a day once on a voided invoice loses its `invoice_day` links, which the audit
    trail and the credit note keep), so it no longer takes capacity; its request goes back to
    open when no other deployment of it stands (matched while another is active, completed
    when the others are closed)."""
    from sqlmodel import select

    from s2s_cli.models import DayLog, Deployment, InvoiceDay

    req, dep = _lock_deployment(session, deployment_id)
    lock_leader(session, dep.leader_id)
    if dep.status == "cancelled":
        raise Refused(f"deployment {deployment_id} is already cancelled (on {dep.cancelled_on})")
    numbers = live_invoices(session, deployment_id)
    if numbers:
        raise _void_first("cannot cancel it", deployment_id, numbers)
    when = on or today()
    agreed = dep.agreed_on or dep.created_at.date()
    if when < agreed:
        raise Refused(f"--on {when} is before deployment {deployment_id} was agreed ({agreed})")
    planning.cancel_all(session, deployment_id, "deployment cancelled")
    days = session.exec(select(DayLog).where(DayLog.deployment_id == deployment_id)).all()
    ids = [d.id for d in days]
    removed = sum(d.halves for d in days)
    links = []
    for chunk in range(0, len(ids), 500):
        links += session.exec(select(InvoiceDay).where(
            InvoiceDay.day_log_id.in_(ids[chunk:chunk + 500]))).all()  # type: ignore
    drop_voided_links(session, links)
    for d in days:
        session.delete(d)
    dep.status = "cancelled"
    dep.cancel_reason = reason
    dep.cancelled_on = when
    session.add(dep)
    session.flush()
    others = session.exec(select(Deployment).where(Deployment.request_id == req.id,
                                                   Deployment.status != "cancelled")).all()
    if req.status != "cancelled":
        if any(o.status == "active" for o in others):
            req.status, req.closed_on = "matched", None
        elif others:
            req.status = "completed"
            req.closed_on = max(o.closed_on or when for o in others)
        else:
            req.status, req.closed_on = "open", None
    dates = [o.agreed_on or o.created_at.date() for o in others]
    req.matched_on = min(dates) if dates else None
    session.add(req)
    session.flush()
    return {"request_id": req.id, "request_status": req.status, "removed_days": len(ids),
            "removed_halves": removed}


# --- days worked ------------------------------------------------------------------------------

def bank_holidays(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """England's bank holidays from `first` to `last` (the maintained `holidays` library,
    2015-2040 as a checked snapshot: `s2s_cli.bankholidays`)."""
    from s2s_cli import bankholidays

    return bankholidays.between(first, last)


def _not_worked_yet(day: dt.date, what: str) -> None:
    now = today()
    if day > now:
        raise InvalidInput(f"{what} {day} is after today ({now}): not worked yet")


def _check_day(day: dt.date, kind: str, *, include_weekends: bool, include_holidays: bool,
               holiday: str | None) -> None:
    """A single date: not a weekend (but for an NLG), not a bank holiday, unless allowed."""
    if day.weekday() >= 5 and kind != "NLG" and not include_weekends:
        raise Refused(f"{day} is a {day.strftime('%A')}; add --include-weekends to log "
                      f"weekend work for an {kind}")
    if holiday and not include_holidays:
        raise Refused(f"{day} is a bank holiday ({holiday}); add --include-holidays to log it")


@dataclass(frozen=True)
class LogInput:
    deployment_id: int
    dates: tuple[dt.date, ...]
    block: bool
    halves: int
    activity: str | None
    note: str | None
    over: str | None
    include_weekends: bool = False
    include_holidays: bool = False
    holidays_skipped: tuple[tuple[dt.date, str], ...] = ()  # a block's bank holidays left out
    holiday: str | None = None  # the bank holiday a single date falls on


def validate_log(*, deployment_id: int, date: str | None = None, date_from: str | None = None,
                 date_to: str | None = None, half: bool = False, include_weekends: bool = False,
                 include_holidays: bool = False, activity: str | None = None,
                 note: str | None = None, over: str | None = None) -> LogInput:
    if date is not None and (date_from is not None or date_to is not None):
        raise InvalidInput("give either --date DATE or --from DATE --to DATE, not both")
    skipped: tuple[tuple[dt.date, str], ...] = ()
    holiday = None
    if date is not None:
        day = parsing.parse_date(date, what="--date")
        _not_worked_yet(day, "--date")
        dates: tuple[dt.date, ...] = (day,)
        holiday = bank_holidays(day, day).get(day)
    elif date_from is not None and date_to is not None:
        a = parsing.parse_date(date_from, what="--from")
        b = parsing.parse_date(date_to, what="--to")
        parsing.check_range(a, b, what="--from/--to")
        if (b - a).days >= MAX_BLOCK_DAYS:
            raise InvalidInput(f"a block may span at most {MAX_BLOCK_DAYS} days")
        _not_worked_yet(b, "--to")
        span = [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]
        span = [d for d in span if include_weekends or d.weekday() < 5]
        if not include_holidays:
            off = bank_holidays(a, b)
            skipped = tuple((d, off[d]) for d in span if d in off)
            span = [d for d in span if d not in off]
        dates = tuple(span)
        if not dates:
            raise InvalidInput(f"no working days from {a} to {b} (add --include-weekends for "
                               "weekend work, --include-holidays for bank holidays)")
    elif date_from is not None or date_to is not None:
        raise InvalidInput("--from and --to go together")
    else:
        raise InvalidInput("give --date DATE, or --from DATE --to DATE for a block")
    return LogInput(
        deployment_id=deployment_id, dates=dates, block=date is None, halves=1 if half else 2,
        activity=choice(activity, taxonomy.ACTIVITIES, "activity") if activity else None,
        note=parsing.clean_text(note, what="--note", multiline=True),
        over=parsing.clean_text(over, what="--over", required=True) if over is not None else None,
        include_weekends=include_weekends, include_holidays=include_holidays,
        holidays_skipped=skipped, holiday=holiday)


def _day_totals(reader: Reader, leader_id: str, first: dt.date, last: dt.date,
                skip_id: int | None = None) -> dict[dt.date, int]:
    """Halves the leader has logged per date from `first` to `last` (leaving out one log)."""
    sql = ("SELECT g.date, sum(g.halves) FROM day_log g WHERE g.leader_id = :lid "
           "AND g.date >= :a AND g.date <= :b")
    params: dict[str, Any] = {"lid": leader_id, "a": bind_date(reader, first),
                              "b": bind_date(reader, last)}
    if skip_id is not None:
        sql += " AND g.id <> :skip"
        params["skip"] = skip_id
    return {as_date(d): int(h) for d, h in reader.iter(sql + " GROUP BY g.date", params)}


def log_days(tx: Any, inp: LogInput) -> dict[str, Any]:
    """Record the days (all or nothing) in a light write transaction (`s2s_cli.unit.Tx`:
    no SQLAlchemy import); returns {"ids", "logged", "agreed", "confirmed"}."""
    did = inp.deployment_id
    reader = tx.reader
    leader_id = reader.scalar("SELECT leader_id FROM deployment WHERE id = :id", {"id": did})
    if leader_id is None:
        raise NotFound(f"no deployment with id {did}")
    # the leader row first: it serialises every writer of this leader's days
    leader = tx.get("leader", id=leader_id, lock=True)
    if leader is None:
        raise NotFound(f"no leader with id '{leader_id}'")
    dep = tx.get("deployment", id=did, lock=True)
    if dep.status != "active":
        raise Refused(f"deployment {did} is {dep.status}; nothing was logged")
    first, last = inp.dates[0], inp.dates[-1]
    for d in inp.dates:
        if d < dep.start:
            raise Refused(f"{d} is before deployment {did} starts ({dep.start})")
        if dep.end is not None and d > dep.end:
            raise Refused(f"{d} is after deployment {did} ends ({dep.end})")
    plans = planning.LogPlans(tx, leader_id, did, inp.dates)
    if not inp.block and first not in plans.confirms:  # a planned date was agreed already
        _check_day(first, leader.kind, include_weekends=inp.include_weekends,
                   include_holidays=inp.include_holidays, holiday=inp.holiday)
    existing = _day_totals(reader, leader_id, first, last)
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
        logs.append(tx.insert(
            "day_log", deployment_id=did, leader_id=leader_id, date=d, halves=inp.halves,
            activity=inp.activity or (plan.activity if plan else activity),
            note=inp.note if inp.note is not None or plan is None else plan.note,
            over_reason=(plan.over_reason if plan and plan.over_reason else
                         inp.over if running > dep.agreed_halves else None)))
    confirmed = plans.confirm(logs)
    return {"ids": [g.id for g in logs], "logged": total, "agreed": dep.agreed_halves,
            "confirmed": confirmed}


LOG_SELECT = """
SELECT g.id, g.deployment_id, g.leader_id, d.school_urn, g.date, g.halves, g.activity, g.note,
       g.invoice_id, i.number
FROM day_log g JOIN deployment d ON d.id = g.deployment_id
LEFT JOIN invoice i ON i.id = g.invoice_id
"""
LOG_KEYS = ("id", "deployment_id", "leader_id", "school_urn", "date", "days", "activity", "note",
            "invoice_id", "invoice_number")


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


def _editable_day(session: Any, log_id: int) -> Any:
    """A day log that is on no live invoice (one only ever on voided invoices may change:
    the credit note and the audit trail keep what was billed)."""
    from s2s_cli.models import DayLog, Invoice

    log = session.get(DayLog, log_id)
    if log is None:
        raise NotFound(f"no day log with id {log_id}")
    if log.invoice_id is not None:
        inv = session.get(Invoice, log.invoice_id)
        number = inv.number if inv else f"id {log.invoice_id}"
        raise Refused(f"day {log_id} is on invoice {number}; void the invoice first "
                      f"(s2s invoices void {number} --reason TEXT)")
    return log


def drop_voided_links(session: Any, links: list[Any]) -> None:
    """Remove the links from voided documents to days being removed (audited), and seal those
    documents again: the new seal is recorded in the audit chain, so `db check` sees a
    documented change, not tampering."""
    from s2s_cli import audit

    for link in links:
        session.delete(link)
    session.flush()
    audit.seal_documents(session, sorted({link.invoice_id for link in links}))


def undo_log(session: Any, log_id: int) -> dict[str, Any]:
    """Delete a day log on no live invoice.  A day once on voided invoices loses its
    `invoice_day` links (both deletions audited); the credit notes keep their lines."""
    from sqlmodel import select

    from s2s_cli.models import InvoiceDay

    log = _editable_day(session, log_id)
    lock_leader(session, log.leader_id)
    info = {"id": log.id, "deployment_id": log.deployment_id, "date": log.date,
            "halves": log.halves}
    info["replanned"] = planning.unconfirm(session, log_id)
    links = session.exec(select(InvoiceDay).where(InvoiceDay.day_log_id == log_id)).all()
    drop_voided_links(session, links)
    session.delete(log)
    session.flush()
    info["was_invoiced"] = bool(links)
    return info


@dataclass(frozen=True)
class LogEdit:
    log_id: int
    date: dt.date | None = None
    halves: int | None = None
    activity: str | None = None
    note: Any = UNSET  # None clears it
    over: str | None = None
    include_weekends: bool = False
    include_holidays: bool = False
    holiday: str | None = None


def validate_log_edit(*, log_id: int, date: str | None = None, half: bool = False,
                      full: bool = False, activity: str | None = None, note: str | None = None,
                      over: str | None = None, include_weekends: bool = False,
                      include_holidays: bool = False) -> LogEdit:
    if half and full:
        raise InvalidInput("give --half or --full, not both")
    day = None
    holiday = None
    if date is not None:
        day = parsing.parse_date(date, what="--date")
        _not_worked_yet(day, "--date")
        holiday = bank_holidays(day, day).get(day)
    edit = LogEdit(
        log_id=log_id, date=day, halves=1 if half else 2 if full else None,
        activity=choice(activity, taxonomy.ACTIVITIES, "activity") if activity else None,
        note=(parsing.clean_text(note, what="--note", multiline=True) if note is not None
              else UNSET),
        over=parsing.clean_text(over, what="--over", required=True) if over is not None else None,
        include_weekends=include_weekends, include_holidays=include_holidays, holiday=holiday)
    if (edit.date is None and edit.halves is None and edit.activity is None
            and edit.note is UNSET and edit.over is None):
        raise InvalidInput("nothing to change: give at least one of --date, --half, --full, "
                           "--activity, --note, --over")
    return edit


def edit_log(session: Any, edit: LogEdit) -> dict[str, Any]:
    """Correct a day log on no live invoice, re-checking what `log` checks."""
    from s2s_cli.fastdb import session_reader
    from s2s_cli.models import Deployment

    log = _editable_day(session, edit.log_id)
    leader = lock_leader(session, log.leader_id)
    dep = session.get(Deployment, log.deployment_id)
    did = dep.id
    day = edit.date or log.date
    halves = edit.halves or log.halves
    if edit.date is not None and edit.date != log.date:
        if day < dep.start:
            raise Refused(f"{day} is before deployment {did} starts ({dep.start})")
        if dep.end is not None and day > dep.end:
            raise Refused(f"{day} is after deployment {did} ends ({dep.end})")
        if dep.status == "closed" and dep.closed_on and day > dep.closed_on:
            raise Refused(f"{day} is after deployment {did} closed ({dep.closed_on})")
        _check_day(day, leader.kind, include_weekends=edit.include_weekends,
                   include_holidays=edit.include_holidays, holiday=edit.holiday)
    reader = session_reader(session)
    already = _day_totals(reader, leader.id, day, day, skip_id=log.id).get(day, 0)
    planned = planning.leader_days(reader, leader.id, day, day).get(day, (0, 0))[1]
    refusal = planning.day_refusal(leader.id, day, already, planned, halves)
    if refusal is not None:
        raise refusal
    logged = int(reader.scalar("SELECT coalesce(sum(g.halves), 0) FROM day_log g "
                               "WHERE g.deployment_id = :id", {"id": did}) or 0)
    total = logged - log.halves + halves
    over = edit.over or log.over_reason
    if halves > log.halves and total > dep.agreed_halves and over is None:
        raise Refused(f"deployment {did} would have {days_str(total)} of "
                      f"{days_str(dep.agreed_halves)} agreed days logged; use --over \"reason\" "
                      "to log beyond the agreement")
    before = {"date": log.date, "halves": log.halves, "activity": log.activity,
              "note": log.note}
    log.date, log.halves = day, halves
    if edit.activity is not None:
        log.activity = edit.activity
    if edit.note is not UNSET:
        log.note = edit.note
    if edit.over is not None:
        log.over_reason = edit.over
    session.add(log)
    session.flush()
    planning.follow_day(session, log)
    after = {"date": log.date, "halves": log.halves, "activity": log.activity,
             "note": log.note}
    return {"id": log.id, "deployment_id": did,
            "changed": {k: (before[k], after[k]) for k in before if before[k] != after[k]},
            "logged": total, "agreed": dep.agreed_halves}


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
    text = parsing.clean_text(impact, what="--impact", required=True, multiline=True)
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
                         + f"WHERE d.status <> :cancelled AND (d.work IN ({marks}) "
                         "OR (d.funding = :dfe AND l.kind = :nlg))",
                         {**{f"w{i}": w for i, w in enumerate(works)}, "dfe": "dfe",
                          "nlg": "NLG", "cancelled": "cancelled"}):
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
