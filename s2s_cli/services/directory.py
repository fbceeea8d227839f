"""The directory: who can help with what.  Search, leaders, schools and the taxonomy.

All reads go through a `Reader` (stdlib sqlite3 or SQLAlchemy) with SQL written once; every
filter lands on an index (leader_specialism(specialism_slug, leader_id), school(la_id),
local_authority(region_id), leader(kind))."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from s2s_cli import taxonomy
from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.fastdb import Reader

MAX_LIMIT = 100_000


@dataclass
class Filters:
    specialisms: list[str] = field(default_factory=list)
    kind: str | None = None
    region_id: int | None = None
    la_id: int | None = None
    phase: str | None = None
    name: str | None = None
    limit: int | None = None
    include_inactive: bool = False
    grade_below: list[tuple[str | None, int]] = field(default_factory=list)
    trust_uid: str | None = None
    near: tuple[int, int, int] | None = None  # (easting, northing, the school's URN)
    within_m: int | None = None


def resolve_specialism(term: str) -> str:
    """A typed term -> specialism slug; unknown terms are bad input with suggestions."""
    hit = taxonomy.lookup_specialism(term)
    if hit is None:
        near = taxonomy.suggest_specialisms(term)
        hint = f"; nearest: {', '.join(near)}" if near else "; see `s2s specialisms`"
        raise InvalidInput(f"no specialism matches '{term.strip()}'{hint}")
    return hit[0]


def resolve_kind(kind: str) -> str:
    k = kind.strip().upper()
    if k not in taxonomy.KINDS:
        raise InvalidInput(f"unknown kind of leader '{kind}': use one of "
                           f"{', '.join(taxonomy.KINDS)}")
    return k


def resolve_phase(phase: str) -> str:
    p = phase.strip().lower().replace("_", " ")
    if p == "all through":
        p = "all-through"
    if p not in taxonomy.PHASES:
        hint = taxonomy.suggest(p, taxonomy.PHASES)
        raise InvalidInput(f"unknown phase '{phase}'"
                           + (f" (did you mean '{hint}'?)" if hint else
                              f": use one of {', '.join(taxonomy.PHASES)}"))
    return p


def resolve_region(reader: Reader, name: str) -> int:
    from s2s_cli.services import lookup

    return lookup.region_id(reader, name)


def resolve_la(reader: Reader, name: str) -> int:
    from s2s_cli.services import lookup

    return lookup.la_id(reader, name)


def build_filters(reader: Reader, *, specialisms: list[str] | None = None,
                  kind: str | None = None, region: str | None = None, la: str | None = None,
                  phase: str | None = None, name: str | None = None, limit: int | None = None,
                  include_inactive: bool = False, grade_below: list[str] | None = None,
                  trust: str | None = None, near: str | None = None,
                  within: float | None = None) -> Filters:
    from s2s_cli.services import ofsted

    f = Filters(include_inactive=include_inactive)
    f.grade_below = [ofsted.parse_grade_below(g) for g in grade_below or []]
    if trust is not None:
        f.trust_uid = resolve_trust(reader, trust)["uid"]
    if within is not None and near is None:
        raise InvalidInput("--within needs --near URN (the school to measure from)")
    if near is not None:
        f.within_m = check_within(within)  # bad input before a refusal
        f.near = school_position(reader, near)
    for term in specialisms or []:
        slug = resolve_specialism(term)
        if slug not in f.specialisms:
            f.specialisms.append(slug)
    f.kind = resolve_kind(kind) if kind else None
    f.phase = resolve_phase(phase) if phase else None
    f.region_id = resolve_region(reader, region) if region else None
    f.la_id = resolve_la(reader, la) if la else None
    if name is not None:
        from s2s_cli.parsing import text_problem

        problem = text_problem(name)
        if problem:
            raise InvalidInput(f"--name {problem}")
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("--name must be some text (up to 200 characters)")
        f.name = name
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"--limit must be between 1 and {MAX_LIMIT}")
    f.limit = limit
    return f


MAX_KM = 1500.0


def check_within(within: float | None) -> int | None:
    if within is None:
        return None
    if not 0 < within <= MAX_KM:
        raise InvalidInput(f"--within must be more than 0 and at most {MAX_KM:g} km")
    return round(within * 1000)


def resolve_school(reader: Reader, term: str) -> tuple[int, str]:
    """A school by URN, else by its exact name (case-insensitive), else a unique part."""
    t = term.strip()
    if not t or len(t) > 200:
        raise InvalidInput("give a school's URN or name")
    if t.isascii() and t.isdigit():
        row = reader.one("SELECT urn, name FROM school WHERE urn = :urn", {"urn": int(t)})
        if row is None:
            raise NotFound(f"no school with URN {t}")
        return int(row[0]), row[1]
    rows = reader.all("SELECT urn, name FROM school WHERE lower(name) = :n ORDER BY urn",
                      {"n": t.lower()})
    if not rows:
        rows = reader.all("SELECT urn, name FROM school WHERE lower(name) LIKE :n "
                          "ESCAPE '\\' ORDER BY urn LIMIT 6", {"n": f"%{_like_escape(t)}%"})
    if not rows:
        raise NotFound(f"no school named '{t[:100]}'")
    if len(rows) > 1:
        names = ", ".join(f"{r[1]} ({r[0]})" for r in rows[:5])
        raise InvalidInput(f"'{t[:100]}' matches several schools: {names}; give the URN")
    return int(rows[0][0]), rows[0][1]


def school_position(reader: Reader, term: str) -> tuple[int, int, int]:
    urn, name = resolve_school(reader, term)
    row = reader.one("SELECT easting, northing FROM school WHERE urn = :urn", {"urn": urn})
    if row is None or row[0] is None or row[1] is None:
        raise Refused(f"{name} ({urn}) has no Easting/Northing: import a current GIAS extract "
                      "(`s2s import gias`) to measure distances")
    return int(row[0]), int(row[1]), urn


def distance_km(a: tuple[Any, Any] | None, b: tuple[Any, Any] | None) -> float | None:
    """Straight-line distance in km between two British National Grid points (metres), or
    None when either is unknown."""
    if a is None or b is None or None in a or None in b:
        return None
    return (((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5) / 1000


def resolve_trust(reader: Reader, term: str) -> dict[str, Any]:
    """A trust by UID, else exact name (case-insensitive), else a unique part of its name."""
    t = term.strip()
    if not t or len(t) > 200:
        raise InvalidInput("give a trust's UID or name")
    row = reader.one("SELECT uid, name, type FROM trust WHERE uid = :uid", {"uid": t})
    rows = [row] if row else reader.all(
        "SELECT uid, name, type FROM trust WHERE lower(name) = :n ORDER BY uid",
        {"n": t.lower()})
    if not rows:
        rows = reader.all("SELECT uid, name, type FROM trust WHERE lower(name) LIKE :n "
                          "ESCAPE '\\' ORDER BY uid LIMIT 6", {"n": f"%{_like_escape(t)}%"})
    if not rows:
        raise NotFound(f"no trust with UID or name '{t[:100]}' (trusts come from `s2s import "
                       "gias`)")
    if len(rows) > 1:
        names = ", ".join(f"{r[1]} ({r[0]})" for r in rows[:5])
        raise InvalidInput(f"'{t[:100]}' matches several trusts: {names}; give the UID")
    uid, name, ttype = rows[0]
    return {"uid": uid, "name": name, "type": ttype}


def _like_escape(text: str) -> str:
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


LEADER_SELECT = """
SELECT l.id, l.name, l.kind, l.email, l.phone, l.capacity_days, l.active, l.designations,
       s.urn, s.name, la.name, r.name, s.phase, s.easting, s.northing
