"""Home-school remittances (owed, settled, outstanding; settle/unsettle; the statement sent to
each home school) and the accounting exports (`invoices export`).  Rules live in
services/remittance.py and services/books.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from s2s_cli.cli.billing import (
    DocFormat,
    DocFormatOpt,
    FromOpt,
    MonthOpt,
    OutOpt,
    ToOpt,
    _check_out,
    _date,
    _period,
    _reversal,
    invoices_app,
)
from s2s_cli.cli.common import FormatOpt, complete_school, state
from s2s_cli.errors import InvalidInput
from s2s_cli.output import Column, Format

remittance_app = typer.Typer(
    help="Supply cover owed to home schools: owed, settled and outstanding per home school "
    "for a month (default this month); settle and unsettle the alliance's payments of their "
    "invoices; --home URN for one school's dated days (PDF: the statement sent to it).",
    invoke_without_command=True)

REMITTANCE_COLUMNS = [
    Column("urn", "URN", "int"), Column("name", "home school"),
    Column("leaders", kind="int"), Column("days", kind="days"),
    Column("supply_pence", "supply cover", "money", table=False),
    Column("owed_pence", "owed", "money"), Column("settled_pence", "settled", "money"),
    Column("outstanding_pence", "outstanding", "money"),
    Column("balance_pence", "balance (all months)", "money"),
]
HOME_COLUMNS = [
    Column("date", kind="date"), Column("leader_id", "leader id"), Column("leader"),
    Column("deployment_id", "deployment", "int", table=False),
    Column("school_urn", "URN", "int", table=False), Column("school", "supported school"),
    Column("document", "invoice"), Column("kind"), Column("days", kind="days"),
    Column("supply_pence", "supply cover", "money"),
]


def _render_to(rows: list[dict[str, Any]], cols: list[Column], fmt: DocFormat,
               out: Path | None, *, st: Any, **kw: Any) -> None:
    from s2s_cli.output import atomic_output, render

    if out is None:
        render(rows, cols, Format(fmt.value), **kw)
        return
    with atomic_output(out) as handle:
        render(rows, cols, Format(fmt.value), out=handle, **kw)
    if str(out) != "-":
        st.note(f"wrote {out}")


@remittance_app.callback()
def remittance(
    ctx: typer.Context,
    month: MonthOpt = None,
    home: Annotated[str | None, typer.Option(
        "--home", metavar="URN_OR_NAME", help="One home school: its staff's dated days and "
        "what is owed, settled and outstanding (--format pdf: the statement to send it).",
        autocompletion=complete_school)] = None,
    fmt: DocFormatOpt = DocFormat.auto,
    out: OutOpt = None,
) -> None:
    """Supply cover owed to each home school for its staff's charged and funded days in a
    month (default: this month), as recorded when their invoices were issued (a credit note
    reverses what it credits; free days owe none), with what the alliance has settled (oldest
    months first) and what is outstanding.

    \b
    Examples:
      s2s remittance --month 2026-09 --format csv
      s2s remittance settle 131545 --amount 750.50 --date 2026-11-05 --ref "INV 4471"
      s2s remittance --home 131545 --month 2026-09 --format pdf --out plymouth-2026-09.pdf
    """
    if ctx.invoked_subcommand is not None:
        return
    from s2s_cli.parsing import format_pence
    from s2s_cli.services import invoicing, lookup
    from s2s_cli.services import remittance as svc

    f, t = _period(month, None, None)
    assert f is not None and t is not None
    fmt = _check_out(fmt, out)
    st = state(ctx)
    if home is None:
        if fmt is DocFormat.pdf:
            raise InvalidInput("--format pdf is the statement to one home school: give "
                               "--home URN")
        with st.reader() as reader:
            rows = svc.remittance(reader, f, t)
        totals = {k: sum(r[k] for r in rows) for k in (
            "days", "supply_pence", "owed_pence", "settled_pence", "outstanding_pence")}
        _render_to(rows, REMITTANCE_COLUMNS, fmt, out, st=st,
                   title=f"Supply cover owed for {f:%B %Y}", totals={**totals, "name": "total"},
                   empty=f"No supply cover owed for {f:%B %Y} (no issued invoices cover its "
                   "days).")
        return
    urn = lookup.school(st.reader, home, "--home")
    with st.reader() as reader:
        doc = svc.home_statement(reader, urn, f, t)
        card = invoicing.load_card(reader)
    if fmt is DocFormat.pdf:
        from s2s_cli.output import atomic_output
        from s2s_cli.services import statement_pdf

        data = statement_pdf.remittance(doc, card["invoice"])
        assert out is not None
        with atomic_output(out, binary=True) as handle:
            handle.write(data)
        if str(out) != "-":
            st.note(f"wrote {out}")
        return
    _render_to(doc["days"], HOME_COLUMNS, fmt, out, st=st,
               title=f"Supply cover for {doc['name']} ({urn}), {f:%B %Y}: owed "
               f"{format_pence(doc['owed_pence'])}, settled {format_pence(doc['settled_pence'])}"
               f", outstanding {format_pence(doc['outstanding_pence'])}; balance "
               f"{format_pence(doc['balance_pence'])} (all months)",
               totals={"days": sum(d["days"] for d in doc["days"]),
                       "supply_pence": doc["owed_pence"], "leader": "total"},
               empty=f"No supply cover owed to {doc['name']} for {f:%B %Y}.")


@remittance_app.command("settle")
def settle(
    ctx: typer.Context,
    home: Annotated[str, typer.Argument(metavar="URN|NAME", help="The home school (URN or "
                                        "part of its name).", autocompletion=complete_school)],
    amount: Annotated[str, typer.Option("--amount", metavar="£", help="Amount paid to the "
                                        "home school, in pounds.")],
    ref: Annotated[str, typer.Option("--ref", metavar="THEIR_INVOICE",
                                     help="The home school's invoice number.")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Date paid (default today).")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Record that the alliance paid a home school's invoice for supply cover.  Prints the
    settlement's id.  Refused: more than is outstanding to it, nothing owed, a date before
    anything was owed; a date after today is bad input.

    \b
    Example:
      s2s remittance settle 131545 --amount 750.50 --date 2026-11-05 --ref "INV 4471"
    """
    from s2s_cli.output import emit_id
    from s2s_cli.parsing import clean_text, format_pence, parse_money, today
    from s2s_cli.services import lookup
    from s2s_cli.services import remittance as svc

    pence = parse_money(amount, what="--amount")
    if pence <= 0:
        raise InvalidInput("--amount must be more than £0.00")
    text = clean_text(ref, what="--ref", max_len=200, required=True)
    assert text is not None
    on = _date(date, "--date") or today()
    if on > today():
        raise InvalidInput(f"the settlement date {on} is after today ({today()})")
    st = state(ctx)
    urn = lookup.school(st.reader, home, "URN|NAME")
    sid = st.write(lambda session: svc.settle(session, urn, amount=pence, on=on, ref=text))
    emit_id(sid, fmt, message=f"recorded settlement {sid}: {format_pence(pence)} to {urn}")


