"""Property-based tests for the parsers of what a coordinator types: money, days, dates and
specialisms.  Each parser either returns an exact value or raises InvalidInput - never a float,
never another exception."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from s2s_cli import parsing, taxonomy
from s2s_cli.errors import InvalidInput
from s2s_cli.services.directory import resolve_specialism

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

pence = st.integers(min_value=0, max_value=parsing.MAX_PENCE)


# --- money -------------------------------------------------------------------------------


@SETTINGS
@given(pence)
def test_money_round_trips_through_its_display_form(p):
    shown = parsing.format_pence(p)
    assert shown.startswith("£")
    back = parsing.parse_money(shown)
    assert back == p
    assert isinstance(back, int) and not isinstance(back, bool)


@SETTINGS
@given(pence)
def test_money_round_trips_through_plain_pounds(p):
    assert parsing.parse_money(parsing.pence_str(p)) == p
    pounds, pennies = divmod(p, 100)
    assert parsing.parse_money(f"{pounds}.{pennies:02d}") == p
    if pennies == 0:
        assert parsing.parse_money(str(pounds)) == p
        assert parsing.parse_money(pounds) == p


@SETTINGS
@given(st.integers(min_value=0, max_value=99_999), st.integers(min_value=0, max_value=99))
@example(0, 10)  # 0.1 + 0.2 style float traps
@example(350, 29)
def test_money_from_a_yaml_float_is_read_through_its_decimal_form(pounds, pennies):
    value = float(f"{pounds}.{pennies:02d}")
    expected = pounds * 100 + pennies
    assert parsing.parse_money(value) == expected  # 0.29 * 100 would be 28.999...


@SETTINGS
@given(st.text(max_size=30))
@example("-5")
@example("1e3")
@example("350.505")
@example("NaN")
@example("inf")
@example("£")
@example("１２")  # full-width digits
def test_money_refuses_anything_else_with_invalid_input(text):
    try:
        p = parsing.parse_money(text)
    except InvalidInput as exc:
        assert "\n" not in exc.message
        return
    assert isinstance(p, int) and 0 <= p <= parsing.MAX_PENCE
    raw = text.strip().removeprefix("£")
    if "," in raw:  # commas accepted only as correctly grouped thousands
        whole = raw.split(".")[0]
        assert whole.replace(",", "") and f"{int(whole.replace(',', '')):,}" == whole
    assert Decimal(raw.replace(",", "")) * 100 == p  # accepted text means exactly this many pence


@SETTINGS
@given(pence)
def test_money_round_trips_through_grouped_thousands(p):
    pounds, pennies = divmod(p, 100)
    assert parsing.parse_money(f"{pounds:,}.{pennies:02d}") == p
    assert parsing.parse_money(f"£{pounds:,}.{pennies:02d}") == p
    if pennies == 0:
        assert parsing.parse_money(f"{pounds:,}") == p


@pytest.mark.parametrize("text", ["1,0", "£1,00", ",100", "100,", "1,,000", "1,00,000",
                                  "01,000", "1000,000", "1,0000", "1,000.5,0", "£,5",
                                  "1,000,00", "0,100"])
def test_money_refuses_misgrouped_commas(text):
    with pytest.raises(InvalidInput, match="commas may only group thousands"):
        parsing.parse_money(text)


@SETTINGS
@given(st.integers(min_value=1_000, max_value=parsing.MAX_PENCE // 100),
       st.integers(min_value=1, max_value=6))
def test_money_refuses_a_comma_anywhere_but_the_thousands(pounds, at):
    digits = str(pounds)
    at = min(at, len(digits) - 1)
    text = digits[:at] + "," + digits[at:]
    if len(digits) - at == 3 and at <= 3:
        assert parsing.parse_money(text) == pounds * 100  # the one right place
    else:
        with pytest.raises(InvalidInput):
            parsing.parse_money(text)


@SETTINGS
@given(st.integers(min_value=parsing.MAX_PENCE + 1, max_value=10**11))
def test_absurd_amounts_are_refused(p):
    with pytest.raises(InvalidInput):
        parsing.parse_money(parsing.pence_str(p))


@SETTINGS
@given(st.integers(min_value=-10**9, max_value=-1))
def test_negative_amounts_are_refused(p):
    with pytest.raises(InvalidInput):
        parsing.parse_money(parsing.pence_str(p))
    with pytest.raises(InvalidInput):
        parsing.parse_money(p)


@SETTINGS
@given(st.integers(min_value=-10**12, max_value=10**12))
def test_format_pence_is_exact(p):
    shown = parsing.format_pence(p)
    sign = -1 if shown.startswith("-") else 1
    digits = shown.lstrip("-").removeprefix("£").replace(",", "")
    assert sign * int(Decimal(digits) * 100) == p


# --- days --------------------------------------------------------------------------------

halves = st.integers(min_value=1, max_value=parsing.MAX_HALVES)


@SETTINGS
@given(halves)
def test_days_round_trip(n):
    text = parsing.days_str(n)
    assert parsing.parse_days(text) == n
    assert isinstance(parsing.parse_days(text), int)


@SETTINGS
@given(halves)
def test_days_accept_trailing_zero_decimals(n):
    whole, half = divmod(n, 2)
    assert parsing.parse_days(f"{whole}.{5 if half else 0}0") == n


@SETTINGS
@given(st.integers(min_value=0, max_value=399),
       st.integers(min_value=1, max_value=9).filter(lambda d: d != 5))
@example(0, 3)
def test_non_half_days_are_refused(whole, tenth):
    with pytest.raises(InvalidInput, match="whole or half days"):
        parsing.parse_days(f"{whole}.{tenth}")


@pytest.mark.parametrize("text", ["0", "0.0", "-1", "-0.5", "abc", "", "1/2", "1,5", "NaN",
                                  "inf", "401", "2.25", "0.3", "1e1"])
def test_days_refuse_bad_quantities(text):
    with pytest.raises(InvalidInput):
        parsing.parse_days(text)


def test_zero_days_only_when_allowed():
    assert parsing.parse_days("0", allow_zero=True) == 0


@SETTINGS
@given(st.text(max_size=20))
def test_days_never_crash(text):
    try:
        n = parsing.parse_days(text)
    except InvalidInput:
        return
    assert n >= 1 and n <= parsing.MAX_HALVES
    assert Decimal(text.strip()) * 2 == n


# --- dates -------------------------------------------------------------------------------


@SETTINGS
@given(st.dates(min_value=dt.date(parsing.MIN_YEAR, 1, 1),
                max_value=dt.date(parsing.MAX_YEAR, 12, 31)))
def test_iso_dates_round_trip(d):
    assert parsing.parse_date(d.isoformat()) == d
    assert parsing.parse_date(f"  {d.isoformat()}\t") == d


@st.composite
def impossible_dates(draw):  # type: ignore[no-untyped-def]
    """(year, month, day) with a day past the month's end, as text."""
    import calendar

    year = draw(st.integers(min_value=parsing.MIN_YEAR, max_value=parsing.MAX_YEAR))
    month = draw(st.integers(min_value=1, max_value=12))
    last = calendar.monthrange(year, month)[1]
    day = draw(st.integers(min_value=last + 1, max_value=99))
    return f"{year:04d}-{month:02d}-{day:02d}"


