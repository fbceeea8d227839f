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
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from s2s_cli.parsing import days_str, format_pence

if TYPE_CHECKING:
    from s2s_cli.services.documents import Document


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


def write_records(rows: Iterable[Sequence[Any]], keys: Sequence[str], kinds: Sequence[str],
                  csv_out: IO[str], json_out: IO[str], *, excel: bool = False,
                  batch: int = 2000) -> int:
    """Rows of plain values (None, booleans, integers, text: dates already ISO text) written
    twice in one pass: as CSV (header = keys; booleans true/false, `text` columns kept from
    spreadsheet formulas) and as the items of a JSON array that `json_out` has opened (`[`
    written, `]` left to the caller).  Streams in batches; returns the rows written."""
    if excel:
        csv_out.write("\ufeff")
    writer = csv.writer(csv_out, lineterminator="\r\n")
    writer.writerow(list(keys))
    encode = _row_encoder()
    fixes = [(i, _bool_text if k == "bool" else neutralise)
             for i, k in enumerate(kinds) if k in ("bool", "text")]
    count = 0
    items: list[str] = []
    lines: list[Any] = []
    for row in rows:
        items.append(encode(dict(zip(keys, row, strict=True))))
        if fixes:
            cells = list(row)
            for i, fix in fixes:
                v = cells[i]
                if v is not None:
                    cells[i] = fix(v)
            lines.append(cells)
        else:
            lines.append(row)
        if len(items) >= batch:
            json_out.write(("\n  " if not count else ",\n  ") + ",\n  ".join(items))
            writer.writerows(lines)
            count += len(items)
            items, lines = [], []
    if items:
        json_out.write(("\n  " if not count else ",\n  ") + ",\n  ".join(items))
        writer.writerows(lines)
        count += len(items)
    return count


def write_csv_body(body: Any, keys: Sequence[str], out: IO[str], *,
                   excel: bool = False) -> int:
    """`write_csv` for a body already written as CSV (UTF-8 bytes, CRLF) by `body(write)`,
    which returns its rows: the header (and the byte-order mark with excel) as `write_csv`
    writes it, then the body straight to the binary stream under `out`."""
    if excel:
        out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerow(list(keys))
    out.flush()
    raw = out.buffer  # type: ignore[attr-defined]
    rows = int(body(raw.write))
    raw.flush()
    return rows


