"""Directory commands: find, specialisms; leader show/add/edit/activate/deactivate; school
show/list/add/edit; seed load/dump."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s2s_cli.cli.common import FormatOpt, complete_leader, complete_school, state
from s2s_cli.output import Column, Format

leader_app = typer.Typer(help="Show, add, edit, activate or deactivate a leader; export or "
                         "erase their personal data.", no_args_is_help=True)
school_app = typer.Typer(help="List, show, add and edit schools.", no_args_is_help=True)
seed_app = typer.Typer(help="Load a directory YAML file, or dump the directory as one.",
                       no_args_is_help=True)
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
    Column("capacity_days", "capacity (days/year)", "int"), Column("notes"),
]


SCHOOL_DETAIL = [
    Column("urn", "URN", "int"), Column("name"), Column("local_authority", "LA"),
    Column("region"), Column("phase"), Column("type"), Column("trust"),
    Column("trust_uid", "trust UID"), Column("trust_type", "trust type", table=False),
    Column("pupils", kind="int"), Column("ofsted", "Ofsted (before report cards)"),
    Column("postcode"), Column("easting", kind="int"), Column("northing", kind="int"),
    Column("status"), Column("teaching_school", "teaching school", "bool"),
    Column("teaching_school_hub", "teaching school hub", "bool"),
    Column("national_support_school", "national support school", "bool"),
    Column("street"), Column("locality"), Column("address3", "address 3"), Column("town"),
    Column("county"), Column("phone"), Column("website"), Column("headteacher"),
    Column("finance_contact", "finance contact"), Column("finance_email", "finance email"),
    Column("po_required", "PO required", "bool"),
]
SCHOOL_LIST_COLUMNS = [
    Column("urn", "URN", "int"), Column("name"), Column("local_authority", "LA"),
    Column("region"), Column("phase"), Column("type"), Column("trust", table=False),
    Column("pupils", kind="int"), Column("town", table=False),
    Column("postcode", table=False), Column("status", table=False),
    Column("po_required", "PO", "bool", table=False),
    Column("active_leaders", "leaders", "int"),
]


@leader_app.command("show")
def leader_show(ctx: typer.Context, leader_id: Annotated[str, typer.Argument(
                    metavar="ID_OR_NAME", help="A leader id or part of their name.",
                    autocompletion=complete_leader)],
                fmt: FormatOpt = Format.auto) -> None:
    """Show one leader."""
    from s2s_cli.output import render_record
    from s2s_cli.services import directory, lookup

    with state(ctx).reader() as reader:
        row = directory.leader(reader, lookup.leader(reader, leader_id, "ID"))
    render_record(row, LEADER_COLUMNS, fmt, title=f"Leader {row['id']}")




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
def school_show(ctx: typer.Context, urn: Annotated[str, typer.Argument(
                    metavar="URN_OR_NAME", help="A URN or part of the school's name.",
                    autocompletion=complete_school)],
                fmt: FormatOpt = Format.auto) -> None:
    """Show one school: its report card above its legacy Ofsted grades, and its leaders."""
    from s2s_cli.output import render_record, rich_table
    from s2s_cli.services import directory, lookup, ofsted

    with state(ctx).reader() as reader:
        row = directory.school(reader, lookup.school(reader, urn, "URN"))
    cols = SCHOOL_DETAIL
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
              deactivate_missing: Annotated[bool, typer.Option(
                  "--deactivate-missing", help="Make active leaders the file does not list "
                  "inactive (by default they are kept, and counted).")] = False,
              fmt: FormatOpt = Format.auto) -> None:
    """Validate a whole directory file, then load it in one transaction.

    Problems are listed as FILE:LINE: message (exit 2, nothing written). Loading is
    idempotent and never deletes anything; active leaders missing from the file are kept
    (and listed) unless --deactivate-missing; an erased leader is never restored.
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
    result = st.write(lambda session: seed.load(session, directory,
                                                deactivate_missing=deactivate_missing))
    if result.kept:
        shown = ", ".join(result.kept[:10]) + (" ..." if len(result.kept) > 10 else "")
        st.note(f"{len(result.kept)} leader(s) not in the file, kept ({shown}); "
                "--deactivate-missing makes them inactive")
    for change in result.rate_changes:
        st.note(f"rates: {change}")
    if directory.card is not None and not result.rate_changes:
        st.note("rates: unchanged")
    if not st.quiet:
        render(result.rows(), [Column("entity"), Column("added", kind="int"),
                               Column("updated", kind="int"), Column("unchanged", kind="int"),
                               Column("deactivated", kind="int")], fmt, title=f"Loaded {file}")


