"""Personal data (UK GDPR): `s2s leader export-data` (subject access) and `s2s leader erase`
(placeholder name, no contact details, financial records intact, audit masked)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import MINI, PG_URL, Run, dump
from tests.test_admin import add_billing, sql

NAME, EMAIL, PHONE = "Amira Okafor", "amira.okafor@example.org", "07700 900999"


def money_totals(target: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(target if "://" in target else f"sqlite:///{target}")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT i.id, i.number, i.subtotal_pence, i.vat_pence, i.total_pence, "
            "(SELECT sum(amount_pence) FROM invoice_line l WHERE l.invoice_id = i.id), "
            "(SELECT count(*) FROM day_log d WHERE d.invoice_id = i.id) "
            "FROM invoice i ORDER BY i.id")).all()
        days = conn.execute(text(
            "SELECT id, deployment_id, leader_id, date, halves, invoice_id FROM day_log "
            "ORDER BY id")).all()
        deps = conn.execute(text(
            "SELECT id, leader_id, school_urn, agreed_halves, rate_pence FROM deployment "
            "ORDER BY id")).all()
    engine.dispose()
    return [tuple(r) for r in rows] + [tuple(r) for r in days] + [tuple(r) for r in deps]


@pytest.fixture
def with_work(mini: Run, db: str) -> Run:
    """L9001 has a deployment with three days on an issued invoice, and a second uninvoiced
    deployment; notes are set so that every personal field holds something."""
    add_billing(db)
    add_billing(db, school=131545, days=("2026-10-05",), issue=False)
    with_work_cli = mini
    sql(db, "UPDATE leader SET notes = 'prefers Tuesdays; mobile 07700 900123', "
            "phone = :phone WHERE id = 'L9001'", {"phone": PHONE})
    assert with_work_cli.json("leader", "show", "L9001")["phone"] == PHONE
    return mini


def test_export_data_holds_everything_about_the_leader(with_work):
    data = with_work.json("leader", "export-data", "L9001")
    assert data["leader"]["id"] == "L9001"
    assert data["leader"]["name"] == NAME
    assert data["leader"]["email"] == EMAIL and data["leader"]["phone"] == PHONE
    assert data["leader"]["notes"].startswith("prefers Tuesdays")
    assert data["leader"]["active"] is True and data["leader"]["erased"] is False
    assert [s["slug"] for s in data["specialisms"]] == ["early-years", "phonics"]
    assert data["home_school"]["urn"] == 131542
    assert data["home_school"]["name"] == "Brookfield Primary School"
    assert data["designated_by"]["urn"] == 131542
    assert len(data["deployments"]) == 2
    assert {d["school_urn"] for d in data["deployments"]} == {131543, 131545}
    assert [d["date"] for d in data["day_logs"]] == ["2026-09-14", "2026-09-15", "2026-09-16",
                                                     "2026-10-05"]
    assert len(data["invoice_lines"]) == 1
    line = data["invoice_lines"][0]
    assert line["amount_pence"] == 105000 and line["invoice"]["number"] == "S2S-2026-0001"
    tables = {r["table_name"] for r in data["audit"]}
    assert {"leader", "deployment", "day_log"} <= tables
    assert data["evaluations"] == []
    assert data["subject_access_export"]["leader_id"] == "L9001"
    # nothing about anyone else
    text = json.dumps(data)
    assert "L9002" not in text and "Bilal" not in text


def test_export_data_to_a_private_file(with_work, tmp_path):
    out = tmp_path / "sar" / "L9001.json"
    result = with_work("leader", "export-data", "l9001", "--out", str(out), ok=True)
    assert result.stdout == ""
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert json.loads(out.read_text())["leader"]["name"] == NAME
    assert not [p for p in out.parent.iterdir() if p.name != out.name]  # no temp files left


BAD_IDS = [("L0404", 1), ("'; DROP TABLE leader", 2), ("'; DROP TABLE leader; --", 2),
           ("L\x1b[31m1", 2), ("x" * 300, 2)]


def test_export_data_refuses_unknown_leaders(with_work, db):
    before = dump(db)
    for leader_id, code in BAD_IDS:
        result = with_work("leader", "export-data", leader_id)
        assert result.exit_code == code, leader_id
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
        assert "\x1b" not in result.stderr
    assert dump(db) == before


def test_erase_needs_confirm_and_changes_nothing_without_it(with_work, db):
    before = dump(db)
    result = with_work("leader", "erase", "L9001")
    assert result.exit_code == 2 and "--confirm" in result.stderr
    assert dump(db) == before
    missing = with_work("leader", "erase", "L0404", "--confirm")
    assert missing.exit_code == 1 and "no leader" in missing.stderr
    assert dump(db) == before


def test_erase_replaces_personal_fields_and_keeps_the_money(with_work, db):
    totals_before = money_totals(db)
    result = with_work("--as", "DPO", "leader", "erase", "L9001", "--confirm", ok=True)
    assert result.stdout.strip() == "L9001"
    assert money_totals(db) == totals_before  # deployments, days, invoices untouched
    shown = with_work.json("leader", "show", "L9001")
    assert shown["name"] == "[erased L9001]"
    assert shown["email"] is None and shown["phone"] is None
    assert shown["active"] is False
    found = {r["id"]: r for r in with_work.json("find", "--include-inactive")}
    assert found["L9001"]["name"] == "[erased L9001]" and found["L9001"]["email"] is None
    assert "L9001" not in {r["id"] for r in with_work.json("find")}
    assert with_work("db", "check").exit_code == 0
    # the erasure itself is audited, without personal values
    trail = with_work.json("audit", "--record", "L9001")
    erase = [r for r in trail if r["action"] == "erase"]
    assert len(erase) == 1
    assert erase[0]["actor"] == "DPO" and erase[0]["command"] == "s2s leader erase"
    assert erase[0]["after"]["name"] == "[erased L9001]"
    assert erase[0]["before"]["fields_erased"] == ["name", "email", "phone", "notes"]


def test_erased_data_never_shows_again(with_work, db, tmp_path):
    with_work("leader", "erase", "L9001", "--confirm", ok=True)
    outputs = [
        with_work("audit", "--limit", "1000000", "--format", fmt, ok=True).stdout
        for fmt in ("json", "csv", "plain")
    ]
    outputs.append(with_work("audit", "--record", "L9001", "--format", "table", ok=True).stdout)
    outputs.append(with_work("leader", "export-data", "L9001", ok=True).stdout)
    outputs.append(with_work("leader", "show", "L9001", "--format", "json", ok=True).stdout)
    outputs.append(with_work("find", "--include-inactive", "--format", "csv", ok=True).stdout)
    for out in outputs:
        for secret in (NAME, EMAIL, PHONE, "Tuesdays", "07700 900123"):
            assert secret not in out
    # the trail keeps its rows: only the personal fields were redacted, so the history of the
    # other fields stays intact
    masked = with_work.json("audit", "--record", "L9001")
    insert = next(r for r in masked if r["action"] == "insert")
    assert insert["after"]["name"] == "[erased L9001]" and insert["after"]["email"] is None
    assert insert["after"]["kind"] == "SLE" and insert["after"]["capacity_days"] == 20


def test_erase_is_idempotent_and_survives_a_seed_reload(with_work, db):
    with_work("leader", "erase", "L9001", "--confirm", ok=True)
    after_first = dump(db)
    again = with_work("leader", "erase", "l9001", "--confirm", ok=True)
    assert "already erased" in again.stderr
    assert dump(db) == after_first
    with_work("seed", "load", str(MINI), ok=True)  # the file still holds their details
    shown = with_work.json("leader", "show", "L9001")
    assert shown["name"] == "[erased L9001]" and shown["email"] is None
    data = with_work.json("leader", "export-data", "L9001")
    assert data["leader"]["erased"] is True and data["leader"]["notes"] is None
    assert NAME not in json.dumps(data)


def test_masking_helper_for_other_readers():
    """The contract the export/report code uses: rows about an erased leader's own record are
    masked; other rows and other leaders pass through unchanged."""
    from s2s_cli.services.auditlog import Masker

    masker = Masker({"L0042": "[erased L0042]"})
    row = {"table_name": "leader", "record_id": "L0042", "action": "update",
           "before": json.dumps({"name": "Old Name", "email": "a@b.c", "capacity_days": 3}),
           "after": {"name": "New Name", "phone": "0123", "active": True}}
    out = masker.mask(row)
    assert json.loads(out["before"]) == {"name": "[erased L0042]", "email": None,
                                         "capacity_days": 3}
    assert out["after"] == {"name": "[erased L0042]", "phone": None, "active": True}
    assert row["before"].startswith('{"name": "Old Name"')  # the input is not modified
    other = {"table_name": "leader", "record_id": "L0043", "before": None,
             "after": json.dumps({"name": "Kept"})}
    assert masker.mask(other) == other
    day = {"table_name": "day_log", "record_id": "7", "before": None,
           "after": json.dumps({"leader_id": "L0042", "halves": 2})}
    assert masker.mask(day) == day


def test_export_and_erase_on_a_leader_with_no_work(cli):
    data = cli.json("leader", "export-data", "L0002")
    assert data["deployments"] == [] and data["invoice_lines"] == []
    assert data["audit"] and data["audit"][0]["action"] == "insert"
    cli("leader", "erase", "L0002", "--confirm", ok=True)
    after = Run(cli.target).json("leader", "export-data", "L0002")
    assert after["leader"]["name"] == "[erased L0002]"
    assert data["leader"]["name"] not in json.dumps(after)


def test_erasure_through_the_real_workflow_keeps_invoices_and_hides_the_name(mini, tmp_path):
    """Issue an invoice naming a leader, erase them: the invoice's totals are unchanged, and
    invoices, reports and the export show only the placeholder."""
    mini("request", "log", "--school", "131543", "--need", "achievement", "--days", "5",
         ok=True)
    mini("deploy", "1", "--leader", "L9002", "--days", "5", "--start", "2026-09-14", ok=True)
    mini("log", "1", "--from", "2026-09-14", "--to", "2026-09-16", ok=True)
    mini("log", "1", "--date", "2026-09-17", "--half", ok=True)
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    before = mini.json("invoices", "show", "S2S-2026-0001")[0]
    old = mini.json("leader", "show", "L9002")
    name, email = old["name"], old["email"]
    assert name in json.dumps(before)

    mini("leader", "erase", "L9002", "--confirm", ok=True)

    after = mini.json("invoices", "show", "S2S-2026-0001")[0]

    def money(doc):  # type: ignore[no-untyped-def]
        return (doc["subtotal_pence"], doc["vat_pence"], doc["total_pence"],
                [(ln["amount_pence"], ln["days"]) for ln in doc["lines"]])

    assert money(after) == money(before)
    assert "[erased L9002]" in json.dumps(after) and name not in json.dumps(after)
    outputs = [json.dumps(after)]
    for report in ("deployments", "days", "directory"):
        outputs.append(mini("report", report, "--period", "2026-27", "--format", "csv",
                            ok=True).stdout)
    outputs.append(mini("log", "list", "--leader", "L9002", "--format", "json", ok=True).stdout)
    outputs.append(mini("deployment", "show", "1", "--format", "json", ok=True).stdout)
    mini("-q", "export", "--out", str(tmp_path / "export"), ok=True)
    for path in sorted((tmp_path / "export").rglob("*")):
        if path.is_file():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path  # exports are private
            outputs.append(path.read_text(encoding="utf-8-sig"))
    for out in outputs:
        assert name not in out and email not in out
    assert mini("db", "check").exit_code == 0


# --- erasure reaches the audit trail --------------------------------------------------------

# (the seed's phone for her, 01632 960001, is a fictional number other leaders share too)
OLD_EMAIL, OLD_PHONE = "a.okafor@old-school.example", "07700 900555"
SECRETS = (NAME, EMAIL, OLD_EMAIL, PHONE, OLD_PHONE, "Tuesdays")


def audit_rows(target: str) -> dict[int, tuple]:
    """Every audit row as stored (no masking), by id."""
    from sqlalchemy import create_engine, text

    engine = create_engine(target if "://" in target else f"sqlite:///{target}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, table_name, record_id, action, actor, before, "
                                 "after FROM audit_log ORDER BY id")).all()
    engine.dispose()
    return {r[0]: tuple(r[1:]) for r in rows}


def loads(value):  # type: ignore[no-untyped-def]
    return None if value is None else json.loads(value)


def seed_variant(tmp_path, name: str, edits: dict[str, str]):  # type: ignore[no-untyped-def]
    text = MINI.read_text(encoding="utf-8")
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def history(with_work, db, tmp_path):  # type: ignore[no-untyped-def]
    """L9001's personal data spread through the audit trail: an older email, the seed's
    phone and the fixture's, notes; another leader's notes and an unrelated row mention her;
    the live data of everyone else no longer does."""
    from s2s_cli import audit
    from s2s_cli import db as dbmod

    with_work("seed", "load", seed_variant(tmp_path, "v2.yaml", {
        f"email: {EMAIL}": f"email: {OLD_EMAIL}\n    notes: prefers Tuesdays",
        'phone: "01632 960001"': f'phone: "{OLD_PHONE}"',
        "email: ben.hallam@example.org": "email: ben.hallam@example.org\n    notes: covers "
                                         f"for {NAME} ({EMAIL.upper()}) on Fridays"}), ok=True)
    with_work("seed", "load", str(MINI), ok=True)  # back to the file: notes cleared
    dbmod.run_write(dbmod.make_engine(db), lambda s: audit.record(
        s, "setting", "contact", "update", {"name": NAME, "email": EMAIL, "note": "kept"},
        {"name": "Someone Else", "email": "else@example.org"}), actor="test", command="test")
    text = json.dumps(audit_rows(db))
    assert all(secret in text for secret in SECRETS)
    return with_work


def test_erase_redacts_the_leader_from_earlier_audit_rows(history, db):
    from sqlalchemy.exc import DBAPIError

    from tests.test_admin import sql as tamper

    before_rows, totals = audit_rows(db), money_totals(db)
    history("--as", "DPO", "leader", "erase", "L9001", "--confirm", ok=True)
    after_rows = audit_rows(db)
    # nothing deleted, two rows added (the chain resealed after the redaction, then the
    # erasure); nothing of hers left in any row
    assert list(after_rows)[:-2] == list(before_rows)
    reseal = after_rows[sorted(after_rows)[-2]]
    assert reseal[:3] == ("audit_log", reseal[1], "reseal")
    erase = after_rows[max(after_rows)]
    assert erase[:4] == ("leader", "L9001", "erase", "DPO")
    for rid, row in after_rows.items():
        for secret in SECRETS:
            assert secret.lower() not in json.dumps(row, ensure_ascii=False).lower(), (rid, row)
    # only the personal keys changed, and the erase row counts the rows redacted
    changed = [rid for rid in before_rows if before_rows[rid] != after_rows[rid]]
    assert loads(erase[5])["audit_rows_redacted"] == len(changed) >= 5
    for rid in changed:
        old, new = before_rows[rid], after_rows[rid]
        assert old[:4] == new[:4]
        for o, n in zip(old[4:], new[4:], strict=True):
            o, n = loads(o) or {}, loads(n) or {}
            assert set(o) == set(n)
            assert {k: v for k, v in o.items() if k not in ("name", "email", "phone", "notes")
                    } == {k: v for k, v in n.items() if k not in ("name", "email", "phone",
                                                                 "notes")}
    own = [after_rows[rid] for rid in changed if after_rows[rid][:2] == ("leader", "L9001")]
    assert len(own) >= 3
    for r in own:
        for values in (loads(r[4]) or {}, loads(r[5]) or {}):
            assert values.get("name", "[erased L9001]") == "[erased L9001]"
            assert [values[k] for k in ("email", "phone", "notes") if k in values
                    ] == [None for k in ("email", "phone", "notes") if k in values]
    assert "01632 960001" not in json.dumps([r for r in after_rows.values()
                                             if r[:2] == ("leader", "L9001")])
    # another leader's row: their own values kept, the mention of her replaced
    ben = [v["notes"] for r in after_rows.values() if r[:3] == ("leader", "L9002", "update")
           for v in (loads(r[4]) or {}, loads(r[5]) or {}) if "notes" in v]
    mention = "covers for [erased L9001] ([erased L9001]) on Fridays"
    assert ben == [None, mention, mention, None]  # added by one load, cleared by the next
    assert all(loads(r[5])["name"] == "Ben Hallam" for r in after_rows.values()
               if r[:3] == ("leader", "L9002", "insert"))
    unrelated = next(r for r in after_rows.values() if r[:2] == ("setting", "contact"))
    assert loads(unrelated[4]) == {"name": "[erased L9001]", "email": None, "note": "kept"}
    assert loads(unrelated[5]) == {"name": "Someone Else", "email": "else@example.org"}
    # the trail is append-only again, exactly as the migration made it
    with pytest.raises(DBAPIError, match="append-only"):
        tamper(db, "UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(DBAPIError, match="append-only"):
        tamper(db, "DELETE FROM audit_log")
    if "://" not in db:
        import sqlite3

        from s2s_cli.audit import append_only_ddl

        conn = sqlite3.connect(db)
        triggers = [r[0] for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")]
        conn.close()
        assert sorted(triggers) == sorted(append_only_ddl("sqlite"))
    assert audit_rows(db) == after_rows
    assert history("db", "check").exit_code == 0
    assert money_totals(db) == totals
    # erasing again changes nothing
    history("leader", "erase", "L9001", "--confirm", ok=True)
    assert audit_rows(db) == after_rows


@pytest.mark.skipif(bool(PG_URL), reason="SQLite file contents")
def test_erased_values_leave_the_sqlite_file(history, db):
    history("leader", "erase", "L9001", "--confirm", ok=True)
    raw = b"".join(p.read_bytes() for p in (Path(db), Path(f"{db}-wal")) if p.exists())
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
        assert secret.upper().encode() not in raw, secret


def test_redaction_leaves_a_namesake_alone(with_work, db, tmp_path):
    """Another leader with the same name keeps it in their own audit rows."""
    with_work("seed", "load", seed_variant(tmp_path, "namesake.yaml", {
        "name: Chloe Brennan": f"name: {NAME}"}), ok=True)
    with_work("leader", "erase", "L9001", "--confirm", ok=True)
    rows = audit_rows(db).values()
    namesake = [loads(r[5]) for r in rows if r[:2] == ("leader", "L9003") and r[5]]
    assert {"name": NAME} in [{"name": a.get("name")} for a in namesake if "name" in a]
    assert not any(NAME in json.dumps(r) for r in rows if r[:2] != ("leader", "L9003"))
    assert with_work.json("leader", "show", "L9003")["name"] == NAME
