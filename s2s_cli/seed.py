"""Seed directory: YAML -> validated records -> one idempotent upsert.

Validation reads the whole file first and reports every problem as `FILE:LINE: what is wrong`
(with a "did you mean" where one is close); nothing is written unless the file is clean.
Loading updates regions, local authorities, schools, leaders, the rate card (`rates`) and the
review policy (`reviews`: months after the first logged day when a progress review is due, by
kind of work) in place and never deletes anything.  Active leaders missing from the file are
kept (and listed) unless the caller asks for them to be made inactive; an erased leader is
never restored or reactivated.  A file without `rates` or `reviews` leaves the stored setting
as it is."""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from s2s_cli import audit, taxonomy, yamlsafe
from s2s_cli.errors import InvalidInput, SeedErrors
from s2s_cli.models import Leader as LeaderModel
from s2s_cli.models import LeaderSpecialism, LocalAuthority, Region, School, Setting, Specialism
from s2s_cli.models import Trust as TrustModel
from s2s_cli.parsing import parse_money, text_problem
from s2s_cli.services.gias import GRID
from s2s_cli.services.rates import DEFAULT_CARD, NUMBERING, VAT_TREATMENTS, card_problems

MAX_PROBLEMS = 25
T_REGION = Region.__table__  # type: ignore[attr-defined]
T_LA = LocalAuthority.__table__  # type: ignore[attr-defined]
T_SCHOOL = School.__table__  # type: ignore[attr-defined]
T_LEADER = LeaderModel.__table__  # type: ignore[attr-defined]
T_LS = LeaderSpecialism.__table__  # type: ignore[attr-defined]
T_SPEC = Specialism.__table__  # type: ignore[attr-defined]
T_SETTING = Setting.__table__  # type: ignore[attr-defined]
T_TRUST = TrustModel.__table__  # type: ignore[attr-defined]

SCHOOL_TYPES = taxonomy.SCHOOL_TYPES
TOP_KEYS = ("regions", "local_authorities", "schools", "leaders", "rates", "reviews")
REVIEW_MONTHS_MAX = 24
LA_KEYS = {"code", "name", "region"}
SCHOOL_KEYS = {"urn", "name", "la", "phase", "type", "trust", "pupils", "ofsted", "postcode",
               "teaching_school", "teaching_school_hub", "national_support_school", "status",
               "street", "locality", "address3", "town", "county", "phone", "website",
               "finance_contact", "finance_email", "headteacher", "po_required",
               "trust_uid", "trust_type", "easting", "northing", "inspections"}
TRUST_TYPES = ("multi-academy trust", "single-academy trust", "trust")  # as `import gias` reads
INSPECTION_KEYS = {"framework", "date", "published", "type", "number", "grades",
                   "safeguarding", "category"}
REPORT_CARDS_FROM = dt.date(2025, 11, 10)  # the default framework: report card from this date
LEADER_KEYS = {"id", "name", "kind", "home_school", "designated_by", "email", "phone",
               "capacity_days", "specialisms", "designations", "active", "notes"}


def _data_file(name: str) -> Path:
    """A file bundled in the installed package (s2s_cli/data/), else the repository's data/."""
    packaged = resources.files("s2s_cli").joinpath(f"data/{name}")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "data" / name


def reference_las() -> list[dict[str, Any]]:
    """England's local authorities (DfE code, name, region): reference data every database
    holds from `db init`, whatever its directory."""
    import csv

    with _data_file("local_authorities.csv").open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return [{"code": int(r["code"]), "name": r["name"], "region": r["region"]}
            for r in csv.DictReader(lines)]


def known_reference() -> dict[str, Any]:
    """What a new database holds before any directory: for validating `db init --from`."""
    las = reference_las()
    return {"las": [la["name"] for la in las], "la_codes": {la["code"]: la["name"] for la in las},
            "urns": []}


def bundled_seed_path() -> Path:
    """The demo seed inside the installed package, else the repository's data/ folder."""
    return _data_file("seed_directory.yaml")


@dataclass
class Directory:
    regions: list[str] = field(default_factory=list)
    las: list[dict[str, Any]] = field(default_factory=list)
    schools: list[dict[str, Any]] = field(default_factory=list)
    leaders: list[dict[str, Any]] = field(default_factory=list)
    card: dict[str, Any] | None = None
    reviews: dict[str, int] | None = None  # work type -> months; None: the file has no section
    card_where: str = "rates"  # FILE:LINE of the rates section, for problems found on merging
    trusts: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # UID -> name, type
    inspections: list[dict[str, Any]] = field(default_factory=list)  # {urn, inspections: [...]}
    logo: bytes | None = None  # the card's logo image (stored as setting logo/<sha256>)


@dataclass
class LoadResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rate_changes: list[str] = field(default_factory=list)  # "changed SLE day rate £350.00 → ..."
    kept: list[str] = field(default_factory=list)  # active leaders not in the file, kept

    def bump(self, entity: str, what: str, n: int = 1) -> None:
        self.counts.setdefault(entity, {"added": 0, "updated": 0, "unchanged": 0})
        self.counts[entity][what] = self.counts[entity].get(what, 0) + n

    def summary(self) -> str:
        parts = []
        for entity in ("regions", "local_authorities", "schools", "leaders"):
            c = self.counts.get(entity, {})
            total = c.get("added", 0) + c.get("updated", 0) + c.get("unchanged", 0)
            parts.append(f"{total} {entity.replace('_', ' ')}")
        return ", ".join(parts)

    def rows(self) -> list[dict[str, Any]]:
        return [{"entity": e, "added": c.get("added", 0), "updated": c.get("updated", 0),
                 "unchanged": c.get("unchanged", 0), "deactivated": c.get("deactivated", 0)}
                for e, c in self.counts.items()]


class _Problems:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.items: list[str] = []
        self.total = 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(f"{self.filename}:{line}: {message}")

    def raise_if_any(self) -> None:
        if self.total:
            raise SeedErrors(self.items, self.total)


def _did_you_mean(word: str, choices: Any) -> str:
    hit = taxonomy.suggest(str(word), [str(c) for c in choices])
    return f" (did you mean '{hit}'?)" if hit else ""


def _check_keys(rec: yamlsafe.LDict, allowed: set[str], what: str, p: _Problems) -> None:
    for key in rec:
        if key not in allowed:
            p.add(rec.lines[key], f"unknown {what} field '{key}'{_did_you_mean(key, allowed)}")


def _text(rec: yamlsafe.LDict, key: str, p: _Problems, *, required: bool = True,
          max_len: int = 200, multiline: bool = False) -> str | None:
    if key not in rec or rec[key] is None:
        if required:
            p.add(rec.line, f"missing '{key}'")
        return None
    value = rec[key]
    if isinstance(value, bool) or not isinstance(value, str | int):
        p.add(rec.lines[key], f"'{key}' must be text, not {type(value).__name__}")
        return None
    if multiline:
        value = str(value).replace("\r\n", "\n")
    problem = text_problem(str(value), multiline=multiline)
    if problem:
        p.add(rec.lines[key], f"'{key}' {problem}")
        return None
    value = str(value).strip()
    if not value and required:
        p.add(rec.lines[key], f"'{key}' must not be empty")
        return None
    if len(value) > max_len:
        p.add(rec.lines[key], f"'{key}' is longer than {max_len} characters")
        return None
    return value or None


def _int(rec: yamlsafe.LDict, key: str, p: _Problems, *, required: bool = True,
         lo: int = 0, hi: int = 10**9) -> int | None:
    if key not in rec or rec[key] is None:
        if required:
            p.add(rec.line, f"missing '{key}'")
        return None
    value = rec[key]
    if isinstance(value, bool) or not isinstance(value, int):
        p.add(rec.lines[key], f"'{key}' must be a whole number, not {value!r}")
        return None
    if not lo <= value <= hi:
        p.add(rec.lines[key], f"'{key}' must be between {lo} and {hi}, not {value}")
        return None
    return value


def _bool(rec: yamlsafe.LDict, key: str, p: _Problems, default: bool = False) -> bool:
    if key not in rec or rec[key] is None:
        return default
    if not isinstance(rec[key], bool):
        p.add(rec.lines[key], f"'{key}' must be true or false, not {rec[key]!r}")
        return default
    return bool(rec[key])


def _choice(rec: yamlsafe.LDict, key: str, choices: tuple[str, ...], p: _Problems,
            what: str, *, required: bool = True, upper: bool = False) -> str | None:
    value = _text(rec, key, p, required=required)
    if value is None:
        return None
    norm = value.upper() if upper else value.lower()
    if norm not in choices:
        p.add(rec.lines[key], f"unknown {what} '{value}'{_did_you_mean(value, choices)}")
        return None
    return norm