@SETTINGS
@given(impossible_dates())
@example("2026-02-30")
@example("2025-02-29")
@example("2026-04-31")
def test_impossible_dates_are_refused(text):
    with pytest.raises(InvalidInput, match="not a real date"):
        parsing.parse_date(text)


@SETTINGS
@given(st.dates().filter(lambda d: not parsing.MIN_YEAR <= d.year <= parsing.MAX_YEAR))
@example(dt.date(9999, 12, 31))
@example(dt.date(1, 1, 1))
def test_dates_outside_the_sensible_years_are_refused(d):
    with pytest.raises(InvalidInput, match="outside the years"):
        parsing.parse_date(d.isoformat())


@pytest.mark.parametrize("text", ["9999-12", "0000-01", "1899-12", "2201-01"])
def test_months_outside_the_sensible_years_are_refused(text):
    with pytest.raises(InvalidInput):
        parsing.parse_month(text)


@SETTINGS
@given(st.dates(min_value=dt.date(parsing.MIN_YEAR, 1, 1),
                max_value=dt.date(parsing.MAX_YEAR, 12, 31)))
def test_uk_dates_read_day_first(d):
    assert parsing.parse_date(f"{d.day:02d}/{d.month:02d}/{d.year}") == d
    assert parsing.parse_date(f"{d.day}/{d.month}/{d.year}") == d