def write_raw_batches(batches: Iterable[Sequence[Sequence[Any]]], keys: Sequence[str],
                      kinds: Sequence[str], csv_out: IO[str], json_out: IO[str], *,
                      convert: Sequence[tuple[int, Any]] = (), excel: bool = False,
                      header: bool = True, continued: bool = False) -> int:
    """`write_records` for batches of rows of plain driver values (None, integers, floats,
    text: SQLite's), each value of a `convert` column (index, function) still to be turned
    into its export value (`None` stays None).  The same bytes as `write_records` over the
    converted rows, at a fraction of the cost: each batch goes through the C JSON encoder in
    one call (the cells split on a separator the encoder always escapes inside strings), the
    converted columns are mapped literal by literal (each distinct literal converted once), and
    both the JSON items and the CSV lines are filled into a template per batch.  A batch whose
    CSV needs quoting or formula protection (a comma, quote, control character or backslash,
    a text starting with = + - @) is written by `write_records`' CSV path instead, and one
    holding a non-finite float entirely by `write_records`' path.  Returns the rows written.
    The rest of a table begun elsewhere: `header=False` (no header, no byte-order mark) and
    `continued=True` (its first item follows a comma)."""
    from json import encoder as jenc

    ncols = len(keys)
    if excel and header:
        csv_out.write("\ufeff")
    writer = csv.writer(csv_out, lineterminator="\r\n")
    if header:
        writer.writerow(list(keys))
    lead = ",\n  " if continued else "\n  "
    text_fixes = [(i, _bool_text if k == "bool" else neutralise)
                  for i, k in enumerate(kinds) if k in ("bool", "text")]
    make = getattr(jenc, "c_make_encoder", None)
    if make is None or ncols < 2:  # pragma: no cover - no C encoder; a one-column table
        encode = _row_encoder()
        count = 0
        for rows in batches:
            rows = list(_convert_rows(rows, convert))
            if rows:
                json_out.write((lead if not count else ",\n  ") + ",\n  ".join(
                    encode(dict(zip(keys, row, strict=True))) for row in rows))
                writer.writerows(_fixed_lines(rows, (), text_fixes))
                count += len(rows)
        return count
    encode = _row_encoder()
    split_enc = make(None, None, jenc.encode_basestring, None, ": ", SEP, False, False, False)
    item = "{" + ", ".join(jenc.encode_basestring(k).replace("%", "%%") + ": %s"
                           for k in keys) + "}"
    line = SEP.join(["%s"] * ncols) + "\r\n"
    fixes = [(i, _LiteralFix(fn, split_enc)) for i, fn in convert]
    templates: dict[int, tuple[str, str]] = {}
    count = 0
    nulls = _CSV_NULLS.get
    for rows in batches:
        n = len(rows)
        if not n:
            continue
        try:
            flat = "".join(split_enc(rows, 0))[2:-2].replace("]" + SEP + "[", SEP).split(SEP)
        except ValueError:  # a non-finite float: the CSV spells it differently (inf)
            rows = list(_convert_rows(rows, convert))
            json_out.write((lead if not count else ",\n  ") + ",\n  ".join(
                encode(dict(zip(keys, row, strict=True))) for row in rows))
            writer.writerows(_fixed_lines(rows, (), text_fixes))
            count += n
            continue
        for i, fix in fixes:
            flat[i::ncols] = map(fix.__getitem__, flat[i::ncols])
        done = templates.get(n)
        if done is None:
            done = templates[n] = (",\n  ".join([item] * n), line * n)
        json_out.write((lead if not count else ",\n  ") + done[0] % tuple(flat))
        text = done[1] % tuple(map(nulls, flat, flat))
        if "\\" in text or "," in text or _CSV_FORMULA.search(text):
            writer.writerows(_fixed_lines(rows, convert, text_fixes))
        else:
            csv_out.write(text.translate(_CSV_TRANSLATE))
        count += n
    return count


# write_raw_batches: the cell separator inside a batch's JSON (a control character, which the
# encoder writes as \u001f inside any string, so every raw one is a separator), what a CSV
# cell becomes from its JSON literal (null: empty; strings: their quotes dropped, since a
# batch with an escape in it never takes that path).
SEP = "\x1f"
_CSV_NULLS = {"null": ""}
_CSV_TRANSLATE = str.maketrans({'"': None, SEP: ","})
_CSV_FORMULA = re.compile('"[=+@-]')  # a string cell starting with a formula character


class _LiteralFix(dict):  # type: ignore[type-arg]
    """JSON literal of a driver value -> JSON literal of its export value, each converted once
    (bounded: a column of distinct timestamps never holds more than 65,536)."""

    def __init__(self, fn: Any, encode: Any) -> None:
        super().__init__()
        self.fn, self.encode = fn, encode

    def __missing__(self, literal: str) -> str:
        value = json.loads(literal)
        done = "null" if value is None else "".join(self.encode(self.fn(value), 0))
        if len(self) >= 65536:
            self.clear()
        self[literal] = done
        return done


def _converted(batches: Iterable[Sequence[Sequence[Any]]], convert: Sequence[tuple[int, Any]]
               ) -> Iterator[Sequence[Any]]:
    for rows in batches:
        yield from _convert_rows(rows, convert)


def _convert_rows(rows: Sequence[Sequence[Any]], convert: Sequence[tuple[int, Any]]
                  ) -> Iterator[Sequence[Any]]:
    if not convert:
        yield from rows
        return
    for raw in rows:
        row = list(raw)
        for i, fn in convert:
            if row[i] is not None:
                row[i] = fn(row[i])
        yield row


def _fixed_lines(rows: Sequence[Sequence[Any]], convert: Sequence[tuple[int, Any]],
                 text_fixes: Sequence[tuple[int, Any]]) -> Iterator[Sequence[Any]]:
    """The CSV cells of write_records for raw rows: converted, then booleans as true/false
    and text kept from spreadsheet formulas."""
    for row in _convert_rows(rows, convert):
        cells = list(row)
        for i, fix in text_fixes:
            v = cells[i]
            if v is not None:
                cells[i] = fix(v)
        yield cells