# --- keeping the directory: leaders ----------------------------------------------------------

LeaderRef = Annotated[str, typer.Argument(metavar="ID_OR_NAME",
                                          help="A leader id or part of their name.")]
NameOpt = Annotated[str | None, typer.Option(help="Full name.")]
KindOpt = Annotated[str | None, typer.Option(metavar="KIND", help="SLE, LLE, NLE or NLG.")]
SpecOpt = Annotated[list[str] | None, typer.Option(
    "--specialism", "-s", metavar="TERM", help="Specialism or short form (maths, SEND...); "
    "repeat for several.")]
DesignationOpt = Annotated[list[str] | None, typer.Option(
    "--designation", metavar="NAME", help="pupil premium reviewer, external reviewer of "
    "governance, interim executive board chair or ofsted inspector; repeat for several.")]
HomeOpt = Annotated[str | None, typer.Option(
    "--home-school", metavar="URN_OR_NAME", help="The school employing them (URN or name).")]
DesignatedOpt = Annotated[str | None, typer.Option(
    "--designated-by", metavar="URN_OR_NAME", help="The teaching school or hub that "
    "designated them.")]
CapacityOpt = Annotated[int | None, typer.Option(
    "--capacity-days", metavar="N", help="Days a year their home school releases them.")]
EmailOpt = Annotated[str | None, typer.Option(metavar="ADDRESS")]
PhoneOpt = Annotated[str | None, typer.Option(metavar="NUMBER")]
NotesOpt = Annotated[str | None, typer.Option(metavar="TEXT", help="Free text.")]


def _text_opt(value: str | None, what: str) -> object:
    """A typed option: UNSET when not given, None when given empty (clear it)."""
    from s2s_cli.parsing import clean_text
    from s2s_cli.services.directory_edit import UNSET

    if value is None:
        return UNSET
    return clean_text(value, what=what)


def _leader_change(st, *, name, kind, specialism, designation, home_school,  # type: ignore[no-untyped-def]
                   designated_by, capacity_days, email, phone, notes,
                   add_specialism=None, remove_specialism=None):
    from s2s_cli.services import lookup
    from s2s_cli.services.directory_edit import UNSET, LeaderChange

    values: dict[str, object] = {
        "name": _text_opt(name, "--name"), "kind": _text_opt(kind, "--kind"),
        "email": _text_opt(email, "--email"), "phone": _text_opt(phone, "--phone"),
        "notes": _text_opt(notes, "--notes"),
        "capacity_days": UNSET if capacity_days is None else capacity_days,
    }
    for key, value, what in (("home_school", home_school, "--home-school"),
                             ("designated_by", designated_by, "--designated-by")):
        text = _text_opt(value, what)
        values[key] = text if text is UNSET or text is None else lookup.school(
            st.reader, str(text), what)
    if designation is not None:
        values["designations"] = [d for d in (_text_opt(x, "--designation")
                                              for x in designation) if isinstance(d, str)]
    else:
        values["designations"] = UNSET

    def terms(items, what):  # type: ignore[no-untyped-def]
        return [t for t in (_text_opt(x, what) for x in items or []) if isinstance(t, str)]

    return LeaderChange(
        values=values,
        specialisms=None if specialism is None else terms(specialism, "--specialism"),
        add_specialisms=terms(add_specialism, "--add-specialism"),
        remove_specialisms=terms(remove_specialism, "--remove-specialism"))