@remittance_app.command("unsettle")
def unsettle(
    ctx: typer.Context,
    settlement_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is reversed (kept).")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="Date of the reversal (default today).")
                    ] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Reverse a settlement (recorded against the wrong school, a payment returned): a
    reversal row of its own, never a delete.  Prints the reversal's id.

    \b
    Example:
      s2s remittance unsettle 2 --reason "paid to the wrong school"
    """
    from s2s_cli.output import emit_id
    from s2s_cli.services import remittance as svc

    why, on = _reversal(reason, date)
    st = state(ctx)
    rid = st.write(lambda session: svc.unsettle(session, settlement_id, reason=why, on=on))
    emit_id(rid, fmt, message=f"reversed settlement {settlement_id} (reversal {rid})")


@invoices_app.command("export")
def invoices_export(
    ctx: typer.Context,
    target: Annotated[str, typer.Option(
        "--for", metavar="xero|xero-payments|ledger", help="xero: Xero's sales-invoice "
        "import file (invoices and credit notes, one row per line and rate); xero-payments: "
        "payments and reversals as Xero's payment fields; ledger: one row per document and "
        "payment (date, number, payer, net, VAT, gross, balance).")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE.csv",
                                      help="The CSV file (replaced atomically; - for "
                                      "stdout).")],
    start: FromOpt = None,
    end: ToOpt = None,
    excel: Annotated[bool, typer.Option("--excel", help="Add a byte-order mark for Excel.")
                     ] = False,
) -> None:
    """Hand the books to an accounting package: documents issued (payments dated) from
    --from to --to (default: everything).  The same period gives the same bytes.

    \b
    Examples:
      s2s invoices export --for xero --from 2026-10-01 --to 2026-10-31 --out xero-2026-10.csv
      s2s invoices export --for xero-payments --from 2026-10-01 --to 2026-10-31 --out pay.csv
      s2s invoices export --for ledger --out ledger.csv
    """
    from s2s_cli import safefile
    from s2s_cli.output import atomic_output, out_format, write_csv
    from s2s_cli.parsing import check_range
    from s2s_cli.services import books, invoicing

    which = (target or "").strip().lower()
    if which not in books.FORMATS:
        raise InvalidInput(f"--for must be one of {', '.join(books.FORMATS)}, not '{target}'")
    if str(out) != "-":
        out_format("csv", out, choices=["csv"])
        safefile.check_target(out, what="--out")
    f, t = _date(start, "--from"), _date(end, "--to")
    check_range(f, t, what="period")
    st = state(ctx)
    with st.reader() as reader:
        card = invoicing.load_card(reader)
        if which == "xero":
            rows = list(books.xero_invoices(reader, card, f, t))
        elif which == "xero-payments":
            rows = list(books.xero_payments(reader, card, f, t))
        else:
            rows = list(books.ledger(reader, f, t))
    with atomic_output(out) as handle:
        write_csv(rows, books.columns(which), handle, excel=excel)
    if str(out) != "-":
        st.note(f"wrote {out} ({len(rows)} row(s))")


BUCKET_LABELS = {"not_due_pence": "not yet due", "d1_30_pence": "1-30 days late",
                 "d31_60_pence": "31-60 days late", "d61_90_pence": "61-90 days late",
                 "d90_plus_pence": "over 90 days late"}


def debtors_chart(totals: dict[str, Any]) -> Any:
    """A bar per aging bucket (what all payers owe in it), as the reports draw theirs."""
    from s2s_cli.cli.reports import _bar_chart
    from s2s_cli.parsing import format_pence

    styles = {"not_due_pence": ("░", "green"), "d1_30_pence": ("▒", "yellow"),
              "d31_60_pence": ("▓", "dark_orange"), "d61_90_pence": ("█", "red"),
              "d90_plus_pence": ("█", "bold red")}
    items = [(label, [(totals[key], *styles[key])], format_pence(totals[key]))
             for key, label in BUCKET_LABELS.items()]
    return _bar_chart("Owed by age (days past the due date)", items,
                      "░ not yet due  ▒ 1-30  ▓ 31-60  █ 61-90 and over 90 days late")


def register(app: typer.Typer) -> None:
    app.add_typer(remittance_app, name="remittance")