def _row_encoder() -> Any:
    """json.dumps(value, ensure_ascii=False) for many small values: the stdlib's C encoder
    made once, not once per call (a third of the cost of a row); the plain encoder where the
    C speed-ups are missing."""
    from json import encoder as jenc

    make = getattr(jenc, "c_make_encoder", None)
    if make is None:  # pragma: no cover - a Python built without _json
        return json.JSONEncoder(ensure_ascii=False).encode
    c = make(None, None, jenc.encode_basestring, None, ": ", ", ", False, False, True)
    join = "".join
    return lambda value: join(c(value, 0))


def _bool_text(value: Any) -> str:
    return "true" if value else "false"


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


# The narrowest a wrapping text column becomes before the table folds into records.
MIN_TEXT_WIDTH = 8
# Columns of these kinds are right-aligned in tables.
RIGHT_KINDS = ("int", "money", "days", "pct")
# Tables longer than this draw their plain body rows themselves (FittedTable.fast_lines).
FAST_ROWS = 50
# Values without spaces up to this long (ids, dates, amounts, slugs) are never cut or wrapped.
MAX_COMPACT = 24


def rich_table(rows: Iterable[dict[str, Any]], columns: Sequence[Column], *,
               title: str | None = None, totals: dict[str, Any] | None = None
               ) -> FittedTable:
    """A table that fits the width it is printed in (see `FittedTable`)."""
    shown = [c for c in columns if c.table]
    cells = [[_text_value(c, row.get(c.key), for_table=True) for c in shown] for row in rows]
    footers = None
    if totals is not None:
        footers = [_text_value(c, totals[c.key], for_table=True) if c.key in totals else ""
                   for c in shown]
    return FittedTable(shown, cells, title=title, footers=footers)


