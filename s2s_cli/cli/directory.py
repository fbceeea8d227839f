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
trust_app = typer.Typer(help="Show an academy trust: its schools and leaders.",
                        no_args_is_help=True)

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
    grade_below: Annotated[list[str] | None, typer.Option(
        "--grade-below", metavar="AREA=GRADE", help="Home school's latest report card grades "
        "AREA (or any) worse than GRADE, e.g. achievement='expected standard'; repeatable.")
    ] = None,
    trust: Annotated[str | None, typer.Option(
        "--trust", metavar="UID|NAME", help="Home school in this academy trust.")] = None,
    near: Annotated[str | None, typer.Option(
        "--near", metavar="URN|NAME", help="Order by straight-line distance from this school "
        "(needs Easting/Northing from GIAS); adds distance_km.")] = None,
    within: Annotated[float | None, typer.Option(
        "--within", metavar="KM", help="With --near: only home schools this close.")] = None,
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
            name=name, limit=limit, include_inactive=include_inactive, grade_below=grade_below,
            trust=trust, near=near, within=within)
        rows = directory.search(reader, filters)
    columns = FIND_COLUMNS + ([Column("distance_km", "km")] if near is not None else [])
    render(rows, columns, fmt, title=f"{len(rows)} leader(s)",
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


SCHOOL_COLUMNS = [
    Column("urn", "URN", "int"), Column("name"), Column("local_authority", "LA"),
    Column("region"), Column("phase"), Column("type"), Column("trust"),
    Column("trust_uid", "trust UID"), Column("pupils", kind="int"),
    Column("ofsted", "Ofsted (before report cards)"), Column("street"), Column("locality"),
    Column("address3", "address 3"), Column("town"), Column("county"), Column("postcode"),
    Column("phone"), Column("website"), Column("easting", kind="int"),
    Column("northing", kind="int"), Column("status"),
    Column("teaching_school", "teaching school", "bool"),
    Column("teaching_school_hub", "teaching school hub", "bool"),
    Column("national_support_school", "national support school", "bool")]


def card_lines(row: dict) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    """The report card (areas, grades, dates) first, then the legacy grades, as (key, label,
    value) for the key/value table and plain output."""
    from s2s_cli import taxonomy

    out: list[tuple[str, str, str]] = []
    card = row.get("report_card")
    if card:
        when = card["start"].isoformat() if card["start"] else "?"
        pub = f", published {card['published'].isoformat()}" if card["published"] else ""
        out.append(("report_card", "report card", f"inspected {when}{pub}" + (
            f" ({card['number']})" if card["number"] else "")))
        for area, g in card["grades"].items():
            date = f" ({g['date'].isoformat()})" if g["date"] else ""
            out.append((f"report_card.{area}",
                        f"  {taxonomy.REPORT_CARD_AREA_NAMES.get(area, area)}",
                        f"{g['grade']}{date}"))
        out.append(("report_card.safeguarding", "  safeguarding",
                    card["safeguarding"] or "not recorded"))
        out.append(("report_card.category_of_concern", "  category of concern",
                    card["category"] or "none"))
    else:
        out.append(("report_card", "report card", "none yet"))
    for insp in row.get("inspections", []):
        if insp["framework"] != "legacy":
            continue
        when = insp["start"].isoformat() if insp["start"] else "undated"
        grades = "; ".join(
            f"{taxonomy.LEGACY_AREA_NAMES.get(a, a).lower()} {g['score']} ({g['grade']})"
            for a, g in insp["grades"].items())
        out.append((f"legacy.{when}", f"legacy grades {when}", grades or "no grades"))
    return out


@school_app.command("show")
def school_show(ctx: typer.Context, urn: Annotated[int, typer.Argument(metavar="URN")],
                fmt: FormatOpt = Format.auto) -> None:
    """Show one school: its report card above its legacy Ofsted grades, and its leaders."""
    from s2s_cli.output import render_record, rich_table
    from s2s_cli.services import directory, ofsted

    with state(ctx).reader() as reader:
        row = directory.school(reader, urn)
    cols = SCHOOL_COLUMNS
    if Format(fmt) is Format.json:
        import json
        import sys

        from s2s_cli.output import _json_value

        record = {c.key: _json_value(c, row.get(c.key)) for c in cols}
        record["trust_type"] = row["trust_type"]
        record["report_card"] = ofsted.card_json(row["report_card"])
        record["inspections"] = [ofsted.card_json(i) for i in row["inspections"]]
        record["leaders"] = [{c.key: _json_value(c, ldr.get(c.key)) for c in FIND_COLUMNS}
                             for ldr in row["leaders"]]
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return
    if Format(fmt) is Format.csv:
        render_record(row, cols, fmt)
        return
    lines = card_lines(row)
    for key, _, value in lines:
        row[key] = value
    cols = cols + [Column(key, label) for key, label, _ in lines]
    # the school's own name, LA, region and phase would repeat on every row: left out
    here = [c for c in FIND_COLUMNS if c.key in ("id", "name", "kind", "specialisms")]
    extra = [rich_table(row["leaders"], here, title="Leaders based here")]
    render_record(row, cols, fmt, title=f"School {row['urn']}", extra=extra)


TRUST_SCHOOL_COLUMNS = [
    Column("urn", "URN", "int"), Column("name"), Column("local_authority", "LA"),
    Column("region", table=False), Column("phase"), Column("status", table=False),
    Column("card", "report card"),
]


def card_summary(card: dict | None) -> str:  # type: ignore[type-arg]
    """One line: the inspection date, then areas below expected, safeguarding, concern."""
    if not card:
        return "none yet"
    low = [f"{a} {g['grade']}" for a, g in card["grades"].items() if g["score"] >= 4]
    parts = [card["start"].isoformat() if card["start"] else "undated"]
    parts += low or ["no area below expected standard"]
    if card["safeguarding"] == "not met":
        parts.append("safeguarding not met")
    if card["category"]:
        parts.append(card["category"])
    return "; ".join(parts)


@trust_app.command("show")
def trust_show(ctx: typer.Context,
               term: Annotated[str, typer.Argument(metavar="UID|NAME")],
               fmt: FormatOpt = Format.auto) -> None:
    """Show a trust: its schools with their report cards, and the leaders based in them."""
    from s2s_cli.output import render_record, rich_table
    from s2s_cli.services import directory, ofsted

    with state(ctx).reader() as reader:
        row = directory.trust(reader, term)
    cols = [Column("uid", "UID"), Column("name"), Column("type"),
            Column("school_count", "schools", "int"),
            Column("leader_count", "leaders", "int")]
    row["school_count"], row["leader_count"] = len(row["schools"]), len(row["leaders"])
    if Format(fmt) is Format.json:
        import json
        import sys

        from s2s_cli.output import _json_value

        record = {c.key: _json_value(c, row.get(c.key)) for c in cols[:3]}
        record["schools"] = [{**{c.key: s.get(c.key) for c in TRUST_SCHOOL_COLUMNS[:-1]},
                              "report_card": ofsted.card_json(s["report_card"])}
                             for s in row["schools"]]
        record["leaders"] = [{c.key: _json_value(c, ldr.get(c.key)) for c in FIND_COLUMNS}
                             for ldr in row["leaders"]]
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return
    for s in row["schools"]:
        s["card"] = card_summary(s["report_card"])
    import sys

    from s2s_cli.output import resolve_format

    if resolve_format(fmt, sys.stdout) in (Format.csv, Format.plain):  # the schools, as rows
        from s2s_cli.output import render

        render(row["schools"], TRUST_SCHOOL_COLUMNS, fmt)
        return
    here = [c for c in FIND_COLUMNS if c.key in ("id", "name", "kind", "specialisms",
                                                 "home_school")]
    extra = [rich_table(row["schools"], TRUST_SCHOOL_COLUMNS, title="Schools"),
             rich_table(row["leaders"], here, title="Leaders based in its schools")]
    render_record(row, cols, fmt, title=f"Trust {row['uid']}", extra=extra)


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
    app.add_typer(trust_app, name="trust")
