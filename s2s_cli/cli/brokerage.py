"""Brokerage commands: request, match, deploy, deployment, log, evaluate, reviews, capacity.

Each command parses its options, validates them through its service before anything is written,
runs one service function (writes in one transaction through `State.write`) and hands the rows
to the output layer."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from s2s_cli.cli.common import FormatOpt, complete_leader, complete_school, state
from s2s_cli.output import Column, Format


class LogGroup(TyperGroup):
    """`s2s log DEPLOYMENT_ID ...` records days (the hidden `add` command), while `s2s log list`
    and `s2s log undo` are ordinary subcommands: any first argument that is not a subcommand
    name or a help option is routed to `add`."""

    default_command = "add"  # also how `S2STyper` builds only `add` for `s2s log 4 ...`

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


request_app = typer.Typer(help="Log, list, show, edit and cancel schools' requests for support.",
                          no_args_is_help=True)
deployment_app = typer.Typer(help="List, show, edit, close and cancel deployments.",
                             no_args_is_help=True)
log_app = typer.Typer(
    cls=LogGroup, no_args_is_help=True,
    help="Record days worked on a deployment, list them, correct or undo one.\n\n"
         "\b\nRecord:  s2s log DEPLOYMENT_ID --date DATE [--half] [--activity A] [--note TEXT]\n"
         "         s2s log DEPLOYMENT_ID --from DATE --to DATE [--include-weekends]\n"
         "                 [--include-holidays]\n"
         "List:    s2s log list [--deployment ID] [--leader ID] [--from DATE] [--to DATE]\n"
         "Edit:    s2s log edit LOG_ID [--date DATE] [--half|--full] [--activity A] [--note T]\n"
         "Undo:    s2s log undo LOG_ID")
reviews_app = typer.Typer(help="Progress reviews and evaluations due.", no_args_is_help=True)

DaysOpt = Annotated[str | None, typer.Option(
    "--days", metavar="N", help="Days, whole or half (2.5).")]
PoOpt = Annotated[str | None, typer.Option(
    "--po", metavar="NUMBER", help="The school's purchase order number.")]
BillToOpt = Annotated[str | None, typer.Option(
    "--bill-to", metavar="WHO", help="Who is invoiced: school (default) or trust (the "
    "school's academy trust; refused for a school with none).")]
OnOpt = Annotated[str | None, typer.Option(
    "--on", metavar="DATE", help="Back-date it: the day it happened (default today).")]


def _write_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


# --- requests ---------------------------------------------------------------------------------

REQUEST_COLUMNS = [
    Column("id", kind="int"), Column("school_urn", "URN", "int"), Column("school"),
    Column("need"), Column("specialisms", kind="list"), Column("kind"),
    Column("days", kind="days"), Column("funding"), Column("funder", table=False),
    Column("received", kind="date"), Column("status"),
    Column("deployments", kind="list", table=False),
]
REQUEST_DETAIL = [
    *REQUEST_COLUMNS[:8], Column("funder"), Column("received", kind="date"),
    Column("status"), Column("deployments", kind="list"), Column("contact"), Column("note"),
    Column("cancel_reason", "cancel reason"), Column("matched_on", "matched on", "date"),
    Column("closed_on", "closed on", "date"),
    Column("terms", "typed as", "map"),  # slug -> short form typed, e.g. {"maths": "numeracy"}
    Column("po", "purchase order"),
    Column("need_term", "need logged as"), Column("rise_ref", "RISE ref"),
    Column("override_reason", "override"), Column("bill_to", "bill to"),
]


@request_app.command("log")
def request_log(
    ctx: typer.Context,
    school: Annotated[str, typer.Option("--school", metavar="URN_OR_NAME",
                                        help="The school asking for support (URN or name).",
                                        autocompletion=complete_school)],
    need: Annotated[str, typer.Option(
        metavar="AREA", help="A report-card area: inclusion, curriculum-and-teaching, "
        "achievement, attendance-and-behaviour, personal-development, early-years, post-16, "
        "leadership-and-governance (the old five needs are accepted as synonyms).")],
    specialism: Annotated[list[str] | None, typer.Option(
        "--specialism", "-s", help="Specialism or short form (maths, SEND, EYFS...); repeat "
        "for several.")] = None,
    kind: Annotated[str | None, typer.Option(help="Kind of leader wanted: SLE, LLE, NLE, NLG.")
                    ] = None,
    days: DaysOpt = None,
    funding: Annotated[str, typer.Option(
        metavar="ROUTE", help="school, intervention, grant, rise or dfe (closed: needs "
        "--override).")] = "school",
    funder: Annotated[str | None, typer.Option(
        metavar="NAME", help="Who pays (required for intervention, grant or rise funding).")
    ] = None,
    rise_ref: Annotated[str | None, typer.Option(
        "--rise-ref", metavar="REF", help="The RISE commission's reference (rise funding).")
    ] = None,
    override: Annotated[str | None, typer.Option(
        metavar="REASON", help="Log a dfe-funded request although the programme is closed.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    received: Annotated[str | None, typer.Option(metavar="DATE",
                                                 help="Date received (default today).")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact at the school.")] = None,
    po: PoOpt = None,
    bill_to: BillToOpt = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Log a school's request for support; prints the new request's id.

    \b
    Example:
      s2s request log --school 131543 --need achievement --specialism maths --days 5
    """
    from s2s_cli.output import emit_id
    from s2s_cli.services import lookup, requests

    st = state(ctx)
    school_urn = lookup.school(st.reader, school)
    inp = requests.validate_request(school=school_urn, need=need, specialisms=specialism, kind=kind,
                                    days=days, funding=funding, funder=funder, note=note,
                                    received=received, contact=contact, po=po,
                                    rise_ref=rise_ref, override=override, bill_to=bill_to)
    rid = st.write(lambda session: requests.log_request(session, inp))
    emit_id(rid, fmt, message=f"request {rid} logged for school {school_urn}")


