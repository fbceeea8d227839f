"""Billing commands: rates, invoice (draft or --issue), invoices list/show/void, charges,
remittance.  Rules live in services/charging.py and services/invoicing.py."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from s2s_cli.cli.common import FormatOpt, complete_school, state
from s2s_cli.errors import InvalidInput
from s2s_cli.output import (  # the invoice contract lives with its writers in output
    CSV_COLUMNS,
    INVOICE_KEYS,
    JSON_LINE_KEYS,
    LINE_COLUMNS,
    PAYMENT_COLUMNS,
    Column,
    Format,
)

__all__ = ["CSV_COLUMNS", "INVOICE_KEYS", "JSON_LINE_KEYS", "LINE_COLUMNS", "PAYMENT_COLUMNS"]

if TYPE_CHECKING:
    from s2s_cli.cli.common import State
    from s2s_cli.services.documents import Document

invoices_app = typer.Typer(help="List, show, void and record payments against issued invoices "
                           "and credit notes.",
                           no_args_is_help=True)


class DocFormat(StrEnum):
    auto = "auto"
    table = "table"
    plain = "plain"
    csv = "csv"
    json = "json"
    pdf = "pdf"


DocFormatOpt = Annotated[DocFormat, typer.Option(
    "--format", "-f", help="table (terminal), plain, csv, json, or pdf (needs --out).",
    case_sensitive=False)]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", metavar="FILE", help="Write to FILE (replaced atomically, folders created) "
    "instead of stdout; the format comes from its suffix (.pdf, .csv, .json, .txt) unless "
    "--format. Required for pdf.")]
MonthOpt = Annotated[str | None, typer.Option("--month", metavar="YYYY-MM",
                                              help="A calendar month.")]
FromOpt = Annotated[str | None, typer.Option("--from", metavar="DATE",
                                             help="First day of the period.")]
ToOpt = Annotated[str | None, typer.Option("--to", metavar="DATE",
                                           help="Last day of the period.")]

LIST_COLUMNS = [
    Column("number"), Column("status"), Column("payer"),
    Column("payer_school_urn", "URN", "int", table=False),
    Column("period_from", "from", "date"), Column("period_to", "to", "date"),
    Column("issued", kind="date"), Column("due", kind="date"),
    Column("subtotal_pence", "subtotal", "money", table=False),
    Column("vat_pence", "VAT", "money", table=False),
    Column("total_pence", "total", "money"),
    Column("paid_pence", "paid", "money"), Column("balance_pence", "balance", "money"),
    Column("credits", "credits"), Column("voided_by", "voided by"),
    Column("po", "PO", table=False),
]
# --------------------------------------------------------------------------- option helpers

@contextmanager
def _paused_gc() -> Iterator[None]:
    """A draft builds a few small objects per invoice line and frees them all at exit; the
    cycle collector would only rescan them (a fifth of the time on a national month)."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # Everything made meanwhile sits in the youngest generation: the first allocation
            # after enable() would scan it all (~0.4 s of a national draft).  Freeze it first:
            # it is freed as usual when its last reference goes, only never scanned.
            gc.freeze()
            gc.enable()


def _date(text: str | None, what: str) -> dt.date | None:
    from s2s_cli.parsing import parse_date

    return parse_date(text, what=what) if text is not None else None


def _today() -> dt.date:
    from s2s_cli.parsing import today

    return today()


def _past(text: str | None, what: str) -> dt.date:
    """A `--date` of something that has happened: today by default, never after today."""
    from s2s_cli.parsing import today

    on = _date(text, "--date") or today()
    if on > today():
        raise InvalidInput(f"the {what} date {on} is after today ({today()})")
    return on


def _reversal(reason: str, date: str | None) -> tuple[str, dt.date]:
    """What reversing a payment or a settlement needs: the reason (kept) and its date."""
    from s2s_cli.parsing import clean_text

    why = clean_text(reason, what="--reason", max_len=500, required=True)
    assert why is not None
    return why, _past(date, "reversal")


