"""Ofsted inspections: report cards (from 10 November 2025) and legacy four-point history.

`s2s import ofsted FILE.csv` reads Ofsted's monthly management information file ("State-funded
schools inspections and outcomes", sheet "Most recent inspections"): one row per school by URN.
Columns are read by *name* (spaces and case forgiven; `../shared/reference/ofsted_mi_columns.txt`
lists them as published); Windows-1252 or UTF-8; dates DD/MM/YYYY.  From each row come up to two
inspections: the latest report-card inspection (the eight area grades on the five-point scale
with their dates, safeguarding met / not met, category of concern) and the latest graded
inspection under the old framework (OEIF: overall effectiveness and key judgements, 1-4) as
legacy history.  Ungraded inspections are not recorded.

Upsert by URN keeping history: an inspection is known by its Ofsted inspection number (else its
framework and start date); a new one is added next to the school's older ones, a known one is
updated when the file says something different, and a re-import changes nothing.  Rows for URNs
s2s does not hold are counted and skipped, or with `add_schools` the school is created from the
row's name, local authority, region, phase and postcode.  Bad rows (a malformed URN, date or
grade, over-long text) are listed as FILE:LINE and skipped.  Everything is read and checked
before anything is written; `apply` writes with Core bulk statements and one audit row per
inspection added or changed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2s_cli import taxonomy
from s2s_cli.errors import InvalidInput
from s2s_cli.services.gias import Skip, _clean, _open, detect_encoding

MAX_CELL = 500  # characters in any cell we read (school names are far shorter)
MAX_NAME = 200
HEADER_SCAN = 10  # a CSV saved from the published workbook may carry title lines first
BLANKS = {"", "null", "n/a", "na", "not applicable", "-", "none", "not judged", "9"}

# report-card area slug -> (grade column, date column)
CARD_COLUMNS = {
    "inclusion": ("Inclusion", "Inclusion - date of grade"),
    "curriculum-and-teaching": ("Curriculum and teaching",
                                "Curriculum and teaching - date of grade"),
    "achievement": ("Achievement", "Achievement - date of grade"),
    "attendance-and-behaviour": ("Attendance and behaviour",
                                 "Attendance and behaviour - date of grade"),
    "personal-development": ("Personal development and wellbeing",
                             "Personal development and wellbeing - date of grade"),
    "early-years": ("Early years (where applicable)", "Early years - date of grade"),
    "post-16": ("Post-16 provision (where applicable)", "Post-16 provision - date of grade"),
    "leadership-and-governance": ("Leadership and governance",
                                  "Leadership and governance - date of grade"),
}
CARD = {
    "number": "Inspection number of latest full inspection", "type": "Inspection type",
    "start": "Inspection start date", "published": "Publication date",
    "category": "Category of concern", "safeguarding": "Safeguarding standards",
}
LEGACY_COLUMNS = {
    "overall-effectiveness": "Latest OEIF overall effectiveness",
    "quality-of-education": "Latest OEIF quality of education",
    "behaviour-and-attitudes": "Latest OEIF behaviour and attitudes",
    "personal-development": "Latest OEIF personal development",
    "leadership-and-management": "Latest OEIF effectiveness of leadership and management",
    "early-years": "Latest OEIF early years provision (where applicable)",
    "sixth-form": "Latest OEIF sixth form provision (where applicable)",
}
LEGACY = {
    "number": "Inspection number of latest OEIF graded inspection",
    "type": "Inspection type of latest OEIF graded inspection",
    "start": "Inspection start date of latest OEIF graded inspection",
    "published": "Publication date of latest OEIF graded inspection",
    "category": "Latest OEIF category of concern",
    "safeguarding": "Latest OEIF safeguarding is effective?",
}
SCHOOL = {"urn": "URN", "name": "School name", "phase": "Ofsted phase", "la": "Local authority",
          "region": "Region", "postcode": "Postcode"}
INSPECTION_FIELDS = ("type", "start", "published", "safeguarding", "category")

_PHASES = {"primary": "primary", "secondary": "secondary", "special": "special",
           "nursery": "nursery", "pupil referral unit": "alternative provision",
           "alternative provision": "alternative provision", "pru": "alternative provision",
           "all-through": "all-through", "all through": "all-through", "16 plus": "16 plus",
           "16-19": "16 plus", "middle": "middle"}


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("\ufeff", "")).strip().lower()


@dataclass
class Parsed:
    path: str
    encoding: str
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    rows: int = 0


@dataclass
class ImportResult:
    parsed: Parsed
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown_schools: int = 0
    schools_added: int = 0
    unknown: list[Skip] = field(default_factory=list)

    def skipped(self) -> list[Skip]:
        return sorted(self.parsed.skipped + self.unknown, key=lambda s: s.line)

    def summary(self) -> dict[str, Any]:
        p = self.parsed
        skipped = self.skipped()
        return {"file": p.path, "encoding": p.encoding, "rows": p.rows, "added": self.added,
                "updated": self.updated, "unchanged": self.unchanged, "skipped": len(skipped),
                "unknown_schools": self.unknown_schools, "schools_added": self.schools_added,
                "skipped_rows": [s.as_dict() for s in skipped]}


class _BadRow(Exception):
    pass


def parse_mi_date(text: str, what: str) -> dt.date | None:
    t = text.strip()
    if t.lower() in BLANKS:
        return None
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", t)
    if not m:
        raise _BadRow(f"{what} '{t[:30]}' is not a date (DD/MM/YYYY)")
    try:
        value = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        raise _BadRow(f"{what} '{t}' is not a real date") from None
    if not 1990 <= value.year <= 2100:
        raise _BadRow(f"{what} '{t}' is out of range")
    return value


def _card_grade(text: str, what: str) -> int | None:
    t = text.strip().lower()
    if t in BLANKS:
        return None
    if t in taxonomy.REPORT_CARD_GRADES:
        return taxonomy.REPORT_CARD_GRADES.index(t) + 1
    raise _BadRow(f"{what} '{text.strip()[:40]}' is not a report-card grade "
                  f"({', '.join(taxonomy.REPORT_CARD_GRADES)})")


def _legacy_grade(text: str, what: str) -> int | None:
    t = text.strip().lower()
    if t in BLANKS:
        return None
    if t in ("1", "2", "3", "4"):
        return int(t)
    if t in taxonomy.OFSTED_GRADES:
        return taxonomy.OFSTED_GRADES.index(t) + 1
    raise _BadRow(f"{what} '{text.strip()[:40]}' is not a grade 1-4")


def _safeguarding(text: str, what: str) -> str | None:
    t = text.strip().lower()
    if t in BLANKS:
        return None
    if t in ("met", "yes", "effective"):
        return "met"
    if t in ("not met", "no", "not effective"):
        return "not met"
    raise _BadRow(f"{what} '{text.strip()[:40]}' is neither Met nor Not met")


def _category(text: str) -> str | None:
    t = text.strip()
    return None if t.lower() in BLANKS | {"no category", "not in a category"} else t


def map_phase(text: str) -> str | None:
    return _PHASES.get(text.strip().lower())


def _read_header(reader: Any, path: Path) -> tuple[list[str], dict[str, int]]:
    for _ in range(HEADER_SCAN):
        try:
            header = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InvalidInput(f"{path}:{reader.line_num}: not a CSV file ({exc})") from None
        keys = [_key(h) for h in header]
        if "urn" not in keys:
            continue
        seen: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k and k in seen:
                raise InvalidInput(f"{path}:{reader.line_num}: column '{header[i].strip()}' "
                                   "appears twice in the header")
            seen[k] = i
        return header, seen
    raise InvalidInput(f"{path}: not an Ofsted management information file: no header row "
                       "with a 'URN' column")


def read(path: Path, *, progress: Callable[[int], None] | None = None) -> Parsed:
    """Read and check the whole file (nothing is written)."""
    encoding = detect_encoding(path) if path.is_file() else "utf-8-sig"
    raw = _open(path)
    parsed = Parsed(path=str(path), encoding="windows-1252" if encoding == "cp1252" else "utf-8")
    first_line: dict[int, int] = {}
    try:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(text)
        header, index = _read_header(reader, path)
        have_card = _key(CARD["start"]) in index
        have_legacy = _key(LEGACY["start"]) in index
        if not have_card and not have_legacy:
            raise InvalidInput(f"{path}: not an Ofsted management information file: no "
                               f"'{CARD['start']}' or '{LEGACY['start']}' column")
        width = len(header)
        prev_line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                parsed.skipped.append(Skip(prev_line + 1, None, f"unreadable CSV ({exc})",
                                           bad=True))
                break
            line, prev_line = prev_line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            parsed.rows += 1
            if progress is not None and parsed.rows % 2000 == 0:
                progress(raw.tell())
            cells = len(row)
            short = cells < width
            if short:
                row = row + [""] * (width - len(row))

            def get(name: str, row: list[str] = row) -> str:
                i = index.get(_key(name))
                return _clean(row[i]) if i is not None else ""

            urn_text = get("URN")
            try:
                if short:  # the published file fills every column: a row cut off
                    raise _BadRow(f"only {cells} of {width} columns: the row is cut off")
                if not re.fullmatch(r"[0-9]{6}", urn_text):
                    raise _BadRow(f"invalid URN '{urn_text[:20]}' (6 digits expected)"
                                  if urn_text else "missing URN")
                too_long = next((header[i].strip() for i, cell in enumerate(row[:width])
                                 if len(cell) > MAX_CELL), None)
                if too_long:
                    raise _BadRow(f"'{too_long[:60]}' is over {MAX_CELL} characters")
                urn = int(urn_text)
                if urn in first_line:
                    raise _BadRow(f"duplicate URN {urn} (first on line {first_line[urn]})")
                inspections = []
                if have_card:
                    card = _inspection(get, "report-card", CARD, CARD_COLUMNS)
                    if card:
                        inspections.append(card)
                if have_legacy:
                    legacy = _inspection(get, "legacy", LEGACY, LEGACY_COLUMNS)
                    if legacy:
                        inspections.append(legacy)
                name = get(SCHOOL["name"])
                if len(name) > MAX_NAME:
                    raise _BadRow(f"School name is over {MAX_NAME} characters")
            except _BadRow as exc:
                parsed.skipped.append(Skip(line, urn_text[:20] or None, str(exc), bad=True))
                continue
            first_line[urn] = line
            parsed.records.append({
                "line": line, "urn": urn, "name": name, "la": get(SCHOOL["la"]),
                "region": get(SCHOOL["region"]), "phase": map_phase(get(SCHOOL["phase"])),
                "postcode": get(SCHOOL["postcode"]).upper()[:10] or None,
                "inspections": inspections})
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is neither UTF-8 nor Windows-1252 text ({exc.reason})"
                           ) from None
    finally:
        raw.close()
    if progress is not None:
        progress(path.stat().st_size)
    return parsed


def _inspection(get: Callable[[str], str], framework: str, cols: dict[str, str],
                areas: dict[str, Any]) -> dict[str, Any] | None:
    grades: dict[str, tuple[int, dt.date | None]] = {}
    start = parse_mi_date(get(cols["start"]), cols["start"])
    if framework == "report-card":
        for slug, (gcol, dcol) in areas.items():
            grade = _card_grade(get(gcol), gcol)
            when = parse_mi_date(get(dcol), dcol)
            if grade is not None:
                grades[slug] = (grade, when or start)
    else:
        for slug, gcol in areas.items():
            grade = _legacy_grade(get(gcol), gcol)
            if grade is not None:
                grades[slug] = (grade, start)
    safeguarding = _safeguarding(get(cols["safeguarding"]), cols["safeguarding"])
    published = parse_mi_date(get(cols["published"]), cols["published"])
    number = get(cols["number"])
    if number.lower() in BLANKS:
        number = ""
    if not grades and safeguarding is None and not number and start is None:
        return None  # no inspection of this kind
    if start is None:
        raise _BadRow(f"{cols['start']} is missing for inspection {number or '(no number)'}")
    if published is not None and published < start:
        raise _BadRow(f"{cols['published']} {published:%d/%m/%Y} is before the inspection "
                      f"started ({start:%d/%m/%Y})")
    return {"framework": framework, "number": number or None,
            "type": get(cols["type"])[:MAX_NAME] or None, "start": start,
            "published": published, "safeguarding": safeguarding,
            "category": _category(get(cols["category"])), "grades": grades}


def bad_rows(parsed: Parsed) -> list[Skip]:
    return [s for s in parsed.skipped if s.bad]


def _ident(urn: int, framework: str, number: str | None, start: Any) -> tuple[Any, ...]:
    return (urn, framework, "n", number) if number else (urn, framework, "d", str(start))


def apply(session: Any, parsed: Parsed, *, add_schools: bool = False) -> ImportResult:
    """Upsert the parsed inspections in the caller's transaction."""
    from sqlalchemy import insert, select

    from s2s_cli import audit
    from s2s_cli.models import LocalAuthority, Region, School

    t_s = School.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    result = ImportResult(parsed=parsed)
    known = {r[0] for r in conn.execute(select(t_s.c.urn))}

    records = []
    new_schools: list[dict[str, Any]] = []
    las = {name.lower(): lid for lid, name in conn.execute(
        select(LocalAuthority.__table__.c.id, LocalAuthority.__table__.c.name))}  # type: ignore[attr-defined]
    regions = {name.lower(): rid for rid, name in conn.execute(
        select(Region.__table__.c.id, Region.__table__.c.name))}  # type: ignore[attr-defined]
    for rec in parsed.records:
        if rec["urn"] in known:
            records.append(rec)
            continue
        if not add_schools:
            result.unknown_schools += 1
            result.unknown.append(Skip(rec["line"], str(rec["urn"]),
                                       f"no school with URN {rec['urn']} (--add-schools "
                                       "creates it)"))
            continue
        la_id = las.get(rec["la"].lower())
        if la_id is None:
            region = {r.lower(): r for r in taxonomy.REGIONS}.get(rec["region"].lower())
            if not rec["la"] or region is None:
                result.unknown.append(Skip(rec["line"], str(rec["urn"]), "cannot add the "
                                           "school: no known local authority or English "
                                           "region in the row", bad=True))
                continue
            rid = regions.get(region.lower())
            if rid is None:
                rid = conn.execute(insert(Region.__table__).values(name=region)  # type: ignore[attr-defined]
                                   ).inserted_primary_key[0]
                regions[region.lower()] = rid
                audit.record(session, "region", str(rid), "insert", None, {"name": region})
            values = {"name": rec["la"], "code": None, "region_id": rid}
            la_id = conn.execute(insert(LocalAuthority.__table__).values(**values)  # type: ignore[attr-defined]
                                 ).inserted_primary_key[0]
            las[rec["la"].lower()] = la_id
            audit.record(session, "local_authority", str(la_id), "insert", None, values)
        if not rec["name"]:
            result.unknown.append(Skip(rec["line"], str(rec["urn"]), "cannot add the school: "
                                       "no School name", bad=True))
            continue
        new_schools.append({"urn": rec["urn"], "name": rec["name"], "la_id": la_id,
                            "phase": rec["phase"], "postcode": rec["postcode"],
                            "status": "open", "teaching_school": False,
                            "teaching_school_hub": False, "national_support_school": False})
        known.add(rec["urn"])
        records.append(rec)
    if new_schools:
        conn.execute(insert(t_s), new_schools)
        audit.record_many(session, "school", [
            (str(s["urn"]), "insert", None, {k: v for k, v in s.items() if v is not None})
            for s in new_schools])
        result.schools_added = len(new_schools)

    changed_any = upsert_inspections(session, records, result)
    if changed_any or new_schools:
        audit.record(session, "inspection", "ofsted", "load", None, {
            "file": Path(parsed.path).name, "added": result.added, "updated": result.updated,
            "unchanged": result.unchanged, "skipped": len(result.skipped()),
            "schools_added": result.schools_added})
    return result


