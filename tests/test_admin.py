"""Administration: `s2s db upgrade/current/check/backup/restore`, `s2s audit`, and the file
permissions of databases, backups and exports."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from s2s_cli import location
from tests.conftest import PG_URL, Run, dump


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- data written straight through the ORM (independent of the brokerage/billing CLIs) ----


def add_billing(target: str, *, leader: str = "L9001", school: int = 131543,
                days: tuple[str, ...] = ("2026-09-14", "2026-09-15", "2026-09-16"),
                issue: bool = True) -> dict[str, Any]:
    """A request, a deployment, day logs and (optionally) an issued invoice covering them, as
    the billing service would write them.  Returns their ids."""
    from s2s_cli import db
    from s2s_cli.models import (
        Counter,
        DayLog,
        Deployment,
        Invoice,
        InvoiceDay,
        InvoiceLine,
        SupportRequest,
    )

    engine = db.make_engine(target)

    def work(s):  # type: ignore[no-untyped-def]
        req = SupportRequest(school_urn=school, need="achievement", received=dt.date(2026, 9, 1))
        s.add(req)
        s.flush()
        dep = Deployment(request_id=req.id, leader_id=leader, school_urn=school,
                         agreed_halves=20, start=dt.date(2026, 9, 1), rate_pence=35000,
                         half_day_rate_pence=17500, supply_pence=29750,
                         half_day_supply_pence=14875)
        s.add(dep)
        s.flush()
        logs = [DayLog(deployment_id=dep.id, leader_id=leader, date=dt.date.fromisoformat(d),
                       halves=2) for d in days]
        s.add_all(logs)
        s.flush()
        out: dict[str, Any] = {"request": req.id, "deployment": dep.id,
                               "days": [d.id for d in logs]}
        if issue:
            counter = s.get(Counter, ("invoice", 2026))
            if counter is None:
                counter = Counter(series="invoice", year=2026, value=0)
                s.add(counter)
            counter.value += 1
            amount = 35000 * len(logs)
            inv = Invoice(series="invoice", number=f"S2S-2026-{counter.value:04d}",
                          seq=counter.value, year=2026, payer=f"school {school}",
                          payer_school_urn=school, period_from=dt.date(2026, 9, 1),
                          period_to=dt.date(2026, 9, 30), issued=dt.date(2026, 10, 1),
                          due=dt.date(2026, 10, 29), subtotal_pence=amount, vat_pence=0,
                          total_pence=amount)
            s.add(inv)
            s.flush()
            line = InvoiceLine(invoice_id=inv.id, deployment_id=dep.id, leader_id=leader,
                               kind="charged", date_from=logs[0].date, date_to=logs[-1].date,
                               full_days=len(logs), half_days=0, halves=2 * len(logs),
                               rate_pence=35000, half_day_rate_pence=17500,
                               amount_pence=amount, supply_pence=29750 * len(logs))
            s.add(line)
            s.flush()
            for d in logs:
                s.add(InvoiceDay(invoice_id=inv.id, day_log_id=d.id, line_id=line.id,
                                 kind="charged", amount_pence=35000, supply_pence=29750))
                d.invoice_id = inv.id
            out["invoice"] = inv.id
            from s2s_cli import audit
            from s2s_cli.services import remittance

            s.flush()
            remittance.record(s, [inv.id])  # the supply cover it owes, as issuing records it
            audit.seal_documents(s, [inv.id])  # as issuing does
        return out

    return db.run_write(engine, work, actor="test", command="test fixture")


def sql(target: str, statement: str, params: dict[str, Any] | None = None) -> None:
    """Tamper with the database behind s2s's back (as a broken tool or hand edit would)."""
    from sqlalchemy import create_engine, text

    url = target if "://" in target else f"sqlite:///{target}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), params or {})
    engine.dispose()


# --- db upgrade / current ----------------------------------------------------------------


def test_db_current_does_not_create_a_database(sqlite_db, tmp_path):
    from typer.testing import CliRunner

    from s2s_cli.cli import app

    named = Run(sqlite_db)("db", "current", "--format", "json")
    assert named.exit_code == 2 and "no database at" in named.stderr
    assert not Path(sqlite_db).exists()
    out = CliRunner().invoke(app, ["db", "current", "--format", "json"])
    record = json.loads(out.stdout)
    assert record["revision"] is None and record["required"] == location.SCHEMA_HEAD
    assert "no database yet" in record["status"]
    assert not (tmp_path / "xdg-data").exists()


