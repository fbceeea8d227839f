"""Matching: rank the active leaders for a support request and say why, in words.

`score()` is pure and deterministic; `match()` loads the facts and sorts by score, highest
first, ties broken by leader id.  Points, and the reason given in words:

* Specialism fit, per requested specialism, the best of three tiers:
  - +40 the leader holds it.  Exact, when the request named it: "holds phonics"; alias, when
    the request named it by a short form (`request_specialism.term`): the same points, the
    reason says what was typed: "holds maths (asked for as 'numeracy')".
  - else +25 the leader holds a closely related specialism (`taxonomy.RELATED`, e.g. english
    for phonics): "related: english (close to phonics)" (the first related one, by slug).
  - else +15 the leader holds another specialism in its Ofsted focus area:
    "same focus area: Pupil achievement" (once per area, "(2 specialisms)" when it counts
    twice).
  No specialism requested: +15 when the leader holds one in the need's focus area:
  "specialism in the need's focus area: Behaviour and safety".
* +20 the kind of leader asked for ("SLE as asked"), -10 another kind ("NLE, not the SLE
  asked").  No kind asked: +20 for an NLG, LLE or NLE when the need is leadership and
  governance ("NLG for governance" when it was logged as governance, else "LLE for
  leadership and governance").
* +10 the home school's phase is the requesting school's: "same phase: primary".
* Nearness: where both schools have Easting/Northing (GIAS), by straight-line distance: +10
  within 10 km, +5 within 30 km, the distance in words either way ("4.2 km away"); else +10
  same local authority ("same LA: Camden"), else +5 same region ("same region: London").
* +5 the home school is in the requesting school's trust ("same trust: Northern Lights
  Trust").
* Report cards, in the area of the request's need (its latest card): +10 the home school is
  strong or exceptional there ("home school exceptional in achievement"); flagged, -15, when
  it has urgent improvement there ("flag: home school has urgent improvement in
  achievement") or safeguarding not met ("flag: home school safeguarding not met").
* +10 the capacity left this academic year covers the days wanted ("8 days free for 5
  wanted"), -20 when it does not ("only 2.5 of 5 days free"); no days wanted: -20 only when no
  day is free ("no days free in 2026-27").
* -3 per active deployment: "2 active deployments".

Capacity is counted for the academic year holding *today* (`S2S_TODAY` pins it): a coordinator
matches now for work that starts now; `s2s deploy` checks again against the year of the start
date.  Never offered: inactive or erased leaders, and leaders based at the requesting school.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from s2s_cli import taxonomy
from s2s_cli.errors import InvalidInput, Refused
from s2s_cli.fastdb import Reader
from s2s_cli.parsing import days_str
from s2s_cli.services import requests
from s2s_cli.services.deployments import committed_halves
from s2s_cli.services.directory import distance_km

W_HOLDS = 40
W_RELATED = 25
W_FOCUS = 15
W_KIND = 20
W_OTHER_KIND = -10
W_PHASE = 10
W_LA = 10
W_REGION = 5
W_NEAR = 10  # within NEAR_KM
W_FAIRLY_NEAR = 5  # within FAIRLY_NEAR_KM
NEAR_KM = 10.0
FAIRLY_NEAR_KM = 30.0
W_TRUST = 5
W_STRONG_HOME = 10
W_FLAG = -15
W_CAPACITY = 10
W_SHORT = -20
W_PER_ACTIVE = -3
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Need:
    need: str
    kind: str | None
    specialisms: tuple[str, ...]
    days_halves: int | None
    school_urn: int
    phase: str | None
    la_id: int | None
    region_id: int | None
    year_label: str = ""
    # requested slug -> the short form the coordinator typed for it ("numeracy" for maths)
    terms: Mapping[str, str] = field(default_factory=dict)
    need_term: str | None = None
    trust_uid: str | None = None
    position: tuple[int, int] | None = None  # Easting, Northing


@dataclass  # not frozen: a match makes one per active leader (~30,000 nationally), and a
class Candidate:  # frozen dataclass's __init__ (object.__setattr__ per field) costs 4x as much
    id: str
    name: str
    kind: str
    specialisms: frozenset[str]
    home_school_urn: int
    phase: str | None
    la_id: int | None
    la: str
    region_id: int | None
    region: str
    remaining_halves: int
    active_deployments: int
    trust_uid: str | None = None
    trust: str | None = None
    position: tuple[int, int] | None = None
    home_grade: int | None = None  # latest report card, the need's area: 1..5
    home_safeguarding: str | None = None  # latest report card: met | not met


def _focus_areas(slugs: frozenset[str]) -> set[str]:
    return {area for s in slugs for area in taxonomy.SPECIALISM_BY_SLUG[s].focus_areas}


def score(need: Need, c: Candidate, *, explain: bool = True) -> tuple[int, list[str]]:
    """The candidate's points and, with explain, the reasons for them (without, the reasons
    stay empty: `rank` words only the rows it returns)."""
    points = 0
    reasons: list[str] = []
    held_areas = _focus_areas(c.specialisms)
    near: dict[str, int] = {}  # focus area -> requested specialisms it stands in for
    for slug in need.specialisms:
        if slug in c.specialisms:
            points += W_HOLDS
            term = need.terms.get(slug)
            if explain:
                reasons.append(f"holds {slug}" + (f" (asked for as '{term}')" if term else ""))
            continue
        related = sorted(taxonomy.RELATED.get(slug, frozenset()) & c.specialisms)
        if related:
            points += W_RELATED
            if explain:
                reasons.append(f"related: {related[0]} (close to {slug})")
            continue
        shared = [a for a in taxonomy.SPECIALISM_BY_SLUG[slug].focus_areas if a in held_areas]
        if shared:
            points += W_FOCUS
            near[shared[0]] = near.get(shared[0], 0) + 1
    for area, n in near.items() if explain else ():
        reasons.append(f"same focus area: {area}" + (f" ({n} specialisms)" if n > 1 else ""))
    if not need.specialisms:
        area = taxonomy.NEED_FOCUS[need.need]
        if area in held_areas:
            points += W_FOCUS
            if explain:
                reasons.append(f"specialism in the need's focus area: {area}")
    if need.kind:
        if c.kind == need.kind:
            points += W_KIND
            if explain:
                reasons.append(f"{c.kind} as asked")
        else:
            points += W_OTHER_KIND
            if explain:
                reasons.append(f"{c.kind}, not the {need.kind} asked")
    elif need.need == "leadership-and-governance" and c.kind in ("NLG", "LLE", "NLE"):
        points += W_KIND
        if explain:
            reasons.append(f"{c.kind} for governance" if need.need_term == "governance"
                           else f"{c.kind} for leadership and governance")
    if need.phase and c.phase == need.phase:
        points += W_PHASE
        if explain:
            reasons.append(f"same phase: {c.phase}")
    km = distance_km(need.position, c.position)
    if km is not None:
        if km <= NEAR_KM:
            points += W_NEAR
        elif km <= FAIRLY_NEAR_KM:
            points += W_FAIRLY_NEAR
        if explain:
            reasons.append(f"{km:.1f} km away")
    elif need.la_id is not None and c.la_id == need.la_id:
        points += W_LA
        if explain:
            reasons.append(f"same LA: {c.la}")
    elif need.region_id is not None and c.region_id == need.region_id:
        points += W_REGION
        if explain:
            reasons.append(f"same region: {c.region}")
    if need.trust_uid and c.trust_uid == need.trust_uid:
        points += W_TRUST
        if explain:
            reasons.append(f"same trust: {c.trust or c.trust_uid}")
    area = need.need
    if c.home_grade is not None and c.home_grade <= 2:
        points += W_STRONG_HOME
        if explain:
            reasons.append(f"home school {taxonomy.grade_word('report-card', c.home_grade)} in "
                           f"{taxonomy.REPORT_CARD_AREA_NAMES.get(area, area).lower()}")
    if c.home_grade == 5:
        points += W_FLAG
        if explain:
            reasons.append("flag: home school has urgent improvement in "
                           f"{taxonomy.REPORT_CARD_AREA_NAMES.get(area, area).lower()}")
    if c.home_safeguarding == "not met":
        points += W_FLAG
        if explain:
            reasons.append("flag: home school safeguarding not met")
    left = c.remaining_halves
    if need.days_halves:
        if left >= need.days_halves:
            points += W_CAPACITY
            if explain:
                reasons.append(f"{days_str(left)} days free for "
                               f"{days_str(need.days_halves)} wanted")
        else:
            points += W_SHORT
            if explain:
                reasons.append(f"only {days_str(max(left, 0))} of {days_str(need.days_halves)} "
                               "days free")
    elif left <= 0:
        points += W_SHORT
        if explain:
            reasons.append(f"no days free in {need.year_label}".rstrip())
    if c.active_deployments:
        points += W_PER_ACTIVE * c.active_deployments
        n = c.active_deployments
        if explain:
            reasons.append(f"{n} active deployment{'s' if n != 1 else ''}")
    return points, reasons


def rank(need: Need, candidates: list[Candidate], limit: int | None = None
         ) -> list[dict[str, Any]]:
    # Points for every candidate, reasons (most of the work: text) only for those returned.
    scored = [(-score(need, c, explain=False)[0], c.id, c) for c in candidates
              if c.home_school_urn != need.school_urn]  # never offer a school its own staff
    scored.sort(key=lambda t: (t[0], t[1]))
    rows = []
    for _points, _id, c in scored[:limit] if limit else scored:
        points, reasons = score(need, c)
        rows.append({"leader_id": c.id, "name": c.name, "kind": c.kind, "score": points,
                     "remaining_days": c.remaining_halves, "reasons": reasons})
    return rows


def load_need(reader: Reader, request_id: int, year: int) -> Need:
    req = requests.request(reader, request_id)
    if req["status"] in ("cancelled", "completed"):
        raise Refused(f"request {request_id} is {req['status']}; nothing to match")
    school = reader.one("SELECT s.phase, s.la_id, la.region_id, s.trust_uid, s.easting, "
                        "s.northing FROM school s JOIN local_authority la ON la.id = s.la_id "
                        "WHERE s.urn = :urn", {"urn": req["school_urn"]})
    phase, la_id, region_id, trust_uid, e, n = school if school else (None,) * 6
    return Need(need=req["need"], kind=req["kind"], specialisms=tuple(req["specialisms"]),
                days_halves=req["days"], school_urn=req["school_urn"], phase=phase, la_id=la_id,
                region_id=region_id, year_label=taxonomy.academic_year_label(year),
                terms=dict(req["terms"]), need_term=req.get("need_term"), trust_uid=trust_uid,
                position=(e, n) if e is not None and n is not None else None)


def home_cards(reader: Reader, area: str) -> dict[int, tuple[int | None, str | None]]:
    """Each school's latest report card: (its grade in `area` or None, safeguarding)."""
    from s2s_cli.services.ofsted import LATEST_CARD

    return {int(urn): (grade, safeguarding) for urn, grade, safeguarding in reader.iter(
        "SELECT i.school_urn, g.grade, i.safeguarding FROM inspection i "
        "LEFT JOIN inspection_grade g ON g.inspection_id = i.id AND g.area = :area "
        f"WHERE i.id = {LATEST_CARD.format(urn='i.school_urn')}", {"area": area})}


