"""Alembic owns the schema: a database built at the first revision and filled with a year's
kind of records upgrades to head with nothing lost; the migrated schema is exactly the models'
metadata; commands refuse a database that is older (telling the user to run `s2s db upgrade`)
or newer than the code.  Runs on SQLite, and on PostgreSQL too when S2S_TEST_PG_URL is set
(through the `db` fixture)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from s2s_cli import db as dbmod
from s2s_cli import location
from tests.conftest import Run

UTC = dt.UTC
T0 = dt.datetime(2025, 9, 1, 8, 30, tzinfo=UTC)

# Rows written at revision 0001, table by table, in foreign-key order.
ROWS_0001: dict[str, list[dict[str, Any]]] = {
    "region": [{"id": 1, "name": "London"}, {"id": 2, "name": "North West"}],
    "local_authority": [{"id": 1, "code": 202, "name": "Camden", "region_id": 1},
                        {"id": 2, "code": 350, "name": "Bolton", "region_id": 2}],
    "specialism": [
        {"slug": "phonics", "name": "Phonics", "focus_area": "Pupil achievement",
         "other_focus_area": None},
        {"slug": "maths", "name": "Maths", "focus_area": "Pupil achievement",
         "other_focus_area": None},
        {"slug": "assessment", "name": "Assessment", "focus_area": "Leadership and management",
         "other_focus_area": "Quality of teaching"}],
    "school": [
        {"urn": 131542, "name": "Brookfield Primary School", "la_id": 1, "phase": "primary",
         "type": "academy", "trust": "Northern Lights Trust", "pupils": 180,
         "ofsted": "outstanding", "postcode": "NW1 1AA", "status": "open",
         "teaching_school": True, "teaching_school_hub": False,
         "national_support_school": False},
        {"urn": 131543, "name": "Bolton High School", "la_id": 2, "phase": "secondary",
         "type": "community school", "trust": None, "pupils": 1100,
         "ofsted": "requires improvement", "postcode": None, "status": "open",
         "teaching_school": False, "teaching_school_hub": False,
         "national_support_school": True}],
    "leader": [
        {"id": "L9001", "name": "Amira Okafor", "kind": "SLE", "home_school_urn": 131542,
         "designated_by_urn": 131542, "email": "amira.okafor@example.org",
         "phone": "01632 960001", "capacity_days": 20, "active": True,
         "designations": "pupil premium reviewer"},
        {"id": "L9002", "name": "Ben Hall", "kind": "NLE", "home_school_urn": 131543,
         "designated_by_urn": None, "email": None, "phone": None, "capacity_days": 10,
         "active": False, "designations": ""}],
    "leader_specialism": [{"leader_id": "L9001", "specialism_slug": "phonics"},
                          {"leader_id": "L9001", "specialism_slug": "assessment"},
                          {"leader_id": "L9002", "specialism_slug": "maths"}],
    "support_request": [
        {"id": 1, "school_urn": 131543, "need": "achievement", "kind": "SLE",
         "days_halves": 10, "funding": "school", "funder": None, "note": "Year 1 phonics",
         "contact": "head@example.org", "received": dt.date(2025, 9, 3), "status": "matched",
         "cancel_reason": None, "created_at": T0, "matched_on": dt.date(2025, 9, 5),
         "closed_on": None}],
    "request_specialism": [{"request_id": 1, "specialism_slug": "phonics"}],
    "deployment": [
        {"id": 1, "request_id": 1, "leader_id": "L9001", "school_urn": 131543,
         "agreed_halves": 10, "start": dt.date(2025, 9, 8), "end": dt.date(2025, 12, 19),
         "work": "coaching", "funding": "school", "funder": None, "dfe_extra_days": 0,
         "rate_pence": 35000, "half_day_rate_pence": 17500, "supply_pence": 29750,
         "half_day_supply_pence": 14875, "rate_source": "card: SLE", "status": "active",
         "override_reason": None, "created_at": T0, "closed_on": None}],
    "invoice": [
        {"id": 1, "series": "invoice", "number": "S2S-2025-0001", "seq": 1, "year": 2025,
         "payer": "Bolton High School", "payer_school_urn": 131543,
         "period_from": dt.date(2025, 9, 1), "period_to": dt.date(2025, 9, 30),
         "issued": dt.date(2025, 10, 1), "due": dt.date(2025, 10, 29),
         "subtotal_pence": 52500, "vat_pence": 0, "total_pence": 52500,
         "credits_invoice_id": None, "voided_by_id": None,
         "details": '{"alliance_name": "Test Alliance"}', "created_at": T0}],
    "day_log": [
        {"id": 1, "deployment_id": 1, "leader_id": "L9001", "date": dt.date(2025, 9, 8),
         "halves": 2, "activity": "coaching", "note": None, "over_reason": None,
         "invoice_id": 1, "created_at": T0},
        {"id": 2, "deployment_id": 1, "leader_id": "L9001", "date": dt.date(2025, 9, 9),
         "halves": 1, "activity": "diagnosis", "note": "am only", "over_reason": None,
         "invoice_id": 1, "created_at": T0},
        {"id": 3, "deployment_id": 1, "leader_id": "L9001", "date": dt.date(2025, 10, 6),
         "halves": 2, "activity": "coaching", "note": None, "over_reason": None,
         "invoice_id": None, "created_at": T0}],
    "invoice_line": [
        {"id": 1, "invoice_id": 1, "deployment_id": 1, "leader_id": "L9001",
         "kind": "charged", "date_from": dt.date(2025, 9, 8), "date_to": dt.date(2025, 9, 9),
         "full_days": 1, "half_days": 1, "halves": 3, "rate_pence": 35000,
         "half_day_rate_pence": 17500, "amount_pence": 52500, "supply_pence": 44625}],
    "invoice_day": [
        {"invoice_id": 1, "day_log_id": 1, "line_id": 1, "kind": "charged",
         "amount_pence": 35000, "supply_pence": 29750},
        {"invoice_id": 1, "day_log_id": 2, "line_id": 1, "kind": "charged",
         "amount_pence": 17500, "supply_pence": 14875}],
    "evaluation": [
        {"id": 1, "deployment_id": 1, "by": "school", "rating": 5,
         "impact": "Phonics screening pass rate up", "date": dt.date(2025, 12, 19),
         "created_at": T0}],
    "counter": [{"series": "invoice", "year": 2025, "value": 1}],
    "setting": [{"key": "rate_card", "value": '{"kinds": {}}'}],
}
# Tables whose integer ids must keep counting after the upgrade (PostgreSQL sequences).
SERIAL_TABLES = ("region", "local_authority", "support_request", "deployment", "invoice",
                 "day_log", "invoice_line", "evaluation")


def _insert(conn: Any, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join(f":{c}" for c in row)
    conn.execute(text(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'), row)


def _fix_sequences(conn: Any) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move them on, as a real database's are."""
    if conn.dialect.name != "postgresql":
        return
    for table in SERIAL_TABLES:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"(SELECT max(id) FROM \"{table}\"))"))


