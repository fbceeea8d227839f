"""National-scale benchmarks: one command, ten figures, written to benchmarks/RESULTS.md.

    .venv/bin/pip install -e '.[bench]'      # once: sqlite-utils, the reference tool
    .venv/bin/python benchmarks/run.py       # generates inputs on first use (cached)

Every figure times whole processes (start-up included), several runs after a warm-up, and
quotes the median; where there is a reference it is measured in the same run on the same file
and the figure is the ratio s2s / reference (below 1.0 means s2s is faster):

  1. s2s find --specialism phonics --region London --format json
         vs sqlite-utils query FILE "<the same search in SQL>"        target <= 1.0
  2. s2s --help  vs  sqlite-utils --help                             target <= 1.0
  3. s2s import gias (50,000-row CSV)  vs  sqlite-utils insert --csv  target <= 1.5
  4. s2s invoice --month M (draft) over 1,000,000 days
         vs the sqlite3 shell running the equivalent aggregate SQL     target <= 3.0
  5. peak memory of s2s report days --format csv --out F             target <= 100 MiB
  6. s2s seed load of a national-scale YAML directory: seconds and rows per second
  7. s2s import ofsted (22,000-row MI file)  vs  sqlite-utils insert --csv   target <= 1.0
  8. s2s import gias (current layout, 25,000 rows, 135 columns)
         vs sqlite-utils insert --csv                                  target <= 0.5
  9. s2s prospects --region London --format json on the national data with report cards
         vs sqlite-utils query FILE "<the same question in SQL>"      target <= 1.0
  10. s2s invoice --month M --issue: issuing a whole national month (every day before it
         already invoiced) vs the floor: stdlib sqlite3 inserting the same invoices, lines
         and day links (and marking the days) in one transaction           target <= 3.0

Options: --runs N (default 7), --only 1,2 (a subset), --no-write (do not touch RESULTS.md),
--work DIR (where inputs are cached, default benchmarks/work/).  Nothing is installed here."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

ALL_FIGURES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
BIN = Path(sys.executable).parent  # the venv's bin/: s2s and sqlite-utils live next to python

FIND_SQL = """
SELECT l.id, l.name, l.kind,
       (SELECT group_concat(x.specialism_slug) FROM leader_specialism x
         WHERE x.leader_id = l.id) AS specialisms,
       s.urn AS home_school_urn, s.name AS home_school, la.name AS local_authority,
       r.name AS region, s.phase, l.email, l.capacity_days
FROM leader l
JOIN leader_specialism f0 ON f0.leader_id = l.id AND f0.specialism_slug = 'phonics'
JOIN school s ON s.urn = l.home_school_urn
JOIN local_authority la ON la.id = s.la_id
JOIN region r ON r.id = la.region_id
WHERE l.active = 1 AND r.name = 'London'
ORDER BY l.id
"""


def invoice_sql(month: str) -> str:
    """The draft in SQL: per deployment, its not-yet-invoiced days up to the month's end
    summed (a run bills every day not yet invoiced, earlier ones included), priced at its
    rates, with the same columns and order as `s2s invoice --format csv` (the payer's total as
    a window sum).  Simpler than s2s: no NLG allowance or DfE package rules."""
    first = dt.date.fromisoformat(month + "-01")
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return f"""
WITH a AS (
  SELECT deployment_id, sum(CASE WHEN halves = 2 THEN 1 ELSE 0 END) AS full_days,
         sum(CASE WHEN halves = 1 THEN 1 ELSE 0 END) AS half_days,
         min(date) AS d_first, max(date) AS d_last
  FROM day_log WHERE date <= '{last}' AND invoice_id IS NULL
  GROUP BY deployment_id)
