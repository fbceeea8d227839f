"""The coordinator's week: planned sessions (plan, plan list/move/cancel), calendars (.ics) and
the overview (week, today)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from s2s_cli.cli.common import FormatOpt, state
from s2s_cli.output import Column, Format


class PlanGroup(TyperGroup):
    """`s2s plan DEPLOYMENT_ID ...` books sessions (the hidden `add` command); `list`, `move`
    and `cancel` are ordinary subcommands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["add", *args]
        return super().parse_args(ctx, args)


plan_app = typer.Typer(
    cls=PlanGroup, no_args_is_help=True,
    help="Book sessions ahead, list them, move or cancel one.\n\n"
         "\b\nBook:    s2s plan DEPLOYMENT_ID --date DATE [--half] [--activity A] [--note TEXT]\n"
         "         s2s plan DEPLOYMENT_ID --from DATE --to DATE [--include-weekends]\n"
         "List:    s2s plan list [--deployment ID] [--leader ID] [--school URN] [--status S]\n"
         "Move:    s2s plan move ID --to DATE\n"
         "Cancel:  s2s plan cancel ID [--reason TEXT]")

PLAN_COLUMNS = [
    Column("id", kind="int"), Column("date", kind="date"), Column("weekday", "day"),
    Column("deployment_id", "deployment", "int"), Column("leader_id", "leader id"),
    Column("leader"), Column("school_urn", "URN", "int"), Column("school"),
    Column("days", kind="days"), Column("activity"), Column("status"), Column("note"),
    Column("day_log_id", "day log", "int", table=False),
    Column("cancel_reason", "cancelled because", table=False),
]


