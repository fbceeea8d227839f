"""Property test of the books against a model of the rules (issue 12): days logged late,
invoices voided, days credited by partial credit notes, runs for periods out of order.

After every step: every logged day dated up to the last run's end is on exactly one live
invoice (once net), through the invoice_day rows of that invoice; invoices minus credit notes
equal the days on live invoices at their rates; each day's parts (kind, halves, amount) are
what a model of the rules gives (the NLG allowance and DfE packages handed out in strict date
order among the days not yet invoiced, after what live invoices hold); numbers are gapless."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_invoicing import DEPLOYMENTS, START, Ledger, template

__all__ = ["template"]  # the module-scoped fixture, shared

Parts = list[tuple[str, int, int]]  # (kind, halves, amount)


class Model:
    """The ledger as the rules describe it: each day's live parts, or None (not invoiced)."""

    def __init__(self, deps: dict[int, Any]) -> None:
        self.deps = deps
        self.days: dict[int, tuple[int, dt.date, int]] = {}  # id -> (deployment, date, halves)
        self.live: dict[int, Parts | None] = {}

    def log(self, day_id: int, dep: int, date: dt.date, halves: int) -> None:
        self.days[day_id] = (dep, date, halves)
        self.live[day_id] = None

    def issue(self, end: dt.date) -> None:
        from s2s_cli.services.charging import dfe_package_halves
        from s2s_cli.taxonomy import academic_year_of

        allowance: dict[tuple[str, int], int] = {}
        package: dict[tuple[int, int], int] = {}
        for day_id, parts in self.live.items():
            if not parts:
                continue
            dep = self.deps[self.days[day_id][0]]
            year = academic_year_of(self.days[day_id][1])
            for kind, halves, _ in parts:
                if kind == "free":
                    key = (dep.leader_id, year)
                    allowance[key] = allowance.get(key, 0) + halves
                elif kind == "funded" and dep.funding == "dfe" and dep.leader_kind == "NLG":
                    pkey = (dep.school_urn, year)
                    package[pkey] = package.get(pkey, 0) + halves
        pending = sorted((date, day_id) for day_id, (_, date, _) in self.days.items()
                         if self.live[day_id] is None and date <= end)
        for date, day_id in pending:
            dep = self.deps[self.days[day_id][0]]
            halves = self.days[day_id][2]
            year = academic_year_of(date)
            funder = dep.funding in ("intervention", "grant", "rise")
            rest = "funded" if funder or (dep.funding == "dfe" and dep.leader_kind != "NLG") \
                else "charged"
            inside, special = 0, ""
            if dep.funding == "dfe" and dep.leader_kind == "NLG":
                used = package.get((dep.school_urn, year), 0)
                inside = halves if dfe_package_halves(dep) - used >= halves else 0
                package[(dep.school_urn, year)] = used + inside
                special = "funded"
            elif dep.leader_kind == "NLG":
                used = allowance.get((dep.leader_id, year), 0)
                inside = max(0, min(halves, 10 - used))
                allowance[(dep.leader_id, year)] = used + inside
                special = "free"
            parts: Parts = []
            for kind, n in ((special, inside), (rest, halves - inside)):
                if n:
                    amount = 0 if kind == "free" else (
                        dep.rate_pence if n == 2 else dep.half_day_rate_pence)
                    parts.append((kind, n, amount))
            self.live[day_id] = parts

    def credit(self, day_ids: list[int]) -> None:
        for day_id in day_ids:
            self.live[day_id] = None

    def total(self) -> int:
        return sum(a for parts in self.live.values() if parts for _, _, a in parts)


