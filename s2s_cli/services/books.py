"""The books: issued invoices, credit notes and payments as files an accounting package imports.

* `xero_invoices`: Xero's sales-invoice import template (the CSV its Invoices > Import screen
  offers: `*ContactName, EmailAddress, POAddressLine1..4, POCity, PORegion, POPostalCode,
  POCountry, *InvoiceNumber, Reference, *InvoiceDate, *DueDate, Total, InventoryItemCode,
  *Description, *Quantity, *UnitAmount, Discount, *AccountCode, *TaxType, TaxAmount,
  TrackingName1, TrackingOption1, TrackingName2, TrackingOption2, Currency, BrandingTheme`),
  one row per invoice line and rate (a line's full days at the day rate, its half days at the
  half-day rate), dates DD/MM/YYYY, amounts in pounds, prices tax exclusive.  A credit note is
  the same rows with the quantities negative (Xero imports a document whose total is negative
  as a credit note), referencing the invoice it credits.  TaxAmount carries the document's
  own VAT, spread over its rows at each rate to the penny (largest remainder), so Xero's
  totals equal the invoice's.
* `xero_payments`: payments and reversals as Xero's payment fields (InvoiceNumber, Date,
  Amount, AccountCode - the bank account -, Reference, Currency); a reversal has a negative
  amount.
* `ledger`: one row per document and payment for any other package: date, type, number,
  payer, net, VAT, gross (debits positive) and the payer's running balance.

Account codes, tax types, the bank account, tracking and currency come from the card's `books`
section (defaults below).  Everything is read from stored rows and frozen documents, ordered
by date and number: the same period exports the same bytes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from s2s_cli.fastdb import Reader
from s2s_cli.output import Column

if TYPE_CHECKING:
    from s2s_cli.services.documents import Document

DEFAULT_BOOKS: dict[str, Any] = {
    "account_code": "200",  # Xero's default "Sales"
    "bank_account_code": "090",  # Xero's default "Business Bank Account"
    "tax_exempt": "Exempt Income",
    "tax_standard": "20% (VAT on Income)",
    "tax_zero": "Zero Rated Income",
    "currency": "GBP",
    "tracking_name": None,  # e.g. "Funding": TrackingOption1 is the funding route
    "branding_theme": None,
}
BOOKS_KEYS = tuple(DEFAULT_BOOKS)

XERO_INVOICE_HEADER = (
    "*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3",
    "POAddressLine4", "POCity", "PORegion", "POPostalCode", "POCountry", "*InvoiceNumber",
    "Reference", "*InvoiceDate", "*DueDate", "Total", "InventoryItemCode", "*Description",
    "*Quantity", "*UnitAmount", "Discount", "*AccountCode", "*TaxType", "TaxAmount",
    "TrackingName1", "TrackingOption1", "TrackingName2", "TrackingOption2", "Currency",
    "BrandingTheme")
XERO_PAYMENT_HEADER = ("*InvoiceNumber", "*Date", "*Amount", "*AccountCode", "Reference",
                       "Currency")
# Text a spreadsheet could run as a formula is neutralised (output.write_csv); the numeric
# columns are written as they are (a credit note's quantity is negative).
NUMERIC = {"Total", "*Quantity", "*UnitAmount", "TaxAmount", "*Amount"}
LEDGER_COLUMNS = [
    Column("date", kind="date"), Column("type"), Column("number"),
    Column("payment_id", kind="int"), Column("payer"), Column("payer_school_urn", kind="int"),
    Column("reference"), Column("net_pence", kind="money"), Column("vat_pence", kind="money"),
    Column("gross_pence", kind="money"), Column("balance_pence", kind="money")]
FORMATS = ("xero", "xero-payments", "ledger")


def columns(which: str) -> list[Column]:
    if which == "ledger":
        return LEDGER_COLUMNS
    header = XERO_INVOICE_HEADER if which == "xero" else XERO_PAYMENT_HEADER
    return [Column(h, kind="num" if h in NUMERIC else "text") for h in header]


def settings(card: dict[str, Any]) -> dict[str, Any]:
    out = dict(DEFAULT_BOOKS)
    out.update({k: v for k, v in (card.get("books") or {}).items() if v is not None})
    return out


def _uk(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _pounds(pence: int) -> str:
    from s2s_cli.parsing import pence_str

    return pence_str(pence)


def _qty(n: int | str) -> str:
    return str(n)


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """`total` pence shared in proportion to `weights` (largest remainder, ties to the first),
    summing exactly to `total`; all zero weights share nothing."""
    base = sum(weights)
    if not weights or base == 0:
        return [0] * len(weights)
    sign = -1 if total < 0 else 1
    whole = abs(total)
    shares = [whole * w // base for w in weights]
    rest = whole - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(whole * weights[i] % base), i))
    for i in order[:rest]:
        shares[i] += 1
    return [sign * s for s in shares]


def _documents(reader: Reader, start: dt.date | None, end: dt.date | None
               ) -> list[Document]:
    from s2s_cli.services import invoicing

    rows = invoicing.listing(reader, start=start, end=end)
    ids = [r["id"] for r in rows]
    return invoicing.documents(reader, ids)


def _contacts(reader: Reader, urns: set[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for r in reader.all("SELECT urn, finance_email, street, locality, address3, town, county, "
                        "postcode FROM school"):
        if int(r[0]) in urns:
            out[int(r[0])] = {"email": r[1], "lines": [r[2], r[3], r[4], None], "city": r[5],
                              "region": r[6], "postcode": r[7]}
    return out


def _deployments(reader: Reader) -> dict[int, tuple[str, str]]:
    """Deployment id -> (VAT treatment, funding route), frozen when it was agreed: for lines
    of documents issued before lines carried them."""
    return {int(r[0]): (r[1] or "exempt", r[2]) for r in reader.all(
        "SELECT id, vat, funding FROM deployment")}


def _line_label(kind: str, unit: str) -> str:
    if kind == "free":
        return "Free days (NLG allowance)"
    word = "Full days" if unit == "full" else "Half days" if unit == "half" else "Days"
    return f"{word} (funded)" if kind == "funded" else word


def xero_invoices(reader: Reader, card: dict[str, Any], start: dt.date | None = None,
                  end: dt.date | None = None) -> Iterator[dict[str, Any]]:
    """Rows of Xero's sales-invoice import file for documents issued start..end."""
    from s2s_cli.services.invoicing import vat_treatment

    books = settings(card)
    docs = _documents(reader, start, end)
    contacts = _contacts(reader, {int(d.payer_school_urn) for d in docs
                                  if d.payer_school_urn})
    deps = _deployments(reader)
    book = {str(name).lower(): rec for name, rec in (card.get("payers") or {}).items()}
    tax_of = {"exempt": books["tax_exempt"], "standard": books["tax_standard"],
              "zero": books["tax_zero"]}
    for doc in docs:
        credit = bool(doc.credits)
        sign = -1 if credit else 1
        contact = contacts.get(int(doc.payer_school_urn or 0), {})
        if doc.payer_postal:  # frozen at issue: the same file whatever changes later
            postal = doc.payer_postal
            contact = {"email": doc.payer_email,
                       "lines": [*list(postal.get("lines") or [])[:4], None, None, None,
                                 None][:4],
                       "city": postal.get("city"), "region": postal.get("region"),
                       "postcode": postal.get("postcode")}
        elif not doc.payer_school_urn:  # a funder, trust or DfE: the card's payers
            rec = book.get(str(doc.payer).lower()) or {}
            lines = [*list(rec.get("address") or [])[:4], None, None, None, None][:4]
            contact = {"email": rec.get("email"), "lines": lines}
        addr = (contact.get("lines") or [None] * 4)
        # the purchase order frozen on the invoice at issue (none before 0007_billrules)
        reference = doc.credits if credit else doc.po or ""
        items = []  # (line, unit, quantity text, unit pence, net pence)
        for ln in doc.lines:
            amount = sign * ln.amount_pence  # positive: the document's own sign apart
            if ln.kind == "free" or amount == 0:
                from s2s_cli.parsing import days_str

                items.append((ln, "free" if ln.kind == "free" else "days",
                              days_str(ln.days), 0, 0))
                continue
            if ln.full_days:
                items.append((ln, "full", str(ln.full_days), ln.rate_pence,
                              ln.full_days * ln.rate_pence))
            if ln.half_days:
                items.append((ln, "half", str(ln.half_days), ln.half_day_rate_pence,
                              ln.half_days * ln.half_day_rate_pence))
        # the document's VAT per rate, spread over that rate's rows
        vat_rows = [0] * len(items)
        for rate in doc.vat_rates or []:
            idx = [i for i, it in enumerate(items)
                   if int(it[0].vat_percent_bp or 0) == int(rate["vat_percent_bp"])]
            for i, share in zip(idx, spread(abs(int(rate["vat_pence"])),
                                            [items[i][4] for i in idx]), strict=True):
                vat_rows[i] = share
        for (ln, unit, qty, price, _net), vat in zip(items, vat_rows, strict=True):
            # the VAT treatment and funding route frozen on the line at issue; a document
            # issued before lines carried them: its VAT rate, then the deployment's
            dep_vat, dep_funding = deps.get(ln.deployment_id, ("exempt", ""))
            treatment = vat_treatment(ln, dep_vat)
            funding = ln.funding if ln.funding is not None else dep_funding
            d1, d2 = ln.date_from, ln.date_to
            span = _uk(d1) if d1 == d2 else f"{_uk(d1)}-{_uk(d2)}"
            tracking = books["tracking_name"] or ""
            yield {
                "*ContactName": doc.payer, "EmailAddress": contact.get("email") or "",
                "POAddressLine1": addr[0] or "", "POAddressLine2": addr[1] or "",
                "POAddressLine3": addr[2] or "", "POAddressLine4": addr[3] or "",
                "POCity": contact.get("city") or "", "PORegion": contact.get("region") or "",
                "POPostalCode": contact.get("postcode") or "", "POCountry": "",
                "*InvoiceNumber": doc.number, "Reference": reference,
                "*InvoiceDate": _uk(doc.issued), "*DueDate": _uk(doc.due),
                "Total": _pounds(doc.total_pence), "InventoryItemCode": "",
                "*Description": f"{_line_label(ln.kind, unit)} {span}: {ln.leader_id} "
                                f"at {ln.school} (deployment {ln.deployment_id})",
                "*Quantity": ("-" if credit and qty != "0" else "") + qty,
                "*UnitAmount": _pounds(price), "Discount": "",
                "*AccountCode": books["account_code"], "*TaxType": tax_of.get(treatment,
                                                                             treatment),
                "TaxAmount": _pounds(sign * vat), "TrackingName1": tracking,
                "TrackingOption1": funding if tracking else "", "TrackingName2": "",
                "TrackingOption2": "", "Currency": books["currency"] or "",
                "BrandingTheme": books["branding_theme"] or ""}


