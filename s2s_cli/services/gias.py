"""Keep the schools in step with the national register, Get Information about Schools (GIAS).

The GIAS "establishment fields" extract is a CSV of ~50,000 rows and 130+ columns.  Columns are
read by *name* (their order and number change from year to year; extra columns are ignored).
Encoding: GIAS ships Windows-1252; a file that is valid UTF-8 throughout (with or without a
BOM, e.g. re-saved by a spreadsheet) is read as UTF-8 instead.

Reading (`read`) validates every row before anything is written; `apply` then upserts schools
by URN in the caller's transaction with Core bulk statements (one SELECT of the existing
schools, one executemany insert, one executemany update).  It sets name, local authority,
phase, type, trust, pupils, postcode and status; it never touches a school's teaching school /
hub / national support school flags or its Ofsted grade, nor any leader or work record.  A
blank or unmappable phase, type, pupil count or postcode keeps what s2s holds; a blank trust
clears it (the school has left its trust).  Missing local authorities (and regions) are created
from `LA (code)`, `LA (name)` and `GOR (name)`.  Rows outside England's nine regions (Welsh
establishments, `GOR (name)` = "Wales (pseudo)", offshore schools) are skipped with a reason."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2s_cli import taxonomy
from s2s_cli.errors import InvalidInput

# our field -> GIAS column name
COLUMNS = {
    "urn": "URN", "name": "EstablishmentName", "la_code": "LA (code)", "la": "LA (name)",
    "region": "GOR (name)", "phase": "PhaseOfEducation (name)",
    "type": "TypeOfEstablishment (name)", "pupils": "NumberOfPupils", "trust": "Trusts (name)",
    "postcode": "Postcode", "status": "EstablishmentStatus (name)",
    # GIAS as it is now (2025-26 extracts; older ones lack some: what is absent is kept)
    "street": "Street", "locality": "Locality", "address3": "Address3", "town": "Town",
    "county": "County (name)", "phone": "TelephoneNum", "website": "SchoolWebsite",
    "trust_uid": "Trusts (code)", "trust_flag": "TrustSchoolFlag (name)",
    "easting": "Easting", "northing": "Northing",
}
ADDRESS_FIELDS = ("street", "locality", "address3", "town", "county", "phone", "website")
MAX_NAME = 200  # EstablishmentName, Trusts (name)
MAX_TEXT = 500  # any other cell read
# British National Grid, metres: the bounds of the grid
GRID = {"easting": 700_000, "northing": 1_300_000}
REQUIRED = ("urn", "name", "la", "region")
OPEN_STATUSES = ("open", "open, but proposed to close")
MAX_SHOWN = 50  # skipped rows listed on stderr (JSON lists them all)
SCHOOL_FIELDS = ("name", "la_id", "phase", "type", "trust", "pupils", "postcode", "status",
                 *ADDRESS_FIELDS, "trust_uid", "easting", "northing")
KEEP_WHEN_SILENT = ("phase", "type", "pupils", "postcode", *ADDRESS_FIELDS, "easting",
                    "northing")


class _BadCell(Exception):
    pass


def _number(text: str, what: str, maximum: int) -> int | None:
    """A cell that must be a whole number: blank is None; anything else that is not ASCII
    digits ('²', '1,2') or is out of range (25 nines) makes the row bad."""
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,12}", text) or int(text) > maximum:
        raise _BadCell(f"{what} '{text[:30]}' is not a whole number (0-{maximum:,})")
    return int(text)


def trust_type(flag: str) -> str | None:
    """TrustSchoolFlag (name) -> the trust's type."""
    f = flag.strip().lower()
    if "multi-academy" in f:
        return "multi-academy trust"
    if "single-academy" in f:
        return "single-academy trust"
    if "trust" in f and not f.startswith("not"):
        return "trust"
    return None


