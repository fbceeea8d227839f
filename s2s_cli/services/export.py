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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
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
BATCH_BYTES = 2 << 20  # about 2 MB of text a batch


def converters(spec: TableSpec) -> list[tuple[int, Any]]:
    """(column index, function) turning a driver's value of that column into its export value
    (booleans, ISO dates and UTC timestamps); None values are left alone."""
    return [(i, bool if k == "bool" else _iso_datetime if k == "datetime" else _iso_date)
            for i, k in enumerate(spec.kinds) if k in ("bool", "datetime", "date")]


def raw_batches(reader: Reader, spec: TableSpec, part: tuple[str, int] | None = None
                ) -> Iterator[list[tuple[Any, ...]]] | None:
    """The table's rows in primary key order as the driver gives them (`converters` not yet
    applied), in batches of `BATCH`, for `output.write_raw_batches`; None where that path
    does not apply (PostgreSQL's typed values, and the audit trail, which the masker reads
    row by row): use `rows` then.  part ("<" or ">=", key): only the rows whose (single,
    integer) primary key is below / at least key."""
    if reader.dialect != "sqlite" or spec.name == "audit_log":
        return None
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    order = ", ".join(f'"{c}"' for c in spec.order)
    where, params = "", {}
    if part is not None:
        assert part[0] in ("<", ">=") and len(spec.order) == 1
        where, params = f' WHERE "{spec.order[0]}" {part[0]} :key', {"key": int(part[1])}
    cursor = reader.cursor(f'SELECT {cols} FROM "{spec.name}"{where} ORDER BY {order}',
                           params)

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        # At most BATCH rows, and fewer where rows are wide (an invoice's frozen document
        # with its schedule of days is tens of kB): a batch holds about BATCH_BYTES of text,
        # so memory stays flat whatever the table.
        size = 64  # grown to BATCH while the rows are narrow
        while True:
            batch = cursor.fetchmany(size)
            if not batch:
                return
            yield batch
            wide = max(sum(len(v) for v in row if isinstance(v, str | bytes))
                       for row in (batch[0], batch[len(batch) // 2], batch[-1]))
            text = wide * len(batch)  # estimated from three of its rows
            if text > BATCH_BYTES:
                size = max(1, size * BATCH_BYTES // text)
            elif size < BATCH and text < BATCH_BYTES // 4:
                size = min(BATCH, size * 4)

    return batches()


def schema_revision(reader: Reader) -> str | None:
    row = reader.one("SELECT version_num FROM alembic_version")
    return str(row[0]) if row else None


def load_masker(reader: Reader) -> Masker:
    return Masker.load(reader)


# --- the largest table in a second process (SQLite) ----------------------------------------
#
# Exporting a national file is CPU-bound Python (fetching each cell, writing it twice), so
# the largest table goes to a forked child on its own connection while this process writes
# the others.  Both read one snapshot: the child is forked before any SQLite connection of
# this process is open (an inherited connection is never safe), and `PRAGMA data_version`,
# read on a third connection before either snapshot begins and again after both have, proves
# that nothing was committed in between; otherwise the child stops unused and this process
# exports the table itself.

SIDE_ROWS = 200_000  # a table this large (and the largest) goes to the side process


def side_table(target: str, specs: list[TableSpec]) -> tuple[TableSpec, int | None] | None:
    """The table worth exporting in a second process, if any: the largest, when it holds at
    least SIDE_ROWS rows and a fork is possible (SQLite only; never the audit trail); and
    where its primary key is one integer, the key from which this process takes the rest of
    it, so that both processes have about as many cells to write."""
    import os
    import sqlite3

    from s2s_cli import fastdb

    if not hasattr(os, "fork"):
        return None
    conn = fastdb.open_sqlite(target)
    if conn is None:
        return None
    try:
        sizes = [(conn.execute(f'SELECT count(*) FROM "{s.name}"').fetchone()[0], s)
                 for s in specs]
        rows, spec = max(((n, s) for n, s in sizes if s.name != "audit_log"),
                         key=lambda x: x[0], default=(0, None))
        if spec is None or rows < SIDE_ROWS:
            return None
        cut = None
        key = spec.order[0]
        if len(spec.order) == 1 and spec.kinds[spec.columns.index(key)] == "int":
            mine = sum(n * len(s.columns) for n, s in sizes) / 2  # cells for each process
            share = int(mine / len(spec.columns))  # the side process takes this many rows
            if 0 < share < rows:
                found = conn.execute(f'SELECT "{key}" FROM "{spec.name}" ORDER BY "{key}" '
                                     "LIMIT 1 OFFSET ?", (share,)).fetchone()
                cut = found[0] if found and isinstance(found[0], int) else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return spec, cut


class SideExport:
    """One table exported by a forked child into `csv_out` (an open atomic output) and
    `json_out` (a temporary file: the JSON items), on a snapshot proved equal to the one this
    process reads.  Protocol over two pipes: go, ready, go/stop, then `ok ROWS` or
    `err MESSAGE` (one line)."""

    def __init__(self, target: str, spec: TableSpec, csv_out: Any, json_out: Any, *,
                 excel: bool, below: int | None = None) -> None:
        import os

        self.spec, self.json_out, self.below = spec, json_out, below
        self.down_r, self.down_w = os.pipe()
        self.up_r, self.up_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            self._child(target, csv_out, excel)
        os.close(self.down_r)
        os.close(self.up_w)
        self.up = os.fdopen(self.up_r, "rb")
        self.done = False

    def _child(self, target: str, csv_out: Any, excel: bool) -> None:
        import os

        code = 1
        try:
            os.close(self.down_w)
            os.close(self.up_r)
            if os.read(self.down_r, 1) != b"g":
                os._exit(0)
            from s2s_cli import fastdb
            from s2s_cli.output import write_raw_batches

            conn = fastdb.open_sqlite(target)
            if conn is None:
                raise RuntimeError(f"cannot read {target}")
            conn.isolation_level = None
            conn.execute("BEGIN")
            conn.execute("SELECT 1 FROM specialism LIMIT 1").fetchone()  # snapshot taken
            os.write(self.up_w, b"r")
            if os.read(self.down_r, 1) != b"g":
                os._exit(0)
            reader = fastdb.sqlite_reader(conn)
            batches = raw_batches(reader, self.spec,
                                  None if self.below is None else ("<", self.below))
            assert batches is not None
            import io

            items = io.TextIOWrapper(self.json_out, encoding="utf-8", newline="")
            written = write_raw_batches(batches, self.spec.columns, self.spec.kinds, csv_out,
                                        items, convert=converters(self.spec), excel=excel)
            csv_out.flush()
            items.flush()
            os.write(self.up_w, f"ok {written}\n".encode())
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, one line
            message = " ".join(str(exc).split()) or type(exc).__name__
            try:
                os.write(self.up_w, f"err {message}\n".encode())
            except OSError:
                pass
        finally:
            os._exit(code)

    def start(self) -> None:
        """Let the child take its snapshot (call before this process takes its own)."""
        import os

        os.write(self.down_w, b"g")

    def confirm(self, same: Any) -> bool:
        """Wait until the child holds its snapshot; `same()` then says whether nothing was
        committed since before `start` (both snapshots equal).  True: the child exports;
        False: it stops, and the caller exports the table itself."""
        import os

        got = self.up.read(1)
        if got != b"r":
            self._failed(got + self.up.readline())
        ok = bool(same())
        os.write(self.down_w, b"g" if ok else b"s")
        if not ok:
            self.close(kill=False)
        return ok

    def finish(self) -> int:
        """The rows the child wrote, once it has written them all."""
        line = self.up.readline()
        if not line.startswith(b"ok "):
            self._failed(line)
        self.close(kill=False)
        return int(line[3:])

    def _failed(self, got: bytes) -> None:
        from s2s_cli.errors import S2SError

        self.close(kill=True)
        text = got.decode("utf-8", "replace").strip()
        reason = text[4:] if text.startswith("err ") else "its second process stopped"
        raise S2SError(f"export of {self.spec.name}: {reason}")

    def close(self, *, kill: bool = True) -> None:
        """Reap the child, stopping it first with kill (idempotent)."""
        import os
        import signal

        if self.done:
            return
        self.done = True
        try:
            os.close(self.down_w)  # a child still waiting for go/stop reads EOF and exits
        except OSError:
            pass
        if kill:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.up.close()


def write_folder(target: str, open_reader: Callable[..., Any], folder: Path, *,
                 excel: bool = False) -> tuple[int, int]:
    """Write every table as CSV (one file per table) and one JSON document into `folder`:
    (tables, rows) written.  Every file is written to a temporary file and renamed into
    place at the end (`output.atomic_output`), so a failed run leaves the previous export as
    it was.  `open_reader(snapshot=True)` opens the read transaction whose snapshot every
    table is read from; the largest table of a big SQLite file is read by a second process
    (`SideExport`) on a snapshot proved the same."""
    import contextlib
    import datetime as dt
    import json
    import tempfile

    from s2s_cli.output import atomic_output, write_raw_batches, write_records

    total = 0
    specs = tables()
    # one snapshot: every table as of the same moment, whoever writes meanwhile (one read
    # transaction; the largest table of a big SQLite file in a second process, on a snapshot
    # proved the same: see services/export.py)
    with contextlib.ExitStack() as stack:
        plan = side_table(target, specs)
        side_spec, cut = plan if plan is not None else (None, None)
        side = version = None
        if side_spec is not None:
            from s2s_cli import fastdb

            side_csv = stack.enter_context(atomic_output(folder / f"{side_spec.name}.csv"))
            side_json = stack.enter_context(tempfile.TemporaryFile(dir=folder))
            side = SideExport(target, side_spec, side_csv, side_json, excel=excel,
                                       below=cut)
            stack.callback(side.close)  # stopped on any failure
            version = fastdb.open_sqlite(target)
            stack.callback(version.close) if version is not None else None
            before = version.execute("PRAGMA data_version").fetchone()[0] if version else None
            side.start()
        reader = stack.enter_context(open_reader(snapshot=True))
        masker = load_masker(reader)  # this process's snapshot is taken
        if side is not None and not side.confirm(
                lambda: version is not None and version.execute(
                    "PRAGMA data_version").fetchone()[0] == before):
            side = None  # something was committed meanwhile: this process writes it all
        doc = stack.enter_context(atomic_output(folder / JSON_NAME))
        doc.write(json.dumps({
            "format": "s2s-export", "version": 1,
            "exported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "schema_revision": schema_revision(reader)})[:-1] + ', "tables": {')
        items, tail, side_at, rest, rest_rows = doc, None, "", None, 0

        def scratch() -> Any:
            return stack.enter_context(tempfile.TemporaryFile(
                "w+", encoding="utf-8", newline="", dir=folder))

        for n, spec in enumerate(specs):
            opening = ("," if n else "") + f"\n{json.dumps(spec.name)}: ["
            is_side = side_spec is not None and spec.name == side_spec.name
            if side is not None and is_side:
                side_at = opening  # its items come from the side process, after the rest
                if cut is not None:  # this process writes the rows from `cut` on
                    rest, rest_csv = scratch(), scratch()
                    rest_rows = write_raw_batches(
                        raw_batches(reader, spec, (">=", cut)) or (), spec.columns,
                        spec.kinds, rest_csv, rest, convert=converters(spec),
                        header=False, continued=True)
                tail = items = scratch()
                continue
            items.write(opening)
            fh = side_csv if is_side else stack.enter_context(
                atomic_output(folder / f"{spec.name}.csv"))
            batches = raw_batches(reader, spec)
            if batches is not None:  # SQLite: batches of raw values, converted on the way
                written = write_raw_batches(batches, spec.columns, spec.kinds, fh, items,
                                            convert=converters(spec), excel=excel)
            else:
                written = write_records(rows(reader, spec, masker), spec.columns,
                                        spec.kinds, fh, items, excel=excel)
            items.write("\n]" if written else "]")
            total += written
        if side is not None:
            written = side.finish()
            doc.write(side_at)
            _append(doc, side_json)
            if rest is not None:
                rest.flush()
                _append(doc, rest.buffer, skip=0 if written else 1)  # its leading comma
                rest_csv.flush()
                _append(side_csv, rest_csv.buffer)
                written += rest_rows
            doc.write("\n]" if written else "]")
            total += written
            if tail is not None:
                tail.flush()
                _append(doc, tail.buffer)
        doc.write("\n}}\n")
    return len(specs), total


def _append(doc: Any, source: Any, *, skip: int = 0) -> None:
    """Copy a temporary file's bytes (from byte `skip`) to the end of the text file `doc`."""
    import os
    import shutil

    doc.flush()
    out = doc.buffer
    out.flush()
    source.seek(skip)
    try:
        offset, fd_in, fd_out = skip, source.fileno(), out.fileno()
        while True:
            sent = os.sendfile(fd_out, fd_in, offset, 1 << 30)
            if not sent:
                return
            offset += sent
    except (AttributeError, OSError):  # no sendfile between these files: copy through Python
        source.seek(skip)
        out.seek(0, os.SEEK_END)
        shutil.copyfileobj(source, out, 1 << 20)
        out.flush()
