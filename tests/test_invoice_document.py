"""What a school's finance office needs on the invoice (issue 12): the alliance's details and
bank details from the card (validated), the payer's address and finance contact, lines and kinds
in words, a schedule of every dated day, VAT invoices, £0 invoices, credit notes, and a PDF in
embedded Unicode fonts.  Figures hand-worked in pence."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pypdf import PdfReader

from tests.conftest import Run, query
from tests.test_invoicing import deploy, log
from tests.test_money import reload

CARD = """rates:
  vat:
    default: exempt
    work: {coaching: standard}
  invoice:
    legal_name: Test Learning Trust
    phone: 020 7946 0000
    company_number: "8123456"
    vat_number: gb123456782
    bank: {account_name: Test Learning Trust, sort_code: "309457", account_number: "1234 5678"}
    remittance_email: finance@test.example.org
  payers:
    Northern Lights Fund:
      address: ["1 Fund Street", "Leeds LS1 1AA"]
      attention: Grants Officer
"""


def text_of(path: Path) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(str(path)).pages).split())


def load_card(run: Run, tmp_path: Path, text: str = CARD) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(text)
    run("seed", "load", str(path), ok=True)


def coaching(run: Run, *, school: int = 131542, leader: str = "L9002", days: str = "5",
             specialism: str = "phonics") -> int:
    req = run("request", "log", "--school", str(school), "--need", "achievement",
              "--specialism", specialism, "--received", "2026-01-05", ok=True).stdout.strip()
    return int(run("deploy", req, "--leader", leader, "--days", days, "--start", "2026-09-01",
                   "--work", "coaching", ok=True).stdout.strip())


def test_the_card_holds_the_alliance_details_validated_and_normalised(mini: Run, tmp_path):
    load_card(mini, tmp_path)
    shown = mini.json("rates")["invoice"]
    assert (shown["legal_name"], shown["phone"], shown["company_number"],
            shown["vat_number"], shown["remittance_email"]) == (
        "Test Learning Trust", "020 7946 0000", "08123456", "GB 123 4567 82",
        "finance@test.example.org")
    assert shown["bank"] == {"account_name": "Test Learning Trust", "sort_code": "30-94-57",
                             "account_number": "12345678"}
    assert mini.json("rates")["payers"]["Northern Lights Fund"]["attention"] == "Grants Officer"
    table = mini("rates", "--format", "table", ok=True).stdout
    assert "30-94-57" in table and "GB 123 4567 82" in table
    # a later file naming one field keeps the rest (the card's merge policy)
    load_card(mini, tmp_path, "rates:\n  invoice:\n    phone: 01632 960000\n")
    again = mini.json("rates")["invoice"]
    assert again["phone"] == "01632 960000" and again["bank"]["sort_code"] == "30-94-57"


def test_bad_card_details_are_refused_with_file_and_line(mini: Run, tmp_path, db, snapshot):
    before = snapshot(db)
    cases = [
        ("    bank: {account_name: A, sort_code: 12-34-5, account_number: '12345678'}\n",
         ":3: 'sort_code' must be six digits as NN-NN-NN, not '12-34-5'"),
        ("    bank: {account_name: A, sort_code: 12-34-56, account_number: '1234567'}\n",
         ":3: 'account_number' must be 8 digits, not '1234567'"),
        ("    vat_number: GB 123 4567 89\n", ":3: 'vat_number' is not a UK VAT registration"),
        ("    company_number: ABC\n", ":3: 'company_number' is not a Companies House number"),
        ("    logo: nowhere.png\n", ":3: 'logo' cannot be read: nowhere.png"),
        ("    logo: card.yaml\n", ":3: 'logo' card.yaml is not a PNG or JPEG image"),
    ]
    for line, expected in cases:
        path = tmp_path / "card.yaml"
        path.write_text("rates:\n  invoice:\n" + line)
        result = mini("seed", "load", str(path))
        assert result.exit_code == 2 and expected in result.stderr, (line, result.stderr)
    assert snapshot(db) == before


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (20, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


def test_a_vat_invoice_carries_everything_a_finance_office_needs(mini: Run, tmp_path: Path):
    (tmp_path / "logo.png").write_bytes(_png())
    load_card(mini, tmp_path, CARD.replace("    remittance_email",
                                           "    logo: logo.png\n    remittance_email"))
    mini("school", "edit", "131542", "--street", "1 Brook Lane", "--town", "London",
         "--postcode", "NW1 0AA", "--finance-contact", "Jo Price", "--finance-email",
         "jo@brookfield.example.org", ok=True)
    dep = coaching(mini)  # Ben Hallam, SLE, at Brookfield (small band: SLE £300 / £150)
    log(mini, dep, "2026-09-21", "2026-09-22")
    log(mini, dep, "2026-09-23", half=True)
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    # 2 x £300 + £150 = £750 net; coaching is standard-rated: VAT 20% = £150; total £900
    assert (inv["subtotal_pence"], inv["vat_pence"], inv["total_pence"]) == (75000, 15000,
                                                                             90000)
    assert inv["vat_invoice"] is True and inv["tax_point"] == "2026-10-01"
    assert inv["vat_rates"] == [{"vat_percent_bp": 2000, "net_pence": 75000,
                                 "vat_pence": 15000}]
    assert inv["payer_address"] == ["1 Brook Lane", "London", "NW1 0AA"]
    assert (inv["payer_attention"], inv["payer_email"]) == ("Jo Price",
                                                            "jo@brookfield.example.org")
    assert inv["supplier"]["vat_number"] == "GB 123 4567 82"
    [line] = inv["lines"]
    assert line["description"] == "SLE coaching — phonics, Ben Hallam"
    assert (line["kind_text"], line["rate_pence"], line["half_day_rate_pence"],
            line["amount_pence"], line["vat_percent_bp"]) == ("charged", 30000, 15000, 75000,
                                                              2000)
    assert [(d["date"], d["days"], d["activity"], d["amount_pence"]) for d in inv["days"]] == [
        ("2026-09-21", "1", "coaching", 30000), ("2026-09-22", "1", "coaching", 30000),
        ("2026-09-23", "0.5", "coaching", 15000)]
    out = tmp_path / "inv.pdf"
    mini("invoices", "show", inv["number"], "--format", "pdf", "--out", str(out), ok=True)
    reader = PdfReader(str(out))
    assert len(reader.pages) == 2  # the invoice, then the schedule of days
    assert reader.pages[0].images  # the logo
    text = text_of(out)
    for needle in ("VAT INVOICE", "Test Learning Trust", "VAT registration number GB 123 4567 82",
                   "Company number 08123456", "Tax point: 1 Oct 2026", "Bill to",
                   "1 Brook Lane", "For the attention of: Jo Price", "SLE coaching — phonics",
                   "VAT at 20% on £750.00 £150.00", "Total £900.00", "Sort code: 30-94-57",
                   "Account number: 12345678", "Account name: Test Learning Trust",
                   "Reference: S2S-2026-0001", "finance@test.example.org",
                   "Schedule of days", "21 Sep 2026"):
        assert needle in text, needle
    # the PDF of an issued invoice never changes: a new card, a new finance contact
    before = out.read_bytes()
    load_card(mini, tmp_path, "rates:\n  invoice:\n    legal_name: Other Trust\n"
                              "    bank: {account_name: X, sort_code: 11-11-11, "
                              "account_number: '11111111'}\n    logo: ''\n")
    mini("school", "edit", "131542", "--finance-contact", "Someone Else", ok=True)
    mini("invoices", "show", inv["number"], "--format", "pdf", "--out", str(out), ok=True)
    assert out.read_bytes() == before
    assert mini.json("invoices", "show", inv["number"])[0]["payer_attention"] == "Jo Price"


def test_a_vat_invoice_without_a_vat_number_is_refused(mini: Run, tmp_path: Path, db,
                                                       snapshot):
    load_card(mini, tmp_path, CARD.replace("    vat_number: gb123456782\n", ""))
    dep = coaching(mini)
    log(mini, dep, "2026-09-21")
    before = snapshot(db)
    result = mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert result.exit_code == 1
    assert "vat_number" in result.stderr and "Brookfield Primary School" in result.stderr
    assert snapshot(db) == before
    # exempt work needs no VAT number
    dep2 = deploy(mini, school=131544, leader="L9003", days="2")
    log(mini, dep2, "2026-09-22")
    ok = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01",
                   "--school", "131544")
    assert ok[0]["vat_invoice"] is False and ok[0]["vat_pence"] == 0


def test_free_days_say_nothing_to_pay_and_a_credit_note_credits(mini: Run, tmp_path: Path):
    dep = deploy(mini, school=131543, leader="L9005", days="5", need="governance")
    log(mini, dep, "2026-09-07", "2026-09-08")  # inside the NLG's 5 free days: £0
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert inv["total_pence"] == 0
    assert [ln["kind_text"] for ln in inv["lines"]] == ["free (NLG allowance)"]
    out = tmp_path / "free.pdf"
    mini("invoices", "show", inv["number"], "-f", "pdf", "-o", str(out), ok=True)
    text = text_of(out)
    assert "Nothing to pay" in text and "Please pay by" not in text
    mini("invoices", "void", inv["number"], "--reason", "sent twice", "--date", "2026-10-02",
         ok=True)
    credit = tmp_path / "credit.pdf"
    mini("invoices", "show", "S2S-CR-2026-0001", "-f", "pdf", "-o", str(credit), ok=True)
    text = text_of(credit)
    assert "Credit to" in text and "Bill to" not in text


def test_funded_lines_and_a_funders_address_from_the_card(mini: Run, tmp_path: Path):
    load_card(mini, tmp_path)
    dep = deploy(mini, school=131545, leader="L9003", days="3", funding="grant",
                 funder="Northern Lights Fund")
    log(mini, dep, "2026-09-14", "2026-09-15")
    [inv] = mini.json("invoice", "--month", "2026-09")
    assert inv["payer"] == "Northern Lights Fund" and inv["total_pence"] == 70000  # 2 x £350
    assert inv["payer_address"] == ["1 Fund Street", "Leeds LS1 1AA"]
    assert inv["payer_attention"] == "Grants Officer"
    assert inv["lines"][0]["kind_text"] == "funded by Northern Lights Fund"
    csv_text = mini("invoice", "--month", "2026-09", "--format", "csv", ok=True).stdout
    header, row = csv_text.splitlines()[:2]
    assert header.endswith(",invoice_total_pence,service,kind_text,po")  # po: issue 12
    assert row.endswith(",70000,SLE support — achievement,funded by Northern Lights Fund,")


def test_names_print_as_typed_and_a_long_alliance_name_wraps(mini: Run, tmp_path: Path):
    long_name = "The " + "Very " * 12 + "Long Teaching School Alliance of Łódź and Zoë"
    reload(mini, tmp_path, ("name: Chloe Brennan", "name: Łukasz Ó’Brien 李"))
    load_card(mini, tmp_path, f"rates:\n  invoice:\n    alliance_name: {long_name}\n")
    dep = deploy(mini, school=131542, leader="L9003", days="2")
    log(mini, dep, "2026-09-21")
    out = tmp_path / "names.pdf"
    mini("invoice", "--month", "2026-09", "-f", "pdf", "-o", str(out), ok=True)
    text = text_of(out)
    assert "Łukasz Ó’Brien 李" in text and "Łódź and Zoë" in text
    assert "?" not in text
    from s2s_cli.services import pdf

    assert pdf.FONT_DIR.joinpath("DejaVuSans.ttf").is_file()


def test_documents_issued_before_these_fields_still_render(mini: Run, tmp_path: Path, db):
    dep = deploy(mini, school=131542, leader="L9003", days="2")
    log(mini, dep, "2026-09-21")
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    # strip the new keys from the frozen document, as one issued before issue 12 was stored
    [(doc,)] = query(db, "SELECT document FROM invoice")
    old = json.loads(doc)
    for key in ("legal_name", "phone", "company_number", "charity_number", "vat_number", "bank",
                "remittance_email", "logo_sha256", "vat_invoice", "tax_point", "payer_address",
                "payer_attention", "payer_email"):
        old.pop(key, None)
    for ln in old["lines"]:
        ln.pop("service", None)
        ln.pop("kind_text", None)
    from sqlalchemy import text

    from s2s_cli import db as dbmod

    engine = dbmod.make_engine(db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE invoice SET document = :d"), {"d": json.dumps(old)})
    out = tmp_path / "old.pdf"
    mini("invoices", "show", inv["number"], "-f", "pdf", "-o", str(out), ok=True)
    assert "Total £300.00" in text_of(out)  # small band: SLE £300
    shown = mini.json("invoices", "show", inv["number"])[0]
    assert shown["payer_address"] is None and shown["lines"][0]["description"] is None


def test_a_zero_rated_supply_is_a_vat_invoice_at_0_percent(mini: Run, tmp_path: Path, db,
                                                           snapshot):
    """Zero-rated is taxable, not exempt: a VAT invoice (VAT number, tax point, VAT at 0%),
    with no exemption wording; mixed with an exempt line, that line is listed as exempt."""
    zero = CARD.replace("work: {coaching: standard}", "work: {coaching: zero}")
    load_card(mini, tmp_path, zero.replace("    vat_number: gb123456782\n", ""))
    dep = coaching(mini)  # Ben Hallam, SLE, at Brookfield (small band: SLE £300 / £150)
    log(mini, dep, "2026-09-21", "2026-09-22")
    before = snapshot(db)
    refused = mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    assert refused.exit_code == 1 and "vat_number" in refused.stderr
    assert snapshot(db) == before
    load_card(mini, tmp_path, zero)
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    # 2 x £300 = £600 net, zero-rated: VAT £0.00, total £600
    assert (inv["subtotal_pence"], inv["vat_pence"], inv["total_pence"]) == (60000, 0, 60000)
    assert inv["vat_invoice"] is True and inv["tax_point"] == "2026-10-01"
    assert inv["vat_rates"] == [{"vat_percent_bp": 0, "net_pence": 60000, "vat_pence": 0}]
    out = tmp_path / "zero.pdf"
    mini("invoices", "show", inv["number"], "--format", "pdf", "--out", str(out), ok=True)
    text = text_of(out)
    for needle in ("VAT INVOICE", "VAT registration number GB 123 4567 82",
                   "Tax point: 1 Oct 2026", "VAT at 0% on £600.00 £0.00", "Total £600.00"):
        assert needle in text, needle
    assert "exempt" not in text.lower()
    # October: a zero-rated coaching day and an exempt day (other work) on one invoice
    log(mini, dep, "2026-10-05")
    other = deploy(mini, school=131542, leader="L9003", days="2")
    log(mini, other, "2026-10-06")
    [mixed] = mini.json("invoice", "--month", "2026-10", "--issue", "--date", "2026-11-02")
    assert mixed["vat_invoice"] is True and mixed["tax_point"] == "2026-11-02"
    by_dep = {ln["deployment_id"]: ln["amount_pence"] for ln in mixed["lines"]}
    exempt_net = by_dep[other]
    assert by_dep[dep] == 30000 and mixed["subtotal_pence"] == 30000 + exempt_net
    mini("invoices", "show", mixed["number"], "--format", "pdf", "--out", str(out), ok=True)
    text = text_of(out)
    from s2s_cli.parsing import format_pence

    for needle in ("VAT INVOICE", "Tax point: 2 Nov 2026", "VAT at 0% on £300.00 £0.00",
                   f"Exempt from VAT: {format_pence(exempt_net)} £0.00",
                   "Lines marked exempt are exempt supplies"):
        assert needle in text, needle
    assert "No VAT is charged" not in text


def test_a_stored_document_thaws_and_freezes_back_to_the_same_bytes(mini: Run, tmp_path: Path,
                                                                    db: str):
    """Issued documents are typed records (services/documents.py) whose stored form is the
    JSON frozen at issue: thawing it and freezing it again gives back the very same text,
    keys this version does not know included, so a credit note or a resealing never drifts."""
    from s2s_cli.services import invoicing
    from s2s_cli.services.documents import Document

    load_card(mini, tmp_path)
    dep = coaching(mini)
    log(mini, dep, "2026-09-21", "2026-09-22")
    log(mini, dep, "2026-09-23", half=True)
    [inv] = mini.json("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01")
    [(stored,)] = query(db, "SELECT document FROM invoice WHERE number = :n", n=inv["number"])
    doc = Document.thaw(json.loads(stored), {"L9002": "Ben Hallam"}, id=1, status="issued",
                        voided_by=None)
    assert invoicing.freeze(doc) == stored
    assert [ln.description for ln in doc.lines] == ["SLE coaching — phonics, Ben Hallam"]
    assert doc.lines[0].leader == "Ben Hallam"  # joined now, never stored
    assert "Ben Hallam" not in stored
    # a key from a later version survives a round trip, on the document and on a line
    later = json.loads(stored)
    later["future"] = {"x": 1}
    later["lines"][0]["future_line"] = "kept"
    again = Document.thaw(later, {}, id=1, status="issued", voided_by=None)
    assert json.loads(invoicing.freeze(again)) == later
