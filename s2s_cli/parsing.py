"""Parsers for what a coordinator types: money, day quantities, dates, periods.
Stdlib only; every failure is an InvalidInput (exit 2) with one line."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from s2s_cli.errors import InvalidInput

MAX_PENCE = 10_000_000  # £100,000: no day rate is larger; anything above is a typo
MAX_HALVES = 2 * 400


def parse_money(text: str | int | float | Decimal, *, what: str = "amount") -> int:
    """'£1,234.50', '350', '350.5' -> pence.  Refuses negatives, fractions of a penny, absurd
    amounts.  (A float from YAML is read through its shortest decimal repr, never multiplied.)"""
    if isinstance(text, bool):
        raise InvalidInput(f"{what} must be an amount in pounds, not {text!r}")
    raw = str(text).strip()
    if raw.startswith("£"):
        raw = raw[1:]
    if "," in raw:
        # Commas only as correctly grouped thousands (1,000 / £12,345.67): "1,0" or "£1,00"
        # is a typo (or a decimal comma), never silently read as another amount.
        if not re.fullmatch(r"[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]{1,2})?", raw):
            raise InvalidInput(f"{what} {str(text)!r}: commas may only group thousands "
                               f"(1,000 or 1,000.50)")
        raw = raw.replace(",", "")
    if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,2})?", raw):
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
    if not re.fullmatch(r"[0-9]{1,4}(\.[0-9]+)?", raw):
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


RELATIVE_DAYS = {"yesterday": -1, "today": 0, "tomorrow": 1}
DATE_HINT = "a date like 2026-09-15, 15/09/2026, today, yesterday or tomorrow"


def today() -> dt.date:
    """The one clock: today, or the date in $S2S_TODAY (2026-09-15 or 15/09/2026) when set, for
    tests and back-dated runs.  `today`, `yesterday` and `tomorrow` typed as a date count from
    it."""
    import os


    raw = os.environ.get("S2S_TODAY", "").strip()
    if raw:
        return parse_date(raw, what="S2S_TODAY", relative=False)
    return dt.date.today()


def parse_date(text: str | dt.date, *, what: str = "date", relative: bool = True) -> dt.date:
    """What a coordinator types as a date: ISO (2026-11-27), UK day/month/year (27/11/2026,
    7/1/2027) or, unless relative=False, today / yesterday / tomorrow (from `today()`).  Slashed
    dates are always day first: 11/27/2026 is refused, never read as 27 November."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    raw = str(text).strip()
    word = raw.lower()
    if relative and word in RELATIVE_DAYS:
        return today() + dt.timedelta(days=RELATIVE_DAYS[word])
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise InvalidInput(f"{what} {raw} is not a real date ({exc})") from exc
    elif m := re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", raw):
        day, month, year = (int(g) for g in m.groups())
        if not 1 <= month <= 12:
            hint = (f"; did you mean {month:02d}/{day:02d}/{year}?"
                    if 1 <= day <= 12 else "")
            raise InvalidInput(f"{what} {raw} is not a real date: dates with slashes are "
                               f"day/month/year (UK order) and there is no month {month}{hint}")
        try:
            value = dt.date(year, month, day)
        except ValueError as exc:
            raise InvalidInput(f"{what} {raw} is not a real date (day/month/year: {exc})"
                               ) from exc
    else:
        raise InvalidInput(f"{what} must be {DATE_HINT}, not {raw!r}")
    check_year(value.year, what=what, raw=raw)
    return value


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    raw = str(text).strip()
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", raw)
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
    m = re.fullmatch(r"([0-9]{4})(?:[-/]([0-9]{2}|[0-9]{4}))?", raw)
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

# Characters no name, note or --as may hold: they reorder or hide what a reader sees (bidi
# overrides and isolates: "Trojan Source"), break lines where none should be (U+2028/9), or
# are terminal controls (C0, DEL, C1).
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_LINE_SEPARATORS = {0x2028, 0x2029}
# Invisible on their own: zero-width and other format characters, and the blank fillers.
_INVISIBLE = {0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B, 0x200C,
              0x200D, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x3164, 0xFEFF,
              0xFFA0}


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with free text, or None: the one check every name, note and --as goes
    through (command-line options and seed files alike).  Tabs and newlines only in
    `multiline` text (a note)."""
    allowed = "\t\n" if multiline else ""
    for c in text:
        o = ord(c)
        if o < 32 or o == 127 or 0x80 <= o <= 0x9F:
            if c not in allowed:
                return ("contains a line break" if c in "\r\n" else
                        "contains a tab" if c == "\t" else "contains control characters")
        elif 0xD800 <= o <= 0xDFFF or o == 0xFFFD:
            return "is not valid UTF-8 text"
        elif o in _BIDI:
            return f"contains a bidirectional control character (U+{o:04X})"
        elif o in _LINE_SEPARATORS:
            return f"contains a Unicode line separator (U+{o:04X})"
    if text.strip() and not any(not c.isspace() and ord(c) not in _INVISIBLE
                                and unicodedata.category(c) != "Cf" for c in text):
        return "holds only invisible characters"
    return None


def clean_text(text: str | None, *, what: str = "text", max_len: int = MAX_TEXT,
               required: bool = False, multiline: bool = False) -> str | None:
    """Free text from the command line: no control, bidi or invisible-only text, bounded
    length; tabs and newlines only in `multiline` text (Windows line ends become \\n)."""
    if text is None:
        if required:
            raise InvalidInput(f"{what} is required")
        return None
    if multiline:
        text = text.replace("\r\n", "\n")
    problem = text_problem(text, multiline=multiline)
    if problem:
        raise InvalidInput(f"{what} {problem}")
    text = text.strip()
    if required and not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > max_len:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {max_len}")
    return text or None