def _period(month: str | None, start: str | None, end: str | None, *,
            open_ended: bool = False) -> tuple[dt.date | None, dt.date | None]:
    """--month, or --from/--to; the current month when none is given (unless open_ended)."""
    from s2s_cli.parsing import check_range, parse_month

    if month is not None and (start is not None or end is not None):
        raise InvalidInput("give either --month or --from/--to, not both")
    if month is not None:
        return parse_month(month)
    f, t = _date(start, "--from"), _date(end, "--to")
    if f is None and t is None and not open_ended:
        from s2s_cli.parsing import today

        return parse_month(today().strftime("%Y-%m"))
    if not open_ended and (f is None or t is None):
        raise InvalidInput("--from and --to go together (or use --month)")
    check_range(f, t, what="period")
    return f, t


def _check_out(fmt: DocFormat, out: Path | None) -> DocFormat:
    """The format to write: --format, else from --out's suffix (x.pdf, x.csv, x.json, x.txt);
    a device, link or folder as --out is refused before any work."""
    from s2s_cli.output import out_format

    fmt = DocFormat(out_format(fmt.value, out, choices=[f.value for f in DocFormat]))
    if fmt is DocFormat.pdf and out is None:
        raise InvalidInput("--format pdf needs --out FILE")
    if out is not None:
        from s2s_cli import safefile

        if not safefile.is_stdout(out):
            safefile.check_target(out, what="--out")
    return fmt


def _emit(docs: Sequence[Document], fmt: DocFormat, out: Path | None, *, st: State,
          empty: str) -> None:
    """Invoices (drafts, issued, credit notes) as a table, plain text, CSV, JSON or PDF, all
    rendered by the output layer."""
    from s2s_cli.output import atomic_output, documents_pdf, write_documents

    if fmt is DocFormat.pdf:
        from s2s_cli.services import invoicing

        if not docs:
            st.note(f"{empty}; no PDF written")
            return
        with st.reader() as reader:
            logos = invoicing.logos(reader, docs)
        data = documents_pdf(docs, logos=logos)
        assert out is not None
        with atomic_output(out, binary=True) as handle:
            handle.write(data)
        if str(out) != "-":
            st.note(f"wrote {out} ({len(docs)} invoice(s))")
        return
    if out is None:
        write_documents(docs, fmt.value, sys.stdout, empty=empty)
        return
    with atomic_output(out) as handle:
        write_documents(docs, fmt.value, handle, empty=empty)
    if str(out) != "-":
        st.note(f"wrote {out}")


# --------------------------------------------------------------------------- commands

