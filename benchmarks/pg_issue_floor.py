"""The floor of `invoice --issue` on PostgreSQL: the rows an s2s run wrote, written again in one
transaction through psycopg `COPY` (the invoices, lines, day links and audit rows; the day logs
pointed at their invoices by one UPDATE from a copied table).

    python benchmarks/pg_issue_floor.py dump URL DIR   # after s2s issued: save what it wrote
    python benchmarks/pg_issue_floor.py load URL DIR   # on a fresh copy: write it again (timed)"""

from __future__ import annotations

import sys
from pathlib import Path

TABLES = ("invoice", "invoice_line", "invoice_day", "audit_log")


def main() -> int:
    import psycopg

    mode, url, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    info = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(info) as conn:
        cur = conn.cursor()
        if mode == "dump":
            folder.mkdir(parents=True, exist_ok=True)
            for table in (*TABLES, "day_log"):
                where = " WHERE invoice_id IS NOT NULL" if table == "day_log" else ""
                cols = "id, invoice_id" if table == "day_log" else "*"
                with (folder / f"{table}.copy").open("wb") as fh, cur.copy(
                        f"COPY (SELECT {cols} FROM {table}{where}) TO STDOUT") as copy:
                    for data in copy:
                        fh.write(data)
            return 0
        for table in TABLES:
            with (folder / f"{table}.copy").open("rb") as fh, cur.copy(
                    f"COPY {table} FROM STDIN") as copy:
                while data := fh.read(1 << 20):
                    copy.write(data)
        cur.execute("CREATE TEMP TABLE links (id bigint, invoice_id bigint) ON COMMIT DROP")
        with (folder / "day_log.copy").open("rb") as fh, cur.copy(
                "COPY links FROM STDIN") as copy:
            while data := fh.read(1 << 20):
                copy.write(data)
        cur.execute("UPDATE day_log d SET invoice_id = l.invoice_id FROM links l "
                    "WHERE d.id = l.id AND d.invoice_id IS NULL")
        for table in TABLES[:-1] + ("audit_log",):
            if table != "invoice_day":
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))")
        conn.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