def upsert_inspections(session: Any, records: list[dict[str, Any]], result: Any) -> bool:
    """Store each record's inspections (`{"urn", "inspections": [...]}` as `read` makes them)
    in the caller's transaction, keeping history: an inspection is known by its number (else
    its framework and start date) among those from Ofsted (source 'ofsted'); a new one is
    added, a known one updated when it differs, else counted unchanged (`result.added`,
    `.updated`, `.unchanged`).  One audit row per inspection added or changed; True when
    anything was written.  A school's single grade kept as an undated legacy inspection
    (source 'directory') becomes the first legacy inspection of the same overall grade that
    arrives (counted as added).  `import ofsted` and `seed load` (a seed's `inspections:`)
    both store through here."""
    from sqlalchemy import and_, bindparam, delete, insert, select, update

    from s2s_cli import audit
    from s2s_cli.models import Inspection, InspectionGrade
    from s2s_cli.services.requests import as_date

    t_i = Inspection.__table__  # type: ignore[attr-defined]
    t_g = InspectionGrade.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    # What s2s already holds for these schools.
    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in conn.execute(select(t_i.c.id, t_i.c.school_urn, t_i.c.framework, t_i.c.number,
                                   *[t_i.c[f] for f in INSPECTION_FIELDS])
                            .where(t_i.c.source == "ofsted")):
        iid, urn, framework, number, *rest = row
        values = dict(zip(INSPECTION_FIELDS, rest, strict=True))
        values["start"], values["published"] = as_date(values["start"]), as_date(
            values["published"])
        existing[_ident(urn, framework, number, values["start"])] = {
            "id": iid, "number": number, **values, "grades": {}}
    by_id = {v["id"]: v for v in existing.values()}
    for iid, area, grade, graded_on in conn.execute(
            select(t_g.c.inspection_id, t_g.c.area, t_g.c.grade, t_g.c.graded_on)):
        if iid in by_id:
            by_id[iid]["grades"][area] = (grade, as_date(graded_on))

    # A single grade kept as an undated legacy inspection (source 'directory': migration
    # 0004_reportcards, a seed's `ofsted:`) is that school's legacy inspection of the same
    # overall grade when one arrives: the placeholder becomes it, so history holds it once.
    placeholders: dict[int, tuple[int, int | None]] = {}
    for iid, urn, grade in conn.execute(
            select(t_i.c.id, t_i.c.school_urn, t_g.c.grade)
            .select_from(t_i.outerjoin(t_g, and_(t_g.c.inspection_id == t_i.c.id,
                                                 t_g.c.area == "overall-effectiveness")))
            .where(t_i.c.source == "directory", t_i.c.framework == "legacy").order_by(t_i.c.id)):
        placeholders.setdefault(urn, (iid, grade))

    to_add: list[dict[str, Any]] = []
    add_grades: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    claimed: list[dict[str, Any]] = []
    regrade: list[int] = []
    audits: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for rec in records:
        for insp in rec["inspections"]:
            ident = _ident(rec["urn"], insp["framework"], insp["number"], insp["start"])
            values = {f: insp[f] for f in INSPECTION_FIELDS}
            old = existing.get(ident)
            held = placeholders.get(rec["urn"])
            if old is None and held is not None and insp["framework"] == "legacy" and \
                    insp["grades"].get("overall-effectiveness", (None,))[0] == held[1]:
                del placeholders[rec["urn"]]
                claimed.append({"b_id": held[0], "number": insp["number"], "source": "ofsted",
                                **values})
                regrade.append(held[0])
                add_grades.extend(_grade_rows(held[0], insp["grades"]))
                audits.append((str(held[0]), "update", {
                    "source": "directory",
                    "grades": {"overall-effectiveness": [held[1], None]}}, {
                    **{k: v for k, v in values.items() if v is not None},
                    "number": insp["number"], "source": "ofsted",
                    "grades": _grades_json(insp["grades"])}))
                result.added += 1
                continue
            if old is None:
                to_add.append({"school_urn": rec["urn"], "framework": insp["framework"],
                               "number": insp["number"], "source": "ofsted", **values,
                               "_grades": insp["grades"]})
                continue
            diff = {k: v for k, v in values.items() if old[k] != v}
            grades_differ = old["grades"] != insp["grades"]
            if not diff and not grades_differ:
                result.unchanged += 1
                continue
            result.updated += 1
            changed.append({"b_id": old["id"], **values})
            if grades_differ:
                regrade.append(old["id"])
                add_grades.extend(_grade_rows(old["id"], insp["grades"]))
                diff["grades"] = _grades_json(insp["grades"])
            before = {k: old[k] for k in diff if k != "grades"}
            if grades_differ:
                before["grades"] = _grades_json(old["grades"])
            audits.append((str(old["id"]), "update", before, diff))
    if to_add:
        rows = [{k: v for k, v in r.items() if k != "_grades"} for r in to_add]
        for i in range(0, len(rows), 5000):
            chunk = rows[i:i + 5000]
            ids = conn.execute(insert(t_i).returning(t_i.c.id, sort_by_parameter_order=True),
                               chunk).scalars().all()
            for iid, row, src in zip(ids, chunk, to_add[i:i + 5000], strict=True):
                add_grades.extend(_grade_rows(iid, src["_grades"]))
                audits.append((str(iid), "insert", None, {
                    **{k: v for k, v in row.items() if v is not None},
                    "grades": _grades_json(src["_grades"])}))
        result.added += len(rows)
    if changed:
        stmt = (update(t_i).where(t_i.c.id == bindparam("b_id"))
                .values({f: bindparam(f) for f in INSPECTION_FIELDS}))
        conn.execute(stmt, changed)
    if claimed:
        stmt = (update(t_i).where(t_i.c.id == bindparam("b_id"))
                .values({f: bindparam(f) for f in (*INSPECTION_FIELDS, "number", "source")}))
        conn.execute(stmt, claimed)
    for i in range(0, len(regrade), 500):
        conn.execute(delete(t_g).where(t_g.c.inspection_id.in_(regrade[i:i + 500])))
    for i in range(0, len(add_grades), 5000):
        conn.execute(insert(t_g), add_grades[i:i + 5000])
    audit.record_many(session, "inspection", audits)
    return bool(audits)


