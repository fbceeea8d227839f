"""The charging rules: which logged day is charged, free or funded, who pays for it and how much.

Pure functions over plain data (no database, no I/O); `services/invoicing.py` feeds them rows and
writes what they return.  Money is integer pence, day quantities integer halves (a full day = 2).

Kinds of line
-------------
* ``charged`` - billed to the payer at the deployment's rates.
* ``funded``  - paid by a funder at the deployment's rates: any day of an ``intervention`` or
  ``grant`` deployment (the deployment's named funder pays); a DfE package day of a national
  leader of governance; any day of a DfE-funded deployment of any other kind of leader.
* ``free``    - £0: a day inside a national leader of governance's yearly allowance.

Payer
-----
* route ``school``                 -> the supported school (payer name = school name, with its URN);
* route ``intervention``/``grant`` -> the deployment's funder (by name);
* route ``dfe``, an NLG             -> package days to the payer "DfE" (kind ``funded``), days
  beyond the package to the supported school (kind ``charged``, never ``free``);
* route ``dfe``, any other leader   -> every day to the payer "DfE" (kind ``funded``, no cap).
Free days stay with the payer the day would otherwise have had and appear on its invoice at £0.

Terms frozen at agreement
-------------------------
Everything below reads the deployment's own frozen terms (migration 0004_money): the kind of
leader it was agreed with (``leader_kind``), the supported school's type then
(``school_type``), the payer, VAT and payment terms.  Re-designating a leader, converting a
school or moving a leader never changes what an agreed deployment is billed.

DfE packages
------------
Packages are for national leaders of governance (NLGs) only, and belong to the supported school
for an academic year, across all its DfE-funded NLG deployments.  A package is 3 days for a
maintained school, 5 days for a trust (a school whose type is an academy or a free school), plus
the deployment's ``dfe_extra_days`` (at most 5; trusts only).  A day is funded while the
school's package days used that year are below the day's deployment's package; the package days
are the first logged in date order (then log id); later days are charged to the school at the
deployment's rates.  A DfE-funded deployment of an SLE, LLE or NLE has no package: all its days
are funded by DfE.

NLG allowance
-------------
A national leader of governance's first 5 days (10 halves) in each academic year (1 September -
31 August), in date order (then log id) across all their deployments that are not DfE-funded,
are free.  Days of DfE-funded deployments neither use nor get the allowance: package days are
funded, days beyond the package are charged.

Counting in halves; a day that straddles the end is split
--------------------------------------------------------
A logged day is one or two halves.  When a full day meets a single remaining half of the
allowance, it is split: half free and half charged, on two lines of the same invoice.  So
exactly 5 days of allowance are always usable, and never more.  A DfE package day is different:
its funded part would go on DfE's invoice and the rest on the school's, and a day is on one
invoice, so a full day meeting a single remaining half of the package is charged to the school
in full, and that half stays for the next half day logged (the package is never exceeded).

What remains is counted against live invoices: remaining = allowance (or package) - the free (or
package) halves of days still on live invoices; it is handed to not-yet-invoiced days in date
order (then log id), whatever order they were logged, voided or credited in.  Issuing periods in
date order therefore gives exactly "the first 5 days", and voiding or crediting hands the free
and package halves back.

Amounts
-------
A full day costs the deployment's ``rate_pence``, a half day its ``half_day_rate_pence``
(both fixed on the deployment when it was agreed, so later rate-card edits never change them).
Supply cover owed to the leader's home school is ``supply_pence`` per full day and
``half_day_supply_pence`` per half day, on charged and funded days only (a free day owes none);
the alliance's administration share is amount - supply.  VAT is charged at each deployment's
frozen rate: per VAT rate, the rate times the net of the invoice's lines at that rate, rounded
half up to the penny; total = subtotal + VAT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from s2s_cli.taxonomy import academic_year_of

KINDS = ("charged", "free", "funded")
NLG_ALLOWANCE_HALVES = 10  # 5 days a year
DFE_MAINTAINED_DAYS = 3
DFE_TRUST_DAYS = 5
DFE_MAX_EXTRA_DAYS = 5
DFE_PAYER = "DfE"


@dataclass(slots=True)
class Dep:
    """What charging needs to know about a deployment (treated as read-only)."""

    id: int
    leader_id: str
    leader_kind: str
    school_urn: int
    school_name: str
    school_type: str | None
    funding: str
    funder: str | None
    dfe_extra_days: int
    rate_pence: int
    half_day_rate_pence: int
    supply_pence: int
    half_day_supply_pence: int
    leader_name: str = ""
    payer_school_urn: int | None = None
    payer_name: str | None = None
    vat_percent_bp: int = 0
    payment_terms_days: int = 28
    work: str = "other"
    service: str = ""  # the service in words ('SLE coaching — phonics'), for invoice lines
    po: str | None = None  # the purchase order its invoices quote
    payer_trust_uid: str | None = None  # `--bill-to trust`: the trust invoiced instead
    payer_trust_name: str | None = None
    po_required: bool = False  # the school invoiced (or whose trust is) wants a PO
    vat: str = "exempt"  # the VAT treatment of its work: exempt, standard or zero

    @property
    def is_nlg(self) -> bool:
        return self.leader_kind == "NLG"

    @property
    def is_dfe(self) -> bool:
        return self.funding == "dfe"

    @property
    def has_package(self) -> bool:
        """Whether its days are counted against a DfE package (DfE-funded NLGs only)."""
        return self.is_dfe and self.is_nlg

    @property
    def special(self) -> bool:
        """Whether its days need ordering one by one (an NLG's: the allowance or a DfE
        package).  Every other deployment's days all have its `base_kind`."""
        return self.is_nlg


