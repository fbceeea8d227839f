"""Planned sessions: days booked ahead of the work (`s2s plan`), kept in `planned_session`.

Rules (checked before anything is written, in the transaction that writes):

* **One day per leader per date, planned and worked alike.**  What a leader has on a date is
  the halves logged in `day_log` plus the halves of their sessions still `planned`; a plan, a
  move or a log never takes it past one day.  Every writer locks the leader row first
  (`deployments.lock_leader`: `FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE`), so
  concurrent writers serialise.
* **Agreed days.**  Worked plus planned days of a deployment may pass its agreed days only
  with `--over "reason"` (stored on the sessions beyond the agreement), as for `log`.
* **Dates.**  Today or later (days already worked are logged, not planned), inside the
  deployment's dates, the deployment active.  A block (`--from/--to`) takes weekdays (Saturdays
  and Sundays with `--include-weekends`) and always skips England's bank holidays; a single
  date on a weekend needs `--include-weekends` (not for an NLG) and on a bank holiday
  `--include-holidays`.  One session per deployment per date.  A block is all or nothing.
* **Confirming.**  `s2s log DEPLOYMENT --date D` on a date with a session planned for that
  deployment turns it `worked` (linked to the new day log, which takes the halves and activity
  actually worked): no second day.  `log undo` of that day turns it back to `planned`.
  Only day logs are ever invoiced; a planned session never is.
* A `planned` session whose date has passed shows as **to confirm** until it is logged or
  cancelled.  Cancelled sessions are kept (calendars show them as cancelled).  Closing a
  deployment cancels its sessions still planned.  Every write is audited (ORM).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from s2s_cli import parsing, taxonomy
from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.fastdb import Reader
from s2s_cli.parsing import days_str
from s2s_cli.services.requests import as_date, bind_date, choice, today

MAX_BLOCK_DAYS = 366
SHOWN_STATUSES = ("planned", "to confirm", "worked", "cancelled")
LIST_STATUSES = ("open", "planned", "to-confirm", "worked", "cancelled", "all")


def bank_holidays(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """England's bank holidays from `first` to `last` (as `log` skips them)."""
    from s2s_cli.services.deployments import bank_holidays as holidays_between

    return holidays_between(first, last)


def shown_status(status: str, date: dt.date, on: dt.date) -> str:
    return "to confirm" if status == "planned" and date < on else status


def _not_past(day: dt.date, what: str) -> None:
    now = today()
    if day < now:
        raise InvalidInput(f"{what} {day} is before today ({now}): record days worked with "
                           "'s2s log'")


def _check_single(day: dt.date, kind: str, *, include_weekends: bool,
                  include_holidays: bool) -> None:
    if day.weekday() >= 5 and kind != "NLG" and not include_weekends:
        raise Refused(f"{day} is a {day.strftime('%A')}; add --include-weekends to plan weekend "
                      f"work for an {kind}")
    holiday = bank_holidays(day, day).get(day)
    if holiday and not include_holidays:
        raise Refused(f"{day} is a bank holiday ({holiday}); add --include-holidays to plan it")


# --- what a leader has on a date: worked and planned ------------------------------------------

def leader_days(reader: Reader, leader_id: str, first: dt.date, last: dt.date, *,
                skip_plan: int | None = None) -> dict[dt.date, tuple[int, int]]:
    """Per date from `first` to `last`: (halves logged, halves still planned) for the leader."""
    a, b = bind_date(reader, first), bind_date(reader, last)
    out: dict[dt.date, list[int]] = {}
    for d, h in reader.iter("SELECT g.date, sum(g.halves) FROM day_log g WHERE g.leader_id = "
                            ":lid AND g.date >= :a AND g.date <= :b GROUP BY g.date",
                            {"lid": leader_id, "a": a, "b": b}):
        out.setdefault(as_date(d), [0, 0])[0] += int(h)  # type: ignore[arg-type]
    sql = ("SELECT p.date, sum(p.halves) FROM planned_session p WHERE p.leader_id = :lid "
           "AND p.status = :planned AND p.date >= :a AND p.date <= :b")
    params: dict[str, Any] = {"lid": leader_id, "planned": "planned", "a": a, "b": b}
    if skip_plan is not None:
        sql += " AND p.id <> :skip"
        params["skip"] = skip_plan
    for d, h in reader.iter(sql + " GROUP BY p.date", params):
        out.setdefault(as_date(d), [0, 0])[1] += int(h)  # type: ignore[arg-type]
    return {d: (v[0], v[1]) for d, v in out.items()}