def keep_single_grades(session: Any, grades: dict[int, str]) -> tuple[int, int, int]:
    """A directory's single Ofsted word per school (a seed's `ofsted:`) kept as a legacy
    inspection, as migration 0004_reportcards kept every `school.ofsted`: source 'directory',
    overall effectiveness graded 1-4, no date.  A school that has such an inspection has its
    grade brought in line with the word; a school whose inspections already include a legacy
    one of that overall grade gets none (the word is that inspection's); otherwise one is
    added.  Nothing is deleted.  Returns (added, updated, unchanged); audited."""
    from sqlalchemy import and_, insert, select, update

    from s2s_cli import audit
    from s2s_cli.models import Inspection, InspectionGrade

    t_i = Inspection.__table__  # type: ignore[attr-defined]
    t_g = InspectionGrade.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    area = "overall-effectiveness"
    held: dict[int, list[tuple[int, str, int | None]]] = {}
    for iid, urn, source, grade in conn.execute(
            select(t_i.c.id, t_i.c.school_urn, t_i.c.source, t_g.c.grade)
            .select_from(t_i.outerjoin(t_g, and_(t_g.c.inspection_id == t_i.c.id,
                                                 t_g.c.area == area)))
            .where(t_i.c.framework == "legacy").order_by(t_i.c.id)):
        if urn in grades:
            held.setdefault(urn, []).append((iid, source, grade))
    updated = unchanged = 0
    new: list[tuple[int, int]] = []
    audits: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for urn, word in sorted(grades.items()):
        want = taxonomy.OFSTED_GRADES.index(word) + 1
        mine = [h for h in held.get(urn, []) if h[1] == "directory"]
        if mine:
            iid, _, grade = mine[0]
            if grade == want:
                unchanged += 1
                continue
            if grade is None:
                conn.execute(insert(t_g).values(inspection_id=iid, area=area, grade=want))
            else:
                conn.execute(update(t_g).where(t_g.c.inspection_id == iid, t_g.c.area == area)
                             .values(grade=want))
            audits.append((str(iid), "update", {"grades": {area: [grade, None]}},
                           {"grades": {area: [want, None]}}))
            updated += 1
            continue
        if any(h[2] == want for h in held.get(urn, [])):
            unchanged += 1
            continue
        new.append((urn, want))
    for i in range(0, len(new), 5000):  # bulk: a national directory holds ~20,000 grades
        chunk = new[i:i + 5000]
        ids = conn.execute(insert(t_i).returning(t_i.c.id, sort_by_parameter_order=True), [
            {"school_urn": urn, "framework": "legacy", "source": "directory"}
            for urn, _ in chunk]).scalars().all()
        conn.execute(insert(t_g), [{"inspection_id": iid, "area": area, "grade": want}
                                   for iid, (_, want) in zip(ids, chunk, strict=True)])
        audits.extend((str(iid), "insert", None, {
            "school_urn": urn, "framework": "legacy", "source": "directory",
            "grades": {area: [want, None]}}) for iid, (urn, want) in zip(ids, chunk, strict=True))
    added = len(new)
    audit.record_many(session, "inspection", audits)
    return added, updated, unchanged