def load_candidates(reader: Reader, year: int, exclude_school: int,
                    area: str | None = None) -> list[Candidate]:
    flags = {"active": True, "erased": False}
    specs: dict[str, set[str]] = {}
    for lid, slug in reader.iter(
            "SELECT ls.leader_id, ls.specialism_slug FROM leader_specialism ls "
            "JOIN leader l ON l.id = ls.leader_id WHERE l.active = :active "
            "AND l.erased = :erased", flags):
        specs.setdefault(lid, set()).add(slug)
    active = dict(reader.all("SELECT d.leader_id, count(*) FROM deployment d "
                             "WHERE d.status = :status GROUP BY d.leader_id",
                             {"status": "active"}))
    taken, _ = committed_halves(reader, year)
    cards = home_cards(reader, area) if area else {}
    out = []
    for (lid, name, kind, cap, urn, phase, la_id, la, region_id, region, trust_uid, trust,
         e, n) in reader.iter(
            "SELECT l.id, l.name, l.kind, l.capacity_days, s.urn, s.phase, s.la_id, la.name, "
            "la.region_id, r.name, s.trust_uid, t.name, s.easting, s.northing FROM leader l "
            "JOIN school s ON s.urn = l.home_school_urn "
            "JOIN local_authority la ON la.id = s.la_id JOIN region r ON r.id = la.region_id "
            "LEFT JOIN trust t ON t.uid = s.trust_uid "
            "WHERE l.active = :active AND l.erased = :erased AND l.home_school_urn <> :urn "
            "ORDER BY l.id", {**flags, "urn": exclude_school}):
        grade, safeguarding = cards.get(int(urn), (None, None))
        out.append(Candidate(
            id=lid, name=name, kind=kind, specialisms=frozenset(specs.get(lid, ())),
            home_school_urn=urn, phase=phase, la_id=la_id, la=la, region_id=region_id,
            region=region, remaining_halves=cap * 2 - taken.get(lid, 0),
            active_deployments=int(active.get(lid, 0)), trust_uid=trust_uid, trust=trust,
            position=(e, n) if e is not None and n is not None else None, home_grade=grade,
            home_safeguarding=safeguarding))
    return out


def match(reader: Reader, request_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"--limit must be between 1 and {MAX_LIMIT}")
    year = taxonomy.academic_year_of(requests.today())
    need = load_need(reader, request_id, year)
    return rank(need, load_candidates(reader, year, need.school_urn, need.need), limit)
