"""The light PostgreSQL paths (`fastdb`, `unit`: psycopg2 when installed, else psycopg; no
SQLAlchemy) against the ORM path on the same data: rows typed alike, the same command output,
the same rows written, the same locks, retries and one-line errors.

Runs only when S2S_TEST_PG_URL points at a PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from s2s_cli import fastdb, schema, unit
from tests.conftest import PG_URL, Run, _pg_fresh, _pg_name

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not (PG_URL and PG_URL.startswith("postgresql")),
                       reason="needs S2S_TEST_PG_URL=postgresql+psycopg://..."),
]

TODAY = "2026-04-20"
DRIVERS = ["psycopg2", "psycopg"]


def _use_driver(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make the light paths use this driver (pytest.importorskip: it must be installed)."""
    module = pytest.importorskip(name)
    monkeypatch.setattr(fastdb, "pg_driver", lambda: module)


def _orm_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every read and write through SQLAlchemy (what runs when no light driver can)."""
    monkeypatch.setattr(fastdb, "pg_connect", lambda target: None)


def _new_id(run: Run, *args: str) -> int:
    return int(json.loads(run(*args, "--format", "json", ok=True).stdout)["id"])


def _book(run: Run) -> dict[str, Any]:
    """Requests, deployments, days (full, half, a block) and an issued March."""
    ids: dict[str, Any] = {"requests": [], "deployments": []}
    for leader, urn in (("L9001", 131543), ("L9004", 131542)):
        rid = _new_id(run, "request", "log", "--school", str(urn), "--need", "achievement",
                      "--specialism", "phonics", "--days", "6", "--received", "2026-02-02")
        did = _new_id(run, "deploy", str(rid), "--leader", leader, "--days", "6", "--start",
                      "2026-03-02", "--end", "2026-04-30", "--work", "coaching")
        ids["requests"].append(rid)
        ids["deployments"].append(did)
    d1, d2 = ids["deployments"]
    run("log", str(d1), "--date", "2026-03-03", ok=True)
    run("log", str(d1), "--date", "2026-03-04", "--half", "--note", "café 50% – ok", ok=True)
    run("log", str(d2), "--from", "2026-03-09", "--to", "2026-03-11", ok=True)
    run("invoice", "--month", "2026-03", "--issue", "--date", "2026-04-01", ok=True)
    run("log", str(d1), "--date", "2026-04-14", ok=True)
    ids["invoice"] = json.loads(run("invoices", "list", "--format", "json", ok=True).stdout
                                )[0]["number"]
    return ids


@pytest.fixture
def booked(mini: Run, monkeypatch: pytest.MonkeyPatch) -> tuple[Run, dict[str, Any]]:
    monkeypatch.setenv("S2S_TODAY", TODAY)
    return mini, _book(mini)


def _ordered(table: str) -> str:
    cols = ", ".join(f'"{c[0]}"' for c in schema.TABLES[table])
    keys = ", ".join(f'"{k}"' for k in schema.PRIMARY_KEYS[table])
    return f'SELECT {cols} FROM "{table}" ORDER BY {keys}'


def _typed(value: Any) -> tuple[str, Any, Any]:
    offset = value.utcoffset() if isinstance(value, dt.datetime) else None
    return type(value).__name__, value, offset


@pytest.mark.parametrize("driver", DRIVERS)
def test_rows_come_back_typed_as_the_orm_reads_them(booked, monkeypatch, driver):
    """Every column of every table, through the light reader and through SQLAlchemy: the same
    values of the same types (ints, text, dates as datetime.date, aware timestamps...)."""
    from s2s_cli import db

    run, _ids = booked
    _use_driver(monkeypatch, driver)
    conn = fastdb.open_pg(run.target)
    assert conn is not None and type(conn).__module__.split(".")[0] == driver
    seen = 0
    try:
        light = fastdb.pg_reader(conn)
        with db.read_session(db.prepare(run.target)) as session:
            orm = fastdb.session_reader(session)
            for table in schema.TABLES:
                mine = [[_typed(v) for v in row] for row in light.all(_ordered(table))]
                theirs = [[_typed(v) for v in row] for row in orm.all(_ordered(table))]
                assert mine == theirs, table
                seen += bool(mine)
    finally:
        conn.close()
    assert seen >= 15  # the comparison saw rows in most tables


@pytest.mark.parametrize("driver", DRIVERS)
def test_write_transaction_rows_match_the_orm_models(booked, monkeypatch, driver):
    """`unit.Tx` reads rows as the ORM's models hold them, column by column."""
    from sqlmodel import SQLModel, select

    from s2s_cli import db, models

    run, _ids = booked
    _use_driver(monkeypatch, driver)
    classes = {m.__tablename__: m for m in vars(models).values()
               if isinstance(m, type) and issubclass(m, SQLModel) and hasattr(m, "__table__")}
    opened = unit.open_write(run.target)
    assert opened is not None and opened[1] == "postgresql"
    conn = opened[0]
    compared = 0
    try:
        tx = unit.Tx(conn, "postgresql", actor="t", command="t")
        with db.read_session(db.prepare(run.target)) as session:
            for table, model in classes.items():
                if table not in schema.TABLES:
                    continue
                key = schema.PRIMARY_KEYS[table]
                rows = {tuple(r[k] for k in key): r for r in tx.select(table, "1 = 1", {})}
                for obj in session.exec(select(model)).all():
                    row = rows.pop(tuple(getattr(obj, k) for k in key))
                    for name, _kind, _default in schema.TABLES[table]:
                        assert _typed(row[name]) == _typed(getattr(obj, name)), (table, name)
                    compared += 1
                assert rows == {}, table
    finally:
        tx.rollback()
        conn.close()
    assert compared > 100