def _same_la_name(a: str, b: str) -> bool:
    def norm(x: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", x.lower()).strip()
    return norm(a) == norm(b)

_PHASES = {
    "nursery": "nursery", "primary": "primary", "middle deemed primary": "middle",
    "middle deemed secondary": "middle", "secondary": "secondary", "all-through": "all-through",
    "all through": "all-through", "16 plus": "16 plus",
}
_TYPES = {
    "community school": "community school",
    "voluntary aided school": "voluntary aided school",
    "voluntary controlled school": "voluntary controlled school",
    "foundation school": "foundation school",
    "community special school": "special school",
    "foundation special school": "special school",
    "non-maintained special school": "special school",
    "other independent special school": "independent school",
    "other independent school": "independent school",
    "pupil referral unit": "pupil referral unit",
    "university technical college": "free school",
    "studio schools": "free school",
}
_POST16_TYPES = ("further education", "sixth form centres", "special post 16 institution")


def map_type(gias_type: str) -> str | None:
    """A GIAS TypeOfEstablishment name -> the s2s school type (seed.SCHOOL_TYPES)."""
    t = gias_type.strip().lower()
    if not t:
        return None
    if t in _TYPES:
        return _TYPES[t]
    if t.startswith("academy"):
        return "academy"
    if t.startswith("free school"):
        return "free school"
    return "other"


def map_phase(gias_phase: str, gias_type: str) -> str | None:
    """The s2s phase.  Special schools are `special` and pupil referral units / alternative
    provision `alternative provision` whatever their phase; otherwise the GIAS phase, and for
    "Not applicable" a phase read from the type (nursery, 16 plus) or none."""
    t = gias_type.strip().lower()
    if "special" in t and "post 16" not in t:
        return "special"
    if t == "pupil referral unit" or "alternative provision" in t:
        return "alternative provision"
    p = gias_phase.strip().lower()
    if p in _PHASES:
        return _PHASES[p]
    if "nursery" in t:
        return "nursery"
    if t in _POST16_TYPES or "16 to 19" in t or "16-19" in t:
        return "16 plus"
    return None


@dataclass
class Skip:
    line: int
    urn: str | None
    reason: str
    bad: bool = False  # a malformed row (what --strict refuses), not merely out of scope

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "urn": self.urn, "reason": self.reason, "bad": self.bad}


@dataclass
class Parsed:
    path: str
    encoding: str
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    filtered: int = 0
    rows: int = 0


@dataclass
class ImportResult:
    parsed: Parsed
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    las_added: list[str] = field(default_factory=list)
    regions_added: list[str] = field(default_factory=list)
    trusts_added: int = 0
    trusts_updated: int = 0

    def summary(self) -> dict[str, Any]:
        p = self.parsed
        return {"file": p.path, "encoding": p.encoding, "rows": p.rows, "added": self.added,
                "updated": self.updated, "unchanged": self.unchanged,
                "skipped": len(p.skipped), "filtered": p.filtered,
                "local_authorities_added": self.las_added, "regions_added": self.regions_added,
                "trusts_added": self.trusts_added, "trusts_updated": self.trusts_updated,
                "skipped_rows": [s.as_dict() for s in p.skipped]}


class GiasErrors(InvalidInput):
    """--strict: bad rows found, nothing written (exit 2).  Lists FILE:LINE: problem."""

    def __init__(self, path: str, bad: list[Skip]) -> None:
        self.problems = [f"{path}:{s.line}: {s.reason}" for s in bad[:MAX_SHOWN]]
        more = f" (showing the first {MAX_SHOWN})" if len(bad) > MAX_SHOWN else ""
        super().__init__(f"{len(bad)} bad row(s) in {path}{more}; --strict: nothing was written")

    def show(self, file: Any = None) -> None:
        import typer

        for line in self.problems:
            typer.echo(line, err=True)
        typer.echo(f"Error: {self.message}", err=True)


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when the whole file is valid UTF-8 (BOM or not), else 'cp1252' (GIAS)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _open(path: Path) -> Any:
    try:
        if path.is_dir():
            raise InvalidInput(f"{path} is a folder, not a GIAS extract")
        return path.open("rb")
    except FileNotFoundError as exc:
        raise InvalidInput(f"no such file: {path}") from exc
    except PermissionError as exc:
        raise InvalidInput(f"cannot read {path}: permission denied") from exc


