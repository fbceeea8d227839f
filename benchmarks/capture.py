"""The SQL an s2s read command sends to PostgreSQL, as a psql script: the floor "psql running
the same SQL" for `run.py --backend postgresql`.

    python benchmarks/capture.py URL OUT.sql [--copy-largest FILE] -- s2s args...

Runs the command in this process with `fastdb.pg_reader` recording every statement and its
parameters, then writes them with the parameters bound (psycopg's client-side `mogrify`), one
per line.  With --copy-largest, the statement that returned the most rows is written as
`\\copy (...) TO FILE CSV HEADER` instead (the floor of a CSV report); a report that s2s has
the server write with `COPY (...) TO STDOUT` is recorded as its plain query (`reports.DAYS_SQL`
for `report days`), so the floor copies the same rows without s2s's cell formatting."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path


def main() -> int:
    args = sys.argv[1:]
    split = args.index("--")
    head, command = args[:split], args[split + 1:]
    url, out = head[0], Path(head[1])
    copy_to = head[head.index("--copy-largest") + 1] if "--copy-largest" in head else None

    import psycopg

    from s2s_cli import fastdb

    seen: list[list] = []  # [sql, params, rows]
    original = fastdb.pg_reader

    def recording(conn):  # type: ignore[no-untyped-def]
        reader = original(conn)
        run, stream = reader._run, reader._stream

        def counted(fn):  # type: ignore[no-untyped-def]
            def go(sql, params):  # type: ignore[no-untyped-def]
                entry = [sql, dict(params), 0]
                seen.append(entry)
                for row in fn(sql, params):
                    entry[2] += 1
                    yield row
            return go

        reader._run, reader._stream = counted(run), counted(stream)
        if reader.copy_out is not None:  # a report the server writes with COPY ... CSV:
            copy_out = reader.copy_out  # the floor copies the report's own query (the

            def copied(sql, params, write):  # type: ignore[no-untyped-def]  # unformatted)
                entry = [PLAIN_QUERY.get(sql, sql), dict(params), 0]
                seen.append(entry)
                entry[2] = copy_out(sql, params, write)
                return entry[2]

            reader.copy_out = copied
        return reader

    from s2s_cli.services import reports

    # COPY statements s2s sends for CSV reports -> the plain query whose rows they format
    PLAIN_QUERY = {reports.DAYS_COPY_SQL: reports.DAYS_SQL}
    fastdb.pg_reader = recording
    from s2s_cli.__main__ import main as s2s_main

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.suppress(SystemExit):
        sys.argv = ["s2s", "--db", url, *command]
        s2s_main()
    info = fastdb.pg_conninfo(url)
    lines = []
    largest = max(range(len(seen)), key=lambda i: seen[i][2]) if seen else -1
    with psycopg.connect(info) as conn:
        cur = psycopg.ClientCursor(conn)
        for i, (sql, params, _rows) in enumerate(seen):
            text = cur.mogrify(fastdb.pg_sql(sql), params or None)
            text = " ".join(text.split())
            if copy_to and i == largest:
                lines.append(f"\\copy ({text}) TO '{copy_to}' CSV HEADER")
            else:
                lines.append(text + ";")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(seen)} statements", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