def rates(ctx: typer.Context, fmt: FormatOpt = Format.auto) -> None:
    """Print the rate card: day and half-day rates per kind of leader, per kind of work and
    per school-size band, the supply-cover/administration split and the invoice settings.

    \b
    Example:
      s2s rates --format json
    """
    from s2s_cli.services import invoicing
    from s2s_cli.services import rates as rates_svc

    with state(ctx).reader() as reader:
        card = invoicing.load_card(reader)
    rows = []
    for row in rates_svc.card_rows(card):
        admin = rates_svc.admin_share(card, row["day_pence"], half=False)
        half_admin = rates_svc.admin_share(card, row["half_day_pence"], half=True)
        rows.append({**row, "supply_pence": row["day_pence"] - admin, "admin_pence": admin,
                     "half_day_supply_pence": row["half_day_pence"] - half_admin,
                     "half_day_admin_pence": half_admin})
    cols = [Column("scope"), Column("name", "kind / work"),
            Column("max_pupils", "max pupils", "int"),
            Column("day_pence", "day", "money"), Column("half_day_pence", "half day", "money"),
            Column("supply_pence", "supply (day)", "money"),
            Column("admin_pence", "admin (day)", "money"),
            Column("half_day_supply_pence", "supply (half)", "money", table=False),
            Column("half_day_admin_pence", "admin (half)", "money", table=False)]
    split = card.get("split") or {}
    settings = card["invoice"]
    from s2s_cli.output import render, resolve_format
    from s2s_cli.services.books import settings as books_settings

    resolved = resolve_format(fmt)
    if resolved is Format.json:
        from s2s_cli.output import _json_value, write_value

        write_value({
            "rates": [{c.key: _json_value(c, r.get(c.key)) for c in cols} for r in rows],
            "split": {"admin_percent_bp": split.get("admin_percent_bp"),
                      "admin_fixed_pence": split.get("admin_fixed_pence")},
            "invoice": settings, "vat": card.get("vat") or {"default": "exempt", "work": {}},
            "payers": card.get("payers") or {}, "books": books_settings(card)})
        return
    render(rows, cols, resolved, title="Rate card")
    if resolved is Format.table:
        from s2s_cli.output import render_record
        from s2s_cli.parsing import format_pence

        fixed = split.get("admin_fixed_pence")
        bp = int(split.get("admin_percent_bp") or 0)
        vat = int(settings.get("vat_percent_bp") or 0)
        bank = settings.get("bank") or {}
        record = {
            "split": (f"admin {format_pence(fixed)} a day (half on a half day)"
                      if fixed is not None else f"admin {bp // 100}.{bp % 100:02d}% of each "
                      "charge; the rest is supply cover for the home school"),
            "alliance": settings.get("alliance_name"),
            "legal name": settings.get("legal_name") or settings.get("alliance_name"),
            "address": ", ".join(settings.get("address") or []),
            "phone": settings.get("phone") or "",
            "e-mail": settings.get("email") or "",
            "company number": settings.get("company_number") or "",
            "charity number": settings.get("charity_number") or "",
            "VAT number": settings.get("vat_number") or "not VAT registered",
            "bank": (f"{bank['account_name']}, sort code {bank['sort_code']}, account "
                     f"{bank['account_number']}" if bank else "not set: invoices show no "
                     "bank details"),
            "remittance e-mail": settings.get("remittance_email") or "",
            "logo": (settings.get("logo") or {}).get("path") or "none",
            "terms": f"{settings.get('payment_terms_days')} days",
            "numbers": f"{settings.get('number_prefix')}-YYYY-NNNN, credit notes "
                       f"{settings.get('credit_prefix')}-YYYY-NNNN",
            "vat": f"{vat // 100}.{vat % 100:02d}%",
            "books": "account {account_code}, bank {bank_account_code}, tax {tax_exempt} / "
                     "{tax_standard} / {tax_zero}, {currency}".format(**books_settings(card))}
        render_record(record, [Column(k) for k in record], Format.table,
                      title="Split and invoice settings")