FROM leader l
JOIN school s ON s.urn = l.home_school_urn
JOIN local_authority la ON la.id = s.la_id
JOIN region r ON r.id = la.region_id
"""


def search_sql(f: Filters) -> tuple[str, dict[str, Any]]:
    joins: list[str] = []
    where: list[str] = []
    params: dict[str, Any] = {}
    for i, slug in enumerate(f.specialisms):
        joins.append(f"JOIN leader_specialism f{i} ON f{i}.leader_id = l.id "
                     f"AND f{i}.specialism_slug = :sp{i}")
        params[f"sp{i}"] = slug
    if not f.include_inactive:
        where.append("l.active = :active")
        params["active"] = True
    if f.kind:
        where.append("l.kind = :kind")
        params["kind"] = f.kind
    if f.region_id is not None:
        where.append("la.region_id = :region_id")
        params["region_id"] = f.region_id
    if f.la_id is not None:
        where.append("s.la_id = :la_id")
        params["la_id"] = f.la_id
    if f.phase:
        where.append("s.phase = :phase")
        params["phase"] = f.phase
    if f.grade_below:
        from s2s_cli.services.ofsted import grade_below_sql

        for n, (area, grade) in enumerate(f.grade_below):
            where.append(grade_below_sql("s.urn", area, grade, params, n))
    if f.trust_uid is not None:
        where.append("s.trust_uid = :trust_uid")
        params["trust_uid"] = f.trust_uid
    if f.near is not None:
        where.append("s.easting IS NOT NULL AND s.northing IS NOT NULL")
        if f.within_m is not None:  # the square around the circle; the circle in Python
            where.append("s.easting BETWEEN :e_lo AND :e_hi AND s.northing BETWEEN :n_lo "
                         "AND :n_hi")
            params.update(e_lo=f.near[0] - f.within_m, e_hi=f.near[0] + f.within_m,
                          n_lo=f.near[1] - f.within_m, n_hi=f.near[1] + f.within_m)
    if f.name:
        where.append("lower(l.name) LIKE :name ESCAPE '\\'")
        params["name"] = f"%{_like_escape(f.name)}%"
    sql = LEADER_SELECT + "\n".join(joins)
    if where:
        sql += "\nWHERE " + " AND ".join(where)
    sql += "\nORDER BY l.id"
    if f.limit and f.near is None:  # by distance: limited after measuring
        sql += "\nLIMIT :limit"
        params["limit"] = f.limit
    return sql, params


def _leader_row(row: Any, specs: list[str]) -> dict[str, Any]:
    (lid, name, kind, email, phone, capacity, active, designations, urn, school, la, region,
     phase, *_coords) = row
    return {
        "id": lid, "name": name, "kind": kind, "specialisms": specs,
        "home_school_urn": urn, "home_school": school, "local_authority": la, "region": region,
        "phase": phase, "email": email, "phone": phone, "capacity_days": capacity,
        "active": bool(active),
        "designations": [d for d in (designations or "").split(",") if d],
    }


def _specialisms_for(reader: Reader, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ", ".join(f":i{j}" for j in range(len(chunk)))
        for lid, slug in reader.iter(
                f"SELECT leader_id, specialism_slug FROM leader_specialism "
                f"WHERE leader_id IN ({marks})", {f"i{j}": v for j, v in enumerate(chunk)}):
            out.setdefault(lid, []).append(slug)
    for v in out.values():
        v.sort()
    return out


def search(reader: Reader, f: Filters) -> list[dict[str, Any]]:
    sql, params = search_sql(f)
    rows = reader.all(sql, params)
    if f.near is not None:
        here = (f.near[0], f.near[1])
        measured = [(distance_km(here, (r[13], r[14])), r) for r in rows]
        kept = [(d, r) for d, r in measured if d is not None and (
            f.within_m is None or d * 1000 <= f.within_m)]
        kept.sort(key=lambda dr: (dr[0], dr[1][0]))
        if f.limit:
            kept = kept[:f.limit]
        specs = _specialisms_for(reader, [r[0] for _, r in kept])
        return [{**_leader_row(r, specs.get(r[0], [])), "distance_km": round(d, 1)}
                for d, r in kept]
    specs = _specialisms_for(reader, [r[0] for r in rows])
    return [_leader_row(r, specs.get(r[0], [])) for r in rows]


def leader(reader: Reader, leader_id: str) -> dict[str, Any]:
    lid = leader_id.strip().upper()
    row = reader.one(LEADER_SELECT + "WHERE l.id = :id", {"id": lid})
    if row is None:
        raise NotFound(f"no leader with id '{leader_id}'")
    out = _leader_row(row, _specialisms_for(reader, [lid]).get(lid, []))
    ts = reader.one("SELECT d.urn, d.name FROM leader l JOIN school d ON d.urn = "
                    "l.designated_by_urn WHERE l.id = :id", {"id": lid})
    out["designated_by_urn"], out["designated_by"] = (ts[0], ts[1]) if ts else (None, None)
    out["notes"] = reader.scalar("SELECT notes FROM leader WHERE id = :id", {"id": lid})
    return out


SCHOOL_FIELDS = ("urn", "name", "local_authority", "region", "phase", "type", "trust",
                 "pupils", "ofsted", "postcode", "status", "teaching_school",
                 "teaching_school_hub", "national_support_school", "street", "locality",
                 "address3", "town", "county", "phone", "website", "finance_contact",
                 "finance_email", "headteacher", "po_required", "trust_uid", "trust_type",
                 "easting", "northing")
BOOL_FIELDS = ("teaching_school", "teaching_school_hub", "national_support_school",
               "po_required")
SCHOOL_SELECT = (
    "SELECT s.urn, s.name, la.name, r.name, s.phase, s.type, s.trust, s.pupils, s.ofsted, "
    "s.postcode, s.status, s.teaching_school, s.teaching_school_hub, "
    "s.national_support_school, s.street, s.locality, s.address3, s.town, s.county, s.phone, "
    "s.website, s.finance_contact, s.finance_email, s.headteacher, s.po_required, "
    "s.trust_uid, t.type, s.easting, s.northing "
    "FROM school s JOIN local_authority la ON la.id = s.la_id "
    "JOIN region r ON r.id = la.region_id LEFT JOIN trust t ON t.uid = s.trust_uid ")


def _school_row(row: Any) -> dict[str, Any]:
    out = dict(zip(SCHOOL_FIELDS, row, strict=True))
    for k in BOOL_FIELDS:
        out[k] = bool(out[k])
    return out


SCHOOL_KEYS = SCHOOL_FIELDS


def school(reader: Reader, urn: int) -> dict[str, Any]:
    from s2s_cli.services import ofsted

    row = reader.one(SCHOOL_SELECT + "WHERE s.urn = :urn", {"urn": urn})
    if row is None:
        raise NotFound(f"no school with URN {urn}")
    out = _school_row(row)
    history = ofsted.inspections(reader, [urn]).get(urn, [])
    out["inspections"] = history
    out["report_card"] = next((i for i in history if i["framework"] == "report-card"), None)
    rows = reader.all(LEADER_SELECT + "WHERE l.home_school_urn = :urn ORDER BY l.id",
                      {"urn": urn})
    specs = _specialisms_for(reader, [r[0] for r in rows])
    out["leaders"] = [_leader_row(r, specs.get(r[0], [])) for r in rows]
    return out


def list_schools(reader: Reader, *, name: str | None = None, la: str | None = None,
                 region: str | None = None, phase: str | None = None,
                 school_type: str | None = None, grade_below: list[str] | None = None,
                 trust: str | None = None) -> list[dict[str, Any]]:
    """Schools by name, filtered; each with the number of active leaders based there.
    `grade_below` and `trust` are the filters of `find` (the same parsing and SQL), applied to
    the school itself rather than a leader's home school."""
    from s2s_cli.services import ofsted

    SCHOOL_TYPES = taxonomy.SCHOOL_TYPES  # noqa: N806

    where: list[str] = []
    params: dict[str, Any] = {"active": True}
    for n, (area, grade) in enumerate(ofsted.parse_grade_below(g) for g in grade_below or []):
        where.append(ofsted.grade_below_sql("s.urn", area, grade, params, n))
    if name is not None:
        from s2s_cli.parsing import text_problem

        problem = text_problem(name)
        if problem:
            raise InvalidInput(f"--name {problem}")
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("--name must be some text (up to 200 characters)")
        where.append("lower(s.name) LIKE :name ESCAPE '\\'")
        params["name"] = f"%{_like_escape(name)}%"
    if la is not None:
        where.append("s.la_id = :la_id")
        params["la_id"] = resolve_la(reader, la)
    if region is not None:
        where.append("la.region_id = :region_id")
        params["region_id"] = resolve_region(reader, region)
    if phase is not None:
        where.append("s.phase = :phase")
        params["phase"] = resolve_phase(phase)
    if school_type is not None:
        t = school_type.strip().lower()
        if t not in SCHOOL_TYPES:
            hint = taxonomy.suggest(t, SCHOOL_TYPES)
            raise InvalidInput(f"unknown school type '{school_type}'"
                               + (f" (did you mean '{hint}'?)" if hint else
                                  f": use one of {', '.join(SCHOOL_TYPES)}"))
        where.append("s.type = :type")
        params["type"] = t
    if trust is not None:  # last: an unknown trust is a refusal, after every bad-input check
        where.append("s.trust_uid = :trust_uid")
        params["trust_uid"] = resolve_trust(reader, trust)["uid"]
    sql = SCHOOL_SELECT + ("WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY s.name, s.urn"
    rows = [_school_row(r) for r in reader.all(sql, params)]
    counts = dict(reader.all("SELECT home_school_urn, count(*) FROM leader WHERE active = "
                             ":active GROUP BY home_school_urn", {"active": True}))
    for r in rows:
        r["active_leaders"] = int(counts.get(r["urn"], 0))
    return rows


def specialisms(reader: Reader) -> list[dict[str, Any]]:
    counts = dict(reader.all(
        "SELECT ls.specialism_slug, count(*) FROM leader_specialism ls "
        "JOIN leader l ON l.id = ls.leader_id WHERE l.active = :active "
        "GROUP BY ls.specialism_slug", {"active": True}))
    rows = []
    for area in taxonomy.FOCUS_AREAS:
        for s in taxonomy.SPECIALISMS:
            if area in s.focus_areas:
                rows.append({"focus_area": area, "slug": s.slug, "name": s.name,
                             "aliases": list(s.aliases), "active_leaders": counts.get(s.slug, 0)})
    return rows


def trust(reader: Reader, term: str) -> dict[str, Any]:
    """A trust, its schools (with their latest report cards) and the leaders based in them."""
    from s2s_cli.services import ofsted

    out = resolve_trust(reader, term)
    schools = [{"urn": r[0], "name": r[1], "local_authority": r[2], "region": r[3],
                "phase": r[4], "status": r[5]} for r in reader.all(
        "SELECT s.urn, s.name, la.name, r.name, s.phase, s.status FROM school s "
        "JOIN local_authority la ON la.id = s.la_id JOIN region r ON r.id = la.region_id "
        "WHERE s.trust_uid = :uid ORDER BY s.name, s.urn", {"uid": out["uid"]})]
    cards = ofsted.inspections(reader, [s["urn"] for s in schools])
    for s in schools:
        s["report_card"] = next((i for i in cards.get(s["urn"], [])
                                 if i["framework"] == "report-card"), None)
    out["schools"] = schools
    rows = reader.all(LEADER_SELECT + "WHERE s.trust_uid = :uid ORDER BY l.id",
                      {"uid": out["uid"]})
    specs = _specialisms_for(reader, [r[0] for r in rows])
    out["leaders"] = [_leader_row(r, specs.get(r[0], [])) for r in rows]
    return out
