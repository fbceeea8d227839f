"""Reports, exports and the GIAS import: `s2s report NAME`, `s2s export`, `s2s import gias`.

Made for cron: no prompts; no colour, charts or progress bars unless on a terminal; `--quiet`
prints nothing on success; `--out` writes atomically (temporary file in the same folder, then
rename), creates folders, makes files 0600 and expands `{date}` and `{period}`."""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from s2s_cli.cli.common import FormatOpt, state
from s2s_cli.output import Column, Format

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

import_app = typer.Typer(help="Import from national registers (GIAS, Ofsted).",
                         no_args_is_help=True)


class ReportName(StrEnum):
    deployments = "deployments"
    days = "days"
    utilisation = "utilisation"
    income = "income"
    requests = "requests"
    reviews = "reviews"
    directory = "directory"


# The column keys are the CSV headers and JSON keys: a documented contract (README).
COLUMNS: dict[str, list[Column]] = {
    "deployments": [
        Column("id", "id", "int"), Column("school_urn", "URN", "int"), Column("school"),
        Column("leader_id", "leader id"), Column("leader"), Column("kind"),
        Column("need", table=False), Column("specialisms", kind="list"),
        Column("work", table=False), Column("funding"), Column("start", kind="date"),
        Column("end", kind="date", table=False), Column("agreed_days", "agreed", "days"),
        Column("logged_days", "logged", "days"), Column("invoiced_days", "invoiced", "days"),
        Column("status"),
    ],
    "days": [
        Column("id", "id", "int"), Column("date", kind="date"),
        Column("deployment_id", "deployment", "int"), Column("leader_id", "leader id"),
        Column("leader"), Column("school_urn", "URN", "int"), Column("school"),
        Column("days", kind="days"), Column("activity"), Column("funding"),
        Column("invoice_number", "invoice"), Column("note", table=False),
    ],
    "utilisation": [
        Column("leader_id", "leader id"), Column("leader"), Column("kind"),
        Column("home_school", "home school"), Column("active", kind="bool", table=False),
        Column("released_days", "released", "days"), Column("agreed_days", "agreed", "days"),
        Column("worked_days", "worked", "days"), Column("utilisation_pct", "worked %", "pct"),
    ],
    "income": [
        Column("month"), Column("funding"), Column("charged_days", "charged days", "days"),
        Column("charged_pence", "charged", "money"), Column("free_days", "free days", "days"),
        Column("funded_days", "funded days", "days"),
        Column("funded_pence", "funded", "money"), Column("supply_pence", "supply cover", "money"),
        Column("admin_pence", "admin", "money"), Column("total_pence", "total", "money"),
        Column("invoiced_pence", "invoiced (gross)", "money"),
        Column("received_pence", "received", "money"),
        Column("outstanding_pence", "outstanding", "money"),
    ],
    "requests": [
        Column("id", "id", "int"), Column("school_urn", "URN", "int"), Column("school"),
        Column("need"), Column("specialisms", kind="list"), Column("kind", table=False),
        Column("funding", table=False), Column("status"), Column("received", kind="date"),
        Column("matched_on", "matched", "date"), Column("closed_on", "closed", "date"),
        Column("age_days", "age (days)", "int"),
        Column("days_to_match", "days to match", "int"), Column("note", table=False),
    ],
    "reviews": [
        Column("deployment_id", "deployment", "int"), Column("item"),
        Column("due", kind="date"), Column("state"),
        Column("days_overdue", "days overdue", "int"), Column("school_urn", "URN", "int"),
        Column("school"), Column("leader_id", "leader id"), Column("leader"),
        Column("kind"), Column("work"), Column("funding"),
        Column("first_day", "first day", "date", table=False),
    ],
    "directory": [
        Column("id"), Column("name"), Column("kind"), Column("specialisms", kind="list"),
        Column("designations", kind="list", table=False),
        Column("home_school_urn", "URN", "int", table=False),
        Column("home_school", "home school"), Column("local_authority", "LA"),
        Column("region"), Column("phase"),
        Column("capacity_days", "capacity (days/year)", "int", table=False),
    ],
}
TOTALS = {
    "deployments": ("agreed_days", "logged_days", "invoiced_days"),
    "days": ("days",),
    "utilisation": ("released_days", "agreed_days", "worked_days"),
    "income": ("charged_days", "charged_pence", "free_days", "funded_days", "funded_pence",
               "supply_pence", "admin_pence", "total_pence", "invoiced_pence",
               "received_pence", "outstanding_pence"),
}
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def expand_out(template: str, *, date: str, period: str | None) -> Path:
    """--out with {date} (today, ISO) and {period} (the report's period label)."""
    values = {"date": date}
    if period is not None:
        values["period"] = period

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            known = ", ".join("{" + k + "}" for k in values)
            from s2s_cli.errors import InvalidInput

            raise InvalidInput(f"--out: unknown placeholder {m.group(0)} (use {known})")
        return values[m.group(1)]

    if not template.strip():
        from s2s_cli.errors import InvalidInput

        raise InvalidInput("--out must be a file path")
    return Path(PLACEHOLDER.sub(sub, template)).expanduser()


