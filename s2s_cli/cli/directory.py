"""Directory commands: find, specialisms, leader show, school show, seed load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s2s_cli.cli.common import FormatOpt, state
from s2s_cli.output import Column, Format

leader_app = typer.Typer(help="Show a leader; export or erase their personal data.",
                         no_args_is_help=True)
school_app = typer.Typer(help="Show a school and the leaders based there.", no_args_is_help=True)
seed_app = typer.Typer(help="Load a directory YAML file.", no_args_is_help=True)

FIND_COLUMNS = [
    Column("id", "id"),
    Column("name", "name"),
    Column("kind", "kind"),
    Column("specialisms", "specialisms", "list"),
    Column("home_school_urn", "URN", "int", table=False),
    Column("home_school", "home school"),
    Column("local_authority", "LA"),
    Column("region", "region"),
    Column("phase", "phase"),
    Column("email", "email", table=False),
    Column("capacity_days", "capacity", "int", table=False),
]


def find(
    ctx: typer.Context,
    specialism: Annotated[list[str] | None, typer.Option(
        "--specialism", "-s", help="Specialism or short form (maths, SEND, EYFS...); repeat to "
        "require several.")] = None,
    kind: Annotated[str | None, typer.Option(help="SLE, LLE, NLE or NLG.")] = None,
    region: Annotated[str | None, typer.Option(help="Region of the home school.")] = None,
    la: Annotated[str | None, typer.Option("--la", help="Local authority of the home school.")
                  ] = None,
    phase: Annotated[str | None, typer.Option(help="Phase of the home school.")] = None,
    name: Annotated[str | None, typer.Option(help="Part of the leader's name.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many leaders.")] = None,
    include_inactive: Annotated[bool, typer.Option(help="Include inactive leaders.")] = False,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Search the directory for system leaders.

    \b
    Example:
      s2s find --specialism phonics --region London --phase primary
    """
    from s2s_cli.output import render
    from s2s_cli.services import directory

    st = state(ctx)
    with st.reader() as reader:
        filters = directory.build_filters(
            reader, specialisms=specialism, kind=kind, region=region, la=la, phase=phase,
            name=name, limit=limit, include_inactive=include_inactive)
        rows = directory.search(reader, filters)
    render(rows, FIND_COLUMNS, fmt, title=f"{len(rows)} leader(s)",
           empty="No leaders match these filters.")


def specialisms(ctx: typer.Context, fmt: FormatOpt = Format.auto) -> None:
    """The specialism taxonomy by Ofsted focus area, with active leaders holding each."""
    from s2s_cli.output import render
    from s2s_cli.services import directory

    with state(ctx).reader() as reader:
        rows = directory.specialisms(reader)
    render(rows, [Column("focus_area", "focus area"), Column("slug"), Column("name"),
                  Column("aliases", "short forms", "list"),
                  Column("active_leaders", "leaders", "int")], fmt, title="Specialisms")


LEADER_COLUMNS = [
    Column("id"), Column("name"), Column("kind"), Column("active", kind="bool"),
    Column("specialisms", kind="list"), Column("designations", kind="list"),
    Column("home_school_urn", "home school URN", "int"), Column("home_school", "home school"),
    Column("local_authority", "LA"), Column("region"), Column("phase"),
    Column("designated_by_urn", "designated by URN", "int"),
    Column("designated_by", "designated by"), Column("email"), Column("phone"),
    Column("capacity_days", "capacity (days/year)", "int"),
]


@leader_app.command("show")
def leader_show(ctx: typer.Context, leader_id: Annotated[str, typer.Argument(metavar="ID")],
                fmt: FormatOpt = Format.auto) -> None:
    """Show one leader."""
    from s2s_cli.output import render_record
    from s2s_cli.services import directory

    with state(ctx).reader() as reader:
        row = directory.leader(reader, leader_id)
    render_record(row, LEADER_COLUMNS, fmt, title=f"Leader {row['id']}")


@school_app.command("show")
def school_show(ctx: typer.Context, urn: Annotated[int, typer.Argument(metavar="URN")],
                fmt: FormatOpt = Format.auto) -> None:
    """Show one school and the leaders based there."""
    from s2s_cli.output import render_record, rich_table
    from s2s_cli.services import directory

    with state(ctx).reader() as reader:
        row = directory.school(reader, urn)
    cols = [Column("urn", "URN", "int"), Column("name"), Column("local_authority", "LA"),
            Column("region"), Column("phase"), Column("type"), Column("trust"),
            Column("pupils", kind="int"), Column("ofsted", "Ofsted"), Column("postcode"),
            Column("status"), Column("teaching_school", "teaching school", "bool"),
            Column("teaching_school_hub", "teaching school hub", "bool"),
            Column("national_support_school", "national support school", "bool")]
    if Format(fmt) is Format.json:
        import json
        import sys

        from s2s_cli.output import _json_value

        record = {c.key: _json_value(c, row.get(c.key)) for c in cols}
        record["leaders"] = [{c.key: _json_value(c, ldr.get(c.key)) for c in FIND_COLUMNS}
                             for ldr in row["leaders"]]
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return
    # the school's own name, LA, region and phase would repeat on every row: left out
    here = [c for c in FIND_COLUMNS if c.key in ("id", "name", "kind", "specialisms")]
    extra = [rich_table(row["leaders"], here, title="Leaders based here")]
    render_record(row, cols, fmt, title=f"School {row['urn']}", extra=extra)


@seed_app.command("load")
def seed_load(ctx: typer.Context,
              file: Annotated[Path, typer.Argument(metavar="FILE", help="Directory YAML.")],
              fmt: FormatOpt = Format.auto) -> None:
    """Validate a whole directory file, then load it in one transaction.

    Problems are listed as FILE:LINE: message (exit 2, nothing written). Loading is
    idempotent; leaders missing from the file become inactive; nothing is ever deleted.
    """
    from s2s_cli import seed
    from s2s_cli.output import render

    st = state(ctx)
    data = seed.read_file(file)  # read and size-check before touching the database
    with st.session() as session:  # what the database already holds (LAs, URNs)
        known = seed.known_in_db(session)
    # Parse and validate outside the write transaction: a national file takes seconds to
    # parse, and no other coordinator should wait on the write lock meanwhile.
    directory = seed.validate(data, str(file), known)
    result = st.write(lambda session: seed.load(session, directory))
    for change in result.rate_changes:
        st.note(f"rates: {change}")
    if directory.card is not None and not result.rate_changes:
        st.note("rates: unchanged")
    if not st.quiet:
        render(result.rows(), [Column("entity"), Column("added", kind="int"),
                               Column("updated", kind="int"), Column("unchanged", kind="int"),
                               Column("deactivated", kind="int")], fmt, title=f"Loaded {file}")


def register(app: typer.Typer) -> None:
    app.command("find")(find)
    app.command("specialisms")(specialisms)
    app.add_typer(leader_app, name="leader")
    app.add_typer(school_app, name="school")
    app.add_typer(seed_app, name="seed")
