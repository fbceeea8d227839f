"""Administration: `s2s db` (upgrade, current, check, backup, restore), `s2s audit`, and the
personal-data commands `s2s leader export-data` / `s2s leader erase`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s2s_cli.cli.common import FormatOpt, state
from s2s_cli.output import Column, Format

db_app = typer.Typer(help="The database: upgrade the schema, check it, back it up, restore it.",
                     no_args_is_help=True)


# --- s2s db init / upgrade / current ------------------------------------------------------


@db_app.command("init")
def db_init(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Argument(
        metavar="[PATH|URL]", help="Where to create it (default: --db, $S2S_DB, else the user "
        "data folder).")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Also load the bundled demo directory (132 invented leaders).")] = False,
    from_file: Annotated[Path | None, typer.Option(
        "--from", metavar="FILE.yaml", help="Load your alliance's own seed file (checked "
        "first: a bad file creates nothing).")] = None,
) -> None:
    """Create a new database: the schema and the reference data every alliance needs
    (England's regions and local authorities, the specialism taxonomy, a default rate card
    and review policy) and no schools or leaders, unless --demo or --from adds them.
    Refuses a database that already exists.

    \b
    Examples:
      s2s db init ~/alliance.db --from richmond.yaml
      s2s db init postgresql+psycopg://s2s@db.example.org/s2s
      s2s db init /tmp/try.db --demo
    """
    from s2s_cli import db, location
    from s2s_cli.errors import InvalidInput

    st = state(ctx)
    if demo and from_file is not None:
        raise InvalidInput("choose one of --demo and --from")
    where = location.resolve(target) if target is not None else st.target
    if target is not None and not target.strip():
        raise InvalidInput("the database path is empty")
    directory = None
    if from_file is not None:
        from s2s_cli import seed

        directory = seed.validate(seed.read_file(from_file), str(from_file),
                                  seed.known_reference())

    def fill(session):  # type: ignore[no-untyped-def]
        from s2s_cli import seed

        return seed.init_new(session, directory, demo=demo)

    result = db.init_new(where, fill, actor=db.actor_name(st.actor), command=st.command)
    what = ("the demo directory" if demo else f"{from_file}" if from_file is not None
            else "reference data only (no schools or leaders yet)")
    detail = f" ({result.summary()})" if (demo or from_file is not None) else ""
    st.note(f"created a new database at {location.describe(where)} with {what}{detail}")
    typer.echo(location.describe(where))



def _revision_index(rev: str) -> int:
    from s2s_cli import location

    return location.SCHEMA_REVISIONS.index(rev)


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    to: Annotated[str | None, typer.Option(
        "--to", metavar="REV", help="Stop at this revision (default: the one this s2s needs).")
    ] = None,
    no_backup: Annotated[bool, typer.Option(
        "--no-backup", help="Do not keep a copy of a SQLite file before changing its schema.")
    ] = False,
) -> None:
    """Bring the database schema up to date (Alembic migrations); a new database is created
    and loaded with the bundled directory.

    \b
    Example:
      s2s --db postgresql+psycopg://s2s@db.example.org/s2s db upgrade
    """
    from s2s_cli import db, location
    from s2s_cli.errors import InvalidInput, Refused

    st = state(ctx)
    revisions = location.SCHEMA_REVISIONS
    target = location.SCHEMA_HEAD if to is None or to.strip().lower() == "head" else to.strip()
    if target not in revisions:
        raise InvalidInput(f"unknown revision '{to}': this s2s knows {', '.join(revisions)}")
    engine = st.engine(check_schema=False, auto_init=False)
    rev, has_tables = db.current_revision(engine)
    if rev is None and has_tables:
        raise Refused(f"{location.describe(st.target)} holds tables but is not an s2s database "
                      "(no schema version); nothing was changed")
    if rev is not None and rev not in revisions:
        raise Refused(f"the database schema ({rev}) is newer than this s2s knows "
                      f"({location.SCHEMA_HEAD}): upgrade s2s")
    if rev is not None and _revision_index(rev) > _revision_index(target):
        raise Refused(f"the database is at {rev}, past {target}: s2s does not downgrade "
                      "(restore a backup instead)")
    if rev == target:
        st.note(f"the database is already at {rev}" + (" (current)" if
                                                      target == location.SCHEMA_HEAD else ""))
    else:
        if rev is not None and not no_backup and location.sqlite_path(st.target) is not None:
            from s2s_cli.services import backup

            path = location.sqlite_path(st.target)
            assert path is not None
            copy = path.with_name(f"{path.name}.before-upgrade-{rev}-{backup._stamp()}.db")
            backup.backup_sqlite(st.target, copy, force=True)
            st.note(f"kept a copy of the database before upgrading: {copy}")
        db.upgrade(engine, target)
        if _revision_index(target) >= _revision_index("0004_tamper"):  # the chained trail
            from s2s_cli import audit

            db.run_write(engine, lambda s: audit.record(
                s, "alembic_version", target, "upgrade", {"revision": rev},
                {"revision": target}), actor=db.actor_name(st.actor), command=st.command)
        st.note(f"upgraded {location.describe(st.target)} from {rev or 'nothing'} to {target}")
    if target == location.SCHEMA_HEAD and not db.has_directory(engine):
        if st.explicit:  # a named database gets the reference data, never the demo
            from s2s_cli import seed

            db.run_write(engine, seed.init_new, actor=db.actor_name(st.actor),
                         command=st.command)
        else:
            db.initialise(engine, st.target, migrate=False)
    typer.echo(target)


@db_app.command("current")
def db_current(ctx: typer.Context, fmt: FormatOpt = Format.auto) -> None:
    """Show the database's schema revision and whether it is the one this s2s needs."""
    from s2s_cli import location
    from s2s_cli.output import render_record

    st = state(ctx)
    path = location.sqlite_path(st.target)
    record = {"database": location.describe(st.target), "revision": None,
              "required": location.SCHEMA_HEAD, "status": ""}
    if path is not None and location.sqlite_missing(path):
        if st.explicit:
            from s2s_cli.errors import InvalidInput

            raise InvalidInput(location.missing_message(st.target))
        record["status"] = "no database yet (created on first use, or run `s2s db init`)"
    else:
        from s2s_cli import db

        engine = st.engine(check_schema=False, auto_init=False)
        rev, has_tables = db.current_revision(engine)
        record["revision"] = rev
        if rev is None:
            record["status"] = ("not an s2s database (tables but no schema version)"
                                if has_tables else "empty (run `s2s db upgrade`)")
        elif rev == location.SCHEMA_HEAD:
            record["status"] = "current"
        elif rev in location.SCHEMA_REVISIONS:
            record["status"] = "older than this s2s: run `s2s db upgrade`"
        else:
            record["status"] = "newer than this s2s: upgrade s2s"
    render_record(record, [Column("database"), Column("revision"), Column("required"),
                           Column("status")], fmt, title="Schema")


