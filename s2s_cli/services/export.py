"""`s2s export`: every table as CSV plus one JSON document, for hand-over or backup.

Tables come from the schema in `models.py`, as `schema.py` lists it (columns in their declared
order, rows in primary key order) and are streamed from the database.  Values are normalised
whichever driver served them: booleans as true/false, dates and timestamps as ISO 8601, money
as integer pence, day quantities as integer halves (the raw database values: `agreed_halves`,
`halves`); timestamps are UTC (`2026-09-01T09:30:00+00:00`).

Erased leaders' personal fields already hold placeholders in the database, and `leader erase`
redacts them in earlier audit rows too; as a second line of defence audit rows pass through
`auditlog.Masker` on the way out (as `s2s audit` does): an erased leader's name becomes the
placeholder and their email, phone and notes null."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from s2s_cli.fastdb import Reader
from s2s_cli.services.auditlog import Masker

JSON_NAME = "s2s-export.json"


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]  # int | bool | date | datetime | text
    order: tuple[str, ...]


def tables() -> list[TableSpec]:
    """Every table of the schema, parents before children (`s2s_cli.schema`, which a test
    keeps equal to `models.py`: no SQLModel import)."""
    from s2s_cli import schema

    out = []
    for name, cols in schema.TABLES.items():
        order = schema.PRIMARY_KEYS[name] or (cols[0][0],)
        out.append(TableSpec(name, tuple(c[0] for c in cols), tuple(c[1] for c in cols),
                             order))
    return out


def _iso_datetime(value: Any) -> str:
    """A stored timestamp (UTC) as ISO 8601 with +00:00, whichever driver served it."""
    value = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.isoformat()


def _iso_date(value: Any) -> str:
    return value[:10] if isinstance(value, str) else value.isoformat()


def rows(reader: Reader, spec: TableSpec, masker: Masker) -> Iterator[tuple[Any, ...]]:
    """The table's rows in primary key order, streamed, as tuples in `spec.columns` order of
    export values: None, booleans, integers and text, with dates and timestamps already ISO
    8601 text (timestamps in UTC with +00:00).  Audit rows pass through the masker."""
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    order = ", ".join(f'"{c}"' for c in spec.order)
    fixes = [(i, bool if k == "bool" else _iso_datetime if k == "datetime" else _iso_date)
             for i, k in enumerate(spec.kinds) if k in ("bool", "datetime", "date")]
    stamps: dict[Any, str] = {}  # timestamps repeat (a block of days logged at once)
    sql = f'SELECT {cols} FROM "{spec.name}" ORDER BY {order}'
    audit = spec.name == "audit_log"
    for raw in reader.stream(sql):
        if fixes:
            row = list(raw)
            for i, fix in fixes:
                v = row[i]
                if v is None:
                    continue
                if fix is _iso_datetime:
                    done = stamps.get(v)
                    if done is None:
                        if len(stamps) > 4096:
                            stamps.clear()
                        done = stamps[v] = fix(v)
                    row[i] = done
                else:
                    row[i] = fix(v)
            raw = tuple(row)
        if audit:
            masked = masker.mask(dict(zip(spec.columns, raw, strict=True)))
            raw = tuple(masked[c] for c in spec.columns)
        yield raw


BATCH = 2000


def converters(spec: TableSpec) -> list[tuple[int, Any]]:
    """(column index, function) turning a driver's value of that column into its export value
    (booleans, ISO dates and UTC timestamps); None values are left alone."""
    return [(i, bool if k == "bool" else _iso_datetime if k == "datetime" else _iso_date)
            for i, k in enumerate(spec.kinds) if k in ("bool", "datetime", "date")]


def raw_batches(reader: Reader, spec: TableSpec) -> Iterator[list[tuple[Any, ...]]] | None:
    """The table's rows in primary key order as the driver gives them (`converters` not yet
    applied), in batches of `BATCH`, for `output.write_raw_batches`; None where that path
    does not apply (PostgreSQL's typed values, and the audit trail, which the masker reads
    row by row): use `rows` then."""
    if reader.dialect != "sqlite" or spec.name == "audit_log":
        return None
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    order = ", ".join(f'"{c}"' for c in spec.order)
    cursor = reader.cursor(f'SELECT {cols} FROM "{spec.name}" ORDER BY {order}')

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        while True:
            batch = cursor.fetchmany(BATCH)
            if not batch:
                return
            yield batch

    return batches()


def schema_revision(reader: Reader) -> str | None:
    row = reader.one("SELECT version_num FROM alembic_version")
    return str(row[0]) if row else None


def load_masker(reader: Reader) -> Masker:
    return Masker.load(reader)