def _out_format(fmt: Format, out: Path | None, excel: bool) -> Format:
    from s2s_cli.errors import InvalidInput
    from s2s_cli.output import out_format, resolve_format

    fmt = Format(fmt)
    if excel and fmt not in (Format.auto, Format.csv):
        raise InvalidInput("--excel adds a byte-order mark to CSV: use it with --format csv")
    if excel:
        fmt = Format.csv
    fmt = Format(out_format(fmt.value, out, choices=[f.value for f in Format]))
    return resolve_format(fmt) if out is None else fmt


def _counted(rows: Iterable[dict[str, Any]], counter: list[int]) -> Iterator[dict[str, Any]]:
    for row in rows:
        counter[0] += 1
        yield row


def _bar_chart(title: str, items: list[tuple[str, list[tuple[int, str, str]], str]],
               legend: str, width: int = 40) -> Any:
    """A horizontal bar per item, built from text blocks: [(label, [(value, char, style)],
    figure)].  Distinct characters keep the segments apart without colour.  The bars are at
    most `width` cells long, shorter when the labels and figures leave less room (80 columns
    with long names)."""
    from rich.cells import cell_len

    label_width = max((cell_len(label) for label, _, _ in items), default=0)
    figure_width = max((cell_len(figure) for _, _, figure in items), default=0)

    class Chart:
        def __rich_console__(self, console: Any, options: Any) -> Any:
            from rich.console import Group
            from rich.table import Table
            from rich.text import Text

            bars = max(10, min(width, options.max_width - label_width - figure_width - 4))
            biggest = max((sum(max(v, 0) for v, _, _ in segs) for _, segs, _ in items),
                          default=0)
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(no_wrap=True)
            grid.add_column(justify="right", no_wrap=True)
            for label, segs, figure in items:
                bar = Text()
                for value, char, style in segs:
                    cells = round(max(value, 0) * bars / biggest) if biggest else 0
                    bar.append(char * cells, style=style)
                grid.add_row(Text(label), bar, Text(figure))
            yield Group(Text(title, style="bold"), grid, Text(legend, style="dim"), Text(""))

    return Chart()


CHART_LEADERS = 40


