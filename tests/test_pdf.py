"""Invoices as PDF: a real document a PDF reader opens, with the number, payer and total."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from s2s_cli.services import pdf
from tests.conftest import Run
from tests.test_invoicing import deploy, log


def text_of(path: Path) -> str:
    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_issued_invoice_pdf_has_number_total_and_terms(mini: Run, tmp_path: Path):
    dep = deploy(mini, school=131542, leader="L9003", days="5")
    log(mini, dep, "2026-09-21", "2026-09-22", "2026-09-23")
    log(mini, dep, "2026-09-24", half=True)
    mini("invoice", "--month", "2026-09", "--issue", "--date", "2026-10-01", ok=True)
    out = tmp_path / "out" / "S2S-2026-0001.pdf"
    mini("invoices", "show", "S2S-2026-0001", "--format", "pdf", "--out", str(out), ok=True)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert out.stat().st_mode & 0o077 == 0
    reader = PdfReader(str(out))
    assert len(reader.pages) == 2  # the invoice, then the schedule of days
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = text_of(out)
    for needle in ("S2S-2026-0001", "£1,050.00", "Test Teaching School Alliance",
                   "London NW1 0AA", "Brookfield Primary School", "URN 131542",
                   "Chloe Brennan", "£300.00", "1 Oct 2026", "29 Oct 2026",
                   "Payment terms: 28 days"):
        assert needle in text, needle
    assert "DRAFT" not in text


def test_draft_and_credit_note_pdfs(mini: Run, tmp_path: Path):
    dep = deploy(mini, school=131543, leader="L9005", days="7", start="2026-09-01",
                 need="governance")
    log(mini, dep, *[f"2026-09-{d:02d}" for d in (1, 2, 3, 4, 7, 8)])
    draft = tmp_path / "draft.pdf"
    mini("invoice", "--month", "2026-09", "--format", "pdf", "--out", str(draft), ok=True)
    text = text_of(draft)
    assert "DRAFT" in text and "free" in text and "£400.00" in text and "£0.00" in text
    mini("invoice", "--month", "2026-09", "--issue", ok=True)
    mini("invoices", "void", "S2S-2026-0001", "--reason", "wrong payer", ok=True)
    credit = tmp_path / "credit.pdf"
    mini("invoices", "show", "S2S-CR-2026-0001", "-f", "pdf", "-o", str(credit), ok=True)
    text = text_of(credit)
    assert "CREDIT NOTE" in text and "S2S-CR-2026-0001" in text and "-£400.00" in text
    assert "S2S-2026-0001" in text and "wrong payer" in text


def test_pdf_needs_out_and_an_empty_draft_writes_nothing(mini: Run, tmp_path: Path):
    assert mini("invoice", "--month", "2026-09", "--format", "pdf").exit_code == 2
    target = tmp_path / "none.pdf"
    result = mini("invoice", "--month", "2026-09", "--format", "pdf", "--out", str(target))
    assert result.exit_code == 0 and not target.exists()
    assert "no PDF written" in result.stderr


def test_names_print_as_typed_in_the_embedded_unicode_fonts():
    from s2s_cli.services.documents import Document

    stored = {  # an old-shaped stored document (none of the newer keys)
        "number": None, "payer": "Łódź “Academy” – Trust ☃ 学校",
        "payer_school_urn": 100001, "period_from": "2026-09-01",
        "period_to": "2026-09-30", "issued": None, "due": None,
        "subtotal_pence": 123450, "vat_pence": 24690, "total_pence": 148140,
        "vat_percent_bp": 2000, "payment_terms_days": 30, "alliance_name": "Zoë’s Alliance",
        "address": ["1 Rue Émile"], "email": None, "credits": None,
        "reason": None, "lines": [{
            "deployment_id": 1, "leader_id": "L1",
            "school_urn": 100001, "school": "Łódź", "date_from": "2026-09-01",
            "date_to": "2026-09-02", "days": 7, "full_days": 3, "half_days": 1,
            "rate_pence": 35270, "half_day_rate_pence": 17640, "amount_pence": 123450,
            "supply_pence": 0, "kind": "charged"}],
    }
    doc = Document.thaw(stored, {"L1": "Łukasz Ó’Brien 李 \U0001F9FF"}, id=1, status="draft",
                        voided_by=None)
    data = pdf.render([doc] * 2)  # an old-shaped document (no new keys) still renders
    assert data.startswith(b"%PDF-")
    import io

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    text = " ".join(reader.pages[0].extract_text().split())  # cells wrap
    assert "Zoë’s Alliance" in text and "Łódź “Academy” – Trust ☃ 学校" in text
    assert "£1,481.40" in text and "VAT (20%)" in text
    assert "Łukasz Ó’Brien 李 ?" in text  # an emoji no embedded font has: "?"


def test_printable():
    assert pdf.printable("café – “quoted” … £5") == "café – “quoted” … £5"
    assert pdf.printable("Łukasz Żółć 李") == "Łukasz Żółć 李"
    assert pdf.printable("\U0001F9FF") == "?"
    assert pdf.printable("a\tb") == "a b"
    assert pdf.printable(None) == ""
