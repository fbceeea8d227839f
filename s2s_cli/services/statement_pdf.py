"""Statements as PDF, in the invoice's style (services/pdf.py): the statement of account sent
to a payer (`s2s statement PAYER --format pdf`) and the supply-cover statement the alliance
sends a home school (`s2s remittance --home URN --format pdf`: "please invoice us for ...").

The page furniture - the alliance's name and address at the top left, the document's title and
facts at the top right, a table, totals at the right - is drawn the way `pdf.render` draws an
invoice; text goes through `pdf.latin1` for the core fonts.  The same data gives the same
bytes (the creation date is the statement's own date, never the clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from s2s_cli.parsing import days_str, format_pence
from s2s_cli.services.pdf import _day, latin1


def _page(title: str, settings: dict[str, Any], facts: Sequence[tuple[str, str]],
          stamp: dt.date) -> Any:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(latin1(title))
    pdf.set_creator("s2s")
    pdf.set_creation_date(dt.datetime(stamp.year, stamp.month, stamp.day, tzinfo=dt.UTC))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    top = pdf.get_y()
    pdf.set_font("helvetica", "B", 14)
    pdf.multi_cell(width * 0.55, 7, latin1(settings.get("alliance_name")), **nl)
    pdf.set_font("helvetica", "", 9)
    for line in settings.get("address") or []:
        pdf.cell(width * 0.55, 4.5, latin1(line), **nl)
    if settings.get("email"):
        pdf.cell(width * 0.55, 4.5, latin1(settings["email"]), **nl)
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width * 0.55, top)
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(width * 0.45, 8, latin1(title.upper()), align="R", new_x=XPos.LEFT,
             new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 10)
    for label, value in facts:
        pdf.set_x(pdf.l_margin + width * 0.55)
        pdf.cell(width * 0.45, 5.5, latin1(f"{label}: {value}"), align="R", **nl)
    pdf.set_y(max(pdf.get_y(), left_bottom) + 6)
    return pdf


def _to(pdf: Any, heading: str, lines: Sequence[str]) -> None:
    from fpdf.enums import XPos, YPos

    width = pdf.w - pdf.l_margin - pdf.r_margin
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(width, 5.5, latin1(heading), **nl)
    pdf.set_font("helvetica", "", 10)
    for line in lines:
        pdf.multi_cell(width, 5.5, latin1(line), **nl)
    pdf.ln(4)


def _totals(pdf: Any, rows: Sequence[tuple[str, str]], bold: str) -> None:
    from fpdf.enums import XPos, YPos

    width = pdf.w - pdf.l_margin - pdf.r_margin
    for label, value in rows:
        pdf.set_font("helvetica", "B" if label == bold else "", 10)
        pdf.set_x(pdf.l_margin + width - 90)
        pdf.cell(60, 6, latin1(label), align="R")
        pdf.cell(30, 6, latin1(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)


def _note(pdf: Any, text: str) -> None:
    from fpdf.enums import XPos, YPos

    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(width, 5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def account(payer: str, urn: int | None, rows: Sequence[dict[str, Any]],
            settings: dict[str, Any], on: dt.date) -> bytes:
    """A statement of account (the rows of `payments.statement`), dated `on`."""
    closing = rows[-1]["balance_pence"] if rows else 0
    pdf = _page("Statement of account", settings,
                [("Date", _day(on)), ("Balance", format_pence(closing))], on)
    _to(pdf, "Account", [payer + (f" (URN {urn})" if urn else "")])
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("helvetica", "", 8.5)
    with pdf.table(col_widths=(22, 24, 32, 52, 20, 20, 24), width=width, line_height=4.8,
                   text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   first_row_as_headings=True) as table:
        table.row(["Date", "Type", "Reference", "Detail", "Debit", "Credit", "Balance"])
        for r in rows:
            table.row([latin1(_day(r["date"])), latin1(r["type"]), latin1(r["reference"]),
                       latin1(r["detail"]),
                       latin1(format_pence(r["debit_pence"])) if r["debit_pence"] else "",
                       latin1(format_pence(r["credit_pence"])) if r["credit_pence"] else "",
                       latin1(format_pence(r["balance_pence"]))])
    pdf.ln(3)
    _totals(pdf, [("Balance due", format_pence(closing))], "Balance due")
    _note(pdf, "Please pay the balance due, quoting the invoice numbers above."
          if closing > 0 else "Nothing is due on this account. Thank you.")
    return bytes(pdf.output())


def remittance(doc: dict[str, Any], settings: dict[str, Any]) -> bytes:
    """The supply-cover statement for one home school and month (`remittance.home_statement`)."""
    end = doc["period_to"]
    pdf = _page("Supply cover statement", settings,
                [("Month", f"{doc['period_from']:%B %Y}"), ("Home school URN", str(doc["urn"]))],
                end)
    _to(pdf, "To", [doc["name"] + f" (URN {doc['urn']})"])
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("helvetica", "", 8.5)
    with pdf.table(col_widths=(22, 44, 50, 30, 12, 28), width=width, line_height=4.8,
                   text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
                   first_row_as_headings=True) as table:
        table.row(["Date", "Leader", "Supported school", "Invoice", "Days", "Supply cover"])
        for d in doc["days"]:
            table.row([latin1(_day(d["date"])),
                       latin1(f"{d['leader_id']} {d['leader']}".strip()), latin1(d["school"]),
                       latin1(d["document"]), latin1(days_str(d["days"])),
                       latin1(format_pence(d["supply_pence"]))])
    pdf.ln(3)
    _totals(pdf, [("Supply cover owed", format_pence(doc["owed_pence"])),
                  ("Settled", format_pence(doc["settled_pence"])),
                  ("Outstanding", format_pence(doc["outstanding_pence"]))], "Outstanding")
    if doc["outstanding_pence"] > 0:
        _note(pdf, f"Please invoice us for {format_pence(doc['outstanding_pence'])}: the supply "
              f"cover for your staff's days in {doc['period_from']:%B %Y} listed above, "
              f"quoting URN {doc['urn']} and {doc['month']}.")
    else:
        _note(pdf, f"Nothing is outstanding for {doc['period_from']:%B %Y}. Thank you.")
    _note(pdf, "Free days (a national leader of governance's yearly allowance) owe no supply "
          "cover; a credit note's days show as negative amounts.")
    return bytes(pdf.output())
