"""PDFs (fpdf2, A4): the shared pieces every s2s document uses, and the invoice itself.

Shared pieces (for invoices, credit notes, remittance advice, statements):
* `new_pdf(title, dated)` - an A4 document with the embedded fonts set up, dated by the
  document's own date (the same document always makes the same bytes);
* `printable(text)` - text the embedded fonts can draw (a character none has becomes "?");
* `heading(pdf, supplier, title, facts)` - the alliance's name (wrapping, never overflowing),
  address and contact details, registration numbers and logo on the left; the document's
  title and facts (number, dates) on the right;
* `section(pdf, text)`, `paragraph(pdf, text)`, `table(pdf, headings, rows, widths, align)`,
  `totals(pdf, [(label, value, bold)])` - the body;
* `bank_details(pdf, supplier, reference)` - how to pay, and where to send remittance advice.

Fonts: DejaVu Sans (regular and bold) for Latin, Greek, Cyrillic and most symbols, with a
subset of Droid Sans Fallback for Chinese, Japanese and Korean names, all shipped in
`s2s_cli/fonts/` (free licences: see the README there).  Łukasz, Zoë, Ó'Brien and 李 print as
typed; fpdf2 embeds only the glyphs a document uses.

`render(docs)` draws invoice documents (see `services.invoicing`): a page (or more) per
document - heading, bill to / credit to (with the payer's address and "For the attention of"),
one row per line described in words, the totals (VAT per rate on a VAT invoice), how to pay,
then a page with the schedule of every dated day.  Documents issued before these fields existed
lack them and render without them."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2s_cli.parsing import days_str, format_pence

if TYPE_CHECKING:
    from s2s_cli.services.documents import DocLine, Document, ScheduleDay

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT = "s2s"  # the family registered by new_pdf (regular and bold)
FALLBACK = "s2s-cjk"
FONT_FILES = {(FONT, ""): "DejaVuSans.ttf", (FONT, "B"): "DejaVuSans-Bold.ttf",
              (FALLBACK, ""): "DroidSansFallback-CJK-subset.ttf"}


@cache
def _coverage() -> frozenset[int]:
    """Every code point one of the embedded fonts can draw."""
    from fontTools.ttLib import TTFont

    points: set[int] = set()
    for name in FONT_FILES.values():
        with TTFont(FONT_DIR / name, lazy=True) as font:
            points.update(font.getBestCmap() or {})
    return frozenset(points)


def printable(text: Any) -> str:
    """Text the embedded fonts can draw: control characters become spaces; a character no font
    has loses its accent (NFKD) if that helps, else becomes "?"."""
    if text is None:
        return ""
    have = _coverage()
    out = []
    for ch in str(text):
        if not ch.isprintable():
            out.append(" ")
        elif ord(ch) in have:
            out.append(ch)
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if ord(c) in have and not unicodedata.combining(c))
            out.append(base or "?")
    return "".join(out)


def new_pdf(title: str, dated: dt.date | None) -> Any:
    """An A4 FPDF with the embedded fonts set up (FONT regular/bold, FALLBACK for CJK), dated
    `dated` (never the clock: the same document gives the same bytes)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    for (family, style), name in FONT_FILES.items():
        pdf.add_font(family, style, str(FONT_DIR / name))
    pdf.set_fallback_fonts([FALLBACK], exact_match=False)
    pdf.set_title(printable(title))
    pdf.set_creator("s2s")
    day = dated or dt.date(2000, 1, 1)
    pdf.set_creation_date(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
    pdf.set_font(FONT, "", 10)
    return pdf


def width_of(pdf: Any) -> float:
    return float(pdf.w - pdf.l_margin - pdf.r_margin)


def _nl() -> dict[str, Any]:
    from fpdf.enums import XPos, YPos

    return {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def supplier_lines(supplier: dict[str, Any]) -> list[str]:
    """The alliance's address and contact lines, then its registration numbers."""
    lines = list(supplier.get("address") or [])
    contact = [v for v in (supplier.get("phone"), supplier.get("email")) if v]
    if contact:
        lines.append("  ·  ".join(contact))
    if supplier.get("company_number"):
        lines.append(f"Company number {supplier['company_number']}")
    if supplier.get("charity_number"):
        lines.append(f"Registered charity {supplier['charity_number']}")
    if supplier.get("vat_number"):
        lines.append(f"VAT registration number {supplier['vat_number']}")
    return lines


def heading(pdf: Any, supplier: dict[str, Any], title: str,
            facts: Sequence[tuple[str, str]], *, logo: bytes | None = None) -> None:
    """The top of a document: logo (if any), the alliance's legal name wrapped in the left
    55% of the page, its address, contact and registration lines; the title and `facts`
    (label, value) right-aligned on the right.  Leaves the cursor below both, at the margin."""
    import io

    from fpdf.enums import XPos, YPos

    width = width_of(pdf)
    left = width * 0.55
    top = pdf.get_y()
    if logo:
        pdf.image(io.BytesIO(logo), x=pdf.l_margin, y=top, h=16, keep_aspect_ratio=True)
        pdf.set_y(top + 18)
    pdf.set_font(FONT, "B", 13)
    name = supplier.get("legal_name") or supplier.get("alliance_name") or ""
    pdf.multi_cell(left, 6.5, printable(name), **_nl())
    if supplier.get("legal_name") and supplier.get("alliance_name") and \
            supplier["alliance_name"] != supplier["legal_name"]:
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(left, 4.5, printable(supplier["alliance_name"]), **_nl())
    pdf.set_font(FONT, "", 8.5)
    for line in supplier_lines(supplier):
        pdf.multi_cell(left, 4.3, printable(line), **_nl())
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(width - left, 8, printable(title), align="R", new_x=XPos.LEFT,
                   new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9.5)
    for label, value in facts:
        pdf.set_x(pdf.l_margin + left)
        pdf.multi_cell(width - left, 5.2, printable(f"{label}: {value}"), align="R", **_nl())
    pdf.set_y(max(pdf.get_y(), left_bottom) + 6)


def section(pdf: Any, text: str, size: float = 10) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(width_of(pdf), 5.5, printable(text), **_nl())
    pdf.set_font(FONT, "", size)


def paragraph(pdf: Any, text: str, size: float = 9, *, bold: bool = False,
              height: float = 4.8) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.multi_cell(width_of(pdf), height, printable(text), **_nl())


def table(pdf: Any, headings: Sequence[str], rows: Sequence[Sequence[Any]],
          widths: Sequence[float], align: Sequence[str], *, size: float = 8.5) -> None:
    """A table with a heading row (repeated on each page); cells wrap."""
    pdf.set_font(FONT, "", size)
    with pdf.table(col_widths=tuple(widths), text_align=tuple(align), line_height=4.6,
                   first_row_as_headings=True, width=width_of(pdf)) as grid:
        grid.row([printable(h) for h in headings])
        for row in rows:
            grid.row([printable(c) for c in row])


def totals(pdf: Any, rows: Sequence[tuple[str, str, bool]], *, label_width: float = 60,
           value_width: float = 32) -> None:
    """Right-aligned label/value rows (the bold ones for the total)."""
    for label, value, bold in rows:
        pdf.set_font(FONT, "B" if bold else "", 9.5)
        pdf.set_x(pdf.l_margin + width_of(pdf) - label_width - value_width)
        pdf.cell(label_width, 5.6, printable(label), align="R")
        pdf.cell(value_width, 5.6, printable(value), align="R", **_nl())


def bank_details(pdf: Any, supplier: dict[str, Any], reference: str | None) -> None:
    """How to pay by bank transfer (when the card has bank details) and where to send
    remittance advice."""
    bank = supplier.get("bank") or {}
    if bank:
        section(pdf, "How to pay", 9.5)
        parts = [f"Account name: {bank.get('account_name')}",
                 f"Sort code: {bank.get('sort_code')}",
                 f"Account number: {bank.get('account_number')}"]
        if reference:
            parts.append(f"Reference: {reference}")
        paragraph(pdf, "   ".join(parts))
    remit = supplier.get("remittance_email") or None
    if remit:
        paragraph(pdf, f"Please send remittance advice to {remit}.")


def day_text(value: Any) -> str:
    """'1 Oct 2026'."""
    value = _as_date(value)
    if isinstance(value, dt.date):
        return value.strftime("%d %b %Y").lstrip("0")
    return "" if value is None else str(value)


def span_text(first: Any, last: Any) -> str:
    """'14 Sep – 18 Sep 2026', '29 Sep 2026', '30 Aug 2026 – 2 Sep 2027'."""
    first, last = _as_date(first), _as_date(last)
    if first == last:
        return day_text(first)
    if first.year == last.year:
        return f"{first.strftime('%d %b').lstrip('0')} – {day_text(last)}"
    return f"{day_text(first)} – {day_text(last)}"


def _as_date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def percent_text(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}%" if bp % 100 else f"{bp // 100}%"


# --------------------------------------------------------------------------- invoices

KIND_WORDS = {"charged": "charged", "free": "free (NLG allowance)"}


def kind_text(line: DocLine) -> str:
    """A line's kind in words (older documents lack `kind_text`)."""
    if line.kind_text:
        return line.kind_text
    return KIND_WORDS.get(line.kind, line.kind)


def _title(doc: Document) -> str:
    if doc.status == "draft":
        return "DRAFT INVOICE"
    if doc.status == "credit":
        return "CREDIT NOTE"
    name = "VAT INVOICE" if doc.vat_invoice else "INVOICE"
    return f"{name} (VOID)" if doc.status == "void" else name


def _payer_block(pdf: Any, doc: Document) -> None:
    section(pdf, "Credit to" if doc.status == "credit" else "Bill to")
    payer = doc.payer or ""
    if doc.payer_school_urn:
        payer += f" (URN {doc.payer_school_urn})"
    lines = [payer, *(doc.payer_address or [])]
    if doc.payer_attention:
        lines.append(f"For the attention of: {doc.payer_attention}")
    if doc.payer_email:
        lines.append(str(doc.payer_email))
    if doc.po:
        lines.append(f"Purchase order: {doc.po}")
    for line in lines:
        paragraph(pdf, line, 10, height=5.2)


def _invoice_page(pdf: Any, doc: Document, logo: bytes | None) -> None:
    pdf.add_page()
    number = doc.number or "DRAFT"
    facts = [("Number", number), ("Issued", day_text(doc.issued) or "not issued")]
    if doc.vat_invoice and doc.issued:
        facts.append(("Tax point", day_text(doc.tax_point or doc.issued)))
    if doc.status != "credit":
        facts.append(("Due", day_text(doc.due) or "-"))
    facts.append(("Period", f"{day_text(doc.period_from)} – {day_text(doc.period_to)}"))
    heading(pdf, doc.supplier, _title(doc), facts, logo=logo)
    _payer_block(pdf, doc)
    if doc.credits:
        paragraph(pdf, f"Credit note for invoice {doc.credits}."
                  + (f" Reason: {doc.reason}" if doc.reason else ""), 10)
    if doc.voided_by:
        paragraph(pdf, f"This invoice is void: credited by {doc.voided_by}.", 10)
    pdf.ln(4)

    lines = doc.lines
    vat_invoice = bool(doc.vat_invoice)
    headings = ["Service", "Supported school", "Dates", "Days", "Day rate", "Half-day rate",
                "Kind"]
    widths: list[float] = [46, 32, 26, 10, 17, 17, 22]
    align = ["LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"]
    if vat_invoice:
        headings += ["VAT", "Net"]
        widths = [40, 28, 24, 10, 16, 16, 20, 12, 20]
        align += ["RIGHT", "RIGHT"]
    else:
        headings.append("Amount")
        widths.append(20)
        align.append("RIGHT")
    rows = []
    for ln in lines:
        described = ln.description or f"{ln.leader_id} {ln.leader or ''}".strip()
        detail = f"{ln.full_days} full, {ln.half_days} half" \
            if ln.full_days and ln.half_days else ""
        row = [described, ln.school or "", span_text(ln.date_from, ln.date_to),
               days_str(ln.days) + (f"\n({detail})" if detail else ""),
               format_pence(ln.rate_pence), format_pence(ln.half_day_rate_pence or 0),
               kind_text(ln)]
        if vat_invoice:  # an exempt line on a VAT invoice says so (not "0%", zero-rated)
            row.append("exempt" if ln.vat == "exempt"
                       else percent_text(int(ln.vat_percent_bp or 0)))
        row.append(format_pence(ln.amount_pence))
        rows.append(row)
    table(pdf, headings, rows, widths, align, size=8)
    pdf.ln(3)

    shown: list[tuple[str, str, bool]] = [
        ("Days", days_str(sum(ln.days for ln in lines)), False),
        ("Subtotal" if not vat_invoice else "Net total", format_pence(doc.subtotal_pence),
         False)]
    rates = doc.vat_rates
    # lines issued with their VAT treatment (`vat`): the 0% rate's net parted into the
    # zero-rated and the exempt (no VAT either way)
    exempt = sum(ln.amount_pence for ln in lines if ln.vat == "exempt")
    if vat_invoice and rates:
        for v in rates:
            bp = int(v["vat_percent_bp"])
            net = int(v["net_pence"]) - (exempt if bp == 0 else 0)
            if bp or net or not exempt:
                shown.append((f"VAT at {percent_text(bp)} on {format_pence(net)}",
                              format_pence(v["vat_pence"]), False))
        if exempt:
            shown.append((f"Exempt from VAT: {format_pence(exempt)}", format_pence(0), False))
    else:
        bp = int(doc.vat_percent_bp or 0)
        shown.append((f"VAT ({percent_text(bp)})" if bp else "VAT",
                      format_pence(doc.vat_pence), False))
    shown.append(("Total", format_pence(doc.total_pence), True))
    totals(pdf, shown)
    pdf.ln(4)

    terms = int(doc.payment_terms_days or 0)
    if doc.status == "draft":
        paragraph(pdf, "DRAFT – not an invoice. Nothing has been issued; amounts may change "
                       "until the invoice is issued.")
    elif doc.status == "credit":
        paragraph(pdf, "This credit note cancels the invoice it references (or the days it "
                       "lists). No payment is due.")
    elif doc.total_pence == 0:
        paragraph(pdf, "Nothing to pay: every day on this invoice is free or funded "
                       "elsewhere. It is sent so that your records show the days.", bold=True)
    else:
        paragraph(pdf, f"Payment terms: {terms} days. Please pay by {day_text(doc.due)}, "
                       f"quoting {number}.")
        bank_details(pdf, doc.supplier, doc.number)
    kinds = {ln.kind for ln in lines}
    if "free" in kinds:
        paragraph(pdf, "Free days (a national leader of governance's yearly allowance of 5 "
                       "days) are shown at £0.00.")
    if "funded" in kinds:
        paragraph(pdf, "Funded days are paid by the funder named on the line.")
    if not vat_invoice and doc.status != "draft":
        paragraph(pdf, "No VAT is charged: the supply of education and of teaching staff "
                       "between eligible bodies is exempt.")
    elif exempt or any(ln.vat == "exempt" for ln in lines):
        paragraph(pdf, "Lines marked exempt are exempt supplies (education and teaching staff "
                       "between eligible bodies): no VAT is charged on them.")
    if doc.days:
        _schedule_page(pdf, doc, doc.days)


def _schedule_page(pdf: Any, doc: Document, schedule: Sequence[ScheduleDay]) -> None:
    """A page listing every dated day the document bills, with its activity."""
    pdf.add_page()
    section(pdf, f"Schedule of days – {doc.number or 'draft'}", 11)
    paragraph(pdf, "Every day on this document, so that it can be checked against your "
                   "records.")
    pdf.ln(2)
    names = {ln.leader_id: ln.leader or "" for ln in doc.lines}
    rows = []
    for d in schedule:
        leader = f"{d['leader_id']} {names.get(d['leader_id'], '')}".strip()
        rows.append([day_text(d["date"]), leader, (d.get("activity") or "").replace("-", " "),
                     days_str(int(d["halves"])), KIND_WORDS.get(d["kind"], d["kind"]),
                     format_pence(d["amount_pence"])])
    table(pdf, ["Date", "Leader", "Activity", "Days", "Kind", "Amount"], rows,
          [24, 52, 44, 12, 34, 24], ["LEFT", "LEFT", "LEFT", "RIGHT", "LEFT", "RIGHT"])


def render(docs: Sequence[Document], *, logos: dict[str, bytes] | None = None) -> bytes:
    """A PDF of invoice documents (services/documents.py); `logos` maps a document's
    supplier `logo_sha256` to the image bytes."""
    stamp = max((d.issued for d in docs if d.issued), default=None)
    pdf = new_pdf("Invoices" if len(docs) != 1 else docs[0].number or "Draft", stamp)
    for doc in docs:
        logo = (logos or {}).get(doc.supplier.get("logo_sha256") or "")
        _invoice_page(pdf, doc, logo)
    return bytes(pdf.output())
