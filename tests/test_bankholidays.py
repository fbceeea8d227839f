"""`s2s_cli/bankholidays.py` holds England's bank holidays as the `holidays` library gives them
(so `log` and `plan` need not import it): checked year by year against the installed library.

`python -m tests.test_bankholidays > s2s_cli/bankholidays.py` regenerates the file."""

from __future__ import annotations

import datetime as dt
import inspect


def library(first: int, last: int) -> dict[str, str]:
    import holidays

    found = holidays.country_holidays("GB", subdiv="ENG", years=range(first, last + 1))
    return {d.isoformat(): str(name) for d, name in sorted(found.items())}


def test_snapshot_is_the_library() -> None:
    from s2s_cli import bankholidays as bh

    assert bh.DAYS == library(bh.FIRST_YEAR, bh.LAST_YEAR)


def test_between_matches_the_library_inside_and_outside_the_range() -> None:
    from s2s_cli import bankholidays as bh
    from s2s_cli.services.deployments import bank_holidays

    for first, last in ((dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
                        (dt.date(2014, 12, 1), dt.date(2015, 1, 31)),
                        (dt.date(2040, 12, 20), dt.date(2041, 1, 5))):
        want = {dt.date.fromisoformat(d): n for d, n in library(first.year, last.year).items()
                if first <= dt.date.fromisoformat(d) <= last}
        assert bh.between(first, last) == want
        assert bank_holidays(first, last) == want


if __name__ == "__main__":
    from s2s_cli import bankholidays as bh

    src = inspect.getsource(bh)
    head, tail = src.split("DAYS: dict[str, str] = {\n", 1)
    tail = tail.split("\n}\n", 1)[1]
    body = "".join(f"    {d!r}: {n!r},\n" for d, n in library(bh.FIRST_YEAR,
                                                                bh.LAST_YEAR).items())
    print(head + "DAYS: dict[str, str] = {\n" + body + "}\n" + tail, end="")
