"""The national benchmark data on a PostgreSQL server (for `run.py --backend postgresql`).

    .venv/bin/python benchmarks/pgdata.py --url postgresql+psycopg://postgres@127.0.0.1/s2s_bench

Builds, once, a template database `<name>_template` on the server named by the URL: the schema
from the real Alembic migrations, then every row of `work/national.db` (made by generate.py)
copied in with psycopg `COPY`, the secondary indexes built afterwards, sequences set past the
copied ids and `ANALYZE` run.  The template is stamped (a database comment) with the
generator's version and the schema head and rebuilt when either moves on.  `fresh()` then
drops and re-creates the working database `<name>` from the template (`CREATE DATABASE ...
TEMPLATE`, a file copy), so write benchmarks start from the same data every time.

The database named by the URL is dropped and re-created: name one that holds nothing else."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from s2s_cli.location import SCHEMA_HEAD  # noqa: E402

# parents before children, so foreign keys hold while copying
ORDER = ("region", "local_authority", "trust", "school", "specialism", "leader",
         "leader_specialism", "setting", "counter", "support_request", "request_specialism",
         "deployment", "day_log", "evaluation", "invoice", "invoice_line", "invoice_day",
         "planned_session", "payment", "inspection", "inspection_grade")


def split_url(url: str) -> tuple[str, str]:
    """(libpq conninfo URL of the server's `postgres` database, the database name)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    base, name = plain.rsplit("/", 1)
    name = name.split("?", 1)[0]
    return base + "/postgres", name


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _admin(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    server, _name = split_url(url)
    return psycopg.connect(server, autocommit=True)


def _stamp(generator_version: str) -> str:
    return json.dumps({"version": generator_version, "schema": SCHEMA_HEAD}, sort_keys=True)


def template_ok(url: str, stamp: str) -> bool:
    _server, name = split_url(url)
    with _admin(url) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = %s", (name + "_template",)).fetchone()
    return row is not None and row[0] == stamp


def build_template(url: str, sqlite_path: Path, generator_version: str, *,
                   quiet: bool = False) -> None:
    import psycopg

    from s2s_cli import db

    _server, name = split_url(url)
    tmpl = name + "_template"
    t0 = time.perf_counter()
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{tmpl}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{tmpl}"')
    tmpl_url = url.rsplit("/", 1)[0] + "/" + tmpl
    engine = db.make_engine(tmpl_url)
    db.upgrade(engine)
    engine.dispose()
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    with psycopg.connect(libpq(tmpl_url)) as pg:
        indexes = pg.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND "
            "indexname NOT IN (SELECT conname FROM pg_constraint)").fetchall()
        for idx, _sql in indexes:
            pg.execute(f'DROP INDEX "{idx}"')
        have = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        pg_tables = {r[0] for r in pg.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        tables = [t for t in ORDER if t in have and t in pg_tables]
        tables += sorted((have & pg_tables) - set(tables) - {"alembic_version"})
        pg.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        for table in tables:
            cur = src.execute(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            bools = {r[0] for r in pg.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND data_type = 'boolean'", (table,))}
            flags = [c in bools for c in cols]
            names = ", ".join(f'"{c}"' for c in cols)
            with pg.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in cur:
                    if any(flags):
                        row = tuple(bool(v) if f and v is not None else v
                                    for v, f in zip(row, flags, strict=True))
                    copy.write_row(row)
        for table in tables:
            seq = pg.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',)
                             ).fetchone() if _has_id(pg, table) else None
            if seq and seq[0]:
                pg.execute(f"SELECT setval('{seq[0]}', coalesce((SELECT max(id) FROM "
                           f'"{table}"), 0) + 1, false)')
        for _idx, sql in indexes:
            pg.execute(sql)
        pg.commit()
    src.close()
    with psycopg.connect(libpq(tmpl_url), autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")
    with _admin(url) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{tmpl}\" IS '{_stamp(generator_version)}'")
    if not quiet:
        print(f"built {tmpl} from {sqlite_path} in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)


def _has_id(pg, table: str) -> bool:  # type: ignore[no-untyped-def]
    return pg.execute("SELECT 1 FROM information_schema.columns WHERE table_name = %s AND "
                      "column_name = 'id'", (table,)).fetchone() is not None


def ensure(url: str, work: Path, *, quiet: bool = False) -> None:
    """The template exists and matches the generated data (built if not)."""
    import generate

    files = generate.generate(work, quiet=True)
    stamp = _stamp(generate.FORMAT_VERSION)
    if not template_ok(url, stamp):
        build_template(url, files["db"], generate.FORMAT_VERSION, quiet=quiet)


def fresh(url: str) -> None:
    """Drop and re-create the working database from the template."""
    _server, name = split_url(url)
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{name}_template"')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--work", type=Path, default=HERE / "work")
    args = ap.parse_args()
    ensure(args.url, args.work)
    fresh(args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