def day_refusal(leader_id: str, day: dt.date, worked: int, planned: int,
                halves: int) -> Refused | None:
    """The refusal when `halves` more on `day` would give the leader more than one day."""
    already = worked + planned
    if already + halves <= 2:
        return None
    what = ("logged" if not planned else "planned" if not worked else "logged or planned")
    return Refused(f"{leader_id} already has {days_str(already)} day(s) {what} on {day}; "
                   f"{days_str(halves)} more would exceed one day")


def deployment_halves(reader: Reader, deployment_id: int) -> tuple[int, int]:
    """(halves logged, halves still planned) on a deployment."""
    worked = reader.scalar("SELECT coalesce(sum(g.halves), 0) FROM day_log g "
                           "WHERE g.deployment_id = :id", {"id": deployment_id})
    planned = reader.scalar("SELECT coalesce(sum(p.halves), 0) FROM planned_session p "
                            "WHERE p.deployment_id = :id AND p.status = :planned",
                            {"id": deployment_id, "planned": "planned"})
    return int(worked or 0), int(planned or 0)


# --- plan -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanInput:
    deployment_id: int
    dates: tuple[dt.date, ...]
    block: bool
    halves: int
    activity: str | None
    note: str | None
    over: str | None
    include_weekends: bool = False
    include_holidays: bool = False
    holidays_skipped: tuple[tuple[dt.date, str], ...] = ()


def validate_plan(*, deployment_id: int, date: str | None = None, date_from: str | None = None,
                  date_to: str | None = None, half: bool = False,
                  include_weekends: bool = False, include_holidays: bool = False,
                  activity: str | None = None, note: str | None = None,
                  over: str | None = None) -> PlanInput:
    if date is not None and (date_from is not None or date_to is not None):
        raise InvalidInput("give either --date DATE or --from DATE --to DATE, not both")
    skipped: tuple[tuple[dt.date, str], ...] = ()
    if date is not None:
        day = parsing.parse_date(date, what="--date")
        _not_past(day, "--date")
        dates: tuple[dt.date, ...] = (day,)
    elif date_from is not None and date_to is not None:
        if include_holidays:
            raise InvalidInput("--include-holidays is for a single --date; a block always "
                               "skips bank holidays")
        a = parsing.parse_date(date_from, what="--from")
        b = parsing.parse_date(date_to, what="--to")
        parsing.check_range(a, b, what="--from/--to")
        _not_past(a, "--from")
        if (b - a).days >= MAX_BLOCK_DAYS:
            raise InvalidInput(f"a block may span at most {MAX_BLOCK_DAYS} days")
        span = [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]
        span = [d for d in span if include_weekends or d.weekday() < 5]
        off = bank_holidays(a, b)
        skipped = tuple((d, off[d]) for d in span if d in off)
        dates = tuple(d for d in span if d not in off)
        if not dates:
            raise InvalidInput(f"no working days from {a} to {b} (add --include-weekends for "
                               "weekend work)")
    elif date_from is not None or date_to is not None:
        raise InvalidInput("--from and --to go together")
    else:
        raise InvalidInput("give --date DATE, or --from DATE --to DATE for a block")
    return PlanInput(
        deployment_id=deployment_id, dates=dates, block=date is None, halves=1 if half else 2,
        activity=choice(activity, taxonomy.ACTIVITIES, "activity") if activity else None,
        note=parsing.clean_text(note, what="--note"),
        over=parsing.clean_text(over, what="--over", required=True) if over is not None else None,
        include_weekends=include_weekends, include_holidays=include_holidays,
        holidays_skipped=skipped)


def _lock(session: Any, deployment_id: int) -> tuple[Any, Any]:
    """(leader, deployment), locked in the order every writer of days takes them."""
    from sqlmodel import select

    from s2s_cli.models import Deployment
    from s2s_cli.services.deployments import lock_leader

    leader_id = session.exec(select(Deployment.leader_id)
                             .where(Deployment.id == deployment_id)).first()
    if leader_id is None:
        raise NotFound(f"no deployment with id {deployment_id}")
    leader = lock_leader(session, leader_id)
    dep = session.exec(select(Deployment).where(Deployment.id == deployment_id)
                       .with_for_update()).one()
    return leader, dep


def _check_in_deployment(dep: Any, day: dt.date) -> None:
    if day < dep.start:
        raise Refused(f"{day} is before deployment {dep.id} starts ({dep.start})")
    if dep.end is not None and day > dep.end:
        raise Refused(f"{day} is after deployment {dep.id} ends ({dep.end})")