class Books(Ledger):
    def setup(self) -> dict[int, Any]:
        """The deployments, no days yet."""
        from s2s_cli.models import Deployment, Leader, School, SupportRequest
        from s2s_cli.services import invoicing, rates

        def work(s):  # type: ignore[no-untyped-def]
            for leader, urn, funding, funder, extra, rate, half in DEPLOYMENTS:
                who, school = s.get(Leader, leader), s.get(School, urn)
                terms = rates.frozen_terms(
                    rates.DEFAULT_CARD, leader_kind=who.kind,
                    home_school_urn=who.home_school_urn, school_urn=urn,
                    school_type=school.type, pupils=school.pupils, work="other",
                    funding=funding)
                req = SupportRequest(school_urn=urn, need="achievement", received=START,
                                     funding=funding, funder=funder)
                s.add(req)
                s.flush()
                s.add(Deployment(request_id=req.id, leader_id=leader, school_urn=urn,
                                 agreed_halves=400, start=START, funding=funding,
                                 funder=funder, dfe_extra_days=extra, rate_pence=rate,
                                 half_day_rate_pence=half, supply_pence=rate * 85 // 100,
                                 half_day_supply_pence=half * 85 // 100, **terms))
            s.flush()

        self.write(work)
        ids = [r[0] for r in self.rows("SELECT id FROM deployment ORDER BY id")]
        return self.read(lambda r: invoicing.load_deps(r, ids))

    def log(self, days: list[tuple[int, dt.date, int]]) -> list[int]:
        from s2s_cli.models import DayLog

        def work(s):  # type: ignore[no-untyped-def]
            rows = [DayLog(deployment_id=dep.id, leader_id=dep.leader_id, date=date,
                           halves=halves) for dep, date, halves in days]
            s.add_all(rows)
            s.flush()
            return [r.id for r in rows]

        return self.write(work)

    def credit(self, number: str, day_ids: list[int], on: dt.date) -> int:
        from s2s_cli.services import invoicing

        return self.write(lambda s: invoicing.credit(s, number, day_ids, reason="test", on=on))


def live_parts(books: Books) -> dict[int, Parts]:
    out: dict[int, Parts] = {}
    for day_id, kind, halves, amount in books.rows(
            "SELECT d.id, x.kind, x.halves, x.amount_pence FROM day_log d JOIN invoice_day x "
            "ON x.day_log_id = d.id AND x.invoice_id = d.invoice_id ORDER BY d.id, x.line_id"):
        out.setdefault(day_id, []).append((kind, halves, amount))
    return {k: sorted(v) for k, v in out.items()}


def check(books: Books, model: Model, ran_to: dt.date | None) -> None:
    assert live_parts(books) == {k: sorted(v) for k, v in model.live.items() if v}
    [(net,)] = books.rows("SELECT coalesce(sum(total_pence), 0) FROM invoice")
    assert net == model.total()  # invoices - credit notes = live days at their rates
    if ran_to is not None:  # nothing billable dated up to the last run's end is left behind
        left = books.rows(f"SELECT count(*) FROM day_log WHERE invoice_id IS NULL AND date <= "
                          f"'{ran_to.isoformat()}'")
        assert left == [(0,)]
    assert books.rows("SELECT count(*) FROM invoice i WHERE i.series = 'invoice' AND "
                      "i.voided_by_id IS NOT NULL AND i.voided_by_id NOT IN (SELECT id FROM "
                      "invoice WHERE credits_invoice_id = i.id)") == [(0,)]
    from s2s_cli.services import integrity

    found = books.read(lambda r: [f for c in integrity.CHECKS if c.name in (
        "numbering", "credit-notes", "day-invoice-link", "day-on-one-invoice",
        "invoice-totals", "documents") for f in c.run(r)])
    assert found == []


# the NLG's own deployments (1, 2: the allowance) weighted, most days in one academic year
# (from 1 September 2026 = offset 92) so that allowances and packages run out and come back
DAY = st.tuples(st.sampled_from([0, 1, 1, 1, 2, 2, 3, 4, 5, 6]),
                st.one_of(st.integers(92, 140), st.integers(0, 250)),
                st.sampled_from([1, 2, 2]))
OP = st.one_of(
    st.tuples(st.just("log"), st.lists(DAY, min_size=1, max_size=12)),
    st.tuples(st.just("issue"), st.one_of(st.integers(92, 140), st.integers(0, 251))),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("credit"), st.integers(0, 50), st.lists(st.integers(0, 50), min_size=1,
                                                              max_size=4)),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OP, min_size=2, max_size=16))
def test_books_match_a_model_through_late_logs_voids_credits_and_any_run_order(
        template, tmp_path, monkeypatch, ops):
    monkeypatch.setenv("S2S_TODAY", "2027-12-31")
    books = Books(template, tmp_path / "books")
    try:
        deps = books.setup()
        dep_ids = sorted(deps)
        model = Model(deps)
        clock = dt.date(2027, 3, 1)  # issue and credit dates only move forward
        taken: set[tuple[str, dt.date]] = set()
        ran_to: dt.date | None = None
        for op in [*ops, ("issue", 251)]:
            clock += dt.timedelta(days=1)
            if op[0] == "log":
                fresh = []
                for index, offset, halves in op[1]:
                    dep = deps[dep_ids[index]]
                    date = START + dt.timedelta(days=offset)
                    if (dep.leader_id, date) not in taken:
                        taken.add((dep.leader_id, date))
                        fresh.append((dep, date, halves))
                for day_id, (dep, date, halves) in zip(books.log(fresh), fresh, strict=True):
                    model.log(day_id, dep.id, date, halves)
                ran_to = None  # a late log may be dated before the last run's end
            elif op[0] == "issue":
                end = START + dt.timedelta(days=op[1])
                books.issue(START, end, clock)  # checks the draft said the same
                model.issue(end)
                ran_to = end
            else:
                live = [n for (n,) in books.rows(
                    "SELECT number FROM invoice WHERE series = 'invoice' AND voided_by_id IS "
                    "NULL ORDER BY id")]
                if not live:
                    continue
                number = live[op[1] % len(live)]
                days = [d for (d,) in books.rows(
                    "SELECT DISTINCT d.id FROM day_log d JOIN invoice i ON i.id = d.invoice_id "
                    f"WHERE i.number = '{number}' ORDER BY d.id")]
                if op[0] == "void" or len(days) < 2:
                    books.void(number, clock)
                    model.credit(days)
                else:
                    chosen = sorted({days[p % len(days)] for p in op[2]})
                    if len(chosen) == len(days):
                        chosen = chosen[:-1]
                    books.credit(number, chosen, clock)
                    model.credit(chosen)
                ran_to = None
            check(books, model, ran_to)
        assert books.rows("SELECT count(*) FROM day_log WHERE invoice_id IS NULL") == [(0,)]
    finally:
        books.close()
