"""Everyday use: dates as people type them, shell completion, help in words, tables that stay
readable in 80 columns, --out formats from the file name, backups into new folders, and the
small look-ups a coordinator makes every day (invoice numbers in the day log and the audit, a
payer by part of its name)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from s2s_cli.cli import app
from tests.conftest import MINI, Run, query

TODAY = "2026-11-25"  # a Wednesday
LONG_SCHOOL = ("The Cardinal John Henry Newman Catholic Voluntary Academy and Sixth Form "
               "College of Greater Manchester")
LONG_LEADER = "Alexandra Montgomery-Fitzwilliam de Vere"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


def new_request(run: Run, *extra: str, school: str = "131543") -> str:
    return run("request", "log", "--school", school, "--need", "achievement", *extra,
               ok=True).stdout.strip()


# --------------------------------------------------------------------------- dates


def test_uk_dates_and_relative_words_are_read_wherever_a_date_is_typed(mini: Run, db):
    rid = new_request(mini, "--received", "23/11/2026")
    assert mini.json("request", "show", rid)["received"] == "2026-11-23"
    rid2 = new_request(mini, "--received", "yesterday")
    assert mini.json("request", "show", rid2)["received"] == "2026-11-24"
    dep = mini("deploy", rid, "--leader", "L9002", "--days", "5", "--start", "2/11/2026",
               ok=True).stdout.strip()
    assert mini.json("deployment", "show", dep)["start"] == "2026-11-02"
    mini("log", dep, "--date", "Today", ok=True)
    mini("log", dep, "--from", "16/11/2026", "--to", "17/11/2026", ok=True)
    days = mini.json("log", "list", "--from", "16/11/2026", "--to", "tomorrow")
    assert [d["date"] for d in days] == ["2026-11-16", "2026-11-17", "2026-11-25"]
    rows = query(db, "SELECT date FROM day_log ORDER BY date")
    assert [str(r[0])[:10] for r in rows] == ["2026-11-16", "2026-11-17", "2026-11-25"]
    report = mini.json("report", "days", "--from", "1/11/2026", "--to", "30/11/2026")
    assert len(report) == 3
    assert mini.json("audit", "--since", "yesterday", "--table", "day_log")


@pytest.mark.parametrize("text, says", [
    ("11/27/2026", "day/month/year (UK order) and there is no month 27; did you mean "
                   "27/11/2026?"),
    ("31/02/2026", "is not a real date"),
    ("32/01/2026", "is not a real date"),
    ("1/9/26", "must be a date like 2026-09-15, 15/09/2026, today"),
    ("next week", "must be a date like"),
])
def test_impossible_or_american_dates_are_refused_in_one_line(mini: Run, snapshot, db,
                                                              text, says):
    before = snapshot(db)
    result = mini("request", "log", "--school", "131543", "--need", "achievement",
                  "--received", text)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and says in result.stderr
    assert snapshot(db) == before


def test_relative_words_follow_the_one_clock(mini: Run, monkeypatch):
    monkeypatch.setenv("S2S_TODAY", "01/03/2027")  # the clock may be set either way
    rid = new_request(mini, "--received", "yesterday")
    assert mini.json("request", "show", rid)["received"] == "2027-02-28"
    dep = mini("deploy", rid, "--leader", "L9002", "--days", "2", "--start", "tomorrow",
               ok=True).stdout.strip()
    assert mini.json("deployment", "show", dep)["start"] == "2027-03-02"


# --------------------------------------------------------------------------- help


def all_commands() -> list[list[str]]:
    import typer

    paths: list[list[str]] = []

    def walk(cmd, path):  # type: ignore[no-untyped-def]
        paths.append(path)
        for name, child in (getattr(cmd, "commands", None) or {}).items():
            walk(child, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


PYTHON_TYPE = re.compile(r"<\s*(list|str|int|float|bool|path|Path|datetime|tuple|dict|"
                         r"Decimal|None|Format|DocFormat)\b")


def test_help_shows_words_not_python_types(cli: Run):
    commands = all_commands()
    assert len(commands) > 30 and ["log", "add"] in commands
    for path in commands:
        out = cli(*path, "--help", ok=True).stdout
        assert not PYTHON_TYPE.search(out), (path, PYTHON_TYPE.search(out))
        assert not re.search(r"<[^>\s]+>", out), (path, out)
    find = cli("find", "--help", ok=True).stdout
    assert "--specialism SPECIALISM" in find and "--limit N" in find
    assert "--format [auto|table|plain|csv|json]" in find
    assert "NUMBER  [required]" in cli("invoices", "show", "--help", ok=True).stdout
    assert "ID_OR_NAME  A leader id" in cli("leader", "show", "--help", ok=True).stdout


# --------------------------------------------------------------------------- completion


def test_completion_scripts_for_bash_zsh_and_fish(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    runner = CliRunner()
    expected = {"bash": "complete -o default -F _s2s_completion s2s",
                "zsh": "compdef _s2s_completion s2s",
                "fish": "complete --command s2s"}
    for shell, line in expected.items():
        result = runner.invoke(app, ["--show-completion", shell], prog_name="s2s")
        assert result.exit_code == 0, result.stderr
        assert line in result.stdout and "_S2S_COMPLETE=complete_" + shell in result.stdout
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(app, ["--install-completion", "bash"], prog_name="s2s")
    assert result.exit_code == 0
    script = tmp_path / ".bash_completions" / "s2s.sh"
    assert "_S2S_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def complete(line: str, shell: str = "zsh", **env: str) -> str:
    env = {"_S2S_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line, **env}
    if shell == "bash":
        words = line.split(" ")
        env.update(COMP_WORDS=line, COMP_CWORD=str(len(words) - 1))
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    result = CliRunner().invoke(app, [], env=env, prog_name="s2s")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_completion_offers_commands_leader_ids_and_urns(mini: Run, tmp_path: Path):
    db = mini.target
    if "://" in db:
        pytest.skip("completion reads SQLite files only")
    assert "invoices" in complete("s2s inv", "bash").split()
    zsh = complete(f"s2s --db {db} leader show L900")
    assert '"L9001":"Amira Okafor"' in zsh and '"L9007":"Grace Okafor"' in zsh
    fish = complete(f"s2s --db {db} deploy 1 --leader L9003", "fish")
    assert fish.strip() == "L9003\tChloe Brennan"
    # typed in lower case, offered in lower case (s2s reads ids in any case)
    assert complete(f"s2s --db {db} capacity --leader l9004", "bash").split() == ["l9004"]
    urns = complete(f"s2s --db {db} request log --school 13154", "fish")
    assert "131545\tPlymouth Sound Academy" in urns.splitlines()
    assert "131543" in complete(f"s2s --db {db} school show 1315", "bash").split()
    # a database named but not there: nothing offered, and nothing created
    missing = tmp_path / "nowhere" / "none.db"
    assert complete(f"s2s --db {missing} leader show L", "bash").strip() == ""
    assert not missing.parent.exists()


# --------------------------------------------------------------------------- 80 columns


@pytest.fixture
def long_names(mini: Run, tmp_path: Path) -> Run:
    """The test directory with a very long school name (a payer) and leader name, a
    deployment there with days logged and an invoice issued."""
    text = MINI.read_text().replace("Bolton High School", LONG_SCHOOL).replace(
        "Femi Adeyemi", LONG_LEADER)
    seed = tmp_path / "long.yaml"
    seed.write_text(text)
    mini("seed", "load", str(seed), ok=True)
    rid = new_request(mini, "--specialism", "curriculum", "--note",
                      "Curriculum sequencing in key stage three humanities departments",
                      "--received", "2026-09-01")
    dep = mini("deploy", rid, "--leader", "L9006", "--days", "6", "--start", "2026-09-07",
               "--work", "facilitation-and-training", ok=True).stdout.strip()
    mini("log", dep, "--date", "2026-09-08", "--note", "Department meeting, then planning",
         ok=True)
    mini("log", dep, "--date", "2026-09-09", "--half", ok=True)
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    mini("log", dep, "--date", "2026-10-06", ok=True)
    return mini


NARROW = [
    ["find"],
    ["find", "--name", "Alexandra"],
    ["invoices", "list"],
    ["invoice", "--month", "2026-10"],
    ["deployment", "list"],
    ["request", "list"],
    ["log", "list"],
    ["report", "deployments"],
    ["report", "days"],
    ["report", "requests"],
    ["report", "utilisation"],
    ["report", "income"],
    ["report", "directory"],
    ["capacity"],
    ["charges"],
]


@pytest.mark.parametrize("args", NARROW, ids=[" ".join(a) for a in NARROW])
def test_tables_stay_readable_in_80_columns(long_names: Run, args):
    from rich.cells import cell_len

    out = long_names(*args, "--format", "table", env={"COLUMNS": "80"}, ok=True).stdout
    lines = out.splitlines()
    assert lines and max(cell_len(ln) for ln in lines) <= 80, out
    assert "…" not in out, out  # nothing cut short
    for name in (LONG_SCHOOL, LONG_LEADER):
        if name.split()[1] in out:  # this listing shows the name: all of it, wrapped at
            for word in name.split():  # spaces, a long word folded after 8 characters
                assert word[:8] in out, (word, out)
    shows = {"invoices": LONG_SCHOOL, "deployment": LONG_LEADER, "log": "L9006",
             "find": LONG_LEADER}
    if args[0] in shows:
        assert shows[args[0]].split()[0] in out


def test_invoices_list_keeps_the_payer_in_80_columns(long_names: Run):
    out = long_names("invoices", "list", "--format", "table", env={"COLUMNS": "80"},
                     ok=True).stdout
    # too many dates for one line each: each invoice folds into a record
    assert re.search(r"^payer\s+The Cardinal John Henry Newman", out, re.M), out
    assert "S2S-2026-0001" in out
    wide = long_names("invoices", "list", "--format", "table", env={"COLUMNS": "250"},
                      ok=True).stdout
    assert LONG_SCHOOL in wide and "┃ payer" in wide  # wide enough: one table, one line each


def test_a_table_wraps_text_before_it_folds(long_names: Run):
    out = long_names("find", "--format", "table", env={"COLUMNS": "100"}, ok=True).stdout
    header = next(ln for ln in out.splitlines() if " name " in ln)
    for title in ("id", "name", "kind", "specialisms", "LA", "region", "phase"):
        assert title in header, out
    assert "┃ id" in out and "L9006" in out and "Vere" in out  # still the boxed table


# --------------------------------------------------------------------------- --out formats


def test_out_takes_the_format_from_the_suffix(long_names: Run, tmp_path: Path):
    pdf = tmp_path / "docs" / "inv.pdf"
    long_names("invoices", "show", "S2S-2026-0001", "--out", str(pdf), ok=True)
    assert pdf.read_bytes().startswith(b"%PDF-")
    as_json = tmp_path / "inv.json"
    long_names("invoices", "show", "S2S-2026-0001", "--out", str(as_json), ok=True)
    assert json.loads(as_json.read_text())[0]["number"] == "S2S-2026-0001"
    as_csv = tmp_path / "draft.CSV"
    long_names("invoice", "--month", "2026-10", "--out", str(as_csv), ok=True)
    assert as_csv.read_text().startswith("number,status,payer,")
    txt = tmp_path / "draft.txt"
    long_names("invoice", "--month", "2026-10", "--out", str(txt), ok=True)
    assert txt.read_text().startswith("number\tstatus\tpayer\t")
    table = tmp_path / "table.txt"  # a table may be kept as text
    long_names("invoice", "--month", "2026-10", "--format", "table", "--out", str(table),
               ok=True)
    assert "Draft invoice" in table.read_text()
    report = tmp_path / "days.json"
    long_names("report", "days", "--out", str(report), ok=True)
    assert json.loads(report.read_text())[0]["leader_id"] == "L9006"
    sar = tmp_path / "sar.json"
    long_names("leader", "export-data", "L9006", "--out", str(sar), ok=True)
    assert json.loads(sar.read_text())["leader"]["id"] == "L9006"


@pytest.mark.parametrize("args, says", [
    (["invoices", "show", "S2S-2026-0001", "--format", "csv", "--out", "x.pdf"],
     "--out x.pdf names pdf but --format is csv"),
    (["invoices", "show", "S2S-2026-0001", "--out", "x.docx"],
     "cannot tell the format from .docx"),
    (["invoice", "--month", "2026-10", "--issue", "--format", "json", "--out", "x.csv"],
     "names csv but --format is json"),
    (["report", "days", "--out", "x.pdf"], "this command cannot write pdf"),
    (["report", "days", "--format", "plain", "--out", "x.json"], "names json"),
    (["report", "days", "--excel", "--out", "x.json"], "names json but --format is csv"),
    (["leader", "export-data", "L9006", "--out", "x.csv"], "name the file .json"),
])
def test_a_suffix_that_contradicts_the_format_exits_2(long_names: Run, snapshot, db,
                                                      tmp_path: Path, args, says):
    folder = tmp_path / "outputs"
    args = [str(folder / a) if a.startswith("x.") else a for a in args]
    before = snapshot(db)
    result = long_names(*args)
    assert result.exit_code == 2, result.stderr
    assert says in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(db) == before
    assert not folder.exists()


# --------------------------------------------------------------------------- backups


def test_db_backup_creates_missing_folders_as_the_crontab_line_needs(sqlite_cli: Run,
                                                                       tmp_path: Path):
    dest = tmp_path / "srv" / "s2s" / "backups" / "s2s-2026-11-25.db"
    out = sqlite_cli("-q", "db", "backup", str(dest), ok=True).stdout
    assert out.strip() == str(dest)
    assert dest.read_bytes().startswith(b"SQLite format 3\x00")
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = sqlite_cli("db", "backup", str(blocker / "new" / "x.db"))
    assert bad.exit_code == 2 and "is a file, not a folder" in bad.stderr
    assert not (blocker.parent / "new").exists()


# --------------------------------------------------------------------------- look-ups


def test_log_list_shows_the_invoice_number(long_names: Run):
    days = long_names.json("log", "list")
    assert [(d["date"], d["invoice_number"]) for d in days] == [
        ("2026-09-08", "S2S-2026-0001"), ("2026-09-09", "S2S-2026-0001"), ("2026-10-06", None)]
    assert isinstance(days[0]["invoice_id"], int)  # the id stays in the contract
    table = long_names("log", "list", "--format", "table", ok=True).stdout
    assert "S2S-2026-0001" in table
    header = long_names("log", "list", "--format", "csv", ok=True).stdout.splitlines()[0]
    assert header.endswith("invoice_id,invoice_number")


def test_audit_record_accepts_an_invoice_number(long_names: Run):
    credit_number = long_names("invoices", "void", "S2S-2026-0001", "--reason", "wrong rate",
                               ok=True).stdout.strip()
    rows = long_names.json("audit", "--record", "s2s-2026-0001")
    # issuing wrote one audit row for the invoice (its seal included), its lines, its day
    # links, its days' marks and its supply cover; the void changed the invoice
    assert [(r["table_name"], r["action"]) for r in rows] == [
        ("invoice", "issue"), ("invoice", "update")]
    assert len({r["record_id"] for r in rows}) == 1
    issued = rows[0]["after"]
    [invoice] = long_names.json("invoices", "show", "S2S-2026-0001")
    lines = [dict(zip(issued["invoice_line"]["columns"], r, strict=True))
             for r in issued["invoice_line"]["rows"]]
    assert [(ln["date_from"], ln["date_to"], ln["halves"], ln["amount_pence"])
            for ln in lines] == [(ln["date_from"], ln["date_to"], 2 * float(ln["days"]),
                                  ln["amount_pence"]) for ln in invoice["lines"]]
    links = [dict(zip(issued["invoice_day"]["columns"], r, strict=True))
             for r in issued["invoice_day"]["rows"]]
    assert sorted(d["day_log_id"] for d in links) == sorted(
        d["day_log_id"] for d in invoice["days"]) == issued["day_log"]["ids"]
    assert issued["day_log"]["before"] == {"invoice_id": None}
    assert issued["day_log"]["after"] == {"invoice_id": int(rows[0]["record_id"])}
    assert issued["total_pence"] == invoice["total_pence"] and "document" not in issued
    cover = [dict(zip(issued["supply_cover"]["columns"], r, strict=True))
             for r in issued["supply_cover"]["rows"]]
    assert sorted(c["day_log_id"] for c in cover) == sorted(
        d["day_log_id"] for d in links if d["kind"] != "free")
    assert issued["supply_cover"]["supply_pence"] == sum(c["supply_pence"] for c in cover) > 0
    assert long_names("db", "check").exit_code == 0  # the seal in the issue row is found
    # the same row is found by a day it marked, by a line, and under those tables
    day = str(issued["day_log"]["ids"][0])
    assert ("invoice", "issue") in [(r["table_name"], r["action"])
                                    for r in long_names.json("audit", "--record", day)]
    assert [r["id"] for r in long_names.json("audit", "--record", day, "--table", "day_log")
            if r["action"] == "issue"] == [rows[0]["id"]]
    assert rows[0]["id"] in [r["id"] for r in long_names.json(
        "audit", "--record", str(lines[0]["id"]), "--table", "invoice_line")]
    for table in ("invoice_day", "supply_cover"):
        assert rows[0]["id"] in [r["id"] for r in long_names.json("audit", "--table", table)]
    # every audited table can be asked for, payments and settlements included
    for table in ("payment", "supply_settlement", "trust", "inspection"):
        long_names("audit", "--table", table, ok=True)
    credit = long_names.json("audit", "--record", credit_number)
    assert credit and {r["table_name"] for r in credit} <= {"invoice", "invoice_line",
                                                              "invoice_day"}
    assert long_names.json("audit", "--record", "S2S-2099-0001") == []
    assert long_names.json("audit", "--record", "L9006")  # leader ids as before


def test_subject_access_shows_the_leaders_days_marked_invoiced(long_names: Run):
    """Issuing audits each invoice in one row; a leader's subject-access export still shows
    each of their days being marked invoiced, and nothing of anyone else's days."""
    invoiced = {str(d["id"]): d["invoice_id"] for d in long_names.json("log", "list")
                if d["invoice_id"] is not None}
    assert len(invoiced) == 2
    data = long_names.json("leader", "export-data", "L9006")
    marks = [r for r in data["audit"] if r["table_name"] == "day_log"
             and r["action"] == "update" and r["command"] == "s2s invoice"]
    # as every audit row in the export: before and after as the JSON text stored
    assert {r["record_id"]: json.loads(r["after"]) for r in marks} == {
        day: {"invoice_id": inv} for day, inv in invoiced.items()}
    assert all(json.loads(r["before"]) == {"invoice_id": None} for r in marks)
    assert [r["id"] for r in data["audit"]] == sorted(r["id"] for r in data["audit"])


def test_invoices_list_payer_matches_a_case_insensitive_fragment(long_names: Run):
    def payers(fragment: str) -> list[str]:
        return [i["payer"] for i in long_names.json("invoices", "list", "--payer", fragment)]

    assert payers("NEWMAN") == [LONG_SCHOOL]
    assert payers("newman catholic") == [LONG_SCHOOL]
    assert payers("catholic newman") == []
    assert payers("%") == [] and payers("_") == []  # no wildcards