def _planned_on(session: Any, deployment_id: int, dates: list[dt.date],
                skip: int | None = None) -> dict[dt.date, Any]:
    """This deployment's sessions still planned on these dates."""
    from sqlmodel import select

    from s2s_cli.models import PlannedSession

    found: dict[dt.date, Any] = {}
    for i in range(0, len(dates), 500):
        q = select(PlannedSession).where(PlannedSession.deployment_id == deployment_id,
                                         PlannedSession.status == "planned",
                                         PlannedSession.date.in_(dates[i:i + 500]))  # type: ignore[attr-defined]
        for p in session.exec(q).all():
            if p.id != skip:
                found[p.date] = p
    return found


def plan_sessions(session: Any, inp: PlanInput) -> dict[str, Any]:
    """Book the sessions (all or nothing); returns {"ids", "worked", "planned", "agreed"}."""
    from s2s_cli.fastdb import session_reader
    from s2s_cli.models import PlannedSession

    leader, dep = _lock(session, inp.deployment_id)
    did = dep.id
    if dep.status != "active":
        raise Refused(f"deployment {did} is {dep.status}; nothing was planned")
    for d in inp.dates:
        _check_in_deployment(dep, d)
    if not inp.block:
        _check_single(inp.dates[0], leader.kind, include_weekends=inp.include_weekends,
                      include_holidays=inp.include_holidays)
    same = _planned_on(session, did, list(inp.dates))
    if same:
        d = min(same)
        raise Refused(f"deployment {did} already has session {same[d].id} planned on {d} "
                      f"(s2s plan move {same[d].id} --to DATE, or s2s plan cancel {same[d].id})")
    reader = session_reader(session)
    totals = leader_days(reader, leader.id, inp.dates[0], inp.dates[-1])
    for d in inp.dates:
        worked, planned = totals.get(d, (0, 0))
        refusal = day_refusal(leader.id, d, worked, planned, inp.halves)
        if refusal is not None:
            raise refusal
    worked, planned = deployment_halves(reader, did)
    total = worked + planned + inp.halves * len(inp.dates)
    if total > dep.agreed_halves and inp.over is None:
        raise Refused(f"deployment {did} would have {days_str(total)} of "
                      f"{days_str(dep.agreed_halves)} agreed days logged or planned; use "
                      "--over \"reason\" to plan beyond the agreement")
    activity = inp.activity or (dep.work if dep.work in taxonomy.ACTIVITIES else "other")
    rows = []
    running = worked + planned
    for d in inp.dates:
        running += inp.halves
        rows.append(PlannedSession(deployment_id=did, leader_id=leader.id, date=d,
                                   halves=inp.halves, activity=activity, note=inp.note,
                                   over_reason=inp.over if running > dep.agreed_halves
                                   else None))
    session.add_all(rows)
    session.flush()
    return {"ids": [p.id for p in rows], "worked": worked, "planned": total - worked,
            "agreed": dep.agreed_halves}


# --- the hooks `log`, `log undo` and `deployment close` call ----------------------------------

class LogPlans:
    """What `log` needs to know about planned sessions (the leader row is already locked):
    the halves other sessions hold on each date, this deployment's sessions the log confirms,
    and the halves still planned on the deployment besides those.  Runs in a light write
    transaction (`s2s_cli.unit.Tx`)."""

    def __init__(self, tx: Any, leader_id: str, deployment_id: int,
                 dates: tuple[dt.date, ...]) -> None:
        self.tx = tx
        reader = tx.reader
        self.confirms = _planned_rows(tx, deployment_id, list(dates))
        self.planned = leader_days(reader, leader_id, dates[0], dates[-1])
        _, on_deployment = deployment_halves(reader, deployment_id)
        self.confirmed_halves = sum(p.halves for p in self.confirms.values())
        self.remaining = on_deployment - self.confirmed_halves

    def planned_on(self, day: dt.date) -> int:
        """Halves planned for the leader on `day`, leaving out the session this log confirms."""
        held = self.planned.get(day, (0, 0))[1]
        mine = self.confirms.get(day)
        return held - (mine.halves if mine is not None else 0)

    def confirm(self, logs: list[Any]) -> list[int]:
        """Mark the confirmed sessions worked, linked to their day logs; returns their ids."""
        from s2s_cli.unit import utcnow

        done = []
        for log in logs:
            plan = self.confirms.get(log.date)
            if plan is None:
                continue
            self.tx.update(plan, status="worked", day_log_id=log.id, halves=log.halves,
                           activity=log.activity, sequence=plan.sequence + 1,
                           updated_at=utcnow())
            done.append(plan.id)
        return done