# --- s2s db check ------------------------------------------------------------------------


@db_app.command("check")
def db_check(ctx: typer.Context, fmt: FormatOpt = Format.auto) -> None:
    """Check the database: SQLite's integrity and foreign keys, and the rules s2s keeps (no
    day on two live invoices, totals equal their lines, no leader over one day on a date,
    gapless numbering, credit notes matched to what they void), and tamper evidence (the
    audit trail's append-only triggers, its hash chain, every issued document against its
    seal).  Exit 1 listing any findings; the chain's head hash is shown (keep it elsewhere).
    """
    import json
    import sys

    from s2s_cli.errors import S2SError
    from s2s_cli.output import render, resolve_format
    from s2s_cli.services import integrity

    st = state(ctx)
    with st.reader() as reader:
        summary, findings = integrity.run(reader)
    out_fmt = resolve_format(fmt)
    chain = dict(integrity.LAST_CHAIN)
    if out_fmt is Format.json:
        sys.stdout.write(json.dumps({"ok": not findings, "checks": summary,
                                     "findings": findings, "audit_chain": chain},
                                    ensure_ascii=False, indent=2) + "\n")
    elif findings:
        render(findings, [Column("check"), Column("finding")], out_fmt,
               title=f"{len(findings)} finding(s)")
    else:
        typer.echo("ok")
        st.note(f"{sum(s['status'] == 'ok' for s in summary)} checks passed")
        if chain:  # keep the head somewhere else: a changed past changes it
            st.note(f"audit chain: {chain['rows']} row(s), head {chain['head']}")
    if findings:
        failed = [s["check"] for s in summary if s["status"] == "FAILED"]
        raise S2SError(f"{len(findings)} integrity finding(s) in: {', '.join(failed)}")


# --- s2s db backup / restore -------------------------------------------------------------


@db_app.command("backup")
def db_backup(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(
        metavar="[PATH]", help="Where to write the copy (default: beside the database, "
        "named with the date and time).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace PATH if it already "
                                        "exists.")] = False,
    fmt: FormatOpt = Format.auto,
) -> None:
    """Take a consistent copy of the database while others may be writing (SQLite's online
    backup API; pg_dump for PostgreSQL).  The copy is readable by you only (0600).  An
    existing PATH is replaced only with --force."""
    import json
    import sys

    from s2s_cli.output import resolve_format
    from s2s_cli.services import backup

    st = state(ctx)
    result = backup.backup(st.target, path, force=force)
    if resolve_format(fmt) is Format.json:
        sys.stdout.write(json.dumps({"path": str(result.path), "bytes": result.size,
                                     "tool": result.tool}) + "\n")
    else:
        typer.echo(str(result.path))
        st.note(f"backed up {result.size:,} bytes with {result.tool}")


