"""Benchmark 10: issuing a whole national month, and its floor.

    prepare(national, target)   a copy of the national database in which every day before the
                                month is already invoiced (one archive invoice holds them), so
                                that `s2s invoice --month M --issue` bills that month's days
    capture(issued, rows_file)  the rows that run wrote: invoices, lines, day links, which days
                                it marked invoiced, and the numbering row
    python issue_floor.py DB ROWS_FILE
                                the floor: stdlib sqlite3 inserting the same rows (and marking
                                the same days) in one transaction, as a whole process

Stdlib only (the floor must not pay for s2s's imports)."""

from __future__ import annotations

import pickle
import shutil
import sqlite3
import sys
from pathlib import Path

ARCHIVE = "ARCHIVE"  # the number of the invoice holding the days before the month


def _copy(src: Path, dst: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)


def prepare(src: Path, dst: Path, first_day: str) -> int:
    """Copy `src` to `dst` and invoice every day dated before `first_day` on one archive
    invoice (an issued invoice of series 'invoice', seq 0: outside the numbering); the number
    of days left to bill up to the month's end is what the benchmark issues."""
    _copy(src, dst)
    con = sqlite3.connect(dst, isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("BEGIN")
    dep = con.execute("SELECT min(id) FROM deployment").fetchone()[0]
    leader = con.execute("SELECT leader_id FROM deployment WHERE id = ?", (dep,)).fetchone()[0]
    cur = con.execute(
        "INSERT INTO invoice (series, number, seq, year, payer, payer_school_urn, period_from, "
        "period_to, issued, due, subtotal_pence, vat_pence, total_pence, details, created_at) "
        "VALUES ('invoice', ?, 0, 0, 'archive', NULL, '2024-09-01', ?, ?, ?, 0, 0, 0, '{}', "
        "'2026-03-01 00:00:00')", (ARCHIVE, first_day, first_day, first_day))
    inv = cur.lastrowid
    line = con.execute(
        "INSERT INTO invoice_line (invoice_id, deployment_id, leader_id, kind, date_from, "
        "date_to, full_days, half_days, halves, rate_pence, half_day_rate_pence, amount_pence, "
        "supply_pence) VALUES (?, ?, ?, 'charged', '2024-09-01', ?, 0, 0, 0, 0, 0, 0, 0)",
        (inv, dep, leader, first_day)).lastrowid
    con.execute("INSERT INTO invoice_day (invoice_id, day_log_id, line_id, halves, kind, "
                "amount_pence, supply_pence) SELECT ?, id, ?, halves, 'charged', 0, 0 "
                "FROM day_log WHERE date < ?", (inv, line, first_day))
    con.execute("UPDATE day_log SET invoice_id = ? WHERE date < ?", (inv, first_day))
    con.execute("COMMIT")
    left = con.execute("SELECT count(*) FROM day_log WHERE invoice_id IS NULL AND date < ?",
                       (first_day[:8] + "32",)).fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return int(left)


def capture(db: Path, rows_file: Path) -> dict[str, int]:
    """The rows an issuing run wrote (everything but the archive), pickled for the floor."""
    con = sqlite3.connect(db)
    archive = con.execute("SELECT id FROM invoice WHERE number = ?", (ARCHIVE,)).fetchone()[0]

    def rows(table: str, where: str) -> tuple[list[str], list[tuple]]:
        cur = con.execute(f"SELECT * FROM {table} WHERE {where}", (archive,))
        return [c[0] for c in cur.description], cur.fetchall()

    data = {
        "invoice": rows("invoice", "id <> ?"),
        "invoice_line": rows("invoice_line", "invoice_id <> ?"),
        "invoice_day": rows("invoice_day", "invoice_id <> ?"),
        "day_log": con.execute("SELECT id, invoice_id FROM day_log WHERE invoice_id <> ?",
                               (archive,)).fetchall(),
        "counter": con.execute("SELECT series, year, value FROM counter").fetchall(),
    }
    con.close()
    rows_file.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    return {k: len(v[1]) if isinstance(v, tuple) else len(v) for k, v in data.items()}


def floor(db: Path, rows_file: Path) -> None:
    """Insert the captured rows and mark the days, in one transaction."""
    data = pickle.loads(rows_file.read_bytes())
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("BEGIN IMMEDIATE")
    for table in ("invoice", "invoice_line", "invoice_day"):
        cols, values = data[table]
        con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                        f"({', '.join('?' for _ in cols)})", values)
    con.executemany("UPDATE day_log SET invoice_id = ? WHERE id = ?",
                    [(inv, day) for day, inv in data["day_log"]])
    con.executemany("INSERT INTO counter (series, year, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (series, year) DO UPDATE SET value = excluded.value",
                    data["counter"])
    con.execute("COMMIT")
    con.close()


if __name__ == "__main__":
    floor(Path(sys.argv[1]), Path(sys.argv[2]))