class FittedTable:
    """Rows as a Rich table that stays readable at any width: it never shrinks a column to
    nothing or cuts a value to "2026-0…".

    Short values without spaces (ids, dates, amounts, slugs) keep their full width; free text
    (names, schools) wraps at spaces, folding a word only when it is longer than its column.
    Layouts are tried in turn for the width the console offers: the boxed table at natural
    width, the boxed table with text columns wrapped (down to MIN_TEXT_WIDTH), a light table
    (no vertical rules, two spaces between columns) wrapped the same way, and - when even that
    is too wide (many date columns in 80 columns) - the rows folded into records, one
    `header  value` line per column, a blank line between rows, totals as a last record."""

    def __init__(self, columns: Sequence[Column], cells: list[list[str]], *,
                 title: str | None, footers: list[str] | None) -> None:
        from rich.cells import cell_len

        self.columns, self.cells, self.title, self.footers = list(columns), cells, title, footers
        self.natural: list[int] = []
        self.minimum: list[int] = []
        self.compact: list[bool] = []
        self.comfortable: list[int] = []  # wide enough that no word is folded
        self.right = [c.kind in RIGHT_KINDS or c.justify == "right" for c in self.columns]

        def width(v: str) -> int:
            return max((cell_len(line) for line in v.splitlines()), default=0)

        for i, c in enumerate(self.columns):
            values = [r[i] for r in cells] + ([footers[i]] if footers else [])
            widest = max((width(v) for v in values), default=0)
            words = [width(w) for w in c.title.split()] or [0]
            compact = widest <= MAX_COMPACT and not any(" " in v or "\n" in v for v in values)
            self.compact.append(compact)
            self.natural.append(max(widest, width(c.title)))
            self.minimum.append(max(widest, max(words)) if compact
                                else max(max(words), min(widest, MIN_TEXT_WIDTH)))
            longest_word = max((width(w) for v in values for w in v.split()), default=0)
            self.comfortable.append(max(self.minimum[-1], min(longest_word, self.natural[-1])))

    def widths(self, available: int, *, light: bool) -> list[int] | None:
        """Column widths (without padding) for this layout, or None when it cannot fit."""
        n = len(self.columns)
        overhead = 2 * n - 2 if light else 3 * n + 1
        room = available - overhead
        if sum(self.natural) <= room:
            return list(self.natural)
        if sum(self.minimum) > room:
            return None
        widths, spare = list(self.minimum), room - sum(self.minimum)
        # first widen text columns until no word is folded, then towards their natural width
        for goal in (self.comfortable, self.natural):
            while spare > 0:
                wanting = [i for i in range(n) if widths[i] < goal[i]]
                if not wanting:
                    break
                share = max(1, spare // len(wanting))
                for i in wanting:
                    add = min(share, goal[i] - widths[i], spare)
                    widths[i] += add
                    spare -= add
                    if not spare:
                        break
        return widths

    def table(self, widths: list[int], *, light: bool):  # type: ignore[no-untyped-def]
        from rich import box
        from rich.table import Table
        from rich.text import Text

        extra: dict[str, Any] = {}
        if light:
            extra = {"box": box.SIMPLE, "show_edge": False, "pad_edge": False,
                     "padding": (0, 1, 0, 0)}
        table = Table(title=self.title, show_footer=self.footers is not None,
                      title_justify="left", **extra)
        for i, c in enumerate(self.columns):
            justify = "right" if c.kind in RIGHT_KINDS else c.justify
            footer = self.footers[i] if self.footers else ""
            table.add_column(c.title, justify=justify, footer=Text(footer),  # type: ignore[arg-type]
                             width=widths[i], no_wrap=self.compact[i], overflow="fold")
        for r in self.cells:
            table.add_row(*[Text(v) for v in r])
        return table

    def records(self):  # type: ignore[no-untyped-def]
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        def block(pairs: list[tuple[str, str]]) -> Any:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True, style="bold")
            grid.add_column(overflow="fold")
            for header, value in pairs:
                grid.add_row(Text(header), Text(value))
            return grid

        parts: list[Any] = [Text(self.title)] if self.title else []
        titles = [c.title for c in self.columns]
        for r in self.cells:
            parts += [Text(""), block(list(zip(titles, r, strict=True)))]
        if self.footers:  # the totals, without their "total" labels
            pairs = [(t, f) for t, f in zip(titles, self.footers, strict=True)
                     if f and f.lower() not in ("total", "subtotal")]
            parts += [Text(""), Text("totals", style="bold"), block(pairs)]
        return Group(*parts)

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        available = options.max_width
        for light in (False, True):
            widths = self.widths(available, light=light)
            if widths is not None:
                if len(self.cells) > FAST_ROWS:
                    fast = self.fast_lines(widths, light=light, console=console,
                                           options=options)
                    if fast is not None:
                        yield from fast
                        return
                yield self.table(widths, light=light)
                return
        yield self.records()

    def _row_line(self, row: list[str], widths: list[int], light: bool) -> str | None:
        """The line Rich draws for a body row whose every value fits its column on one line
        (None if one does not: that row is left to Rich)."""
        from rich.cells import cell_len

        parts = []
        for i, v in enumerate(row):
            room = widths[i] - (cell_len(v) if not v.isascii() else len(v))
            if room < 0 or "\n" in v:
                return None
            parts.append(" " * room + v if self.right[i] else v + " " * room)
        if light:
            return "  ".join(parts)
        return "\u2502 " + " \u2502 ".join(parts) + " \u2502"

    def fast_lines(self, widths: list[int], *, light: bool, console: Any, options: Any
                   ) -> list[Any] | None:
        """The same lines as the Rich table, without Rich laying out every cell: Rich draws
        the frame (title, header, footer) around one probe row, and the body rows that fit
        their columns on one line are drawn here; rows that wrap are drawn by Rich.  Checked
        against Rich on the probe row: any difference (another box, styles) and it is None,
        and Rich draws everything.  30,000 rows: ~20x faster."""
        from rich.segment import Segment

        if any(c.justify not in ("left", "right") for c in self.columns):
            return None
        lines = [self._row_line(r, widths, light) for r in self.cells]
        probe = next((i for i, line in enumerate(lines) if line is not None), None)
        if probe is None:
            return None
        frame = FittedTable(self.columns, [self.cells[probe]], title=self.title,
                            footers=self.footers).table(widths, light=light)
        framed = console.render_lines(frame, options, pad=False, new_lines=False)
        texts = ["".join(seg.text for seg in line) for line in framed]
        if texts.count(lines[probe]) != 1:
            return None
        at = texts.index(lines[probe])
        if any(seg.style or seg.control for seg in framed[at]):
            return None
        out: list[Any] = []
        newline = Segment.line()

        def emit(rendered: list[list[Any]]) -> None:
            for line in rendered:
                out.extend(line)
                out.append(newline)

        emit(framed[:at])
        pending: list[list[str]] = []
        for r, line in zip(self.cells, lines, strict=True):
            if line is None:
                pending.append(r)
                continue
            if pending:
                emit(self._rich_rows(pending, widths, light, console, options))
                pending = []
            out.append(Segment(line))
            out.append(newline)
        if pending:
            emit(self._rich_rows(pending, widths, light, console, options))
        emit(framed[at + 1:])
        return out

    def _rich_rows(self, rows: list[list[str]], widths: list[int], light: bool, console: Any,
                   options: Any) -> list[list[Any]]:
        """Body lines drawn by Rich for rows that wrap: a table of just those rows, without
        its title, header, footer and (boxed) top and bottom rules."""
        part = FittedTable(self.columns, rows, title=None, footers=None)
        table = part.table(widths, light=light)
        table.show_header = False
        lines = console.render_lines(table, options, pad=False, new_lines=False)
        return lines if light else lines[1:-1]


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
    table.add_column(style="bold", no_wrap=True)  # labels never wrap; long values do
    table.add_column(overflow="fold")
    for c in columns:
        if c.table:
            table.add_row(Text(c.title), Text(_text_value(c, record.get(c.key), for_table=True)))
    con = console(out)
    con.print(table)
    for item in extra:
        con.print(item)