@request_app.command("list")
def request_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(
        help="open, matched, completed or cancelled.")] = None,
    school: Annotated[str | None, typer.Option("--school", metavar="URN_OR_NAME",
                                               autocompletion=complete_school)] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """List requests, oldest first."""
    from s2s_cli.output import render
    from s2s_cli.services import lookup, requests

    with state(ctx).reader() as reader:
        rows = requests.list_requests(reader, status=status,
                                      school=lookup.optional_school(reader, school))
    render(rows, REQUEST_COLUMNS, fmt, title=f"{len(rows)} request(s)",
           empty="No requests match.")


@request_app.command("show")
def request_show(ctx: typer.Context,
                 request_id: Annotated[int, typer.Argument(metavar="ID")],
                 fmt: FormatOpt = Format.auto) -> None:
    """Show one request and its deployments."""
    from s2s_cli.output import render_record
    from s2s_cli.services import requests

    with state(ctx).reader() as reader:
        row = requests.request(reader, request_id)
    render_record(row, REQUEST_DETAIL, fmt, title=f"Request {request_id}")


@request_app.command("edit")
def request_edit(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    need: Annotated[str | None, typer.Option(
        metavar="AREA", help="teaching-and-learning, leadership-and-management, achievement, "
        "behaviour or governance.")] = None,
    specialism: Annotated[list[str] | None, typer.Option(
        "--specialism", "-s", help="Replaces the specialisms asked for; repeat for several "
        "(--specialism \"\" for none).")] = None,
    kind: Annotated[str | None, typer.Option(
        help="Kind of leader wanted: SLE, LLE, NLE, NLG (\"\" for any).")] = None,
    days: Annotated[str | None, typer.Option(
        "--days", metavar="N", help="Days asked for, whole or half (\"\" for not said).")] = None,
    funding: Annotated[str | None, typer.Option(
        metavar="ROUTE", help="school, intervention, grant or dfe.")] = None,
    funder: Annotated[str | None, typer.Option(
        metavar="NAME", help="Who pays (intervention or grant funding).")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact at the school.")] = None,
    note: Annotated[str | None, typer.Option(help="Free text (\"\" clears it).")] = None,
    po: PoOpt = None,
    bill_to: BillToOpt = None,
) -> None:
    """Correct a request: only the options given change (each change is audited).

    Deployments already agreed keep their own terms (see `s2s deployment edit`).

    \b
    Example:
      s2s request edit 3 --days 6 --po PO-4471
    """
    from s2s_cli.services import requests

    st = state(ctx)
    edit = requests.validate_request_edit(need=need, specialisms=specialism, kind=kind,
                                          days=days, funding=funding, funder=funder,
                                          contact=contact, note=note, po=po,
                                          bill_to=bill_to)
    changed = st.write(lambda session: requests.edit_request(session, request_id, edit))
    st.note(f"request {request_id}: " + (f"changed {', '.join(changed)}" if changed
                                         else "nothing changed"))


@request_app.command("cancel")
def request_cancel(ctx: typer.Context,
                   request_id: Annotated[int, typer.Argument(metavar="ID")],
                   reason: Annotated[str, typer.Option(help="Why it is cancelled.")],
                   on: OnOpt = None) -> None:
    """Cancel a request (refused while it has active deployments)."""
    from s2s_cli.parsing import clean_text
    from s2s_cli.services import requests

    st = state(ctx)
    why = clean_text(reason, what="--reason", required=True)
    assert why is not None
    when = requests.past_date(on, what="--on") if on is not None else None
    st.write(lambda session: requests.cancel_request(session, request_id, why, when))
    st.note(f"request {request_id} cancelled")


# --- matching ---------------------------------------------------------------------------------

MATCH_COLUMNS = [
    Column("leader_id", "id"), Column("name"), Column("kind"), Column("score", kind="int"),
    Column("remaining_days", "days free", "days"), Column("reasons", kind="list"),
]


def match(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(metavar="REQUEST_ID")],
    limit: Annotated[int, typer.Option(help="At most this many leaders.")] = 10,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Rank active leaders for a request and explain each rank.

    Points: +40 each requested specialism held, else +15 same Ofsted focus area; +20 kind
    wanted (-10 another kind); +10 same phase; +10 same LA, else +5 same region; +10 enough
    days free this academic year (-20 not enough); -3 per active deployment.  Ties by id.

    \b
    Example:
      s2s match 3 --limit 5
    """
    from s2s_cli.output import render
    from s2s_cli.services import matching

    with state(ctx).reader() as reader:
        rows = matching.match(reader, request_id, limit=limit)
    render(rows, MATCH_COLUMNS, fmt, title=f"Leaders for request {request_id}",
           empty="No active leader can be offered for this request.")


# --- deployments ------------------------------------------------------------------------------

def deploy(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(metavar="REQUEST_ID")],
    leader: Annotated[str, typer.Option(metavar="ID_OR_NAME",
                                        help="The leader to deploy (id or name).",
                                        autocompletion=complete_leader)],
    days: DaysOpt = None,
    start: Annotated[str | None, typer.Option(metavar="DATE",
                                              help="First day (default today).")] = None,
    end: Annotated[str | None, typer.Option(metavar="DATE",
                                            help="Last day (default open-ended).")] = None,
    work: Annotated[str, typer.Option(
        metavar="TYPE", help="one-to-one, group-support, data-analysis, diagnosis, coaching, "
        "facilitation-and-training, joint-action-planning, governance-review, "
        "pupil-premium-review or other.")] = "other",
    funding: Annotated[str | None, typer.Option(
        metavar="ROUTE", help="school, intervention, grant, rise or dfe (closed: needs "
        "--override) (default: the request's).")] = None,
    funder: Annotated[str | None, typer.Option(metavar="NAME", help="Who pays.")] = None,
    rise_ref: Annotated[str | None, typer.Option(
        "--rise-ref", metavar="REF", help="The RISE commission's reference (rise funding; "
        "default: the request's).")] = None,
    dfe_extra_days: Annotated[int, typer.Option(
        "--dfe-extra-days", metavar="N",
        help="DfE-funded NLG packages at trusts: how many of the days are additional (0-5).")] = 0,
    rate: Annotated[str | None, typer.Option(metavar="£",
                                             help="Negotiated day rate.")] = None,
    half_day_rate: Annotated[str | None, typer.Option(
        "--half-day-rate", metavar="£", help="Negotiated half-day rate (default half the day "
        "rate).")] = None,
    override: Annotated[str | None, typer.Option(
        metavar="REASON", help="Deploy despite a refusal, recording why.")] = None,
    po: Annotated[str | None, typer.Option(
        "--po", metavar="NUMBER", help="Purchase order number (default: the request's).")
                  ] = None,
    on: Annotated[str | None, typer.Option(
        "--on", metavar="DATE", help="The date it was agreed (default today).")] = None,
    bill_to: Annotated[str | None, typer.Option(
        "--bill-to", metavar="WHO", help="Who is invoiced: school or trust (default: the "
        "request's); frozen now, like the rates.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Agree a deployment of a leader on a request; prints its id.

    Refused (exit 1) for a leader short of capacity in the academic year of the start date,
    an inactive leader, a leader based at the supported school, or a cancelled or completed
    request - unless --override "reason".  Rates are fixed now: --rate, else the rate card.

    \b
    Example:
      s2s deploy 3 --leader L0042 --days 5 --start 2026-09-14 --work coaching
    """
    from s2s_cli.output import emit_id
    from s2s_cli.parsing import format_pence
    from s2s_cli.services import deployments, lookup

    st = state(ctx)
    inp = deployments.validate_deploy(
        request_id=request_id, leader=lookup.leader(st.reader, leader), days=days,
        start=start, end=end, work=work,
        funding=funding, funder=funder, dfe_extra_days=dfe_extra_days, rate=rate,
        half_day_rate=half_day_rate, override=override, po=po, on=on, rise_ref=rise_ref,
        bill_to=bill_to)
    result = st.write_light(lambda tx: deployments.deploy(tx, inp))
    emit_id(result["id"], fmt)
    r = result["rates"]
    st.note(f"deployment {result['id']}: {inp.leader_id} from {inp.start}; "
            f"{format_pence(r.day_pence)} a day, {format_pence(r.half_day_pence)} a half day "
            f"({r.source})")
    if result["overrode"]:
        st.note("overridden: " + "; ".join(result["overrode"]))
    elif override is not None:
        st.note("--override was not needed: nothing was refused")


DEPLOYMENT_COLUMNS = [
    Column("id", kind="int"), Column("request_id", "request", "int"),
    Column("leader_id", "leader id"), Column("leader"), Column("school_urn", "URN", "int"),
    Column("school"), Column("status"), Column("start", kind="date"),
    Column("end", kind="date"), Column("work"), Column("funding"),
    Column("funder", table=False), Column("agreed_days", "agreed", "days"),
    Column("logged_days", "logged", "days"),
]
DEPLOYMENT_DETAIL = [
    *DEPLOYMENT_COLUMNS[:11], Column("funder"), Column("rise_ref", "RISE ref"),
    Column("dfe_extra_days", "DfE extra days", "int"),
    Column("agreed_days", "agreed days", "days"), Column("logged_days", "logged days", "days"),
    Column("first_day", "first day", "date"), Column("last_day", "last day", "date"),
    Column("rate_pence", "day rate", "money"),
    Column("half_day_rate_pence", "half-day rate", "money"),
    Column("supply_pence", "supply per day", "money"),
    Column("half_day_supply_pence", "supply per half day", "money"),
    Column("rate_source", "rate from"), Column("override_reason", "override"),
    Column("closed_on", "closed on", "date"), Column("po", "purchase order"),
    Column("agreed_on", "agreed on", "date"), Column("cancel_reason", "cancel reason"),
    Column("cancelled_on", "cancelled on", "date"),
    # the terms frozen at agreement (what its money depends on)
    Column("leader_kind", "leader kind (agreed)"),
    Column("home_school_urn", "home school (supply cover)", "int"),
    Column("school_type", "school type (agreed)"), Column("school_band", "size band"),
    Column("bill_to", "bill to"), Column("payer_school_urn", "payer URN", "int"),
    Column("payer_trust_uid", "payer trust UID"), Column("vat", "VAT"),
    Column("vat_percent_bp", "VAT rate (bp)", "int", table=False),
    Column("payment_terms_days", "payment terms (days)", "int"),
]
EVALUATION_COLUMNS = [Column("id", kind="int"), Column("by"), Column("rating", kind="int"),
                      Column("impact"), Column("date", kind="date")]


@deployment_app.command("list")
def deployment_list(
    ctx: typer.Context,
    leader: Annotated[str | None, typer.Option(metavar="ID_OR_NAME",
                                               autocompletion=complete_leader)] = None,
    school: Annotated[str | None, typer.Option("--school", metavar="URN_OR_NAME",
                                               help="The supported school.",
                                               autocompletion=complete_school)] = None,
    active: Annotated[bool, typer.Option(help="Only active deployments.")] = False,
    status: Annotated[str | None, typer.Option(
        metavar="STATUS", help="active, closed or cancelled.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """List deployments with agreed and logged days."""
    from s2s_cli.output import render
    from s2s_cli.services import deployments, lookup

    with state(ctx).reader() as reader:
        rows = deployments.list_deployments(
            reader, leader=lookup.optional_leader(reader, leader),
            school=lookup.optional_school(reader, school), active=active, status=status)
    render(rows, DEPLOYMENT_COLUMNS, fmt, title=f"{len(rows)} deployment(s)",
           empty="No deployments match.")


@deployment_app.command("show")
def deployment_show(ctx: typer.Context,
                    deployment_id: Annotated[int, typer.Argument(metavar="ID")],
                    fmt: FormatOpt = Format.auto) -> None:
    """Show a deployment: agreed vs logged days, dates, funding, rates, evaluations."""
    from s2s_cli.output import _json_value, render_record, resolve_format, rich_table
    from s2s_cli.services import deployments

    with state(ctx).reader() as reader:
        row = deployments.deployment(reader, deployment_id)
    if resolve_format(fmt) is Format.json:
        record = {c.key: _json_value(c, row.get(c.key)) for c in DEPLOYMENT_DETAIL}
        record["evaluations"] = [{c.key: _json_value(c, e.get(c.key))
                                  for c in EVALUATION_COLUMNS} for e in row["evaluations"]]
        _write_json(record)
        return
    extra = [rich_table(row["evaluations"], EVALUATION_COLUMNS, title="Evaluations")
             ] if row["evaluations"] else []
    render_record(row, DEPLOYMENT_DETAIL, fmt, title=f"Deployment {deployment_id}", extra=extra)


@deployment_app.command("edit")
def deployment_edit(
    ctx: typer.Context,
    deployment_id: Annotated[int, typer.Argument(metavar="ID")],
    start: Annotated[str | None, typer.Option(metavar="DATE", help="First day.")] = None,
    end: Annotated[str | None, typer.Option(
        metavar="DATE", help="Last day (\"\" for open-ended).")] = None,
    days: Annotated[str | None, typer.Option(
        "--days", metavar="N", help="Agreed days, whole or half.")] = None,
    work: Annotated[str | None, typer.Option(metavar="TYPE", help="The kind of work.")] = None,
    funding: Annotated[str | None, typer.Option(
        metavar="ROUTE", help="school, intervention, grant or dfe.")] = None,
    funder: Annotated[str | None, typer.Option(metavar="NAME", help="Who pays.")] = None,
    dfe_extra_days: Annotated[int | None, typer.Option(
        "--dfe-extra-days", metavar="N", help="Additional DfE package days (0-5).")] = None,
    rate: Annotated[str | None, typer.Option(
        metavar="£", help="Negotiated day rate, or 'card' to price from the rate card.")] = None,
    half_day_rate: Annotated[str | None, typer.Option(
        "--half-day-rate", metavar="£", help="Negotiated half-day rate.")] = None,
    po: PoOpt = None,
    leader_kind: Annotated[str | None, typer.Option(
        "--leader-kind", metavar="KIND", help="The kind of leader it was agreed with (SLE, "
        "LLE, NLE, NLG): decides the NLG allowance and DfE packages.")] = None,
    home_school: Annotated[str | None, typer.Option(
        "--home-school", metavar="URN_OR_NAME", help="The home school its supply cover is "
        "owed to.", autocompletion=complete_school)] = None,
    school_type: Annotated[str | None, typer.Option(
        "--school-type", metavar="TYPE", help="The supported school's type as agreed (decides "
        "a DfE package's size); \"\" clears.")] = None,
    school_band: Annotated[str | None, typer.Option(
        "--school-band", metavar="BAND", help="The rate card's size band as agreed; \"\" "
        "clears.")] = None,
    payer: Annotated[str | None, typer.Option(
        "--payer", metavar="URN_OR_NAME", help="The school invoiced (default the supported "
        "school), for days not yet invoiced.", autocompletion=complete_school)] = None,
    bill_to: Annotated[str | None, typer.Option(
        "--bill-to", metavar="WHO", help="school or trust (the school's trust as it is now), "
        "for days not yet invoiced.")] = None,
    vat: Annotated[str | None, typer.Option(
        "--vat", metavar="TREATMENT", help="exempt, standard (20%) or zero, for days not yet "
        "invoiced.")] = None,
    payment_terms: Annotated[int | None, typer.Option(
        "--payment-terms", metavar="DAYS", help="Days to pay, for invoices not yet issued.")
    ] = None,
    override: Annotated[str | None, typer.Option(
        metavar="REASON", help="Change it despite a capacity refusal, recording why.")] = None,
) -> None:
    """Correct a deployment: only the options given change (each change is audited).

    Dates must still hold every day logged; more agreed days, or a start in another academic
    year, are checked against the leader's capacity like `deploy` (--override "reason").
    Rates, funding, the leader kind, home school, school type and size band it was agreed
    with change only while none of its days is on a live invoice: void those invoices first,
    then invoice again at the new terms.  The payer (--payer, --bill-to), VAT, payment terms
    and PO change for the days not yet invoiced (issued invoices never change).

    \b
    Example:
      s2s invoices void S2S-2026-0007 --reason "wrong rate"
      s2s deployment edit 4 --rate 380
    """
    from s2s_cli.parsing import format_pence
    from s2s_cli.services import deployments, lookup

    st = state(ctx)
    edit = deployments.validate_deployment_edit(
        start=start, end=end, days=days, work=work, funding=funding, funder=funder,
        dfe_extra_days=dfe_extra_days, rate=rate, half_day_rate=half_day_rate, po=po,
        override=override, leader_kind=leader_kind,
        home_school=(lookup.school(st.reader, home_school, "--home-school")
                     if home_school is not None else None),
        school_type=school_type, school_band=school_band,
        payer=lookup.school(st.reader, payer, "--payer") if payer is not None else None,
        bill_to=bill_to, vat=vat, payment_terms=payment_terms)
    info = st.write(lambda session: deployments.edit_deployment(session, deployment_id, edit))
    changed = info["changed"]
    if not changed:
        st.note(f"deployment {deployment_id}: nothing changed")
        return
    names = {"agreed_halves": "agreed days", "home_school_urn": "home school",
             "payer_school_urn": "payer", "payer_trust_uid": "payer trust",
             "vat_percent_bp": "VAT rate", "payment_terms_days": "payment terms"}
    shown = [names.get(k, k) for k in changed if k not in (
        "supply_pence", "half_day_supply_pence", "rate_source")]
    st.note(f"deployment {deployment_id}: changed {', '.join(shown)}")
    r = info["rates"]
    if r is not None and any(k.endswith("rate_pence") for k in changed):
        st.note(f"deployment {deployment_id}: {format_pence(r.day_pence)} a day, "
                f"{format_pence(r.half_day_pence)} a half day ({r.source})")
    if info["overrode"]:
        st.note("overridden: " + "; ".join(info["overrode"]))


@deployment_app.command("cancel")
def deployment_cancel(
    ctx: typer.Context,
    deployment_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why it is cancelled.")],
    on: OnOpt = None,
) -> None:
    """Cancel a deployment agreed by mistake or called off (none of its days invoiced).

    Its days are removed (audited) and its capacity freed; its request goes back to open
    when no other deployment of it stands.  It stays in `deployment list --status cancelled`.
    """
    from s2s_cli.parsing import clean_text, days_str
    from s2s_cli.services import deployments
    from s2s_cli.services.requests import past_date

    st = state(ctx)
    why = clean_text(reason, what="--reason", required=True)
    assert why is not None
    when = past_date(on, what="--on") if on is not None else None
    info = st.write(lambda session: deployments.cancel_deployment(session, deployment_id, why,
                                                                  when))
    removed = (f"; removed {info['removed_days']} day log(s), {days_str(info['removed_halves'])} "
               "days" if info["removed_days"] else "")
    st.note(f"deployment {deployment_id} cancelled{removed}; request {info['request_id']} is "
            f"{info['request_status']}")


@deployment_app.command("close")
def deployment_close(ctx: typer.Context,
                     deployment_id: Annotated[int, typer.Argument(metavar="ID")],
                     on: Annotated[str | None, typer.Option(
                         "--on", metavar="DATE",
                         help="The day it closed (default today; not before its last logged "
                         "day).")] = None) -> None:
    """Close a deployment; its request is completed once all its deployments are closed."""
    from s2s_cli.parsing import days_str
    from s2s_cli.services import deployments
    from s2s_cli.services.requests import past_date

    st = state(ctx)
    when = past_date(on, what="--on") if on is not None else None
    info = st.write(lambda session: deployments.close_deployment(session, deployment_id, when))
    st.note(f"deployment {deployment_id} closed with {days_str(info['logged'])} of "
            f"{days_str(info['agreed'])} agreed days logged; request {info['request_id']} is "
            f"{info['request_status']}")
    if info.get("cancelled_sessions"):
        st.note(f"{info['cancelled_sessions']} planned session(s) cancelled")


# --- days worked ------------------------------------------------------------------------------

LOG_COLUMNS = [
    Column("id", kind="int"), Column("deployment_id", "deployment", "int"),
    Column("leader_id", "leader"), Column("school_urn", "URN", "int"),
    Column("date", kind="date"), Column("days", kind="days"), Column("activity"),
    Column("note"), Column("invoice_id", "invoice id", "int", table=False),
    Column("invoice_number", "invoice"),
]


@log_app.command("add", hidden=True)
def log_add(
    ctx: typer.Context,
    deployment_id: Annotated[int, typer.Argument(metavar="DEPLOYMENT_ID")],
    date: Annotated[str | None, typer.Option(metavar="DATE", help="The day worked.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                                  help="First day of a block.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                                help="Last day of a block.")] = None,
    half: Annotated[bool, typer.Option("--half", help="Half days.")] = False,
    include_weekends: Annotated[bool, typer.Option(
        "--include-weekends", help="Allow Saturdays and Sundays (needed but for NLGs; a block "
        "includes them).")] = False,
    include_holidays: Annotated[bool, typer.Option(
        "--include-holidays", help="Allow England's bank holidays (a block includes them).")
                                ] = False,
    activity: Annotated[str | None, typer.Option(
        help="coaching, data-analysis, diagnosis, facilitation-and-training, "
        "joint-action-planning, one-to-one, group-support, governance-review, "
        "pupil-premium-review or other (default: the deployment's work).")] = None,
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    over: Annotated[str | None, typer.Option(
        metavar="REASON", help="Log beyond the agreed days, recording why.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Record a day, a half day or a block of weekdays; prints the new log id(s).

    No date after today (not worked yet).  A Saturday or Sunday needs --include-weekends
    (but for an NLG); a bank holiday in England needs --include-holidays.  A block skips
    weekends and bank holidays unless those options are given.

    \b
    Examples:
      s2s log 4 --date 2026-10-01
      s2s log 4 --date 2026-10-02 --half --activity coaching
      s2s log 4 --from 2026-10-05 --to 2026-10-09
    """
    from s2s_cli.parsing import days_str
    from s2s_cli.services import deployments

    st = state(ctx)
    inp = deployments.validate_log(
        deployment_id=deployment_id, date=date, date_from=date_from, date_to=date_to, half=half,
        include_weekends=include_weekends, include_holidays=include_holidays,
        activity=activity, note=note, over=over)
    result = st.write_light(lambda tx: deployments.log_days(tx, inp))
    ids = result["ids"]
    if Format(fmt) is Format.json:
        sys.stdout.write(json.dumps({"ids": ids} if inp.block else {"id": ids[0]}) + "\n")
    else:
        sys.stdout.write("".join(f"{i}\n" for i in ids))
    if inp.holidays_skipped:
        st.note("skipped bank holiday(s): " + ", ".join(
            f"{d} {name}" for d, name in inp.holidays_skipped)
            + " (--include-holidays to log them)")
    st.note(f"deployment {deployment_id}: {days_str(result['logged'])} of "
            f"{days_str(result['agreed'])} agreed days logged")
    if result.get("confirmed"):
        st.note("confirmed planned session(s) " + ", ".join(map(str, result["confirmed"])))


@log_app.command("list")
def log_list(
    ctx: typer.Context,
    deployment_id: Annotated[int | None, typer.Option("--deployment", metavar="ID")] = None,
    leader: Annotated[str | None, typer.Option(metavar="ID_OR_NAME",
                                               autocompletion=complete_leader)] = None,
    date_from: Annotated[str | None, typer.Option("--from", metavar="DATE")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """List days logged, by date."""
    from s2s_cli.output import render
    from s2s_cli.services import deployments, lookup

    with state(ctx).reader() as reader:
        rows = deployments.list_logs(reader, deployment_id=deployment_id,
                                     leader=lookup.optional_leader(reader, leader),
                                     date_from=date_from, date_to=date_to)
    render(rows, LOG_COLUMNS, fmt, title=f"{len(rows)} day log(s)",
           totals={"days": sum(r["days"] for r in rows)}, empty="No days logged match.")


@log_app.command("undo")
def log_undo(ctx: typer.Context, log_id: Annotated[int, typer.Argument(metavar="LOG_ID")]
             ) -> None:
    """Delete a day log that is on no live invoice (one on a voided invoice may go: its
    credit note and the audit trail keep what was billed)."""
    from s2s_cli.parsing import days_str
    from s2s_cli.services import deployments

    st = state(ctx)
    info = st.write(lambda session: deployments.undo_log(session, log_id))
    st.note(f"removed day {log_id} ({info['date']}, {days_str(info['halves'])} day) from "
            f"deployment {info['deployment_id']}")
    if info.get("replanned"):
        st.note(f"session {info['replanned']} is planned again (to confirm once its date has "
                "passed)")


@log_app.command("edit")
def log_edit(
    ctx: typer.Context,
    log_id: Annotated[int, typer.Argument(metavar="LOG_ID")],
    date: Annotated[str | None, typer.Option(metavar="DATE", help="The day worked.")] = None,
    half: Annotated[bool, typer.Option("--half", help="It was a half day.")] = False,
    full: Annotated[bool, typer.Option("--full", help="It was a full day.")] = False,
    activity: Annotated[str | None, typer.Option(help="What was done.")] = None,
    note: Annotated[str | None, typer.Option(help="Free text (\"\" clears it).")] = None,
    over: Annotated[str | None, typer.Option(
        metavar="REASON", help="Beyond the agreed days, recording why.")] = None,
    include_weekends: Annotated[bool, typer.Option(
        "--include-weekends", help="Allow a Saturday or Sunday.")] = False,
    include_holidays: Annotated[bool, typer.Option(
        "--include-holidays", help="Allow a bank holiday.")] = False,
) -> None:
    """Correct a day log that is on no live invoice (void the invoice first); the checks
    of `s2s log` apply to the new date.

    \b
    Example:
      s2s log edit 12 --date 2026-10-02 --half
    """
    from s2s_cli.parsing import days_str
    from s2s_cli.services import deployments

    st = state(ctx)
    edit = deployments.validate_log_edit(
        log_id=log_id, date=date, half=half, full=full, activity=activity, note=note, over=over,
        include_weekends=include_weekends, include_holidays=include_holidays)
    info = st.write(lambda session: deployments.edit_log(session, edit))
    changed = ", ".join("days" if k == "halves" else k for k in info["changed"])
    st.note(f"day {log_id}: " + (f"changed {changed}" if changed else "nothing changed")
            + f"; deployment {info['deployment_id']}: {days_str(info['logged'])} of "
            f"{days_str(info['agreed'])} agreed days logged")


# --- evaluations, reviews, capacity -----------------------------------------------------------

def evaluate(
    ctx: typer.Context,
    deployment_id: Annotated[int, typer.Argument(metavar="DEPLOYMENT_ID")],
    by: Annotated[str, typer.Option(
        metavar="WHO", help="school, leader, or review (a progress review).")],
    rating: Annotated[int, typer.Option(metavar="1-5", help="1 (poor) to 5 (excellent).")],
    impact: Annotated[str, typer.Option(metavar="TEXT", help="The impact, in words.")],
    date: Annotated[str | None, typer.Option(metavar="DATE", help="Default today.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Record an evaluation (or, with --by review, a progress review); prints its id.

    \b
    Example:
      s2s evaluate 4 --by school --rating 5 --impact "Phonics screening up 12 points"
    """
    from s2s_cli.output import emit_id
    from s2s_cli.services import deployments

    st = state(ctx)
    inp = deployments.validate_evaluation(deployment_id=deployment_id, by=by, rating=rating,
                                          impact=impact, date=date)
    eid = st.write(lambda session: deployments.evaluate(session, inp))
    emit_id(eid, fmt)


REVIEW_COLUMNS = [
    Column("deployment_id", "deployment", "int"), Column("school_urn", "URN", "int"),
    Column("school"), Column("leader_id", "leader id"), Column("leader"), Column("what"),
    Column("due", kind="date"), Column("days_left", "days left", "int"),
]


@reviews_app.command("due")
def reviews_due(
    ctx: typer.Context,
    within: Annotated[int, typer.Option(metavar="DAYS", min=0, max=3660,
                                        help="Due within this many days (overdue included).")
                      ] = 30,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Progress reviews due (governance reviews and DfE-funded NLG work: 4 months after the
    first day; other kinds of work as the seed file's `reviews` section sets) and closed
    deployments still missing a school evaluation.

    \b
    Example (cron, weekly):
      s2s reviews due --within 14 --format csv
    """
    from s2s_cli.output import render
    from s2s_cli.services import deployments

    with state(ctx).reader() as reader:
        rows = deployments.reviews_due(reader, within=within)
    render(rows, REVIEW_COLUMNS, fmt, title=f"{len(rows)} due within {within} days",
           empty="Nothing due.")


CAPACITY_COLUMNS = [
    Column("leader_id", "id"), Column("name"), Column("kind"),
    Column("capacity_days", "released", "days"), Column("agreed_days", "agreed", "days"),
    Column("worked_days", "worked", "days"), Column("remaining_days", "remaining", "days"),
]


def capacity(
    ctx: typer.Context,
    leader: Annotated[str | None, typer.Option(metavar="ID_OR_NAME", help="One leader.",
                                               autocompletion=complete_leader)] = None,
    year: Annotated[str | None, typer.Option(metavar="YYYY-YY",
                                             help="Academic year (default: the current one).")
                    ] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Days released, agreed in deployments, worked and remaining, per active leader.

    Agreed and remaining count deployments starting in the year (a closed one counts the days
    it logged); worked counts days logged on dates in the year.

    \b
    Example:
      s2s capacity --year 2026-27
    """
    from s2s_cli import taxonomy
    from s2s_cli.output import render
    from s2s_cli.parsing import parse_academic_year
    from s2s_cli.services import deployments, lookup

    start_year = parse_academic_year(year) if year else None
    with state(ctx).reader() as reader:
        ay, rows = deployments.capacity(reader, leader_id=lookup.optional_leader(reader, leader),
                                        year=start_year)
    render(rows, CAPACITY_COLUMNS, fmt,
           title=f"Capacity in {taxonomy.academic_year_label(ay)}", empty="No active leaders.")


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
    app.command("match")(match)
    app.command("deploy")(deploy)
    app.add_typer(deployment_app, name="deployment")
    app.add_typer(log_app, name="log")
    app.command("evaluate")(evaluate)
    app.add_typer(reviews_app, name="reviews")
    app.command("capacity")(capacity)