SELECT '' AS number, 'draft' AS status, s.name AS payer, s.urn AS payer_school_urn,
       '' AS issued, '' AS due, '{first}' AS period_from, '{last}' AS period_to,
       d.id AS deployment_id, d.leader_id, l.name AS leader, s.urn AS school_urn,
       s.name AS school, a.d_first AS date_from, a.d_last AS date_to,
       (2 * a.full_days + a.half_days) / 2.0 AS days, a.full_days, a.half_days, d.rate_pence,
       d.half_day_rate_pence, 'charged' AS kind,
       a.full_days * d.rate_pence + a.half_days * d.half_day_rate_pence AS amount_pence,
       a.full_days * d.supply_pence + a.half_days * d.half_day_supply_pence AS supply_pence,
       sum(a.full_days * d.rate_pence + a.half_days * d.half_day_rate_pence)
         OVER (PARTITION BY s.urn) AS invoice_total_pence
FROM a JOIN deployment d ON d.id = a.deployment_id
JOIN leader l ON l.id = d.leader_id
JOIN school s ON s.urn = d.school_urn
WHERE d.funding = 'school'
ORDER BY s.name, s.urn, d.leader_id, d.id;
"""


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib(self) -> float:
        return max(self.maxrss_kib) / 1024


def run_once(cmd: list[str], *, stdout_path: Path | None = None,
             env: dict[str, str] | None = None) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS of that child in KiB, exit code, stderr tail)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        err = proc.stderr.read() if proc.stderr else b""
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    return elapsed, usage.ru_maxrss, proc.returncode, tail[0]


def measure(cmd: list[str], runs: int, *, warmup: int = 1,
            setup: Callable[[], None] | None = None, env: dict[str, str] | None = None,
            stdout_path: Path | None = None) -> Sample:
    sample = Sample()
    for i in range(warmup + runs):
        if setup:
            setup()
        secs, rss, code, tail = run_once(cmd, env=env, stdout_path=stdout_path)
        if code != 0:
            sample.failures.append(f"exit {code}: {tail}")
            break
        if i >= warmup:
            sample.seconds.append(secs)
            sample.maxrss_kib.append(rss)
    return sample


def measure_pair(mine_cmd: list[str], ref_cmd: list[str], runs: int, *, warmup: int = 1,
                 mine_setup: Callable[[], None] | None = None,
                 ref_setup: Callable[[], None] | None = None,
                 env: dict[str, str] | None = None) -> tuple[Sample, Sample]:
    """Both commands, alternately (s2s, reference, s2s, ...), so that a change in the
    machine's load during the measurement affects both sides alike."""
    mine, ref = Sample(), Sample()
    for i in range(warmup + runs):
        for cmd, setup, sample in ((mine_cmd, mine_setup, mine), (ref_cmd, ref_setup, ref)):
            if sample.failures:
                continue
            if setup:
                setup()
            secs, rss, code, tail = run_once(cmd, env=env or _env())
            if code != 0:
                sample.failures.append(f"exit {code}: {tail}")
            elif i >= warmup:
                sample.seconds.append(secs)
                sample.maxrss_kib.append(rss)
    return mine, ref


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("S2S_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "100", "LC_ALL": env.get("LC_ALL", "C.UTF-8")})
    return env


def s2s_cmd() -> list[str]:
    exe = BIN / "s2s"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "s2s_cli"]


def has_command(*words: str) -> bool:
    """Does this s2s have `s2s WORDS...`?  (`--help` exits 0 only for a known command.)"""
    proc = subprocess.run([*s2s_cmd(), *words, "--help"], capture_output=True, env=_env())
    return proc.returncode == 0


def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)


def fresh_s2s_db(work: Path) -> Path:
    """A database freshly created by s2s (bundled seed), kept as a template."""
    from s2s_cli.location import SCHEMA_HEAD

    tmpl = work / f"fresh-template-{SCHEMA_HEAD}.db"  # rebuilt when the schema moves on
    if not tmpl.exists():
        subprocess.run([*s2s_cmd(), "db", "init", str(tmpl), "--demo"],  # no auto-create now
                       check=True, capture_output=True, env=_env())
        con = sqlite3.connect(tmpl)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
    return tmpl


