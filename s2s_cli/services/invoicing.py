"""Invoices: drafts, issuing, numbering, credit notes, charge summaries and remittances.

The rules for each day (charged, free or funded; payer; amount) live in `services/charging.py`;
this module reads the days, hands them to those rules and writes what comes back.

Drafts (`s2s invoice`) change nothing.  A run for a period covers every not-yet-invoiced day
dated up to the period's end (late logs and days freed by a void or credit are never left
behind; `earlier_days` says how many are dated before the period).  One producer of lines and
documents, `produce`, serves drafts, issuing and charge summaries: one SQL aggregate per
deployment (full days, half days, first and last date, read from the covering index
`ix_day_log_date_cover`); only deployments agreed with an NLG, whose days must be ordered one
by one (the yearly allowance; DfE packages), are fetched day by day, and issuing also fetches
every other day (it must record each one).  Charging reads the terms frozen on the deployment
when it was agreed.  Documents are typed records (`services/documents.py`), rendered only by
the output layer (`output.write_documents`, `services/pdf.py`).

Issuing (`s2s invoice --issue`) runs as one transaction:
1. lock the numbering row `counter(series='invoice', year)` (`SELECT ... FOR UPDATE`; created if
   missing with `INSERT ... ON CONFLICT DO NOTHING`) *before* reading any day, so two concurrent
   runs serialise (PostgreSQL); SQLite's `BEGIN IMMEDIATE` already does;
2. classify the period's not-yet-invoiced days, one invoice per payer (payers in name order);
3. number each `{prefix}-{year}-{seq:04d}` (prefix from the card, default S2S; gapless per
   series and calendar, academic or financial year: `numbering_year`), issued on `--date` or
   today (`check_issue_date`), due after the payment terms agreed on its deployments;
4. write the invoice, its lines (one per deployment and kind) and an `invoice_day` row tying each
   day log to its line, and set `day_log.invoice_id` (a day is on at most one live invoice);
5. store the whole document in `invoice.document` (`freeze`): issued documents are rendered
   from it, so they never change whatever happens to the directory or the card.
An invoice whose lines are all free is still issued: it shows the free days at £0.  When nothing
is left to invoice, `NothingToIssue` is raised and the transaction rolls back (nothing written).

Issued invoices never change.  Voiding one writes a credit note (series `credit`, prefix from
the card's `credit_prefix`, default S2S-CR, its own gapless numbering) whose lines and totals are
the invoice's negated (day counts stay positive), with `credits_invoice_id` pointing at it;
the invoice's `voided_by_id` is set (the only update ever made to an invoice) and its days'
`invoice_id` is cleared, so they are billable again.  `invoice_day` rows are kept for both
(until such a day is undone or its deployment cancelled: the audit trail keeps them then).

Leaders' names are not copied into invoices (personal data stays erasable); lines keep the
leader id and show the current name (an erased leader's redacted one)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.fastdb import Reader
from s2s_cli.services import charging
from s2s_cli.services.charging import Day, Dep
from s2s_cli.services.documents import SUPPLIER_KEYS, DayEntry, DocLine, Document
from s2s_cli.services.rates import DEFAULT_CARD, card_from_json
from s2s_cli.taxonomy import academic_year_of

CHUNK = 500

# What charging reads about a deployment: its frozen terms (0004_money), with the names the
# invoice shows (the supported school's, the paying school's and the leader's).
DEP_COLS = ("dep.id, dep.leader_id, dep.leader_kind, dep.school_urn, s.name, dep.school_type, "
            "dep.funding, dep.funder, dep.dfe_extra_days, dep.rate_pence, "
            "dep.half_day_rate_pence, dep.supply_pence, dep.half_day_supply_pence, l.name, "
            "dep.payer_school_urn, ps.name, dep.vat_percent_bp, dep.payment_terms_days, "
            "dep.work, r.need, (SELECT MIN(rs.specialism_slug) FROM request_specialism rs "
            "WHERE rs.request_id = dep.request_id), dep.po, dep.payer_trust_uid, t.name, "
            "CASE WHEN dep.payer_trust_uid IS NULL AND ps.urn IS NOT NULL THEN ps.po_required "
            "ELSE s.po_required END, dep.vat")
DEP_JOIN = ("JOIN leader l ON l.id = dep.leader_id "
            "JOIN school s ON s.urn = dep.school_urn "
            "JOIN support_request r ON r.id = dep.request_id "
            "LEFT JOIN school ps ON ps.urn = dep.payer_school_urn "
            "LEFT JOIN trust t ON t.uid = dep.payer_trust_uid")
N_DEP_COLS = 26

# Days on a live invoice: the invoice_day rows of the invoice the day is currently on.
LIVE_DAY = "JOIN invoice_day x ON x.day_log_id = d.id AND x.invoice_id = d.invoice_id"
# Indexes for reading day logs by date, leader or deployment.  `invoice_id IS NULL` matches
# most of the table, yet SQLite's planner may pick the index on invoice_id for it (or, with
# ANALYZE statistics, a skip-scan of another index); so on SQLite the query names its index.
DATE_INDEX = "ix_day_log_date_cover"  # (date, deployment_id, halves, invoice_id): covering
LEADER_INDEX = "ix_day_log_leader_date"
DEPLOYMENT_INDEX = "ix_day_log_deployment_date"


class NothingToIssue(Exception):
    """Raised inside the issuing transaction when there is nothing new to invoice (it rolls
    back, so a run that issues nothing writes nothing)."""


# --------------------------------------------------------------------------- small helpers

def _day_log(reader: Reader, index: str, alias: str = "d") -> str:
    """`day_log <alias>`, read through `index` on SQLite."""
    if reader.dialect == "sqlite":
        return f"day_log {alias} INDEXED BY {index}"
    return f"day_log {alias}"


def _bind(reader: Reader, day: dt.date) -> Any:
    """A date parameter: ISO text for SQLite (how dates are stored), a date elsewhere."""
    return day.isoformat() if reader.dialect == "sqlite" else day


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _in(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    marks = ", ".join(f":{prefix}{i}" for i in range(len(values)))
    return marks, {f"{prefix}{i}": v for i, v in enumerate(values)}


def _dep(row: Sequence[Any]) -> Dep:
    return Dep(id=int(row[0]), leader_id=row[1], leader_kind=row[2], school_urn=int(row[3]),
               school_name=row[4], school_type=row[5], funding=row[6], funder=row[7],
               dfe_extra_days=int(row[8] or 0), rate_pence=int(row[9]),
               half_day_rate_pence=int(row[10]), supply_pence=int(row[11]),
               half_day_supply_pence=int(row[12]), leader_name=row[13] or "",
               payer_school_urn=None if row[14] is None else int(row[14]),
               payer_name=row[15], vat_percent_bp=int(row[16] or 0),
               payment_terms_days=int(row[17] or 0), work=row[18] or "other",
               service=service_text(row[2], row[18], row[19], row[20]), po=row[21],
               payer_trust_uid=row[22], payer_trust_name=row[23], po_required=bool(row[24]),
               vat=row[25] or "exempt")


@cache  # a national month has ~100,000 lines but a few hundred distinct services
def service_text(leader_kind: str, work: str | None, need: str | None,
                 specialism: str | None) -> str:
    """A line's service in words, without the leader's name (added when shown: names stay
    erasable): 'SLE coaching — phonics', 'NLG governance review — leadership and
    governance'."""
    what = (work or "other").replace("-", " ")
    what = "support" if what == "other" else what
    topic = (specialism or need or "").replace("-", " ")
    return f"{leader_kind} {what} — {topic}" if topic else f"{leader_kind} {what}"


def kind_words(kind: str, payer: str) -> str:
    """A line's kind in words: 'charged', 'free (NLG allowance)', 'funded by DfE'."""
    if kind == "free":
        return "free (NLG allowance)"
    if kind == "funded":
        return f"funded by {payer}"
    return "charged"


def month_expr(reader: Reader, column: str) -> str:
    """'YYYY-MM' of a date column, spelled per dialect."""
    if reader.dialect == "postgresql":
        return f"to_char({column}, 'YYYY-MM')"
    return f"substr({column}, 1, 7)"


def load_card(reader: Reader) -> dict[str, Any]:
    card = card_from_json(reader.scalar("SELECT value FROM setting WHERE key = :k",
                                        {"k": "rate_card"}))
    settings = dict(DEFAULT_CARD["invoice"])
    settings.update({k: v for k, v in (card.get("invoice") or {}).items() if v is not None})
    card["invoice"] = settings
    return card


# --------------------------------------------------------------------------- the producer
#
# One producer of lines and documents (`produce`) for drafts, issuing and the charge
# summaries.  A run for a period bills every not-yet-invoiced day dated up to the period's end
# (a day logged late for an invoiced month, or freed by a void or a credit, is not left
# behind); a line's `earlier_days` counts the days dated before the period's start.

