"""Long tables draw their one-line body rows without Rich laying out every cell
(output.FittedTable.fast_lines): the result must be exactly what Rich draws, in every layout
(boxed, light, wrapped rows mixed in, wide characters, right-aligned numbers, totals)."""

from __future__ import annotations

import io

import pytest

from s2s_cli import output
from s2s_cli.output import Column

COLUMNS = [Column("id"), Column("name"), Column("school"), Column("days", kind="days"),
           Column("amount_pence", "amount", "money")]


def rows(n: int) -> list[dict]:  # type: ignore[type-arg]
    names = ["Ann Lee", "Zoë Ångström", "李小龍", "Bartholomew Fotheringay-Phipps", "O'Brien"]
    schools = ["Marsh Lane Primary", "St Mary's C of E Primary School and Nursery",
               "Kew", "Heathfield Junior and Infant Academy of Excellence"]
    return [{"id": f"L{i:05d}", "name": names[i % 5], "school": schools[i % 4],
             "days": (i % 7) + 1, "amount_pence": 12345 * (i % 13)} for i in range(n)]


def draw(n: int, width: int, *, fast: bool, totals: bool) -> str:
    buf = io.StringIO()
    con = output.console(buf)
    con.width = width
    table = output.rich_table(rows(n), COLUMNS, title=f"{n} rows",
                              totals={"id": "total", "amount_pence": 999999} if totals else None)
    if not fast:
        table.fast_lines = lambda *a, **k: None  # type: ignore[method-assign]
    con.print(table)
    return buf.getvalue()


@pytest.mark.parametrize("width", [200, 90, 70, 52, 46])
@pytest.mark.parametrize("totals", [False, True])
def test_fast_rows_are_what_rich_draws(width: int, totals: bool) -> None:
    n = output.FAST_ROWS + 40
    fast = draw(n, width, fast=True, totals=totals)
    assert fast == draw(n, width, fast=False, totals=totals)
    assert fast.count("\n") >= n


def test_fast_path_is_taken_for_long_tables() -> None:
    table = output.rich_table(rows(output.FAST_ROWS + 1), COLUMNS, title="t")
    con = output.console(io.StringIO())
    con.width = 200
    widths = table.widths(200, light=False)
    assert widths is not None
    assert table.fast_lines(widths, light=False, console=con, options=con.options) is not None