def write_value(value: Any, out: IO[str] | None = None) -> None:
    """One JSON document (an object, not rows): indented, UTF-8 as typed."""
    (out or sys.stdout).write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def emit_id(value: Any, fmt: Format | str | None, *, message: str | None = None) -> None:
    """A command that creates a record prints its id (`{"id": ...}` with --format json)."""
    fmt = Format(fmt or "auto")
    if fmt is Format.json:
        sys.stdout.write(json.dumps({"id": value}) + "\n")
    else:
        sys.stdout.write(f"{value}\n")
        if message and _isatty(sys.stderr):
            sys.stderr.write(message + "\n")


# --out FILE without --format: the format its suffix names.
OUT_SUFFIXES = {".csv": "csv", ".json": "json", ".txt": "plain", ".tsv": "plain", ".pdf": "pdf"}


def out_format(fmt: str, out: Path | None, *, choices: Sequence[str]) -> str:
    """The format to write: `--format` if given, else the one `--out`'s suffix names (.csv,
    .json, .txt/.tsv, .pdf).  A suffix that names another format than `--format` (`--format csv
    --out x.json`), a suffix naming a format the command cannot write, or `--out` with no
    telling suffix and no `--format` is bad input (exit 2).  A table may go into a .txt file.
    `fmt` and the result are format names ("auto", "csv", ...); `choices` are what the command
    writes."""
    from s2s_cli.errors import InvalidInput

    fmt = str(getattr(fmt, "value", fmt) or "auto")
    if out is None:
        return fmt
    suffix = out.suffix.lower()
    implied = OUT_SUFFIXES.get(suffix)
    can = [f for f in ("csv", "json", "plain", "pdf") if f in choices]
    if implied is None:
        if fmt == "auto":
            what = out.suffix or f"'{out.name}' (no suffix)"
            raise InvalidInput(f"cannot tell the format from {what}: name the file "
                               f"{_either(_suffixes(can))}, or add --format "
                               f"{'|'.join(can)}")
        return fmt
    if implied not in choices:
        raise InvalidInput(f"--out {out.name}: this command cannot write {implied}; name the "
                           f"file {_either(_suffixes(can))}")
    if fmt == "auto" or fmt == implied or (fmt == "table" and implied == "plain"):
        return implied if fmt == "auto" else fmt
    raise InvalidInput(f"--out {out.name} names {implied} but --format is {fmt}: make them "
                       "agree (or leave out --format)")