def _planned_rows(tx: Any, deployment_id: int, dates: list[dt.date]) -> dict[dt.date, Any]:
    """This deployment's sessions still planned on these dates (light transaction rows)."""
    found: dict[dt.date, Any] = {}
    for i in range(0, len(dates), 500):
        chunk = dates[i:i + 500]
        params: dict[str, Any] = {f"d{j}": bind_date(tx.reader, d) for j, d in enumerate(chunk)}
        params.update(did=deployment_id, planned="planned")
        marks = ", ".join(f":d{j}" for j in range(len(chunk)))
        for p in tx.select("planned_session", "deployment_id = :did AND status = :planned "
                           f"AND date IN ({marks})", params):
            found[p.date] = p
    return found


def unconfirm(session: Any, log_id: int) -> int | None:
    """Before a day log is deleted: the session it confirmed goes back to planned."""
    from sqlmodel import select

    from s2s_cli.models import PlannedSession, utcnow

    plan = session.exec(select(PlannedSession)
                        .where(PlannedSession.day_log_id == log_id)).first()
    if plan is None:
        return None
    plan.status = "planned"
    plan.day_log_id = None
    plan.sequence += 1
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()
    return plan.id


def cancel_open(session: Any, deployment_id: int, reason: str) -> int:
    """Cancel a deployment's sessions still planned (when it closes); returns how many."""
    from sqlmodel import select

    from s2s_cli.models import PlannedSession, utcnow

    plans = session.exec(select(PlannedSession).where(
        PlannedSession.deployment_id == deployment_id,
        PlannedSession.status == "planned")).all()
    for plan in plans:
        plan.status = "cancelled"
        plan.cancel_reason = reason
        plan.sequence += 1
        plan.updated_at = utcnow()
        session.add(plan)
    if plans:
        session.flush()
    return len(plans)


def cancel_all(session: Any, deployment_id: int, reason: str) -> int:
    """Cancel every session of a deployment that is cancelled (worked ones lose the day log
    link: `deployment cancel` deletes the days); returns how many changed."""
    from sqlmodel import select

    from s2s_cli.models import PlannedSession, utcnow

    plans = session.exec(select(PlannedSession).where(
        PlannedSession.deployment_id == deployment_id,
        PlannedSession.status != "cancelled")).all()
    for plan in plans:
        plan.status = "cancelled"
        plan.day_log_id = None
        plan.cancel_reason = reason
        plan.sequence += 1
        plan.updated_at = utcnow()
        session.add(plan)
    if plans:
        session.flush()
    return len(plans)


def follow_day(session: Any, log: Any) -> None:
    """After `log edit`: the session a day confirmed takes its new date and halves."""
    from sqlmodel import select

    from s2s_cli.models import PlannedSession, utcnow

    plan = session.exec(select(PlannedSession)
                        .where(PlannedSession.day_log_id == log.id)).first()
    if plan is None or (plan.date, plan.halves, plan.activity) == (log.date, log.halves,
                                                                     log.activity):
        return
    plan.date, plan.halves, plan.activity = log.date, log.halves, log.activity
    plan.sequence += 1
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()


def planned_span(session: Any, deployment_id: int) -> tuple[dt.date | None, dt.date | None]:
    """(first, last) date of a deployment's sessions still planned."""
    from s2s_cli.fastdb import session_reader

    reader = session_reader(session)
    row = reader.one("SELECT min(p.date), max(p.date) FROM planned_session p "
                     "WHERE p.deployment_id = :id AND p.status = :planned",
                     {"id": deployment_id, "planned": "planned"}) or (None, None)
    return as_date(row[0]), as_date(row[1])


# --- list, move, cancel -----------------------------------------------------------------------

PLAN_SELECT = """
SELECT p.id, p.date, p.deployment_id, p.leader_id, l.name, d.school_urn, s.name, p.halves,
       p.activity, p.status, p.note, p.day_log_id, p.cancel_reason
FROM planned_session p JOIN deployment d ON d.id = p.deployment_id
JOIN leader l ON l.id = p.leader_id JOIN school s ON s.urn = d.school_urn
"""
PLAN_KEYS = ("id", "date", "deployment_id", "leader_id", "leader", "school_urn", "school",
             "days", "activity", "status", "note", "day_log_id", "cancel_reason")