def _aggregate(reader: Reader, f: Any, t: Any) -> list[Sequence[Any]]:
    """Per deployment with not-yet-invoiced days dated up to t: its DEP_COLS, then full days,
    half days, first and last date, and how many are dated before f - one GROUP BY over the
    covering date index."""
    return reader.all(
        f"SELECT {DEP_COLS}, a.full_days, a.half_days, a.d_first, a.d_last, a.earlier FROM ("
        "SELECT deployment_id, SUM(CASE WHEN halves = 2 THEN 1 ELSE 0 END) AS full_days, "
        "SUM(CASE WHEN halves = 1 THEN 1 ELSE 0 END) AS half_days, MIN(date) AS d_first, "
        "MAX(date) AS d_last, SUM(CASE WHEN date < :f THEN 1 ELSE 0 END) AS earlier "
        f"FROM {_day_log(reader, DATE_INDEX, 'g')} "
        "WHERE date <= :t AND invoice_id IS NULL "
        "GROUP BY deployment_id) a "
        f"JOIN deployment dep ON dep.id = a.deployment_id {DEP_JOIN}", {"f": f, "t": t})


def load_deps(reader: Reader, ids: Iterable[int]) -> dict[int, Dep]:
    """What charging reads about these deployments, by id."""
    deps: dict[int, Dep] = {}
    for chunk in _chunks(sorted(set(ids))):
        marks, params = _in("i", chunk)
        for row in reader.iter(f"SELECT {DEP_COLS} FROM deployment dep {DEP_JOIN} "
                               f"WHERE dep.id IN ({marks})", params):
            deps[int(row[0])] = _dep(row)
    return deps


def _line(dep: Dep, kind: str, payer: str, full: int, half: int, first: dt.date,
          last: dt.date, amount: int, supply: int, earlier: int) -> DocLine:
    """A line of `dep`'s days of one kind, as charging worked them out."""
    return DocLine(dep.id, dep.leader_id, dep.leader_name, dep.school_urn, dep.school_name,
                   first, last, 2 * full + half, full, half, dep.rate_pence,
                   dep.half_day_rate_pence, kind, amount, supply, dep.vat_percent_bp, earlier,
                   dep.service, f"{dep.service}, {dep.leader_name}", kind_words(kind, payer),
                   charging.vat_treatment_of(dep.vat_percent_bp, dep.vat), dep.funding)


class _Run:
    """Lines gathered into invoices: one per payer, purchase order and agreed payment terms
    (the key `charging.invoice_key`), remembering which deployments lack a required PO."""

    def __init__(self) -> None:
        self.groups: dict[tuple[Any, ...], list[DocLine]] = {}
        self.required: dict[tuple[Any, ...], set[int]] = {}

    def add(self, dep: Dep, payer: charging.Payer, line: DocLine) -> None:
        key = charging.invoice_key(payer, dep)
        group = self.groups.get(key)
        if group is None:
            self.groups[key] = [line]
        else:
            group.append(line)
        if dep.po_required and key[4] is None and payer.is_school:
            self.required.setdefault(key, set()).add(dep.id)


def produce(reader: Reader, start: dt.date, end: dt.date, *, card: dict[str, Any],
            days: bool = False, school: int | None = None,
            payer: str | None = None) -> list[Document]:
    """The documents a run for start..end would issue now (drafts: unnumbered), by payer
    name; only those to the school with URN `school` or the payer named `payer` when given.

    Every not-yet-invoiced day dated up to `end`.  Deployments that need no ordering (not
    agreed with an NLG) become one line each straight from the SQL aggregate (`_aggregate`:
    full and half days, first and last date); with `days` (issuing, charge summaries) each
    such line also gets its days one by one (`DocLine.entries`).  NLG deployments' days are
    ordered one by one (`_special`: the yearly allowance, DfE packages).  Charging reads the
    terms frozen on the deployment when it was agreed."""
    settings = card["invoice"]
    run = _Run()
    special: dict[int, Dep] = {}
    plain: dict[int, tuple[Dep, DocLine]] = {}  # with `days`: deployment -> its one line
    dates: dict[Any, dt.date] = {}  # a few hundred distinct dates: parsed once
    f, t = _bind(reader, start), _bind(reader, end)
    for row in _aggregate(reader, f, t):
        dep = _dep(row)
        if dep.special:
            special[dep.id] = dep
            continue
        full, half, first, last, earlier = row[N_DEP_COLS:]
        kind = charging.base_kind(dep)
        to = charging.payer_for(dep, kind)
        amount, supply = charging.counted_amounts(
            kind, full, half, dep.rate_pence, dep.half_day_rate_pence, dep.supply_pence,
            dep.half_day_supply_pence)
        line = _line(dep, kind, to.name, full, half,
                     dates.get(first) or dates.setdefault(first, _date(first)),
                     dates.get(last) or dates.setdefault(last, _date(last)),
                     amount, supply, int(earlier or 0))
        run.add(dep, to, line)
        if days:
            line.entries = []
            plain[dep.id] = (dep, line)
    if plain:
        for r in reader.iter("SELECT id, deployment_id, date, halves "
                             f"FROM {_day_log(reader, DATE_INDEX, 'g')} "
                             "WHERE date <= :t AND invoice_id IS NULL", {"t": t}):
            found = plain.get(int(r[1]))
            if found is not None:
                dep, line = found
                halves = int(r[3])
                line.entries.append(DayEntry(  # type: ignore[union-attr]
                    int(r[0]), dates.get(r[2]) or dates.setdefault(r[2], _date(r[2])), halves,
                    *charging.day_amounts(dep, halves, line.kind)))
    if special:
        for dep, kind, entries in _special(reader, special, end):
            to = charging.payer_for(dep, kind)
            full = sum(1 for e in entries if e.halves == 2)
            line = _line(dep, kind, to.name, full, len(entries) - full, entries[0].date,
                         max(e.date for e in entries), sum(e.amount_pence for e in entries),
                         sum(e.supply_pence for e in entries),
                         sum(1 for e in entries if e.date < start))
            line.entries = entries if days else None
            run.add(dep, to, line)
    wanted = payer.strip().lower() if payer is not None else None
    supplier = supplier_of(settings)
    docs = []
    for key in sorted(run.groups, key=charging.invoice_order):
        name, urn, trust, terms, po = key
        if (school is not None and urn != school) or (
                wanted is not None and name.lower() != wanted):
            continue
        lines = run.groups[key]
        if len(lines) > 1:
            lines.sort(key=_line_order)
        doc = _document((name, urn), terms, lines, settings, start, end, supplier, po=po,
                        trust=trust)
        if key in run.required:
            doc.po_missing = sorted(run.required[key])
        docs.append(doc)
    payer_details(reader, docs, card)
    return docs


def _special(reader: Reader, deps: dict[int, Dep], end: dt.date
             ) -> list[tuple[Dep, str, list[DayEntry]]]:
    """Days of deployments agreed with an NLG (the yearly allowance, and DfE packages), in
    date order: (deployment, kind, its days of that kind) for each line.  `deps` are every
    such deployment with not-yet-invoiced days up to `end`, so the days fetched below are all
    the ones that compete for an allowance or a package.  What live invoices already hold is
    counted first (halves still on a live invoice)."""
    t = _bind(reader, end)
    ids = sorted(deps)
    days: list[Day] = []
    for chunk in _chunks(ids):
        marks, params = _in("v", chunk)
        for r in reader.iter(f"SELECT d.id, d.deployment_id, d.date, d.halves "
                             f"FROM {_day_log(reader, DEPLOYMENT_INDEX)} "
                             f"WHERE d.deployment_id IN ({marks}) AND d.invoice_id IS NULL "
                             "AND d.date <= :t", {**params, "t": t}):
            days.append(Day(int(r[0]), int(r[1]), _date(r[2]), int(r[3])))

    allowance_used: dict[tuple[str, int], int] = {}
    leaders = sorted({d.leader_id for d in deps.values() if not d.has_package})
    for chunk in _chunks(leaders):
        marks, params = _in("v", chunk)
        for leader_id, date, halves in reader.iter(
                f"SELECT d.leader_id, d.date, x.halves FROM {_day_log(reader, LEADER_INDEX)} "
                f"{LIVE_DAY} WHERE d.leader_id IN ({marks}) AND d.invoice_id IS NOT NULL "
                "AND x.kind = :kind", {**params, "kind": "free"}):
            key = (leader_id, academic_year_of(_date(date)))
            allowance_used[key] = allowance_used.get(key, 0) + int(halves)

    package_used: dict[tuple[int, int], int] = {}
    schools = sorted({d.school_urn for d in deps.values() if d.has_package})
    for chunk in _chunks(schools):
        marks, params = _in("v", chunk)
        for urn, date, halves in reader.iter(
                "SELECT dep.school_urn, d.date, x.halves FROM deployment dep "
                f"JOIN {_day_log(reader, DEPLOYMENT_INDEX)} ON d.deployment_id = dep.id "
                f"{LIVE_DAY} WHERE dep.school_urn IN ({marks}) AND dep.funding = :dfe "
                "AND dep.leader_kind = :nlg AND d.invoice_id IS NOT NULL AND x.kind = :kind",
                {**params, "dfe": "dfe", "nlg": "NLG", "kind": "funded"}):
            key = (int(urn), academic_year_of(_date(date)))
            package_used[key] = package_used.get(key, 0) + int(halves)

    parts = charging.classify_parts(days, deps, package_used=package_used,
                                    allowance_used=allowance_used)
    lines: dict[tuple[int, str], list[DayEntry]] = {}
    for day in sorted(days, key=lambda d: (d.date, d.id)):
        dep = deps[day.deployment_id]
        for kind, halves in parts[day.id]:
            lines.setdefault((dep.id, kind), []).append(
                DayEntry(day.id, day.date, halves, *charging.day_amounts(dep, halves, kind)))
    return [(deps[dep_id], kind, entries) for (dep_id, kind), entries in lines.items()]


