"""Calendars (`s2s calendar`): planned, worked and cancelled sessions as iCalendar (RFC 5545)
files written with the `icalendar` library, for leaders and schools to subscribe to.

* One all-day event per session (DTSTART/DTEND as dates); a half day says so in its summary
  and in `X-S2S-DAYS: 0.5`.  LOCATION is the school's name and address (street, locality,
  town, county - the local authority when no town is known - and postcode); the
  description names the leader, the school, the work, the session's state and the
  coordinator (the rate card's alliance name and email, also the ORGANIZER when an email is
  set).
* UIDs are stable: `s2s-plan-<id>@s2s` for a planned session (the same event once it is worked,
  moved or cancelled, with SEQUENCE raised each time), `s2s-day-<id>@s2s` for a day logged
  without a plan.  Cancelled sessions stay, as STATUS:CANCELLED.
* Nothing depends on the clock: DTSTAMP and LAST-MODIFIED are the record's own last change, so
  the same data always gives the same bytes (a cron job rewriting the file changes nothing
  until a session does)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from s2s_cli.errors import InvalidInput
from s2s_cli.fastdb import Reader
from s2s_cli.parsing import days_str
from s2s_cli.services.requests import as_date

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PRODID = "-//s2s//school-to-school support sessions//EN"


@dataclass(frozen=True)
class Selection:
    what: str  # leader | school | deployment | all
    value: Any
    out: str
    split: str | None  # leader | school: one file per value of the placeholder


def validate_selection(*, leader: str | None, school: int | None, deployment_id: int | None,
                       all_: bool, out: str) -> Selection:
    from s2s_cli.services.deployments import norm_leader

    given = [(k, v) for k, v in (("leader", leader), ("school", school),
                                 ("deployment", deployment_id)) if v is not None]
    if all_:
        given.append(("all", True))
    if len(given) != 1:
        raise InvalidInput("give one of --leader ID, --school URN, --deployment ID or --all")
    what, value = given[0]
    if what == "leader":
        value = norm_leader(str(value))
    if not out.strip():
        raise InvalidInput("--out must be a file path ending in .ics")
    names = PLACEHOLDER.findall(out)
    for name in names:
        if name not in ("leader", "school"):
            raise InvalidInput(f"--out: unknown placeholder {{{name}}} (use {{leader}} or "
                               "{school})")
    if len(set(names)) > 1:
        raise InvalidInput("--out takes {leader} or {school}, not both")
    if not out.lower().endswith(".ics"):
        raise InvalidInput(f"--out must end in .ics, not '{out}'")
    return Selection(what, value, out, names[0] if names else None)


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0)


COMMON = ("d.id, d.work, d.leader_id, l.name, l.kind, d.school_urn, s.name, s.postcode, "
          "la.name, s.street, s.locality, s.address3, s.town, s.county")
JOINS = ("JOIN deployment d ON d.id = {t}.deployment_id JOIN leader l ON l.id = d.leader_id "
         "JOIN school s ON s.urn = d.school_urn JOIN local_authority la ON la.id = s.la_id")


def sessions(reader: Reader, sel: Selection) -> list[dict[str, Any]]:
    """Every session the selection covers: planned sessions (any state) and the days logged
    without a plan, ordered by date and UID."""
    from s2s_cli.services.deployments import _require

    _require(reader, leader=sel.value if sel.what == "leader" else None,
             school=sel.value if sel.what == "school" else None,
             deployment_id=sel.value if sel.what == "deployment" else None)
    where, params = "", {}
    if sel.what != "all":
        column = {"leader": "d.leader_id", "school": "d.school_urn", "deployment": "d.id"}
        where = f" WHERE {column[sel.what]} = :v"
        params["v"] = sel.value
    out: list[dict[str, Any]] = []
    plan_sql = ("SELECT p.id, p.status, coalesce(g.date, p.date), coalesce(g.halves, p.halves), "
                "coalesce(g.activity, p.activity), coalesce(g.note, p.note), p.sequence, "
                "p.created_at, p.updated_at, p.cancel_reason, "
                f"{COMMON} FROM planned_session p {JOINS.format(t='p')} "
                "LEFT JOIN day_log g ON g.id = p.day_log_id" + where)
    for r in reader.iter(plan_sql, params):
        out.append({"uid": f"s2s-plan-{r[0]}@s2s", "status": r[1], "date": as_date(r[2]),
                    "halves": int(r[3]), "activity": r[4], "note": r[5], "sequence": int(r[6]),
                    "created": _utc(r[7]), "changed": _utc(r[8]), "cancel_reason": r[9],
                    **_common(r[10:])})
    day_sql = ("SELECT g.id, g.date, g.halves, g.activity, g.note, g.created_at, "
               f"{COMMON} FROM day_log g {JOINS.format(t='g')}" + where +
               (" AND" if where else " WHERE") +
               " NOT EXISTS (SELECT 1 FROM planned_session p WHERE p.day_log_id = g.id)")
    for r in reader.iter(day_sql, params):
        out.append({"uid": f"s2s-day-{r[0]}@s2s", "status": "worked", "date": as_date(r[1]),
                    "halves": int(r[2]), "activity": r[3], "note": r[4], "sequence": 0,
                    "created": _utc(r[5]), "changed": _utc(r[5]), "cancel_reason": None,
                    **_common(r[6:])})
    out.sort(key=lambda e: (e["date"], e["uid"]))
    return out


def _common(r: Any) -> dict[str, Any]:
    lines = [p.strip() for p in r[9:14] if p and p.strip()]
    if not any(r[12:13]):  # no town: the local authority says where it is
        lines.append(r[8])
    if r[7]:
        lines.append(r[7])
    return {"deployment_id": r[0], "work": r[1], "leader_id": r[2], "leader": r[3],
            "kind": r[4], "school_urn": r[5], "school": r[6], "address": lines}


def coordinator(reader: Reader) -> tuple[str | None, str | None]:
    """(alliance name, email) from the rate card's invoice settings, when set."""
    raw = reader.scalar("SELECT value FROM setting WHERE key = :k", {"k": "rate_card"})
    settings = (json.loads(raw) if raw else {}).get("invoice") or {}
    return settings.get("alliance_name") or None, settings.get("email") or None