def test_db_upgrade_creates_only_the_default_database(db, tmp_path):
    from typer.testing import CliRunner

    from s2s_cli.cli import app

    named = Run(db)("db", "upgrade")
    assert named.exit_code == 2 and "s2s db init" in named.stderr
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == location.SCHEMA_HEAD
    assert "created a new database" in result.stderr
    created = tmp_path / "xdg-data" / "s2s" / "s2s.db"
    assert created.exists()
    run = Run(str(created))
    current = run.json("db", "current")
    assert current["revision"] == location.SCHEMA_HEAD and current["status"] == "current"
    assert len(run.json("find", "--include-inactive")) >= 120
    # again: nothing to do
    again = run("db", "upgrade", ok=True)
    assert f"already at {location.SCHEMA_HEAD}" in again.stderr
    assert "created" not in again.stderr


def test_upgrade_from_the_first_migration_keeps_every_record(sqlite_db):
    from s2s_cli import db as dbmod

    dbmod.upgrade(dbmod.make_engine(sqlite_db), "0001")  # a database made by the first release
    run = Run(sqlite_db)
    # the code needs the newest revision: commands refuse with one line telling the user what to do
    refused = run("find")
    assert refused.exit_code == 1
    assert "run `s2s db upgrade`" in refused.stderr
    assert run.json("db", "current")["status"].startswith("older")
    conn = sqlite3.connect(sqlite_db)
    with conn:
        conn.execute("INSERT INTO region (id, name) VALUES (1, 'London')")
        conn.execute("INSERT INTO local_authority (id, code, name, region_id) "
                     "VALUES (1, 202, 'Camden', 1)")
        conn.execute("INSERT INTO school (urn, name, la_id, phase, status, teaching_school, "
                     "teaching_school_hub, national_support_school) VALUES "
                     "(199999, 'Old Data Primary', 1, 'primary', 'open', 0, 0, 0)")
        conn.execute("INSERT INTO leader (id, name, kind, home_school_urn, email, "
                     "capacity_days, active, designations) VALUES "
                     "('L7777', 'Kept Person', 'SLE', 199999, 'kept@example.org', 10, 1, '')")
    conn.close()
    before_leader = ("L7777", "Kept Person", "kept@example.org")
    result = run("--as", "Upgrader", "db", "upgrade", ok=True)
    assert result.stdout.strip() == location.SCHEMA_HEAD
    assert "kept a copy of the database before upgrading" in result.stderr
    copies = list(Path(sqlite_db).parent.glob("s2s.db.before-upgrade-0001-*.db"))
    assert len(copies) == 1 and mode(copies[0]) == 0o600
    conn = sqlite3.connect(sqlite_db)
    row = conn.execute("SELECT id, name, email, erased, notes FROM leader WHERE id = 'L7777'"
                       ).fetchone()
    conn.close()
    assert row[:3] == before_leader and row[3] == 0 and row[4] is None
    shown = run.json("leader", "show", "L7777")
    assert shown["name"] == "Kept Person" and shown["home_school"] == "Old Data Primary"
    upgrade_rows = run.json("audit", "--table", "alembic_version")
    assert upgrade_rows[0]["actor"] == "Upgrader"
    assert upgrade_rows[0]["before"] == {"revision": "0001"}
    assert upgrade_rows[0]["after"] == {"revision": location.SCHEMA_HEAD}
    assert run("db", "check").exit_code == 0


def test_upgrade_refuses_unknown_revisions_and_downgrades(cli):
    bad = cli("db", "upgrade", "--to", "0099")
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: unknown revision")
    down = cli("db", "upgrade", "--to", "0001")
    assert down.exit_code == 1 and "does not downgrade" in down.stderr


