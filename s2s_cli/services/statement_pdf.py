"""Statements as PDF, in the invoice's style: the statement of account sent to a payer
(`s2s statement PAYER --format pdf`) and the supply-cover statement the alliance sends a home
school (`s2s remittance --home URN --format pdf`: "please invoice us for ...").

Built from the invoice's own pieces (services/pdf.py: the embedded Unicode fonts, the
heading with the alliance's name, address and registration lines, sections, tables, totals,
bank details), so every document the alliance sends looks alike.  The same data gives the
same bytes (the creation date is the statement's own date, never the clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from s2s_cli.parsing import days_str, format_pence
from s2s_cli.services import pdf as parts


def account(payer: str, urn: int | None, rows: Sequence[dict[str, Any]],
            settings: dict[str, Any], on: dt.date) -> bytes:
    """A statement of account (the rows of `payments.statement`), dated `on`."""
    closing = rows[-1]["balance_pence"] if rows else 0
    pdf = parts.new_pdf("Statement of account", on)
    pdf.add_page()
    parts.heading(pdf, settings, "STATEMENT OF ACCOUNT",
                  [("Date", parts.day_text(on)), ("Balance", format_pence(closing))])
    parts.section(pdf, "Account")
    parts.paragraph(pdf, payer + (f" (URN {urn})" if urn else ""), 10)
    pdf.ln(3)
    parts.table(pdf, ["Date", "Type", "Reference", "Detail", "Debit", "Credit", "Balance"],
                [[parts.day_text(r["date"]), r["type"], r["reference"], r["detail"],
                  format_pence(r["debit_pence"]) if r["debit_pence"] else "",
                  format_pence(r["credit_pence"]) if r["credit_pence"] else "",
                  format_pence(r["balance_pence"])] for r in rows],
                (22, 24, 32, 52, 20, 20, 24),
                ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"))
    pdf.ln(3)
    parts.totals(pdf, [("Balance due", format_pence(closing), True)])
    pdf.ln(4)
    parts.paragraph(pdf, "Please pay the balance due, quoting the invoice numbers above."
                    if closing > 0 else "Nothing is due on this account. Thank you.")
    if closing > 0:
        parts.bank_details(pdf, settings, None)
    return bytes(pdf.output())


def remittance(doc: dict[str, Any], settings: dict[str, Any]) -> bytes:
    """The supply-cover statement for one home school and month (`remittance.home_statement`)."""
    month = f"{doc['period_from']:%B %Y}"
    pdf = parts.new_pdf("Supply cover statement", doc["period_to"])
    pdf.add_page()
    parts.heading(pdf, settings, "SUPPLY COVER STATEMENT",
                  [("Month", month), ("Home school URN", str(doc["urn"]))])
    parts.section(pdf, "To")
    parts.paragraph(pdf, f"{doc['name']} (URN {doc['urn']})", 10)
    pdf.ln(3)
    parts.table(pdf, ["Date", "Leader", "Supported school", "Invoice", "Days", "Supply cover"],
                [[parts.day_text(d["date"]), f"{d['leader_id']} {d['leader']}".strip(),
                  d["school"], d["document"], days_str(d["days"]),
                  format_pence(d["supply_pence"])] for d in doc["days"]],
                (22, 44, 50, 30, 12, 28),
                ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"))
    pdf.ln(3)
    parts.totals(pdf, [("Supply cover owed", format_pence(doc["owed_pence"]), False),
                       ("Settled", format_pence(doc["settled_pence"]), False),
                       ("Outstanding", format_pence(doc["outstanding_pence"]), True)])
    pdf.ln(4)
    if doc["outstanding_pence"] > 0:
        parts.paragraph(pdf, f"Please invoice us for {format_pence(doc['outstanding_pence'])}: "
                        f"the supply cover for your staff's days in {month} listed above, "
                        f"quoting URN {doc['urn']} and {doc['month']}.")
    else:
        parts.paragraph(pdf, f"Nothing is outstanding for {month}. Thank you.")
    parts.paragraph(pdf, "Free days (a national leader of governance's yearly allowance) owe "
                    "no supply cover; a credit note's days show as negative amounts.")
    return bytes(pdf.output())