def _seq(doc: yamlsafe.LDict, key: str, p: _Problems) -> yamlsafe.LList:
    value = doc.get(key)
    if value is None:
        empty = yamlsafe.LList()
        empty.lines = []
        return empty
    if not isinstance(value, yamlsafe.LList):
        p.add(doc.lines[key], f"'{key}' must be a list")
        empty = yamlsafe.LList()
        empty.lines = []
        return empty
    return value


def _records(seq: yamlsafe.LList, what: str, p: _Problems):  # type: ignore[no-untyped-def]
    for item, line in zip(seq, seq.lines, strict=True):
        if not isinstance(item, yamlsafe.LDict):
            p.add(line, f"each {what} must be a mapping of fields")
            continue
        yield item


def validate(data: bytes, filename: str, known: dict[str, Any] | None = None) -> Directory:
    """Parse and check a whole seed file.  `known` carries what the database already holds
    (LA names, school URNs) so a partial file may refer to them."""
    known = known or {}
    p = _Problems(filename)
    collecting = gc.isenabled()
    gc.disable()  # a node tree holds no cycles: pausing the collector makes parsing ~3x faster
    try:
        doc = yamlsafe.load(data)
    except yamlsafe.YamlProblem as exc:
        p.add(exc.line, exc.message)
        p.raise_if_any()
        raise  # pragma: no cover
    finally:
        if collecting:
            gc.enable()
    if not isinstance(doc, yamlsafe.LDict):
        p.add(getattr(doc, "line", 1), "the file must be a mapping with sections "
              + ", ".join(TOP_KEYS))
        p.raise_if_any()
    assert isinstance(doc, yamlsafe.LDict)
    for key in doc:
        if key not in TOP_KEYS:
            p.add(doc.lines[key], f"unknown section '{key}'{_did_you_mean(key, TOP_KEYS)}")
    out = Directory()

    # regions
    region_names = {r.lower(): r for r in taxonomy.REGIONS}
    seen_regions: set[str] = set()
    for name, line in zip(_seq(doc, "regions", p), _seq(doc, "regions", p).lines, strict=True):
        if not isinstance(name, str) or name.strip().lower() not in region_names:
            p.add(line, f"unknown region '{name}'{_did_you_mean(name, taxonomy.REGIONS)}")
            continue
        canon = region_names[name.strip().lower()]
        if canon in seen_regions:
            p.add(line, f"duplicate region '{canon}'")
        seen_regions.add(canon)
        out.regions.append(canon)

    # local authorities
    la_names: dict[str, str] = {n.lower(): n for n in known.get("las", ())}
    file_las: dict[str, int] = {}
    codes: dict[int, int] = {}
    for rec in _records(_seq(doc, "local_authorities", p), "local authority", p):
        _check_keys(rec, LA_KEYS, "local authority", p)
        name = _text(rec, "name", p)
        code = _int(rec, "code", p, required=False, lo=1, hi=999)
        region = _text(rec, "region", p)
        if region is not None:
            if region.lower() not in region_names:
                p.add(rec.lines["region"], f"unknown region '{region}'"
                      f"{_did_you_mean(region, taxonomy.REGIONS)}")
                region = None
            else:
                region = region_names[region.lower()]
        if name is not None:
            if name.lower() in file_las:
                p.add(rec.lines["name"], f"duplicate local authority '{name}' "
                      f"(first on line {file_las[name.lower()]})")
            file_las[name.lower()] = rec.line
            la_names[name.lower()] = name
        if code is not None:
            if code in codes:
                p.add(rec.lines["code"], f"duplicate local authority code {code} "
                      f"(first on line {codes[code]})")
            codes[code] = rec.line
            holder = known.get("la_codes", {}).get(code)
            if holder is not None and name is not None and holder.lower() != name.lower():
                p.add(rec.lines["code"], f"local authority code {code} already belongs to "
                      f"{holder} in the database")
        if name and region:
            out.las.append({"name": name, "code": code, "region": region})

    # schools
    urns: set[int] = set(known.get("urns", ()))
    file_urns: dict[int, int] = {}
    trust_lines: dict[str, tuple[str, str | None, int]] = {}
    for rec in _records(_seq(doc, "schools", p), "school", p):
        school = check_school(rec, p, la_names, phase_required="phase" in rec)
        urn = school["urn"]
        ttype, found = _check_trust_type(rec, p, school), _check_inspections(rec, p)
        uid = school.get("trust_uid")
        if uid and school["trust"]:
            first = trust_lines.get(uid)
            if first is None:
                trust_lines[uid] = (school["trust"], ttype, rec.line)
            elif first[0] != school["trust"]:
                p.add(rec.lines["trust"], f"trust {uid} is named '{first[0]}' on line "
                      f"{first[2]}, not '{school['trust']}'")
            elif ttype and first[1] and ttype != first[1]:
                p.add(rec.lines["trust_type"], f"trust {uid} is a {first[1]} on line "
                      f"{first[2]}, not a {ttype}")
            elif ttype and not first[1]:
                trust_lines[uid] = (first[0], ttype, first[2])
        if urn is not None and found:
            out.inspections.append({"urn": urn, "line": rec.line, "inspections": found})
        if urn is not None:
            if urn in file_urns:
                p.add(rec.lines["urn"], f"duplicate school URN {urn} "
                      f"(first on line {file_urns[urn]})")
            file_urns[urn] = rec.line
            urns.add(urn)
        if urn is not None and school["name"] and school["la"] and (
                school["phase"] or "phase" not in rec):
            out.schools.append(school)

    # leaders
    ids: dict[str, int] = {}
    for rec in _records(_seq(doc, "leaders", p), "leader", p):
        leader = check_leader(rec, p, urns)
        lid = leader["id"]
        if lid is not None:
            if lid in ids:
                p.add(rec.lines["id"], f"duplicate leader id {lid} (first on line {ids[lid]})")
            ids[lid] = rec.line
        if lid and leader["name"] and leader["kind"] and leader["home_school_urn"]:
            out.leaders.append(leader)

    out.trusts = {uid: (name, ttype) for uid, (name, ttype, _) in trust_lines.items()}
    if "rates" in doc:
        out.card = _validate_rates(doc["rates"], doc.lines["rates"], p,
                                   base=Path(filename).parent, directory=out)
        out.card_where = f"{filename}:{doc.lines['rates']}"
    if "reviews" in doc:
        out.reviews = _validate_reviews(doc["reviews"], doc.lines["reviews"], p)
    p.raise_if_any()
    return out


EMAIL_RE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
SCHOOL_TEXT_FIELDS = (("street", 200), ("locality", 200), ("address3", 200), ("town", 100),
                      ("county", 100), ("phone", 40), ("website", 200),
                      ("finance_contact", 200), ("finance_email", 200), ("headteacher", 200))


def check_school(rec: yamlsafe.LDict, p: _Problems, la_names: dict[str, str], *,
                 phase_required: bool = True) -> dict[str, Any]:
    """One school record (a seed file entry, or what `school add/edit` was given), checked
    field by field; `la_names` maps lower-case LA names to their spelling.  A file may hold a
    school without a phase (GIAS has some): `phase_required=False`."""
    _check_keys(rec, SCHOOL_KEYS, "school", p)
    urn = _int(rec, "urn", p, lo=100000, hi=999999)
    name = _text(rec, "name", p)
    la = _text(rec, "la", p)
    if la is not None and la.lower() not in la_names:
        p.add(rec.lines["la"], f"unknown local authority '{la}'"
              f"{_did_you_mean(la, list(la_names.values()))}")
        la = None
    phase = _choice(rec, "phase", taxonomy.PHASES, p, "phase", required=phase_required)
    stype = _choice(rec, "type", SCHOOL_TYPES, p, "school type", required=False)
    ofsted = _choice(rec, "ofsted", taxonomy.OFSTED_GRADES, p, "Ofsted grade", required=False)
    school: dict[str, Any] = {
        "urn": urn, "name": name, "la": la_names[la.lower()] if la else None,
        "phase": phase, "type": stype, "trust": _text(rec, "trust", p, required=False),
        "pupils": _int(rec, "pupils", p, required=False, lo=0, hi=10000),
        "ofsted": ofsted, "postcode": _text(rec, "postcode", p, required=False, max_len=10),
        "status": _text(rec, "status", p, required=False) or "open",
        "teaching_school": _bool(rec, "teaching_school", p),
        "teaching_school_hub": _bool(rec, "teaching_school_hub", p),
        "national_support_school": _bool(rec, "national_support_school", p),
    }
    for key, max_len in SCHOOL_TEXT_FIELDS:
        school[key] = _text(rec, key, p, required=False, max_len=max_len)
    email = school["finance_email"]
    if email is not None and not re.fullmatch(EMAIL_RE, email):
        p.add(rec.lines["finance_email"], f"'{email}' is not an email address")
    school["po_required"] = _bool(rec, "po_required", p)
    # GIAS's trust link and coordinates: only when the record names them, so a file (or a
    # `school edit`) that says nothing of them keeps what `import gias` stored
    if "trust_uid" in rec:
        uid = _text(rec, "trust_uid", p, required=False, max_len=10)
        if uid is not None and not re.fullmatch(r"[0-9]{1,10}", uid):
            p.add(rec.lines["trust_uid"], f"'trust_uid' must be a GIAS trust UID (digits, as "
                  f"`Trusts (code)`), not {uid!r}")
        elif uid is not None and not school["trust"]:
            p.add(rec.lines["trust_uid"], "'trust_uid' needs 'trust' (the trust's name)")
        school["trust_uid"] = uid
    for key, top in GRID.items():
        if key in rec:
            school[key] = _int(rec, key, p, required=False, lo=0, hi=top)
    return school


