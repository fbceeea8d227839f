"""`s2s export`: every table as CSV plus one JSON document, for hand-over or backup.

Tables come from the schema in `models.py` (columns in their declared order, rows in primary
key order) and are streamed from the database.  Values are normalised whichever driver served
them: booleans as true/false, dates and timestamps as ISO 8601, money as integer pence, day
quantities as integer halves (the raw database values: `agreed_halves`, `halves`); timestamps
are UTC (`2026-09-01T09:30:00+00:00`).

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
    """Every table of the schema, parents before children."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, TypeDecorator
    from sqlmodel import SQLModel

    import s2s_cli.models  # noqa: F401  (registers the tables)

    out = []
    for table in SQLModel.metadata.sorted_tables:
        kinds = []
        for col in table.columns:
            t = col.type.impl if isinstance(col.type, TypeDecorator) else col.type
            kinds.append("bool" if isinstance(t, Boolean) else
                         "datetime" if isinstance(t, DateTime) else
                         "date" if isinstance(t, Date) else
                         "int" if isinstance(t, Integer) else "text")
        order = tuple(c.name for c in table.primary_key.columns) or (table.columns[0].name,)
        out.append(TableSpec(table.name, tuple(c.name for c in table.columns), tuple(kinds),
                             order))
    return out


def _norm(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind == "datetime":  # stored in UTC; shown as ISO 8601 with +00:00 on every backend
        value = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None
                else value.astimezone(dt.UTC))
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def rows(reader: Reader, spec: TableSpec, masker: Masker) -> Iterator[dict[str, Any]]:
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    order = ", ".join(f'"{c}"' for c in spec.order)
    audit = spec.name == "audit_log"
    for raw in reader.stream(f'SELECT {cols} FROM "{spec.name}" ORDER BY {order}'):
        row = {c: _norm(k, v) for c, k, v in zip(spec.columns, spec.kinds, raw, strict=True)}
        yield masker.mask(row) if audit else row


def json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def schema_revision(reader: Reader) -> str | None:
    row = reader.one("SELECT version_num FROM alembic_version")
    return str(row[0]) if row else None


def load_masker(reader: Reader) -> Masker:
    return Masker.load(reader)