def _either(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _suffixes(formats: Sequence[str]) -> list[str]:
    by_format: dict[str, str] = {}
    for suffix, name in OUT_SUFFIXES.items():
        by_format.setdefault(name, suffix)
    return [by_format[f] for f in formats if f in by_format]


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
    import tempfile  # here: ~2 ms (random, hashlib) that no command writing to stdout needs

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


# --------------------------------------------------------------------------- fast text rows

class FastText:
    """Hand-formatted CSV or plain text for big outputs (tens of thousands of rows), usable by
    any report: the same text `write_csv` / `write_plain` produce, built with string joins
    and C-speed substring tests instead of a formatter call per cell.

    CSV: RFC 4180 minimal quoting, CRLF, a cell that a spreadsheet could run as a formula
    prefixed with a quote.  Plain: tab-separated, tabs and line breaks in text turned into
    spaces.  Rows are collected into chunks and written every `flush_every` rows, so memory
    stays flat whatever the size (streaming)."""

    def __init__(self, out: IO[str], *, csv_format: bool, flush_every: int = 4096) -> None:
        self.out = out
        self.csv = csv_format
        self.flush_every = flush_every
        self.chunks: list[str] = []
        if csv_format:
            self.sep, self.end = ",", "\r\n"
            self.breaks: tuple[str, ...] = (",", '"', "\n", "\r")  # quoted when present
            self.starts: tuple[str, ...] = FORMULA_PREFIXES  # neutralised when leading
        else:
            self.sep, self.end = "\t", "\n"
            self.breaks, self.starts = ("\t", "\n", "\r"), ()
        self._iso: dict[Any, str] = {}  # a report has a few hundred distinct dates at most
        self._days: dict[int, str] = {}

    def fix(self, raw: str) -> str:
        if self.csv:
            done = neutralise(raw)
            if '"' in done or "," in done or "\n" in done or "\r" in done:
                done = '"' + done.replace('"', '""') + '"'
            return done
        return raw.replace("\t", " ").replace("\n", " ").replace("\r", " ")

    def risky(self, raw: str) -> bool:
        """Whether text (several cells may be joined by NUL) needs `fix`."""
        return (any(b in raw for b in self.breaks) or raw.startswith(self.starts)
                or any("\0" + p in raw for p in self.starts))

    def any_risky(self, values: Iterable[Any]) -> bool:
        """Whether any of these text cells needs `fix` (one pass, C speed): when none does,
        a writer can skip `text` for that column."""
        values = set(values)  # repeated names and schools: each checked once
        try:
            joined = "\0".join(values)  # text cells: one C-speed join
        except TypeError:
            joined = "\0".join("" if v is None else str(v) for v in values)
        return self.risky(joined)

    def text(self, value: Any) -> str:
        if value is None:
            return ""
        raw = str(value)
        return self.fix(raw) if self.risky(raw) else raw

    def date(self, value: Any) -> str:
        found = self._iso.get(value)
        if found is None:
            found = self._iso[value] = ("" if value is None else value.isoformat()
                                        if isinstance(value, dt.date) else str(value))
        return found

    def days(self, halves: int) -> str:
        return self._days.get(halves) or self._days.setdefault(halves, days_str(halves))

    def header(self, keys: Iterable[str]) -> None:
        self.chunks.append(self.sep.join(keys) + self.end)

    def add(self, line: str) -> None:
        """A finished row (cells joined with `sep`, ending with `end`)."""
        self.chunks.append(line)
        if len(self.chunks) > self.flush_every:
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self.chunks))
        self.chunks.clear()


# --------------------------------------------------------------------------- invoice documents
#
# Invoices, drafts and credit notes as documents (services.invoicing builds them): JSON, CSV,
# plain text, tables and PDF are all written here.

# The JSON contract (see README): an invoice and its lines.
INVOICE_KEYS = ("number", "status", "payer", "payer_school_urn", "period_from", "period_to",
                "issued", "due", "subtotal_pence", "vat_pence", "total_pence", "vat_percent_bp",
                "payment_terms_days", "credits", "voided_by", "reason", "earlier_days",
                "vat_rates", "days", "paid_pence", "balance_pence", "payments",
                # issue 12: what a school's finance office needs (null on older documents)
                "vat_invoice", "tax_point", "payer_address", "payer_attention", "payer_email",
                "supplier",
                # purchase orders, trusts and partial credit notes (issues 12, 13)
                "po", "payer_trust_uid", "po_override", "po_missing", "days_credited",
                "payer_postal")