def invoice(
    ctx: typer.Context,
    school_ref: Annotated[str | None, typer.Option(
        "--school", metavar="URN_OR_NAME", help="Only the invoice to this school.",
        autocompletion=complete_school)] = None,
    payer: Annotated[str | None, typer.Option("--payer", metavar="NAME",
                                              help="Only the invoice to this payer "
                                              "(school name, funder, DfE).")] = None,
    month: MonthOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    fmt: DocFormatOpt = DocFormat.auto,
    out: OutOpt = None,
    issue: Annotated[bool, typer.Option("--issue", help="Issue the invoices (numbered, "
                                        "immutable); without it, print the draft.")] = False,
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Issue date (default today).")] = None,
    override: Annotated[str | None, typer.Option(
        "--override", metavar="REASON", help="Issue invoices to a school marked \"PO "
        "required\" without a purchase order, recording why (kept on the invoice).")
    ] = None,
) -> None:
    """Charge summary for a period (default: this month), one invoice per payer and purchase
    order; --issue issues them.

    Without --issue nothing changes: the draft covers the period's days not yet invoiced.
    With --issue each payer gets a numbered invoice and its days are marked invoiced; running
    it again issues nothing new ("nothing new to invoice", exit 0).  A school marked "PO
    required" is not invoiced without a purchase order (exit 1, naming the deployments; the
    draft warns) unless --override "reason".

    \b
    Examples:
      s2s invoice --month 2026-09
      s2s invoice --month 2026-09 --issue --date 2026-10-01
      s2s invoices show S2S-2026-0001 --format pdf --out S2S-2026-0001.pdf
    """
    from s2s_cli.parsing import clean_text
    from s2s_cli.services import lookup

    if school_ref is not None and payer is not None:
        raise InvalidInput("give either --school or --payer, not both")
    if payer is not None:
        payer = clean_text(payer, what="--payer", max_len=200, required=True)
    if date is not None and not issue:
        raise InvalidInput("--date is the issue date: use it with --issue")
    if override is not None:
        if not issue:
            raise InvalidInput("--override is for --issue (a draft issues nothing)")
        override = clean_text(override, what="--override", max_len=500, required=True)
    period_from, period_to = _period(month, start, end)
    assert period_from is not None and period_to is not None
    from s2s_cli.parsing import today

    issued = _date(date, "--date") or today()
    fmt = _check_out(fmt, out)
    from s2s_cli.services import invoicing

    st = state(ctx)
    school = lookup.optional_school(st.reader, school_ref)
    empty = f"Nothing to invoice for {period_from} to {period_to}."
    if not issue:
        with _paused_gc(), st.reader() as reader:
            if school is not None:
                invoicing.check_school(reader, school)
            docs = invoicing.draft(reader, period_from, period_to, school=school, payer=payer)
            if not docs and payer is not None:
                _check_payer_known(reader, period_from, period_to, school, payer)
            missing = invoicing.po_missing(docs)
            if missing:
                st.note("warning: " + invoicing.po_message(missing))
            _emit(docs, fmt, out, st=st, empty=empty)
        return
    with st.reader() as reader:
        if school is not None:
            invoicing.check_school(reader, school)
    with _paused_gc():  # issuing a national month builds (and keeps) a million small objects
        try:
            docs = st.write(lambda session: invoicing.issue(
                session, period_from, period_to, issued=issued, school=school, payer=payer,
                override=override))
        except invoicing.NothingToIssue:
            if payer is not None:
                with st.reader() as reader:
                    _check_payer_known(reader, period_from, period_to, school, payer)
            st.note(f"nothing new to invoice for {period_from} to {period_to}")
            _emit([], fmt, out, st=st, empty="Nothing new to invoice.")
            return
        from s2s_cli.services import payments

        payments.annotate_new(docs)  # rendered as issued, not read back
        numbers = [str(d.number) for d in docs]
        shown = ", ".join(numbers) if len(numbers) <= 5 else f"{numbers[0]} ... {numbers[-1]}"
        st.note(f"issued {len(numbers)} invoice(s): {shown}")
        _emit(docs, fmt, out, st=st, empty=empty)


@invoices_app.command("list")
def invoices_list(
    ctx: typer.Context,
    payer: Annotated[str | None, typer.Option("--payer", metavar="TEXT",
                                              help="Payers whose name contains this (any "
                                              "case).")] = None,
    start: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                              help="Issued on or after.")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                            help="Issued on or before.")] = None,
    status: Annotated[list[str] | None, typer.Option(
        "--status", metavar="STATUS", help="Only these statuses (repeatable or comma-separated): "
        "issued, part-paid, paid, overdue, void, credit.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue invoices (due date "
                                          "passed with a balance; same as --status overdue).")
                       ] = False,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Issued invoices and credit notes, by issue date, with what is paid and the balance.

    \b
    Example:
      s2s invoices list --from 2026-09-01 --format csv
    """
    from s2s_cli.output import render
    from s2s_cli.parsing import check_range, clean_text
    from s2s_cli.services import invoicing
    from s2s_cli.services.payments import STATUSES

    if payer is not None:
        payer = clean_text(payer, what="--payer", max_len=200, required=True)
    f, t = _date(start, "--from"), _date(end, "--to")
    check_range(f, t, what="period")
    wanted = {w.strip().lower() for item in status or [] for w in item.split(",")}
    bad = sorted(w for w in wanted if w not in STATUSES)
    if bad or "" in wanted:
        raise InvalidInput(f"--status must be one of {', '.join(STATUSES)}, not "
                           f"'{(bad or [''])[0]}'")
    if overdue:
        wanted = {"overdue"} if not wanted or "overdue" in wanted else {"-"}
    with state(ctx).reader() as reader:
        rows = invoicing.listing(reader, payer=payer, start=f, end=t)
    if wanted:
        rows = [r for r in rows if r["status"] in wanted]
    render(rows, LIST_COLUMNS, fmt, title=f"{len(rows)} invoice(s) and credit note(s)",
           empty="No invoices.")


@invoices_app.command("show")
def invoices_show(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(metavar="NUMBER")],
    fmt: DocFormatOpt = DocFormat.auto,
    out: OutOpt = None,
) -> None:
    """Show one invoice or credit note with its lines (JSON: a list of one invoice).

    \b
    Example:
      s2s invoices show S2S-2026-0001 --format pdf --out S2S-2026-0001.pdf
    """
    from s2s_cli.services import invoicing, payments

    fmt = _check_out(fmt, out)
    st = state(ctx)
    with st.reader() as reader:
        doc = invoicing.find(reader, number)
        if fmt is not DocFormat.pdf:
            doc.payments = payments.payments_of(reader, doc.id)
    _emit([doc], fmt, out, st=st, empty="")


@invoices_app.command("void")
def invoices_void(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(metavar="NUMBER")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is voided (kept on the "
                                        "credit note).")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Credit note date (default today).")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Void an issued invoice: a credit note with its own number cancels it and its days
    become billable again.  Prints the credit note's number.

    \b
    Example:
      s2s invoices void S2S-2026-0007 --reason "wrong rate agreed"
    """
    from s2s_cli.output import emit_id
    from s2s_cli.parsing import clean_text
    from s2s_cli.services import invoicing

    why = clean_text(reason, what="--reason", max_len=500, required=True)
    assert why is not None
    from s2s_cli.parsing import today

    on = _date(date, "--date") or today()
    st = state(ctx)
    credit_id = st.write(lambda session: invoicing.void(session, number, reason=why, on=on))
    with st.reader() as reader:
        doc = invoicing.documents(reader, [credit_id])[0]
    emit_id(doc.number, fmt, message=f"voided {doc.credits} with credit note "
            f"{doc.number}; its days are billable again")