def test_a_newer_schema_is_refused_everywhere(cli, db):
    sql(db, "UPDATE alembic_version SET version_num = '0099'")
    for args in (["find"], ["db", "upgrade"], ["db", "check"], ["audit"]):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "newer than this s2s" in result.stderr, args
        assert result.stderr.count("\n") == 1
    assert "newer" in cli.json("db", "current")["status"]


def test_upgrade_refuses_a_database_that_is_not_s2s(sqlite_db):
    conn = sqlite3.connect(sqlite_db)
    conn.execute("CREATE TABLE something_else (x)")
    conn.commit()
    conn.close()
    before = dump(sqlite_db)
    result = Run(sqlite_db)("db", "upgrade")
    assert result.exit_code == 1 and "not an s2s database" in result.stderr
    assert dump(sqlite_db) == before


# --- db check ----------------------------------------------------------------------------


def test_db_check_passes_on_a_good_database(mini, db):
    add_billing(db)
    add_billing(db, leader="L9002", days=("2026-09-14",))
    result = mini("db", "check", ok=True)
    assert result.stdout.strip() == "ok"
    report = mini.json("db", "check")
    assert report["ok"] is True and report["findings"] == []
    names = {c["check"] for c in report["checks"]}
    assert {"day-on-one-invoice", "invoice-totals", "leader-day-limit", "numbering",
            "credit-notes", "day-invoice-link"} <= names


def _findings(run: Run) -> dict[str, list[str]]:
    result = run("db", "check", "--format", "json")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    out: dict[str, list[str]] = {}
    for f in json.loads(result.stdout)["findings"]:
        out.setdefault(f["check"], []).append(f["finding"])
    return out


def test_db_check_finds_broken_invoice_rules(mini, db):
    first = add_billing(db)
    second = add_billing(db, leader="L9002", days=("2026-09-21",))
    # a total that is not its lines; a number that skips; a day on two live invoices
    sql(db, "UPDATE invoice SET subtotal_pence = subtotal_pence + 1, "
            "total_pence = total_pence + 1 WHERE id = :i", {"i": first["invoice"]})
    sql(db, "UPDATE invoice SET seq = 3, number = 'S2S-2026-0003' WHERE id = :i",
        {"i": second["invoice"]})
    sql(db, "INSERT INTO invoice_day (invoice_id, day_log_id, line_id, halves, kind, "
            "amount_pence, supply_pence) SELECT :inv, :day, id, 2, 'charged', 0, 0 "
            "FROM invoice_line "
            "WHERE invoice_id = :inv", {"inv": second["invoice"], "day": first["days"][0]})
    found = _findings(mini)
    assert any("lines add up to" in f for f in found["invoice-totals"])
    assert any("missing 2" in f for f in found["numbering"])
    assert any("counter for 2026 stands at 2" in f for f in found["numbering"])
    assert any(f"day log {first['days'][0]} is on 2 live invoices" in f
               for f in found["day-on-one-invoice"])
    assert found["day-invoice-link"]
    table = mini("db", "check", "--format", "plain")
    assert table.exit_code == 1 and "invoice-totals" in table.stdout


def test_db_check_finds_days_over_one_per_date_and_bad_credit_notes(mini, db):
    add_billing(db, days=("2026-09-14",), issue=False)
    add_billing(db, days=("2026-09-14",), issue=False)  # same leader, same date: 2 days
    paid = add_billing(db, leader="L9003", days=("2026-09-15",))
    sql(db, "INSERT INTO invoice (series, number, seq, year, payer, period_from, period_to, "
            "issued, due, subtotal_pence, vat_pence, total_pence, credits_invoice_id, details, "
            "created_at) VALUES ('credit', 'S2S-CR-2026-0001', 1, 2026, 'x', '2026-09-01', "
            "'2026-09-30', '2026-10-02', '2026-10-02', 0, 0, 0, :i, '{}', '2026-10-02')",
        {"i": paid["invoice"]})
    found = _findings(mini)
    assert any("leader L9001 has 2 days logged on 2026-09-14" in f
               for f in found["leader-day-limit"])
    assert any("does not record it as its void" in f for f in found["credit-notes"])


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's own checks")
def test_db_check_runs_sqlite_foreign_key_check(sqlite_cli, sqlite_db):
    conn = sqlite3.connect(sqlite_db)  # foreign keys are off on a plain connection
    conn.execute("INSERT INTO leader_specialism (leader_id, specialism_slug) "
                 "VALUES ('L0404', 'phonics')")
    conn.commit()
    conn.close()
    found = _findings(sqlite_cli)
    assert any("leader_specialism row" in f and "missing leader" in f
               for f in found["foreign-keys"])


