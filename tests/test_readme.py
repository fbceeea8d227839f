"""The README's tour is true: every `s2s` command in its shell blocks (directory, brokerage and
month-end billing, your week) runs, in order, against a fresh database holding the bundled seed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import Run

README = Path(__file__).resolve().parent.parent / "README.md"
SECTIONS = ("## The directory", "## Brokerage", "## Charging and invoices", "## Your week")


def tour_commands() -> list[list[str]]:
    text = README.read_text()
    commands: list[list[str]] = []
    for heading in SECTIONS:
        start = text.index(heading)
        end = text.find("\n## ", start + 1)
        section = text[start:end if end != -1 else None]
        for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
            joined = block.replace("\\\n", " ")
            for line in joined.splitlines():
                line = line.split("#", 1)[0].strip()
                if line.startswith("s2s "):
                    commands.append(shlex.split(line)[1:])
    return commands


def section_of(heading: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def commands_in(section: str) -> list[list[str]]:
    out = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("s2s "):
                out.append(shlex.split(line)[1:])
    return out


def test_readme_set_up_your_alliance_runs(db, tmp_path, monkeypatch, snapshot):
    """The tour opens with an alliance's own start: db init --from its file, a school and a
    leader added, a deployment corrected - run exactly as written, on a new database."""
    monkeypatch.setenv("S2S_TODAY", "2026-11-25")
    monkeypatch.chdir(tmp_path)
    section = section_of("## Set up your alliance")
    [yaml_block] = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    (tmp_path / "richmond.yaml").write_text(yaml_block, encoding="utf-8")
    commands = commands_in(section)
    assert commands[0] == ["db", "init", "--from", "richmond.yaml"]
    run = Run(db)
    for args in commands:
        result = run(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
    leaders = run.json("find", "--include-inactive")
    assert [r["id"] for r in leaders] == ["L0001", "L0002", "L0003"]
    assert "phonics" in run.json("leader", "show", "L0003")["specialisms"]
    dep = run.json("deployment", "show", "1")
    assert (dep["agreed_days"], dep["rate_pence"], dep["leader_id"]) == ("4", 38000, "L0003")
    assert run.json("log", "list")[0]["days"] == "0.5"
    card = run.json("rates")
    assert "Richmond Teaching School Alliance" in str(card)
    dumped = (tmp_path / "richmond-now.yaml").read_text(encoding="utf-8")
    assert "Heathfield Junior" in dumped and "Amira Shah" in dumped
    # the dump reads back into an identical directory
    fresh = str(tmp_path / "again.db")
    Run(fresh)("db", "init", "--from", "richmond-now.yaml", ok=True)
    assert Run(fresh).json("find", "--include-inactive") == leaders


def test_the_readme_has_a_tour():
    commands = tour_commands()
    assert len(commands) >= 25
    assert ["invoice", "--month", "2026-09"] in commands


def test_readme_tour_runs_against_the_bundled_seed(db, tmp_path, monkeypatch):
    monkeypatch.setenv("S2S_TODAY", "2026-11-25")
    monkeypatch.chdir(tmp_path)
    run = Run(db)
    commands = tour_commands()
    if commands[0][:2] != ["db", "init"]:
        run("db", "init", "--demo", ok=True)
    for args in commands:
        if "my_directory.yaml" in args:  # the reader's own file
            continue
        result = run(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
    assert (tmp_path / "invoices-2026-09.pdf").stat().st_size > 1000
    assert (tmp_path / "S2S-2026-0001.pdf").exists()
    # the leader's own calendar is the one cron writes for them
    assert (tmp_path / "L0027.ics").read_bytes() == (
        tmp_path / "calendars" / "L0027.ics").read_bytes()
    assert [(p["id"], p["status"]) for p in run.json("plan", "list", "--status", "all")] == [
        (1, "worked"), (7, "planned"), (3, "cancelled"), (4, "planned"), (5, "planned"),
        (6, "planned"), (2, "planned")]
    invoices = run.json("invoices", "list")
    assert [(i["number"], i["status"]) for i in invoices] == [
        ("S2S-2026-0001", "void"), ("S2S-2026-0002", "overdue"), ("S2S-CR-2026-0001", "credit")]
    # getting paid: £1,500 stands, the £590 cheque bounced
    [paid] = run.json("invoices", "show", "S2S-2026-0002")
    assert (paid["paid_pence"], paid["balance_pence"]) == (150000, 59000)
    assert [(p["amount_pence"], p["reversed_by"]) for p in paid["payments"]] == [
        (150000, None), (59000, 3), (-59000, None)]
    [owed] = run.json("debtors")
    assert (owed["payer"], owed["d1_30_pence"], owed["total_pence"]) == (
        "Highcliffe Moor Primary School", 59000, 59000)
    # the correction the tour makes: voided, re-rated, billed again at the new rate
    [voided] = run.json("invoices", "show", "S2S-2026-0001")
    [again] = run.json("invoices", "show", "S2S-2026-0002")
    assert {ln["rate_pence"] for ln in again["lines"]} == {38000}
    assert [ln["days"] for ln in again["lines"]] == [ln["days"] for ln in voided["lines"]]
    # the books: Elmstead (L0027's home school) owed £1,776.50, £1,000 settled (the second
    # settlement reversed); the statements and the exports written
    [home] = run.json("remittance", "--month", "2026-09")
    assert (home["urn"], home["owed_pence"], home["settled_pence"],
            home["outstanding_pence"]) == (126249, 177650, 100000, 77650)
    for name in ("supply-126249-2026-09.pdf", "statement-highcliffe.pdf"):
        assert (tmp_path / name).read_bytes().startswith(b"%PDF")
    xero = (tmp_path / "books" / "xero-invoices.csv").read_text().splitlines()
    assert xero[0].startswith("*ContactName,EmailAddress,") and len(xero) > 2
    assert (tmp_path / "books" / "ledger.csv").read_text().startswith("date,type,number,")
    cancelled = run.json("deployment", "show", "2")
    assert (cancelled["status"], cancelled["agreed_on"], cancelled["po"]) == (
        "cancelled", "2026-09-10", "PO-2026-118")
    assert run.json("request", "show", "2")["status"] == "cancelled"


@pytest.mark.parametrize("line", ["s2s find --specialism phonics"])
def test_first_lines_name_the_main_job(line):
    head = README.read_text().splitlines()[:8]
    assert any(line in h for h in head)
    assert any(".venv/bin/python -m pytest" in h for h in head)
