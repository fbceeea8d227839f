"""Personal data (UK GDPR): `s2s leader export-data` (subject access) and `s2s leader erase`
(placeholder name, no contact details, financial records intact, audit masked)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.conftest import MINI, Run, dump
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


BAD_IDS = [("L0404", 1), ("'; DROP TABLE leader", 1), ("'; DROP TABLE leader; --", 2),
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
    # the append-only trail still holds its original rows (never rewritten): masking is on
    # display, so the history of other fields stays intact
    raw = dump(db)
    assert "append-only" in raw or "audit_log" in raw
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