def resolve_regions(names: list[str] | None) -> set[str]:
    out = set()
    canon = {r.lower(): r for r in taxonomy.REGIONS}
    for name in names or []:
        hit = canon.get(name.strip().lower())
        if hit is None:
            hint = taxonomy.suggest(name.strip(), taxonomy.REGIONS)
            raise InvalidInput(f"unknown region '{name}'" + (
                f" (did you mean '{hint}'?)" if hint else
                f": use one of {', '.join(taxonomy.REGIONS)}"))
        out.add(hit)
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _clean(text: str) -> str:
    text = text.strip()
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text).strip()
    return text


def check_las(las: list[str] | None, *, in_file: dict[str, str], file_codes: set[str],
              known: Iterable[tuple[Any, str]], path: Path) -> None:
    """Each --la must name (or give the code of) a local authority s2s knows - in the database
    (`known`: (code, name) pairs) or in the file - else it is a typo: InvalidInput with a
    "did you mean"."""
    names = dict(in_file)
    codes = set(file_codes)
    for code, name in known:
        names.setdefault(str(name).lower(), str(name))
        if code is not None:
            codes.add(str(code))
    for la in las or []:
        term = _clean(la)
        if not term or term.lower() in names or term in codes:
            continue
        hint = taxonomy.suggest(term, sorted(names.values()))
        raise InvalidInput(f"unknown local authority '{term[:100]}': not in the database or "
                           f"{path.name}" + (f" (did you mean '{hint}'?)" if hint else ""))