LINE_COLUMNS = [
    Column("deployment_id", "deployment", "int", table=False),
    Column("leader_id", "leader id", table=False),
    Column("leader", "leader"),
    Column("school_urn", "URN", "int", table=False),
    Column("school", "supported school"),
    Column("date_from", "from", "date"),
    Column("date_to", "to", "date"),
    Column("days", "days", "days"),
    Column("full_days", "full", "int"),
    Column("half_days", "half", "int"),
    Column("rate_pence", "day rate", "money"),
    Column("half_day_rate_pence", "half-day rate", "money"),
    Column("kind", "kind"),
    Column("amount_pence", "amount", "money"),
    Column("supply_pence", "supply", "money", table=False),
]
LINE_KEYS = tuple(c.key for c in LINE_COLUMNS)
# JSON lines carry more keys than CSV rows: the line's VAT rate, how many of its days are
# dated before the period (billed late), and the service and kind in words (`service` without
# the leader's name, `description` with it: "SLE coaching — phonics, Hannah Whitcombe"), and
# the VAT treatment and funding route frozen at issue (null on documents issued before).
JSON_LINE_KEYS = (*LINE_KEYS, "vat_percent_bp", "earlier_days", "service", "description",
                  "kind_text", "vat", "funding")
CSV_COLUMNS = [
    Column("number"), Column("status"), Column("payer"),
    Column("payer_school_urn", kind="int"), Column("issued", kind="date"),
    Column("due", kind="date"), Column("period_from", kind="date"),
    Column("period_to", kind="date"), *LINE_COLUMNS,
    Column("invoice_total_pence", kind="money"),
    Column("service"), Column("kind_text"), Column("po"),
]
PAYMENT_COLUMNS = [
    Column("id", "payment", "int"), Column("invoice", table=False), Column("date", kind="date"),
    Column("amount_pence", "amount", "money"), Column("method"), Column("ref", "reference"),
    Column("reverses", "reverses", "int"), Column("reversed_by", "reversed by", "int"),
    Column("reason"),
]


def write_documents(docs: Sequence[Document], fmt: Format | str | None, out: IO[str], *,
                    empty: str) -> None:
    """Invoice documents as JSON, CSV, plain text or tables (PDF: `documents_pdf`)."""
    resolved = resolve_format(fmt, out)
    if resolved is Format.json:
        _documents_json(docs, out)
    elif resolved in (Format.csv, Format.plain):
        _documents_rows(docs, out, csv_format=resolved is Format.csv)
    else:
        _documents_tables(docs, out, empty=empty)


def documents_pdf(docs: Sequence[Document], *, logos: dict[str, bytes] | None = None) -> bytes:
    """Invoice documents as one PDF (drawn by services/pdf.py)."""
    from s2s_cli.services import pdf

    return pdf.render(docs, logos=logos)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _documents_json(docs: Sequence[Document], out: IO[str]) -> None:
    """A list of invoices (INVOICE_KEYS), each with its `lines` (JSON_LINE_KEYS): one invoice
    per line of text, compact, so that a national month prints fast."""
    iso: dict[Any, Any] = {}  # a month has a few dozen distinct dates
    days: dict[int, str] = {}

    def date(value: Any) -> Any:
        found = iso.get(value)
        if found is None:
            found = iso[value] = _iso(value)
        return found

    def day_text(halves: int) -> str:
        return days.get(halves) or days.setdefault(halves, days_str(halves))

    dumps = json.JSONEncoder(ensure_ascii=False).encode
    chunks = ["["]
    for n, doc in enumerate(docs):
        item = {k: getattr(doc, k) for k in INVOICE_KEYS}  # `supplier` replaced next
        item["supplier"] = doc.supplier_item()
        for k in ("period_from", "period_to", "issued", "due"):
            item[k] = date(item[k])
        lines = []
        for ln in doc.lines:
            row = ln.item()
            row["date_from"], row["date_to"] = date(ln.date_from), date(ln.date_to)
            row["days"] = day_text(ln.days)
            lines.append(row)
        item["lines"] = lines
        if doc.payments is not None:  # invoices show: the payments against it
            item["payments"] = [p | {"date": date(p["date"])} for p in doc.payments]
        if doc.days is not None:  # the schedule of dated days: halves as day text
            item["days"] = [d | {"days": day_text(d["halves"])} for d in doc.days]
        chunks.append(("\n  " if n == 0 else ",\n  ") + dumps(item))
        if len(chunks) > 4096:
            out.write("".join(chunks))
            chunks.clear()
    chunks.append("\n]\n" if docs else "]\n")
    out.write("".join(chunks))


