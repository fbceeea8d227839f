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
  asked").  No kind asked: +20 for an NLG when the need is governance ("NLG for governance"),
  for an LLE or NLE when it is leadership-and-management.
* +10 the home school's phase is the requesting school's: "same phase: primary".
* +10 same local authority ("same LA: Camden"), else +5 same region ("same region: London").
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

W_HOLDS = 40
W_RELATED = 25
W_FOCUS = 15
W_KIND = 20
W_OTHER_KIND = -10
W_PHASE = 10
W_LA = 10
W_REGION = 5
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


@dataclass(frozen=True)
class Candidate:
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


def _focus_areas(slugs: frozenset[str]) -> set[str]:
    return {area for s in slugs for area in taxonomy.SPECIALISM_BY_SLUG[s].focus_areas}


def score(need: Need, c: Candidate) -> tuple[int, list[str]]:
    points = 0
    reasons: list[str] = []
    held_areas = _focus_areas(c.specialisms)
    near: dict[str, int] = {}  # focus area -> requested specialisms it stands in for
    for slug in need.specialisms:
        if slug in c.specialisms:
            points += W_HOLDS
            term = need.terms.get(slug)
            reasons.append(f"holds {slug}" + (f" (asked for as '{term}')" if term else ""))
            continue
        related = sorted(taxonomy.RELATED.get(slug, frozenset()) & c.specialisms)
        if related:
            points += W_RELATED
            reasons.append(f"related: {related[0]} (close to {slug})")
            continue
        shared = [a for a in taxonomy.SPECIALISM_BY_SLUG[slug].focus_areas if a in held_areas]
        if shared:
            points += W_FOCUS
            near[shared[0]] = near.get(shared[0], 0) + 1
    for area, n in near.items():
        reasons.append(f"same focus area: {area}" + (f" ({n} specialisms)" if n > 1 else ""))
    if not need.specialisms:
        area = taxonomy.NEED_FOCUS[need.need]
        if area in held_areas:
            points += W_FOCUS
            reasons.append(f"specialism in the need's focus area: {area}")
    if need.kind:
        if c.kind == need.kind:
            points += W_KIND
            reasons.append(f"{c.kind} as asked")
        else:
            points += W_OTHER_KIND
            reasons.append(f"{c.kind}, not the {need.kind} asked")
    elif need.need == "governance" and c.kind == "NLG":
        points += W_KIND
        reasons.append("NLG for governance")
    elif need.need == "leadership-and-management" and c.kind in ("LLE", "NLE"):
        points += W_KIND
        reasons.append(f"{c.kind} for leadership and management")
    if need.phase and c.phase == need.phase:
        points += W_PHASE
        reasons.append(f"same phase: {c.phase}")
    if need.la_id is not None and c.la_id == need.la_id:
        points += W_LA
        reasons.append(f"same LA: {c.la}")
    elif need.region_id is not None and c.region_id == need.region_id:
        points += W_REGION
        reasons.append(f"same region: {c.region}")
    left = c.remaining_halves
    if need.days_halves:
        if left >= need.days_halves:
            points += W_CAPACITY
            reasons.append(f"{days_str(left)} days free for {days_str(need.days_halves)} wanted")
        else:
            points += W_SHORT
            reasons.append(f"only {days_str(max(left, 0))} of {days_str(need.days_halves)} "
                           "days free")
    elif left <= 0:
        points += W_SHORT
        reasons.append(f"no days free in {need.year_label}".rstrip())
    if c.active_deployments:
        points += W_PER_ACTIVE * c.active_deployments
        n = c.active_deployments
        reasons.append(f"{n} active deployment{'s' if n != 1 else ''}")
    return points, reasons


def rank(need: Need, candidates: list[Candidate], limit: int | None = None
         ) -> list[dict[str, Any]]:
    rows = []
    for c in candidates:
        if c.home_school_urn == need.school_urn:
            continue  # never offer a school its own staff
        points, reasons = score(need, c)
        rows.append({"leader_id": c.id, "name": c.name, "kind": c.kind, "score": points,
                     "remaining_days": c.remaining_halves, "reasons": reasons})
    rows.sort(key=lambda r: (-r["score"], r["leader_id"]))
    return rows[:limit] if limit else rows


def load_need(reader: Reader, request_id: int, year: int) -> Need:
    req = requests.request(reader, request_id)
    if req["status"] in ("cancelled", "completed"):
        raise Refused(f"request {request_id} is {req['status']}; nothing to match")
    school = reader.one("SELECT s.phase, s.la_id, la.region_id FROM school s "
                        "JOIN local_authority la ON la.id = s.la_id WHERE s.urn = :urn",
                        {"urn": req["school_urn"]})
    phase, la_id, region_id = school if school else (None, None, None)
    return Need(need=req["need"], kind=req["kind"], specialisms=tuple(req["specialisms"]),
                days_halves=req["days"], school_urn=req["school_urn"], phase=phase, la_id=la_id,
                region_id=region_id, year_label=taxonomy.academic_year_label(year),
                terms=dict(req["terms"]))


def load_candidates(reader: Reader, year: int, exclude_school: int) -> list[Candidate]:
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
    out = []
    for (lid, name, kind, cap, urn, phase, la_id, la, region_id, region) in reader.iter(
            "SELECT l.id, l.name, l.kind, l.capacity_days, s.urn, s.phase, s.la_id, la.name, "
            "la.region_id, r.name FROM leader l JOIN school s ON s.urn = l.home_school_urn "
            "JOIN local_authority la ON la.id = s.la_id JOIN region r ON r.id = la.region_id "
            "WHERE l.active = :active AND l.erased = :erased AND l.home_school_urn <> :urn "
            "ORDER BY l.id", {**flags, "urn": exclude_school}):
        out.append(Candidate(
            id=lid, name=name, kind=kind, specialisms=frozenset(specs.get(lid, ())),
            home_school_urn=urn, phase=phase, la_id=la_id, la=la, region_id=region_id,
            region=region, remaining_halves=cap * 2 - taken.get(lid, 0),
            active_deployments=int(active.get(lid, 0))))
    return out


def match(reader: Reader, request_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"--limit must be between 1 and {MAX_LIMIT}")
    year = taxonomy.academic_year_of(requests.today())
    need = load_need(reader, request_id, year)
    return rank(need, load_candidates(reader, year, need.school_urn), limit)