def read(path: Path, *, las: list[str] | None = None, regions: list[str] | None = None,
         open_only: bool = False, progress: Callable[[int], None] | None = None,
         known_las: Iterable[tuple[Any, str]] = ()) -> Parsed:
    """Read and check the whole extract.  `las` (names or codes) and `regions` keep only those
    rows (the others count as `filtered`); `progress(bytes_read)` is called now and then.
    A region that is not one of England's nine, or a local authority neither in `known_las`
    (the database's (code, name) pairs) nor in the file, is refused (InvalidInput).  A row
    whose `LA (code)` names another local authority than s2s (or an earlier row) gives that
    code is bad; so is a cell that should be a number and is not, or over-long text."""
    known_las = list(known_las)
    code_name: dict[str, tuple[str, int | None]] = {  # LA code -> (name, first line or None)
        str(code): (str(name), None) for code, name in known_las if code is not None}
    want_regions = resolve_regions(regions)
    want_las = {_clean(la).lower() for la in las or [] if _clean(la)}
    la_names: dict[str, str] = {}  # every LA in the file, for checking --la
    la_codes: set[str] = set()
    region_names = {r.lower(): r for r in taxonomy.REGIONS}
    encoding = detect_encoding(path) if path.is_file() else "utf-8-sig"
    raw = _open(path)
    parsed = Parsed(path=str(path), encoding="windows-1252" if encoding == "cp1252" else "utf-8")
    first_line: dict[int, int] = {}
    try:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise InvalidInput(f"{path} is empty, not a GIAS extract") from None
        except csv.Error as exc:
            raise InvalidInput(f"{path}:1: not a CSV file ({exc})") from None
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            key = name.strip().lstrip("\ufeff")
            if key and key in index:
                raise InvalidInput(f"{path}:1: column '{key[:60]}' appears twice in the header")
            index[key] = i
        missing = [COLUMNS[k] for k in REQUIRED if COLUMNS[k] not in index]
        if missing:
            raise InvalidInput(f"{path}:1: not a GIAS establishment extract: no column(s) "
                               + ", ".join(repr(m) for m in missing))
        pos = {key: index.get(col) for key, col in COLUMNS.items()}
        width = len(header)
        prev_line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise InvalidInput(f"{path}:{reader.line_num}: unreadable CSV ({exc})") from None
            line, prev_line = prev_line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line
            parsed.rows += 1
            if progress is not None and parsed.rows % 2000 == 0:
                progress(raw.tell())
            if len(row) < width:
                row = row + [""] * (width - len(row))

            def get(key: str, row: list[str] = row) -> str:
                i = pos[key]
                return _clean(row[i]) if i is not None else ""

            urn_text, gor, la_name, la_code = get("urn"), get("region"), get("la"), get("la_code")
            if la_code and not re.fullmatch(r"[0-9]{1,4}", la_code):
                parsed.skipped.append(Skip(line, urn_text[:20] or None, f"LA (code) "
                                           f"'{la_code[:30]}' is not a number", bad=True))
                continue
            if la_name:
                la_names.setdefault(la_name.lower(), la_name)
            if la_code:
                la_codes.add(la_code)
            if want_regions and region_names.get(gor.lower()) not in want_regions:
                parsed.filtered += 1
                continue
            if want_las and la_name.lower() not in want_las and la_code not in want_las:
                parsed.filtered += 1
                continue
            if not urn_text:
                parsed.skipped.append(Skip(line, None, "missing URN", bad=True))
                continue
            if not re.fullmatch(r"\d{6}", urn_text):
                parsed.skipped.append(Skip(line, urn_text, f"invalid URN '{urn_text[:20]}' "
                                           "(6 digits expected)", bad=True))
                continue
            urn = int(urn_text)
            name = get("name")
            if not name:
                parsed.skipped.append(Skip(line, urn_text, "missing EstablishmentName", bad=True))
                continue
            long_cell = next((k for k, i in pos.items() if i is not None and i < len(row)
                              and len(row[i]) > (MAX_NAME if k in ("name", "trust")
                                                 else MAX_TEXT)), None)
            if long_cell:
                limit = MAX_NAME if long_cell in ("name", "trust") else MAX_TEXT
                parsed.skipped.append(Skip(line, urn_text, f"{COLUMNS[long_cell]} is "
                                           f"{len(row[pos[long_cell]]):,} characters (at most "
                                           f"{limit})", bad=True))
                continue
            try:
                pupils = _number(get("pupils"), "NumberOfPupils", 100_000)
                easting = _number(get("easting"), "Easting", GRID["easting"])
                northing = _number(get("northing"), "Northing", GRID["northing"])
                trust_uid = get("trust_uid")
                if trust_uid and not re.fullmatch(r"[0-9]{1,10}", trust_uid):
                    raise _BadCell(f"Trusts (code) '{trust_uid[:30]}' is not a trust UID")
            except _BadCell as exc:
                parsed.skipped.append(Skip(line, urn_text, str(exc), bad=True))
                continue
            if la_code and la_name:
                seen = code_name.get(la_code)
                if seen is None:
                    code_name[la_code] = (la_name, line)
                elif not _same_la_name(seen[0], la_name):
                    where = f"line {seen[1]}" if seen[1] else "s2s"
                    parsed.skipped.append(Skip(line, urn_text, f"LA (code) {la_code} is "
                                               f"{seen[0]} ({where}), not {la_name[:60]}",
                                               bad=True))
                    continue
            if urn in first_line:
                parsed.skipped.append(Skip(line, urn_text, f"duplicate URN {urn} (first on "
                                           f"line {first_line[urn]})", bad=True))
                continue
            first_line[urn] = line
            region = region_names.get(gor.lower())
            if region is None:
                what = f"GOR (name) '{gor}'" if gor else "no GOR (name)"
                parsed.skipped.append(Skip(line, urn_text, f"not in an English region ({what})"))
                continue
            if not la_name:
                parsed.skipped.append(Skip(line, urn_text, "missing LA (name)", bad=True))
                continue
            status_text = get("status")
            status = status_text.lower() or "open"
            if open_only and status not in OPEN_STATUSES:
                parsed.skipped.append(Skip(line, urn_text, f"status '{status_text}' "
                                           "(--open-only)"))
                continue
            gias_type = get("type")
            trust_name = get("trust") or None
            parsed.records.append({
                "line": line, "urn": urn, "name": name, "la": la_name,
                "la_code": int(la_code) if la_code.isdigit() and 0 < int(la_code) < 1000
                else None,
                "region": region, "phase": map_phase(get("phase"), gias_type),
                "type": map_type(gias_type), "trust": trust_name,
                "pupils": pupils, "postcode": get("postcode").upper()[:10] or None,
                "status": status, "easting": easting, "northing": northing,
                "trust_uid": trust_uid or None,
                "trust_type": trust_type(get("trust_flag")) if trust_uid else None,
                **{k: (get(k) or None) for k in ADDRESS_FIELDS},
            })
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is neither UTF-8 nor Windows-1252 text ({exc.reason})"
                           ) from None
    finally:
        raw.close()
    if want_las:
        check_las(las, in_file=la_names, file_codes=la_codes, known=known_las, path=path)
    if progress is not None:
        progress(path.stat().st_size)
    return parsed


