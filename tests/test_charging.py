"""The pure charging rules (services/charging.py): kinds of day, payers, amounts, the NLG
allowance, DfE packages and VAT, on plain data with hand-worked figures."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s2s_cli.services import charging
from s2s_cli.services.charging import Day, Dep

D = dt.date
KINDS_ALL = charging.KINDS


def dep(id: int = 1, *, leader: str = "L1", kind: str = "SLE", urn: int = 100001,
        school: str = "Brookfield Primary School", school_type: str | None = "academy",
        funding: str = "school", funder: str | None = None, extra: int = 0,
        rate: int = 35000, half: int = 17500, supply: int = 29750,
        half_supply: int = 14875) -> Dep:
    return Dep(id=id, leader_id=leader, leader_kind=kind, school_urn=urn, school_name=school,
               school_type=school_type, funding=funding, funder=funder, dfe_extra_days=extra,
               rate_pence=rate, half_day_rate_pence=half, supply_pence=supply,
               half_day_supply_pence=half_supply)


def days(*spec: tuple[int, dt.date, int]) -> list[Day]:
    return [Day(i + 1, dep_id, date, halves) for i, (dep_id, date, halves) in enumerate(spec)]


def kinds_in_order(ds: list[Day], deps: dict[int, Dep], **kw) -> list[str]:  # type: ignore[no-untyped-def]
    kinds = charging.classify(ds, deps, **kw)
    return [kinds[d.id] for d in ds]


class Bill:
    """Lines (deployment, kind) -> [full, half, amount, supply] and invoices by payer, summed
    from days through the pure rules the producer (invoicing.produce) applies."""

    def __init__(self) -> None:
        self.lines: dict[tuple[int, str], list[int]] = {}
        self.payers: dict[tuple[object, ...], list[tuple[int, str]]] = {}

    def add(self, d: Dep, day: Day, kind: str, halves: int | None = None) -> None:
        halves = day.halves if halves is None else halves
        amount, supply = charging.day_amounts(d, halves, kind)
        line = self.lines.setdefault((d.id, kind), [0, 0, 0, 0])
        line[0 if halves == 2 else 1] += 1
        line[2] += amount
        line[3] += supply
        key = charging.invoice_key(charging.payer_for(d, kind), d)
        if (d.id, kind) not in self.payers.setdefault(key, []):
            self.payers[key].append((d.id, kind))

    def invoices(self) -> list[tuple[str, int]]:
        """(payer name, total pence) per invoice, in invoice order."""
        return [(key[0], sum(self.lines[k][2] for k in self.payers[key]))
                for key in sorted(self.payers, key=charging.invoice_order)]


def test_school_route_days_are_charged_to_the_school_at_the_deployment_rates():
    d = dep()
    bill = Bill()
    for day in days((1, D(2026, 9, 7), 2), (1, D(2026, 9, 8), 1), (1, D(2026, 9, 14), 2)):
        bill.add(d, day, charging.base_kind(d))
    assert charging.payer_for(d, "charged") == charging.Payer("Brookfield Primary School",
                                                              100001)
    assert bill.lines == {(1, "charged"): [2, 1, 2 * 35000 + 17500, 2 * 29750 + 14875]}
    assert bill.invoices() == [("Brookfield Primary School", 87500)]


@given(st.lists(st.sampled_from([1, 2]), max_size=30), st.sampled_from(KINDS_ALL))
def test_counted_amounts_are_the_sum_of_the_days_one_by_one(halves, kind):
    d = dep(rate=42000, half=25000, supply=35700, half_supply=21250)
    one = [charging.day_amounts(d, h, kind) for h in halves]
    full, half = halves.count(2), halves.count(1)
    assert charging.counted_amounts(kind, full, half, 42000, 25000, 35700, 21250) == (
        sum(a for a, _ in one), sum(s for _, s in one))


@pytest.mark.parametrize("funding", ["intervention", "grant"])
def test_funder_routes_are_funded_and_paid_by_the_named_funder(funding):
    d = dep(funding=funding, funder="Bolton LA")
    assert charging.base_kind(d) == "funded"
    assert charging.payer_for(d, "funded") == charging.Payer("Bolton LA", None)
    ds = days((1, D(2026, 9, 1), 2), (1, D(2026, 9, 2), 2))
    assert kinds_in_order(ds, {1: d}) == ["funded", "funded"]
    assert charging.day_amounts(d, 2, "funded") == (35000, 29750)


@pytest.mark.parametrize("school_type,extra,package_days", [
    ("voluntary aided school", 0, 3), ("community school", 0, 3),
    ("voluntary aided school", 4, 3),  # additional days are for trusts only
    ("academy", 0, 5), ("free school", 0, 5), ("academy", 2, 7), ("academy", 5, 10),
    ("academy", 9, 10),  # never more than 5 additional days
])
def test_dfe_package_size(school_type, extra, package_days):
    assert charging.dfe_package_halves(dep(kind="NLG", funding="dfe", school_type=school_type,
                                           extra=extra)) == 2 * package_days


def test_maintained_nlg_dfe_package_then_days_charged_to_the_school():
    d = dep(kind="NLG", leader="N1", funding="dfe", school_type="voluntary aided school",
            school="Richmond Park Primary", urn=131544)
    ds = days(*[(1, D(2026, 10, day), 2) for day in (5, 6, 7, 8)], (1, D(2026, 10, 9), 1))
    assert kinds_in_order(ds, {1: d}) == ["funded"] * 3 + ["charged"] * 2
    assert charging.payer_for(d, "funded") == charging.Payer("DfE")
    assert charging.payer_for(d, "charged") == charging.Payer("Richmond Park Primary", 131544)
    assert charging.base_kind(d) == "charged"  # beyond the package


@pytest.mark.parametrize("kind", ["SLE", "LLE", "NLE"])
@pytest.mark.parametrize("school_type", ["voluntary aided school", "academy"])
def test_dfe_funded_days_of_other_leaders_are_all_funded_by_dfe(kind, school_type):
    # packages are for NLGs only: an NLE's DfE-funded school-improvement work has no cap
    d = dep(kind=kind, funding="dfe", school_type=school_type, extra=2)
    assert not d.special  # summed in SQL, like any other non-NLG deployment
    assert charging.base_kind(d) == "funded"
    ds = days(*[(1, D(2026, 10, n), 2) for n in range(1, 13)], (1, D(2026, 10, 13), 1))
    assert kinds_in_order(ds, {1: d}) == ["funded"] * 13  # 12.5 days, past any package
    assert charging.payer_for(d, "funded") == charging.Payer("DfE")
    bill = Bill()
    for day in ds:
        bill.add(d, day, "funded")
    assert bill.invoices() == [("DfE", 12 * 35000 + 17500)] == [("DfE", 437500)]


def test_package_days_are_the_first_in_date_order_then_log_id():
    d = dep(kind="NLG", leader="N1", funding="dfe", school_type="community school")
    ds = [Day(10, 1, D(2026, 10, 9), 2), Day(3, 1, D(2026, 10, 5), 2),
          Day(7, 1, D(2026, 10, 5), 1), Day(1, 1, D(2026, 10, 6), 2),
          Day(2, 1, D(2026, 10, 7), 2), Day(11, 1, D(2026, 10, 12), 1),
          Day(12, 1, D(2026, 10, 13), 1)]
    kinds = charging.classify(ds, {1: d})
    # 5 Oct: id 3 (2) then id 7 (1); 6 Oct (2) -> 5 halves; 7 Oct's full day meets the 1 left:
    # a day has one payer, so it is charged to the school whole, and so is 9 Oct's; the half
    # left funds 12 Oct's half day; 13 Oct is past the package
    assert [kinds[i] for i in (3, 7, 1, 2, 10, 11, 12)] == [
        "funded", "funded", "funded", "charged", "charged", "funded", "charged"]
    assert charging.classify_parts(ds, {1: d})[2] == [("charged", 2)]


def test_a_full_day_meeting_the_last_free_half_is_split_half_free_half_charged():
    d = dep(kind="NLG", leader="N1")
    ds = days((1, D(2026, 9, 1), 1), *[(1, D(2026, 9, n), 2) for n in (2, 3, 4, 7)],
              (1, D(2026, 9, 8), 2), (1, D(2026, 9, 9), 1), (1, D(2026, 9, 10), 1))
    # 1 + 4*2 = 9 halves free; the full day on the 8th takes the last half and is charged the
    # other half: exactly 5 days free, nothing left for the 9th and 10th.
    assert kinds_in_order(ds, {1: d}) == ["free"] * 5 + ["split", "charged", "charged"]
    parts = charging.classify_parts(ds, {1: d})
    assert parts[6] == [("free", 1), ("charged", 1)]
    bill = Bill()
    for day in ds:
        for kind, halves in parts[day.id]:
            bill.add(d, day, kind, halves)
    free, charged = bill.lines[(1, "free")], bill.lines[(1, "charged")]
    assert free[:3] == [4, 2, 0]
    # the charged half of the 8th and the two half days: 3 half days at the half-day rate
    assert charged[:3] == [0, 3, 3 * 17500]
    assert bill.invoices() == [("Brookfield Primary School", 52500)]


def test_nlg_allowance_spans_deployments_and_restarts_each_academic_year():
    a = dep(1, leader="N1", kind="NLG", urn=131543, school="Bolton High School", rate=40000,
            half=20000)
    b = dep(2, leader="N1", kind="NLG", urn=131544, school="Richmond Park Primary",
            rate=40000, half=20000)
    ds = days((1, D(2026, 6, 1), 2), (2, D(2026, 6, 2), 2), (1, D(2026, 6, 3), 1),
              (2, D(2026, 6, 4), 2), (1, D(2026, 6, 5), 2), (2, D(2026, 6, 8), 1),
              (1, D(2026, 8, 31), 2),           # 2025-26 allowance used up
              (2, D(2026, 9, 1), 2), (1, D(2026, 9, 2), 2))  # 2026-27 starts afresh
    assert kinds_in_order(ds, {1: a, 2: b}) == ["free"] * 6 + ["charged", "free", "free"]


def test_allowance_already_on_live_invoices_is_not_given_twice():
    d = dep(kind="NLG", leader="N1")
    ds = days((1, D(2026, 10, 1), 2), (1, D(2026, 10, 2), 2))
    used = {("N1", 2026): 7}  # 7 halves already free on live invoices this year
    assert kinds_in_order(ds, {1: d}, allowance_used=used) == ["free", "split"]
    assert used == {("N1", 2026): 10}


def test_dfe_deployment_days_neither_use_nor_get_the_nlg_allowance():
    d = dep(kind="NLG", leader="N1", funding="dfe", school_type="community school")
    ds = days(*[(1, D(2026, 11, n), 2) for n in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16)])
    # 3 package days funded by DfE, then charged to the school: never free
    assert kinds_in_order(ds, {1: d}) == ["funded"] * 3 + ["charged"] * 8
    assert charging.payer_for(d, "charged") == charging.Payer("Brookfield Primary School",
                                                              100001)


def test_dfe_days_between_an_nlgs_other_days_leave_the_allowance_alone():
    school = dep(1, kind="NLG", leader="N1")
    dfe = dep(2, kind="NLG", leader="N1", funding="dfe", school_type="community school",
              urn=131544, school="Richmond Park Primary")
    ds = days((2, D(2026, 9, 1), 2), (2, D(2026, 9, 2), 2), (2, D(2026, 9, 3), 2),
              (2, D(2026, 9, 4), 2), (1, D(2026, 9, 7), 2), (2, D(2026, 9, 8), 2),
              *[(1, D(2026, 9, n), 2) for n in (9, 10, 11, 14, 15)])
    assert kinds_in_order(ds, {1: school, 2: dfe}) == (
        ["funded"] * 3 + ["charged", "free", "charged"] + ["free"] * 4 + ["charged"])


def test_free_days_owe_nothing_and_sit_on_the_payers_invoice_at_zero():
    d = dep(kind="NLG", leader="N1", rate=40000, half=20000, supply=34000, half_supply=17000)
    assert charging.day_amounts(d, 2, "free") == (0, 0)
    bill = Bill()
    ds = days((1, D(2026, 9, 1), 2), (1, D(2026, 9, 2), 1))
    for day, kind in zip(ds, ("free", "charged"), strict=True):
        bill.add(d, day, kind)
    assert bill.lines == {(1, "free"): [1, 0, 0, 0], (1, "charged"): [0, 1, 20000, 17000]}
    assert bill.invoices() == [("Brookfield Primary School", 20000)]  # one invoice, both


def test_an_invoice_per_payer_in_name_order():
    school = dep(1, urn=2, school="Zed School")
    grant = dep(2, funding="grant", funder="Alpha Trust Fund")
    dfe = dep(3, funding="dfe", school_type="community school", urn=1, school="Beta School")
    bill = Bill()
    for d in (school, grant, dfe):
        bill.add(d, Day(d.id, d.id, D(2026, 9, 1), 2), "funded" if d.id != 1 else "charged")
    assert [name for name, _ in bill.invoices()] == ["Alpha Trust Fund", "DfE", "Zed School"]


@pytest.mark.parametrize("subtotal,bp,vat", [
    (0, 2000, 0), (105000, 2000, 21000), (1, 2000, 0), (3, 2000, 1),  # 0.6p -> 1p
    (25, 2000, 5), (12345, 1750, 2160), (-12345, 1750, -2160),  # 2160.375 -> 2160
    (10, 1250, 1),  # 1.25p -> 1p
    (2, 2500, 1),  # 0.5p rounds half up
])
def test_vat_rounds_half_up_in_integer_pence(subtotal, bp, vat):
    assert charging.vat_pence(subtotal, bp) == vat


def test_trust_detection():
    assert charging.is_trust("academy")
    assert charging.is_trust("Academy converter")
    assert charging.is_trust("free school")
    assert not charging.is_trust("voluntary aided school")
    assert not charging.is_trust(None)


DAY_SPECS = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 420), st.sampled_from([1, 2])),
                     max_size=40)


def model_parts(ds: list[Day], deps: dict[int, Dep]) -> dict[int, list[tuple[str, int]]]:
    """A small model of the rules, worked half by half: walk the days in date order (then
    id); each half of an NLG's own day is free while fewer than 10 halves of that leader's
    academic year are; each half of a DfE NLG day is funded while fewer halves of that
    school's year are funded than the day's deployment's package; other halves take the
    deployment's base kind."""
    free: dict[tuple[str, int], int] = {}
    funded: dict[tuple[int, int], int] = {}
    out: dict[int, list[tuple[str, int]]] = {}
    for d in sorted(ds, key=lambda d: (d.date, d.id)):
        dp = deps[d.deployment_id]
        year = charging.academic_year_of(d.date)
        halves = []
        if dp.leader_kind == "NLG" and dp.funding == "dfe":  # one payer per day: whole or not
            key = (dp.school_urn, year)
            if funded.get(key, 0) + d.halves <= charging.dfe_package_halves(dp):
                funded[key] = funded.get(key, 0) + d.halves
                out[d.id] = [("funded", d.halves)]
                continue
        for _ in range(d.halves):
            if dp.leader_kind == "NLG" and dp.funding == "dfe":
                pass
            elif dp.leader_kind == "NLG":
                lkey = (dp.leader_id, year)
                if free.get(lkey, 0) < charging.NLG_ALLOWANCE_HALVES:
                    free[lkey] = free.get(lkey, 0) + 1
                    halves.append("free")
                    continue
            halves.append(charging.base_kind(dp))
        parts: list[tuple[str, int]] = []
        for kind in halves:
            if parts and parts[-1][0] == kind:
                parts[-1] = (kind, parts[-1][1] + 1)
            else:
                parts.append((kind, 1))
        out[d.id] = parts
    return out