@dataclass(frozen=True)
class Day:
    id: int
    deployment_id: int
    date: dt.date
    halves: int


@dataclass(frozen=True)
class Payer:
    name: str
    school_urn: int | None = None
    trust_uid: str | None = None

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (self.name.lower(), self.school_urn or 0, self.trust_uid or "")

    @property
    def is_school(self) -> bool:
        """A school or a trust (a funder or DfE is neither)."""
        return self.school_urn is not None or self.trust_uid is not None


def is_trust(school_type: str | None) -> bool:
    """An academy or free school belongs to a trust; any other type is maintained."""
    t = (school_type or "").lower()
    return "academy" in t or "free school" in t


def dfe_package_halves(dep: Dep) -> int:
    if is_trust(dep.school_type):
        extra = max(0, min(int(dep.dfe_extra_days or 0), DFE_MAX_EXTRA_DAYS))
        return 2 * (DFE_TRUST_DAYS + extra)
    return 2 * DFE_MAINTAINED_DAYS


FUNDER_ROUTES = ("intervention", "grant", "rise")  # taxonomy.FUNDED_ROUTES: a named funder pays


def base_kind_of(funding: str, leader_kind: str) -> str:
    """The kind of a day outside any allowance or package, by funding route and kind of
    leader: a funder route, or DfE funding of a leader other than an NLG (no package cap), is
    ``funded``; the rest (including days beyond an NLG's DfE package) ``charged``."""
    if funding in FUNDER_ROUTES or (funding == "dfe" and leader_kind != "NLG"):
        return "funded"
    return "charged"


def base_kind(dep: Dep) -> str:
    return base_kind_of(dep.funding, dep.leader_kind)


def payer_of(funding: str, funder: str | None, school_name: str, school_urn: int,
             kind: str) -> tuple[str, int | None]:
    """(payer name, payer school URN or None) of a day of this kind on this route."""
    if funding == "dfe" and kind == "funded":
        return DFE_PAYER, None
    if funding in FUNDER_ROUTES:
        return funder or f"{funding} funder", None
    return school_name, school_urn


def payer_for(dep: Dep, kind: str) -> Payer:
    if dep.payer_trust_uid is not None:  # billed to the school's trust (`--bill-to trust`)
        name, urn = payer_of(dep.funding, dep.funder, dep.payer_trust_name or
                             dep.payer_trust_uid, 0, kind)
        if urn is None:
            return Payer(name)
        return Payer(name, None, dep.payer_trust_uid)
    if dep.payer_school_urn is not None:
        name, urn = dep.payer_name or dep.school_name, dep.payer_school_urn
    else:
        name, urn = dep.school_name, dep.school_urn
    return Payer(*payer_of(dep.funding, dep.funder, name, urn, kind))


def day_amounts(dep: Dep, halves: int, kind: str) -> tuple[int, int]:
    """(amount_pence, supply_pence) for one logged day of `halves` (1 or 2)."""
    if kind == "free":
        return 0, 0
    if halves == 2:
        return dep.rate_pence, dep.supply_pence
    return dep.half_day_rate_pence, dep.half_day_supply_pence


