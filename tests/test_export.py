"""`s2s export --out DIR`: every table as CSV plus one JSON document, atomically, 0600, with
erased leaders' data never shown."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from s2s_cli.services import export as exporter
from tests.conftest import Run
from tests.test_reports import NOTE, TODAY, build_busy


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", TODAY)


@pytest.fixture
def busy(cli: Run) -> Run:
    build_busy(cli)
    return cli


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def hook_reads(monkeypatch: pytest.MonkeyPatch, before: Any) -> None:
    """Call before(spec) as each table starts to be read, on either path (`rows`: typed
    rows one by one; `raw_batches`: SQLite's values in batches)."""
    real_rows, real_batches = exporter.rows, exporter.raw_batches

    def rows(reader, spec, masker):  # type: ignore[no-untyped-def]
        before(spec)
        yield from real_rows(reader, spec, masker)

    def raw_batches(reader, spec, *part):  # type: ignore[no-untyped-def]
        found = real_batches(reader, spec, *part)
        if found is None:
            return None

        def batches():  # type: ignore[no-untyped-def]
            before(spec)
            yield from found

        return batches()

    monkeypatch.setattr(exporter, "rows", rows)
    monkeypatch.setattr(exporter, "raw_batches", raw_batches)


def test_export_every_table_as_csv_and_one_json_document(busy: Run, tmp_path: Path) -> None:
    result = busy("export", "--out", str(tmp_path / "backup" / "{date}"), ok=True)
    folder = tmp_path / "backup" / TODAY
    specs = {s.name: s for s in exporter.tables()}
    assert {"leader", "school", "day_log", "invoice", "invoice_line", "invoice_day",
            "evaluation", "audit_log", "setting"} <= set(specs)
    assert sorted(os.listdir(folder)) == sorted([f"{n}.csv" for n in specs]
                                                + [exporter.JSON_NAME])
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads((folder / exporter.JSON_NAME).read_text(encoding="utf-8"))
    assert doc["format"] == "s2s-export" and doc["schema_revision"]
    assert list(doc["tables"]) == list(specs)  # parents before children
    total = 0
    for name, spec in specs.items():
        raw = (folder / f"{name}.csv").read_text(encoding="utf-8")
        header = next(csv.reader(io.StringIO(raw)))
        assert header == list(spec.columns)  # a header row even for an empty table
        rows = read_csv(folder / f"{name}.csv")
        assert len(rows) == len(doc["tables"][name]), name
        total += len(rows)
    assert f"({total} rows)" in result.stderr
    tables = doc["tables"]
    assert [d["halves"] for d in tables["day_log"]] == [2, 1, 2, 2, 2, 1]
    assert len(tables["invoice"]) == 6 and len(tables["support_request"]) == 5
    assert {i["series"] for i in tables["invoice"]} == {"invoice", "credit"}
    assert sum(line["amount_pence"] for line in tables["invoice_line"]) > 0
    # JSON is exact; CSV neutralises formulas; booleans and dates read the same in both
    assert tables["support_request"][0]["note"] == NOTE
    assert read_csv(folder / "support_request.csv")[0]["note"] == "'" + NOTE
    brook = next(s for s in tables["school"] if s["urn"] == 131542)
    assert brook["teaching_school"] is True
    assert next(r for r in read_csv(folder / "school.csv")
                if r["urn"] == "131542")["teaching_school"] == "true"
    assert tables["day_log"][0]["date"] == "2026-09-07"
    assert tables["audit_log"][0]["at"].endswith("+00:00")  # UTC, ISO 8601, either backend
    assert tables["day_log"][0]["created_at"][10] == "T"
    assert len(read_csv(folder / "audit_log.csv")) == len(tables["audit_log"])


def test_export_never_shows_erased_data(mini: Run, tmp_path: Path) -> None:
    mini("leader", "erase", "L9001", "--confirm", ok=True)
    mini("export", "--out", str(tmp_path / "x"), ok=True)
    everything = b"".join(files(tmp_path / "x").values()).decode("utf-8")
    for secret in ("Amira Okafor", "amira.okafor@example.org"):
        assert secret not in everything
    placeholder = mini.json("leader", "show", "L9001")["name"]
    doc = json.loads((tmp_path / "x" / exporter.JSON_NAME).read_text(encoding="utf-8"))
    leader = next(r for r in doc["tables"]["leader"] if r["id"] == "L9001")
    assert (leader["name"], leader["email"], leader["erased"]) == (placeholder, None, True)
    about = [r for r in doc["tables"]["audit_log"]
             if r["table_name"] == "leader" and r["record_id"] == "L9001"]
    assert about and any(placeholder in (r["after"] or "") for r in about)
    assert not any("01632 960001" in (r["before"] or "") + (r["after"] or "") for r in about)
    assert "Ben Hallam" in everything  # other leaders are exported as they are


def test_failed_export_leaves_the_previous_one_intact(
        mini: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "x"
    mini("export", "--out", str(folder), ok=True)
    before = files(folder)
    mini("request", "log", "--school", "131543", "--need", "behaviour", ok=True)

    def failing(spec: exporter.TableSpec) -> None:
        if spec.name == "day_log":  # after support_request and others are written
            raise RuntimeError("disk full")

    hook_reads(monkeypatch, failing)
    with pytest.raises(RuntimeError):
        mini("export", "--out", str(folder))
    assert files(folder) == before  # every file byte-identical, no temporary file left
    monkeypatch.undo()
    mini("-q", "export", "--out", str(folder), ok=True)
    after = files(folder)
    assert set(after) == set(before) and after["support_request.csv"] != before[
        "support_request.csv"]


def test_excel_bom_and_quiet(mini: Run, tmp_path: Path) -> None:
    result = mini("-q", "export", "--out", str(tmp_path / "x"), "--excel", ok=True)
    assert result.stdout == "" and result.stderr == ""
    for name, data in files(tmp_path / "x").items():
        if name.endswith(".csv"):
            assert data.startswith(b"\xef\xbb\xbf"), name
        else:
            assert data.startswith(b"{")
    (tmp_path / "file").write_text("x")
    assert mini("export", "--out", str(tmp_path / "file")).exit_code == 2


def test_export_is_one_snapshot_while_another_process_writes(mini: Run, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """An invoice issued by another process after `invoice` was exported but before `day_log`
    was must not show up as days pointing at an invoice missing from the export: every table
    comes from one read transaction."""
    import subprocess
    import sys

    from tests.conftest import query
    from tests.test_invoicing import deploy, log

    dep = deploy(mini, school=131542, leader="L9003", days="3")
    log(mini, dep, "2026-09-21", "2026-09-22")
    wrote = []

    def rows_with_a_writer(spec: exporter.TableSpec) -> None:
        if spec.name == "day_log" and not wrote:
            done = subprocess.run(
                [sys.executable, "-m", "s2s_cli", "--db", mini.target, "invoice", "--month",
                 "2026-09", "--issue", "--date", "2026-10-01"],
                capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr
            wrote.append(done.stdout)

    hook_reads(monkeypatch, rows_with_a_writer)
    out = tmp_path / "export"
    mini("export", "--out", str(out), ok=True)
    assert wrote
    assert query(mini.target, "SELECT count(*) FROM day_log WHERE invoice_id IS NOT NULL"
                 )[0][0] == 2  # the writer did commit
    invoices = {r["id"] for r in read_csv(out / "invoice.csv")}
    days = read_csv(out / "day_log.csv")
    assert days and all(d["invoice_id"] in ("", *invoices) for d in days)
    assert invoices == set() and all(d["invoice_id"] == "" for d in days)