def check_school(reader: Reader, urn: int) -> None:
    if reader.one("SELECT 1 FROM school WHERE urn = :u", {"u": urn}) is None:
        raise NotFound(f"no school with URN {urn}")


def check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days > 366 * 5:
        raise InvalidInput("the period is longer than five years")


# --------------------------------------------------------------------------- documents

def _settings_doc(settings: dict[str, Any]) -> dict[str, Any]:
    """The supplier's details an invoice's `details` carry (frozen at issue): the alliance's
    names, address, contact details, registration and VAT numbers, bank details, remittance
    e-mail and its logo (by content hash: the image is setting `logo/<sha256>`), with the
    card's payment terms and VAT rate."""
    bank = settings.get("bank")
    return {"alliance_name": settings.get("alliance_name"),
            "address": list(settings.get("address") or []),
            "email": settings.get("email"),
            "payment_terms_days": int(settings.get("payment_terms_days") or 0),
            "vat_percent_bp": int(settings.get("vat_percent_bp") or 0),
            "legal_name": settings.get("legal_name") or settings.get("alliance_name"),
            "phone": settings.get("phone"),
            "company_number": settings.get("company_number"),
            "charity_number": settings.get("charity_number"),
            "vat_number": settings.get("vat_number"),
            "bank": dict(bank) if bank else None,
            "remittance_email": settings.get("remittance_email"),
            "logo_sha256": (settings.get("logo") or {}).get("sha256")}


def supplier_of(settings: dict[str, Any]) -> dict[str, Any]:
    """`Document.supplier` from the card's invoice settings (or an invoice's details)."""
    details = _settings_doc(settings)
    return {k: details[k] for k in SUPPLIER_KEYS}


def logos(reader: Reader, docs: Sequence[Document]) -> dict[str, bytes]:
    """The logo images the documents name (by SHA-256; stored as setting logo/<sha256> when
    the card was loaded, so an issued document keeps the logo it was issued with)."""
    import base64
    import json as _json

    out: dict[str, bytes] = {}
    for sha in sorted({d.supplier.get("logo_sha256") for d in docs} - {None, ""}):
        text = reader.scalar("SELECT value FROM setting WHERE key = :k", {"k": f"logo/{sha}"})
        if text:
            out[str(sha)] = base64.b64decode(_json.loads(text)["base64"])
    return out


def payer_details(reader: Reader, docs: Sequence[Document], card: dict[str, Any]) -> None:
    """Fill each document's payer address, "For the attention of" and e-mail: a school's from
    the school table (GIAS or `school edit`: its finance contact), any other payer's (funder,
    trust, DfE) from the card's `payers` address book, by name (any case)."""
    urns = sorted({d.payer_school_urn for d in docs if d.payer_school_urn})
    schools: dict[int, tuple[list[str], str | None, str | None, dict[str, Any]]] = {}
    for chunk in _chunks(urns):
        marks, params = _in("u", chunk)
        for row in reader.iter("SELECT urn, street, locality, address3, town, county, "
                               "postcode, finance_contact, finance_email FROM school "
                               f"WHERE urn IN ({marks})", params):
            lines = [str(v).strip() for v in row[1:7] if v and str(v).strip()]
            postal = {"lines": [str(v).strip() for v in row[1:4] if v and str(v).strip()],
                      "city": row[4] or None, "region": row[5] or None,
                      "postcode": row[6] or None}
            schools[int(row[0])] = (lines, row[7] or None, row[8] or None, postal)
    book = {str(name).lower(): rec for name, rec in (card.get("payers") or {}).items()}
    for doc in docs:
        urn = doc.payer_school_urn
        if urn:
            address, attention, email, postal = schools.get(
                int(urn), ([], None, None, {"lines": [], "city": None, "region": None,
                                            "postcode": None}))
        else:
            rec = book.get(str(doc.payer or "").lower()) or {}
            address = list(rec.get("address") or [])
            attention, email = rec.get("attention"), rec.get("email")
            postal = {"lines": address[:4], "city": None, "region": None, "postcode": None}
        doc.payer_address, doc.payer_attention, doc.payer_email = address, attention, email
        doc.payer_postal = postal  # the same address by part, for accounting exports (Xero)


def vat_treatment(line: DocLine, fallback: str | None = None) -> str:
    """A document line's VAT treatment: as frozen on it; on a document issued before lines
    carried it, standard when it was charged VAT, else `fallback` (the deployment's) when
    that is exempt or zero."""
    if line.vat:
        return line.vat
    return charging.vat_treatment_of(line.vat_percent_bp or 0, fallback)


_KIND_ORDER = {k: i for i, k in enumerate(charging.KINDS)}


def _document(payer: tuple[str, int | None], terms: int, lines: list[DocLine],
              settings: dict[str, Any], start: dt.date, end: dt.date,
              supplier: dict[str, Any], *, po: str | None = None,
              trust: str | None = None) -> Document:
    """A draft document from its lines: totals, VAT per rate (worked out once per rate on
    the net at that rate) and whether it is a VAT invoice (any standard or zero-rated line:
    a zero-rated supply is taxable, so a 0% VAT invoice when nothing is charged)."""
    subtotal = 0
    earlier = 0
    nets: dict[int, int] = {}
    vat_invoice = False
    for ln in lines:
        subtotal += ln.amount_pence
        earlier += ln.earlier_days or 0
        bp = ln.vat_percent_bp or 0
        nets[bp] = nets.get(bp, 0) + ln.amount_pence
        vat_invoice = vat_invoice or ln.vat != "exempt"
    rates = charging.vat_by_rate(nets.items())
    vat = sum(v for _, _, v in rates)
    return Document(
        payer=payer[0], payer_school_urn=payer[1], period_from=start, period_to=end,
        subtotal_pence=subtotal, vat_pence=vat, total_pence=subtotal + vat, lines=lines,
        supplier=supplier, payment_terms_days=terms,
        vat_percent_bp=max((bp for bp, _, _ in rates), default=0),
        vat_rates=[{"vat_percent_bp": bp, "net_pence": net, "vat_pence": v}
                   for bp, net, v in rates],
        vat_invoice=vat_invoice, earlier_days=earlier, po=po, payer_trust_uid=trust)


def po_missing(docs: Iterable[Document]) -> list[tuple[str, list[int]]]:
    """(payer, deployment ids) of each document to a school marked "PO required" (or to the
    trust of one) that quotes no purchase order."""
    return [(d.payer, d.po_missing) for d in docs if d.po_missing]


def po_message(missing: list[tuple[str, list[int]]]) -> str:
    """The one-line refusal (or draft warning) naming the deployments lacking a PO."""
    parts = [f"{payer} requires a purchase order: deployment{'s' if len(deps) > 1 else ''} "
             f"{', '.join(str(d) for d in deps)} {'have' if len(deps) > 1 else 'has'} none"
             for payer, deps in missing]
    return ("; ".join(parts) + " (give one: s2s deployment edit ID --po NUMBER; or issue "
            "anyway with --override \"reason\")")


def _line_order(ln: DocLine) -> tuple[str, int, int]:
    return ln.leader_id, ln.deployment_id, _KIND_ORDER[ln.kind]


