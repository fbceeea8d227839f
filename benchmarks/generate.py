"""Generate national-scale benchmark inputs under benchmarks/work/ (cached between runs).

* national.db    an s2s SQLite database (schema made by the real Alembic migrations) holding
                 25,000 schools, 30,000 leaders with 1-3 specialisms, 100,000 deployments and
                 1,000,000 logged days (never more than one day per leader per date);
* national.yaml  the same directory (regions, local authorities, schools, leaders) as a seed
                 file for `s2s seed load`;
* gias.csv       50,000 schools in the format of the DfE's "Get Information about Schools"
                 download: Windows-1252, the real header names, many columns s2s does not use.

Usage:  .venv/bin/python benchmarks/generate.py [--force] [--work DIR]

Deterministic (fixed random seed).  Bulk rows go in with the stdlib sqlite3 `executemany`;
the secondary indexes are dropped first and rebuilt afterwards (much faster than maintaining
them row by row)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a clone without installing: the package is next door

from s2s_cli.location import SCHEMA_HEAD  # noqa: E402  (stdlib-only module)

N_SCHOOLS = 25_000
N_LEADERS = 30_000
N_DEPLOYMENTS = 100_000
N_DAYS = 1_000_000
N_GIAS = 50_000
DAYS_PER_DEPLOYMENT = N_DAYS // N_DEPLOYMENTS  # 10
FORMAT_VERSION = "4"  # bump to invalidate cached files when the generator changes

# The month the invoice benchmark drafts; every month of 2025-26 holds tens of thousands of days.
INVOICE_MONTH = "2026-03"
FIRST_DAY = dt.date(2024, 9, 2)
LAST_DAY = dt.date(2026, 7, 17)

SYLLABLES_A = ("Ash", "Bar", "Bel", "Brad", "Bram", "Brook", "Cal", "Carl", "Chel", "Clif",
               "Dar", "Dun", "East", "Elm", "Fair", "Fern", "Glen", "Gran", "Hal", "Har",
               "Hart", "Hazel", "High", "Holm", "Kings", "Lang", "Lea", "Lin", "Long", "Marl",
               "Mel", "Mill", "New", "North", "Oak", "Pen", "Queens", "Red", "Ros", "Sal",
               "South", "Stan", "Stock", "Sun", "Thorn", "Upper", "Wal", "West", "Whit", "Wil")
SYLLABLES_B = ("borough", "bridge", "brook", "bury", "by", "caster", "combe", "croft", "dale",
               "den", "field", "ford", "gate", "ham", "hill", "holme", "hurst", "ington",
               "leigh", "ley", "mere", "minster", "mouth", "ness", "port", "stead", "stow",
               "thorpe", "ton", "wick", "wood", "worth")
FIRST_NAMES = ("Amira", "Ben", "Chloe", "Daniel", "Eleanor", "Farah", "George", "Hannah",
               "Imran", "Jade", "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya",
               "Rhys", "Sophie", "Tom", "Uma", "Victoria", "William", "Yasmin", "Zoe", "Aidan",
               "Bethan", "Connor", "Deepa", "Emeka", "Fiona", "Gareth", "Helen", "Isla",
               "Joseph", "Katie", "Liam", "Megan", "Nathan", "Olivia", "Patrick")
LAST_NAMES = ("Okafor", "Hall", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson",
              "Johnson", "Davies", "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker",
              "White", "Roberts", "Green", "Hughes", "Edwards", "Hussain", "Khan", "Lewis",
              "Clarke", "Harris", "Martin", "Jackson", "Wood", "Turner", "Moore", "Cooper",
              "O'Brien", "Nowak", "Mensah", "Ahmed", "Begum", "Campbell", "Kelly", "Murphy")
SCHOOL_SUFFIX = {
    "primary": ("Primary School", "Infant School", "Junior School", "C of E Primary School",
                "Primary Academy"),
    "secondary": ("High School", "Academy", "Community College", "School", "Grammar School"),
    "nursery": ("Nursery School",), "middle": ("Middle School",),
    "all-through": ("All-Through School", "Academy"), "special": ("Special School",),
    "alternative provision": ("Pupil Referral Unit",), "16 plus": ("Sixth Form College",),
}
PHASE_WEIGHTS = (("primary", 70), ("secondary", 15), ("nursery", 2), ("middle", 1),
                 ("all-through", 2), ("special", 6), ("alternative provision", 2),
                 ("16 plus", 2))
TYPES = ("community school", "voluntary aided school", "voluntary controlled school",
         "foundation school", "academy", "free school", "special school")
OFSTED = ("outstanding", "good", "requires improvement", "inadequate")
KIND_WEIGHTS = (("SLE", 75), ("LLE", 12), ("NLE", 8), ("NLG", 5))
# Real GIAS names for the columns s2s might read, then some it ignores.
GIAS_HEADER = (
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (code)", "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (code)", "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)", "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (code)", "ReasonEstablishmentOpened (name)", "OpenDate",
    "ReasonEstablishmentClosed (code)", "ReasonEstablishmentClosed (name)", "CloseDate",
    "PhaseOfEducation (code)", "PhaseOfEducation (name)", "StatutoryLowAge",
    "StatutoryHighAge", "Boarders (code)", "Boarders (name)", "NurseryProvision (name)",
    "OfficialSixthForm (code)", "OfficialSixthForm (name)", "Gender (code)", "Gender (name)",
    "ReligiousCharacter (code)", "ReligiousCharacter (name)", "Diocese (code)",
    "Diocese (name)", "AdmissionsPolicy (code)", "AdmissionsPolicy (name)", "SchoolCapacity",
    "SpecialClasses (code)", "SpecialClasses (name)", "CensusDate", "NumberOfPupils",
    "NumberOfBoys", "NumberOfGirls", "PercentageFSM", "TrustSchoolFlag (code)",
    "TrustSchoolFlag (name)", "Trusts (code)", "Trusts (name)", "SchoolSponsorFlag (name)",
    "SchoolSponsors (name)", "FederationFlag (name)", "Federations (code)",
    "Federations (name)", "UKPRN", "FEHEIdentifier", "FurtherEducationType (name)",
    "OfstedLastInsp", "OfstedSpecialMeasures (code)", "OfstedSpecialMeasures (name)",
    "LastChangedDate", "Street", "Locality", "Address3", "Town", "County (name)", "Postcode",
    "SchoolWebsite", "TelephoneNum", "HeadTitle (name)", "HeadFirstName", "HeadLastName",
    "HeadPreferredJobTitle", "GOR (code)", "GOR (name)", "DistrictAdministrative (code)",
    "DistrictAdministrative (name)", "AdministrativeWard (code)",
    "AdministrativeWard (name)", "ParliamentaryConstituency (code)",
    "ParliamentaryConstituency (name)", "UrbanRural (code)", "UrbanRural (name)", "Easting",
    "Northing", "OfstedRating (name)", "RSCRegion (name)", "Country (name)", "UPRN",
)
GIAS_PHASE = {"primary": "Primary", "secondary": "Secondary", "nursery": "Nursery",
              "middle": "Middle deemed primary", "all-through": "All-through",
              "special": "Not applicable", "alternative provision": "Not applicable",
              "16 plus": "16 plus"}
GIAS_TYPE = {"community school": "Community school", "voluntary aided school":
             "Voluntary aided school", "voluntary controlled school":
             "Voluntary controlled school", "foundation school": "Foundation school",
             "academy": "Academy converter", "free school": "Free schools",
             "special school": "Community special school"}
GIAS_OFSTED = {"outstanding": "Outstanding", "good": "Good",
               "requires improvement": "Requires improvement", "inadequate": "Inadequate"}


def paths(work: Path) -> dict[str, Path]:
    return {"db": work / "national.db", "yaml": work / "national.yaml",
            "csv": work / "gias.csv", "stamp": work / "generated.json"}


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _weekdays(first: dt.date, last: dt.date) -> list[str]:
    out, d = [], first
    while d <= last:
        if d.weekday() < 5 and not (d.month == 8):  # no school in August
            out.append(d.isoformat())
        d += dt.timedelta(days=1)
    return out


class Directory:
    """The invented national directory, shared by the database, the YAML and the CSV."""

    def __init__(self, rng: random.Random) -> None:
        from s2s_cli import taxonomy

        self.regions = list(taxonomy.REGIONS)
        places = sorted({a + b for a in SYLLABLES_A for b in SYLLABLES_B})
        rng.shuffle(places)
        self.places = places
        # 153 local authorities (as in England), London given 33 of them
        self.las: list[dict] = []
        la_region = ["London"] * 33 + [r for r in self.regions if r != "London"
                                       for _ in range(15)]
        for i, region in enumerate(la_region):
            self.las.append({"id": i + 1, "code": 201 + i, "name": places[i],
                             "region": region, "region_id": self.regions.index(region) + 1})
        town_names = places[len(self.las):]
        self.schools: list[dict] = []
        for i in range(N_SCHOOLS):
            la = self.las[i % len(self.las)] if i < len(self.las) else rng.choice(self.las)
            phase = _weighted(rng, PHASE_WEIGHTS)
            town = town_names[i % len(town_names)]
            stype = "special school" if phase == "special" else rng.choice(TYPES[:6])
            self.schools.append({
                "urn": 100000 + i, "name": f"{town} {rng.choice(SCHOOL_SUFFIX[phase])}",
                "la_id": la["id"], "la": la["name"], "phase": phase, "type": stype,
                "trust": f"{rng.choice(town_names)} Learning Trust" if stype == "academy"
                else None,
                "pupils": rng.randint(40, 500) if phase in ("primary", "nursery", "special")
                else rng.randint(300, 2000),
                "ofsted": rng.choice(OFSTED), "postcode": f"{rng.choice('ABCEHLMNS')}"
                f"{rng.choice('ABEHLMNW')}{rng.randint(1, 30)} {rng.randint(1, 9)}"
                f"{rng.choice('ABDEFGHJLN')}{rng.choice('PQRSTUWXYZ')}",
                "status": "open", "teaching_school": i % 50 == 0,
                "teaching_school_hub": i % 290 == 0, "national_support_school": i % 120 == 0,
            })
        hubs = [s["urn"] for s in self.schools if s["teaching_school"]
                or s["teaching_school_hub"]]
        slugs = [s.slug for s in taxonomy.SPECIALISMS]
        self.leaders: list[dict] = []
        for i in range(N_LEADERS):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            lid = f"L{i + 1:05d}"
            specs = sorted(rng.sample(slugs, rng.choice((1, 1, 2, 2, 2, 3))))
            self.leaders.append({
                "id": lid, "name": f"{first} {last}", "kind": _weighted(rng, KIND_WEIGHTS),
                "home_school_urn": rng.randrange(100000, 100000 + N_SCHOOLS),
                "designated_by_urn": rng.choice(hubs),
                "email": f"{first}.{last}.{i + 1}@example.org".lower().replace("'", ""),
                "phone": f"01632 {960000 + i % 1000:06d}"[:12],
                "capacity_days": rng.choice((10, 15, 20, 25, 30, 40)),
                "active": rng.random() > 0.04, "designations": "", "specialisms": specs,
            })


def _bulk(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    sql = (f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
           f'VALUES ({", ".join("?" for _ in cols)})')
    conn.executemany(sql, [tuple(r[c] for c in cols) for r in rows])


def build_db(path: Path, d: Directory, rng: random.Random) -> dict[str, int]:
    from s2s_cli import db
    from s2s_cli.services.rates import DEFAULT_CARD
    from s2s_cli.taxonomy import ACTIVITIES, NEEDS, SPECIALISMS, WORK_TYPES

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    engine = db.make_engine(str(path))
    db.upgrade(engine)  # the exact schema, built by the migrations
    engine.dispose()

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' "
                           "AND sql IS NOT NULL").fetchall()
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute("BEGIN")
    _bulk(conn, "specialism", [{"slug": s.slug, "name": s.name, "focus_area": s.focus_areas[0],
                                "other_focus_area": s.focus_areas[1]
                                if len(s.focus_areas) > 1 else None} for s in SPECIALISMS])
    _bulk(conn, "region", [{"id": i + 1, "name": r} for i, r in enumerate(d.regions)])
    _bulk(conn, "local_authority", [{k: la[k] for k in ("id", "code", "name", "region_id")}
                                    for la in d.las])
    _bulk(conn, "school", [{k: v for k, v in s.items() if k != "la"} for s in d.schools])
    _bulk(conn, "leader", [{**{k: v for k, v in ldr.items() if k != "specialisms"},
                            "notes": None, "erased": False} for ldr in d.leaders])
    _bulk(conn, "leader_specialism", [{"leader_id": ldr["id"], "specialism_slug": s}
                                      for ldr in d.leaders for s in ldr["specialisms"]])
    conn.execute("INSERT INTO setting (key, value) VALUES ('rate_card', ?)",
                 (json.dumps(DEFAULT_CARD, sort_keys=True),))

    # Deployments: spread over leaders; each leader's days are distinct dates drawn from the
    # school weekdays of 2024-25 and 2025-26, handed to their deployments in date order.
    pool = _weekdays(FIRST_DAY, LAST_DAY)
    per_leader: dict[int, int] = {}
    for _ in range(N_DEPLOYMENTS):
        li = rng.randrange(N_LEADERS)
        while per_leader.get(li, 0) >= len(pool) // DAYS_PER_DEPLOYMENT // 2:
            li = rng.randrange(N_LEADERS)
        per_leader[li] = per_leader.get(li, 0) + 1
    card = DEFAULT_CARD["kinds"]
    requests, deployments, days = [], [], []
    dep_id = 0
    day_id = 0
    stamp = "2025-09-01 08:00:00.000000"
    for li in sorted(per_leader):
        leader = d.leaders[li]
        n = per_leader[li]
        dates = sorted(rng.sample(pool, n * DAYS_PER_DEPLOYMENT))
        rate = card[leader["kind"]]
        for k in range(n):
            dep_id += 1
            chunk = dates[k * DAYS_PER_DEPLOYMENT:(k + 1) * DAYS_PER_DEPLOYMENT]
            school = rng.randrange(100000, 100000 + N_SCHOOLS)
            requests.append({
                "id": dep_id, "school_urn": school, "need": rng.choice(NEEDS),
                "kind": leader["kind"], "days_halves": 2 * DAYS_PER_DEPLOYMENT,
                "funding": "school", "funder": None, "note": None, "contact": None,
                "received": chunk[0], "status": "matched", "cancel_reason": None,
                "created_at": stamp, "matched_on": chunk[0], "closed_on": None})
            supply = rate["day"] - (rate["day"] * 1500 + 5000) // 10000
            half_supply = rate["half_day"] - (rate["half_day"] * 1500 + 5000) // 10000
            deployments.append({
                "id": dep_id, "request_id": dep_id, "leader_id": leader["id"],
                "school_urn": school, "agreed_halves": 2 * DAYS_PER_DEPLOYMENT,
                "start": chunk[0], "end": chunk[-1], "work": rng.choice(WORK_TYPES),
                "funding": "school", "funder": None, "dfe_extra_days": 0,
                "rate_pence": rate["day"], "half_day_rate_pence": rate["half_day"],
                "supply_pence": supply, "half_day_supply_pence": half_supply,
                "rate_source": f"card: {leader['kind']}", "status": "active",
                "override_reason": None, "created_at": stamp, "closed_on": None})
            for date in chunk:
                day_id += 1
                days.append((day_id, dep_id, leader["id"], date,
                             1 if rng.random() < 0.15 else 2, rng.choice(ACTIVITIES), None,
                             None, None, stamp))
    _bulk(conn, "support_request", requests)
    _bulk(conn, "deployment", deployments)
    conn.executemany("INSERT INTO day_log (id, deployment_id, leader_id, date, halves, "
                     "activity, note, over_reason, invoice_id, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", days)
    conn.execute("COMMIT")
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("PRAGMA journal_mode=WAL")  # as s2s leaves its own files
    conn.execute("ANALYZE")
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
              for t in ("school", "leader", "leader_specialism", "deployment", "day_log")}
    conn.close()
    assert counts["day_log"] == N_DAYS, counts
    return counts


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def write_yaml(path: Path, d: Directory) -> None:
    out = ["# National-scale invented directory for benchmarks (generated).",
           f"regions: [{', '.join(d.regions)}]", "local_authorities:"]
    for la in d.las:
        out.append(f"  - {{name: {_q(la['name'])}, region: {la['region']}}}")
    out.append("schools:")
    for s in d.schools:
        out.append(f"  - urn: {s['urn']}")
        out.append(f"    name: {_q(s['name'])}")
        out.append(f"    la: {_q(s['la'])}")
        out.append(f"    phase: {s['phase']}")
        out.append(f"    type: {s['type']}")
        if s["trust"]:
            out.append(f"    trust: {_q(s['trust'])}")
        out.append(f"    pupils: {s['pupils']}")
        out.append(f"    ofsted: {s['ofsted']}")
        out.append(f"    postcode: {s['postcode']}")
        for flag in ("teaching_school", "teaching_school_hub", "national_support_school"):
            if s[flag]:
                out.append(f"    {flag}: true")
    out.append("leaders:")
    for ldr in d.leaders:
        out.append(f"  - id: {ldr['id']}")
        out.append(f"    name: {_q(ldr['name'])}")
        out.append(f"    kind: {ldr['kind']}")
        out.append(f"    home_school: {ldr['home_school_urn']}")
        out.append(f"    designated_by: {ldr['designated_by_urn']}")
        out.append(f"    email: {ldr['email']}")
        out.append(f"    phone: {_q(ldr['phone'])}")
        out.append(f"    capacity_days: {ldr['capacity_days']}")
        out.append(f"    specialisms: [{', '.join(ldr['specialisms'])}]")
        if not ldr["active"]:
            out.append("    active: false")
    out.append("rates:")
    out.append("  kinds:")
    for kind, day, half in (("SLE", 350, 175), ("LLE", 450, 225), ("NLE", 500, 250),
                            ("NLG", 400, 200)):
        out.append(f"    {kind}: {{day: {day}, half_day: {half}}}")
    out.append("  split:")
    out.append("    admin_percent: 15")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def write_gias(path: Path, d: Directory, rng: random.Random) -> None:
    """50,000 establishments: the 25,000 directory schools then 25,000 more, in the LAs of
    the directory, as GIAS publishes them (Windows-1252, CRLF, every field quoted)."""
    region_gor = {r: f"{chr(65 + i)}" for i, r in enumerate(d.regions)}
    accented = ("St Mary’s", "St John’s", "Thé Café", "Ærø", "Notre-Dame", "L’Arche")
    with path.open("w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(GIAS_HEADER)
        by_name = {la["name"]: la for la in d.las}
        for i in range(N_GIAS):
            if i < len(d.schools):
                s = d.schools[i]
                la = by_name[s["la"]]
            else:
                la = rng.choice(d.las)
                phase = _weighted(rng, PHASE_WEIGHTS)
                name = (f"{rng.choice(accented)} {rng.choice(SCHOOL_SUFFIX[phase])}"
                        if i % 40 == 0 else
                        f"{rng.choice(d.places)} {rng.choice(SCHOOL_SUFFIX[phase])}")
                s = {"urn": 100000 + i, "name": name, "phase": phase,
                     "type": "special school" if phase == "special" else rng.choice(TYPES[:6]),
                     "trust": None, "pupils": rng.randint(40, 1500),
                     "ofsted": rng.choice(OFSTED), "postcode": f"ZZ{i % 99} 1AA"}
            closed = i % 23 == 0 and i >= len(d.schools)
            row = dict.fromkeys(GIAS_HEADER, "")
            row.update({
                "URN": s["urn"], "LA (code)": la["code"], "LA (name)": la["name"],
                "EstablishmentNumber": 2000 + i % 7000, "EstablishmentName": s["name"],
                "TypeOfEstablishment (name)": GIAS_TYPE[s["type"]],
                "EstablishmentTypeGroup (name)": "Academies" if s["type"] == "academy"
                else "Local authority maintained schools",
                "EstablishmentStatus (code)": 2 if closed else 1,
                "EstablishmentStatus (name)": "Closed" if closed else "Open",
                "OpenDate": "01-09-2012", "CloseDate": "31-08-2023" if closed else "",
                "PhaseOfEducation (name)": GIAS_PHASE[s["phase"]],
                "StatutoryLowAge": 4, "StatutoryHighAge": 11 if s["phase"] == "primary" else 18,
                "Boarders (name)": "No boarders", "Gender (name)": "Mixed",
                "ReligiousCharacter (name)": "Does not apply",
                "SchoolCapacity": (s["pupils"] or 0) + 30,
                "NumberOfPupils": s["pupils"] if s["pupils"] is not None else "",
                "NumberOfBoys": (s["pupils"] or 0) // 2,
                "NumberOfGirls": (s["pupils"] or 0) - (s["pupils"] or 0) // 2,
                "PercentageFSM": f"{rng.uniform(2, 60):.1f}",
                "Trusts (name)": s["trust"] or "",
                "OfstedLastInsp": "14-03-2023",
                "OfstedRating (name)": GIAS_OFSTED[s["ofsted"]],
                "LastChangedDate": "02-10-2025", "Street": f"{rng.randint(1, 200)} High Street",
                "Town": la["name"], "Postcode": s["postcode"],
                "TelephoneNum": f"01632{rng.randint(100000, 999999)}",
                "HeadTitle (name)": "Mrs", "HeadFirstName": rng.choice(FIRST_NAMES),
                "HeadLastName": rng.choice(LAST_NAMES), "HeadPreferredJobTitle": "Headteacher",
                "GOR (code)": region_gor[la["region"]], "GOR (name)": la["region"],
                "UrbanRural (name)": "(England/Wales) Urban city and town",
                "Easting": rng.randint(100000, 600000), "Northing": rng.randint(50000, 650000),
                "Country (name)": "United Kingdom",
            })
            w.writerow([row[h] for h in GIAS_HEADER])


# --- issue 13: the school system as it is now (Ofsted MI file, current GIAS, report cards) ----

N_OFSTED = 22_000
DOMAIN_VERSION = "2"  # bump to rebuild the issue-13 inputs
COLUMN_LISTS = ROOT / "tests" / "data"  # the published column lists, as the tests use them
MAT_FLAG = "Supported by a multi-academy trust"
OFSTED_PHASE = {"primary": "Primary", "secondary": "Secondary", "nursery": "Nursery",
                "middle": "Primary", "all-through": "All-through", "special": "Special",
                "alternative provision": "PRU", "16 plus": "Secondary"}
CARD_AREAS = ("Inclusion", "Curriculum and teaching", "Achievement",
              "Attendance and behaviour", "Personal development and wellbeing",
              "Early years (where applicable)", "Post-16 provision (where applicable)",
              "Leadership and governance")
CARD_GRADES = (("Exceptional", 4), ("Strong standard", 22), ("Expected standard", 60),
               ("Needs attention", 11), ("Urgent improvement", 3))
LEGACY_GRADES = (("1", 16), ("2", 70), ("3", 11), ("4", 3))
RELIGION = (("Does not apply", 65), ("Church of England", 25), ("Roman Catholic", 9),
            ("Jewish", 1))
COMPASS = ("North", "South", "East", "West", "Central")
ACCENTED = ("St Mary\u2019s", "St John\u2019s", "Our Lady\u2019s", "St Peter\u2019s",
            "Notre Dame", "St Th\u00e9r\u00e8se of Lisieux")


def domain_paths(work: Path) -> dict[str, Path]:
    return {"ofsted": work / "ofsted_mi.csv", "gias_current": work / "gias_current.csv",
            "cards_db": work / "national-cards.db", "stamp": work / "generated-domain.json"}


def _columns(name: str) -> list[str]:
    return [c for c in (COLUMN_LISTS / name).read_text(encoding="utf-8").splitlines()
            if c and not c.startswith("#")]


def _uk(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def _gias_date(d: dt.date) -> str:
    return d.strftime("%d-%m-%Y")


def _between(rng: random.Random, a: dt.date, b: dt.date) -> dt.date:
    return a + dt.timedelta(days=rng.randrange((b - a).days + 1))


def _trust_uids(d: Directory) -> dict[str, int]:
    """Each academy trust name of the directory gets a GIAS group UID (4-5 digits)."""
    names = sorted({s["trust"] for s in d.schools if s["trust"]})
    return {name: 2000 + 7 * i for i, name in enumerate(names)}


def _la_centres(d: Directory, rng: random.Random) -> dict[int, tuple[int, int]]:
    """A point on the British National Grid for each local authority (London's close
    together), its schools scattered within ~12 km of it."""
    out = {}
    for la in d.las:
        if la["region"] == "London":
            out[la["id"]] = (rng.randint(515000, 545000), rng.randint(170000, 195000))
        else:
            out[la["id"]] = (rng.randint(200000, 640000), rng.randint(60000, 640000))
    return out


def write_gias_current(path: Path, d: Directory, rng: random.Random) -> None:
    """The 25,000 directory schools as a current GIAS extract: the 135 columns of
    tests/data/gias_columns_current.txt in file order (no Ofsted or RSCRegion columns),
    Windows-1252, CRLF, quoted only where needed, DD-MM-YYYY dates; trusts with their UIDs
    and flags, addresses, phone numbers, websites and Easting/Northing."""
    cols = _columns("gias_columns_current.txt")
    uids = _trust_uids(d)
    centre = _la_centres(d, rng)
    la_by_id = {la["id"]: la for la in d.las}
    with path.open("w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(cols)
        for i, s in enumerate(d.schools):
            la = la_by_id[s["la_id"]]
            e0, n0 = centre[la["id"]]
            est = 2000 + i % 7000
            name = s["name"]
            if i % 45 == 0:  # Windows-1252 apostrophes and accents, as GIAS spells them
                name = f"{ACCENTED[i % len(ACCENTED)]} {name.split(' ', 1)[1]}"
            pupils = s["pupils"]
            boys = pupils // 2 + rng.randint(-10, 10)
            trust = s["trust"]
            primary_like = s["phase"] in ("primary", "nursery", "middle")
            head_first, head_last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            row = dict.fromkeys(cols, "")
            row.update({
                "URN": s["urn"], "LA (code)": la["code"], "LA (name)": la["name"],
                "EstablishmentNumber": est, "EstablishmentName": name,
                "TypeOfEstablishment (code)": 28 if s["type"] == "academy" else 1,
                "TypeOfEstablishment (name)": GIAS_TYPE[s["type"]],
                "EstablishmentTypeGroup (code)": 10 if trust else 4,
                "EstablishmentTypeGroup (name)": "Academies" if trust else
                "Local authority maintained schools",
                "EstablishmentStatus (code)": 1, "EstablishmentStatus (name)": "Open",
                "ReasonEstablishmentOpened (code)": 0,
                "ReasonEstablishmentOpened (name)": "Not applicable",
                "OpenDate": _gias_date(_between(rng, dt.date(1990, 1, 1), dt.date(2022, 9, 1)))
                if i % 3 else "", "ReasonEstablishmentClosed (code)": 0,
                "ReasonEstablishmentClosed (name)": "Not applicable",
                "PhaseOfEducation (code)": 2 if primary_like else 4,
                "PhaseOfEducation (name)": GIAS_PHASE[s["phase"]],
                "StatutoryLowAge": 3 if primary_like else 11,
                "StatutoryHighAge": 11 if primary_like else 18, "Boarders (code)": 1,
                "Boarders (name)": "No boarders",
                "NurseryProvision (name)": "Has Nursery Classes" if i % 4 == 0 else
                "No Nursery Classes", "OfficialSixthForm (code)": 2,
                "OfficialSixthForm (name)": "Does not have a sixth form" if primary_like
                else "Has a sixth form", "Gender (code)": 3, "Gender (name)": "Mixed",
                "ReligiousCharacter (code)": 0,
                "ReligiousCharacter (name)": _weighted(rng, RELIGION),
                "ReligiousEthos (name)": "Does not apply", "Diocese (code)": "0000",
                "Diocese (name)": "Not applicable", "AdmissionsPolicy (code)": 0,
                "AdmissionsPolicy (name)": "Not applicable" if primary_like else
                "Non-selective", "SchoolCapacity": pupils + rng.randint(0, 120),
                "SpecialClasses (code)": 2, "SpecialClasses (name)": "No Special Classes",
                "CensusDate": "16-01-2025", "NumberOfPupils": pupils, "NumberOfBoys": boys,
                "NumberOfGirls": pupils - boys,
                "PercentageFSM": f"{rng.uniform(2, 60):.1f}",
                "TrustSchoolFlag (code)": 5 if trust else 0,
                "TrustSchoolFlag (name)": MAT_FLAG if trust else "Not applicable",
                "Trusts (code)": uids[trust] if trust else "", "Trusts (name)": trust or "",
                "SchoolSponsorFlag (name)": "Not applicable",
                "FederationFlag (name)": "Not under a federation",
                "UKPRN": 10000000 + i, "LastChangedDate": "14-10-2025",
                "Street": f"{rng.choice(SYLLABLES_A)}{rng.choice(SYLLABLES_B)} Road",
                "Locality": rng.choice(d.places) if i % 3 == 0 else "",
                "Address3": "", "Town": la["name"],
                "County (name)": "" if la["region"] == "London" else rng.choice(d.places)
                + "shire", "Postcode": s["postcode"],
                "SchoolWebsite": f"www.{name.split(' ')[0].lower()}{i}.sch.uk"
                .replace("\u2019", "").replace("\u00e9", "e").replace("\u00e8", "e"),
                "TelephoneNum": f"01632{rng.randint(100000, 999999)}",
                "HeadTitle (name)": rng.choice(("Mr", "Mrs", "Ms", "Dr")),
                "HeadFirstName": head_first, "HeadLastName": head_last,
                "HeadPreferredJobTitle": rng.choice(("Headteacher", "Principal",
                                                     "Executive Headteacher")),
                "SENPRU (name)": "Not applicable", "EBD (name)": "Not applicable",
                "FTProv (name)": "Not applicable", "EdByOther (name)": "Not applicable",
                "Section41Approved (name)": "Not approved",
                "SEN1 (name)": "SLCN - Speech, language and Communication" if i % 9 == 0
                else "", "TypeOfResourcedProvision (name)": "Not applicable",
                "GOR (code)": chr(65 + d.regions.index(la["region"])),
                "GOR (name)": la["region"], "DistrictAdministrative (code)": f"E0{la['code']}",
                "DistrictAdministrative (name)": la["name"],
                "AdministrativeWard (code)": f"E05{i:06d}",
                "AdministrativeWard (name)": rng.choice(d.places),
                "ParliamentaryConstituency (code)": f"E14{la['code']:03d}{i % 9}",
                "ParliamentaryConstituency (name)": f"{la['name']} {rng.choice(COMPASS)}",
                "UrbanRural (code)": "C1", "UrbanRural (name)": "(England/Wales) Urban city "
                "and town", "GSSLACode (name)": f"E0{6000000 + la['code']}",
                "Easting": e0 + rng.randint(-12000, 12000),
                "Northing": n0 + rng.randint(-12000, 12000),
                "MSOA (name)": f"{la['name']} {i % 40:03d}",
                "LSOA (name)": f"{la['name']} {i % 40:03d}{chr(65 + i % 5)}",
                "InspectorateName (name)": "Not applicable", "SENStat": rng.randint(0, 20),
                "SENNoStat": rng.randint(5, 120),
                "BoardingEstablishment (name)": "Not applicable",
                "Country (name)": "United Kingdom", "UPRN": 100000000000 + i * 37,
                "QABName (code)": 0, "QABName (name)": "Not applicable",
                "EstablishmentAccredited (code)": 0,
                "EstablishmentAccredited (name)": "Not applicable",
                "MSOA (code)": f"E02{i % 7000:06d}", "LSOA (code)": f"E01{i:06d}",
                "FSM": pupils * rng.randint(2, 50) // 100,
            })
            w.writerow([row[c] for c in cols])


def write_ofsted_mi(path: Path, d: Directory, rng: random.Random) -> None:
    """Ofsted's monthly management information file ("Most recent inspections") for 22,000
    of the directory's schools: the 86 published columns of tests/data/ofsted_mi_columns.txt,
    Windows-1252 (’ and é in some names), CRLF, DD/MM/YYYY, "NULL" where there is nothing.
    About a fifth have a report card (inspected since 10 November 2025: five-point grades
    with their dates, safeguarding met or, rarely, not met, a category of concern now and
    then); nearly all keep their latest OEIF graded inspection (four-point grades); some an
    ungraded inspection."""
    cols = _columns("ofsted_mi_columns.txt")
    uids = _trust_uids(d)
    la_by_id = {la["id"]: la for la in d.las}
    schools = sorted(rng.sample(d.schools, N_OFSTED), key=lambda s: s["urn"])
    number = 10_300_000
    cards_from, cards_to = dt.date(2025, 11, 10), dt.date(2026, 1, 30)  # published by mid-March
    with path.open("w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(cols)
        for i, s in enumerate(schools):
            la = la_by_id[s["la_id"]]
            name = s["name"]
            if i % 45 == 0:
                name = f"{ACCENTED[i % len(ACCENTED)]} {name.split(' ', 1)[1]}"
            laestab = f"{la['code']}{2000 + i % 7000:04d}"
            row = dict.fromkeys(cols, "NULL")
            trust = s["trust"]
            row.update({
                "Web Link (opens in new window)": "http://www.ofsted.gov.uk/inspection-reports/"
                f"find-inspection-report/provider/ELS/{s['urn']}", "URN": s["urn"],
                "LAESTAB": laestab, "School name": name,
                "Ofsted phase": OFSTED_PHASE[s["phase"]],
                "Type of education": GIAS_TYPE[s["type"]],
                "School open date": _uk(_between(rng, dt.date(1990, 1, 1),
                                                 dt.date(2022, 9, 1))),
                "Admissions policy": "Non-selective",
                "Sixth form": "Has a sixth form" if s["phase"] == "secondary" and i % 2 else
                "Does not have a sixth form",
                "Designated religious character": _weighted(rng, RELIGION),
                "Religious ethos": "Does not apply", "Faith grouping": "Non-faith",
                "Ofsted region": la["region"], "Region": la["region"],
                "Local authority": la["name"],
                "Parliamentary constituency": f"{la['name']} Central",
                "Postcode": s["postcode"],
                "Multi-academy trust UID": uids[trust] if trust else "NULL",
                "Multi-academy trust name": trust or "NULL",
                "The income deprivation affecting children index (IDACI) quintile":
                    rng.randint(1, 5), "Total number of pupils": s["pupils"],
                "Statutory lowest age": 4 if s["phase"] == "primary" else 11,
                "Statutory highest age": 11 if s["phase"] == "primary" else 18,
                "Web Link (opens in new window) [link address]":
                    f"https://reports.ofsted.gov.uk/provider/21/{s['urn']}",
            })
            at_time = {"Does the latest full inspection relate to the URN of the current "
                       "school?": "Yes"}
            if rng.random() < 0.2:  # a report card
                number += 1
                start = _between(rng, cards_from, cards_to)
                published = start + dt.timedelta(days=rng.randint(20, 45))
                row.update({
                    "Inspection number of latest full inspection": number,
                    "Inspection type": "Report card inspection",
                    "Inspection type grouping": "Graded inspection",
                    "Event type grouping": "Standard inspection",
                    "Inspection start date": _uk(start), "Publication date": _uk(published),
                    **at_time, "URN at time of latest full inspection": s["urn"],
                    "LAESTAB at time of latest full inspection": laestab,
                    "School name at time of latest full inspection": name,
                    "School type at time of latest full inspection": GIAS_TYPE[s["type"]],
                })
                low = 0
                for area in CARD_AREAS:
                    if area.startswith("Early years") and s["phase"] not in ("primary",
                                                                             "nursery"):
                        continue
                    if area.startswith("Post-16") and row["Sixth form"] != "Has a sixth form":
                        continue
                    grade = _weighted(rng, CARD_GRADES)
                    low += grade in ("Needs attention", "Urgent improvement")
                    row[area] = grade
                    row[area.split(" (")[0] + " - date of grade"] = _uk(start)
                met = rng.random() > 0.03
                row["Safeguarding standards"] = "Met" if met else "Not met"
                row["Safeguarding standards - date of grade"] = _uk(start)
                if not met or low >= 4:
                    row["Category of concern"] = rng.choice(("Special measures",
                                                             "Requires significant "
                                                             "improvement"))
                    row["Most recent category of concern"] = row["Category of concern"]
            if rng.random() < 0.95:  # the latest graded inspection under the old framework
                number += 1
                start = _between(rng, dt.date(2012, 9, 1), dt.date(2025, 7, 18))
                overall = _weighted(rng, LEGACY_GRADES)
                row.update({
                    "Inspection number of latest OEIF graded inspection": number,
                    "Inspection type of latest OEIF graded inspection": "Section 5",
                    "Inspection type grouping of latest OEIF graded inspection":
                        "Graded inspection",
                    "Event type grouping of latest OEIF graded inspection":
                        "Standard inspection",
                    "Inspection start date of latest OEIF graded inspection": _uk(start),
                    "Publication date of latest OEIF graded inspection":
                        _uk(start + dt.timedelta(days=rng.randint(15, 40))),
                    "Does the latest OEIF graded inspection relate to the URN of the current "
                    "school?": "Yes",
                    "URN at time of latest OEIF graded inspection": s["urn"],
                    "LAESTAB at time of latest OEIF graded inspection": laestab,
                    "School name at time of latest OEIF graded inspection": name,
                    "School type at time of latest OEIF graded inspection":
                        GIAS_TYPE[s["type"]],
                    "Latest OEIF category of concern": "Special measures"
                    if overall == "4" else "NULL",
                    "Latest OEIF overall effectiveness": overall,
                    "Latest OEIF quality of education": overall,
                    "Latest OEIF behaviour and attitudes": str(max(1, int(overall)
                                                                   - rng.randint(0, 1))),
                    "Latest OEIF personal development": str(max(1, int(overall)
                                                                - rng.randint(0, 1))),
                    "Latest OEIF effectiveness of leadership and management": overall,
                    "Latest OEIF  safeguarding is effective?": "Yes" if overall != "4"
                    else "No",
                    "Latest OEIF early years provision (where applicable)": overall
                    if s["phase"] == "primary" else "NULL",
                    "Latest OEIF sixth form provision (where applicable)": overall
                    if row["Sixth form"] == "Has a sixth form" else "NULL",
                })
            if rng.random() < 0.35:
                number += 1
                start = _between(rng, dt.date(2021, 9, 1), dt.date(2025, 7, 18))
                row.update({
                    "Latest ungraded inspection number": number,
                    "Date of latest ungraded inspection": _uk(start),
                    "Ungraded inspection publication date": _uk(start + dt.timedelta(
                        days=rng.randint(15, 40))),
                    "Does the ungraded inspection relate to the URN of the current school?":
                        "Yes", "URN at time of the ungraded inspection": s["urn"],
                    "LAESTAB at time of the ungraded inspection": laestab,
                    "School name at time of the ungraded inspection": name,
                    "School type at time of the ungraded inspection": GIAS_TYPE[s["type"]],
                    "Ungraded inspection overall outcome": rng.choice((
                        "School remains Good", "School remains Outstanding",
                        "Standards maintained")),
                })
            w.writerow([row[c] for c in cols])


def build_cards_db(target: Path, national: Path, gias_current: Path, ofsted: Path) -> None:
    """The national database as a coordinator would have it in 2026: `national.db` after
    `s2s import gias` of the current extract (trusts, coordinates) and `s2s import ofsted`
    of the MI file (report cards), both by s2s itself."""
    import shutil
    import subprocess

    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(national, target)
    exe = Path(sys.executable).parent / "s2s"
    s2s = [str(exe)] if exe.exists() else [sys.executable, "-m", "s2s_cli"]
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("S2S_")}
    for args in (["import", "gias", str(gias_current)], ["import", "ofsted", str(ofsted)]):
        subprocess.run([*s2s, "--db", str(target), "--quiet", *args], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    con = sqlite3.connect(target)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def generate_domain(work: Path, *, force: bool = False, quiet: bool = False
                    ) -> dict[str, Path]:
    """The issue-13 inputs (cached like `generate`): ofsted_mi.csv, gias_current.csv and
    national-cards.db."""
    base = generate(work, force=force, quiet=True)
    p = domain_paths(work)
    if not force and p["stamp"].exists():
        stamp = json.loads(p["stamp"].read_text())
        if stamp.get("version") == DOMAIN_VERSION and stamp.get("schema") == SCHEMA_HEAD and all(
                p[k].exists() for k in ("ofsted", "gias_current", "cards_db")):
            return p
    t0 = time.perf_counter()
    d = Directory(random.Random(20261125))  # the same directory as national.db
    write_gias_current(p["gias_current"], d, random.Random(13))
    write_ofsted_mi(p["ofsted"], d, random.Random(1311))
    build_cards_db(p["cards_db"], base["db"], p["gias_current"], p["ofsted"])
    p["stamp"].write_text(json.dumps({"version": DOMAIN_VERSION, "schema": SCHEMA_HEAD,
                                      "seconds": round(time.perf_counter() - t0, 1)}))
    if not quiet:
        print(f"generated the issue-13 inputs in {work} in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    return p


def generate(work: Path, *, force: bool = False, quiet: bool = False) -> dict[str, Path]:
    work.mkdir(parents=True, exist_ok=True)
    p = paths(work)
    if not force and p["stamp"].exists():
        stamp = json.loads(p["stamp"].read_text())
        if stamp.get("version") == FORMAT_VERSION and stamp.get("schema") == SCHEMA_HEAD and all(
                p[k].exists() for k in ("db", "yaml", "csv")):
            if not quiet:
                print(f"using cached inputs in {work} (--force to rebuild)", file=sys.stderr)
            return p
    t0 = time.perf_counter()
    rng = random.Random(20261125)
    d = Directory(rng)
    counts = build_db(p["db"], d, rng)
    t1 = time.perf_counter()
    write_yaml(p["yaml"], d)
    write_gias(p["csv"], d, random.Random(7))
    t2 = time.perf_counter()
    p["stamp"].write_text(json.dumps({"version": FORMAT_VERSION, "schema": SCHEMA_HEAD,
                                      "counts": counts,
                                      "invoice_month": INVOICE_MONTH,
                                      "seconds": round(t2 - t0, 1)}, indent=2))
    if not quiet:
        print(f"generated {work}: {counts} in {t1 - t0:.1f} s; YAML and CSV in "
              f"{t2 - t1:.1f} s", file=sys.stderr)
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--domain", action="store_true", help="also the issue-13 inputs (Ofsted "
                    "MI file, current GIAS extract, national-cards.db)")
    args = ap.parse_args()
    generate(args.work, force=args.force)
    if args.domain:
        generate_domain(args.work, force=args.force)


if __name__ == "__main__":
    main()