def plan_rows(reader: Reader, where: list[str], params: dict[str, Any],
              on: dt.date | None = None) -> list[dict[str, Any]]:
    on = on or today()
    sql = PLAN_SELECT + (" WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY p.date, p.id"
    rows = []
    for r in reader.iter(sql, params):
        row = dict(zip(PLAN_KEYS, r, strict=True))
        row["date"] = as_date(row["date"])
        row["weekday"] = row["date"].strftime("%a")
        row["status"] = shown_status(row["status"], row["date"], on)
        rows.append(row)
    return rows


def list_plans(reader: Reader, *, deployment_id: int | None = None, leader: str | None = None,
               school: int | None = None, date_from: str | None = None,
               date_to: str | None = None, status: str = "open") -> list[dict[str, Any]]:
    from s2s_cli.services.deployments import _require, norm_leader

    wanted = choice(status, LIST_STATUSES, "status")
    _require(reader, leader=leader, school=school, deployment_id=deployment_id)
    on = today()
    where: list[str] = []
    params: dict[str, Any] = {}
    if deployment_id is not None:
        where.append("p.deployment_id = :did")
        params["did"] = deployment_id
    if leader:
        where.append("p.leader_id = :lid")
        params["lid"] = norm_leader(leader)
    if school is not None:
        where.append("d.school_urn = :urn")
        params["urn"] = school
    a = parsing.parse_date(date_from, what="--from") if date_from else None
    b = parsing.parse_date(date_to, what="--to") if date_to else None
    parsing.check_range(a, b, what="--from/--to")
    if a:
        where.append("p.date >= :a")
        params["a"] = bind_date(reader, a)
    if b:
        where.append("p.date <= :b")
        params["b"] = bind_date(reader, b)
    if wanted in ("open", "planned", "to-confirm"):
        where.append("p.status = :st")
        params["st"] = "planned"
        params["on"] = bind_date(reader, on)
        if wanted == "planned":
            where.append("p.date >= :on")
        elif wanted == "to-confirm":
            where.append("p.date < :on")
    elif wanted != "all":
        where.append("p.status = :st")
        params["st"] = wanted
    return plan_rows(reader, where, params, on)


def _plan_for_update(session: Any, plan_id: int) -> Any:
    from sqlmodel import select

    from s2s_cli.models import PlannedSession

    dep_id = session.exec(select(PlannedSession.deployment_id)
                          .where(PlannedSession.id == plan_id)).first()
    if dep_id is None:
        raise NotFound(f"no planned session with id {plan_id}")
    leader, dep = _lock(session, dep_id)
    plan = session.exec(select(PlannedSession).where(PlannedSession.id == plan_id)
                        .with_for_update()).one()
    if plan.status == "worked":
        raise Refused(f"session {plan_id} was worked (day log {plan.day_log_id}); undo the day "
                      f"first (s2s log undo {plan.day_log_id})")
    if plan.status == "cancelled":
        raise Refused(f"session {plan_id} is cancelled")
    return leader, dep, plan


@dataclass(frozen=True)
class MoveInput:
    plan_id: int
    to: dt.date
    include_weekends: bool = False
    include_holidays: bool = False


def validate_move(*, plan_id: int, to: str, include_weekends: bool = False,
                  include_holidays: bool = False) -> MoveInput:
    day = parsing.parse_date(to, what="--to")
    _not_past(day, "--to")
    return MoveInput(plan_id, day, include_weekends, include_holidays)


def move_plan(session: Any, inp: MoveInput) -> dict[str, Any]:
    from s2s_cli.fastdb import session_reader
    from s2s_cli.models import utcnow

    leader, dep, plan = _plan_for_update(session, inp.plan_id)
    if plan.date == inp.to:
        raise Refused(f"session {plan.id} is already on {inp.to}")
    if dep.status != "active":
        raise Refused(f"deployment {dep.id} is {dep.status}; the session was not moved")
    _check_in_deployment(dep, inp.to)
    _check_single(inp.to, leader.kind, include_weekends=inp.include_weekends,
                  include_holidays=inp.include_holidays)
    same = _planned_on(session, dep.id, [inp.to], skip=plan.id)
    if same:
        raise Refused(f"deployment {dep.id} already has session {same[inp.to].id} planned on "
                      f"{inp.to}")
    worked, planned = leader_days(session_reader(session), leader.id, inp.to, inp.to,
                                  skip_plan=plan.id).get(inp.to, (0, 0))
    refusal = day_refusal(leader.id, inp.to, worked, planned, plan.halves)
    if refusal is not None:
        raise refusal
    was = plan.date
    plan.date = inp.to
    plan.sequence += 1
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()
    return {"id": plan.id, "from": was, "to": inp.to, "deployment_id": dep.id}


def cancel_plan(session: Any, plan_id: int, reason: str | None) -> dict[str, Any]:
    from s2s_cli.models import utcnow

    _leader, dep, plan = _plan_for_update(session, plan_id)
    plan.status = "cancelled"
    plan.cancel_reason = reason
    plan.sequence += 1
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()
    return {"id": plan.id, "date": plan.date, "deployment_id": dep.id}