def draft(reader: Reader, start: dt.date, end: dt.date, *, school: int | None = None,
          payer: str | None = None) -> list[Document]:
    """The draft invoices for a period (one per payer, PO and terms, by payer name); reads
    only.  The same documents `issue` would write now, unnumbered (`produce`)."""
    check_period(start, end)
    return produce(reader, start, end, card=load_card(reader), school=school, payer=payer)


INVOICE_SELECT = (
    "SELECT i.id, i.series, i.number, i.payer, i.payer_school_urn, i.period_from, "
    "i.period_to, i.issued, i.due, i.subtotal_pence, i.vat_pence, i.total_pence, "
    "c.number, v.number, i.details, i.document FROM invoice i "
    "LEFT JOIN invoice c ON c.id = i.credits_invoice_id "
    "LEFT JOIN invoice v ON v.id = i.voided_by_id ")


def _status(series: str, voided_by: str | None) -> str:
    if series == "credit":
        return "credit"
    return "void" if voided_by else "issued"


def _invoice_row(r: Sequence[Any]) -> dict[str, Any]:
    """An issued document's row as `invoices list` shows it (no lines)."""
    details = json.loads(r[14] or "{}")
    return {
        "id": int(r[0]), "number": r[2], "status": _status(r[1], r[13]), "payer": r[3],
        "payer_school_urn": r[4], "period_from": _date(r[5]), "period_to": _date(r[6]),
        "issued": _date(r[7]), "due": _date(r[8]), "subtotal_pence": int(r[9]),
        "vat_pence": int(r[10]), "total_pence": int(r[11]), "credits": r[12],
        "voided_by": r[13], "reason": details.get("reason"), **_settings_doc(details),
        "po": details.get("po"), "payer_trust_uid": details.get("payer_trust_uid"),
        "po_override": details.get("po_override"),
    }


def freeze(doc: Document) -> str:
    """The stored form of an issued document (`Document.frozen`, compact JSON)."""
    return json.dumps(doc.frozen(), ensure_ascii=False, separators=(",", ":"))


def _legacy(r: Sequence[Any]) -> Document:
    """A document issued before 0004_money (no frozen JSON): from its row and details; its
    lines are read from invoice_line."""
    details = json.loads(r[14] or "{}")
    return Document(
        payer=r[3], payer_school_urn=r[4], period_from=_date(r[5]), period_to=_date(r[6]),
        subtotal_pence=int(r[9]), vat_pence=int(r[10]), total_pence=int(r[11]), lines=[],
        number=r[2], status=_status(r[1], r[13]), issued=_date(r[7]), due=_date(r[8]),
        credits=r[12], voided_by=r[13], reason=details.get("reason"),
        supplier=supplier_of(details),
        payment_terms_days=int(details.get("payment_terms_days") or 0),
        vat_percent_bp=int(details.get("vat_percent_bp") or 0), po=details.get("po"),
        payer_trust_uid=details.get("payer_trust_uid"),
        po_override=details.get("po_override"), id=int(r[0]))


def documents(reader: Reader, ids: Sequence[int]) -> list[Document]:
    """Issued invoices and credit notes with their lines, in the order of `ids`: each as
    frozen when it was issued (`invoice.document`), with its status as it is now."""
    docs: dict[int, Document] = {}
    legacy: list[int] = []
    frozen: list[Sequence[Any]] = []
    for chunk in _chunks(list(ids)):
        marks, params = _in("i", chunk)
        for r in reader.iter(INVOICE_SELECT + f"WHERE i.id IN ({marks})", params):
            if r[15]:
                frozen.append(r)
            else:
                docs[int(r[0])] = _legacy(r)
                legacy.append(int(r[0]))
    if frozen:
        parsed = [json.loads(r[15]) for r in frozen]  # once: for the names, then thawed
        leader_ids = sorted({ln["leader_id"] for doc in parsed for ln in doc["lines"]})
        names: dict[str, str] = {}
        for chunk in _chunks(leader_ids):
            marks, params = _in("l", chunk)
            names.update(dict(reader.iter(
                f"SELECT id, name FROM leader WHERE id IN ({marks})", params)))
        for r, stored in zip(frozen, parsed, strict=True):
            docs[int(r[0])] = Document.thaw(stored, names, id=int(r[0]),
                                            status=_status(r[1], r[13]), voided_by=r[13])
    for chunk in _chunks(legacy):  # issued before 0004_money: from the stored lines
        marks, params = _in("i", chunk)
        for r in reader.iter(
                "SELECT il.invoice_id, il.deployment_id, il.leader_id, l.name, "
                "dep.school_urn, s.name, il.date_from, il.date_to, il.halves, il.full_days, "
                "il.half_days, il.rate_pence, il.half_day_rate_pence, il.amount_pence, "
                "il.supply_pence, il.kind FROM invoice_line il "
                "JOIN leader l ON l.id = il.leader_id "
                "JOIN deployment dep ON dep.id = il.deployment_id "
                "JOIN school s ON s.urn = dep.school_urn "
                f"WHERE il.invoice_id IN ({marks}) ORDER BY il.invoice_id, il.id", params):
            docs[int(r[0])].lines.append(DocLine(
                deployment_id=int(r[1]), leader_id=r[2], leader=r[3], school_urn=int(r[4]),
                school=r[5], date_from=_date(r[6]), date_to=_date(r[7]), days=int(r[8]),
                full_days=int(r[9]), half_days=int(r[10]), rate_pence=int(r[11]),
                half_day_rate_pence=int(r[12]), kind=r[15], amount_pence=int(r[13]),
                supply_pence=int(r[14])))
    from s2s_cli.services import payments

    out = [docs[i] for i in ids if i in docs]
    payments.annotate_documents(reader, out)
    return out


def find(reader: Reader, number: str) -> Document:
    """An invoice or credit note by its number (case-insensitive)."""
    raw = (number or "").strip()
    row = reader.one("SELECT id FROM invoice WHERE lower(number) = :n ORDER BY id",
                     {"n": raw.lower()})
    if row is None:
        raise NotFound(f"no invoice or credit note numbered '{raw}'")
    return documents(reader, [int(row[0])])[0]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def listing(reader: Reader, *, payer: str | None = None, start: dt.date | None = None,
            end: dt.date | None = None) -> list[dict[str, Any]]:
    """Issued invoices and credit notes (newest series number last), by issue date."""
    where, params = [], {}
    if payer:
        # a case-insensitive fragment of the payer's name ("brook" finds Brookfield Primary)
        where.append("lower(i.payer) LIKE :payer ESCAPE '\\'")
        params["payer"] = "%" + _like(payer.strip().lower()) + "%"
    if start:
        where.append("i.issued >= :f")
        params["f"] = _bind(reader, start)
    if end:
        where.append("i.issued <= :t")
        params["t"] = _bind(reader, end)
    sql = INVOICE_SELECT + ("WHERE " + " AND ".join(where) + " " if where else "")
    sql += "ORDER BY i.issued, i.series DESC, i.year, i.seq"
    from s2s_cli.services import payments

    rows = [_invoice_row(r) for r in reader.all(sql, params)]
    payments.annotate(reader, rows)
    return rows


# --------------------------------------------------------------------------- writes

def _lock_counter(session: Any, series: str, year: int) -> Any:
    """The numbering row for (series, year), locked for this transaction (created first if
    missing; concurrent creators do not collide)."""
    from sqlalchemy import select, text

    from s2s_cli import audit
    from s2s_cli.models import Counter

    created = session.execute(
        text("INSERT INTO counter (series, year, value) VALUES (:s, :y, 0) "
             "ON CONFLICT (series, year) DO NOTHING"), {"s": series, "y": year})
    if created.rowcount == 1:
        audit.record(session, "counter", f"{series}/{year}", "insert", None,
                     {"series": series, "year": year, "value": 0})
    return session.execute(select(Counter).where(Counter.series == series, Counter.year == year)
                           .with_for_update()).scalar_one()


def _set_day_invoices(session: Any, day_ids: Sequence[int], before: int | None,
                      after: int | None) -> None:
    """Point day logs at an invoice (or back at none), refusing if any moved meanwhile."""
    from sqlalchemy import update

    from s2s_cli import audit
    from s2s_cli.models import DayLog

    table = DayLog.__table__  # type: ignore[attr-defined]
    for chunk in _chunks(list(day_ids)):
        cond = table.c.invoice_id.is_(None) if before is None else table.c.invoice_id == before
        result = session.execute(update(table).where(table.c.id.in_(chunk), cond)
                                 .values(invoice_id=after))
        if result.rowcount != len(chunk):
            raise Refused("some of these days were invoiced or voided by another run at the "
                          "same time; nothing was written, try again")
    audit.record_many(session, "day_log", [(str(day_id), "update", {"invoice_id": before},
                                            {"invoice_id": after}) for day_id in day_ids])


