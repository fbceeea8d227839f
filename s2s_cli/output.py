"""The one place that renders rows.

Commands compute rows (dicts) and describe their columns once; `render` prints them as a Rich
table on a terminal, or as plain tab-separated text, CSV or JSON.  JSON keys and CSV columns are
the `Column.key`s: a documented contract (see README).  Money columns hold integer pence (keys
end in `_pence`); day columns hold integer halves and print as exact decimal strings ("2.5").

CSV is UTF-8 with one header row, RFC 4180 quoting, `\\r\\n` line ends, and any text cell that
begins with = + - @ tab or carriage return is prefixed with a single quote so a spreadsheet never
runs it as a formula.  Large outputs stream: rows are written as they come."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

from s2s_cli.parsing import days_str, format_pence


class Format(str, Enum):  # noqa: UP042 (typer choices; StrEnum would change str())
    auto = "auto"
    table = "table"
    plain = "plain"
    csv = "csv"
    json = "json"


@dataclass(frozen=True)
class Column:
    key: str
    header: str = ""
    kind: str = "text"  # text | int | money | days | list | map | date | bool | pct
    table: bool = True  # shown in the Rich table (JSON/CSV always carry every column)
    justify: str = "left"

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ")


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from executing a cell: prefix risky text with a single quote."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def resolve_format(fmt: Format | str | None, stream: IO[str] | None = None) -> Format:
    fmt = Format(fmt or "auto")
    if fmt is not Format.auto:
        return fmt
    stream = stream or sys.stdout
    return Format.table if _isatty(stream) else Format.plain


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _json_value(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.kind == "days":
        return days_str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if col.kind == "list":
        return list(value)
    if col.kind == "map":
        return dict(value)
    return value


def _text_value(col: Column, value: Any, *, for_table: bool) -> str:
    if value is None:
        return ""
    if col.kind == "days":
        return days_str(value)
    if col.kind == "money":
        return format_pence(value) if for_table else str(int(value))
    if col.kind == "list":
        return ", ".join(str(v) for v in value) if for_table else ";".join(str(v) for v in value)
    if col.kind == "map":
        return (", " if for_table else ";").join(f"{k}={v}" for k, v in value.items())
    if col.kind == "bool":
        return ("yes" if value else "no") if for_table else ("true" if value else "false")
    if col.kind == "pct":
        return f"{value:.1f}%" if for_table else f"{value:.1f}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def write_json(rows: Iterable[dict[str, Any]], columns: Sequence[Column], out: IO[str]) -> None:
    out.write("[")
    first = True
    for row in rows:
        item = {c.key: _json_value(c, row.get(c.key)) for c in columns}
        out.write(("\n  " if first else ",\n  ") + json.dumps(item, ensure_ascii=False))
        first = False
    out.write("\n]\n" if not first else "]\n")


def _csv_formatter(c: Column) -> Any:
    """One formatter per column, chosen once (the CSV path streams a million rows)."""
    kind = c.kind
    if kind == "days":
        return lambda v: "" if v is None else days_str(v)
    if kind == "money":
        return lambda v: "" if v is None else str(int(v))
    if kind == "bool":
        return lambda v: "" if v is None else ("true" if v else "false")
    if kind == "pct":
        return lambda v: "" if v is None else f"{v:.1f}"
    if kind == "list":
        return lambda v: "" if v is None else neutralise(";".join(str(x) for x in v))
    if kind == "map":
        return lambda v: "" if v is None else neutralise(";".join(f"{k}={x}"
                                                                   for k, x in v.items()))

    def text(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, str):
            return neutralise(v) if kind == "text" else v
        if isinstance(v, dt.date | dt.datetime):
            return v.isoformat()
        return str(v)

    return text


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[Column], out: IO[str], *,
              excel: bool = False) -> None:
    if excel:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.key for c in columns])
    cols = [(c.key, _csv_formatter(c)) for c in columns]
    writer.writerows([fmt(row.get(key)) for key, fmt in cols] for row in rows)


def write_plain(rows: Iterable[dict[str, Any]], columns: Sequence[Column], out: IO[str]) -> None:
    out.write("\t".join(c.key for c in columns) + "\n")
    for row in rows:
        out.write("\t".join(_text_value(c, row.get(c.key), for_table=False)
                            .replace("\t", " ").replace("\n", " ") for c in columns) + "\n")


def console(stream: IO[str] | None = None, stderr: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    stream = stream or (sys.stderr if stderr else sys.stdout)
    tty = _isatty(stream)
    if tty:
        return Console(file=stream, highlight=False)
    try:  # piped `--format table`: honour $COLUMNS, else a wide page
        width = int(os.environ.get("COLUMNS", "")) or 200
    except ValueError:
        width = 200
    return Console(file=stream, force_terminal=False, no_color=True, highlight=False,
                   width=max(width, 40), soft_wrap=False)


def rich_table(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *,
               title: str | None = None, totals: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    from rich.table import Table
    from rich.text import Text

    shown = [c for c in columns if c.table]
    cells = [[_text_value(c, row.get(c.key), for_table=True) for c in shown] for row in rows]
    table = Table(title=title, show_footer=totals is not None, title_justify="left")
    for i, c in enumerate(shown):
        justify = "right" if c.kind in ("int", "money", "days", "pct") else c.justify
        footer = ""
        if totals is not None and c.key in totals:
            footer = _text_value(c, totals[c.key], for_table=True)
        values = [r[i] for r in cells] + [footer]
        widest = max((len(v) for v in values), default=0)
        # Short, unbreakable values (dates, amounts, ids, numbers) are never cut to "2026-0…":
        # such columns keep their width and the long free-text columns wrap instead.
        compact = widest <= 24 and all(" " not in v for v in values if len(v) > 12)
        min_width = None
        if compact:
            min_width = max([widest] + [len(w) for w in c.title.split()])
        table.add_column(c.title, justify=justify, footer=Text(footer),  # type: ignore[arg-type]
                         no_wrap=compact, min_width=min_width)
    for r in cells:
        table.add_row(*[Text(v) for v in r])
    return table


def render(rows: Iterable[dict[str, Any]], columns: Sequence[Column], fmt: Format | str | None,
           *, title: str | None = None, out: IO[str] | None = None, excel: bool = False,
           totals: dict[str, Any] | None = None, empty: str | None = None) -> None:
    out = out or sys.stdout
    fmt = resolve_format(fmt, out)
    if fmt is Format.json:
        write_json(rows, columns, out)
    elif fmt is Format.csv:
        write_csv(rows, columns, out, excel=excel)
    elif fmt is Format.plain:
        write_plain(rows, columns, out)
    else:
        rows = list(rows)
        con = console(out)
        if not rows and empty:
            con.print(empty)
            return
        con.print(rich_table(rows, columns, title=title, totals=totals))


def render_record(record: dict[str, Any], columns: Sequence[Column], fmt: Format | str | None,
                  *, title: str | None = None, extra: Iterable[Any] = ()) -> None:
    """One record: JSON object, key/value table, or plain `key<TAB>value` lines.  `extra` holds
    Rich renderables printed after the table (terminal only)."""
    out = sys.stdout
    fmt = resolve_format(fmt, out)
    if fmt is Format.json:
        out.write(json.dumps({c.key: _json_value(c, record.get(c.key)) for c in columns},
                             ensure_ascii=False, indent=2) + "\n")
        return
    if fmt in (Format.csv,):
        write_csv([record], columns, out)
        return
    if fmt is Format.plain:
        for c in columns:
            out.write(f"{c.key}\t{_text_value(c, record.get(c.key), for_table=False)}\n")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_header=False, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column()
    for c in columns:
        if c.table:
            table.add_row(Text(c.title), Text(_text_value(c, record.get(c.key), for_table=True)))
    con = console(out)
    con.print(table)
    for item in extra:
        con.print(item)


def emit_id(value: Any, fmt: Format | str | None, *, message: str | None = None) -> None:
    """A command that creates a record prints its id (`{"id": ...}` with --format json)."""
    fmt = Format(fmt or "auto")
    if fmt is Format.json:
        sys.stdout.write(json.dumps({"id": value}) + "\n")
    else:
        sys.stdout.write(f"{value}\n")
        if message and _isatty(sys.stderr):
            sys.stderr.write(message + "\n")


def note(message: str, *, quiet: bool = False) -> None:
    """Progress and confirmations go to stderr; --quiet silences them."""
    if not quiet:
        sys.stderr.write(message + "\n")


@contextmanager
def atomic_output(path: Path, *, binary: bool = False, what: str = "--out"
                  ) -> Iterator[IO[Any]]:
    """Write to a temporary file in the same folder, then rename over `path`: a reader never
    sees a half-written file and a failure leaves the previous file untouched.  0600; `-` is
    standard output; only a new path or an existing regular file is accepted (see
    `s2s_cli.safefile`: no links, devices, FIFOs; a replaced file keeps its owner)."""
    from s2s_cli import safefile
    from s2s_cli.errors import S2SError

    if safefile.is_stdout(path):
        if binary:
            sys.stdout.flush()
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            yield sys.stdout
        return
    path = Path(path)
    before = safefile.prepare(path, what=what)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise S2SError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        try:
            os.fchmod(fd, 0o600)
            safefile.keep_owner(fd, before, path)
        except BaseException:
            os.close(fd)
            raise
        if binary:
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = io.TextIOWrapper(os.fdopen(fd, "wb"), encoding="utf-8", newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        safefile.replace(tmp, path, before, what=what)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