def counted_amounts(kind: str, full_days: int, half_days: int, rate: int, half_day_rate: int,
                    supply: int, half_day_supply: int) -> tuple[int, int]:
    """(amount_pence, supply_pence) for so many full and half days of one kind: the sum of
    `day_amounts` over those days."""
    if kind == "free":
        return 0, 0
    return (full_days * rate + half_days * half_day_rate,
            full_days * supply + half_days * half_day_supply)


def vat_pence(subtotal_pence: int, vat_percent_bp: int) -> int:
    """VAT on a subtotal, rounded half up (away from zero) to the penny, in integers."""
    from s2s_cli.services.rates import half_up

    return half_up(subtotal_pence * int(vat_percent_bp), 10000)


Parts = list[tuple[str, int]]  # (kind, halves) of one day: one part, or two when split


def classify_parts(days: Iterable[Day], deps: dict[int, Dep], *,
                   package_used: dict[tuple[int, int], int] | None = None,
                   allowance_used: dict[tuple[str, int], int] | None = None
                   ) -> dict[int, Parts]:
    """The kind(s) of each not-yet-invoiced day (by day id): [(kind, halves)], two parts when a
    full day straddles the end of the allowance or package.

    `days` must hold every not-yet-invoiced day of the leaders (allowance) and schools
    (package) concerned up to the last one of interest.  `package_used` (by (school URN,
    academic year)) and `allowance_used` (by (leader id, academic year)) are the halves days
    on live invoices already hold; updated in place."""
    package_used = {} if package_used is None else package_used
    allowance_used = {} if allowance_used is None else allowance_used
    out: dict[int, Parts] = {}
    for day in sorted(days, key=lambda d: (d.date, d.id)):
        dep = deps[day.deployment_id]
        inside, special = 0, ""
        if dep.has_package:  # never free: beyond the package, charged to the school
            key = (dep.school_urn, academic_year_of(day.date))
            used = package_used.get(key, 0)
            # a day is billed to one payer: DfE funds it whole or not at all (a full day
            # meeting half a package day left is charged to the school; the half stays
            # for a later half day)
            inside = day.halves if dfe_package_halves(dep) - used >= day.halves else 0
            package_used[key] = used + inside
            special = "funded"
        elif dep.is_nlg:
            lkey = (dep.leader_id, academic_year_of(day.date))
            used = allowance_used.get(lkey, 0)
            inside = max(0, min(day.halves, NLG_ALLOWANCE_HALVES - used))
            allowance_used[lkey] = used + inside
            special = "free"
        parts: Parts = [(special, inside)] if inside else []
        if day.halves - inside:
            parts.append((base_kind(dep), day.halves - inside))
        out[day.id] = parts
    return out


def classify(days: Iterable[Day], deps: dict[int, Dep], **kw: Any) -> dict[int, str]:
    """The kind of each day, for days that are not split (a split day reads 'split')."""
    return {i: parts[0][0] if len(parts) == 1 else "split"
            for i, parts in classify_parts(days, deps, **kw).items()}


def vat_by_rate(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """[(rate bp, net, VAT)] per VAT rate, from (rate bp, net) per line: VAT is worked out once
    per rate on the net at that rate, rounded half up to the penny."""
    nets: dict[int, int] = {}
    for bp, net in lines:
        nets[bp] = nets.get(bp, 0) + net
    return [(bp, net, vat_pence(net, bp)) for bp, net in sorted(nets.items())]


def vat_treatment_of(vat_percent_bp: int, vat: str | None) -> str:
    """The VAT treatment of a line: standard when VAT is charged on it, else the deployment's
    (exempt or zero-rated; exempt when unknown)."""
    if vat_percent_bp > 0:
        return "standard"
    return vat if vat in ("exempt", "zero") else "exempt"


def invoice_key(payer: Payer, dep: Dep) -> tuple[Any, ...]:
    """Which invoice a line of `dep`'s days paid by `payer` goes on: one per payer, purchase
    order and agreed payment terms, as (payer name, URN, trust UID, terms, PO).  A funder's
    or DfE's invoice quotes no school's purchase order."""
    return (payer.name, payer.school_urn, payer.trust_uid, dep.payment_terms_days,
            dep.po if payer.is_school else None)


def invoice_order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Invoices of a run in order: (payer name, URN, trust UID, terms, PO) keys by payer
    name (any case), then URN, trust, terms, and no purchase order before the others."""
    name, urn, trust, terms, po = key
    return (name.lower(), urn or 0, trust or "", terms, po is not None, po or "")
