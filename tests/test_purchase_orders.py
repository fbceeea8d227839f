"""Who an invoice goes to (issues 12 and 13): one invoice per payer and purchase order; a
school marked "PO required" is not invoiced without one (unless --override); `--bill-to trust`
invoices the school's trust, naming the school on each line.  Hand-worked pence."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import Run
from tests.test_gias_current import CURRENT, imp


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_TODAY", "2027-06-30")


def agree(run: Run, school: int, leader: str, *extra: str, request: tuple[str, ...] = (),
          ok: bool = True) -> int:
    """A request by `school` and a deployment of `leader` on it (options in `extra`)."""
    rid = run("request", "log", "--school", str(school), "--need", "achievement",
              "--received", "2026-01-05", *request, ok=True).stdout.strip()
    return int(run("deploy", rid, "--leader", leader, "--days", "5", "--start", "2026-09-01",
                   *extra, ok=ok).stdout.strip())


def log(run: Run, dep: int, *dates: str, half: bool = False) -> None:
    for date in dates:
        run("log", str(dep), "--date", date, *(["--half"] if half else []), ok=True)


def summary(docs: list[dict]) -> list[tuple]:
    return [(d["number"], d["payer"], d["po"], d["total_pence"],
             [(ln["deployment_id"], ln["school"], ln["amount_pence"]) for ln in d["lines"]])
            for d in docs]


# --------------------------------------------------------------------------- purchase orders

def test_one_invoice_per_payer_and_purchase_order(mini: Run, tmp_path: Path):
    a = agree(mini, 131543, "L9002", "--po", "PO-1")            # SLE £350
    b = agree(mini, 131543, "L9006", request=("--po", "PO-2"))  # LLE £450, the request's PO
    c = agree(mini, 131543, "L9001")                            # SLE £350, no PO
    log(mini, a, "2026-09-07", "2026-09-08")
    log(mini, b, "2026-09-09")
    log(mini, c, "2026-09-10", half=True)
    draft = mini.json("invoice", "--month", "2026-09")
    expected = [
        (None, "Bolton High School", None, 17500, [(c, "Bolton High School", 17500)]),
        (None, "Bolton High School", "PO-1", 70000, [(a, "Bolton High School", 70000)]),
        (None, "Bolton High School", "PO-2", 45000, [(b, "Bolton High School", 45000)])]
    assert summary(draft) == expected
    issued = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert summary(issued) == [(n, *rest[1:]) for n, rest in zip(
        ["S2S-2026-0001", "S2S-2026-0002", "S2S-2026-0003"], expected, strict=True)]
    # the PO is on every form of the document
    [shown] = mini.json("invoices", "show", "S2S-2026-0002")
    assert shown["po"] == "PO-1"
    rows = list(csv.DictReader(io.StringIO(
        mini("invoices", "show", "S2S-2026-0003", "--format", "csv", ok=True).stdout)))
    assert [(r["number"], r["po"], r["amount_pence"]) for r in rows] == [
        ("S2S-2026-0003", "PO-2", "45000")]
    listed = {r["number"]: r["po"] for r in mini.json("invoices", "list")}
    assert listed == {"S2S-2026-0001": None, "S2S-2026-0002": "PO-1",
                      "S2S-2026-0003": "PO-2"}
    pdf = tmp_path / "po.pdf"
    mini("invoices", "show", "S2S-2026-0002", "--format", "pdf", "--out", str(pdf), ok=True)
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Purchase order: PO-1" in text


def test_a_po_required_school_is_not_invoiced_without_one(mini: Run, snapshot, db):
    mini("school", "edit", "131545", "--po-required", ok=True)
    d = agree(mini, 131545, "L9002")                                   # SLE £350, no PO
    e = agree(mini, 131545, "L9003", "--po", "PO-77")                  # SLE £350
    f = agree(mini, 131545, "L9001", request=("--funding", "grant", "--funder", "Bolton LA"))
    log(mini, d, "2026-09-07")
    log(mini, e, "2026-09-08")
    log(mini, f, "2026-09-09")
    # the draft warns, naming the deployment; its JSON says which
    out = mini("invoice", "--month", "2026-09", "--format", "json", ok=True)
    assert (f"warning: Plymouth Sound Academy requires a purchase order: deployment {d} has "
            "none") in out.stderr
    import json

    docs = json.loads(out.stdout)
    assert [(x["payer"], x["po"], x["po_missing"]) for x in docs] == [
        ("Bolton LA", None, None), ("Plymouth Sound Academy", None, [d]),
        ("Plymouth Sound Academy", "PO-77", None)]
    # issuing refuses (exit 1), naming it; nothing is written, not even the funder's invoice
    before = snapshot(db)
    refused = mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert refused.exit_code == 1
    assert f"Plymouth Sound Academy requires a purchase order: deployment {d} has none" in \
        refused.stderr and "--override" in refused.stderr
    assert snapshot(db) == before
    # a PO given later lets it through; or --override, which the invoice keeps
    issued = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01",
                       "--override", "head agreed by phone, PO to follow")
    assert [(x["payer"], x["po"], x["po_override"], x["total_pence"]) for x in issued] == [
        ("Bolton LA", None, None, 35000),
        ("Plymouth Sound Academy", None, "head agreed by phone, PO to follow", 35000),
        ("Plymouth Sound Academy", "PO-77", None, 35000)]
    trail = mini.json("audit", "--table", "invoice")
    assert any("head agreed by phone" in json.dumps(r) for r in trail)
    # with the PO set on the deployment the next month needs no override
    mini("deployment", "edit", str(d), "--po", "PO-78", ok=True)
    log(mini, d, "2026-10-05")
    [oct_inv] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02")
    assert (oct_inv["po"], oct_inv["total_pence"]) == ("PO-78", 35000)


# --------------------------------------------------------------------------- bill to trust

@pytest.fixture
def trusts(mini: Run) -> Run:
    imp(mini, CURRENT)  # Brookfield (182 pupils) and Kentish Town Academy: trust 5001
    return mini


def test_bill_to_trust_invoices_the_trust_naming_each_school(trusts: Run):
    mini = trusts
    small = agree(mini, 131542, "L9002", "--bill-to", "trust")   # small band: SLE £300
    kt = agree(mini, 140010, "L9004", request=("--bill-to", "trust"))  # NLE £500
    kt_po = agree(mini, 140010, "L9003", "--bill-to", "trust", "--po", "NL-9")  # SLE £350
    own = agree(mini, 131542, "L9007", "--override", "inactive leader, agreed anyway")  # school
    log(mini, small, "2026-09-07")
    log(mini, kt, "2026-09-08")
    log(mini, kt_po, "2026-09-09", half=True)
    log(mini, own, "2026-09-10")
    shown = mini.json("deployment", "show", str(small))
    assert (shown["bill_to"], shown["payer_trust_uid"]) == ("trust", "5001")
    issued = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert summary(issued) == [
        ("S2S-2026-0001", "Brookfield Primary School", None, 30000,
         [(own, "Brookfield Primary School", 30000)]),
        ("S2S-2026-0002", "Northern Lights Trust", None, 80000,
         [(small, "Brookfield Primary School", 30000), (kt, "Kentish Town Academy", 50000)]),
        ("S2S-2026-0003", "Northern Lights Trust", "NL-9", 17500,
         [(kt_po, "Kentish Town Academy", 17500)])]
    trust_inv = issued[1]
    assert (trust_inv["payer_school_urn"], trust_inv["payer_trust_uid"]) == (None, "5001")
    statement = mini.json("statement", "Northern Lights Trust")
    assert [r["debit_pence"] for r in statement] == [80000, 17500]
    assert mini.json("statement", "5001") == statement  # the trust's UID names it too


def test_bill_to_trust_is_frozen_at_agreement_and_refused_without_a_trust(trusts: Run,
                                                                          tmp_path: Path,
                                                                          snapshot, db):
    mini = trusts
    dep = agree(mini, 131542, "L9002", "--bill-to", "trust")
    # Brookfield leaves the trust afterwards: the deployment still bills the trust agreed
    text = CURRENT.read_text(encoding="utf-8", errors="surrogateescape")
    moved = tmp_path / "moved.csv"
    moved.write_text(text.replace("Supported by a multi-academy trust,5001,Northern Lights "
                                  "Trust", "Not applicable,,", 1),
                     encoding="utf-8", errors="surrogateescape")
    imp(mini, moved)
    assert mini.json("school", "show", "131542")["trust_uid"] is None
    log(mini, dep, "2026-09-07")
    [inv] = mini.json("invoice", "--month", "2026-09")
    assert (inv["payer"], inv["payer_trust_uid"], inv["total_pence"]) == (
        "Northern Lights Trust", "5001", 30000)
    # a school with no trust (now Brookfield too): refused, nothing written
    before = snapshot(db)
    for args in (("request", "log", "--school", "131543", "--need", "achievement",
                  "--bill-to", "trust"),
                 ("deploy", "1", "--leader", "L9003", "--days", "1", "--bill-to", "trust")):
        got = mini(*args)
        assert got.exit_code == 1 and "belongs to no trust" in got.stderr, got.stderr
    bad = mini("request", "log", "--school", "131543", "--need", "achievement",
               "--bill-to", "parents")
    assert bad.exit_code == 2
    assert snapshot(db) == before


def test_request_edit_moves_billing_to_the_trust_for_deployments_agreed_after(trusts: Run):
    mini = trusts
    rid = mini("request", "log", "--school", "131542", "--need", "achievement",
               "--received", "2026-01-05", ok=True).stdout.strip()
    assert mini.json("request", "show", rid)["bill_to"] == "school"
    got = mini("request", "edit", rid, "--bill-to", "trust", ok=True)
    assert "bill_to" in got.stderr
    assert mini.json("request", "show", rid)["bill_to"] == "trust"
    dep = mini("deploy", rid, "--leader", "L9002", "--days", "2", "--start", "2026-09-01",
               ok=True).stdout.strip()
    assert mini.json("deployment", "show", dep)["payer_trust_uid"] == "5001"
    audit = mini.json("audit", "--table", "support_request")
    assert any("bill_to" in json.dumps(row) for row in audit)
    # a school outside any trust: refused, nothing changed
    other = mini("request", "log", "--school", "131543", "--need", "achievement",
                 ok=True).stdout.strip()
    refused = mini("request", "edit", other, "--bill-to", "trust")
    assert refused.exit_code == 1 and "belongs to no trust" in refused.stderr
    assert mini.json("request", "show", other)["bill_to"] == "school"