def _payments(reader: Reader) -> list[dict[str, Any]]:
    from s2s_cli.services.payments import PAYMENT_SELECT, _payment_row

    out = []
    for r in reader.all(PAYMENT_SELECT + "ORDER BY p.date, p.id"):
        out.append(_payment_row(r))
    return out


def xero_payments(reader: Reader, card: dict[str, Any], start: dt.date | None = None,
                  end: dt.date | None = None) -> Iterator[dict[str, Any]]:
    """Payments and reversals dated start..end, as Xero's payment fields."""
    books = settings(card)
    for p in _payments(reader):
        if (start and p["date"] < start) or (end and p["date"] > end):
            continue
        if p["reverses"]:
            ref = f"reverses payment {p['reverses']}: {p['reason']}"
        else:
            ref = f"s2s payment {p['id']} {p['method']}" + (f" {p['ref']}" if p["ref"] else "")
        yield {"*InvoiceNumber": p["invoice"], "*Date": _uk(p["date"]),
               "*Amount": _pounds(p["amount_pence"]), "*AccountCode": books["bank_account_code"],
               "Reference": ref, "Currency": books["currency"] or ""}


def ledger(reader: Reader, start: dt.date | None = None, end: dt.date | None = None
           ) -> Iterator[dict[str, Any]]:
    """One row per document and payment dated start..end (debits positive), with the payer's
    running balance counting everything before too."""
    from s2s_cli.services import invoicing

    entries: list[tuple[dt.date, int, int, dict[str, Any]]] = []
    docs = invoicing.listing(reader)
    payer_of = {d["number"]: (d["payer"], d["payer_school_urn"]) for d in docs}
    for d in docs:
        credit = bool(d["credits"])
        entries.append((d["issued"], 2 if credit else 0, d["id"], {
            "date": d["issued"], "type": "credit note" if credit else "invoice",
            "number": d["number"], "payment_id": None, "payer": d["payer"],
            "payer_school_urn": d["payer_school_urn"],
            "reference": f"credits {d['credits']}" if credit else f"due {d['due'].isoformat()}",
            "net_pence": d["subtotal_pence"], "vat_pence": d["vat_pence"],
            "gross_pence": d["total_pence"]}))
    for p in _payments(reader):
        payer, urn = payer_of.get(p["invoice"], ("", None))
        ref = (f"reverses payment {p['reverses']}: {p['reason']}" if p["reverses"]
               else f"{p['method']}" + (f" {p['ref']}" if p["ref"] else ""))
        entries.append((p["date"], 1, p["id"], {
            "date": p["date"], "type": "reversal" if p["reverses"] else "payment",
            "number": p["invoice"], "payment_id": p["id"], "payer": payer,
            "payer_school_urn": urn, "reference": ref, "net_pence": None, "vat_pence": None,
            "gross_pence": -p["amount_pence"]}))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    balance: dict[str, int] = {}
    for when, _, _, row in entries:
        balance[row["payer"]] = balance.get(row["payer"], 0) + row["gross_pence"]
        if (start and when < start) or (end and when > end):
            continue
        yield {**row, "balance_pence": balance[row["payer"]]}