READS = [
    ["find", "-s", "phonics", "--format", "json"],
    ["find", "--format", "csv"],
    ["match", "{r0}", "--format", "json"],
    ["invoice", "--month", "2026-04", "--format", "csv"],
    ["invoice", "--month", "2026-04", "--format", "json"],
    ["invoices", "list", "--format", "json"],
    ["invoices", "show", "{i0}", "--format", "json"],
    ["debtors", "--format", "json"],
    ["charges", "--format", "csv"],
    ["audit", "--format", "json"],
    ["week", "--format", "json"],
    ["report", "days", "--from", "2026-03-01", "--to", "2026-04-30", "--format", "csv"],
    ["log", "list", "--format", "json"],
    ["deployment", "list", "--format", "json"],
    ["deployment", "show", "{d0}", "--format", "json"],
    ["leader", "show", "L9001", "--format", "json"],
    ["capacity", "--format", "json"],
]


@pytest.mark.parametrize("driver", DRIVERS)
def test_reads_print_what_the_orm_path_prints(booked, monkeypatch, driver):
    run, ids = booked
    names = {"r0": str(ids["requests"][0]), "d0": str(ids["deployments"][0]),
             "i0": ids["invoice"]}
    commands = [[a.format(**names) for a in args] for args in READS]
    _use_driver(monkeypatch, driver)
    opened: list[str] = []
    real_open = fastdb.open_pg

    def open_pg(target: str, **kw: Any) -> Any:
        conn = real_open(target, **kw)
        opened.append(type(conn).__module__.split(".")[0])
        return conn

    monkeypatch.setattr(fastdb, "open_pg", open_pg)
    light = [run(*args) for args in commands]
    assert opened and set(opened) == {driver}  # the light reader served them
    with monkeypatch.context() as mp:
        _orm_only(mp)
        orm = [run(*args) for args in commands]
    for args, mine, theirs in zip(commands, light, orm, strict=True):
        assert mine.exit_code == theirs.exit_code == 0, (args, mine.stderr, theirs.stderr)
        assert mine.stdout == theirs.stdout, args
        assert mine.stdout.strip(), args


# the moments rows were written, and the seals over documents holding them
_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?|[0-9a-f]{64}")


def _written(target: str) -> list[Any]:
    """The rows the writes below touch, with the moments they were written (and the seals
    over documents that hold them) masked."""
    from tests.conftest import query

    out = []
    for table in ("support_request", "deployment", "day_log", "planned_session", "audit_log"):
        cols = [c[0] for c in schema.TABLES[table] if c[0] not in ("hash", "at", "created_at")]
        sql = (f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)} FROM {table} "
               f"ORDER BY {', '.join(schema.PRIMARY_KEYS[table])}")
        for row in query(target, sql):
            out.append((table, *(_STAMP.sub("T", v) if isinstance(v, str) else v
                                 for v in row)))
    return out


def test_log_and_deploy_write_what_the_orm_path_writes(mini, templates, monkeypatch):
    """The same commands on two copies of one database: psycopg2 light transactions on one,
    SQLAlchemy's own connection on the other (unit.open_write declines): the same output,
    rows and audit rows (but for their moments), and both audit chains verify."""
    monkeypatch.setenv("S2S_TODAY", TODAY)
    _use_driver(monkeypatch, "psycopg2")
    other = Run(_pg_fresh(_pg_name("case_orm"), templates.get("mini")))
    results = []
    for run, light in ((mini, True), (other, False)):
        with monkeypatch.context() as mp:
            if not light:
                mp.setattr(unit, "open_write", lambda target: None)
            out = []
            ids = _book(run)
            d1 = str(ids["deployments"][0])
            for args in (["log", d1, "--date", "2026-04-15", "--activity", "one-to-one"],
                         ["log", d1, "--date", "2026-04-15", "--half"],  # refused: full
                         ["log", d1, "--date", "2026-04-16", "--half", "--over", "why"],
                         ["log", "999999", "--date", "2026-04-15"],
                         ["deploy", str(ids["requests"][0]), "--leader", "L9001", "--days",
                          "1", "--start", "2026-05-04"]):
                result = run(*args)
                out.append((args, result.exit_code, result.stdout, result.stderr))
            results.append(out)
        assert run("db", "check").exit_code == 0, run("db", "check").stdout
    assert results[0] == results[1]
    assert _written(mini.target) == _written(other.target)