@invoices_app.command("credit")
def invoices_credit(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(metavar="NUMBER")],
    day: Annotated[list[int], typer.Option(
        "--day", metavar="ID", help="A day log id on the invoice to credit (repeat for "
        "several; `invoices show NUMBER --format json` lists them under \"days\").")],
    reason: Annotated[str, typer.Option("--reason", help="Why they are credited (kept on "
                                        "the credit note).")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Credit note date (default today).")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Credit chosen days of an issued invoice: a credit note with its own number for exactly
    what those days were billed (with their VAT); they become billable again and the invoice
    stays issued with a smaller balance.  Prints the credit note's number.

    \b
    Example:
      s2s invoices credit S2S-2026-0007 --day 412 --day 415 --reason "sessions not held"
    """
    from s2s_cli.output import emit_id
    from s2s_cli.parsing import clean_text, format_pence, today
    from s2s_cli.services import invoicing

    why = clean_text(reason, what="--reason", max_len=500, required=True)
    assert why is not None
    if any(d <= 0 for d in day):
        raise InvalidInput(f"--day must be a day log id (a positive number), not "
                           f"{min(day)}")
    on = _date(date, "--date") or today()
    st = state(ctx)
    credit_id = st.write(lambda session: invoicing.credit(session, number, day, reason=why,
                                                          on=on))
    with st.reader() as reader:
        doc = invoicing.documents(reader, [credit_id])[0]
    emit_id(doc.number, fmt, message=f"credited {len(set(day))} day(s) of "
            f"{doc.credits} with credit note {doc.number} "
            f"({format_pence(-doc.total_pence)}); those days are billable again")


def charges(
    ctx: typer.Context,
    month: MonthOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    by: Annotated[str, typer.Option("--by", help="school, leader, funding or month.")
                  ] = "school",
    fmt: FormatOpt = Format.auto,
) -> None:
    """Charge totals over any period (default: all days), issued and draft apart: `issued`
    counts days on live invoices, `draft` days not yet invoiced as they would be charged now.

    \b
    Example:
      s2s charges --from 2026-09-01 --to 2027-08-31 --by leader
    """
    from s2s_cli.output import render
    from s2s_cli.parsing import format_pence
    from s2s_cli.services import invoicing

    f, t = _period(month, start, end, open_ended=True)
    group = by.strip().lower()
    if group not in invoicing.GROUPS:
        raise InvalidInput(f"--by must be one of {', '.join(invoicing.GROUPS)}, not '{by}'")
    with state(ctx).reader() as reader:
        rows = invoicing.charges(reader, start=f, end=t, by=group)
    issued = sum(r["amount_pence"] for r in rows if r["status"] == "issued")
    drafted = sum(r["amount_pence"] for r in rows if r["status"] == "draft")
    cols = [Column("key", table=False), Column("group", group), Column("status"),
            Column("days", kind="days"), Column("charged_days", "charged days", "days"),
            Column("charged_pence", "charged", "money"),
            Column("free_days", "free days", "days"),
            Column("funded_days", "funded days", "days"),
            Column("funded_pence", "funded", "money"),
            Column("amount_pence", "amount", "money")]
    render(rows, cols, fmt, title=f"Charges by {group}: issued {format_pence(issued)}, "
           f"draft {format_pence(drafted)}", empty="No logged days in this period.")


@invoices_app.command("pay")
def invoices_pay(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(metavar="NUMBER")],
    amount: Annotated[str, typer.Option("--amount", metavar="£", help="Amount received, in "
                                        "pounds (part payments allowed).")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Date received (default today).")] = None,
    method: Annotated[str, typer.Option("--method", help="bacs, cheque, card or other.")
                      ] = "bacs",
    ref: Annotated[str | None, typer.Option("--ref", metavar="TEXT",
                                            help="The payer's reference.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Record money received against an invoice.  Prints the payment's id.  Refused: more
    than the balance, a void invoice, a credit note, a date before the invoice.

    \b
    Example:
      s2s invoices pay S2S-2026-0001 --amount 500 --date 2026-10-20 --ref "BACS 88123"
    """
    from s2s_cli.output import emit_id
    from s2s_cli.parsing import clean_text, format_pence, parse_money, today
    from s2s_cli.services import payments

    pence = parse_money(amount, what="--amount")
    how = method.strip().lower()
    if how not in payments.METHODS:
        raise InvalidInput(f"--method must be one of {', '.join(payments.METHODS)}, "
                           f"not '{method}'")
    if pence <= 0:
        raise InvalidInput("--amount must be more than £0.00")
    text = clean_text(ref, what="--ref", max_len=200) if ref is not None else None
    on = _date(date, "--date") or today()
    if on > today():
        raise InvalidInput(f"the payment date {on} is after today ({today()})")
    st = state(ctx)
    pid = st.write(lambda session: payments.pay(session, number, amount=pence, on=on,
                                                method=how, ref=text or None))
    emit_id(pid, fmt, message=f"recorded payment {pid}: {format_pence(pence)} against "
            f"{number.strip().upper()}")


@invoices_app.command("unpay")
def invoices_unpay(
    ctx: typer.Context,
    payment_id: Annotated[int, typer.Argument(metavar="PAYMENT_ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is reversed (kept).")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Date of the reversal (default today).")
                    ] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Reverse a payment (a bounced cheque, a payment recorded against the wrong invoice): a
    reversal row of its own, never a delete.  Prints the reversal's id.

    \b
    Example:
      s2s invoices unpay 3 --reason "cheque bounced"
    """
    from s2s_cli.output import emit_id
    from s2s_cli.services import payments

    why, on = _reversal(reason, date)
    st = state(ctx)
    rid = st.write(lambda session: payments.unpay(session, payment_id, reason=why, on=on))
    emit_id(rid, fmt, message=f"reversed payment {payment_id} (reversal {rid})")


DEBTOR_COLUMNS = [
    Column("payer"), Column("payer_school_urn", "URN", "int", table=False),
    Column("invoices", kind="int"),
    Column("not_due_pence", "not due", "money"), Column("d1_30_pence", "1-30", "money"),
    Column("d31_60_pence", "31-60", "money"), Column("d61_90_pence", "61-90", "money"),
    Column("d90_plus_pence", "90+", "money"), Column("total_pence", "total", "money"),
]


def debtors(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", metavar="DATE",
                                              help="Age balances as on this date (default "
                                              "today): payments after it do not count.")
                     ] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Who owes what: per payer, the balance not yet due and overdue by 1-30, 31-60, 61-90
    and over 90 days (days past the due date), with totals.

    \b
    Example:
      s2s debtors --as-of 2026-12-31 --format csv
    """
    from s2s_cli.output import render
    from s2s_cli.parsing import format_pence, today
    from s2s_cli.services import payments

    on = _date(as_of, "--as-of") or today()
    with state(ctx).reader() as reader:
        rows = payments.debtors(reader, on)
    totals: dict[str, Any] = {k: sum(r[k] for r in rows)
                              for k in (*payments.BUCKETS, "total_pence", "invoices")}
    from s2s_cli.output import console, resolve_format

    if resolve_format(fmt) is Format.table and rows:
        from s2s_cli.cli.books import debtors_chart

        console().print(debtors_chart(totals))
    render(rows, DEBTOR_COLUMNS, fmt, title=f"Debtors on {on.isoformat()}: "
           f"{format_pence(totals['total_pence'])} outstanding",
           totals={**totals, "payer": "total"},
           empty=f"Nobody owes anything on {on.isoformat()}.")


STATEMENT_COLUMNS = [
    Column("date", kind="date"), Column("type"), Column("reference"), Column("detail"),
    Column("debit_pence", "debit", "money"), Column("credit_pence", "credit", "money"),
    Column("balance_pence", "balance", "money"),
]


def statement(
    ctx: typer.Context,
    payer: Annotated[str, typer.Argument(metavar="PAYER", help="The payer's name (or part of "
                                         "it), URN or trust UID.")],
    start: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                              help="Start here, with an opening balance.")
                     ] = None,
    fmt: DocFormatOpt = DocFormat.auto,
    out: OutOpt = None,
) -> None:
    """A statement of account for one payer: invoices, credit notes, payments and reversals
    by date with the running balance (--format pdf --out F: the page to send, in the
    invoice's style).

    \b
    Examples:
      s2s statement "Bolton High" --from 2026-09-01 --format csv
      s2s statement 131543 --format pdf --out bolton-statement.pdf
    """
    from s2s_cli.parsing import clean_text, format_pence, today
    from s2s_cli.services import invoicing, payments

    text = clean_text(payer, what="PAYER", max_len=200, required=True)
    assert text is not None
    f = _date(start, "--from")
    fmt = _check_out(fmt, out)
    st = state(ctx)
    with st.reader() as reader:
        name = payments.resolve_payer(reader, text)
        rows = payments.statement(reader, name, f)
        settings = invoicing.load_card(reader)["invoice"]
        urn = reader.scalar("SELECT payer_school_urn FROM invoice WHERE payer = :p "
                            "ORDER BY id", {"p": name})
    if fmt is DocFormat.pdf:
        from s2s_cli.output import atomic_output
        from s2s_cli.services import statement_pdf

        data = statement_pdf.account(name, urn, rows, settings, today())
        assert out is not None
        with atomic_output(out, binary=True) as handle:
            handle.write(data)
        if str(out) != "-":
            st.note(f"wrote {out}")
        return
    closing = rows[-1]["balance_pence"] if rows else 0
    from s2s_cli.cli.books import _render_to

    _render_to(rows, STATEMENT_COLUMNS, fmt, out, st=st, title=f"Statement of account: "
               f"{name} - balance {format_pence(closing)}", empty=f"Nothing on {name}'s account.")


def _check_payer_known(reader, start, end, school, payer: str) -> None:  # type: ignore[no-untyped-def]
    """`--payer` that matches none of the period's payers is a typo, refused (exit 1); a
    period with nothing at all to invoice is not (it says so, exit 0)."""
    from s2s_cli.errors import Refused
    from s2s_cli.services import invoicing

    others = invoicing.draft(reader, start, end, school=school)
    if others:
        names = ", ".join(sorted({d.payer for d in others})[:5])
        raise Refused(f"no payer matching '{payer}' in this period (payers with days to "
                      f"invoice: {names})")


def register(app: typer.Typer) -> None:
    app.command("rates")(rates)
    app.command("invoice")(invoice)
    app.add_typer(invoices_app, name="invoices")
    app.command("charges")(charges)
    app.command("debtors")(debtors)
    app.command("statement")(statement)
