"""Invoices as PDF (fpdf2, A4, core fonts): one invoice per page (or more, for long ones).

Each page shows the alliance's name and address (the snapshot taken when the invoice was issued,
or the current rate card for a draft), the payer, the number ("DRAFT" for a draft), the dates,
one row per line, the subtotal, VAT and total, and the payment terms.

The core fonts are Latin-1: typographic punctuation is mapped to its ASCII twin, accented
letters outside Latin-1 lose their accent, and anything else becomes "?" - a name never stops an
invoice from rendering.  "£" is Latin-1 and prints as itself."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from typing import Any

from s2s_cli.parsing import days_str, format_pence

_ASCII = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u2264": "<=", "\u2265": ">=", "\u20ac": "EUR",
    # letters that have no decomposition
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE",
    "\u0153": "oe", "\u0131": "i", "\u0126": "H", "\u0127": "h", "\u0166": "T",
    "\u0167": "t", "\u014a": "N", "\u014b": "n",
})


def latin1(text: Any) -> str:
    """Text the core fonts can draw."""
    if text is None:
        return ""
    out = []
    for ch in str(text).translate(_ASCII):
        if ord(ch) < 256:
            out.append(ch if ch.isprintable() else " ")
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 256
                       and not unicodedata.combining(c))
        out.append(base or "?")
    return "".join(out)


def _day(value: Any) -> str:
    value = _as_date(value)
    if isinstance(value, dt.date):
        return value.strftime("%d %b %Y").lstrip("0")
    return "" if value is None else str(value)


def _span(first: Any, last: Any) -> str:
    """'14 Sep - 18 Sep 2026', '29 Sep 2026', '30 Aug 2026 - 2 Sep 2027'."""
    first, last = _as_date(first), _as_date(last)
    if first == last:
        return _day(first)
    if first.year == last.year:
        return f"{first.strftime('%d %b').lstrip('0')} - {_day(last)}"
    return f"{_day(first)} - {_day(last)}"


def _as_date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _title(doc: dict[str, Any]) -> str:
    return {"draft": "DRAFT INVOICE", "credit": "CREDIT NOTE", "void": "INVOICE (VOID)"}.get(
        doc["status"], "INVOICE")


def render(docs: Sequence[dict[str, Any]]) -> bytes:
    """A PDF of the invoice documents (see services.invoicing.documents / draft_doc)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(latin1("Invoices" if len(docs) != 1 else docs[0].get("number") or "Draft"))
    pdf.set_creator("s2s")
    # the same document always makes the same bytes: dated by its issue date, not the clock
    stamp = max((_as_date(d.get("issued")) for d in docs if d.get("issued")),
                default=dt.date(2000, 1, 1))
    pdf.set_creation_date(dt.datetime(stamp.year, stamp.month, stamp.day, tzinfo=dt.UTC))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    for doc in docs:
        pdf.add_page()
        number = doc.get("number") or "DRAFT"
        # Alliance (left) and the document's identity (right).
        top = pdf.get_y()
        pdf.set_font("helvetica", "B", 14)
        pdf.multi_cell(width * 0.55, 7, latin1(doc.get("alliance_name")), **nl)
        pdf.set_font("helvetica", "", 9)
        for line in doc.get("address") or []:
            pdf.cell(width * 0.55, 4.5, latin1(line), **nl)
        if doc.get("email"):
            pdf.cell(width * 0.55, 4.5, latin1(doc["email"]), **nl)
        left_bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + width * 0.55, top)
        pdf.set_font("helvetica", "B", 16)
        pdf.cell(width * 0.45, 8, _title(doc), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font("helvetica", "", 10)
        facts = [("Number", number), ("Issued", _day(doc.get("issued")) or "not issued"),
                 ("Due", _day(doc.get("due")) or "-"),
                 ("Period", f"{_day(doc.get('period_from'))} - {_day(doc.get('period_to'))}")]
        if doc.get("po"):
            facts.append(("Purchase order", doc["po"]))
        if doc["status"] == "credit":
            facts = [f for f in facts if f[0] != "Due"]
        for label, value in facts:
            pdf.set_x(pdf.l_margin + width * 0.55)
            pdf.cell(width * 0.45, 5.5, latin1(f"{label}: {value}"), align="R", **nl)
        pdf.set_y(max(pdf.get_y(), left_bottom) + 6)

        pdf.set_font("helvetica", "B", 10)
        pdf.cell(width, 5.5, "Bill to", **nl)
        pdf.set_font("helvetica", "", 10)
        payer = doc.get("payer") or ""
        if doc.get("payer_school_urn"):
            payer += f" (URN {doc['payer_school_urn']})"
        pdf.multi_cell(width, 5.5, latin1(payer), **nl)
        if doc.get("credits"):
            pdf.multi_cell(width, 5.5, latin1(f"Credit note for invoice {doc['credits']}."
                                              + (f" Reason: {doc['reason']}"
                                                 if doc.get("reason") else "")), **nl)
        if doc.get("voided_by"):
            pdf.multi_cell(width, 5.5, latin1(f"This invoice is void: credited by "
                                              f"{doc['voided_by']}."), **nl)
        pdf.ln(4)

        pdf.set_font("helvetica", "", 8.5)
        widths = (34, 40, 36, 10, 10, 20, 16, 24)
        with pdf.table(col_widths=widths, text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT",
                                                      "RIGHT", "LEFT", "RIGHT"),
                       line_height=4.8, first_row_as_headings=True,
                       width=width) as table:
            table.row(["Leader", "Supported school", "Dates", "Full", "Half", "Day rate",
                       "Kind", "Amount"])
            for ln in doc.get("lines") or []:
                dates = _span(ln["date_from"], ln["date_to"])
                table.row([latin1(f"{ln['leader_id']} {ln.get('leader') or ''}".strip()),
                           latin1(ln.get("school") or ""), latin1(dates),
                           str(ln["full_days"]), str(ln["half_days"]),
                           latin1(format_pence(ln["rate_pence"])), ln["kind"],
                           latin1(format_pence(ln["amount_pence"]))])
        pdf.ln(3)

        vat_pct = int(doc.get("vat_percent_bp") or 0)
        totals = [("Days", days_str(sum(ln["days"] for ln in doc.get("lines") or []))),
                  ("Subtotal", format_pence(doc["subtotal_pence"])),
                  (f"VAT ({vat_pct // 100}.{vat_pct % 100:02d}%)", format_pence(doc["vat_pence"])),
                  ("Total", format_pence(doc["total_pence"]))]
        for label, value in totals:
            pdf.set_font("helvetica", "B" if label == "Total" else "", 10)
            pdf.set_x(pdf.l_margin + width - 80)
            pdf.cell(50, 6, latin1(label), align="R")
            pdf.cell(30, 6, latin1(value), align="R", **nl)
        pdf.ln(5)
        pdf.set_font("helvetica", "", 9)
        terms = int(doc.get("payment_terms_days") or 0)
        if doc["status"] == "draft":
            note = ("DRAFT - not an invoice. Nothing has been issued; amounts may change until "
                    "the invoice is issued.")
        elif doc["status"] == "credit":
            note = "This credit note cancels the invoice it references. No payment is due."
        else:
            note = (f"Payment terms: {terms} days. Please pay by {_day(doc.get('due'))}, "
                    f"quoting {number}.")
        pdf.multi_cell(width, 5, latin1(note), **nl)
        kinds = {ln["kind"] for ln in doc.get("lines") or []}
        if "free" in kinds:
            pdf.multi_cell(width, 5, "Free days (a national leader of governance's yearly "
                                     "allowance) are shown at £0.00.", **nl)
        if "funded" in kinds:
            pdf.multi_cell(width, 5, "Funded days are paid by the funder named above.", **nl)
    return bytes(pdf.output())