def _failing_first(monkeypatch: pytest.MonkeyPatch, sqlstate: str, times: int = 1) -> list[int]:
    """Make `deployments.log_days` meet a server error with this SQLSTATE `times` times (a
    real one, raised by PostgreSQL inside the transaction) before it runs."""
    from s2s_cli.services import deployments

    calls: list[int] = []
    real = deployments.log_days

    def log_days(tx: Any, inp: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            tx.reader.all("DO $$ BEGIN RAISE EXCEPTION 'injected %' , 1 USING ERRCODE = "
                          f"'{sqlstate}'; END $$")
        return real(tx, inp)

    monkeypatch.setattr(deployments, "log_days", log_days)
    return calls


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_serialisation_failures_and_deadlocks_are_retried(booked, monkeypatch, sqlstate):
    from tests.conftest import query

    run, ids = booked
    _use_driver(monkeypatch, "psycopg2")
    calls = _failing_first(monkeypatch, sqlstate, times=2)
    d1 = ids["deployments"][0]
    result = run("log", str(d1), "--date", "2026-04-15", ok=True)
    assert len(calls) == 3
    assert query(run.target, "SELECT count(*) FROM day_log WHERE deployment_id = :d AND "
                 "date = :day", d=d1, day=dt.date(2026, 4, 15))[0][0] == 1
    assert result.stdout.strip().isdigit()


@pytest.mark.parametrize("driver", DRIVERS)
def test_driver_errors_are_one_line_as_on_the_orm_path(booked, monkeypatch, snapshot, driver):
    """A lock wait that ran out is 'busy' (exit 1); any other server error one line naming
    the database (exit 1); nothing written, whichever driver met it."""
    run, ids = booked
    monkeypatch.delenv("S2S_RAISE_ERRORS")
    _use_driver(monkeypatch, driver)
    before = snapshot(run.target)
    d1 = str(ids["deployments"][0])
    _failing_first(monkeypatch, "55P03", times=99)
    busy = run("log", d1, "--date", "2026-04-15")
    assert busy.exit_code == 1
    assert busy.stderr == ("Error: the database is busy (another s2s or a backup holds it); "
                           "try again\n")
    _failing_first(monkeypatch, "23505", times=99)
    other = run("log", d1, "--date", "2026-04-15")
    assert other.exit_code == 1 and other.stdout == ""
    assert other.stderr.startswith("Error: database error: injected 1 (")
    assert other.stderr.endswith("; nothing was written\n") and other.stderr.count("\n") == 1
    assert snapshot(run.target) == before


def test_log_holds_the_leader_and_deployment_rows(booked, monkeypatch):
    """While `log` decides, its leader and deployment rows are locked (FOR UPDATE) against
    every other writer; after it commits they are free again."""
    import psycopg2

    from s2s_cli.services import deployments

    run, ids = booked
    _use_driver(monkeypatch, "psycopg2")
    d1 = ids["deployments"][0]
    seen: list[str] = []
    real = deployments.log_days

    def try_lock(sql: str) -> str:
        other = psycopg2.connect(fastdb.pg_conninfo(run.target))
        try:
            other.cursor().execute(sql + " FOR UPDATE NOWAIT", {"d": d1})
            return "free"
        except psycopg2.errors.LockNotAvailable:
            return "locked"
        finally:
            other.close()

    def log_days(tx: Any, inp: Any) -> Any:
        result = real(tx, inp)
        seen.append(try_lock("SELECT 1 FROM deployment WHERE id = %(d)s"))
        seen.append(try_lock("SELECT 1 FROM leader WHERE id = (SELECT leader_id FROM "
                             "deployment WHERE id = %(d)s)"))
        return result

    monkeypatch.setattr(deployments, "log_days", log_days)
    run("log", str(d1), "--date", "2026-04-15", ok=True)
    assert seen == ["locked", "locked"]
    assert try_lock("SELECT 1 FROM deployment WHERE id = %(d)s") == "free"