@settings(max_examples=80, deadline=None)
@given(DAY_SPECS, st.integers(0, 5), st.permutations(list(range(40))))
def test_allocation_matches_a_model_of_the_rules_in_any_logging_order(spec, extra, order):
    # two DfE NLG deployments at one school share its package; an NLG's own deployments at
    # two schools share the allowance; a DfE SLE has every day funded
    deps = {1: dep(1, leader="N1", kind="NLG", urn=1),
            2: dep(2, leader="N1", kind="NLG", funding="dfe", school_type="academy",
                   extra=extra, urn=2),
            3: dep(3, leader="S1", funding="dfe", school_type="academy", urn=2),
            4: dep(4, leader="N2", kind="NLG", funding="dfe", school_type="academy", urn=2),
            }
    start = D(2026, 3, 1)
    seen: set[tuple[str, dt.date]] = set()
    ds = []
    for i, (dep_id, offset, halves) in enumerate(spec):
        date = start + dt.timedelta(days=offset)
        if (deps[dep_id].leader_id, date) in seen:
            continue
        seen.add((deps[dep_id].leader_id, date))
        ds.append(Day(i + 1, dep_id, date, halves))
    shuffled = sorted(ds, key=lambda d: order[(d.id - 1) % 40])  # the order they came in
    assert charging.classify_parts(shuffled, deps) == model_parts(ds, deps)
    parts = charging.classify_parts(ds, deps)
    free: dict[int, int] = {}
    for d in ds:
        assert sum(h for _, h in parts[d.id]) == d.halves  # nothing lost or invented
        for kind, halves in parts[d.id]:
            if kind == "free":
                free[charging.academic_year_of(d.date)] = free.get(
                    charging.academic_year_of(d.date), 0) + halves
    assert all(v <= charging.NLG_ALLOWANCE_HALVES for v in free.values())
    # with enough days in a year the allowance is used to the last half: exactly 5 days
    for year, used in free.items():
        mine = sum(d.halves for d in ds if d.deployment_id == 1
                   and charging.academic_year_of(d.date) == year)
        assert used == min(mine, charging.NLG_ALLOWANCE_HALVES)


def test_dfe_package_is_per_school_and_academic_year_across_deployments():
    # three DfE NLG deployments at one maintained school: 3 days in all, not 9
    deps = {i: dep(i, leader=f"N{i}", kind="NLG", funding="dfe",
                   school_type="community school", urn=131543) for i in (1, 2, 3)}
    ds = days(*[(i, D(2026, 9, n + 7 * (i - 1)), 2) for i in (1, 2, 3) for n in (1, 2)],
              (1, D(2027, 9, 1), 2))  # a new academic year: a new package
    assert kinds_in_order(ds, deps) == ["funded"] * 3 + ["charged"] * 3 + ["funded"]