@leader_app.command("add")
def leader_add(
    ctx: typer.Context,
    name: NameOpt = None,
    kind: KindOpt = None,
    specialism: SpecOpt = None,
    designation: DesignationOpt = None,
    home_school: HomeOpt = None,
    designated_by: DesignatedOpt = None,
    capacity_days: CapacityOpt = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    notes: NotesOpt = None,
    leader_id: Annotated[str | None, typer.Option(
        "--id", metavar="ID", help="The new id (L0042); default the next free one.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Add a system leader (checked as `seed load` checks a file entry); prints the new id.

    \b
    Example:
      s2s leader add --name "Ann Lee" --kind SLE --home-school "Brookfield" -s phonics \\
        --capacity-days 10 --email ann.lee@example.org
    """
    from s2s_cli.output import emit_id
    from s2s_cli.services import directory_edit

    st = state(ctx)
    change = _leader_change(st, name=name, kind=kind, specialism=specialism,
                            designation=designation, home_school=home_school,
                            designated_by=designated_by, capacity_days=capacity_days,
                            email=email, phone=phone, notes=notes)
    lid = None if leader_id is None else (_text_opt(leader_id, "--id") or "")
    new_id = st.write(lambda session: directory_edit.add_leader(session, change, lid))
    emit_id(new_id, fmt)
    st.note(f"added leader {new_id}")


@leader_app.command("edit")
def leader_edit(
    ctx: typer.Context,
    leader_id: LeaderRef,
    name: NameOpt = None,
    kind: KindOpt = None,
    specialism: Annotated[list[str] | None, typer.Option(
        "--specialism", "-s", metavar="TERM", help="Replace their specialisms with these; "
        "repeat for several.")] = None,
    add_specialism: Annotated[list[str] | None, typer.Option(
        "--add-specialism", metavar="TERM", help="Add a specialism; repeat for several.")
                              ] = None,
    remove_specialism: Annotated[list[str] | None, typer.Option(
        "--remove-specialism", metavar="TERM", help="Remove a specialism; repeat for "
        "several.")] = None,
    designation: Annotated[list[str] | None, typer.Option(
        "--designation", metavar="NAME", help="Replace their designations with these "
        "(--designation '' clears them).")] = None,
    home_school: HomeOpt = None,
    designated_by: DesignatedOpt = None,
    capacity_days: CapacityOpt = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    notes: NotesOpt = None,
) -> None:
    """Change any of a leader's details; an empty value ('') clears an optional one.

    \b
    Example:
      s2s leader edit L0042 --capacity-days 15 --add-specialism maths --phone ''
    """
    from s2s_cli.services import directory_edit, lookup

    st = state(ctx)
    lid = lookup.leader(st.reader, leader_id, "ID")
    change = _leader_change(st, name=name, kind=kind, specialism=specialism,
                            designation=designation, home_school=home_school,
                            designated_by=designated_by, capacity_days=capacity_days,
                            email=email, phone=phone, notes=notes,
                            add_specialism=add_specialism, remove_specialism=remove_specialism)
    changed = st.write(lambda session: directory_edit.edit_leader(session, lid, change))
    st.note(f"{lid}: changed {', '.join(changed)}" if changed else f"{lid}: nothing to change")


def _set_active(ctx: typer.Context, leader_id: str, active: bool) -> None:
    from s2s_cli.services import directory_edit, lookup

    st = state(ctx)
    lid = lookup.leader(st.reader, leader_id, "ID")
    done = st.write(lambda session: directory_edit.set_active(session, lid, active))
    word = "active" if active else "inactive"
    st.note(f"{lid} is now {word}" if done else f"{lid} was already {word}; nothing changed")


@leader_app.command("deactivate")
def leader_deactivate(ctx: typer.Context, leader_id: LeaderRef) -> None:
    """Make a leader inactive: kept with their history, offered for nothing new."""
    _set_active(ctx, leader_id, False)


@leader_app.command("activate")
def leader_activate(ctx: typer.Context, leader_id: LeaderRef) -> None:
    """Make an inactive leader active again (never an erased one)."""
    _set_active(ctx, leader_id, True)


# --- keeping the directory: schools -----------------------------------------------------------

SchoolNameOpt = Annotated[str | None, typer.Option(help="The school's name.")]
LaOpt = Annotated[str | None, typer.Option("--la", metavar="NAME",
                                           help="Local authority (name or a part of it).")]
PhaseOpt = Annotated[str | None, typer.Option(metavar="PHASE", help="nursery, primary, middle, "
                                              "secondary, all-through, special, alternative "
                                              "provision or 16 plus.")]
TypeOpt = Annotated[str | None, typer.Option("--type", metavar="TYPE", help="academy, free "
                                             "school, community school, ...")]
TrustOpt = Annotated[str | None, typer.Option(metavar="NAME", help="Multi-academy trust.")]
PupilsOpt = Annotated[int | None, typer.Option(metavar="N", help="Number of pupils.")]
LineOpt = Annotated[str | None, typer.Option(metavar="TEXT")]
PoOpt = Annotated[bool | None, typer.Option(
    "--po-required/--no-po-required", help="The finance office wants a purchase order "
    "number on every invoice.")]


def _school_values(**opts: object) -> dict[str, object]:
    from s2s_cli.services.directory_edit import UNSET

    values: dict[str, object] = {}
    for key, value in opts.items():
        if key in ("pupils", "po_required"):
            values[key] = UNSET if value is None else value
        else:
            values[key] = _text_opt(value, "--" + key.replace("_", "-"))  # type: ignore[arg-type]
    return values


def _resolve_la(st, values: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    from s2s_cli.services import lookup

    la = values.get("la")
    if isinstance(la, str):
        with st.reader() as reader:
            values["la"] = lookup.la_name(reader, la)


@school_app.command("add")
def school_add(
    ctx: typer.Context,
    urn: Annotated[int | None, typer.Option(metavar="URN", help="The school's URN (GIAS).")
                   ] = None,
    name: SchoolNameOpt = None, la: LaOpt = None, phase: PhaseOpt = None,
    school_type: TypeOpt = None, trust: TrustOpt = None, pupils: PupilsOpt = None,
    street: LineOpt = None, locality: LineOpt = None, address3: LineOpt = None,
    town: LineOpt = None, county: LineOpt = None, postcode: LineOpt = None,
    phone: LineOpt = None, website: LineOpt = None,
    headteacher: Annotated[str | None, typer.Option(metavar="NAME")] = None,
    finance_contact: Annotated[str | None, typer.Option(
        metavar="NAME", help="Who in the finance office receives invoices.")] = None,
    finance_email: Annotated[str | None, typer.Option(metavar="ADDRESS")] = None,
    po_required: PoOpt = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Add a school (checked as `seed load` checks a file entry); prints its URN.

    \b
    Example:
      s2s school add --urn 102345 --name "Marsh Lane Primary" --la Camden --phase primary \\
        --finance-email finance@marshlane.example.org --po-required
    """
    from s2s_cli.output import emit_id
    from s2s_cli.services import directory_edit
    from s2s_cli.services.directory_edit import UNSET

    st = state(ctx)
    values = _school_values(
        name=name, la=la, phase=phase, type=school_type, trust=trust, pupils=pupils,
        street=street, locality=locality, address3=address3, town=town, county=county,
        postcode=postcode, phone=phone, website=website, headteacher=headteacher,
        finance_contact=finance_contact, finance_email=finance_email, po_required=po_required)
    values["urn"] = UNSET if urn is None else urn
    _resolve_la(st, values)
    new = st.write(lambda session: directory_edit.add_school(session, values))
    emit_id(new, fmt)
    st.note(f"added school {new}")


@school_app.command("edit")
def school_edit(
    ctx: typer.Context,
    urn: Annotated[str, typer.Argument(metavar="URN_OR_NAME",
                                       help="A URN or part of the school's name.")],
    name: SchoolNameOpt = None, la: LaOpt = None, phase: PhaseOpt = None,
    school_type: TypeOpt = None, trust: TrustOpt = None, pupils: PupilsOpt = None,
    street: LineOpt = None, locality: LineOpt = None, address3: LineOpt = None,
    town: LineOpt = None, county: LineOpt = None, postcode: LineOpt = None,
    phone: LineOpt = None, website: LineOpt = None,
    headteacher: Annotated[str | None, typer.Option(metavar="NAME")] = None,
    finance_contact: Annotated[str | None, typer.Option(metavar="NAME")] = None,
    finance_email: Annotated[str | None, typer.Option(metavar="ADDRESS")] = None,
    po_required: PoOpt = None,
) -> None:
    """Change any of a school's details; an empty value ('') clears an optional one.

    \b
    Example:
      s2s school edit "Marsh Lane" --headteacher "Sam Obi" --finance-contact "Jo Price"
    """
    from s2s_cli.services import directory_edit, lookup

    st = state(ctx)
    school_urn = lookup.school(st.reader, urn, "URN")
    values = _school_values(
        name=name, la=la, phase=phase, type=school_type, trust=trust, pupils=pupils,
        street=street, locality=locality, address3=address3, town=town, county=county,
        postcode=postcode, phone=phone, website=website, headteacher=headteacher,
        finance_contact=finance_contact, finance_email=finance_email, po_required=po_required)
    _resolve_la(st, values)
    changed = st.write(lambda session: directory_edit.edit_school(session, school_urn, values))
    st.note(f"school {school_urn}: changed {', '.join(changed)}" if changed
            else f"school {school_urn}: nothing to change")


@school_app.command("list")
def school_list(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Part of the school's name.")] = None,
    la: LaOpt = None,
    region: Annotated[str | None, typer.Option(help="Region.")] = None,
    phase: PhaseOpt = None,
    school_type: TypeOpt = None,
    grade_below: Annotated[list[str] | None, typer.Option(
        "--grade-below", metavar="AREA=GRADE", help="The school's latest report card grades "
        "AREA (or any) worse than GRADE, e.g. achievement='expected standard'; repeatable.")
    ] = None,
    trust: Annotated[str | None, typer.Option(
        "--trust", metavar="UID|NAME", help="Schools in this academy trust.")] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """List schools by name, with the active leaders based at each.

    \b
    Examples:
      s2s school list --la richmond --phase primary --format csv
      s2s school list --trust "Tamar Learning Trust" --grade-below any='expected standard'
    """
    from s2s_cli.output import render
    from s2s_cli.services import directory

    with state(ctx).reader() as reader:
        rows = directory.list_schools(reader, name=name, la=la, region=region, phase=phase,
                                      school_type=school_type, grade_below=grade_below,
                                      trust=trust)
    render(rows, SCHOOL_LIST_COLUMNS, fmt, title=f"{len(rows)} school(s)",
           empty="No schools match.")


@seed_app.command("dump")
def seed_dump(ctx: typer.Context,
              out: Annotated[Path | None, typer.Option(
                  "--out", "-o", metavar="FILE", help="Write the YAML here (readable by you "
                  "only) instead of to standard output.")] = None) -> None:
    """Write the directory as a seed file: the local authorities its schools are in, schools,
    leaders (not erased ones), the rate card and the review policy.  `seed load` reads it back
    to the same directory.

    \b
    Example:
      s2s seed dump --out my_directory.yaml
    """
    import sys

    from s2s_cli import seed

    st = state(ctx)
    if out is not None and str(out) != "-":
        from s2s_cli import safefile

        safefile.check_target(out, what="--out")  # no link, device, FIFO or folder
    with st.session() as session:
        doc = seed.dump_directory(session)
    text = seed.to_yaml(doc)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return
    from s2s_cli.output import atomic_output

    with atomic_output(out) as handle:
        handle.write(text)
    st.note(f"wrote {len(doc['schools'])} schools and {len(doc['leaders'])} leaders to {out}")


def register(app: typer.Typer) -> None:
    app.command("find")(find)
    app.command("specialisms")(specialisms)
    app.add_typer(leader_app, name="leader")
    app.add_typer(school_app, name="school")
    app.add_typer(seed_app, name="seed")
    app.add_typer(trust_app, name="trust")