def bad_rows(parsed: Parsed) -> list[Skip]:
    return [s for s in parsed.skipped if s.bad]


def apply(session: Any, parsed: Parsed) -> ImportResult:
    """Upsert the parsed schools in the caller's transaction (Core bulk statements).  Every
    added or changed school gets its own audit row (before/after), written in one executemany:
    measured on 50,000 rows, one `audit.record` call per school cost 2.4 s, the executemany
    about 0.3 s; a summary row (action 'load') records the file and the counts."""
    from sqlalchemy import bindparam, insert, select, update

    from s2s_cli import audit
    from s2s_cli.models import LocalAuthority, Region, School

    t_region = Region.__table__  # type: ignore[attr-defined]
    t_la = LocalAuthority.__table__  # type: ignore[attr-defined]
    t_school = School.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    result = ImportResult(parsed=parsed)

    regions = {name.lower(): rid for rid, name in conn.execute(
        select(t_region.c.id, t_region.c.name))}
    by_code: dict[int, int] = {}
    by_name: dict[str, int] = {}
    code_of: dict[int, int | None] = {}
    for lid, code, name in conn.execute(select(t_la.c.id, t_la.c.code, t_la.c.name)):
        if code is not None:
            by_code[int(code)] = lid
        by_name[name.lower()] = lid
        code_of[lid] = code

    def region_id(name: str) -> int:
        if name.lower() not in regions:
            rid = conn.execute(insert(t_region).values(name=name)).inserted_primary_key[0]
            regions[name.lower()] = rid
            audit.record(session, "region", str(rid), "insert", None, {"name": name})
            result.regions_added.append(name)
        return regions[name.lower()]

    def create_la(name: str, code: int | None, region: str) -> int:
        values = {"name": name, "code": code, "region_id": region_id(region)}
        lid = int(conn.execute(insert(t_la).values(**values)).inserted_primary_key[0])
        audit.record(session, "local_authority", str(lid), "insert", None, values)
        by_name[name.lower()] = lid
        if code is not None:
            by_code[code] = lid
        result.las_added.append(name)
        return lid

    # Each LA code new to s2s is settled once, from the first row carrying it, so every row
    # with that code lands on the same LA whatever the row order (and again on re-import).
    for rec in parsed.records:
        code = rec["la_code"]
        if code is None or code in by_code:
            continue
        lid = by_name.get(rec["la"].lower())
        if lid is None:
            create_la(rec["la"], code, rec["region"])
            continue
        if code_of.get(lid) is None:  # known by name only: record its code
            conn.execute(update(t_la).where(t_la.c.id == lid).values(code=code))
            audit.record(session, "local_authority", str(lid), "update", {"code": None},
                         {"code": code})
            code_of[lid] = code
        by_code[code] = lid

    def la_id(rec: dict[str, Any]) -> int:
        code = rec["la_code"]
        if code is not None:
            return by_code[code]
        lid = by_name.get(rec["la"].lower())
        return lid if lid is not None else create_la(rec["la"], None, rec["region"])

    seen_trusts: dict[str, tuple[str, str | None]] = {}
    for rec in parsed.records:
        if rec["trust_uid"] and rec["trust_uid"] not in seen_trusts:
            seen_trusts[rec["trust_uid"]] = (rec["trust"] or rec["trust_uid"], rec["trust_type"])
    result.trusts_added, result.trusts_updated, _ = upsert_trusts(session, seen_trusts)
    trust_audits = result.trusts_added + result.trusts_updated

    existing = {row[0]: row[1:] for row in conn.execute(
        select(t_school.c.urn, *[t_school.c[f] for f in SCHOOL_FIELDS]))}
    new_rows: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    audits: list[tuple[str, str, dict[str, Any] | None, dict[str, Any]]] = []
    for rec in parsed.records:
        values = {"la_id": la_id(rec), **{f: rec[f] for f in SCHOOL_FIELDS if f != "la_id"}}
        old_row = existing.get(rec["urn"])
        if old_row is None:
            new_rows.append({"urn": rec["urn"], **values, "ofsted": None,
                             "teaching_school": False, "teaching_school_hub": False,
                             "national_support_school": False})
            audits.append((str(rec["urn"]), "insert", None, {"urn": rec["urn"], **values}))
            continue
        old = dict(zip(SCHOOL_FIELDS, old_row, strict=True))
        for keep in KEEP_WHEN_SILENT:  # GIAS silent: keep ours
            if values[keep] is None:
                values[keep] = old[keep]
        diff = {k: v for k, v in values.items() if old[k] != v}
        if not diff:
            result.unchanged += 1
            continue
        changed.append({"b_urn": rec["urn"], **values})
        audits.append((str(rec["urn"]), "update", {k: old[k] for k in diff}, diff))
    result.added, result.updated = len(new_rows), len(changed)
    for i in range(0, len(new_rows), 5000):
        conn.execute(insert(t_school), new_rows[i:i + 5000])
    if changed:
        stmt = (update(t_school).where(t_school.c.urn == bindparam("b_urn"))
                .values({f: bindparam(f) for f in SCHOOL_FIELDS}))
        for i in range(0, len(changed), 5000):
            conn.execute(stmt, changed[i:i + 5000])
    audit.record_many(session, "school", audits)
    if audits or result.las_added or trust_audits:
        audit.record(session, "school", "gias", "load", None, {
            "file": Path(parsed.path).name, "added": result.added, "updated": result.updated,
            "unchanged": result.unchanged, "skipped": len(parsed.skipped)})
    return result