def _rows(conn: Any, table: str, columns: list[str]) -> list[dict[str, Any]]:
    cols = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{c}"' for c in columns[:2])
    out = []
    for row in conn.execute(text(f'SELECT {cols} FROM "{table}" ORDER BY {order}')).mappings():
        out.append({k: _normal(v) for k, v in row.items()})
    return out


def _normal(value: Any) -> Any:
    """Driver differences that are not data differences: SQLite returns booleans as 0/1 and
    dates/timestamps as text through a raw text() query."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " ":
        return value[:19]  # SQLite timestamp text '2025-09-01 08:30:00.000000'
    return value


def _expected(table: str) -> list[dict[str, Any]]:
    rows = [{k: _normal(v) for k, v in r.items()} for r in ROWS_0001[table]]
    first_two = list(ROWS_0001[table][0])[:2]
    return sorted(rows, key=lambda r: tuple(str(r[c]) for c in first_two))


def _engine_at_0001(target: str) -> Engine:
    engine = dbmod.make_engine(target)
    dbmod.upgrade(engine, "0001")
    assert dbmod.current_revision(engine) == ("0001", True)
    with engine.begin() as conn:
        for table, rows in ROWS_0001.items():
            for row in rows:
                _insert(conn, table, row)
        _fix_sequences(conn)
    return engine


def _compare_schema(engine: Engine) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import s2s_cli.models  # noqa: F401  (registers the tables)

    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(mc, SQLModel.metadata)


def test_upgrade_from_0001_keeps_every_row(db: str) -> None:
    engine = _engine_at_0001(db)
    with engine.connect() as conn:
        columns = {t: [c["name"] for c in inspect(conn).get_columns(t)] for t in ROWS_0001}
        before = {t: _rows(conn, t, columns[t]) for t in ROWS_0001}
    for table in ROWS_0001:  # the fixture data really went in, as written
        assert before[table] == _expected(table), table
    assert "notes" not in columns["leader"]

    dbmod.upgrade(engine)

    assert dbmod.current_revision(engine) == (location.SCHEMA_HEAD, True)
    with engine.connect() as conn:
        insp = inspect(conn)
        after = {t: _rows(conn, t, columns[t]) for t in ROWS_0001}
        leader_cols = {c["name"] for c in insp.get_columns("leader")}
        request_cols = {c["name"]: c for c in insp.get_columns("request_specialism")}
        assert "audit_log" in insp.get_table_names()
        new = conn.execute(text("SELECT id, notes, erased FROM leader ORDER BY id")).all()
        terms = conn.execute(text("SELECT request_id, specialism_slug, term "
                                  "FROM request_specialism")).all()
        corrections = conn.execute(text(  # added by 0004_corrections
            "SELECT d.po, d.agreed_on, d.cancel_reason, d.cancelled_on, r.po FROM deployment d "
            "JOIN support_request r ON r.id = d.request_id")).all()
    assert after == before
    assert {"notes", "erased"} <= leader_cols
    assert "term" not in columns["request_specialism"]  # added by 0003, nullable
    assert request_cols["term"]["nullable"] is True
    assert [tuple(r) for r in terms] == [(1, "phonics", None)]
    # an existing deployment was agreed the day it was recorded
    assert [(r[0], str(r[1])[:10], r[2], r[3], r[4]) for r in corrections] == [
        (None, T0.date().isoformat(), None, None, None)]
    assert [(r[0], r[1], bool(r[2])) for r in new] == [("L9001", None, False),
                                                       ("L9002", None, False)]


def test_upgraded_database_keeps_working(db: str) -> None:
    """After the upgrade the old records are usable: new rows get fresh ids, foreign keys
    still hold, and the audit trail added by 0002 is append-only."""
    engine = _engine_at_0001(db)
    dbmod.upgrade(engine)
    with engine.begin() as conn:
        _insert(conn, "day_log", {"deployment_id": 1, "leader_id": "L9001",
                                  "date": dt.date(2025, 10, 7), "halves": 2,
                                  "activity": "coaching", "created_at": T0})
        ids = [r[0] for r in conn.execute(text("SELECT id FROM day_log ORDER BY id"))]
        _insert(conn, "audit_log", {"at": T0, "actor": "test", "command": "s2s test",
                                    "table_name": "leader", "record_id": "L9001",
                                    "action": "update", "before": None, "after": "{}"})
    assert ids == [1, 2, 3, 4]
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        # (0004_tamper sealed the existing invoice first: a `seal` row by s2s)
        assert conn.execute(text("SELECT actor FROM audit_log ORDER BY id DESC")
                            ).scalar() == "test"
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 - either driver's error
        _insert(conn, "day_log", {"deployment_id": 99, "leader_id": "L9001",
                                  "date": dt.date(2025, 10, 8), "halves": 2,
                                  "activity": "coaching", "created_at": T0})


def test_migrated_schema_equals_the_models(db: str) -> None:
    engine = dbmod.make_engine(db)
    dbmod.upgrade(engine)
    assert _compare_schema(engine) == []


def test_upgraded_schema_equals_the_models(db: str) -> None:
    """An existing database brought up from 0001 reaches the same schema as a new one."""
    engine = _engine_at_0001(db)
    dbmod.upgrade(engine)
    assert _compare_schema(engine) == []


def test_code_knows_every_migration() -> None:
    from s2s_cli.migrate import head_revision

    assert location.SCHEMA_HEAD == head_revision()
    assert location.SCHEMA_REVISIONS[0] == "0001"


def _one_line_error(result: Any) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_older_schema_is_refused_until_upgraded(db: str) -> None:
    _engine_at_0001(db)
    run = Run(db)
    for args in (["find", "--specialism", "phonics", "--format", "json"],
                 ["specialisms", "--format", "json"],
                 ["leader", "show", "L9001", "--format", "json"]):
        result = run(*args)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        line = _one_line_error(result)
        assert "older" in line and "s2s db upgrade" in line, line
        assert result.stdout == ""

    current = run.json("db", "current")
    assert current["revision"] == "0001" and "s2s db upgrade" in current["status"]

    result = run("db", "upgrade", ok=True)
    assert result.stdout.strip() == location.SCHEMA_HEAD
    rows = run.json("find", "--specialism", "phonics")
    assert [r["id"] for r in rows] == ["L9001"]
    assert rows[0]["specialisms"] == ["assessment", "phonics"]
    assert run.json("db", "current")["status"] == "current"


def test_newer_schema_is_refused(db: str) -> None:
    engine = dbmod.make_engine(db)
    dbmod.upgrade(engine)
    run = Run(db)
    run("db", "init", ok=True)  # completes it with the reference data
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for args in (["find", "--specialism", "phonics", "--format", "json"],
                 ["seed", "load", "does-not-matter.yaml"]):
        result = run(*args)
        if args[0] == "seed" and result.exit_code == 2:
            continue  # the file is checked before the database: also a refusal
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        line = _one_line_error(result)
        assert "newer" in line and "9999" in line, line
    result = run("db", "upgrade")
    assert result.exit_code == 1
    assert "newer" in _one_line_error(result)
    assert run.json("db", "current")["status"].startswith("newer")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"


def test_a_foreign_database_is_refused(db: str) -> None:
    engine = dbmod.make_engine(db)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"))
    result = Run(db)("find", "--specialism", "phonics")
    assert result.exit_code == 1
    assert "not an s2s database" in _one_line_error(result)
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == ["customers"]


def test_db_init_creates_a_database_at_the_current_schema(db: str) -> None:
    run = Run(db)
    run("db", "init", "--demo", ok=True)
    assert run.json("db", "current")["status"] == "current"
    assert run.json("find", "--specialism", "phonics", "--include-inactive")
    assert _compare_schema(dbmod.make_engine(db)) == []


def test_first_use_by_several_processes_at_once(db: str) -> None:
    """Coordinators who all run `db init` against a new, empty database at the same moment: one
    creates the schema and loads the seed, the others are refused (it exists by then)."""
    import os
    import subprocess
    import sys
    import threading

    from s2s_cli import taxonomy

    env = {k: v for k, v in os.environ.items() if k not in ("S2S_DB", "S2S_RAISE_ERRORS")}
    procs: list[subprocess.CompletedProcess] = []
    start = threading.Barrier(4)

    def first_command() -> None:
        start.wait()
        procs.append(subprocess.run([sys.executable, "-m", "s2s_cli", "db", "init", db,
                                     "--demo"], capture_output=True,
                                    text=True, env=env, timeout=300))

    threads = [threading.Thread(target=first_command) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.returncode for p in procs) == [0, 1, 1, 1], [p.stderr for p in procs]
    assert sum("created a new database" in p.stderr for p in procs) == 1
    assert sum("already exists" in p.stderr for p in procs) == 3
    engine = dbmod.make_engine(db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM specialism")).scalar() == len(
            taxonomy.SPECIALISMS)
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM (SELECT name FROM region GROUP BY name "
                                 "HAVING count(*) > 1) d")).scalar() == 0


def test_0004_money_freezes_existing_deployments_terms_from_todays_data(db: str) -> None:
    engine = _engine_at_0001(db)
    dbmod.upgrade(engine)
    with engine.connect() as conn:
        dep = conn.execute(text(
            "SELECT leader_kind, home_school_urn, school_type, school_band, payer_school_urn, "
            "vat, vat_percent_bp, payment_terms_days FROM deployment WHERE id = 1")).one()
        day = conn.execute(text("SELECT day_log_id, line_id, halves FROM invoice_day "
                                "ORDER BY day_log_id")).all()
        doc = conn.execute(text("SELECT document FROM invoice WHERE id = 1")).scalar()
    # the SLE from Brookfield at Bolton High (community school), card without bands or VAT
    assert tuple(dep) == ("SLE", 131542, "community school", None, 131543, "exempt", 0, 28)
    assert [tuple(r) for r in day] == [(1, 1, 2), (2, 1, 1)]  # halves from the day logs
    assert doc is None  # issued before 0004: rendered from its stored lines
