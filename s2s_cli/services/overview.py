"""The coordinator's overview (`s2s week`, `s2s today`): one read of everything that needs
attention, as sections of rows.

* `by_day`: each day of the week (Monday to Sunday) holding `--date` (or just today), with the
  sessions planned or worked on it (cancelled ones left out).
* `to_confirm`: sessions still planned whose date has passed (log them or cancel them).
* `requests_waiting`: open requests (no deployment yet), oldest first, with their age in days.
* `deployments_ending`: active deployments ending within a fortnight, or already past their
  end, with the days agreed, logged, planned and left (agreed less logged and planned).
* `reviews_due`: progress reviews and school evaluations due within a fortnight (overdue too).
* `invoices_unpaid`: issued invoices not voided and not paid in full (`s2s invoices pay`),
  with how many days past their due date.
* `leaders_near_capacity`: active leaders who have used 90% or more of the days their home
  school releases in the academic year (what deployments take, as `s2s capacity` counts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from s2s_cli import parsing, taxonomy
from s2s_cli.fastdb import Reader
from s2s_cli.output import Column, _json_value
from s2s_cli.services.requests import as_date, bind_date, today

HORIZON_DAYS = 14
NEAR_CAPACITY_PCT = 90.0

SESSION_COLUMNS = [
    Column("id", kind="int"), Column("date", kind="date"), Column("weekday", "day"),
    Column("deployment_id", "deployment", "int"), Column("leader_id", "leader id"),
    Column("leader"), Column("school_urn", "URN", "int"), Column("school"),
    Column("days", kind="days"), Column("activity"), Column("status"),
    Column("note", table=False),
]
REQUEST_COLUMNS = [
    Column("id", kind="int"), Column("school_urn", "URN", "int"), Column("school"),
    Column("need"), Column("specialisms", kind="list"), Column("kind"),
    Column("days", kind="days"), Column("received", kind="date"),
    Column("age_days", "waiting (days)", "int"),
]
ENDING_COLUMNS = [
    Column("deployment_id", "deployment", "int"), Column("leader_id", "leader id"),
    Column("leader"), Column("school_urn", "URN", "int"), Column("school"),
    Column("end", kind="date"), Column("days_to_end", "days to end", "int"),
    Column("agreed_days", "agreed", "days"), Column("logged_days", "logged", "days"),
    Column("planned_days", "planned", "days"), Column("days_left", "left", "days"),
    Column("state"),
]
REVIEW_COLUMNS = [
    Column("deployment_id", "deployment", "int"), Column("school_urn", "URN", "int"),
    Column("school"), Column("leader_id", "leader id"), Column("leader"), Column("what"),
    Column("due", kind="date"), Column("days_left", "days left", "int"),
]
INVOICE_COLUMNS = [
    Column("number"), Column("payer"), Column("payer_school_urn", "URN", "int"),
    Column("issued", kind="date"), Column("due", kind="date"),
    Column("total_pence", "total", "money"), Column("days_overdue", "days overdue", "int"),
    Column("overdue", kind="bool"),
]
CAPACITY_COLUMNS = [
    Column("leader_id", "id"), Column("name"), Column("kind"),
    Column("capacity_days", "released", "days"), Column("agreed_days", "agreed", "days"),
    Column("worked_days", "worked", "days"), Column("remaining_days", "remaining", "days"),
    Column("used_pct", "used", "pct"),
]
SECTIONS = (
    ("to_confirm", "Planned sessions to confirm", SESSION_COLUMNS),
    ("requests_waiting", "Requests waiting for a match", REQUEST_COLUMNS),
    ("deployments_ending", "Deployments ending within a fortnight or past their end",
     ENDING_COLUMNS),
    ("reviews_due", "Reviews and evaluations due within a fortnight", REVIEW_COLUMNS),
    ("invoices_unpaid", "Invoices issued and unpaid", INVOICE_COLUMNS),
    ("leaders_near_capacity", "Leaders at 90% or more of their released days",
     CAPACITY_COLUMNS),
)
ITEM_COLUMNS = [
    Column("section"), Column("date", kind="date"), Column("ref"), Column("leader_id"),
    Column("leader"), Column("school_urn", kind="int"), Column("school"),
    Column("days", kind="days"), Column("amount_pence", kind="money"), Column("detail"),
]


def validate_date(value: str | None) -> dt.date:
    return parsing.parse_date(value, what="--date") if value is not None else today()


def overview(reader: Reader, on: dt.date, *, span: str = "week") -> dict[str, Any]:
    from s2s_cli.services import planning

    first = on - dt.timedelta(days=on.weekday()) if span == "week" else on
    last = first + dt.timedelta(days=6) if span == "week" else on
    sessions = planning.plan_rows(
        reader, ["p.status <> :cancelled", "p.date >= :a", "p.date <= :b"],
        {"cancelled": "cancelled", "a": bind_date(reader, first),
         "b": bind_date(reader, last)}, on)
    by_day = []
    for i in range((last - first).days + 1):
        day = first + dt.timedelta(days=i)
        by_day.append({"date": day, "weekday": day.strftime("%a"),
                       "sessions": [s for s in sessions if s["date"] == day]})
    to_confirm = planning.plan_rows(reader, ["p.status = :planned", "p.date < :on"],
                                    {"planned": "planned", "on": bind_date(reader, on)}, on)
    return {"date": on, "from": first, "to": last, "by_day": by_day,
            "to_confirm": to_confirm, "requests_waiting": requests_waiting(reader, on),
            "deployments_ending": deployments_ending(reader, on),
            "reviews_due": _reviews(reader, on), "invoices_unpaid": invoices_unpaid(reader, on),
            "leaders_near_capacity": near_capacity(reader, on)}


def requests_waiting(reader: Reader, on: dt.date) -> list[dict[str, Any]]:
    rows = []
    for i, urn, school, need, kind, halves, received in reader.iter(
            "SELECT r.id, r.school_urn, s.name, r.need, r.kind, r.days_halves, r.received "
            "FROM support_request r JOIN school s ON s.urn = r.school_urn "
            "WHERE r.status = :open ORDER BY r.received, r.id", {"open": "open"}):
        got = as_date(received)
        assert got is not None
        rows.append({"id": i, "school_urn": urn, "school": school, "need": need, "kind": kind,
                     "days": halves, "received": got, "age_days": (on - got).days,
                     "specialisms": []})
    wanted = {r["id"]: r for r in rows}
    if wanted:
        for rid, slug in reader.iter("SELECT t.request_id, t.specialism_slug FROM "
                                     "request_specialism t JOIN support_request r ON "
                                     "r.id = t.request_id WHERE r.status = :open "
                                     "ORDER BY t.request_id, t.specialism_slug",
                                     {"open": "open"}):
            if rid in wanted:
                wanted[rid]["specialisms"].append(slug)
    return rows


def deployments_ending(reader: Reader, on: dt.date) -> list[dict[str, Any]]:
    horizon = on + dt.timedelta(days=HORIZON_DAYS)
    rows = []
    for r in reader.iter(
            'SELECT d.id, d.leader_id, l.name, d.school_urn, s.name, d."end", d.agreed_halves, '
            "(SELECT coalesce(sum(g.halves), 0) FROM day_log g WHERE g.deployment_id = d.id), "
            "(SELECT coalesce(sum(p.halves), 0) FROM planned_session p "
            "WHERE p.deployment_id = d.id AND p.status = :planned) "
            "FROM deployment d JOIN leader l ON l.id = d.leader_id "
            "JOIN school s ON s.urn = d.school_urn "
            'WHERE d.status = :active AND d."end" IS NOT NULL AND d."end" <= :h '
            'ORDER BY d."end", d.id',
            {"planned": "planned", "active": "active", "h": bind_date(reader, horizon)}):
        end = as_date(r[5])
        assert end is not None
        agreed, logged, planned = int(r[6]), int(r[7]), int(r[8])
        rows.append({"deployment_id": r[0], "leader_id": r[1], "leader": r[2],
                     "school_urn": r[3], "school": r[4], "end": end,
                     "days_to_end": (end - on).days, "agreed_days": agreed,
                     "logged_days": logged, "planned_days": planned,
                     "days_left": agreed - logged - planned,
                     "state": "past its end" if end < on else "ends soon"})
    return rows


def _reviews(reader: Reader, on: dt.date) -> list[dict[str, Any]]:
    from s2s_cli.services.deployments import reviews_due

    return reviews_due(reader, within=HORIZON_DAYS, on=on)


def invoices_unpaid(reader: Reader, on: dt.date) -> list[dict[str, Any]]:
    rows = []
    for number, payer, urn, issued, due, total in reader.iter(
            "SELECT i.number, i.payer, i.payer_school_urn, i.issued, i.due, i.total_pence "
            "FROM invoice i WHERE i.series = :series AND i.voided_by_id IS NULL "
            "AND i.issued <= :on AND i.total_pence > COALESCE((SELECT SUM(p.amount_pence) "
            "FROM payment p WHERE p.invoice_id = i.id), 0) - COALESCE((SELECT "
            "SUM(c.total_pence) FROM invoice c WHERE c.credits_invoice_id = i.id), 0) "
            "ORDER BY i.due, i.number",
            {"series": "invoice", "on": bind_date(reader, on)}):
        due_on = as_date(due)
        assert due_on is not None
        late = (on - due_on).days
        rows.append({"number": number, "payer": payer, "payer_school_urn": urn,
                     "issued": as_date(issued), "due": due_on, "total_pence": int(total),
                     "days_overdue": max(late, 0), "overdue": late > 0})
    return rows


def near_capacity(reader: Reader, on: dt.date) -> list[dict[str, Any]]:
    from s2s_cli.services.deployments import capacity

    _, rows = capacity(reader, year=taxonomy.academic_year_of(on))
    out = []
    for r in rows:
        released = r["capacity_days"]
        if released <= 0:
            continue
        pct = round(100.0 * (released - r["remaining_days"]) / released, 1)
        if pct >= NEAR_CAPACITY_PCT:
            out.append({**r, "used_pct": pct})
    out.sort(key=lambda r: (-r["used_pct"], r["leader_id"]))
    return out


# --- rendering --------------------------------------------------------------------------------

def _json_rows(rows: list[dict[str, Any]], columns: list[Column]) -> list[dict[str, Any]]:
    return [{c.key: _json_value(c, r.get(c.key)) for c in columns} for r in rows]


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"date": data["date"].isoformat(), "from": data["from"].isoformat(),
                           "to": data["to"].isoformat()}
    doc["by_day"] = [{"date": d["date"].isoformat(), "weekday": d["weekday"],
                      "sessions": _json_rows(d["sessions"], SESSION_COLUMNS)}
                     for d in data["by_day"]]
    for key, _title, columns in SECTIONS:
        doc[key] = _json_rows(data[key], columns)
    return doc


def items(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of every section as one flat table (plain and CSV output)."""
    out: list[dict[str, Any]] = []

    def session(section: str, s: dict[str, Any]) -> None:
        out.append({"section": section, "date": s["date"], "ref": str(s["id"]),
                    "leader_id": s["leader_id"], "leader": s["leader"],
                    "school_urn": s["school_urn"], "school": s["school"], "days": s["days"],
                    "detail": f"{s['status']}; {s['activity']}; deployment {s['deployment_id']}"})

    for day in data["by_day"]:
        for s in day["sessions"]:
            session("session", s)
    for s in data["to_confirm"]:
        session("to_confirm", s)
    for r in data["requests_waiting"]:
        out.append({"section": "request_waiting", "date": r["received"], "ref": str(r["id"]),
                    "school_urn": r["school_urn"], "school": r["school"], "days": r["days"],
                    "detail": f"{r['need']}; waiting {r['age_days']} days"})
    for d in data["deployments_ending"]:
        when = (f"ended {-d['days_to_end']} days ago" if d["days_to_end"] < 0
                else f"ends in {d['days_to_end']} days")
        out.append({"section": "deployment_ending", "date": d["end"],
                    "ref": str(d["deployment_id"]), "leader_id": d["leader_id"],
                    "leader": d["leader"], "school_urn": d["school_urn"], "school": d["school"],
                    "days": d["days_left"], "detail": f"{d['state']}; {when}"})
    for r in data["reviews_due"]:
        out.append({"section": "review_due", "date": r["due"], "ref": str(r["deployment_id"]),
                    "leader_id": r["leader_id"], "leader": r["leader"],
                    "school_urn": r["school_urn"], "school": r["school"], "detail": r["what"]})
    for i in data["invoices_unpaid"]:
        out.append({"section": "invoice_unpaid", "date": i["due"], "ref": i["number"],
                    "school_urn": i["payer_school_urn"], "school": i["payer"],
                    "amount_pence": i["total_pence"],
                    "detail": (f"overdue by {i['days_overdue']} days" if i["overdue"]
                               else "not yet due")})
    for c in data["leaders_near_capacity"]:
        out.append({"section": "leader_near_capacity", "ref": c["leader_id"],
                    "leader_id": c["leader_id"], "leader": c["name"],
                    "days": c["remaining_days"],
                    "detail": f"{c['used_pct']:.1f}% of {parsing.days_str(c['capacity_days'])} "
                              "released days used"})
    return out


def print_panels(data: dict[str, Any]) -> None:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from s2s_cli.output import console, rich_table

    con = console()
    first, last = data["from"], data["to"]
    if first == last:
        heading = f"Today, {first.strftime('%A')} {first.isoformat()}"
    else:
        heading = f"Week of {first.isoformat()} to {last.isoformat()}"
    parts: list[Any] = []
    day_columns = [c for c in SESSION_COLUMNS if c.key not in ("date", "weekday")]
    for day in data["by_day"]:
        label = f"{day['date'].strftime('%A')} {day['date'].isoformat()}"
        if day["sessions"]:
            parts.append(rich_table(day["sessions"], day_columns, title=label))
        else:
            parts.append(Text(f"{label}: nothing planned", style="dim"))
    count = sum(len(d["sessions"]) for d in data["by_day"])
    con.print(Panel(Group(*parts), title=f"{heading}: {count} session(s)",
                    title_align="left"))
    for key, title, columns in SECTIONS:
        rows = data[key]
        body: Any = rich_table(rows, columns) if rows else Text("Nothing.", style="dim")
        con.print(Panel(body, title=f"{title} ({len(rows)})", title_align="left"))