def upsert_trusts(session: Any, trusts: dict[str, tuple[str, str | None]]
                  ) -> tuple[int, int, int]:
    """Trusts (GIAS groups) by UID -> (name, type), in the caller's transaction: added, or
    renamed / retyped when the source says otherwise (no type given keeps the stored one).
    `import gias` and `seed load` both store trusts through here.  Returns (added, updated,
    unchanged); each change audited."""
    from sqlalchemy import bindparam, insert, select, update

    from s2s_cli import audit
    from s2s_cli.models import Trust

    t_trust = Trust.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    held = {uid: (name, ttype) for uid, name, ttype in conn.execute(
        select(t_trust.c.uid, t_trust.c.name, t_trust.c.type))}
    trust_new, trust_changed, trust_audits = [], [], []
    unchanged = 0
    for uid, (name, ttype) in trusts.items():
        old = held.get(uid)
        if old is None:
            trust_new.append({"uid": uid, "name": name, "type": ttype})
            trust_audits.append((uid, "insert", None, {"uid": uid, "name": name, "type": ttype}))
        elif old != (name, ttype or old[1]):
            trust_changed.append({"b_uid": uid, "name": name, "type": ttype or old[1]})
            trust_audits.append((uid, "update", {"name": old[0], "type": old[1]},
                                 {"name": name, "type": ttype or old[1]}))
        else:
            unchanged += 1
    if trust_new:
        conn.execute(insert(t_trust), trust_new)
    if trust_changed:
        conn.execute(update(t_trust).where(t_trust.c.uid == bindparam("b_uid"))
                     .values(name=bindparam("name"), type=bindparam("type")), trust_changed)
    audit.record_many(session, "trust", trust_audits)
    return len(trust_new), len(trust_changed), unchanged