def utilisation_chart(rows: list[dict[str, Any]]) -> Any | None:
    """A bar per leader with days agreed or worked, busiest first (most days worked, then
    agreed), at most 40; None when nobody has any."""
    from s2s_cli.parsing import days_str

    busy = [r for r in rows if r["worked_days"] or r["agreed_days"]]
    if not busy:
        return None
    busy.sort(key=lambda r: (-r["worked_days"], -r["agreed_days"], r["leader_id"]))
    title = "Days worked against days released"
    if len(busy) > CHART_LEADERS:
        title += f" (the {CHART_LEADERS} busiest of {len(busy)} leaders with work)"
        busy = busy[:CHART_LEADERS]
    items = []
    for r in busy:
        worked, agreed, released = r["worked_days"], r["agreed_days"], r["released_days"]
        pct = "" if r["utilisation_pct"] is None else f" ({r['utilisation_pct']:.1f}%)"
        items.append((f"{r['leader_id']} {r['leader']}"[:32], [
            (worked, "█", "green"), (agreed - worked, "▓", "yellow"),
            (released - max(agreed, worked), "░", "dim")],
            f"{days_str(worked)}/{days_str(released)} days{pct}"))
    return _bar_chart(title, items,
                      "█ worked  ▓ agreed, not yet worked  ░ released, not agreed")


def income_chart(rows: list[dict[str, Any]], months: list[str], current: str) -> Any:
    from s2s_cli.parsing import format_pence

    by_month: dict[str, list[int]] = {}
    for r in rows:
        m = by_month.setdefault(r["month"], [0, 0])
        m[0] += r["supply_pence"]
        m[1] += r["total_pence"] - r["supply_pence"]
    # every month of the period up to this one (gaps show), and any later month with income
    shown = [m for m in months if m <= current or m in by_month] if len(months) <= 36 else (
        sorted(by_month))
    items = []
    for month in shown:
        supply, admin = by_month.get(month, [0, 0])
        items.append((month, [(supply, "█", "cyan"), (admin, "▒", "magenta")],
                      format_pence(supply + admin)))
    return _bar_chart("Income by month (net of VAT)", items,
                      "█ supply cover (to home schools)  ▒ alliance admin")