@db_app.command("restore")
def db_restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A backup made by `s2s db "
                                         "backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a database that already "
                                        "holds data (a copy of it is kept first).")] = False,
) -> None:
    """Restore a SQLite backup (checked first: an s2s database in good order).  Refuses to
    replace an existing database without --force."""
    from s2s_cli import location
    from s2s_cli.services import backup

    st = state(ctx)
    result = backup.restore(st.target, path, force=force)
    typer.echo(str(result.path))
    if result.safety_copy:
        st.note(f"the database it replaced is kept at {result.safety_copy}")
    if result.revision != location.SCHEMA_HEAD:
        st.note(f"the backup has schema {result.revision}: run `s2s db upgrade` before use")
    st.note(f"restored {path} into {result.path}")


# --- s2s audit ---------------------------------------------------------------------------

AUDIT_COLUMNS = [
    Column("id", kind="int", table=False), Column("at", "at (UTC)"), Column("actor"),
    Column("command"), Column("table_name", "table"), Column("record_id", "record"),
    Column("action"), Column("before"), Column("after"),
]


def audit(
    ctx: typer.Context,
    record: Annotated[str | None, typer.Option(
        "--record", metavar="ID", help="Only rows about this record (leader id, request, "
        "deployment, invoice id...).")] = None,
    table: Annotated[str | None, typer.Option(
        "--table", metavar="TABLE", help="Only rows about this table (leader, day_log, "
        "invoice...).")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DATE", help="Only changes on or after this date (UTC).")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", metavar="N", help="Show the newest N matching changes (default 200).")
    ] = None,
    fmt: FormatOpt = Format.auto,
) -> None:
    """The audit trail: every change, when, by whom (`--as NAME` or the OS user), by which
    command, with before/after values.  Personal data of erased leaders is masked.

    \b
    Example:
      s2s audit --record L0042 --since 2026-09-01
    """
    import json

    from s2s_cli.output import render, resolve_format
    from s2s_cli.services import auditlog

    st = state(ctx)
    query = auditlog.build_query(record=record, table=table, since=since, limit=limit)
    with st.reader() as reader:
        rows, total = auditlog.listing(reader, query)
    out_fmt = resolve_format(fmt)
    if out_fmt is Format.json:
        for row in rows:
            for key in ("before", "after"):
                if row[key] is not None:
                    row[key] = json.loads(row[key])
    render(rows, AUDIT_COLUMNS, out_fmt, title=f"Audit trail ({len(rows)} of {total})",
           empty="No changes match.")
    if total > len(rows):
        st.note(f"showing the newest {len(rows)} of {total} matching changes; use --limit")


# --- s2s leader export-data / erase ------------------------------------------------------


def leader_export_data(
    ctx: typer.Context,
    leader_id: Annotated[str, typer.Argument(metavar="ID_OR_NAME")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE", help="Write the JSON here (readable by you only) "
        "instead of to standard output.")] = None,
    fmt: FormatOpt = Format.json,
) -> None:
    """Everything held about a leader, as JSON (a subject access request)."""
    import json
    import sys

    from s2s_cli.errors import InvalidInput
    from s2s_cli.output import atomic_output
    from s2s_cli.services import privacy

    st = state(ctx)
    if Format(fmt) not in (Format.json, Format.auto):
        raise InvalidInput("export-data writes JSON only (--format json)")
    if out is not None and str(out) != "-":
        from s2s_cli import safefile

        safefile.check_target(out, what="--out")
    from s2s_cli.services import lookup

    with st.reader() as reader:
        data = privacy.export_data(reader, lookup.leader(reader, leader_id, "ID"))
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return
    with atomic_output(out) as handle:
        handle.write(text)
    st.note(f"wrote everything held about {data['leader']['id']} to {out}")


def leader_erase(
    ctx: typer.Context,
    leader_id: Annotated[str, typer.Argument(metavar="ID_OR_NAME")],
    confirm: Annotated[bool, typer.Option(
        "--confirm", help="Required: erasure cannot be undone.")] = False,
) -> None:
    """Erase a leader's personal data (name, email, phone, notes) for good, also from the
    audit trail's earlier rows.  Deployments, days and invoices stay, with a placeholder name;
    the erasure is recorded in the audit."""
    from s2s_cli.errors import InvalidInput
    from s2s_cli.services import lookup, privacy

    st = state(ctx)
    lid = privacy.normalise_id(lookup.leader(st.reader, leader_id, "ID"))
    if not confirm:
        raise InvalidInput(f"erasing {lid} cannot be undone: add --confirm "
                           f"(export their data first with `s2s leader export-data {lid}`)")
    result = st.write(lambda session: privacy.erase(session, lid))
    typer.echo(result.leader_id)
    if result.already:
        st.note(f"{result.leader_id} was already erased; nothing changed")
    else:
        st.note(f"erased {result.leader_id}: now shown as '{result.placeholder}'; "
                f"{result.audit_rows_redacted} audit row(s) redacted; deployments, days and "
                "invoices are kept")
        if not privacy.checkpoint_wal(st.engine()):
            st.note("other readers kept the -wal file from being checkpointed; the next "
                    "checkpoint clears the old values from it")


def register(app: typer.Typer) -> None:
    from s2s_cli.cli.directory import leader_app

    app.add_typer(db_app, name="db")
    app.command("audit")(audit)
    leader_app.command("export-data")(leader_export_data)
    leader_app.command("erase")(leader_erase)
