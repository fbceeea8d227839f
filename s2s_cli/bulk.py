"""Bulk writes for the big batches (issuing a national month writes hundreds of thousands of
rows): plain tuples, each value converted by its column's own bind processor (so what is
stored is exactly what a Core insert stores), instead of Core's per-row parameter processing;
written with one driver-level executemany on SQLite and one `COPY ... FROM STDIN` on
PostgreSQL (psycopg), in the caller's transaction.  Other backends take the Core
executemany.  `new_ids` draws ids before the rows are written (so a batch can refer to, and
hash, its rows' ids first): on SQLite as SQLite would draw them (under the write lock), on
PostgreSQL from the column's own sequence."""

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


def new_ids(conn: Any, table: Any, n: int) -> list[int]:
    """`n` ids for rows about to be inserted into `table` (with `insert_many`, ids given), in
    increasing order.  SQLite: max(id) + 1, ..., as SQLite draws them, so nothing else may
    insert into `table` before these rows are written (BEGIN IMMEDIATE holds the write lock);
    PostgreSQL: drawn from the id column's sequence (never reused, whoever inserts next)."""
    if n <= 0:
        return []
    if conn.dialect.name == "sqlite":
        start = int(conn.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0)
        return list(range(start + 1, start + 1 + n))
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                        "FROM generate_series(1, %s)", (table.name, n))
            return sorted(int(r[0]) for r in cur.fetchall())
    raise NotImplementedError(f"new_ids on {conn.dialect.name}")  # pragma: no cover


def _copy(conn: Any, table: Any, cols: Sequence[str], values: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL: write `values` with one COPY (psycopg adapts each value by its type, as
    it does a parameter); in the current transaction, triggers and constraints as for INSERT."""
    with conn.connection.driver_connection.cursor() as cur, cur.copy(
            f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
        write = copy.write_row
        for row in values:
            write(row)


def insert_many(conn: Any, table: Any, rows: Sequence[dict[str, Any]], *,
                ids: bool = False) -> list[int]:
    """Insert `rows` (dicts with the same keys) into `table`; with `ids`, their new ids in the
    order given.  Call inside the write transaction (SQLite: BEGIN IMMEDIATE holds the write
    lock, so the next ids are max(id) + 1, ... exactly as SQLite would draw them).  Rows may
    carry their own ids (drawn with `new_ids`)."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        cols = list(rows[0])
        new = new_ids(conn, table, len(rows)) if ids else []
        if ids:
            if "id" in cols:
                raise ValueError("rows given their own ids")
            values = [(i, *t) for i, t in zip(new, _tuples(conn, table, cols, rows),
                                              strict=True)]
            cols = ["id", *cols]
        else:
            values = _tuples(conn, table, cols, rows)
        _copy(conn, table, cols, values)
        return new
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
    drawn: list[int] = []
    if ids:
        if "id" in cols:
            raise ValueError("rows given their own ids")
        drawn = new_ids(conn, table, len(rows))
        values = [(i, *t) for i, t in zip(drawn, _tuples(conn, table, cols, rows),
                                          strict=True)]
        cols = ["id", *cols]
    else:
        values = _tuples(conn, table, cols, rows)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
                         f"({', '.join('?' for _ in cols)})", values)
    return drawn