def _documents_rows(docs: Sequence[Document], out: IO[str], *, csv_format: bool) -> None:
    """One row per invoice line, the invoice's columns repeated (CSV_COLUMNS), through
    `FastText`: a national month has tens of thousands of lines."""
    from operator import attrgetter

    w = FastText(out, csv_format=csv_format)
    sep, end, text, date = w.sep, w.end, w.text, w.date
    lines = [ln for doc in docs for ln in doc.lines]
    # Usually no text needs fixing: find out in one pass per column, skip it line by line.
    check = any(w.any_risky(map(attrgetter(key), lines))
                for key in ("leader_id", "leader", "school", "service", "kind_text"))
    check_payers = w.any_risky(doc.payer for doc in docs)
    w.header(c.key for c in CSV_COLUMNS)
    cells = attrgetter(*LINE_KEYS, "service", "kind_text")  # in CSV_COLUMNS order
    iso = w._iso  # a month has a few dozen distinct dates: formatted once
    days = w.days
    chunks = w.chunks
    for doc in docs:
        number, payer, urn = doc.number, doc.payer, doc.payer_school_urn
        head = (f"{'' if number is None else text(number)}{sep}{doc.status}{sep}"
                f"{text(payer) if check_payers else payer}{sep}{'' if urn is None else urn}"
                f"{sep}{date(doc.issued)}{sep}{date(doc.due)}{sep}"
                f"{date(doc.period_from)}{sep}{date(doc.period_to)}{sep}")
        total = f"{sep}{doc.total_pence}{sep}"
        po = doc.po
        tail = f"{sep}{'' if po is None else text(po)}{end}"
        for ln in doc.lines:
            (dep_id, lid, name, urn, school, d1, d2, n, full, half, rate, half_rate, kind,
             amount, supply, words, kind_words) = cells(ln)
            if check:
                lid, name, school = text(lid), text(name), text(school)
                words, kind_words = text(words), text(kind_words)
            chunks.append(
                f"{head}{dep_id}{sep}{lid}{sep}{name}{sep}{urn}{sep}{school}{sep}"
                f"{iso.get(d1) or date(d1)}{sep}{iso.get(d2) or date(d2)}{sep}{days(n)}{sep}"
                f"{full}{sep}{half}{sep}{rate}{sep}{half_rate}{sep}{kind}{sep}{amount}{sep}"
                f"{supply}{total}{'' if words is None else words}{sep}"
                f"{'' if kind_words is None else kind_words}{tail}")
        if len(chunks) > 4096:
            w.flush()
    w.flush()


def _documents_tables(docs: Sequence[Document], out: IO[str], *, empty: str) -> None:
    from rich.text import Text

    con = console(out)
    if not docs:
        con.print(Text(empty))
        return
    for doc in docs:
        head = f"{doc.number} ({doc.status})" if doc.number else "Draft invoice"
        title = f"{head} - {doc.payer} - {doc.period_from} to {doc.period_to}"
        if doc.issued:
            title += f" - issued {doc.issued}, due {doc.due}"
        if doc.credits:
            title += f" - credits {doc.credits}"
        if doc.voided_by:
            title += f" - voided by {doc.voided_by}"
        totals = {"days": sum(ln.days for ln in doc.lines),
                  "amount_pence": doc.subtotal_pence, "leader": "subtotal"}
        con.print(rich_table([ln.item() for ln in doc.lines], LINE_COLUMNS, title=title,
                             totals=totals))
        con.print(Text(f"Subtotal {format_pence(doc.subtotal_pence)}   VAT "
                       f"{format_pence(doc.vat_pence)}   Total "
                       f"{format_pence(doc.total_pence)}\n"))
        if doc.status not in ("draft", "credit") and doc.total_pence == 0:
            con.print(Text("Nothing to pay: every day on it is free or funded elsewhere.\n"))
        if doc.payments is not None:
            if doc.payments:
                con.print(rich_table(doc.payments, PAYMENT_COLUMNS, title="Payments"))
            con.print(Text(f"Paid {format_pence(doc.paid_pence or 0)}   Balance "
                           f"{format_pence(doc.balance_pence or 0)} ({doc.status})\n"))