@dataclass
class Result:
    number: int
    title: str
    s2s: str = "not available yet"
    reference: str = ""
    figure: str = "not available yet"
    target: str = ""
    met: str = "n/a"
    note: str = ""


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio_result(res: Result, mine: Sample, ref: Sample, limit: float) -> Result:
    if mine.failures or ref.failures:
        res.note = "; ".join(f"{who}: {msg}" for who, s in (("s2s", mine), ("reference", ref))
                             for msg in s.failures)
        res.figure = "failed"
        res.met = "no"
        return res
    ratio = mine.median / ref.median
    res.s2s = fmt_s(mine.median)
    res.reference = fmt_s(ref.median)
    res.figure = f"{ratio:.2f}"
    res.met = "yes" if ratio <= limit else "no"
    return res


def bench_find(work: Path, db: Path, runs: int) -> Result:
    res = Result(1, "find --specialism phonics --region London --format json vs "
                    "sqlite-utils query", target="<= 1.0")
    mine_cmd = [*s2s_cmd(), "--db", str(db), "find", "--specialism", "phonics", "--region",
                "London", "--format", "json"]
    ref_cmd = [str(BIN / "sqlite-utils"), "query", str(db), FIND_SQL]
    mine, ref = measure_pair(mine_cmd, ref_cmd, runs)
    res = ratio_result(res, mine, ref, 1.0)
    try:  # the two really answer the same question
        a = [r["id"] for r in json.loads(subprocess.run(mine_cmd, capture_output=True,
                                                        env=_env()).stdout)]
        b = [r["id"] for r in json.loads(subprocess.run(ref_cmd, capture_output=True,
                                                        env=_env()).stdout)]
        res.note = (f"both return the same {len(a)} leaders" if a == b else
                    f"s2s returned {len(a)} leaders, the reference {len(b)}")
    except (ValueError, KeyError, TypeError) as exc:
        res.note = f"could not compare the answers: {exc}"
    return res


def bench_help(work: Path, db: Path, runs: int) -> Result:
    res = Result(2, "s2s --help vs sqlite-utils --help", target="<= 1.0")
    mine, ref = measure_pair([*s2s_cmd(), "--help"], [str(BIN / "sqlite-utils"), "--help"],
                             runs)
    return ratio_result(res, mine, ref, 1.0)