def _grade_rows(iid: int, grades: dict[str, tuple[int, dt.date | None]]) -> list[dict[str, Any]]:
    return [{"inspection_id": iid, "area": area, "grade": g, "graded_on": when}
            for area, (g, when) in grades.items()]


def _grades_json(grades: dict[str, tuple[int, dt.date | None]]) -> dict[str, Any]:
    return {area: [g, when.isoformat() if when else None] for area, (g, when) in grades.items()}


# --- reading the cards back -------------------------------------------------------------------

LATEST_CARD = ("(SELECT i2.id FROM inspection i2 WHERE i2.school_urn = {urn} AND "
               "i2.framework = 'report-card' ORDER BY i2.start DESC, i2.id DESC LIMIT 1)")


def inspections(reader: Any, urns: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every inspection of these schools, newest first (report cards before legacy history
    of the same date), each with its grades {area: {grade, score, date}}."""
    from s2s_cli.services.requests import as_date, in_chunks

    out: dict[int, list[dict[str, Any]]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for (iid, urn, framework, number, itype, start, published, safeguarding, category,
         source) in in_chunks(
            reader, "SELECT id, school_urn, framework, number, type, start, published, "
            "safeguarding, category, source FROM inspection WHERE school_urn IN ({ids})", urns):
        rec = {"id": iid, "framework": framework, "number": number, "type": itype,
               "start": as_date(start), "published": as_date(published),
               "safeguarding": safeguarding, "category": category, "source": source,
               "grades": {}}
        by_id[iid] = rec
        out.setdefault(urn, []).append(rec)
    for iid, area, grade, graded_on in in_chunks(
            reader, "SELECT inspection_id, area, grade, graded_on FROM inspection_grade "
            "WHERE inspection_id IN ({ids})", list(by_id)):
        rec = by_id[iid]
        rec["grades"][area] = {"grade": taxonomy.grade_word(rec["framework"], grade),
                               "score": grade, "date": as_date(graded_on)}
    order = {fw: {slug: i for i, (slug, _) in enumerate(areas)} for fw, areas in (
        ("report-card", taxonomy.REPORT_CARD_AREAS), ("legacy", taxonomy.LEGACY_AREAS))}
    for recs in out.values():
        for rec in recs:
            rank = order.get(rec["framework"], {})
            rec["grades"] = dict(sorted(rec["grades"].items(),
                                        key=lambda kv, rank=rank: (rank.get(kv[0], 99), kv[0])))
        recs.sort(key=lambda r: (r["framework"] != "report-card" or r["start"] is None,
                                 -(r["start"] or dt.date.min).toordinal(), -r["id"]))
    return out


def card_json(rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """An inspection as JSON (dates ISO)."""
    if rec is None:
        return None

    def iso(d: Any) -> Any:
        return d.isoformat() if d else None

    return {"framework": rec["framework"], "number": rec["number"], "type": rec["type"],
            "start": iso(rec["start"]), "published": iso(rec["published"]),
            "safeguarding": rec["safeguarding"], "category_of_concern": rec["category"],
            "source": rec["source"],
            "grades": {a: {"grade": g["grade"], "score": g["score"], "date": iso(g["date"])}
                       for a, g in rec["grades"].items()}}


def parse_grade_below(text: str) -> tuple[str | None, int]:
    """`AREA=GRADE` -> (area slug or None for any area, grade 1-5): schools whose latest report
    card grades that area (any area) *worse* than GRADE."""
    area_text, sep, grade_text = text.partition("=")
    if not sep or not grade_text.strip():
        raise InvalidInput(f"--grade-below must look like AREA=GRADE (e.g. "
                           f"leadership-and-governance='expected standard'), not '{text[:60]}'")
    area: str | None = None
    if area_text.strip().lower() not in ("any", "*", ""):
        area = taxonomy.lookup_area(area_text)
        if area is None:
            raise InvalidInput(f"unknown report-card area '{area_text.strip()[:60]}': use any or "
                               + ", ".join(s for s, _ in taxonomy.REPORT_CARD_AREAS))
    grade = taxonomy.lookup_grade(grade_text)
    if grade is None:
        raise InvalidInput(f"unknown report-card grade '{grade_text.strip()[:60]}': use one of "
                           + ", ".join(taxonomy.REPORT_CARD_GRADES) + " (or 1-5)")
    return area, grade


def grade_below_sql(urn_col: str, area: str | None, grade: int, params: dict[str, Any],
                    n: int = 0) -> str:
    """A WHERE condition: the school's latest report card grades `area` worse than `grade`."""
    params[f"gb_grade{n}"] = grade
    cond = (f"EXISTS (SELECT 1 FROM inspection_grade gb{n} WHERE gb{n}.inspection_id = "
            f"{LATEST_CARD.format(urn=urn_col)} AND gb{n}.grade > :gb_grade{n}")
    if area:
        params[f"gb_area{n}"] = area
        cond += f" AND gb{n}.area = :gb_area{n}"
    return cond + ")"
