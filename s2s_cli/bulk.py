"""Bulk writes for the big batches (issuing a national month writes hundreds of thousands of
rows): one driver-level executemany of plain tuples on SQLite, each value converted by its
column's own bind processor (so what is stored is exactly what a Core insert stores), instead
of Core's per-row parameter processing.  Other backends take the Core executemany."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import insert

CHUNK = 5000


def _tuples(conn: Any, table: Any, cols: Sequence[str],
            rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    dialect = conn.dialect
    procs = [(n, p) for n, k in enumerate(cols)
             if (p := table.c[k].type._cached_bind_processor(dialect)) is not None]
    get = itemgetter(*cols) if len(cols) > 1 else (lambda r: (r[cols[0]],))
    if not procs:
        return [get(r) for r in rows]
    # a batch repeats its values (one time stamp, one issue date): convert each once
    seen: list[tuple[Any, Any]] = [(object(), None)] * len(cols)
    out = []
    for r in rows:
        values = list(get(r))
        for n, p in procs:
            v = values[n]
            last = seen[n]
            if v is last[0]:
                values[n] = last[1]
            else:
                values[n] = converted = p(v)
                seen[n] = (v, converted)
        out.append(tuple(values))
    return out


def insert_many(conn: Any, table: Any, rows: Sequence[dict[str, Any]], *,
                ids: bool = False) -> list[int]:
    """Insert `rows` (dicts with the same keys) into `table`; with `ids`, their new ids in the
    order given.  Call inside the write transaction (SQLite: BEGIN IMMEDIATE holds the write
    lock, so the next ids are max(id) + 1, ... exactly as SQLite would draw them)."""
    if not rows:
        return []
    if conn.dialect.name != "sqlite":
        out: list[int] = []
        stmt = insert(table)
        if ids:
            stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)
        for i in range(0, len(rows), CHUNK):
            result = conn.execute(stmt, list(rows[i:i + CHUNK]))
            if ids:
                out += [int(r[0]) for r in result]
        return out
    cols = list(rows[0])
    new_ids: list[int] = []
    if ids:
        if "id" in cols:
            raise ValueError("rows given their own ids")
        start = conn.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0
        new_ids = list(range(int(start) + 1, int(start) + 1 + len(rows)))
        values = [(i, *t) for i, t in zip(new_ids, _tuples(conn, table, cols, rows),
                                          strict=True)]
        cols = ["id", *cols]
    else:
        values = _tuples(conn, table, cols, rows)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
                         f"({', '.join('?' for _ in cols)})", values)
    return new_ids