def bench_import(work: Path, db: Path, runs: int, csv_path: Path) -> Result:
    res = Result(3, "import gias (50,000-row CSV) vs sqlite-utils insert --csv",
                 target="<= 1.5")
    if not has_command("import", "gias"):
        return res
    tmpl = fresh_s2s_db(work)
    target = work / "import-run.db"
    ref_db = work / "import-ref.db"

    def fresh() -> None:
        copy_db(tmpl, target)

    def fresh_ref() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(ref_db) + suffix).unlink(missing_ok=True)

    n = max(3, runs // 2)
    mine, ref = measure_pair(
        [*s2s_cmd(), "--db", str(target), "--quiet", "import", "gias", str(csv_path)],
        [str(BIN / "sqlite-utils"), "insert", str(ref_db), "schools", str(csv_path), "--csv",
         "--encoding", "cp1252"], n, mine_setup=fresh, ref_setup=fresh_ref)
    res = ratio_result(res, mine, ref, 1.5)
    if not mine.failures:
        con = sqlite3.connect(target)
        n = con.execute("SELECT count(*) FROM school").fetchone()[0]
        con.close()
        res.note = (f"s2s ends with {n:,} schools (created, updated or unchanged by URN); "
                    "sqlite-utils 4 detects column types by default (about half its time)")
    return res


def bench_invoice(work: Path, db: Path, runs: int, month: str) -> Result:
    res = Result(4, f"invoice --month {month} (draft) over 1,000,000 days vs sqlite3 shell",
                 target="<= 3.0")
    if not has_command("invoice"):
        return res
    sqlite3_shell = shutil.which("sqlite3")
    if not sqlite3_shell:
        res.note = "the sqlite3 shell is not installed (apt-get install sqlite3)"
        return res
    n = max(3, runs // 2)
    mine, ref = measure_pair(
        [*s2s_cmd(), "--db", str(db), "invoice", "--month", month, "--format", "csv"],
        [sqlite3_shell, "-readonly", "-csv", "-header", str(db), invoice_sql(month)], n)
    res = ratio_result(res, mine, ref, 3.0)
    if not mine.failures:
        res.note = ("the reference prints the same CSV columns and rows (one per deployment, "
                    "priced) but skips the NLG allowance and DfE package rules")
    return res


def bench_issue(work: Path, db: Path, runs: int, month: str) -> Result:
    """Issue a national month on a fresh copy each run, alternately with the floor on its own
    fresh copy; both whole processes."""
    import issue_floor

    res = Result(10, f"invoice --month {month} --issue (a national month) vs stdlib sqlite3 "
                 "inserting the same rows in one transaction", target="<= 3.0")
    if not has_command("invoice"):
        return res
    first = f"{month}-01"
    tmpl = work / "issue-template.db"
    left = issue_floor.prepare(db, tmpl, first)
    mine_db, floor_db = work / "issue-run.db", work / "issue-floor.db"
    rows = work / "issue-rows.pickle"
    issue_date = (dt.date.fromisoformat(first) + dt.timedelta(days=40)).replace(day=1)
    cmd = [*s2s_cmd(), "--db", str(mine_db), "--quiet", "invoice", "--month", month,
           "--issue", "--date", issue_date.isoformat(), "--format", "csv"]
    copy_db(tmpl, mine_db)  # once, to capture what issuing writes
    secs, _rss, code, tail = run_once(cmd, env=_env())
    if code != 0:
        res.figure, res.met, res.note = "failed", "no", f"s2s: exit {code}: {tail}"
        return res
    counts = issue_floor.capture(mine_db, rows)
    n = max(3, runs // 2)
    mine, ref = measure_pair(cmd, [sys.executable, str(HERE / "issue_floor.py"), str(floor_db),
                                   str(rows)], n, warmup=0,
                             mine_setup=lambda: copy_db(tmpl, mine_db),
                             ref_setup=lambda: copy_db(tmpl, floor_db))
    res = ratio_result(res, mine, ref, 3.0)
    res.note = (f"{counts['invoice']:,} invoices, {counts['invoice_line']:,} lines, "
                f"{counts['invoice_day']:,} day links ({left:,} days of {month}); s2s also "
                "classifies and prices the days, builds and seals each document and writes "
                "the chained audit rows, which the floor does not")
    return res


def bench_report(work: Path, db: Path, runs: int) -> Result:
    res = Result(5, "peak memory of report days --format csv --out F over 1,000,000 days",
                 target="<= 100 MiB")
    if not has_command("report", "days"):
        return res
    out = work / "report-days.csv"
    n = max(3, runs // 2)
    mine = measure([*s2s_cmd(), "--db", str(db), "report", "days", "--from", "2024-09-01",
                    "--to", "2026-08-31", "--format", "csv", "--out", str(out)], n, env=_env())
    if mine.failures:
        res.figure, res.met, res.note = "failed", "no", "; ".join(mine.failures)
        return res
    with out.open("rb") as fh:
        lines = sum(1 for _ in fh)
    res.s2s = f"{fmt_s(mine.median)}, {lines - 1:,} rows written"
    res.figure = f"{mine.peak_mib:.0f} MiB"
    res.met = "yes" if mine.peak_mib <= 100 else "no"
    return res


def bench_seed(work: Path, db: Path, runs: int, yaml_path: Path) -> Result:
    res = Result(6, "seed load of the national-scale YAML directory", target="report")
    tmpl = fresh_s2s_db(work)
    target = work / "seed-run.db"

    def fresh() -> None:
        copy_db(tmpl, target)

    n = max(3, runs // 2)
    mine = measure([*s2s_cmd(), "--db", str(target), "--quiet", "seed", "load",
                    str(yaml_path)], n, warmup=0, setup=fresh, env=_env())
    if mine.failures:
        res.figure, res.met, res.note = "failed", "no", "; ".join(mine.failures)
        return res
    con = sqlite3.connect(target)
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
               for t in ("region", "local_authority", "school", "leader", "leader_specialism"))
    con.close()
    res.s2s = fmt_s(mine.median)
    res.figure = f"{rows / mine.median:,.0f} rows/s ({rows:,} rows)"
    res.met = "reported"
    res.note = f"peak memory {mine.peak_mib:.0f} MiB"
    return res


# --- issue 13: Ofsted MI import, current GIAS import, prospects (figures 7-9) ---------------
# Inputs from generate.generate_domain(): ofsted_mi.csv (22,000 rows, the 86 published
# columns, Windows-1252), gias_current.csv (25,000 rows, the 135 current columns) and
# national-cards.db (national.db after s2s imported both).

PROSPECTS_REGION = "London"
PROSPECTS_TODAY = "2026-03-16"  # mid-year: the national data's deployments fill 2025-26


def prospects_sql(region: str, today: str) -> str:
    """`s2s prospects --region R` in SQL: each school's latest report card with an area
    needing attention or urgent improvement, safeguarding not met or a category of concern;
    its low areas as a JSON object, severity, active deployments, and how many active leaders
    with days free this academic year hold a specialism serving a low area (the map in
    taxonomy.AREA_SPECIALISMS), not counting those based there; severity, then recency."""
    from s2s_cli import taxonomy

    year = int(today[:4]) - (1 if int(today[5:7]) < 9 else 0)
    serves = ", ".join(f"('{a}', '{slug}')" for a, slugs in taxonomy.AREA_SPECIALISMS.items()
                       for slug in slugs)
    return f"""
WITH card AS MATERIALIZED (
  SELECT i.id, i.school_urn, i.start, i.published, i.safeguarding, i.category
  FROM inspection i
  JOIN school s ON s.urn = i.school_urn JOIN local_authority l ON l.id = s.la_id
  JOIN region r ON r.id = l.region_id
  WHERE r.name = '{region}' AND i.framework = 'report-card'
    AND i.id = (SELECT i2.id FROM inspection i2 WHERE i2.school_urn = i.school_urn
                AND i2.framework = 'report-card' ORDER BY i2.start DESC, i2.id DESC LIMIT 1)
    AND (i.safeguarding = 'not met' OR i.category IS NOT NULL OR EXISTS (
         SELECT 1 FROM inspection_grade g WHERE g.inspection_id = i.id AND g.grade >= 4))),
low AS MATERIALIZED (SELECT g.inspection_id, g.area, g.grade FROM inspection_grade g
                     JOIN card c ON c.id = g.inspection_id WHERE g.grade >= 4),
taken AS MATERIALIZED (
  SELECT d.leader_id, sum(CASE WHEN d.status = 'active' THEN d.agreed_halves ELSE
           (SELECT coalesce(sum(x.halves), 0) FROM day_log x WHERE x.deployment_id = d.id)
           END) AS halves
  FROM deployment d WHERE d.start BETWEEN '{year}-09-01' AND '{year + 1}-08-31'
    AND d.status <> 'cancelled' GROUP BY d.leader_id),
free AS MATERIALIZED (
  SELECT l.id, l.home_school_urn FROM leader l LEFT JOIN taken t ON t.leader_id = l.id
  WHERE l.active = 1 AND l.erased = 0 AND l.capacity_days * 2 - coalesce(t.halves, 0) > 0),
serves(area, slug) AS (VALUES {serves}),
area_free AS MATERIALIZED (  -- per low area, the free leaders serving it
  SELECT DISTINCT sv.area, f.id, f.home_school_urn FROM serves sv
  JOIN leader_specialism ls ON ls.specialism_slug = sv.slug JOIN free f ON f.id = ls.leader_id
  WHERE sv.area IN (SELECT area FROM low)),
combo AS MATERIALIZED (  -- each card's set of low areas, as text
  SELECT inspection_id, group_concat(area, ',') AS areas
  FROM (SELECT inspection_id, area FROM low ORDER BY inspection_id, area)
  GROUP BY inspection_id),
combo_free AS MATERIALIZED (  -- free leaders serving some area of each distinct set
  SELECT x.areas, count(DISTINCT af.id) AS n
  FROM (SELECT DISTINCT cb.areas, low.area FROM combo cb
        JOIN low ON low.inspection_id = cb.inspection_id) x
  JOIN area_free af ON af.area = x.area GROUP BY x.areas),
based AS MATERIALIZED (  -- ... of whom based at the school itself (not counted)
  SELECT low.inspection_id, count(DISTINCT af.id) AS n FROM low
  JOIN card c ON c.id = low.inspection_id
  JOIN area_free af ON af.area = low.area AND af.home_school_urn = c.school_urn
  GROUP BY low.inspection_id),
helpers AS MATERIALIZED (
  SELECT cb.inspection_id, cf.n - coalesce(bs.n, 0) AS n FROM combo cb
  JOIN combo_free cf ON cf.areas = cb.areas
  LEFT JOIN based bs ON bs.inspection_id = cb.inspection_id),
lows AS MATERIALIZED (
  SELECT inspection_id, 3 * sum(grade = 5) + sum(grade = 4) AS points,
         json_group_object(area, CASE grade WHEN 5 THEN 'urgent improvement'
                           ELSE 'needs attention' END) AS areas
  FROM low GROUP BY inspection_id),
deployed AS MATERIALIZED (
  SELECT d.school_urn, count(*) AS n FROM deployment d JOIN card c ON c.school_urn = d.school_urn
  WHERE d.status = 'active' GROUP BY d.school_urn)
SELECT s.urn, s.name, l.name AS local_authority, r.name AS region, s.phase,
  coalesce(lo.points, 0) + CASE WHEN c.safeguarding = 'not met' THEN 5 ELSE 0 END
     + CASE WHEN c.category IS NOT NULL THEN 4 ELSE 0 END AS severity,
  lo.areas, c.safeguarding, c.category AS category_of_concern, c.start AS inspected,
  c.published, coalesce(dp.n, 0) AS active_deployments,
  coalesce(h.n, 0) AS leaders_available
FROM card c JOIN school s ON s.urn = c.school_urn JOIN local_authority l ON l.id = s.la_id
JOIN region r ON r.id = l.region_id
LEFT JOIN lows lo ON lo.inspection_id = c.id LEFT JOIN helpers h ON h.inspection_id = c.id
LEFT JOIN deployed dp ON dp.school_urn = c.school_urn
ORDER BY severity DESC, inspected DESC, s.urn
"""


def _fresh_copy(src: Path, dst: Path) -> Callable[[], None]:
    return lambda: copy_db(src, dst)


def _fresh_ref(ref_db: Path) -> Callable[[], None]:
    def clean() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(ref_db) + suffix).unlink(missing_ok=True)
    return clean


def bench_import_ofsted(work: Path, runs: int, files: dict[str, Path],
                        national: Path) -> Result:
    res = Result(7, "import ofsted (22,000-row MI file, 86 columns) vs sqlite-utils insert "
                    "--csv", target="<= 1.0")
    if not has_command("import", "ofsted"):
        return res
    target, ref_db = work / "ofsted-run.db", work / "ofsted-ref.db"
    n = max(3, runs // 2)
    mine, ref = measure_pair(
        [*s2s_cmd(), "--db", str(target), "--quiet", "import", "ofsted", str(files["ofsted"])],
        [str(BIN / "sqlite-utils"), "insert", str(ref_db), "inspections",
         str(files["ofsted"]), "--csv", "--encoding", "cp1252"], n,
        mine_setup=_fresh_copy(national, target), ref_setup=_fresh_ref(ref_db))
    res = ratio_result(res, mine, ref, 1.0)
    if not mine.failures:
        con = sqlite3.connect(target)
        insp, grades = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                        for t in ("inspection", "inspection_grade"))
        con.close()
        res.note = (f"into a copy of the national database (25,000 schools): s2s validates "
                    f"every row and adds {insp:,} inspections (report cards and legacy) with "
                    f"{grades:,} grades, audited; sqlite-utils stores the 22,000 rows as text "
                    "after detecting column types")
    return res


def bench_import_gias_current(work: Path, runs: int, files: dict[str, Path],
                              national: Path) -> Result:
    res = Result(8, "import gias (current layout: 25,000 rows, 135 columns) vs sqlite-utils "
                    "insert --csv", target="<= 0.5")
    if not has_command("import", "gias"):
        return res
    target, ref_db = work / "gias-current-run.db", work / "gias-current-ref.db"
    n = max(3, runs // 2)
    mine, ref = measure_pair(
        [*s2s_cmd(), "--db", str(target), "--quiet", "import", "gias",
         str(files["gias_current"])],
        [str(BIN / "sqlite-utils"), "insert", str(ref_db), "schools",
         str(files["gias_current"]), "--csv", "--encoding", "cp1252"], n,
        mine_setup=_fresh_copy(national, target), ref_setup=_fresh_ref(ref_db))
    res = ratio_result(res, mine, ref, 0.5)
    if not mine.failures:
        con = sqlite3.connect(target)
        trusts = con.execute("SELECT count(*) FROM trust").fetchone()[0]
        placed = con.execute("SELECT count(*) FROM school WHERE easting IS NOT NULL"
                             ).fetchone()[0]
        con.close()
        res.note = (f"into a copy of the national database: every one of the 25,000 schools "
                    f"updated (address, phone, website, trust, coordinates: {placed:,} placed), "
                    f"{trusts:,} trusts added")
    return res


def bench_prospects(work: Path, runs: int, files: dict[str, Path]) -> Result:
    res = Result(9, f"prospects --region {PROSPECTS_REGION} --format json vs sqlite-utils "
                    "query", target="<= 1.0")
    if not has_command("prospects"):
        return res
    db = work / "cards-bench.db"  # a working copy: the cached one stays pristine
    copy_db(files["cards_db"], db)
    env = {**_env(), "S2S_TODAY": PROSPECTS_TODAY}
    mine_cmd = [*s2s_cmd(), "--db", str(db), "prospects", "--region", PROSPECTS_REGION,
                "--format", "json"]
    ref_cmd = [str(BIN / "sqlite-utils"), "query", str(db),
               prospects_sql(PROSPECTS_REGION, PROSPECTS_TODAY)]
    mine, ref = measure_pair(mine_cmd, ref_cmd, runs, env=env)
    res = ratio_result(res, mine, ref, 1.0)
    try:  # the two really answer the same question
        a = json.loads(subprocess.run(mine_cmd, capture_output=True, env=env).stdout)
        b = json.loads(subprocess.run(ref_cmd, capture_output=True, env=env).stdout)
        key = ("urn", "severity", "active_deployments", "leaders_available")
        same = [tuple(r[k] for k in key) for r in a] == [tuple(r[k] for k in key) for r in b]
        res.note = (f"both return the same {len(a)} schools in the same order, with the same "
                    "severity, deployments and free leaders" if same else
                    f"s2s returned {len(a)} schools, the reference {len(b)} (or they differ)")
    except (ValueError, KeyError, TypeError) as exc:
        res.note = f"could not compare the answers: {exc}"
    return res


def domain_steps(work: Path, runs: int, national: Path
                 ) -> list[tuple[int, Callable[[], Result]]]:
    import generate

    subprocess.run([sys.executable, str(HERE / "generate.py"), "--work", str(work),
                    "--domain"], check=True)
    files = generate.domain_paths(work)
    return [
        (7, lambda: bench_import_ofsted(work, runs, files, national)),
        (8, lambda: bench_import_gias_current(work, runs, files, national)),
        (9, lambda: bench_prospects(work, runs, files)),
    ]



def machine() -> dict[str, str]:
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        su = version("sqlite-utils")
    except Exception:
        su = "?"
    return {"cores": str(os.cpu_count()), "cpu": cpu, "ram": mem,
            "python": platform.python_version(), "os": platform.platform(),
            "sqlite": sqlite3.sqlite_version, "sqlite-utils": su}


def write_results(path: Path, results: list[Result], info: dict[str, str], runs: int,
                  counts: dict[str, int]) -> None:
    lines = [
        "# Benchmark results", "",
        f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by `benchmarks/run.py` "
        f"(median of {runs} runs after a warm-up for figures 1-2, of {max(3, runs // 2)} for "
        "3-8 and 10, of 7 for 9; whole processes, start-up included). See `docs/benchmarks.md`.",
        "",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['ram']} RAM, Python "
        f"{info['python']}, SQLite {info['sqlite']}, sqlite-utils {info['sqlite-utils']}, "
        f"{info['os']}.", "",
        "Data: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()) + ".", "",
        "| # | benchmark | s2s | reference | figure | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r.number} | {r.title} | {r.s2s} | {r.reference or '-'} | "
                     f"{r.figure} | {r.target} | {r.met} |")
    notes = [f"- {r.number}: {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "Notes:", *notes]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description="National-scale s2s benchmarks.")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", default=",".join(str(n) for n in ALL_FIGURES))
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = ap.parse_args()
    if not (BIN / "sqlite-utils").exists():
        print("sqlite-utils (the reference tool) is not installed in this environment: run "
              f"`{BIN / 'pip'} install -e '.[bench]'` first", file=sys.stderr)
        return 2
    import generate

    # Generate in a child process: a child's peak RSS (benchmark 5) counts the parent's memory
    # at fork time on Linux, so this process must stay small.
    subprocess.run([sys.executable, str(HERE / "generate.py"), "--work", str(args.work)],
                   check=True)
    files = generate.generate(args.work, quiet=True)
    stamp = json.loads(files["stamp"].read_text())
    national = args.work / "bench.db"  # a working copy: the cached original stays pristine
    copy_db(files["db"], national)
    wanted = {int(x) for x in args.only.split(",") if x.strip()}
    steps: list[tuple[int, Callable[[], Result]]] = [
        (1, lambda: bench_find(args.work, national, args.runs)),
        (2, lambda: bench_help(args.work, national, args.runs)),
        (3, lambda: bench_import(args.work, national, args.runs, files["csv"])),
        (4, lambda: bench_invoice(args.work, national, args.runs, stamp["invoice_month"])),
        (5, lambda: bench_report(args.work, national, args.runs)),
        (6, lambda: bench_seed(args.work, national, args.runs, files["yaml"])),
        (10, lambda: bench_issue(args.work, national, args.runs, stamp["invoice_month"])),
    ]
    if wanted & {7, 8, 9}:
        steps += domain_steps(args.work, args.runs, files["db"])
    results = []
    for number, step in steps:
        if number not in wanted:
            continue
        r = step()
        results.append(r)
        extra = f" [{r.note}]" if r.note else ""
        ref = f" vs {r.reference}" if r.reference else ""
        print(f"{r.number}. {r.title}: {r.s2s}{ref} -> {r.figure} "
              f"(target {r.target}: {r.met}){extra}", flush=True)
    if not args.no_write and wanted == set(ALL_FIGURES):
        write_results(HERE / "RESULTS.md", results, machine(), args.runs, stamp["counts"])
        print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