# --- db backup / restore -----------------------------------------------------------------


@pytest.mark.skipif(bool(PG_URL), reason="SQLite backup API")
def test_backup_is_a_private_consistent_copy(sqlite_cli, sqlite_db, tmp_path):
    result = sqlite_cli("db", "backup", ok=True)
    path = Path(result.stdout.strip())
    assert path.parent == Path(sqlite_db).parent
    assert path.name.startswith("s2s.db.backup-") and path.suffix == ".db"
    assert mode(path) == 0o600
    assert dump(str(path)) == dump(sqlite_db)
    assert not Path(f"{path}-wal").exists()
    assert Run(str(path))("db", "check").exit_code == 0
    named = sqlite_cli("db", "backup", str(tmp_path / "nightly.db"), "--format", "json",
                       ok=True)
    info = json.loads(named.stdout)
    assert info["path"] == str(tmp_path / "nightly.db") and info["bytes"] > 0
    assert mode(tmp_path / "nightly.db") == 0o600
    # no temporary files left behind
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite backup API")
def test_backup_refuses_bad_destinations(sqlite_cli, sqlite_db, tmp_path):
    under_a_file = Path(sqlite_db) / "x.db"  # missing folders are created, files are not
    for dest, code in ((tmp_path, 2), (under_a_file, 2), (Path(sqlite_db), 2)):
        result = sqlite_cli("db", "backup", str(dest))
        assert result.exit_code == code, dest
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    missing = Run(str(tmp_path / "none.db"))("db", "backup")
    assert missing.exit_code == 2 and "no database" in missing.stderr


@pytest.mark.skipif(bool(PG_URL), reason="SQLite backup API")
def test_backup_refuses_to_replace_an_existing_file_without_force(sqlite_cli, sqlite_db,
                                                                  tmp_path):
    dest = tmp_path / "precious.db"
    dest.write_bytes(b"last week's backup")
    refused = sqlite_cli("db", "backup", str(dest))
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr == f"Error: {dest} exists; use --force to replace it\n"
    assert dest.read_bytes() == b"last week's backup"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    done = sqlite_cli("db", "backup", str(dest), "--force", ok=True)
    assert done.stdout.strip() == str(dest)
    assert dump(str(dest)) == dump(sqlite_db) and mode(dest) == 0o600
    # the default, timestamped name needs no --force
    first = Path(sqlite_cli("db", "backup", ok=True).stdout.strip())
    assert first.exists() and first.name.startswith("s2s.db.backup-")


@pytest.mark.skipif(bool(PG_URL), reason="restore is for SQLite files")
def test_restore_refuses_to_overwrite_without_force(sqlite_cli, sqlite_db, tmp_path):
    backup = Path(sqlite_cli("db", "backup", str(tmp_path / "b.db"), ok=True).stdout.strip())
    saved = dump(str(backup))
    sqlite_cli("seed", "load", str(Path(__file__).parent / "data" / "mini_directory.yaml"),
               ok=True)
    changed = dump(sqlite_db)
    assert changed != saved
    refused = sqlite_cli("db", "restore", str(backup))
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert dump(sqlite_db) == changed
    done = sqlite_cli("db", "restore", str(backup), "--force", ok=True)
    assert "kept at" in done.stderr
    assert dump(sqlite_db) == saved
    assert mode(sqlite_db) == 0o600
    kept = list(tmp_path.glob("s2s.db.before-restore-*.db"))
    assert len(kept) == 1 and dump(str(kept[0])) == changed and mode(kept[0]) == 0o600
    # restoring into a new place needs no --force
    fresh = tmp_path / "elsewhere" / "new.db"
    Run(str(fresh))("db", "restore", str(backup), ok=True)
    assert dump(str(fresh)) == saved and mode(fresh) == 0o600
    assert Run(str(fresh))("db", "check").exit_code == 0