def _check_trust_type(rec: yamlsafe.LDict, p: _Problems, school: dict[str, Any]) -> str | None:
    ttype = _choice(rec, "trust_type", TRUST_TYPES, p, "trust type", required=False)
    if ttype is not None and not school.get("trust_uid"):
        p.add(rec.lines["trust_type"], "'trust_type' needs 'trust_uid' (the trust it types)")
    return ttype


def _date(rec: yamlsafe.LDict, key: str, p: _Problems, *, required: bool) -> dt.date | None:
    from s2s_cli.parsing import parse_date

    value = rec.get(key)
    if value is None:
        if required:
            p.add(rec.line, f"missing '{key}'")
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, str | dt.date):
        p.add(rec.lines[key], f"'{key}' must be a date (2026-01-14), not {value!r}")
        return None
    try:
        when = parse_date(value, what=f"'{key}'", relative=False)
    except InvalidInput as exc:
        p.add(rec.lines[key], exc.message)
        return None
    if not 1990 <= when.year <= 2100:
        p.add(rec.lines[key], f"'{key}' {when.isoformat()} is out of range (1990-2100)")
        return None
    return when


def _area(term: Any, framework: str) -> str | None:
    if not isinstance(term, str):
        return None
    if framework == "report-card":
        return taxonomy.lookup_area(term)
    t = re.sub(r"[\s_]+", "-", term.strip().lower())
    return next((slug for slug, name in taxonomy.LEGACY_AREAS
                 if t in (slug, re.sub(r"\s+", "-", name.lower()))), None)


