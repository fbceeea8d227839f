"""Parsers for what a coordinator types: money, day quantities, dates, periods.
Stdlib only; every failure is an InvalidInput (exit 2) with one line."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from s2s_cli.errors import InvalidInput

MAX_PENCE = 10_000_000  # £100,000: no day rate is larger; anything above is a typo
MAX_HALVES = 2 * 400


def parse_money(text: str | int | float | Decimal, *, what: str = "amount") -> int:
    """'£1,234.50', '350', '350.5' -> pence.  Refuses negatives, fractions of a penny, absurd
    amounts.  (A float from YAML is read through its shortest decimal repr, never multiplied.)"""
    if isinstance(text, bool):
        raise InvalidInput(f"{what} must be an amount in pounds, not {text!r}")
    raw = str(text).strip().replace(",", "")
    if raw.startswith("£"):
        raw = raw[1:]
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", raw):
        raise InvalidInput(f"{what} must be an amount in pounds such as 350 or 350.50, "
                           f"not {str(text)!r}")
    try:
        pence = int(Decimal(raw) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise InvalidInput(f"{what}: {str(text)!r} is not an amount") from exc
    if pence > MAX_PENCE:
        raise InvalidInput(f"{what} {format_pence(pence)} is more than the "
                           f"{format_pence(MAX_PENCE)} limit")
    return pence


def format_pence(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, p = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{p:02d}"


def pence_str(pence: int) -> str:
    """Plain decimal pounds for CSV/plain output: 123450 -> '1234.50'."""
    sign = "-" if pence < 0 else ""
    pounds, p = divmod(abs(int(pence)), 100)
    return f"{sign}{pounds}.{p:02d}"


def parse_days(text: str | int | float | Decimal, *, what: str = "days",
               allow_zero: bool = False) -> int:
    """'2.5' -> 5 halves.  Whole or half days only, positive, at most 400."""
    if isinstance(text, bool):
        raise InvalidInput(f"{what} must be a number of days, not {text!r}")
    raw = str(text).strip()
    if not re.fullmatch(r"\d{1,4}(\.\d+)?", raw):
        raise InvalidInput(f"{what} must be a number of whole or half days such as 2 or 2.5, "
                           f"not {raw!r}")
    value = Decimal(raw)
    halves = value * 2
    if halves != halves.to_integral_value():
        raise InvalidInput(f"{what} must be whole or half days (such as 2 or 2.5), not {raw}")
    n = int(halves)
    if n == 0 and not allow_zero:
        raise InvalidInput(f"{what} must be more than zero")
    if n > MAX_HALVES:
        raise InvalidInput(f"{what} {raw} is more than the 400-day limit")
    return n


def days_str(halves: int | None) -> str:
    """Exact decimal string for a number of halves: 5 -> '2.5', 4 -> '2'."""
    if halves is None:
        return ""
    sign = "-" if int(halves) < 0 else ""  # a leader booked beyond capacity: -1 -> "-0.5"
    whole, half = divmod(abs(int(halves)), 2)
    return f"{sign}{whole}.5" if half else f"{sign}{whole}"


# Dates outside these years are typos; near year 1 or 9999 date arithmetic (due dates, terms,
# "within N days") would overflow instead of answering.
MIN_YEAR, MAX_YEAR = 1900, 2200


def check_year(year: int, *, what: str, raw: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"{what} {raw} is outside the years {MIN_YEAR} to {MAX_YEAR}")


def today() -> dt.date:
    """The one clock: today, or the date in $S2S_TODAY (YYYY-MM-DD) when set."""
    import os

    raw = os.environ.get("S2S_TODAY", "").strip()
    if raw:
        return parse_date(raw, what="S2S_TODAY")
    return dt.date.today()


def parse_date(text: str | dt.date, *, what: str = "date") -> dt.date:
    if isinstance(text, dt.date):
        return text
    raw = str(text).strip()
    if raw.lower() == "today":
        return today()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise InvalidInput(f"{what} must be a date like 2026-09-15, not {raw!r}")
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"{what} {raw} is not a real date ({exc})") from exc
    check_year(value.year, what=what, raw=raw)
    return value


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    raw = str(text).strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput(f"month must look like 2026-09, not {raw!r}")
    year, month = int(m.group(1)), int(m.group(2))
    check_year(year, what="month", raw=raw)
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def academic_year_bounds(start_year: int) -> tuple[dt.date, dt.date]:
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31)


def parse_academic_year(text: str) -> int:
    """'2026-27' or '2026' -> 2026."""
    raw = str(text).strip()
    m = re.fullmatch(r"(\d{4})(?:[-/](\d{2}|\d{4}))?", raw)
    if not m:
        raise InvalidInput(f"academic year must look like 2026-27, not {raw!r}")
    start = int(m.group(1))
    check_year(start, what="academic year", raw=raw)
    if m.group(2):
        end = int(m.group(2))
        if end % 100 != (start + 1) % 100:
            raise InvalidInput(f"academic year {raw} must span two consecutive years, e.g. "
                               f"{start}-{(start + 1) % 100:02d}")
    return start


def check_range(start: dt.date | None, end: dt.date | None, *, what: str = "dates") -> None:
    if start and end and end < start:
        raise InvalidInput(f"{what}: the end {end} is before the start {start}")


MAX_TEXT = 2000


def clean_text(text: str | None, *, what: str = "text", max_len: int = MAX_TEXT,
               required: bool = False) -> str | None:
    """Free text from the command line: no control characters, bounded length."""
    if text is None:
        if required:
            raise InvalidInput(f"{what} is required")
        return None
    if any((ord(c) < 32 and c not in "\t") or ord(c) == 127 for c in text):
        raise InvalidInput(f"{what} contains control characters")
    if "\ufffd" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InvalidInput(f"{what} is not valid UTF-8 text")
    text = text.strip()
    if required and not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > max_len:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {max_len}")
    return text or None