def report(
    ctx: typer.Context,
    name: Annotated[ReportName, typer.Argument(metavar="NAME", help="deployments, days, "
                                               "utilisation, income, requests, reviews or "
                                               "directory.", case_sensitive=False)],
    period: Annotated[str | None, typer.Option(
        "--period", "-p", metavar="PERIOD", help="this-month, last-month, this-term, "
        "last-term, academic-year (default), last-academic-year, a month (2026-10) or an "
        "academic year (2026-27).")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                                  help="First day (with --to).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                                help="Last day (with --from).")] = None,
    fmt: FormatOpt = Format.auto,
    out: Annotated[str | None, typer.Option(
        "--out", "-o", metavar="PATH", help="Write to this file atomically (0600, folders "
        "created); {date} and {period} are filled in. Format from the suffix (.csv, .json, "
        ".txt/.tsv) unless --format; a suffix naming another format is refused.")
    ] = None,
    excel: Annotated[bool, typer.Option("--excel", help="CSV with a byte-order mark for "
                                        "Excel.")] = False,
) -> None:
    """Summaries for boards, local authorities and the DfE (CSV/JSON for cron).

    On a terminal, utilisation and income also draw a bar chart. Terms are fixed: autumn
    1 Sep-31 Dec, spring 1 Jan-31 Mar, summer 1 Apr-31 Aug.

    \b
    Examples:
      s2s report utilisation --period this-term
      s2s report income --period last-month --format csv --out 'reports/{period}-income.csv'
      s2s report days --from 2026-09-01 --to 2026-09-30 --format json
    """
    from s2s_cli.output import atomic_output, console, render
    from s2s_cli.services import reports

    st = state(ctx)
    key = name.value
    now = reports.today()
    span = reports.resolve_period(period, date_from, date_to, now=now)
    path = expand_out(out, date=now.isoformat(), period=span.label) if out else None
    fmt = _out_format(fmt, path, excel)
    columns = COLUMNS[key]
    title = f"{key} {span.start.isoformat()} to {span.end.isoformat()}"
    if key == "directory":
        title = "directory (active leaders)"
    count = [0]
    with st.reader() as reader:
        body = reports.days_csv(reader, span) if (
            key == "days" and fmt is Format.csv) else None
        if body is not None:  # PostgreSQL's COPY writes the million-row CSV
            from s2s_cli.output import write_csv_body

            keys = [c.key for c in columns]
            if path is None:
                count[0] = write_csv_body(body, keys, sys.stdout, excel=excel)
            else:
                with atomic_output(path) as fh:
                    count[0] = write_csv_body(body, keys, fh, excel=excel)
            if path is not None and str(path) != "-":
                st.note(f"Wrote {count[0]} {key} row(s) to {path}")
            return
        rows: Iterable[dict[str, Any]] = _counted(reports.run(key, reader, span), count)
        totals = None
        chart = None
        if fmt is Format.table:
            rows = list(rows)
            if key in TOTALS and rows:
                totals = {k: sum(r.get(k) or 0 for r in rows) for k in TOTALS[key]}
                totals[columns[0].key] = "total"
                if key == "utilisation":
                    totals["utilisation_pct"] = reports.percent(totals["worked_days"],
                                                                totals["released_days"])
            if key == "utilisation" and rows:
                chart = utilisation_chart(rows)
            elif key == "income" and rows:
                chart = income_chart(rows, span.months(), now.isoformat()[:7])
        empty = f"No {key} rows for {span.start} to {span.end}."
        if path is None:
            if chart is not None:
                console().print(chart)
            render(rows, columns, fmt, title=title, excel=excel, totals=totals, empty=empty)
        else:
            with atomic_output(path) as fh:
                if chart is not None:
                    console(fh).print(chart)
                render(rows, columns, fmt, title=title, out=fh, excel=excel, totals=totals,
                       empty=empty)
    if path is not None and str(path) != "-":
        st.note(f"Wrote {count[0]} {key} row(s) to {path}")


def export(
    ctx: typer.Context,
    out: Annotated[str, typer.Option("--out", "-o", metavar="DIR", help="Folder to write into "
                                     "(created; {date} is filled in).")],
    excel: Annotated[bool, typer.Option("--excel", help="CSV with a byte-order mark for "
                                        "Excel.")] = False,
) -> None:
    """Every table as CSV (one file per table) and one JSON document, for hand-over or backup.

    Files are 0600 and written atomically: all are written to temporary files first and
    renamed into place together at the end, so a failed run leaves the previous export as it
    was. The audit trail is included; erased leaders' data never appears.

    \b
    Example:
      s2s -q export --out '/backups/s2s/{date}'
    """
    from s2s_cli.services import export as exporter
    from s2s_cli.services.reports import today

    st = state(ctx)
    folder = expand_out(out, date=today().isoformat(), period=None)
    from s2s_cli import safefile

    if safefile.is_stdout(folder):
        from s2s_cli.errors import InvalidInput

        raise InvalidInput("export writes a folder of files: give --out DIR, not '-'")
    safefile.check_folder(folder, what="--out")
    tables, total = exporter.write_folder(st.target, st.reader, folder, excel=excel)
    st.note(f"Exported {tables} tables ({total} rows) to {folder}")


GIAS_SUMMARY = [
    Column("file"), Column("encoding"), Column("rows", kind="int"), Column("added", kind="int"),
    Column("updated", kind="int"), Column("unchanged", kind="int"),
    Column("skipped", kind="int"), Column("filtered", kind="int"),
    Column("local_authorities_added", "local authorities added", "list"),
    Column("regions_added", "regions added", "list"),
    Column("trusts_added", "trusts added", "int"),
    Column("trusts_updated", "trusts updated", "int"),
]


@import_app.command("gias")
def import_gias(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="A GIAS establishment "
                                         "extract (Windows-1252 or UTF-8).")],
    la: Annotated[list[str] | None, typer.Option(
        "--la", metavar="NAME", help="Only this local authority (name or code); repeatable.")
    ] = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", metavar="NAME", help="Only this region; repeatable.")] = None,
    open_only: Annotated[bool, typer.Option(
        "--open-only", help="Skip establishments that are not open (closed, proposed to "
        "open).")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse the whole file (exit 2, nothing written) if any row is "
        "bad.")] = False,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Add and update schools from the national register (GIAS), matched by URN.

    Sets name, local authority, region, phase, type, trust, pupils, postcode and status;
    never changes teaching school/hub/NSS flags, Ofsted grades, leaders or work records.
    Creates missing local authorities. Rows outside England's nine regions are skipped; bad
    rows (missing or invalid URN, missing name) are listed with their line numbers and
    skipped, or with --strict refused. One transaction.

    \b
    Example:
      s2s import gias edubasealldata.csv --region London --open-only
    """
    from s2s_cli.output import render, render_record
    from s2s_cli.services import gias

    st = state(ctx)
    with st.reader() as reader:  # for --la, and to catch a code that names another LA
        known_las: list[tuple[Any, str]] = [(r[0], r[1]) for r in reader.all(
            "SELECT code, name FROM local_authority")]
    progress_cm = _progress(file)
    with progress_cm as update:
        parsed = gias.read(file, las=la, regions=region, open_only=open_only, progress=update,
                           known_las=known_las)
    bad = gias.bad_rows(parsed)
    if strict and bad:
        raise gias.GiasErrors(str(file), bad)
    result = st.write(lambda session: gias.apply(session, parsed))
    if st.quiet:
        return
    summary = result.summary()
    if Format(fmt) is Format.json:
        import json

        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return
    for skip in parsed.skipped[:gias.MAX_SHOWN]:
        sys.stderr.write(f"{file}:{skip.line}: skipped: {skip.reason}\n")
    if len(parsed.skipped) > gias.MAX_SHOWN:
        sys.stderr.write(f"... and {len(parsed.skipped) - gias.MAX_SHOWN} more skipped row(s) "
                         "(--format json lists them all)\n")
    if Format(fmt) is Format.csv:
        render([summary], GIAS_SUMMARY, fmt)
    else:
        render_record(summary, GIAS_SUMMARY, fmt, title=f"GIAS import: {file.name}")


OFSTED_SUMMARY = [
    Column("file"), Column("encoding"), Column("rows", kind="int"), Column("added", kind="int"),
    Column("updated", kind="int"), Column("unchanged", kind="int"),
    Column("skipped", kind="int"), Column("unknown_schools", "unknown schools", "int"),
    Column("schools_added", "schools added", "int"),
]


@import_app.command("ofsted")
def import_ofsted(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="Ofsted's monthly management "
                                         "information file (Windows-1252 or UTF-8).")],
    add_schools: Annotated[bool, typer.Option(
        "--add-schools", help="Create schools s2s does not hold from the row's name, local "
        "authority, region and phase (default: count and skip them).")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse the whole file (exit 2, nothing written) if any row is "
        "bad.")] = False,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Add and update schools' Ofsted inspections (report cards and legacy grades) by URN.

    Keeps each school's history: a new inspection is added beside the older ones, a known one
    (same inspection number) is updated, and a re-import of the same file changes nothing.
    Rows for URNs s2s does not hold are counted and skipped (or created with --add-schools);
    bad rows (invalid URN, date or grade) are listed as FILE:LINE and skipped, or with
    --strict refused. One transaction.

    \b
    Example:
      s2s import ofsted management_information_state_funded_schools.csv
    """
    from s2s_cli.output import render, render_record
    from s2s_cli.services import gias, ofsted

    st = state(ctx)
    with _progress(file) as update:
        parsed = ofsted.read(file, progress=update)
    bad = ofsted.bad_rows(parsed)
    if strict and bad:
        raise gias.GiasErrors(str(file), bad)
    result = st.write(lambda session: ofsted.apply(session, parsed, add_schools=add_schools))
    if st.quiet:
        return
    summary = result.summary()
    if Format(fmt) is Format.json:
        import json

        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return
    skipped = result.skipped()
    for skip in skipped[:gias.MAX_SHOWN]:
        sys.stderr.write(f"{file}:{skip.line}: skipped: {skip.reason}\n")
    if len(skipped) > gias.MAX_SHOWN:
        sys.stderr.write(f"... and {len(skipped) - gias.MAX_SHOWN} more skipped row(s) "
                         "(--format json lists them all)\n")
    if Format(fmt) is Format.csv:
        render([summary], OFSTED_SUMMARY, fmt)
    else:
        render_record(summary, OFSTED_SUMMARY, fmt, title=f"Ofsted import: {file.name}")


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _progress(file: Path) -> Any:
    """A Rich progress bar on stderr for large files, only when stderr is a terminal."""
    from contextlib import contextmanager

    from s2s_cli.output import _isatty

    try:
        size = file.stat().st_size
    except OSError:
        return _NoProgress()
    if size < 2_000_000 or not _isatty(sys.stderr):
        return _NoProgress()

    @contextmanager
    def bar() -> Iterator[Any]:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        from s2s_cli.output import console

        with Progress(TextColumn("reading {task.description}"), BarColumn(), DownloadColumn(),
                      console=console(stderr=True), transient=True) as progress:
            task = progress.add_task(file.name, total=size)
            yield lambda done: progress.update(task, completed=done)

    return bar()