def _words(slug: str) -> str:
    return slug.replace("-", " ")


def event(e: dict[str, Any], alliance: str | None, email: str | None) -> Any:
    from icalendar import Event, vCalAddress, vText

    half = e["halves"] == 1
    what = _words(e["activity"]) + (", half day" if half else "")
    summary = f"{e['school']}: {e['leader']} ({what})"
    if e["status"] == "cancelled":
        summary = "Cancelled: " + summary
    place = ", ".join([e["school"], *e["address"]])
    state = {"planned": "planned", "worked": "worked",
             "cancelled": "cancelled"}[e["status"]]
    lines = [f"Leader: {e['leader']} ({e['leader_id']}, {e['kind']})",
             f"School: {e['school']} (URN {e['school_urn']}), " + ", ".join(e["address"]),
             f"Work: {_words(e['work'])} (deployment {e['deployment_id']})",
             f"Session: {state}, {'half day' if half else 'full day'}"
             + (f" ({e['cancel_reason']})" if e["status"] == "cancelled" and e["cancel_reason"]
                else "")]
    if e["note"]:
        lines.append(f"Note: {e['note']}")
    contact = ", ".join(p for p in (alliance, email) if p)
    if contact:
        lines.append(f"Coordinator: {contact}")
    ev = Event()
    ev.add("uid", e["uid"])
    ev.add("dtstamp", e["changed"])
    ev.add("created", e["created"])
    ev.add("last-modified", e["changed"])
    ev.add("sequence", e["sequence"])
    ev.add("dtstart", e["date"])
    ev.add("dtend", e["date"] + dt.timedelta(days=1))
    ev.add("summary", summary)
    ev.add("location", place)
    ev.add("description", "\n".join(lines))
    ev.add("status", "CANCELLED" if e["status"] == "cancelled" else "CONFIRMED")
    ev.add("transp", "TRANSPARENT" if e["status"] == "cancelled" else "OPAQUE")
    ev.add("categories", [state])
    if email:
        organizer = vCalAddress(f"mailto:{email}")
        if alliance:
            organizer.params["cn"] = vText(alliance)
        ev.add("organizer", organizer)
    ev.add("x-s2s-days", days_str(e["halves"]))
    ev.add("x-s2s-deployment", str(e["deployment_id"]))
    return ev


def to_ics(events: list[dict[str, Any]], name: str, alliance: str | None,
           email: str | None) -> bytes:
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    for e in events:
        cal.add_component(event(e, alliance, email))
    return bytes(cal.to_ical())


def _safe(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value)) or "_"


def calendars(reader: Reader, sel: Selection) -> list[tuple[str, bytes, int]]:
    """(path, bytes, number of events) for each file to write."""
    events = sessions(reader, sel)
    alliance, email = coordinator(reader)
    prefix = f"{alliance}: " if alliance else "s2s: "
    if sel.split is None:
        if sel.what == "leader":
            label = (f"{events[0]['leader']} ({sel.value})" if events else str(sel.value))
        elif sel.what == "school":
            label = events[0]["school"] if events else f"URN {sel.value}"
        elif sel.what == "deployment":
            label = f"deployment {sel.value}"
        else:
            label = "all sessions"
        return [(sel.out, to_ics(events, prefix + label, alliance, email), len(events))]
    key = "leader_id" if sel.split == "leader" else "school_urn"
    groups: dict[Any, list[dict[str, Any]]] = {}
    for e in events:
        groups.setdefault(e[key], []).append(e)
    files = []
    for value in sorted(groups):
        group = groups[value]
        label = (f"{group[0]['leader']} ({value})" if sel.split == "leader"
                 else group[0]["school"])
        path = PLACEHOLDER.sub(lambda _m, v=value: _safe(v), sel.out)
        files.append((path, to_ics(group, prefix + label, alliance, email), len(group)))
    return files
