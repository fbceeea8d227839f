"""Prospects: the schools that need us, from their latest Ofsted report cards.

A school is a prospect when its latest report card has *needs attention* or *urgent
improvement* in some evaluation area (with `area`: in that area), or safeguarding not met, or
a category of concern.  Each comes with its low areas and grades, the inspection date, whether
we already support it (active deployments), and how many of our active leaders with days free
this academic year hold a specialism that serves one of its low areas
(`taxonomy.AREA_SPECIALISMS`; leaders based at the school itself are not counted).

Severity orders them (highest first, then the most recent inspection, then URN): 3 points per
urgent improvement, 1 per needs attention, 5 for safeguarding not met, 4 for a category of
concern."""

from __future__ import annotations

from typing import Any

from s2s_cli import taxonomy
from s2s_cli.errors import InvalidInput
from s2s_cli.fastdb import Reader

W_URGENT = 3
W_ATTENTION = 1
W_SAFEGUARDING = 5
W_CATEGORY = 4
MAX_LIMIT = 100_000


def resolve_area(term: str) -> str:
    slug = taxonomy.lookup_area(term)
    if slug is None:
        raise InvalidInput(f"unknown report-card area '{term.strip()[:60]}': use one of "
                           + ", ".join(s for s, _ in taxonomy.REPORT_CARD_AREAS))
    return slug


def prospects(reader: Reader, *, la: str | None = None, region: str | None = None,
              near: str | None = None, within: float | None = None, area: str | None = None,
              limit: int | None = None) -> list[dict[str, Any]]:
    from s2s_cli.services import directory
    from s2s_cli.services.deployments import committed_halves
    from s2s_cli.services.ofsted import LATEST_CARD
    from s2s_cli.services.requests import as_date, in_chunks, today

    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"--limit must be between 1 and {MAX_LIMIT}")
    if within is not None and near is None:
        raise InvalidInput("--within needs --near URN (the school to measure from)")
    slug = resolve_area(area) if area else None
    within_m = directory.check_within(within)
    where = ["i.framework = :card", f"i.id = {LATEST_CARD.format(urn='i.school_urn')}"]
    params: dict[str, Any] = {"card": "report-card", "low": min(taxonomy.CONCERN_GRADES)}
    if slug:
        params["area"] = slug
        where.append("EXISTS (SELECT 1 FROM inspection_grade g WHERE g.inspection_id = i.id "
                     "AND g.area = :area AND g.grade >= :low)")
    else:
        params["not_met"] = "not met"
        where.append("(i.safeguarding = :not_met OR i.category IS NOT NULL OR EXISTS (SELECT 1 "
                     "FROM inspection_grade g WHERE g.inspection_id = i.id AND "
                     "g.grade >= :low))")
    if la:
        where.append("s.la_id = :la_id")
        params["la_id"] = directory.resolve_la(reader, la)
    if region:
        where.append("l.region_id = :region_id")
        params["region_id"] = directory.resolve_region(reader, region)
    here = None
    if near is not None:
        here = directory.school_position(reader, near)
        where.append("s.easting IS NOT NULL AND s.northing IS NOT NULL")
        if within_m is not None:
            where.append("s.easting BETWEEN :e_lo AND :e_hi AND s.northing BETWEEN :n_lo "
                         "AND :n_hi")
            params.update(e_lo=here[0] - within_m, e_hi=here[0] + within_m,
                          n_lo=here[1] - within_m, n_hi=here[1] + within_m)
    rows = reader.all(
        "SELECT s.urn, s.name, l.name, r.name, s.phase, s.easting, s.northing, i.id, i.start, "
        "i.published, i.safeguarding, i.category FROM inspection i "
        "JOIN school s ON s.urn = i.school_urn JOIN local_authority l ON l.id = s.la_id "
        "JOIN region r ON r.id = l.region_id WHERE " + " AND ".join(where), params)
    out: list[dict[str, Any]] = []
    by_card: dict[int, dict[str, Any]] = {}
    for (urn, name, la_name, region_name, phase, e, n, iid, start, published, safeguarding,
         category) in rows:
        km = directory.distance_km((here[0], here[1]), (e, n)) if here else None
        if km is not None and within_m is not None and km * 1000 > within_m:
            continue
        rec = {"urn": urn, "name": name, "local_authority": la_name, "region": region_name,
               "phase": phase, "inspected": as_date(start), "published": as_date(published),
               "safeguarding": safeguarding, "category_of_concern": category, "areas": {},
               "distance_km": round(km, 1) if km is not None else None}
        by_card[iid] = rec
        out.append(rec)
    for iid, g_area, grade in in_chunks(
            reader, "SELECT inspection_id, area, grade FROM inspection_grade WHERE grade >= "
            ":low AND inspection_id IN ({ids}) ORDER BY inspection_id, area", list(by_card),
            {"low": min(taxonomy.CONCERN_GRADES)}):
        by_card[iid]["areas"][g_area] = taxonomy.grade_word("report-card", grade)
    order = {s: i for i, (s, _) in enumerate(taxonomy.REPORT_CARD_AREAS)}

    # Who could help: active leaders with days free this academic year, by specialism.
    year = taxonomy.academic_year_of(today())
    taken, _ = committed_halves(reader, year)
    leaders: dict[str, tuple[int, set[str]]] = {}
    for lid, home, cap, spec in reader.iter(
            "SELECT l.id, l.home_school_urn, l.capacity_days, ls.specialism_slug FROM leader l "
            "JOIN leader_specialism ls ON ls.leader_id = l.id WHERE l.active = :active AND "
            "l.erased = :erased", {"active": True, "erased": False}):
        if cap * 2 - taken.get(lid, 0) > 0:
            leaders.setdefault(lid, (int(home), set()))[1].add(spec)
    serves: dict[str, set[str]] = {}
    for a, specs in taxonomy.AREA_SPECIALISMS.items():
        wanted = frozenset(specs)
        serves[a] = {lid for lid, (_, held) in leaders.items() if not held.isdisjoint(wanted)}
    based: dict[int, list[str]] = {}  # home school URN -> free leaders based there
    for lid, (home, _) in leaders.items():
        based.setdefault(home, []).append(lid)
    helpers_of: dict[tuple[str, ...], set[str]] = {}  # a set of low areas -> who serves one
    active = dict(reader.all("SELECT school_urn, count(*) FROM deployment WHERE status = "
                             ":status GROUP BY school_urn", {"status": "active"}))
    for rec in out:
        rec["areas"] = dict(sorted(rec["areas"].items(), key=lambda kv: order.get(kv[0], 99)))
        grades = list(rec["areas"].values())
        rec["severity"] = (W_URGENT * grades.count("urgent improvement")
                           + W_ATTENTION * grades.count("needs attention")
                           + (W_SAFEGUARDING if rec["safeguarding"] == "not met" else 0)
                           + (W_CATEGORY if rec["category_of_concern"] else 0))
        combo = tuple(rec["areas"])
        helpers = helpers_of.get(combo)
        if helpers is None:  # few distinct sets of low areas: each union made once
            helpers = set().union(*(serves.get(a, set()) for a in combo))
            helpers_of[combo] = helpers
        rec["leaders_available"] = len(helpers) - sum(
            1 for lid in based.get(rec["urn"], ()) if lid in helpers)
        rec["active_deployments"] = int(active.get(rec["urn"], 0))
        rec["supported"] = rec["active_deployments"] > 0
    out.sort(key=lambda r: (-r["severity"], -(r["inspected"].toordinal()
                                              if r["inspected"] else 0), r["urn"]))
    return out[:limit] if limit else out