def _grade(value: Any, framework: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if framework == "report-card":
        return taxonomy.lookup_grade(str(value))
    t = str(value).strip().lower()
    if t in ("1", "2", "3", "4"):
        return int(t)
    return taxonomy.OFSTED_GRADES.index(t) + 1 if t in taxonomy.OFSTED_GRADES else None


def _check_inspections(rec: yamlsafe.LDict, p: _Problems) -> list[dict[str, Any]]:
    """A school's `inspections:` as `import ofsted` reads them from the MI file: a report card
    (the area grades on the five-point scale, safeguarding met / not met, category of concern)
    or a legacy inspection (overall effectiveness and key judgements, 1-4)."""
    raw = rec.get("inspections")
    if raw is None:
        return []
    if not isinstance(raw, yamlsafe.LList):
        p.add(rec.lines["inspections"], "'inspections' must be a list")
        return []
    out: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for item in _records(raw, "inspection", p):
        insp = _check_inspection(item, p)
        if insp is None:
            continue
        ident = ((insp["framework"], "n", insp["number"]) if insp["number"]
                 else (insp["framework"], "d", insp["start"]))
        if ident in seen:
            p.add(item.line, f"the same inspection twice (first on line {seen[ident]})")
            continue
        seen[ident] = item.line
        out.append(insp)
    return out


def _check_inspection(item: yamlsafe.LDict, p: _Problems) -> dict[str, Any] | None:
    before = p.total
    _check_keys(item, INSPECTION_KEYS, "inspection", p)
    start = _date(item, "date", p, required=True)
    published = _date(item, "published", p, required=False)
    framework = _choice(item, "framework", taxonomy.FRAMEWORKS, p, "inspection framework",
                        required=False)
    if framework is None and start is not None:
        framework = "report-card" if start >= REPORT_CARDS_FROM else "legacy"
    if start and published and published < start:
        p.add(item.lines["published"], f"'published' {published.isoformat()} is before the "
              f"inspection 'date' {start.isoformat()}")
    grades: dict[str, tuple[int, dt.date | None]] = {}
    raw = item.get("grades")
    if raw is not None and not isinstance(raw, yamlsafe.LDict):
        p.add(item.lines["grades"], "'grades' must map areas to grades")
    elif raw is not None and framework is not None:
        areas = (taxonomy.REPORT_CARD_AREAS if framework == "report-card"
                 else taxonomy.LEGACY_AREAS)
        scale = (taxonomy.REPORT_CARD_GRADES if framework == "report-card"
                 else taxonomy.OFSTED_GRADES)
        for term in raw:
            line, value, when = raw.lines[term], raw[term], start
            slug = _area(term, framework)
            if slug is None:
                p.add(line, f"unknown {framework} area '{term}'"
                      f"{_did_you_mean(term, [s for s, _ in areas])}")
                continue
            if isinstance(value, yamlsafe.LDict) and framework == "report-card":
                _check_keys(value, {"grade", "date"}, "grade", p)
                when = _date(value, "date", p, required=False) or start
                value = value.get("grade")
            grade = _grade(value, framework)
            if grade is None:
                other = ("legacy" if framework == "report-card" else "report-card")
                hint = (f" (a grade of the {other} scale: set 'framework: {other}')"
                        if _grade(value, other) is not None else "")
                p.add(line, f"'{term}' grade {value!r} is not one of "
                      f"{', '.join(scale)}{hint}")
                continue
            grades[slug] = (grade, when)
    safeguarding = None
    if item.get("safeguarding") is not None:
        value = item["safeguarding"]
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in ("met", "not met"):
            p.add(item.lines["safeguarding"], f"'safeguarding' must be met or not met, not "
                  f"{value!r}")
        safeguarding = text
    number = _text(item, "number", p, required=False, max_len=40)
    itype = _text(item, "type", p, required=False)
    category = _text(item, "category", p, required=False)
    if p.total > before or start is None or framework is None:
        return None
    return {"framework": framework, "number": number, "type": itype, "start": start,
            "published": published, "safeguarding": safeguarding, "category": category,
            "grades": grades}


def check_leader(rec: yamlsafe.LDict, p: _Problems, urns: set[int]) -> dict[str, Any]:
    """One leader record (a seed file entry, or what `leader add/edit` was given), checked
    field by field; `urns` are the schools a home school may be."""
    _check_keys(rec, LEADER_KEYS, "leader", p)
    lid = _text(rec, "id", p)
    if lid is not None and not re.fullmatch(r"L\d{4,6}", lid):
        p.add(rec.lines["id"], f"leader id '{lid}' must look like L0042")
        lid = None
    name = _text(rec, "name", p)
    kind = _choice(rec, "kind", taxonomy.KINDS, p, "kind of leader", upper=True)
    home: int | None = None
    designated_by: int | None = None
    for key in ("home_school", "designated_by"):
        urn = _int(rec, key, p, required=(key == "home_school"), lo=0, hi=999999)
        if urn is not None and urn not in urns:
            close = taxonomy.suggest(str(urn), [str(u) for u in urns])
            hint = f" (did you mean {close}?)" if close else ""
            p.add(rec.lines[key], f"unknown school URN {urn} in '{key}'{hint}")
            urn = None
        if key == "home_school":
            home = urn
        else:
            designated_by = urn
    email = _text(rec, "email", p, required=False)
    if email is not None and not re.fullmatch(EMAIL_RE, email):
        p.add(rec.lines["email"], f"'{email}' is not an email address")
    specs: list[str] = []
    raw_specs = rec.get("specialisms")
    if raw_specs is not None and not isinstance(raw_specs, yamlsafe.LList):
        p.add(rec.lines["specialisms"], "'specialisms' must be a list")
    elif raw_specs is not None:
        for term, line in zip(raw_specs, raw_specs.lines, strict=True):
            hit = taxonomy.lookup_specialism(str(term)) if isinstance(term, str) else None
            if hit is None:
                near = taxonomy.suggest_specialisms(str(term), 1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                p.add(line, f"unknown specialism '{term}'{hint}")
            elif hit[0] not in specs:
                specs.append(hit[0])
    designations: list[str] = []
    raw_des = rec.get("designations")
    if raw_des is not None and not isinstance(raw_des, yamlsafe.LList):
        p.add(rec.lines["designations"], "'designations' must be a list")
    elif raw_des is not None:
        for term, line in zip(raw_des, raw_des.lines, strict=True):
            if not isinstance(term, str) or term.lower() not in taxonomy.DESIGNATIONS:
                p.add(line, f"unknown designation '{term}'"
                      f"{_did_you_mean(term, taxonomy.DESIGNATIONS)}")
            else:
                designations.append(term.lower())
    return {
        "id": lid, "name": name, "kind": kind, "home_school_urn": home,
        "designated_by_urn": designated_by, "email": email,
        "phone": _text(rec, "phone", p, required=False, max_len=40),
        "capacity_days": _int(rec, "capacity_days", p, required=False, lo=0, hi=366) or 0,
        "active": _bool(rec, "active", p, default=True),
        "designations": ",".join(sorted(set(designations))),
        "notes": _text(rec, "notes", p, required=False, max_len=2000, multiline=True),
        "specialisms": sorted(specs),
    }


def _money(rec: Any, key: str, line: int, p: _Problems) -> int | None:
    try:
        return parse_money(rec[key], what=f"'{key}'")
    except InvalidInput as exc:
        p.add(line, exc.message)
        return None


def _rate_pair(entry: Any, line: int, where: str, p: _Problems) -> dict[str, int] | None:
    if not isinstance(entry, yamlsafe.LDict):
        p.add(line, f"{where} must be a mapping with 'day' and 'half_day'")
        return None
    for key in entry:
        if key not in ("day", "half_day"):
            p.add(entry.lines[key], f"unknown rate field '{key}' in {where}"
                  f"{_did_you_mean(key, ('day', 'half_day'))}")
    if "day" not in entry:
        p.add(entry.line, f"{where} needs a 'day' rate")
        return None
    day = _money(entry, "day", entry.lines["day"], p)
    half = _money(entry, "half_day", entry.lines["half_day"], p) if "half_day" in entry else (
        (day + 1) // 2 if day is not None else None)  # half up, to the penny
    if day is None or half is None:
        return None
    return {"day": day, "half_day": half}


def _validate_rates(raw: Any, line: int, p: _Problems, *, base: Path | None = None,
                    directory: Directory | None = None) -> dict[str, Any] | None:
    if not isinstance(raw, yamlsafe.LDict):
        p.add(line, "'rates' must be a mapping")
        return None
    # A patch: only what the file states; `merge_card` lays it over the stored card key by key
    # (never over the built-in defaults unless nothing is stored yet).
    card: dict[str, Any] = {}
    for key in raw:
        if key not in RATES_SECTIONS:
            p.add(raw.lines[key], f"unknown rates section '{key}'"
                  f"{_did_you_mean(key, RATES_SECTIONS)}")
    kinds = raw.get("kinds")
    if isinstance(kinds, yamlsafe.LDict):
        for kind in kinds:
            if kind.upper() not in taxonomy.KINDS:
                p.add(kinds.lines[kind], f"unknown kind of leader '{kind}'"
                      f"{_did_you_mean(kind, taxonomy.KINDS)}")
                continue
            pair = _rate_pair(kinds[kind], kinds.lines[kind], f"rates for {kind}", p)
            if pair:
                card.setdefault("kinds", {})[kind.upper()] = pair
    elif kinds is not None:
        p.add(raw.lines["kinds"], "'kinds' must map SLE/LLE/NLE/NLG to rates")
    work = raw.get("work")
    if isinstance(work, yamlsafe.LDict):
        card["work"] = {}  # a `work` section replaces the stored work rates in full
        for w in work:
            if w not in taxonomy.WORK_TYPES:
                p.add(work.lines[w], f"unknown kind of work '{w}'"
                      f"{_did_you_mean(w, taxonomy.WORK_TYPES)}")
                continue
            entry = work[w]
            by_kind = entry.get("kinds") if isinstance(entry, yamlsafe.LDict) else None
            if by_kind is not None:  # rates for this work by kind of leader
                plain = yamlsafe.LDict({k: v for k, v in entry.items() if k != "kinds"})
                plain.lines, plain.line = entry.lines, entry.line
                entry = plain
            pair = _rate_pair(entry, work.lines[w], f"rates for work {w}", p)
            if pair and isinstance(by_kind, yamlsafe.LDict):
                pair["kinds"] = {}
                for kind in by_kind:
                    if kind.upper() not in taxonomy.KINDS:
                        p.add(by_kind.lines[kind], f"unknown kind of leader '{kind}'"
                              f"{_did_you_mean(kind, taxonomy.KINDS)}")
                        continue
                    sub = _rate_pair(by_kind[kind], by_kind.lines[kind],
                                     f"rates for work {w} by {kind}", p)
                    if sub:
                        pair["kinds"][kind.upper()] = sub
            elif by_kind is not None:
                p.add(work.lines[w], f"'kinds' of work {w} must map SLE/LLE/NLE/NLG to rates")
            if pair:
                card["work"][w] = pair
    elif work is not None:
        p.add(raw.lines["work"], "'work' must map kinds of work to rates")
    bands = raw.get("bands")
    if isinstance(bands, yamlsafe.LList):
        card["bands"] = []  # a `bands` list replaces the stored bands in full
        for band in _records(bands, "band", p):
            for key in band:
                if key not in ("name", "max_pupils", "kinds"):
                    p.add(band.lines[key], f"unknown band field '{key}'")
            name = _text(band, "name", p)
            max_pupils = _int(band, "max_pupils", p, lo=1, hi=100000)
            bkinds = band.get("kinds")
            entry: dict[str, Any] = {"name": name, "max_pupils": max_pupils, "kinds": {}}
            if isinstance(bkinds, yamlsafe.LDict):
                for kind in bkinds:
                    if kind.upper() not in taxonomy.KINDS:
                        p.add(bkinds.lines[kind], f"unknown kind of leader '{kind}'"
                              f"{_did_you_mean(kind, taxonomy.KINDS)}")
                        continue
                    pair = _rate_pair(bkinds[kind], bkinds.lines[kind],
                                      f"band {name} rates for {kind}", p)
                    if pair:
                        entry["kinds"][kind.upper()] = pair
            else:
                p.add(band.line, "a band needs 'kinds' with rates")
            if name and max_pupils:
                card["bands"].append(entry)
    elif bands is not None:
        p.add(raw.lines["bands"], "'bands' must be a list")
    split = raw.get("split")
    if isinstance(split, yamlsafe.LDict):
        for key in split:
            if key not in ("admin_percent", "admin_fixed"):
                p.add(split.lines[key], f"unknown split field '{key}'"
                      f"{_did_you_mean(key, ('admin_percent', 'admin_fixed'))}")
        if "admin_percent" in split:
            bp = _percent_bp(split["admin_percent"], split.lines["admin_percent"], p)
            card["split"] = {"admin_percent_bp": bp, "admin_fixed_pence": None}
        elif "admin_fixed" in split:
            fixed = _money(split, "admin_fixed", split.lines["admin_fixed"], p)
            card["split"] = {"admin_percent_bp": 0, "admin_fixed_pence": fixed}
    inv = raw.get("invoice")
    if isinstance(inv, yamlsafe.LDict):
        settings = card.setdefault("invoice", {})
        allowed = ("alliance_name", "address", "email", "payment_terms_days", "number_prefix",
                   "credit_prefix", "vat_percent", "numbering", *SUPPLIER_FIELDS)
        for key in inv:
            if key not in allowed:
                p.add(inv.lines[key], f"unknown invoice field '{key}'"
                      f"{_did_you_mean(key, allowed)}")
        if "alliance_name" in inv:
            settings["alliance_name"] = _text(inv, "alliance_name", p)  # never blank
        if "email" in inv:
            settings["email"] = _text(inv, "email", p, required=False)
        for key in ("number_prefix", "credit_prefix"):
            if key in inv:
                prefix = _text(inv, key, p)
                if prefix and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}", prefix):
                    p.add(inv.lines[key], f"'{key}' must be letters, digits and dashes")
                elif prefix:
                    settings[key] = prefix
        if "address" in inv:
            addr = inv["address"]
            if not isinstance(addr, yamlsafe.LList) or not all(isinstance(a, str) for a in addr):
                p.add(inv.lines["address"], "'address' must be a list of lines")
            elif any(text_problem(a) for a in addr):
                bad = next(i for i, a in enumerate(addr) if text_problem(a))
                p.add(addr.lines[bad], f"'address' line {bad + 1} {text_problem(addr[bad])}")
            else:
                settings["address"] = [a.strip() for a in addr]
        if "payment_terms_days" in inv:
            settings["payment_terms_days"] = _int(inv, "payment_terms_days", p, lo=0, hi=365)
        if "vat_percent" in inv:
            settings["vat_percent_bp"] = _percent_bp(inv["vat_percent"], inv.lines["vat_percent"],
                                                     p)
        if "numbering" in inv:
            scheme = inv["numbering"]
            if scheme not in NUMBERING:
                p.add(inv.lines["numbering"], f"'numbering' must be one of "
                      f"{', '.join(NUMBERING)}, not {scheme!r}")
            else:
                settings["numbering"] = scheme
        _validate_supplier(inv, settings, p, base=base or Path("."), directory=directory)
    payers = raw.get("payers")
    if isinstance(payers, yamlsafe.LDict):
        card["payers"] = _validate_payers(payers, p)
    elif payers is not None:
        p.add(raw.lines["payers"], "'payers' must map payer names (funders, trusts, DfE) to "
              "their address")
    books = raw.get("books")
    if isinstance(books, yamlsafe.LDict):
        card["books"] = _validate_books(books, p)
    elif books is not None:
        p.add(raw.lines["books"], "'books' must map account codes and tax types (see README)")
    vat = raw.get("vat")
    if isinstance(vat, yamlsafe.LDict):
        card["vat"] = _validate_vat(vat, p)
    elif vat is not None:
        p.add(raw.lines["vat"], "'vat' must map 'default' and 'work' to exempt, standard or zero")
    return card  # checked as a whole (card_problems) once laid over the stored card


RATES_SECTIONS = ("kinds", "work", "bands", "split", "invoice", "vat", "payers",
                  "books")
SUPPLIER_FIELDS = ("legal_name", "phone", "company_number", "charity_number", "vat_number",
                   "bank", "remittance_email", "logo")
LOGO_MAX_BYTES = 1024 * 1024


def _address(rec: Any, key: str, p: _Problems) -> list[str] | None:
    addr = rec[key]
    if not isinstance(addr, yamlsafe.LList) or not all(isinstance(a, str) for a in addr):
        p.add(rec.lines[key], f"'{key}' must be a list of lines")
        return None
    for i, a in enumerate(addr):
        if text_problem(a) or len(a) > 200:
            p.add(addr.lines[i], f"'{key}' line {i + 1} {text_problem(a) or 'is too long'}")
            return None
    return [a.strip() for a in addr if a.strip()]


def _email(rec: Any, key: str, p: _Problems) -> str | None:
    value = _text(rec, key, p, required=False)
    if value and not re.fullmatch(EMAIL_RE, value):
        p.add(rec.lines[key], f"'{key}' is not an e-mail address: {value!r}")
        return None
    return value or None


def _validate_supplier(inv: Any, settings: dict[str, Any], p: _Problems, *, base: Path,
                       directory: Directory | None) -> None:
    """The alliance's details a school's finance office needs (issue 12): legal name, phone,
    registration numbers, VAT number (UK format, check digits), bank details (sort code
    NN-NN-NN, 8-digit account number), remittance e-mail and an optional PNG/JPEG logo (a
    path relative to the seed file).  An empty value clears a field."""
    from s2s_cli.services import rates

    for key in ("legal_name", "phone"):
        if key in inv:
            settings[key] = _text(inv, key, p, required=False,
                                  max_len=40 if key == "phone" else 200) or None
    if "remittance_email" in inv:
        settings["remittance_email"] = _email(inv, "remittance_email", p)
    checks = (("company_number", rates.normal_company_number,
               "a Companies House number (8 digits, or 2 letters and 6 digits)"),
              ("charity_number", rates.normal_charity_number,
               "a charity number (6 or 7 digits, SC or NIC and 6 digits)"),
              ("vat_number", rates.normal_vat_number,
               "a UK VAT registration number (GB and 9 digits whose check digits work, "
               "e.g. GB 980 7806 84)"))
    for key, normal, what in checks:
        if key in inv:
            text = _text(inv, key, p, required=False, max_len=40)
            if not text:
                settings[key] = None
            elif normal(text) is None:
                p.add(inv.lines[key], f"'{key}' is not {what}: {text!r}")
            else:
                settings[key] = normal(text)
    if "bank" in inv:
        bank = inv["bank"]
        if bank is None or bank == "":
            settings["bank"] = None
        elif not isinstance(bank, yamlsafe.LDict):
            p.add(inv.lines["bank"], "'bank' must map account_name, sort_code and "
                  "account_number")
        else:
            fields = ("account_name", "sort_code", "account_number")
            for key in bank:
                if key not in fields:
                    p.add(bank.lines[key], f"unknown bank field '{key}'"
                          f"{_did_you_mean(key, fields)}")
            name = _text(bank, "account_name", p, max_len=100)
            code = _text(bank, "sort_code", p, max_len=20)
            number = _text(bank, "account_number", p, max_len=20)
            if code is not None and rates.normal_sort_code(code) is None:
                p.add(bank.lines["sort_code"], f"'sort_code' must be six digits as NN-NN-NN, "
                      f"not {code!r}")
            if number is not None and rates.normal_account_number(number) is None:
                p.add(bank.lines["account_number"], f"'account_number' must be 8 digits, not "
                      f"{number!r}")
            if name and code and number and rates.normal_sort_code(code) and \
                    rates.normal_account_number(number):
                settings["bank"] = {"account_name": name,
                                    "sort_code": rates.normal_sort_code(code),
                                    "account_number": rates.normal_account_number(number)}
    if "logo" in inv:
        path_text = _text(inv, "logo", p, required=False, max_len=1000)
        if not path_text:
            settings["logo"] = None
            return
        path = Path(path_text).expanduser()
        if not path.is_absolute():
            path = base / path
        try:
            if not path.is_file():
                raise OSError("not a file")
            if path.stat().st_size > LOGO_MAX_BYTES:
                p.add(inv.lines["logo"], f"'logo' {path_text} is larger than 1 MB")
                return
            data = path.read_bytes()
        except OSError as exc:
            p.add(inv.lines["logo"], f"'logo' cannot be read: {path_text} "
                  f"({exc.strerror or exc})")
            return
        if rates.image_kind(data) is None:
            p.add(inv.lines["logo"], f"'logo' {path_text} is not a PNG or JPEG image")
            return
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            p.add(inv.lines["logo"], f"'logo' {path_text} is not a readable PNG or JPEG image")
            return
        import hashlib

        settings["logo"] = {"path": str(path.resolve()),
                            "sha256": hashlib.sha256(data).hexdigest()}
        if directory is not None:
            directory.logo = data


def _validate_payers(payers: Any, p: _Problems) -> dict[str, Any]:
    """`payers: {DfE: {address: [...], attention: ..., email: ...}}`: the address book of
    payers that are not schools (funders, trusts, DfE), by name as invoices name them."""
    out: dict[str, Any] = {}
    for name in payers:
        entry = payers[name]
        if text_problem(str(name)) or not str(name).strip():
            why = text_problem(str(name)) or "is empty"
            p.add(payers.lines[name], f"payer name {name!r} {why}")
            continue
        if not isinstance(entry, yamlsafe.LDict):
            p.add(payers.lines[name], f"payer '{name}' must map address, attention and email")
            continue
        record: dict[str, Any] = {"address": [], "attention": None, "email": None}
        for key in entry:
            if key not in ("address", "attention", "email"):
                p.add(entry.lines[key], f"unknown payer field '{key}'"
                      f"{_did_you_mean(key, ('address', 'attention', 'email'))}")
        if "address" in entry:
            record["address"] = _address(entry, "address", p) or []
        if "attention" in entry:
            record["attention"] = _text(entry, "attention", p, required=False) or None
        if "email" in entry:
            record["email"] = _email(entry, "email", p)
        out[str(name).strip()] = record
    return out


def _validate_books(books: Any, p: _Problems) -> dict[str, Any]:
    """`books: {account_code: "200", tax_exempt: "Exempt Income", ...}`: what the accounting
    exports (`s2s invoices export`) code lines and payments to (services/books.py)."""
    from s2s_cli.services.books import BOOKS_KEYS

    out: dict[str, Any] = {}
    for key in books:
        if key not in BOOKS_KEYS:
            p.add(books.lines[key], f"unknown books field '{key}'"
                  f"{_did_you_mean(key, BOOKS_KEYS)}")
            continue
        value = books[key]
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # account codes are often written as numbers
        required = key not in ("tracking_name", "branding_theme")
        if not isinstance(value, str) or (required and not value.strip()):
            p.add(books.lines[key], f"books '{key}' must be text"
                  + (" (not blank)" if required else ""))
            continue
        why = text_problem(value)
        if why or len(value) > 100:
            p.add(books.lines[key], f"books '{key}' {why or 'is longer than 100 characters'}")
            continue
        out[key] = value.strip() or None
    return out


def _validate_vat(vat: Any, p: _Problems) -> dict[str, Any]:
    """`vat: {default: exempt, work: {diagnosis: standard}}`: the VAT treatment by kind of
    work (exempt, standard 20% or zero), frozen on each deployment when it is agreed."""
    out: dict[str, Any] = {"default": "exempt", "work": {}}
    for key in vat:
        if key not in ("default", "work"):
            p.add(vat.lines[key], f"unknown vat field '{key}'")
    if "default" in vat:
        if vat["default"] not in VAT_TREATMENTS:
            p.add(vat.lines["default"], f"vat default must be one of "
                  f"{', '.join(VAT_TREATMENTS)}, not {vat['default']!r}")
        else:
            out["default"] = vat["default"]
    work = vat.get("work")
    if isinstance(work, yamlsafe.LDict):
        for w in work:
            if w not in taxonomy.WORK_TYPES:
                p.add(work.lines[w], f"unknown kind of work '{w}'"
                      f"{_did_you_mean(w, taxonomy.WORK_TYPES)}")
            elif work[w] not in VAT_TREATMENTS:
                p.add(work.lines[w], f"vat for '{w}' must be one of "
                      f"{', '.join(VAT_TREATMENTS)}, not {work[w]!r}")
            else:
                out["work"][w] = work[w]
    elif work is not None:
        p.add(vat.lines["work"], "vat 'work' must map kinds of work to exempt, standard or zero")
    return out


def merge_card(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The stored card with a seed file's `rates` laid over it key by key: each kind of
    leader's rates, each invoice setting; a `work`, `bands` or `split` section, when given,
    replaces that section (so a file can drop a kind of work's own rate or a band).  What the
    file does not mention stays as stored."""
    card = json.loads(json.dumps(base))
    for section in ("kinds", "invoice", "payers", "books"):
        if section in patch:
            card.setdefault(section, {}).update(patch[section])
    for section in ("work", "bands", "split", "vat"):
        if section in patch:
            card[section] = patch[section]
    return card


def _flat_card(card: dict[str, Any]) -> dict[str, str]:
    from s2s_cli.parsing import format_pence

    def money(v: Any) -> str:
        return "none" if v is None else format_pence(int(v))

    def pct(bp: Any) -> str:
        return f"{Decimal(int(bp or 0)) / 100:f}".rstrip("0").rstrip(".") + "%"

    out: dict[str, str] = {}
    for kind, entry in (card.get("kinds") or {}).items():
        out[f"{kind} day rate"] = money(entry.get("day"))
        out[f"{kind} half-day rate"] = money(entry.get("half_day"))
    for work, entry in (card.get("work") or {}).items():
        out[f"{work} day rate"] = money(entry.get("day"))
        out[f"{work} half-day rate"] = money(entry.get("half_day"))
    for band in card.get("bands") or []:
        for kind, entry in (band.get("kinds") or {}).items():
            label = f"band {band.get('name')} (≤ {band.get('max_pupils')} pupils) {kind}"
            out[f"{label} day rate"] = money(entry.get("day"))
            out[f"{label} half-day rate"] = money(entry.get("half_day"))
    split = card.get("split") or {}
    out["admin share"] = (money(split["admin_fixed_pence"]) + " a day"
                          if split.get("admin_fixed_pence") is not None
                          else pct(split.get("admin_percent_bp")))
    inv = card.get("invoice") or {}
    for key, label in (("alliance_name", "alliance name"), ("email", "invoice email"),
                       ("number_prefix", "invoice number prefix"),
                       ("credit_prefix", "credit note prefix")):
        out[label] = str(inv.get(key) or "none")
    out["address"] = " / ".join(inv.get("address") or []) or "none"
    out["payment terms"] = f"{int(inv.get('payment_terms_days') or 0)} days"
    out["VAT"] = pct(inv.get("vat_percent_bp"))
    for key in ("legal_name", "phone", "company_number", "charity_number", "vat_number",
                "remittance_email"):
        if inv.get(key):
            out[key.replace("_", " ")] = str(inv[key])
    bank = inv.get("bank") or {}
    if bank:
        out["bank details"] = (f"{bank['account_name']} {bank['sort_code']} "
                               f"{bank['account_number']}")
    if inv.get("logo"):
        out["logo"] = f"{inv['logo']['path']} ({inv['logo']['sha256'][:12]})"
    for name, rec in sorted((card.get("payers") or {}).items()):
        out[f"payer {name}"] = " / ".join([*(rec.get("address") or []),
                                           *([f"FAO {rec['attention']}"]
                                             if rec.get("attention") else []),
                                           *([rec["email"]] if rec.get("email") else [])])
    for key, value in sorted((card.get("books") or {}).items()):
        out[f"books {key}"] = str(value or "none")
    vat = card.get("vat")
    if vat:  # the VAT treatment by kind of work, frozen on deployments agreed from now
        out["VAT treatment (default)"] = str(vat.get("default") or "exempt")
        for work, treatment in sorted((vat.get("work") or {}).items()):
            out[f"VAT treatment of {work}"] = str(treatment)
    return out


def describe_card_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What loading changed in the card, one line each: 'changed SLE day rate £350.00 →
    £380.00', 'added ...', 'removed ...'."""
    a, b = _flat_card(old), _flat_card(new)
    out = []
    for key in [*a, *(k for k in b if k not in a)]:
        if key not in b:
            out.append(f"removed {key} ({a[key]})")
        elif key not in a:
            out.append(f"added {key} {b[key]}")
        elif a[key] != b[key]:
            out.append(f"changed {key} {a[key]} → {b[key]}")
    return out


def _validate_reviews(raw: Any, line: int, p: _Problems) -> dict[str, int] | None:
    """`reviews:` maps a kind of work to the months (1-24) after the first logged day when a
    progress review falls due."""
    if not isinstance(raw, yamlsafe.LDict):
        p.add(line, "'reviews' must map kinds of work to months (e.g. governance-review: 4)")
        return None
    policy: dict[str, int] = {}
    for work in raw:
        if work not in taxonomy.WORK_TYPES:
            p.add(raw.lines[work], f"unknown kind of work '{work}'"
                  f"{_did_you_mean(work, taxonomy.WORK_TYPES)}")
            continue
        months = raw[work]
        if isinstance(months, bool) or not isinstance(months, int) or not (
                1 <= months <= REVIEW_MONTHS_MAX):
            p.add(raw.lines[work], f"months for '{work}' must be a whole number from 1 to "
                  f"{REVIEW_MONTHS_MAX}, not {months!r}")
            continue
        policy[work] = months
    return policy


def _percent_bp(value: Any, line: int, p: _Problems) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        p.add(line, f"percentage must be a number, not {value!r}")
        return 0
    try:
        d = Decimal(str(value))
    except Exception:
        p.add(line, f"percentage must be a number, not {value!r}")
        return 0
    if not (0 <= d <= 100) or (d * 100) != (d * 100).to_integral_value():
        p.add(line, f"percentage must be between 0 and 100 with at most 2 decimals, not {value}")
        return 0
    return int(d * 100)


def known_in_db(session: Session) -> dict[str, Any]:
    conn = session.connection()
    return {
        "las": [r[0] for r in conn.execute(select(T_LA.c.name))],
        "la_codes": {r[0]: r[1] for r in conn.execute(select(T_LA.c.code, T_LA.c.name))
                     if r[0] is not None},
        "urns": [r[0] for r in conn.execute(select(T_SCHOOL.c.urn))],
    }


def _upsert(conn: Any, session: Session, table: Any, key: str, records: list[dict[str, Any]],
            result: LoadResult, entity: str, keep: Any = None) -> None:
    existing = {row[key]: dict(row) for row in conn.execute(select(table)).mappings()}
    new_rows: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    audit_rows: list[tuple[str, str, dict | None, dict | None]] = []
    for rec in records:
        old = existing.get(rec[key])
        if old is None:
            new_rows.append(rec)
            audit_rows.append((str(rec[key]), "insert", None, rec))
            result.bump(entity, "added")
            continue
        rec = keep(old, rec) if keep else rec
        diff = {k: v for k, v in rec.items() if old.get(k) != v}
        if diff:
            changed.append({**rec, "b_key": rec[key]})
            audit_rows.append((str(rec[key]), "update", {k: old.get(k) for k in diff}, diff))
            result.bump(entity, "updated")
        else:
            result.bump(entity, "unchanged")
    if new_rows:
        conn.execute(insert(table), new_rows)
    if changed:
        cols = [c for c in changed[0] if c not in ("b_key", key)]
        stmt = update(table).where(table.c[key] == bindparam("b_key")).values(
            {c: bindparam(c) for c in cols})
        conn.execute(stmt, changed)
    audit.record_many(session, table.name, audit_rows)


def load_reference(session: Session) -> LoadResult:
    """The reference data every alliance needs, and no schools or leaders: the specialism
    taxonomy and England's regions and local authorities."""
    return load(session, Directory(regions=list(taxonomy.REGIONS), las=reference_las()))


def default_settings(session: Session) -> None:
    """The default rate card and review policy, where the database has none yet: stored
    explicitly, so what invoices use is always in the database."""
    from s2s_cli.services.deployments import DEFAULT_REVIEW_POLICY

    conn = session.connection()
    for key, value in (("rate_card", DEFAULT_CARD), ("review_policy", DEFAULT_REVIEW_POLICY)):
        if conn.execute(select(T_SETTING.c.key).where(T_SETTING.c.key == key)).first() is None:
            _put_setting(conn, session, key, value)


def init_new(session: Session, directory: Directory | None = None, *,
             demo: bool = False) -> LoadResult:
    """A new database's contents: reference data, then the demo or the alliance's own
    directory, then default settings for what the directory did not set."""
    result = load_reference(session)
    if demo:
        result = load_file(session, bundled_seed_path())
    elif directory is not None:
        result = load(session, directory)
    default_settings(session)
    return result


def load(session: Session, directory: Directory, *, deactivate_missing: bool = False
         ) -> LoadResult:
    """Upsert a validated directory in the caller's transaction.  Active leaders the file
    does not name are kept (listed in `result.kept`), or made inactive with
    `deactivate_missing`."""
    conn = session.connection()
    result = LoadResult()
    # specialisms: the taxonomy lives in code
    spec_rows = [{"slug": s.slug, "name": s.name, "focus_area": s.focus_areas[0],
                  "other_focus_area": s.focus_areas[1] if len(s.focus_areas) > 1 else None}
                 for s in taxonomy.SPECIALISMS]
    _upsert(conn, session, T_SPEC, "slug", spec_rows, result, "specialisms")
    regions = directory.regions or list(taxonomy.REGIONS)
    regions += [la["region"] for la in directory.las if la["region"] not in regions]
    existing_regions = {r.name: r.id for r in conn.execute(select(T_REGION))}
    for name in regions:
        if name in existing_regions:
            result.bump("regions", "unchanged")
        else:
            rid = conn.execute(insert(T_REGION).values(name=name)).inserted_primary_key[0]
            existing_regions[name] = rid
            audit.record(session, "region", str(rid), "insert", None, {"name": name})
            result.bump("regions", "added")
    la_rows = [{"name": la["name"], "code": la["code"], "region_id": existing_regions[la["region"]]}
               for la in directory.las]
    _upsert(conn, session, T_LA, "name", la_rows, result, "local_authorities",
            keep=lambda old, new: {**new, "code": new["code"] or old.get("code")})
    la_ids = {r.name: r.id for r in conn.execute(select(T_LA.c.id, T_LA.c.name))}
    if directory.trusts:  # before the schools that link to them; stored as `import gias` does
        from s2s_cli.services.gias import upsert_trusts

        for what, n in zip(("added", "updated", "unchanged"),
                           upsert_trusts(session, directory.trusts), strict=True):
            result.bump("trusts", what, n)
    silent = [k for k in KEPT_WHEN_SILENT if any(k not in s for s in directory.schools)]
    held = ({r[0]: dict(zip(silent, r[1:], strict=True)) for r in conn.execute(
        select(T_SCHOOL.c.urn, *[T_SCHOOL.c[k] for k in silent]))} if silent else {})
    school_rows = []
    for s in directory.schools:
        row = {k: v for k, v in s.items() if k != "la"}
        row["la_id"] = la_ids[s["la"]]
        for key in silent:  # the file says nothing of it: what is stored stays
            if key not in row:
                row[key] = held.get(s["urn"], {}).get(key)
        school_rows.append(row)
    _upsert(conn, session, T_SCHOOL, "urn", school_rows, result, "schools")
    _load_inspections(session, directory, result)

    # an erased leader is never restored nor reactivated by a file: their row stays as it is
    erased = {r[0] for r in conn.execute(select(T_LEADER.c.id).where(T_LEADER.c.erased))}
    file_leaders = [ldr for ldr in directory.leaders if ldr["id"] not in erased]
    if len(file_leaders) < len(directory.leaders):
        result.bump("leaders", "unchanged", len(directory.leaders) - len(file_leaders))
    leader_rows = [{**{k: v for k, v in ldr.items() if k != "specialisms"}, "erased": False}
                   for ldr in file_leaders]
    _upsert(conn, session, T_LEADER, "id", leader_rows, result, "leaders")
    # active leaders missing from the file: kept, or (--deactivate-missing) made inactive;
    # never deleted
    in_file = {ldr["id"] for ldr in directory.leaders}
    if directory.leaders:
        active_ids = [r[0] for r in conn.execute(select(T_LEADER.c.id).where(T_LEADER.c.active))]
        gone = sorted(lid for lid in active_ids if lid not in in_file)
        if gone and deactivate_missing:
            for i in range(0, len(gone), 500):
                conn.execute(update(T_LEADER).where(T_LEADER.c.id.in_(gone[i:i + 500]))
                             .values(active=False))
            audit.record_many(session, "leader", [
                (lid, "update", {"active": True},
                 {"active": False, "reason": "missing from the seed file"}) for lid in gone])
            result.bump("leaders", "deactivated", len(gone))
        elif gone:
            result.kept = gone
    # specialism links: make each leader's set match the file
    current: dict[str, set[str]] = {}
    for lid, slug in conn.execute(select(T_LS.c.leader_id, T_LS.c.specialism_slug)):
        current.setdefault(lid, set()).add(slug)
    add_links: list[dict[str, str]] = []
    link_audit: list[tuple[str, str, dict | None, dict | None]] = []
    for ldr in file_leaders:
        want, have = set(ldr["specialisms"]), current.get(ldr["id"], set())
        for slug in sorted(want - have):
            add_links.append({"leader_id": ldr["id"], "specialism_slug": slug})
        for slug in sorted(have - want):
            conn.execute(delete(T_LS).where(T_LS.c.leader_id == ldr["id"],
                                            T_LS.c.specialism_slug == slug))
        if want != have:
            link_audit.append((ldr["id"], "update" if have else "insert",
                               {"specialisms": sorted(have)} if have else None,
                               {"specialisms": sorted(want)}))
    if add_links:
        conn.execute(insert(T_LS), add_links)
    audit.record_many(session, "leader_specialism", link_audit)
    if directory.card is not None:
        old_text = conn.execute(select(T_SETTING.c.value).where(T_SETTING.c.key == "rate_card")
                                ).scalar()
        base = json.loads(old_text) if old_text else json.loads(json.dumps(DEFAULT_CARD))
        card = merge_card(base, directory.card)
        problems = card_problems(card)  # the card as it would stand, checked before any write
        if problems:
            raise SeedErrors([f"{directory.card_where}: rates: {why}" for why in problems])
        result.rate_changes = describe_card_changes(base, card)
        if not old_text:
            result.rate_changes.insert(0, "no rate card was stored: the file's rates are laid "
                                          "over the built-in card")
        _put_setting(conn, session, "rate_card", card)
        if directory.logo is not None:  # the image, by content: documents name its hash
            import base64
            import hashlib

            sha = hashlib.sha256(directory.logo).hexdigest()
            _put_setting(conn, session, f"logo/{sha}", {
                "base64": base64.b64encode(directory.logo).decode("ascii")})
    if directory.reviews is not None:
        _put_setting(conn, session, "review_policy", directory.reviews)
    return result


KEPT_WHEN_SILENT = ("trust_uid", "easting", "northing")


def _load_inspections(session: Session, directory: Directory, result: LoadResult) -> None:
    """A file's `inspections:` stored as `import ofsted` stores them (upsert keeping history,
    so loading the same file again changes nothing); then each school's single `ofsted:`
    grade, where no inspection holds it, as a legacy inspection (as migration
    0004_reportcards kept them)."""
    from s2s_cli.services import ofsted

    counts = [0, 0, 0]
    if directory.inspections:
        res = ofsted.ImportResult(parsed=ofsted.Parsed(path="", encoding=""))
        ofsted.upsert_inspections(session, directory.inspections, res)
        counts = [res.added, res.updated, res.unchanged]
    grades = {s["urn"]: s["ofsted"] for s in directory.schools if s["ofsted"]}
    if grades:
        counts = [a + b for a, b in zip(counts, ofsted.keep_single_grades(session, grades),
                                        strict=True)]
    if directory.inspections or grades:
        for what, n in zip(("added", "updated", "unchanged"), counts, strict=True):
            result.bump("inspections", what, n)


def _put_setting(conn: Any, session: Session, key: str, data: Any) -> None:
    """Store one JSON setting; unchanged means no write and no audit row."""
    value = json.dumps(data, sort_keys=True)
    old = conn.execute(select(T_SETTING.c.value).where(T_SETTING.c.key == key)).scalar()
    if old is None:
        conn.execute(insert(T_SETTING).values(key=key, value=value))
        audit.record(session, "setting", key, "insert", None, data)
    elif old != value:
        conn.execute(update(T_SETTING).where(T_SETTING.c.key == key).values(value=value))
        audit.record(session, "setting", key, "update", json.loads(old), data)


def read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > yamlsafe.MAX_BYTES:
            raise SeedErrors([f"{path}:1: file is {size:,} bytes; the limit is "
                              f"{yamlsafe.MAX_BYTES:,}"])
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"{path} is a folder, not a seed file") from exc
    except PermissionError as exc:
        raise InvalidInput(f"cannot read {path}: permission denied") from exc


def load_file(session: Session, path: Path) -> LoadResult:
    data = read_file(path)
    directory = validate(data, str(path), known_in_db(session))
    return load(session, directory)


def load_bundled(engine: Engine) -> LoadResult:
    """First use of the default database: reference data and the demo directory."""
    from s2s_cli.db import run_write

    return run_write(engine, lambda session: init_new(session, demo=True), actor="s2s",
                     command="init")


# --- dump: the directory as a seed file ------------------------------------------------------

SCHOOL_DUMP_KEYS = ("urn", "name", "la", "phase", "type", "trust", "trust_uid", "trust_type",
                    "pupils", "ofsted", "status", "street", "locality", "address3", "town",
                    "county", "postcode", "easting", "northing", "phone", "website",
                    "headteacher", "finance_contact", "finance_email", "po_required",
                    "teaching_school", "teaching_school_hub", "national_support_school",
                    "inspections")
_SCHOOL_FLAGS = ("po_required", "teaching_school", "teaching_school_hub",
                 "national_support_school")


def _pounds(pence: int) -> str:
    pounds, p = divmod(int(pence), 100)
    return f"{pounds}.{p:02d}" if p else str(pounds)


def _percent(bp: int) -> int | str:
    whole, frac = divmod(int(bp), 100)
    return whole if not frac else f"{whole}.{frac:02d}".rstrip("0")


def _dump_card(card: dict[str, Any]) -> dict[str, Any]:
    def pair(entry: dict[str, int]) -> dict[str, str]:
        return {"day": _pounds(entry["day"]), "half_day": _pounds(entry["half_day"])}

    out: dict[str, Any] = {"kinds": {k: pair(v) for k, v in sorted(card["kinds"].items())}}
    if card.get("work"):
        out["work"] = {w: pair(v) for w, v in sorted(card["work"].items())}
    if card.get("bands"):
        out["bands"] = [{"name": b["name"], "max_pupils": b["max_pupils"],
                         "kinds": {k: pair(v) for k, v in sorted(b["kinds"].items())}}
                        for b in card["bands"]]
    split = card.get("split") or {}
    if split.get("admin_fixed_pence") is not None:
        out["split"] = {"admin_fixed": _pounds(split["admin_fixed_pence"])}
    else:
        out["split"] = {"admin_percent": _percent(split.get("admin_percent_bp") or 0)}
    invoice: dict[str, Any] = {}
    for key, value in (card.get("invoice") or {}).items():
        if key == "vat_percent_bp":
            invoice["vat_percent"] = _percent(value or 0)
        elif key == "address":
            invoice["address"] = list(value or [])
        elif key == "logo":
            if value:
                invoice["logo"] = value["path"]
        elif key == "bank":
            if value:
                invoice["bank"] = dict(value)
        elif value is None and key in ("alliance_name", "email"):
            invoice[key] = ""
        elif value is not None:
            invoice[key] = value
    out["invoice"] = invoice
    if card.get("payers"):
        out["payers"] = {name: {k: v for k, v in rec.items() if v}
                         for name, rec in sorted(card["payers"].items())}
    if card.get("books"):
        out["books"] = {k: v or "" for k, v in sorted(card["books"].items())}
    return out


def dump_directory(session: Session) -> dict[str, Any]:
    """The directory as the sections of a seed file: the local authorities (and regions) its
    schools are in, the schools, the leaders (not erased ones: nothing is left to keep about
    them), the rate card and the review policy when they are stored."""
    conn = session.connection()
    regions = {r.id: r.name for r in conn.execute(select(T_REGION))}
    las = {r.id: r for r in conn.execute(select(T_LA))}
    schools = [dict(r) for r in conn.execute(select(T_SCHOOL).order_by(T_SCHOOL.c.urn))
               .mappings()]
    used = sorted({s["la_id"] for s in schools}, key=lambda i: las[i].name)
    doc: dict[str, Any] = {}
    used_regions = {las[i].region_id for i in used}
    doc["regions"] = [name for rid, name in sorted(regions.items()) if rid in used_regions]
    doc["local_authorities"] = [
        {**({"code": las[i].code} if las[i].code is not None else {}), "name": las[i].name,
         "region": regions[las[i].region_id]} for i in used]
    trust_types = {r.uid: r.type for r in conn.execute(select(T_TRUST))}
    held = _dump_inspections(conn)
    out_schools = []
    for s in schools:
        s["la"] = las[s["la_id"]].name
        s["trust_type"] = trust_types.get(s["trust_uid"]) if s["trust_uid"] else None
        s["inspections"] = held.get(s["urn"]) or None
        entry: dict[str, Any] = {}
        for key in SCHOOL_DUMP_KEYS:
            value = s.get(key)
            if key in _SCHOOL_FLAGS:
                if value:
                    entry[key] = True
            elif key == "status":
                if value and value != "open":
                    entry[key] = value
            elif value is not None:
                entry[key] = value
        out_schools.append(entry)
    doc["schools"] = out_schools
    specs: dict[str, list[str]] = {}
    for lid, slug in conn.execute(select(T_LS.c.leader_id, T_LS.c.specialism_slug)):
        specs.setdefault(lid, []).append(slug)
    leaders = []
    for ldr in conn.execute(select(T_LEADER).where(T_LEADER.c.erased.is_(False))
                            .order_by(T_LEADER.c.id)).mappings():
        entry = {"id": ldr["id"], "name": ldr["name"], "kind": ldr["kind"],
                 "home_school": ldr["home_school_urn"]}
        if ldr["designated_by_urn"] is not None:
            entry["designated_by"] = ldr["designated_by_urn"]
        for key in ("email", "phone"):
            if ldr[key] is not None:
                entry[key] = ldr[key]
        entry["capacity_days"] = ldr["capacity_days"]
        entry["specialisms"] = sorted(specs.get(ldr["id"], []))
        designations = [d for d in (ldr["designations"] or "").split(",") if d]
        if designations:
            entry["designations"] = designations
        if not ldr["active"]:
            entry["active"] = False
        if ldr["notes"] is not None:
            entry["notes"] = ldr["notes"]
        leaders.append(entry)
    doc["leaders"] = leaders
    settings = {r.key: json.loads(r.value) for r in conn.execute(select(T_SETTING))}
    if "rate_card" in settings:
        doc["rates"] = _dump_card(settings["rate_card"])
    if "review_policy" in settings:
        doc["reviews"] = dict(sorted(settings["review_policy"].items()))
    return doc


def _dump_inspections(conn: Any) -> dict[int, list[dict[str, Any]]]:
    """The inspections from Ofsted (an MI import or a seed's `inspections:`) by school, oldest
    first, as a seed file writes them.  The legacy inspections kept from a single grade
    (source 'directory') are the school's `ofsted:` and are not repeated."""
    from s2s_cli.models import Inspection, InspectionGrade
    from s2s_cli.services.requests import as_date

    t_i = Inspection.__table__  # type: ignore[attr-defined]
    t_g = InspectionGrade.__table__  # type: ignore[attr-defined]
    grades: dict[int, list[tuple[str, int, Any]]] = {}
    for iid, area, grade, when in conn.execute(
            select(t_g.c.inspection_id, t_g.c.area, t_g.c.grade, t_g.c.graded_on)
            .join(t_i, t_i.c.id == t_g.c.inspection_id).where(t_i.c.source == "ofsted")):
        grades.setdefault(iid, []).append((area, grade, as_date(when)))
    order = {fw: {slug: i for i, (slug, _) in enumerate(areas)} for fw, areas in (
        ("report-card", taxonomy.REPORT_CARD_AREAS), ("legacy", taxonomy.LEGACY_AREAS))}
    out: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(select(t_i).where(t_i.c.source == "ofsted")
                            .order_by(t_i.c.school_urn, t_i.c.start, t_i.c.id)).mappings():
        start = as_date(row["start"])
        entry: dict[str, Any] = {"framework": row["framework"], "date": start}
        for key in ("published", "type", "number"):
            if row[key] is not None:
                entry[key] = as_date(row[key]) if key == "published" else row[key]
        rank = order[row["framework"]]
        marks: dict[str, Any] = {}
        for area, grade, when in sorted(grades.get(row["id"], []),
                                        key=lambda g, rank=rank: (rank.get(g[0], 99), g[0])):
            word = taxonomy.grade_word(row["framework"], grade)
            marks[area] = word if when == start else {"grade": word, "date": when}
        if marks:
            entry["grades"] = marks
        for key in ("safeguarding", "category"):
            if row[key] is not None:
                entry[key] = row[key]
        out.setdefault(row["school_urn"], []).append(entry)
    return out


def to_yaml(doc: dict[str, Any]) -> str:
    """A seed document as YAML that `validate` reads back (no anchors or aliases)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    head = ("# An s2s directory (`s2s seed dump`): load it with `s2s seed load FILE`.\n")
    return head + yaml.dump(doc, Dumper=Dumper, sort_keys=False, allow_unicode=True,
                            default_flow_style=False, width=100)