def _write_days(session: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `invoice_day` rows (one executemany), audited in one batch."""
    from s2s_cli import audit, bulk
    from s2s_cli.models import InvoiceDay

    bulk.insert_many(session.connection(), InvoiceDay.__table__,  # type: ignore[attr-defined]
                     rows)
    audit.record_many(session, "invoice_day", [
        (f"{r['invoice_id']}/{r['day_log_id']}", "insert", None, r) for r in rows])


def numbering_year(settings: dict[str, Any], series: str, on: dt.date) -> tuple[str, int, str]:
    """(counter series, year, year label) a document issued on `on` is numbered in: by
    calendar year (the default: S2S-2026-0001), academic year from 1 September
    (S2S-2026-27-0001) or financial year from 1 April (S2S-2026-27-0001), per the card's
    `invoice.numbering`.  Each scheme keeps its own counters."""
    scheme = settings.get("numbering") or "calendar"
    if scheme == "academic":
        year = academic_year_of(on)
    elif scheme == "financial":
        year = on.year if on.month >= 4 else on.year - 1
    else:
        return series, on.year, str(on.year)
    return f"{series}/{scheme}", year, f"{year}-{(year + 1) % 100:02d}"


def check_issue_date(session: Any, series: str, on: dt.date, *, last_day: dt.date | None,
                     what: str) -> None:
    """An issue date is not in the future, not before the last day it bills, and not before
    the last document already issued in its series (numbers follow dates)."""
    from sqlalchemy import func, select

    from s2s_cli.models import Invoice
    from s2s_cli.parsing import today

    now = today()
    if on > now:
        raise InvalidInput(f"the {what} date {on} is after today ({now})")
    if last_day is not None and on < last_day:
        raise Refused(f"the {what} date {on} is before the last day it bills ({last_day})")
    latest = session.execute(select(func.max(Invoice.issued))
                             .where(Invoice.series == series)).scalar()
    if latest is not None and on < _date(latest):
        raise Refused(f"the {what} date {on} is before the last {what} already issued "
                      f"({_date(latest)}): numbers must follow dates")


def check_vat_number(settings: dict[str, Any], docs: Sequence[Document]) -> None:
    """A VAT invoice (VAT charged, or a zero-rated supply) needs the alliance's VAT
    registration number."""
    if settings.get("vat_number"):
        return
    vat = [doc.payer for doc in docs if doc.vat_invoice]
    if vat:
        shown = ", ".join(vat[:3]) + (f" and {len(vat) - 3} more" if len(vat) > 3 else "")
        raise Refused(f"VAT is charged (or the supply is zero-rated) on the invoice(s) to "
                      f"{shown}, so they are VAT invoices "
                      "and need the alliance's VAT registration number: set rates: invoice: "
                      "vat_number in the card (s2s seed load FILE); nothing was issued")


def _day_rows(session: Any, day_ids: Sequence[int]) -> dict[int, tuple[Any, str]]:
    from sqlalchemy import select

    from s2s_cli.models import DayLog

    out: dict[int, tuple[Any, str]] = {}
    for chunk in _chunks(sorted(set(day_ids))):
        for day_id, date, activity in session.execute(
                select(DayLog.id, DayLog.date, DayLog.activity).where(DayLog.id.in_(chunk))):
            out[int(day_id)] = (date, activity)
    return out


def _activities(reader: Reader, end: dt.date) -> dict[int, str | None]:
    """Day log id -> its activity, for every not-yet-invoiced day dated up to `end` (what a
    run for a period ending then may bill): one query, through the invoice index."""
    return dict(reader.all("SELECT id, activity FROM day_log WHERE invoice_id IS NULL "
                           "AND date <= :t", {"t": _bind(reader, end)}))


def issue(session: Any, start: dt.date, end: dt.date, *, issued: dt.date,
          school: int | None = None, payer: str | None = None,
          override: str | None = None) -> list[Document]:
    """Issue one invoice per payer, purchase order (and terms) for every not-yet-invoiced day
    up to the period's end: the documents `draft` shows (`produce`), numbered and frozen.
    Returns the issued documents as frozen, with their ids (`payments.annotate_new` gives
    their status as of now).  An invoice to a school marked "PO required" (or to its trust)
    without a purchase order is refused, naming the deployments, unless `override` (the
    reason, kept on the invoice)."""
    from s2s_cli import audit, fastdb
    from s2s_cli.models import Invoice, InvoiceDay, InvoiceLine, utcnow

    check_period(start, end)
    reader = fastdb.driver_reader(session)
    card = load_card(reader)
    settings = card["invoice"]
    series, year, label = numbering_year(settings, "invoice", issued)
    counter = _lock_counter(session, series, year)  # first: serialises issuers
    docs = produce(reader, start, end, card=card, days=True, school=school, payer=payer)
    if not docs:
        raise NothingToIssue()
    missing = po_missing(docs)
    if missing and override is None:
        raise Refused(po_message(missing))
    last_day = max(ln.date_to for doc in docs for ln in doc.lines)
    check_issue_date(session, "invoice", issued, last_day=last_day, what="invoice")
    check_vat_number(settings, docs)
    prefix = settings.get("number_prefix") or "S2S"
    activity = _activities(reader, end)
    now = utcnow()
    supplier = _settings_doc(settings)
    inv_rows: list[dict[str, Any]] = []
    for doc in docs:
        counter.value += 1
        details = dict(supplier)
        if doc.po_missing:  # issued without the PO its school requires: the reason why
            doc.po_override = details["po_override"] = override
        details.update(po=doc.po, payer_trust_uid=doc.payer_trust_uid)
        doc.number = f"{prefix}-{label}-{counter.value:04d}"
        doc.status, doc.issued = "issued", issued
        doc.due = issued + dt.timedelta(days=doc.payment_terms_days or 0)
        if doc.vat_invoice:
            doc.tax_point = issued.isoformat()  # the issue date (work done by then)
        doc.days = sorted(({
            "day_log_id": e.day_log_id, "date": e.date.isoformat(),
            "deployment_id": ln.deployment_id, "leader_id": ln.leader_id, "halves": e.halves,
            "kind": ln.kind, "activity": activity[e.day_log_id],
            "amount_pence": e.amount_pence}
            for ln in doc.lines for e in ln.entries or ()),
            key=lambda d: (d["date"], d["day_log_id"], _KIND_ORDER[d["kind"]]))
        inv_rows.append({
            "series": "invoice", "number": doc.number, "seq": counter.value, "year": year,
            "payer": doc.payer, "payer_school_urn": doc.payer_school_urn,
            "period_from": start, "period_to": end, "issued": issued, "due": doc.due,
            "subtotal_pence": doc.subtotal_pence, "vat_pence": doc.vat_pence,
            "total_pence": doc.total_pence, "credits_invoice_id": None, "voided_by_id": None,
            "details": json.dumps(details), "created_at": now, "doc_hash": None,
            "document": freeze(doc)})
    # Written in bulk (bulk.py: one executemany on SQLite, one COPY on PostgreSQL) in this
    # one transaction, behind the counter row lock.  The ids are drawn first, so the rows are
    # complete in memory: a forked child (aside.py) hashes each document's seal from them and
    # builds the audit rows while this process writes them; the seals are set last.
    from s2s_cli import aside, bulk, tamper
    from s2s_cli.services import remittance

    conn = session.connection()
    ids = bulk.new_ids(conn, Invoice.__table__, len(inv_rows))  # type: ignore[attr-defined]
    written = [{"id": i, **r} for i, r in zip(ids, inv_rows, strict=True)]
    issued_lines = [(iid, ln) for iid, doc in zip(ids, docs, strict=True) for ln in doc.lines]
    line_rows = [{"invoice_id": iid, "deployment_id": ln.deployment_id,
                  "leader_id": ln.leader_id, "kind": ln.kind, "date_from": ln.date_from,
                  "date_to": ln.date_to, "full_days": ln.full_days, "half_days": ln.half_days,
                  "halves": ln.halves, "rate_pence": ln.rate_pence,
                  "half_day_rate_pence": ln.half_day_rate_pence,
                  "amount_pence": ln.amount_pence, "supply_pence": ln.supply_pence}
                 for iid, ln in issued_lines]
    line_ids = bulk.new_ids(conn, InvoiceLine.__table__,  # type: ignore[attr-defined]
                            len(line_rows))
    written_lines = [{"id": i, **r} for i, r in zip(line_ids, line_rows, strict=True)]
    day_rows: list[dict[str, Any]] = []
    cover: list[tuple[Any, ...]] = []  # what each charged or funded day owes its home school
    for (iid, ln), lid in zip(issued_lines, line_ids, strict=True):
        kind = ln.kind
        for e in ln.entries or ():
            day_rows.append({"invoice_id": iid, "day_log_id": e.day_log_id, "line_id": lid,
                             "halves": e.halves, "kind": kind, "amount_pence": e.amount_pence,
                             "supply_pence": e.supply_pence})
            if kind != "free":
                cover.append((iid, e.day_log_id, lid, kind, e.halves, e.supply_pence,
                              ln.deployment_id, ln.leader_id, e.date))
    owed = remittance.issued_rows(reader, cover, now)  # the supply cover owed home schools

    def sealed() -> tuple[dict[int, str], list[str]]:
        """The seals and the `issue` audit values (encoded): pure, so computed aside."""
        hashes = tamper.hashes_of_rows(written, written_lines, day_rows)
        for r in written:
            r["doc_hash"] = hashes[r["id"]]
        # one `issue` audit row per invoice: its row (with its seal, `doc_hash`: tamper
        # evidence in the chain), its lines, its day links, the days it marked invoiced and
        # the supply cover it owes (auditlog.ISSUE_PARTS; `s2s audit` finds it by any)
        return hashes, [audit.dumps(v) for v in
                        _issue_audit(written, written_lines, day_rows, owed)]

    job = aside.compute(sealed)  # a second core seals while this one writes
    try:
        bulk.insert_many(conn, Invoice.__table__, written)  # type: ignore[attr-defined]
        bulk.insert_many(conn, InvoiceLine.__table__,  # type: ignore[attr-defined]
                         written_lines)
        bulk.insert_many(conn, InvoiceDay.__table__, day_rows)  # type: ignore[attr-defined]
        remittance.insert(session, owed)
        marks = sorted({(r["day_log_id"], r["invoice_id"]) for r in day_rows})
        _mark_days(session, marks)  # refused if another run claimed a day meanwhile
        hashes, audited = job.result()
    finally:
        job.close()  # refused or failed before the result: no child left waiting
    _store_seals(conn, hashes)  # the invoices were written before their seals were ready
    session.flush()  # the counter row (ORM: audited)
    audit.record_many(session, "invoice", [(str(r["id"]), "issue", None, values)
                                           for r, values in zip(written, audited,
                                                                strict=True)], encoded=True)
    for doc, i in zip(docs, ids, strict=True):  # as `documents()` would read them back
        doc.id, doc.po_missing = i, None
        for ln in doc.lines:
            ln.entries = None
    return docs


def _store_seals(conn: Any, hashes: dict[int, str]) -> None:
    """Set the seal (`doc_hash`) of invoices just written without it."""
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute("UPDATE invoice i SET doc_hash = v.h FROM unnest(%s::integer[], "
                        "%s::text[]) AS v(id, h) WHERE i.id = v.id",
                        (list(hashes), list(hashes.values())))
        return
    from sqlalchemy import bindparam, update

    from s2s_cli.models import Invoice

    table = Invoice.__table__  # type: ignore[attr-defined]
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE invoice SET doc_hash = ? WHERE id = ?",
                             [(h, i) for i, h in hashes.items()])
        return
    conn.execute(update(table).where(table.c.id == bindparam("k_id"))
                 .values(doc_hash=bindparam("k_hash")),
                 [{"k_id": i, "k_hash": h} for i, h in hashes.items()])


def _issue_audit(invoices: list[dict[str, Any]], lines: list[dict[str, Any]],
                 days: list[dict[str, Any]], cover: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """The values of each issued invoice's `issue` audit row, in the order of `invoices`:
    the invoice row as written, with its frozen document as that document's SHA-256
    (`document_sha256`) rather than the text again (the text is in the row, covered by the
    row's seal, `doc_hash`, and the seal is in the chain: `db check` still sees any change);
    then its lines and its day links as compact tables (`columns`, `rows`: the rows as
    written), the day logs it marked invoiced (`day_log`: `ids`, each changed from `before`
    to `after`) and the supply cover it owes home schools (`supply_cover`, as
    `remittance._write` audits it)."""
    import hashlib

    from s2s_cli.services import remittance
    from s2s_cli.services.auditlog import ISSUE_PARTS

    line_cols, day_cols = ISSUE_PARTS["invoice_line"], ISSUE_PARTS["invoice_day"]
    out: dict[int, dict[str, Any]] = {}
    for row in invoices:
        values = {k: v for k, v in row.items() if k != "document"}
        values["document_sha256"] = hashlib.sha256(row["document"].encode()).hexdigest()
        values["invoice_line"] = {"columns": list(line_cols), "rows": []}
        values["invoice_day"] = {"columns": list(day_cols), "rows": []}
        values["day_log"] = {"before": {"invoice_id": None},
                             "after": {"invoice_id": row["id"]}, "ids": []}
        out[row["id"]] = values
    for ln in lines:
        out[ln["invoice_id"]]["invoice_line"]["rows"].append(
            [ln["id"], ln["deployment_id"], ln["leader_id"], ln["kind"],
             ln["date_from"].isoformat(), ln["date_to"].isoformat(), ln["full_days"],
             ln["half_days"], ln["halves"], ln["rate_pence"], ln["half_day_rate_pence"],
             ln["amount_pence"], ln["supply_pence"]])
    for d in days:
        values = out[d["invoice_id"]]
        values["invoice_day"]["rows"].append(
            [d["day_log_id"], d["line_id"], d["halves"], d["kind"], d["amount_pence"],
             d["supply_pence"]])
        values["day_log"]["ids"].append(d["day_log_id"])
    owed = remittance.audit_items(cover)
    for inv_id, values in out.items():
        values["day_log"]["ids"] = sorted(set(values["day_log"]["ids"]))
        items = owed.get(inv_id, [])
        values["supply_cover"] = {"columns": list(remittance.AUDIT_COLUMNS), "rows": items,
                                  "supply_pence": sum(i[4] for i in items)}
    return [out[row["id"]] for row in invoices]


def _mark_days(session: Any, marks: Sequence[tuple[int, int]]) -> None:
    """Point not-yet-invoiced day logs at their new invoices ((day id, invoice id), one
    executemany), refusing if any was invoiced or removed meanwhile.  Not audited here:
    each invoice's `issue` audit row lists the days it marked."""
    from sqlalchemy import bindparam, update

    from s2s_cli.models import DayLog

    busy = Refused("some of these days were invoiced or voided by another run at the same "
                   "time; nothing was written, try again")
    conn = session.connection()
    if conn.dialect.name == "sqlite":  # one driver-level executemany: rowcount is the total
        result = conn.exec_driver_sql(
            "UPDATE day_log SET invoice_id = ? WHERE id = ? AND invoice_id IS NULL",
            [(i, d) for d, i in marks])
        if result.rowcount != len(marks):
            raise busy
    elif conn.dialect.name == "postgresql":  # one UPDATE ... FROM two arrays per 50,000
        with conn.connection.driver_connection.cursor() as cur:
            for chunk in _chunks(list(marks), 50000):
                cur.execute("UPDATE day_log d SET invoice_id = v.inv FROM unnest(%s::integer[], "
                            "%s::integer[]) AS v(id, inv) WHERE d.id = v.id "
                            "AND d.invoice_id IS NULL",
                            ([d for d, _i in chunk], [i for _d, i in chunk]))
                if cur.rowcount != len(chunk):
                    raise busy
    else:
        table = DayLog.__table__  # type: ignore[attr-defined]
        stmt = (update(table).where(table.c.id == bindparam("k_id"),
                                    table.c.invoice_id.is_(None))
                .values(invoice_id=bindparam("k_inv")))
        for chunk in _chunks(list(marks), 5000):
            result = conn.execute(stmt, [{"k_id": d, "k_inv": i} for d, i in chunk])
            if result.rowcount != len(chunk):
                raise busy


def _find_invoice(session: Any, number: str, *, doing: str) -> Any:
    """The issued invoice (series `invoice`) numbered `number`, locked; a credit note or an
    unknown number is refused."""
    from sqlalchemy import func, select

    from s2s_cli.models import Invoice

    raw = (number or "").strip()
    inv = session.execute(select(Invoice).where(func.lower(Invoice.number) == raw.lower(),
                                                Invoice.series == "invoice")
                          .with_for_update()).scalars().first()
    if inv is None:
        other = session.execute(select(Invoice.number).where(
            func.lower(Invoice.number) == raw.lower())).scalars().first()
        if other is not None:
            raise Refused(f"{other} is a credit note; a credit note cannot be {doing}")
        raise NotFound(f"no invoice numbered '{raw}'")
    if inv.voided_by_id is not None:
        credit = session.get(Invoice, inv.voided_by_id)
        raise Refused(f"invoice {inv.number} is already void (credit note "
                      f"{credit.number if credit else inv.voided_by_id})")
    return inv


def live_days(session: Any, inv: Any) -> list[Any]:
    """The `invoice_day` rows of an invoice whose day logs are still on it (not credited)."""
    from sqlalchemy import select

    from s2s_cli.models import DayLog, InvoiceDay

    return list(session.execute(
        select(InvoiceDay).join(DayLog, DayLog.id == InvoiceDay.day_log_id)
        .where(InvoiceDay.invoice_id == inv.id, DayLog.invoice_id == inv.id)
        .order_by(InvoiceDay.day_log_id, InvoiceDay.line_id)).scalars().all())


def void(session: Any, number: str, *, reason: str, on: dt.date) -> int:
    """Void an issued invoice with a credit note for every day still on it (all of them, or
    what earlier partial credit notes left); its days become billable again.  The credit
    note's id."""
    from s2s_cli.services import payments

    inv = _find_invoice(session, number, doing="voided")
    payments.check_void(session, inv, on)
    return credit_note(session, inv, [d.day_log_id for d in live_days(session, inv)],
                       reason=reason, on=on, void=True)


def credit(session: Any, number: str, day_ids: Sequence[int], *, reason: str,
           on: dt.date) -> int:
    """A partial credit note: credit chosen days of an issued invoice (exactly what was billed
    for them: every part of a split day, its amount, its VAT share); they become billable
    again.  The credit note's id.  Refused: a day not on the invoice or already credited, a
    void invoice, a credit note, every remaining day (that is `void`)."""
    from sqlalchemy import select

    from s2s_cli.models import Invoice, InvoiceDay

    wanted = sorted(set(day_ids))
    if not wanted:
        raise InvalidInput("give at least one --day ID (the invoice's day ids: s2s invoices "
                           "show NUMBER --format json, \"days\")")
    inv = _find_invoice(session, number, doing="credited")
    live = {d.day_log_id for d in live_days(session, inv)}
    ever = set(session.execute(select(InvoiceDay.day_log_id).where(
        InvoiceDay.invoice_id == inv.id)).scalars().all())
    for day_id in wanted:
        if day_id not in ever:
            raise Refused(f"day {day_id} is not on invoice {inv.number}")
        if day_id not in live:
            note = session.execute(
                select(Invoice.number).join(InvoiceDay, InvoiceDay.invoice_id == Invoice.id)
                .where(Invoice.credits_invoice_id == inv.id,
                       InvoiceDay.day_log_id == day_id)).scalars().first()
            raise Refused(f"day {day_id} of invoice {inv.number} is already credited"
                          + (f" (credit note {note})" if note else ""))
    if set(wanted) == live:
        raise Refused(f"those are all the days left on invoice {inv.number}: void it instead "
                      f"(s2s invoices void {inv.number} --reason TEXT)")
    return credit_note(session, inv, wanted, reason=reason, on=on, void=False)


def _vat_credited(session: Any, inv: Any) -> dict[int, tuple[int, int]]:
    """VAT rate (bp) -> (net, VAT) already credited on an invoice by its credit notes
    (negative)."""
    from sqlalchemy import select

    from s2s_cli.models import Invoice

    out: dict[int, list[int]] = {}
    for document, subtotal, vat in session.execute(
            select(Invoice.document, Invoice.subtotal_pence, Invoice.vat_pence)
            .where(Invoice.credits_invoice_id == inv.id)):
        rates = (json.loads(document).get("vat_rates") if document else None) or [
            {"vat_percent_bp": json.loads(inv.details or "{}").get("vat_percent_bp") or 0,
             "net_pence": subtotal, "vat_pence": vat}]
        for r in rates:
            acc = out.setdefault(int(r["vat_percent_bp"]), [0, 0])
            acc[0] += int(r["net_pence"])
            acc[1] += int(r["vat_pence"])
    return {k: (v[0], v[1]) for k, v in out.items()}


def credit_note(session: Any, inv: Any, day_ids: Sequence[int], *, reason: str, on: dt.date,
                void: bool) -> int:
    """Write the credit note for these days of a locked, issued invoice: the one producer of
    credit notes (`void` passes every day still on the invoice and sets `voided_by_id`;
    `credit` chosen days).  The credit note's id.

    What is credited for a day is exactly what its `invoice_day` rows billed: both parts of a
    day split between the NLG allowance (or a DfE package) and a charge, at the amounts and
    supply cover recorded then; a free day credits £0 and hands its allowance halves back
    (the allowance and packages are counted from the days on live invoices), so when the
    day is billed again it is classified afresh in date order.  VAT per rate is what makes the
    invoice's VAT less all its credit notes' VAT equal to the VAT (rounded half up) on the net
    still invoiced at that rate: the last credit note takes any rounding remainder, and a
    void of an invoice never partly credited is its exact negation.  The days' `invoice_id`
    is cleared (billable again)."""
    from sqlalchemy import select

    from s2s_cli import audit
    from s2s_cli.models import Invoice, InvoiceLine
    from s2s_cli.services import payments

    if on < inv.issued:
        raise Refused(f"the credit note date {on} is before the invoice's issue date "
                      f"{inv.issued}")
    wanted = set(day_ids)
    rows = [d for d in live_days(session, inv) if d.day_log_id in wanted]
    old_lines = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                .order_by(InvoiceLine.id)).scalars().all()
    doc = (Document.thaw(json.loads(inv.document), {}, id=inv.id, status="credit",
                         voided_by=None) if inv.document else None)
    details = json.loads(inv.details or "{}")
    # the document's line for each stored line: one per deployment and kind
    doc_line = {} if doc is None else {(ln.deployment_id, ln.kind): ln for ln in doc.lines}
    bp_of = {ln.id: int(doc_line[(ln.deployment_id, ln.kind)].vat_percent_bp or 0) if doc
             else int(details.get("vat_percent_bp") or 0) for ln in old_lines}
    per_line: dict[int, list[Any]] = {}
    for d in rows:
        per_line.setdefault(d.line_id, []).append(d)
    net = {ln.id: sum(d.amount_pence for d in per_line.get(ln.id, [])) for ln in old_lines}
    # VAT per rate: the invoice's, less what earlier credit notes took, less VAT on what stays
    inv_rates: dict[int, tuple[int, int]] = {}
    if doc and doc.vat_rates:
        inv_rates = {int(r["vat_percent_bp"]): (int(r["net_pence"]), int(r["vat_pence"]))
                     for r in doc.vat_rates}
    else:
        for bp, n, v in charging.vat_by_rate((bp_of[ln.id], ln.amount_pence)
                                             for ln in old_lines):
            inv_rates[bp] = (n, v)
        if not doc:  # issued before 0004_money: its stored VAT is what was charged
            [(bp0, (n0, _))] = list(inv_rates.items()) or [(0, (0, 0))]
            inv_rates = {bp0: (n0, inv.vat_pence)}
    before = _vat_credited(session, inv)
    vat_rates = []
    for bp in sorted(inv_rates):
        n_inv, v_inv = inv_rates[bp]
        n_prev, v_prev = before.get(bp, (0, 0))
        n_now = sum(net[ln.id] for ln in old_lines if bp_of[ln.id] == bp)
        if not n_now and not void:
            continue
        stays = n_inv + n_prev - n_now
        v_now = v_inv + v_prev - charging.vat_pence(stays, bp)
        if n_now or v_now or void:
            vat_rates.append({"vat_percent_bp": bp, "net_pence": -n_now, "vat_pence": -v_now})
    subtotal = -sum(net.values())
    vat = sum(r["vat_pence"] for r in vat_rates)
    total = subtotal + vat
    if not void:
        _, paid, balance = payments._balance(session, inv)
        if -total > balance:
            from s2s_cli.parsing import format_pence

            raise Refused(f"crediting {format_pence(-total)} would leave invoice {inv.number} "
                          f"overpaid (balance {format_pence(balance)}, "
                          f"{format_pence(paid)} paid); reverse the payments first "
                          "(s2s invoices unpay PAYMENT_ID --reason ...)")
        payments.check_credit_date(session, inv, on)

    from s2s_cli import fastdb

    settings = load_card(fastdb.session_reader(session))["invoice"]
    series, year, label = numbering_year(settings, "credit", on)
    counter = _lock_counter(session, series, year)
    check_issue_date(session, "credit", on, last_day=None, what="credit note")
    prefix = settings.get("credit_prefix") or "S2S-CR"
    counter.value += 1
    credit_number = f"{prefix}-{label}-{counter.value:04d}"
    details.update({"reason": reason, "credits": inv.number})
    if not void:
        details["days_credited"] = sorted(wanted)

    def counts(parts: list[Any]) -> dict[str, Any]:
        full = sum(1 for d in parts if d.halves == 2)
        half = sum(1 for d in parts if d.halves == 1)
        return {"full_days": full, "half_days": half, "halves": 2 * full + half,
                "amount_pence": -sum(d.amount_pence for d in parts),
                "supply_pence": -sum(d.supply_pence for d in parts)}

    dates = _day_rows(session, sorted(wanted))
    document = None
    if doc is not None:  # the credit note is the invoice's document for these days, negated
        lines = []
        for ln in old_lines:
            parts = per_line.get(ln.id)
            if not parts:
                continue
            c = counts(parts)
            span = sorted(_date(dates[d.day_log_id][0]) for d in parts)
            was = doc_line[(ln.deployment_id, ln.kind)]
            lines.append(replace(
                was, date_from=span[0], date_to=span[-1], days=c["halves"],
                full_days=c["full_days"], half_days=c["half_days"],
                amount_pence=c["amount_pence"], supply_pence=c["supply_pence"],
                earlier_days=was.earlier_days if void else 0))
        doc.number, doc.issued, doc.due = credit_number, on, on
        doc.credits, doc.reason = inv.number, reason
        doc.subtotal_pence, doc.vat_pence, doc.total_pence = subtotal, vat, total
        doc.vat_rates, doc.lines = vat_rates, lines  # type: ignore[assignment]
        doc.earlier_days = doc.earlier_days if void else 0
        doc.days = [{**d, "amount_pence": -d["amount_pence"]}  # type: ignore[typeddict-item]
                    for d in doc.days or [] if d["day_log_id"] in wanted]
        if not void:
            doc.days_credited = sorted(wanted)
        if doc.vat_invoice:
            doc.tax_point = on.isoformat()
        document = freeze(doc)
    note = Invoice(series="credit", number=credit_number, seq=counter.value, year=year,
                   payer=inv.payer, payer_school_urn=inv.payer_school_urn,
                   period_from=inv.period_from, period_to=inv.period_to, issued=on, due=on,
                   subtotal_pence=subtotal, vat_pence=vat, total_pence=total,
                   credits_invoice_id=inv.id, details=json.dumps(details), document=document)
    session.add(note)
    session.flush()
    assert note.id is not None
    new_lines = {}
    for ln in old_lines:
        parts = per_line.get(ln.id)
        if not parts:
            continue
        c = counts(parts)
        span = sorted(_date(dates[d.day_log_id][0]) for d in parts)
        new = InvoiceLine(invoice_id=note.id, deployment_id=ln.deployment_id,
                          leader_id=ln.leader_id, kind=ln.kind, date_from=span[0],
                          date_to=span[-1], full_days=c["full_days"],
                          half_days=c["half_days"], halves=c["halves"],
                          rate_pence=ln.rate_pence, half_day_rate_pence=ln.half_day_rate_pence,
                          amount_pence=c["amount_pence"], supply_pence=c["supply_pence"])
        session.add(new)
        new_lines[ln.id] = new
    session.flush()
    _write_days(session, [
        {"invoice_id": note.id, "day_log_id": d.day_log_id, "line_id": new_lines[d.line_id].id,
         "halves": d.halves, "kind": d.kind, "amount_pence": -d.amount_pence,
         "supply_pence": -d.supply_pence} for d in rows])
    _set_day_invoices(session, sorted(wanted), inv.id, None)
    if void:
        inv.voided_by_id = note.id
    session.flush()
    from s2s_cli.services import remittance

    remittance.record(session, [note.id])  # reverses the supply cover of the days credited
    audit.seal_documents(session, [note.id])  # tamper evidence
    return note.id


# --------------------------------------------------------------------------- summaries

GROUPS = ("school", "leader", "funding", "month")


@dataclass
class _Tally:
    key: str
    group: str
    status: str
    halves: int = 0
    charged_halves: int = 0
    free_halves: int = 0
    funded_halves: int = 0
    charged_pence: int = 0
    funded_pence: int = 0

    def add(self, kind: str, halves: int, amount: int) -> None:
        self.halves += halves
        if kind == "charged":
            self.charged_halves += halves
            self.charged_pence += amount
        elif kind == "funded":
            self.funded_halves += halves
            self.funded_pence += amount
        else:
            self.free_halves += halves

    def row(self) -> dict[str, Any]:
        return {"key": self.key, "group": self.group, "status": self.status,
                "days": self.halves, "charged_days": self.charged_halves,
                "charged_pence": self.charged_pence, "free_days": self.free_halves,
                "funded_days": self.funded_halves, "funded_pence": self.funded_pence,
                "amount_pence": self.charged_pence + self.funded_pence}


def charges(reader: Reader, *, start: dt.date | None = None, end: dt.date | None = None,
            by: str = "school") -> list[dict[str, Any]]:
    """Charge totals per group: `issued` (days on live invoices) and `draft` (days not yet
    invoiced, as they would be charged if issued now), over days dated start..end."""
    if by not in GROUPS:
        raise InvalidInput(f"--by must be one of {', '.join(GROUPS)}, not '{by}'")
    if start is None or end is None:
        lo, hi = reader.one("SELECT MIN(date), MAX(date) FROM day_log") or (None, None)
        if lo is None:
            return []
        start = start or _date(lo)
        end = end or _date(hi)
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    tallies: dict[tuple[str, str], _Tally] = {}

    def tally(key: Any, label: str, status: str) -> _Tally:
        k = (str(key), status)
        if k not in tallies:
            tallies[k] = _Tally(str(key), label, status)
        return tallies[k]

    key_sql = {"school": ("dep.school_urn", "s.name"), "leader": ("d.leader_id", "l.name"),
               "funding": ("dep.funding", "dep.funding"),
               "month": (month_expr(reader, "d.date"), month_expr(reader, "d.date"))}[by]
    for key, label, kind, halves, amount in reader.iter(
            f"SELECT {key_sql[0]}, {key_sql[1]}, x.kind, SUM(x.halves), SUM(x.amount_pence) "
            f"FROM day_log d {LIVE_DAY} JOIN deployment dep ON dep.id = d.deployment_id "
            "JOIN leader l ON l.id = d.leader_id JOIN school s ON s.urn = dep.school_urn "
            "WHERE d.date >= :f AND d.date <= :t "
            f"GROUP BY {key_sql[0]}, {key_sql[1]}, x.kind",
            {"f": _bind(reader, start), "t": _bind(reader, end)}):
        tally(key, _label(by, key, label), "issued").add(kind, int(halves), int(amount))
    # draft: the same producer as `invoice`, day by day, keeping the days dated start..end
    for doc in produce(reader, start, end, card=load_card(reader), days=True):
        for ln in doc.lines:
            for e in ln.entries or ():
                if e.date < start:
                    continue
                month = e.date.strftime("%Y-%m")
                key, label = {"school": (ln.school_urn, ln.school),
                              "leader": (ln.leader_id, ln.leader),
                              "funding": (ln.funding, ln.funding),
                              "month": (month, month)}[by]
                tally(key, _label(by, key, label), "draft").add(ln.kind, e.halves,
                                                                e.amount_pence)
    return [t.row() for _, t in sorted(tallies.items(), key=lambda kv: (
        kv[1].group.lower(), kv[0][0], kv[0][1] != "issued"))]


def _label(by: str, key: Any, label: Any) -> str:
    if by == "school":
        return f"{label} ({key})"
    if by == "leader":
        return f"{key} {label}"
    return str(label)


def remittance(reader: Reader, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per home school owed supply cover for days dated start..end, with what is settled and
    outstanding: read from what issued documents recorded (services/remittance.py)."""
    from s2s_cli.services import remittance as books

    return books.remittance(reader, start, end)


def live_remittance(reader: Reader, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per home school: the supply cover owed for its staff's charged and funded days dated
    start..end that are on live issued invoices, recomputed from the day links (what the
    recorded supply cover must agree with: `db check`).  The home school is the one frozen on
    the deployment when it was agreed (a leader who moves later does not move the money)."""
    rows = reader.all(
        "SELECT dep.home_school_urn, s.name, SUM(x.halves), SUM(x.supply_pence), "
        f"COUNT(DISTINCT d.leader_id) FROM day_log d {LIVE_DAY} "
        "JOIN deployment dep ON dep.id = d.deployment_id "
        "JOIN school s ON s.urn = dep.home_school_urn "
        "WHERE d.date >= :f AND d.date <= :t AND x.kind <> :free "
        "GROUP BY dep.home_school_urn, s.name",
        {"f": _bind(reader, start), "t": _bind(reader, end), "free": "free"})
    out = [{"urn": int(r[0]), "name": r[1], "days": int(r[2]), "supply_pence": int(r[3]),
            "leaders": int(r[4])} for r in rows]
    return sorted(out, key=lambda r: (r["name"].lower(), r["urn"]))