@plan_app.command("add", hidden=True)
def plan_add(
    ctx: typer.Context,
    deployment_id: Annotated[int, typer.Argument(metavar="DEPLOYMENT_ID")],
    date: Annotated[str | None, typer.Option(metavar="DATE", help="The day booked.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                                  help="First day of a block.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                                help="Last day of a block.")] = None,
    half: Annotated[bool, typer.Option("--half", help="Half days.")] = False,
    include_weekends: Annotated[bool, typer.Option(
        "--include-weekends", help="Saturdays and Sundays too (a single weekend date needs it "
        "too, except for an NLG).")] = False,
    include_holidays: Annotated[bool, typer.Option(
        "--include-holidays", help="A single --date on a bank holiday (blocks always skip "
        "them).")] = False,
    activity: Annotated[str | None, typer.Option(
        help="coaching, data-analysis, diagnosis, facilitation-and-training, "
        "joint-action-planning, one-to-one, group-support, governance-review, "
        "pupil-premium-review or other (default: the deployment's work).")] = None,
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    over: Annotated[str | None, typer.Option(
        metavar="REASON", help="Plan beyond the agreed days, recording why.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Book a session, a half-day session or a block of working days; prints the new id(s).

    Planned sessions count with the days worked: a leader never has more than one day on a
    date, and a deployment's worked and planned days pass its agreed days only with --over.
    'log' on a planned date confirms the session as worked.

    \b
    Examples:
      s2s plan 4 --date 2026-12-01
      s2s plan 4 --from 2026-12-07 --to 2026-12-11 --activity coaching
    """
    from s2s_cli.parsing import days_str
    from s2s_cli.services import planning

    st = state(ctx)
    inp = planning.validate_plan(
        deployment_id=deployment_id, date=date, date_from=date_from, date_to=date_to, half=half,
        include_weekends=include_weekends, include_holidays=include_holidays,
        activity=activity, note=note, over=over)
    result = st.write(lambda session: planning.plan_sessions(session, inp))
    ids = result["ids"]
    if Format(fmt) is Format.json:
        sys.stdout.write(json.dumps({"ids": ids} if inp.block else {"id": ids[0]}) + "\n")
    else:
        sys.stdout.write("".join(f"{i}\n" for i in ids))
    for day, name in inp.holidays_skipped:
        st.note(f"skipped {day} ({name})")
    st.note(f"deployment {deployment_id}: {days_str(result['worked'])} worked and "
            f"{days_str(result['planned'])} planned of {days_str(result['agreed'])} agreed days")


@plan_app.command("list")
def plan_list(
    ctx: typer.Context,
    deployment_id: Annotated[int | None, typer.Option("--deployment", metavar="ID")] = None,
    leader: Annotated[str | None, typer.Option(metavar="ID_OR_NAME")] = None,
    school: Annotated[str | None, typer.Option("--school", metavar="URN_OR_NAME")] = None,
    date_from: Annotated[str | None, typer.Option("--from", metavar="DATE")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE")] = None,
    status: Annotated[str, typer.Option(
        help="open (planned and to confirm; the default), planned, to-confirm, worked, "
        "cancelled or all.")] = "open",
    fmt: FormatOpt = Format.auto,
) -> None:
    """List planned sessions by date; a planned one whose date has passed is 'to confirm'."""
    from s2s_cli.output import render
    from s2s_cli.services import lookup, planning

    with state(ctx).reader() as reader:
        rows = planning.list_plans(reader, deployment_id=deployment_id,
                                   leader=lookup.optional_leader(reader, leader),
                                   school=lookup.optional_school(reader, school),
                                   date_from=date_from, date_to=date_to,
                                   status=status)
    render(rows, PLAN_COLUMNS, fmt, title=f"{len(rows)} session(s)",
           totals={"days": sum(r["days"] for r in rows)}, empty="No sessions match.")


@plan_app.command("move")
def plan_move(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", metavar="DATE", help="The new date.")],
    include_weekends: Annotated[bool, typer.Option("--include-weekends",
                                                   help="Allow a Saturday or Sunday.")] = False,
    include_holidays: Annotated[bool, typer.Option("--include-holidays",
                                                   help="Allow a bank holiday.")] = False,
) -> None:
    """Move a planned session to another date (the same checks as planning it)."""
    from s2s_cli.services import planning

    st = state(ctx)
    inp = planning.validate_move(plan_id=plan_id, to=to, include_weekends=include_weekends,
                                 include_holidays=include_holidays)
    info = st.write(lambda session: planning.move_plan(session, inp))
    st.note(f"session {plan_id} (deployment {info['deployment_id']}) moved from {info['from']} "
            f"to {info['to']}")


@plan_app.command("cancel")
def plan_cancel(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str | None, typer.Option(help="Why (kept with the session).")] = None,
) -> None:
    """Cancel a planned session (kept, and shown as cancelled in calendars)."""
    from s2s_cli.parsing import clean_text
    from s2s_cli.services import planning

    st = state(ctx)
    why = clean_text(reason, what="--reason", max_len=500) if reason is not None else None
    info = st.write(lambda session: planning.cancel_plan(session, plan_id, why))
    st.note(f"session {plan_id} on {info['date']} (deployment {info['deployment_id']}) "
            "cancelled")


# --- calendars --------------------------------------------------------------------------------

def calendar(
    ctx: typer.Context,
    out: Annotated[str, typer.Option(
        "--out", metavar="FILE.ics", help="Where to write; '{leader}' in the path writes one "
        "file per leader, '{school}' one per school (folders are created).")],
    leader: Annotated[str | None, typer.Option(
        metavar="ID_OR_NAME", help="One leader's sessions (id or part of their name).")] = None,
    school: Annotated[str | None, typer.Option(
        "--school", metavar="URN_OR_NAME", help="One school's sessions (URN or part of its "
        "name).")] = None,
    deployment_id: Annotated[int | None, typer.Option("--deployment", metavar="ID",
                                                      help="One deployment's sessions.")
                             ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every session.")] = False,
) -> None:
    """Write an iCalendar (.ics) file of planned, worked and cancelled sessions.

    One all-day event per session (half days say so), with the school's name and address,
    the leader, the work and the coordinator's contact; stable UIDs, so a calendar that
    subscribes updates rather than duplicates; the same data gives the same bytes.

    \b
    Examples:
      s2s calendar --leader L0027 --out L0027.ics
      s2s -q calendar --all --out 'calendars/{leader}.ics'     # cron: one file per leader
    """
    from s2s_cli.output import atomic_output
    from s2s_cli.services import ical, lookup

    st = state(ctx)
    if leader is not None or school is not None:
        with st.reader() as reader:
            leader = lookup.optional_leader(reader, leader)
            school = lookup.optional_school(reader, school)  # type: ignore[assignment]
    sel = ical.validate_selection(leader=leader, school=school, deployment_id=deployment_id,
                                  all_=all_, out=out)
    with st.reader() as reader:
        files = ical.calendars(reader, sel)
    for path, data, count in files:
        with atomic_output(Path(path), binary=True) as handle:
            handle.write(data)
        st.note(f"{count} event(s) written to {path}")
    if not files:
        st.note("no sessions: no file written")


# --- the overview -----------------------------------------------------------------------------

def week(
    ctx: typer.Context,
    date: Annotated[str | None, typer.Option(
        metavar="DATE", help="A day of the week to show (default today).")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """What needs you this week: sessions planned (by day), sessions to confirm, requests
    waiting for a match, deployments ending within a fortnight or past their end, reviews
    and evaluations due, invoices issued and unpaid, leaders at 90% or more of their days.

    \b
    Examples:
      s2s week
      s2s week --date 2026-12-07 --format json
    """
    _overview(ctx, date, fmt, span="week")


def today_cmd(
    ctx: typer.Context,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Today's sessions, and everything 's2s week' lists as needing attention."""
    _overview(ctx, None, fmt, span="day")


def _overview(ctx: typer.Context, date: str | None, fmt: Format, *, span: str) -> None:
    from s2s_cli.output import resolve_format
    from s2s_cli.services import overview

    on = overview.validate_date(date)
    with state(ctx).reader() as reader:
        data = overview.overview(reader, on, span=span)
    kind = resolve_format(fmt)
    if kind is Format.json:
        from s2s_cli.output import write_value

        write_value(overview.as_json(data))
    elif kind is Format.table:
        overview.print_panels(data)
    else:
        from s2s_cli.output import render

        render(overview.items(data), overview.ITEM_COLUMNS, kind)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
    app.command("calendar")(calendar)
    app.command("week")(week)
    app.command("today")(today_cmd)