@pytest.mark.skipif(bool(PG_URL), reason="restore is for SQLite files")
def test_restore_refuses_files_that_are_not_s2s_backups(sqlite_cli, sqlite_db, tmp_path):
    before = dump(sqlite_db)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\xff\xfe not a database at all")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    for path in (junk, other, tmp_path / "missing.db", tmp_path):
        result = sqlite_cli("db", "restore", str(path), "--force")
        assert result.exit_code == 2, path
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert dump(sqlite_db) == before


def _unsound_backups(sqlite_db: str, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Backups broken in the ways an attack found restore accepting: {name: (file, what the
    refusal must name)}."""
    from tests.conftest import MINI

    Run(sqlite_db)("seed", "load", str(MINI), ok=True)
    add_billing(sqlite_db)
    good = tmp_path / "good.db"
    Run(sqlite_db)("db", "backup", str(good), ok=True)
    out: dict[str, tuple[Path, str]] = {}

    def variant(name: str, statements: list[str], needle: str) -> None:
        path = tmp_path / f"{name}.db"
        path.write_bytes(good.read_bytes())
        conn = sqlite3.connect(path)  # foreign keys off, as a hand edit would be
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()
        out[name] = (path, needle)

    only = tmp_path / "only-version.db"
    conn = sqlite3.connect(only)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.execute(f"INSERT INTO alembic_version VALUES ('{location.SCHEMA_HEAD}')")
    conn.commit()
    conn.close()
    out["only-version"] = (only, "schema: tables audit_log, counter, ")
    variant("totals", ["UPDATE invoice SET total_pence = total_pence + 100"],
            "invoice-totals:")
    variant("foreign-keys", ["INSERT INTO leader_specialism (leader_id, specialism_slug) "
                             "VALUES ('L0404', 'phonics')"], "foreign-keys:")
    variant("triggers", ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
            "triggers audit_log_no_delete, audit_log_no_update are missing")
    variant("extra-table", ["CREATE TABLE backdoor (x)"], "table backdoor is not part of")
    return out


@pytest.mark.skipif(bool(PG_URL), reason="restore is for SQLite files")
def test_restore_runs_db_check_on_the_candidate_first(sqlite_cli, sqlite_db, tmp_path):
    backups = _unsound_backups(sqlite_db, tmp_path)
    before = dump(sqlite_db)
    for name, (path, needle) in backups.items():
        result = sqlite_cli("db", "restore", str(path), "--force")
        assert result.exit_code == 1, (name, result.stderr)
        assert result.stderr.startswith(f"Error: {path} fails db check with ") and \
            result.stderr.count("\n") == 1, name
        assert needle in result.stderr and "nothing was restored" in result.stderr, name
        assert dump(sqlite_db) == before, name
    assert not list(tmp_path.glob("s2s.db.before-restore-*"))  # refused before any copy
    # into a new place too
    fresh = tmp_path / "new" / "s2s.db"
    assert Run(str(fresh))("db", "restore", str(backups["totals"][0])).exit_code == 1
    assert not fresh.exists() or fresh.stat().st_size == 0


@pytest.mark.skipif(bool(PG_URL), reason="restore is for SQLite files")
def test_restore_accepts_a_sound_backup_at_an_older_revision(sqlite_db, tmp_path):
    from tests.test_migrations import _engine_at_0001

    old = tmp_path / "old.db"
    _engine_at_0001(str(old)).dispose()
    target = tmp_path / "restored.db"
    done = Run(str(target))("db", "restore", str(old), ok=True)
    assert "run `s2s db upgrade`" in done.stderr
    Run(str(target))("db", "upgrade", "--no-backup", ok=True)
    assert Run(str(target))("db", "check").exit_code == 0


def test_postgres_backup_and_restore_explain_themselves(monkeypatch, tmp_path):
    from s2s_cli.errors import Refused, S2SError
    from s2s_cli.services import backup

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    url = "postgresql+psycopg://s2s:secret@127.0.0.1:1/none"
    with pytest.raises(S2SError, match="pg_dump is not on PATH"):
        backup.backup(url, tmp_path / "x.dump")
    with pytest.raises(Refused, match="pg_restore"):
        backup.restore(url, tmp_path / "x.dump", force=True)
    plain, env = backup._libpq_url(url)
    assert "secret" not in plain and env["PGPASSWORD"] == "secret"
    assert plain.startswith("postgresql://")


@pytest.mark.skipif(not PG_URL, reason="needs S2S_TEST_PG_URL")
def test_postgres_backup_uses_pg_dump(cli, tmp_path):
    import shutil

    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    out = tmp_path / "pg.dump"
    cli("db", "backup", str(out), ok=True)
    assert out.stat().st_size > 0 and mode(out) == 0o600


# --- audit -------------------------------------------------------------------------------


def test_audit_records_who_and_which_command(cli):
    cli("--as", "Pat Coordinator", "seed", "load",
        str(Path(__file__).parent / "data" / "mini_directory.yaml"), "--deactivate-missing",
        ok=True)
    rows = cli.json("audit", "--record", "L9001")
    assert rows, "the seed load of L9001 was not audited"
    first = rows[0]
    assert first["actor"] == "Pat Coordinator"
    assert first["command"] == "s2s seed load"
    assert first["table_name"] == "leader" and first["action"] == "insert"
    assert first["before"] is None and first["after"]["name"] == "Amira Okafor"
    assert {"id", "at", "actor", "command", "table_name", "record_id", "action", "before",
            "after"} == set(first)
    dt.datetime.fromisoformat(first["at"])
    # lower-case ids and composite keys (the leader's specialisms) belong to the record
    assert cli.json("audit", "--record", "l9001") == rows
    # deactivations are recorded as updates with a reason
    gone = cli.json("audit", "--record", "L0001")
    assert gone[-1]["action"] == "update"
    assert gone[-1]["after"] == {"active": False, "reason": "missing from the seed file"}
    # the OS user when --as is not given
    cli("leader", "erase", "L9007", "--confirm", ok=True)
    import getpass

    assert cli.json("audit", "--record", "L9007")[-1]["actor"] == getpass.getuser()


def test_audit_filters_and_limits(mini):
    leaders = mini.json("audit", "--table", "leader", "--limit", "100000")
    assert leaders and {r["table_name"] for r in leaders} == {"leader"}
    assert len(mini.json("audit", "--table", "LEADER", "--limit", "5")) == 5
    newest = mini.json("audit", "--limit", "3")
    everything = mini.json("audit", "--limit", "100000")
    assert newest == everything[-3:]
    assert [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    limited = mini("audit", "--limit", "3", "--format", "plain", ok=True)
    assert "showing the newest 3" in limited.stderr
    assert mini.json("audit", "--since", "2199-01-01") == []
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert mini.json("audit", "--since", yesterday, "--limit", "100000") == everything
    csv_out = mini("audit", "--limit", "2", "--format", "csv", ok=True).stdout
    assert csv_out.splitlines()[0] == "id,at,actor,command,table_name,record_id,action,before,after"


BAD_AUDIT_FILTERS = [
    (["--table", "leaders"], "did you mean 'leader'"),
    (["--table", "'; DROP TABLE leader; --"], "unknown table"),
    (["--since", "2026-02-30"], "not a real date"),
    (["--since", "the day before yesterday"], "must be a date"),
    (["--since", "12/31/2026"], "day/month/year"),
    (["--limit", "0"], "--limit"),
    (["--limit", "-5"], "--limit"),
    (["--record", "L0001\x1b[2J"], "control characters"),
    (["--record", "x" * 500], "limit is 100"),
]


def test_audit_refuses_bad_filters(cli):
    for args, needle in BAD_AUDIT_FILTERS:
        result = cli("audit", *args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("Error: ") and needle in result.stderr, args
        assert result.stderr.count("\n") == 1


def test_audit_trail_is_append_only(cli, db):
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"):
        sql(db, "UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(DBAPIError, match="append-only"):
        sql(db, "DELETE FROM audit_log")


# --- file permissions --------------------------------------------------------------------


@pytest.mark.skipif(bool(PG_URL), reason="SQLite files")
def test_database_and_wal_files_are_private(sqlite_db):
    old = os.umask(0o022)  # a typical, permissive umask
    try:
        run = Run(sqlite_db)
        run("db", "init", ok=True)
        assert mode(sqlite_db) == 0o600
        conn = sqlite3.connect(sqlite_db)  # holding a connection keeps -wal/-shm in place
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS scratch (x)")
            conn.execute("INSERT INTO scratch VALUES (1)")
            conn.commit()
            wal = Path(f"{sqlite_db}-wal")
            assert wal.exists()
            assert mode(wal) == 0o600
            assert mode(f"{sqlite_db}-shm") == 0o600
        finally:
            conn.close()
        nested = Path(sqlite_db).parent / "deeper" / "s2s.db"
        Run(str(nested))("db", "init", ok=True)
        assert mode(nested) == 0o600 and mode(nested.parent) == 0o700
    finally:
        os.umask(old)


def test_orm_writes_are_audited_with_their_keys(mini, db):
    made = add_billing(db)
    rows = mini.json("audit", "--table", "deployment")
    assert [r["record_id"] for r in rows] == [str(made["deployment"])]
    assert rows[0]["command"] == "test fixture" and rows[0]["after"]["leader_id"] == "L9001"
    days = mini.json("audit", "--table", "day_log")
    assert {r["record_id"] for r in days} == {str(d) for d in made["days"]}
    assert all(r["record_id"] != "?" for r in mini.json("audit", "--limit", "100000"))


def test_every_write_command_is_audited_with_its_name(mini, tmp_path):
    """A working week through the real commands: each write leaves audit rows naming the
    command and the actor."""
    run = lambda *a: mini("--as", "Coord", *a, ok=True)  # noqa: E731
    run("request", "log", "--school", "131543", "--need", "achievement", "--days", "5")
    run("deploy", "1", "--leader", "L9002", "--days", "5", "--start", "2026-09-14")
    run("log", "1", "--date", "2026-09-14")
    run("log", "1", "--from", "2026-09-15", "--to", "2026-09-16", "--half")
    run("log", "1", "--date", "2026-09-21")
    run("log", "undo", "4")
    run("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    run("invoices", "void", "S2S-2026-0001", "--reason", "wrong rate", "--date", "2026-10-02")
    run("evaluate", "1", "--by", "school", "--rating", "5", "--impact", "better phonics")
    run("request", "log", "--school", "131545", "--need", "behaviour")
    run("request", "cancel", "2", "--reason", "logged twice")
    run("deployment", "close", "1")
    gias = tmp_path / "gias.csv"
    gias.write_text("URN,EstablishmentName,LA (code),LA (name),GOR (name)\n"
                    "131545,Plymouth Sound Academy,879,Plymouth,South West\n"
                    "131599,New Free School,879,Plymouth,South West\n")
    run("import", "gias", str(gias))
    run("leader", "erase", "L9006", "--confirm")
    rows = [r for r in mini.json("audit", "--limit", "100000") if r["actor"] == "Coord"]
    seen: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        seen.setdefault(r["command"], set()).add((r["table_name"], r["action"]))
    expect = {
        "s2s request log": ("support_request", "insert"),
        "s2s deploy": ("deployment", "insert"),
        "s2s log add": ("day_log", "insert"),
        "s2s log undo": ("day_log", "delete"),
        "s2s invoice": ("invoice", "issue"),
        "s2s invoices void": ("invoice", "update"),
        "s2s evaluate": ("evaluation", "insert"),
        "s2s request cancel": ("support_request", "update"),
        "s2s deployment close": ("deployment", "update"),
        "s2s import gias": ("school", "insert"),
        "s2s leader erase": ("leader", "erase"),
    }
    for command, pair in expect.items():
        assert pair in seen.get(command, set()), (command, seen.get(command))
    # the days marked invoiced, in the invoices' issue rows
    issued = [r["after"] for r in rows if r["command"] == "s2s invoice"
              and r["action"] == "issue"]
    assert issued and all(a["day_log"]["ids"] and a["invoice_day"]["rows"] for a in issued)
    assert ("invoice", "insert") in seen["s2s invoices void"]  # the credit note
    assert all(r["record_id"] != "?" for r in rows)
    assert mini("db", "check").exit_code == 0