PROSPECT_COLUMNS = [
    Column("urn", "URN", "int"), Column("name"), Column("local_authority", "LA"),
    Column("region", table=False), Column("phase"), Column("severity", kind="int"),
    Column("areas", "areas below expected", "map"), Column("safeguarding"),
    Column("category_of_concern", "category of concern"),
    Column("inspected", kind="date"), Column("published", kind="date", table=False),
    Column("supported", kind="bool"), Column("active_deployments", "deployments", "int",
                                             table=False),
    Column("leaders_available", "leaders free", "int"), Column("distance_km", "km"),
]


def prospects(
    ctx: typer.Context,
    la: Annotated[str | None, typer.Option("--la", metavar="NAME",
                                           help="Only schools in this local authority.")] = None,
    region: Annotated[str | None, typer.Option(metavar="NAME",
                                               help="Only schools in this region.")] = None,
    near: Annotated[str | None, typer.Option(
        "--near", metavar="URN|NAME", help="Measure the distance from this school (needs "
        "Easting/Northing).")] = None,
    within: Annotated[float | None, typer.Option(
        "--within", metavar="KM", help="With --near: only schools this close.")] = None,
    area: Annotated[str | None, typer.Option(
        metavar="AREA", help="Only schools below expected standard in this report-card area.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many schools.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """The schools that need us: latest report card with needs attention or urgent
    improvement in some area, safeguarding not met, or a category of concern.

    Each with its low areas and grades, the inspection date, whether we already support it
    (active deployments) and how many of our active leaders with days free hold a specialism
    serving those areas. Most severe first, then the most recent. Made for cron.

    \b
    Example:
      s2s prospects --region "North West" --area leadership --format csv
    """
    from s2s_cli.output import render
    from s2s_cli.services import prospects as service

    with state(ctx).reader() as reader:
        rows = service.prospects(reader, la=la, region=region, near=near, within=within,
                                 area=area, limit=limit)
    if state(ctx).quiet:
        return
    render(rows, PROSPECT_COLUMNS, fmt, title=f"{len(rows)} school(s) that may need support",
           empty="No school's latest report card shows a concern.")


def register(app: typer.Typer) -> None:
    app.command("prospects")(prospects)
    app.command("report")(report)
    app.command("export")(export)
    app.add_typer(import_app, name="import")