@SETTINGS
@given(st.integers(min_value=13, max_value=31), st.integers(min_value=1, max_value=12))
def test_month_first_dates_are_never_read_as_uk_dates(day, month):
    with pytest.raises(InvalidInput, match="day/month/year"):
        parsing.parse_date(f"{month}/{day}/2026")


def test_relative_days_count_from_the_clock(monkeypatch):
    monkeypatch.setenv("S2S_TODAY", "2026-12-31")
    assert parsing.parse_date("today") == dt.date(2026, 12, 31)
    assert parsing.parse_date(" Tomorrow ") == dt.date(2027, 1, 1)
    assert parsing.parse_date("YESTERDAY") == dt.date(2026, 12, 30)
    monkeypatch.setenv("S2S_TODAY", "today")  # the clock itself is never relative
    with pytest.raises(InvalidInput, match="S2S_TODAY"):
        parsing.today()


@pytest.mark.parametrize("text", ["2026-13-01", "2026-00-10", "2026-1-5", "26-01-05",
                                  "05/13/2026", "5/1/26", "05-01-2026", "2026/01/05",
                                  "2026-01-05T10:00", "", "tomorrow please", "yesterday-1",
                                  "2026-01-05; DROP TABLE leader", "１/１/２０２６"])
def test_malformed_dates_are_refused(text):
    with pytest.raises(InvalidInput):
        parsing.parse_date(text)


@SETTINGS
@given(st.text(max_size=20))
def test_dates_never_crash(text):
    try:
        d = parsing.parse_date(text)
    except InvalidInput:
        return
    assert isinstance(d, dt.date)


# --- specialisms -------------------------------------------------------------------------

ALL_TERMS = sorted({(s.slug, s.slug) for s in taxonomy.SPECIALISMS}
                   | {(s.name, s.slug) for s in taxonomy.SPECIALISMS}
                   | {(a, s.slug) for s in taxonomy.SPECIALISMS for a in s.aliases
                      if taxonomy.lookup_specialism(a)[0] == s.slug})


def _case_variants(text: str) -> list[str]:
    return [text, text.upper(), text.lower(), text.title(), f"  {text}  ",
            text.swapcase()]


@pytest.mark.parametrize("term,slug", ALL_TERMS)
def test_every_slug_name_and_alias_resolves_in_any_case(term, slug):
    for variant in _case_variants(term):
        assert resolve_specialism(variant) == slug, variant
        hit = taxonomy.lookup_specialism(variant)
        assert hit is not None and hit[0] == slug


def test_every_alias_resolves_to_some_specialism():
    # an alias shared by two specialisms resolves to one of them, never to nothing
    for s in taxonomy.SPECIALISMS:
        for alias in s.aliases:
            assert taxonomy.lookup_specialism(alias) is not None, alias


@SETTINGS
@given(st.sampled_from(ALL_TERMS), st.data())
def test_case_and_separators_do_not_matter(pair, data):
    term, slug = pair
    mixed = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in term)
    assert resolve_specialism(mixed) == slug
    assert resolve_specialism(mixed.replace(" ", "_")) == slug or " " not in term


@SETTINGS
@given(st.text(max_size=40))
@example("phonix")
@example("'; DROP TABLE leader; --")
@example("\x00\x1b[31m")
@example("")
@example("   ")
def test_random_text_resolves_or_is_refused_with_help(text):
    try:
        slug = resolve_specialism(text)
    except InvalidInput as exc:
        assert exc.exit_code == 2
        assert "no specialism matches" in exc.message
        assert "nearest:" in exc.message or "s2s specialisms" in exc.message
        assert "\n" not in exc.message
        return
    assert slug in taxonomy.SPECIALISM_BY_SLUG


def test_a_near_miss_suggests_the_intended_specialism():
    with pytest.raises(InvalidInput, match="phonics"):
        resolve_specialism("phonix")
    with pytest.raises(InvalidInput, match="maths"):
        resolve_specialism("mathz")
