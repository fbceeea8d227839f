"""Invoice documents as typed records: what a draft, an issued invoice or a credit note says.

`services/invoicing.py` produces them (drafts and issuing from one producer of lines; issued
documents thawed from their frozen JSON); `output.py` and `services/pdf.py` render them;
`services/books.py` exports them.  Nobody reads a document by position or by dictionary key.

* `DocLine` - one line: the days of one deployment of one kind (charged, free, funded), with
  its rates, amounts, VAT rate and treatment, the service and the kind in words.  While a run
  is being issued, `entries` holds its days one by one (`DayEntry`); that is not part of the
  document (its schedule of days, `Document.days`, is).
* `Document` - the invoice or credit note: payer and address, period, dates, totals, VAT per
  rate, the supplier's details frozen at issue (`supplier`), the lines and the schedule.

The stored form (`invoice.document`, written once at issue) is `Document.frozen()`: the same
keys in the same order as every document issued before these records existed, so documents
issued by any version thaw (`Document.thaw`) and render the same (keys a document lacks read
as None; keys this version does not know are kept in `extra` and written back unchanged).
Leaders' names are not frozen (personal data stays erasable): `thaw` joins the current name.

The JSON contract (`output.INVOICE_KEYS`, `output.JSON_LINE_KEYS`) is `Document.item()` and
`DocLine.item()`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypedDict

# The supplier's details a document carries (frozen at issue), in `supplier`.
SUPPLIER_KEYS = ("alliance_name", "legal_name", "address", "phone", "email", "company_number",
                 "charity_number", "vat_number", "bank", "remittance_email", "logo_sha256")


class DayEntry(NamedTuple):
    """One logged day (or the part of a split day) on a line being issued."""

    day_log_id: int
    date: dt.date
    halves: int
    amount_pence: int
    supply_pence: int


class ScheduleDay(TypedDict):
    """One row of a document's schedule of days (`Document.days`; JSON `days`)."""

    day_log_id: int
    date: str
    deployment_id: int
    leader_id: str
    halves: int
    kind: str
    activity: str | None
    amount_pence: int


class VatRate(TypedDict):
    """The net and VAT at one rate (`Document.vat_rates`; JSON `vat_rates`)."""

    vat_percent_bp: int
    net_pence: int
    vat_pence: int


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass(slots=True)
class DocLine:
    """One invoice line (the keys of `output.JSON_LINE_KEYS`)."""

    deployment_id: int
    leader_id: str
    leader: str
    school_urn: int
    school: str
    date_from: dt.date
    date_to: dt.date
    days: int  # halves
    full_days: int
    half_days: int
    rate_pence: int
    half_day_rate_pence: int
    kind: str  # charged, free or funded
    amount_pence: int
    supply_pence: int
    vat_percent_bp: int | None = None  # None on documents issued before 0004_money
    earlier_days: int | None = None  # days dated before the period (billed late)
    service: str | None = None  # 'SLE coaching — phonics' (None on older documents)
    description: str | None = None  # the service with the leader's name
    kind_text: str | None = None  # 'free (NLG allowance)', 'funded by DfE'
    vat: str | None = None  # exempt, standard or zero: frozen at issue
    funding: str | None = None  # the deployment's funding route, frozen at issue
    extra: dict[str, Any] | None = None  # keys of a stored line this version does not know
    entries: list[DayEntry] | None = None  # while issuing: the days, one by one

    @property
    def halves(self) -> int:
        return self.days

    def item(self) -> dict[str, Any]:
        """The line as JSON shows it (dates as date objects: the writer formats them)."""
        return {"deployment_id": self.deployment_id, "leader_id": self.leader_id,
                "leader": self.leader, "school_urn": self.school_urn, "school": self.school,
                "date_from": self.date_from, "date_to": self.date_to, "days": self.days,
                "full_days": self.full_days, "half_days": self.half_days,
                "rate_pence": self.rate_pence, "half_day_rate_pence": self.half_day_rate_pence,
                "kind": self.kind, "amount_pence": self.amount_pence,
                "supply_pence": self.supply_pence, "vat_percent_bp": self.vat_percent_bp,
                "earlier_days": self.earlier_days, "service": self.service,
                "description": self.description, "kind_text": self.kind_text,
                "vat": self.vat, "funding": self.funding}

    def frozen(self) -> dict[str, Any]:
        """The stored form: without the leader's name (kept erasable)."""
        out = {"deployment_id": self.deployment_id, "leader_id": self.leader_id,
               "school_urn": self.school_urn, "school": self.school,
               "date_from": _iso(self.date_from), "date_to": _iso(self.date_to),
               "days": self.days, "full_days": self.full_days, "half_days": self.half_days,
               "rate_pence": self.rate_pence, "half_day_rate_pence": self.half_day_rate_pence,
               "kind": self.kind, "amount_pence": self.amount_pence,
               "supply_pence": self.supply_pence, "vat_percent_bp": self.vat_percent_bp,
               "earlier_days": self.earlier_days, "service": self.service,
               "kind_text": self.kind_text, "vat": self.vat, "funding": self.funding}
        return out | self.extra if self.extra else out

    @classmethod
    def thaw(cls, stored: dict[str, Any], leader: str) -> DocLine:
        """A line from its stored form, showing `leader` (the current name)."""
        known = _LINE_FIELDS
        service = stored.get("service")
        extra = {k: v for k, v in stored.items() if k not in known}
        return cls(
            deployment_id=stored["deployment_id"], leader_id=stored["leader_id"], leader=leader,
            school_urn=stored["school_urn"], school=stored["school"],
            date_from=_date(stored["date_from"]), date_to=_date(stored["date_to"]),  # type: ignore[arg-type]
            days=stored["days"], full_days=stored["full_days"], half_days=stored["half_days"],
            rate_pence=stored["rate_pence"], half_day_rate_pence=stored["half_day_rate_pence"],
            kind=stored["kind"], amount_pence=stored["amount_pence"],
            supply_pence=stored["supply_pence"], vat_percent_bp=stored.get("vat_percent_bp"),
            earlier_days=stored.get("earlier_days"), service=service,
            description=(f"{service}, {leader}" if leader else service) if service else None,
            kind_text=stored.get("kind_text"), vat=stored.get("vat"),
            funding=stored.get("funding"), extra=extra or None)


_LINE_FIELDS = frozenset(DocLine.__dataclass_fields__) - {"extra", "entries"}


@dataclass(slots=True)
class Document:
    """An invoice or credit note, drafted or issued (the keys of `output.INVOICE_KEYS`)."""

    payer: str
    payer_school_urn: int | None
    period_from: dt.date
    period_to: dt.date
    subtotal_pence: int
    vat_pence: int
    total_pence: int
    lines: list[DocLine]
    number: str | None = None
    status: str = "draft"  # draft, issued, part-paid, paid, overdue, void, credit
    issued: dt.date | None = None
    due: dt.date | None = None
    credits: str | None = None  # a credit note: the invoice it credits
    voided_by: str | None = None  # a void invoice: its credit note
    reason: str | None = None
    supplier: dict[str, Any] = field(default_factory=dict)  # SUPPLIER_KEYS, frozen at issue
    payment_terms_days: int | None = None
    vat_percent_bp: int | None = None  # the highest VAT rate on it
    vat_rates: list[VatRate] | None = None
    vat_invoice: bool | None = None  # any standard or zero-rated line: a VAT invoice
    tax_point: str | None = None
    earlier_days: int | None = None
    days: list[ScheduleDay] | None = None  # the schedule of dated days (issued documents)
    po: str | None = None
    payer_trust_uid: str | None = None
    payer_address: list[str] | None = None
    payer_attention: str | None = None
    payer_email: str | None = None
    payer_postal: dict[str, Any] | None = None  # the address by part (accounting exports)
    po_override: str | None = None  # issued without a required PO: the reason
    po_missing: list[int] | None = None  # a draft: deployments lacking a required PO
    days_credited: list[int] | None = None  # a partial credit note: the days it credits
    id: int | None = None
    paid_pence: int | None = None
    balance_pence: int | None = None
    payments: list[dict[str, Any]] | None = None  # `invoices show`: payments against it
    extra: dict[str, Any] | None = None  # stored keys this version does not know

    @property
    def is_credit(self) -> bool:
        return self.credits is not None

    def supplier_item(self) -> dict[str, Any] | None:
        """JSON `supplier`: None on documents issued before they carried it."""
        s = self.supplier
        if s.get("legal_name") is None and s.get("alliance_name") is None:
            return None
        return {k: s.get(k) for k in SUPPLIER_KEYS}

    def frozen(self) -> dict[str, Any]:
        """The stored form (`invoice.document`): everything it shows except its status, id
        and voiding (a later void changes those) and leaders' names; dates as ISO text."""
        s = self.supplier
        out: dict[str, Any] = {
            "number": self.number, "payer": self.payer,
            "payer_school_urn": self.payer_school_urn,
            "period_from": _iso(self.period_from), "period_to": _iso(self.period_to),
            "issued": _iso(self.issued), "due": _iso(self.due),
            "subtotal_pence": self.subtotal_pence, "vat_pence": self.vat_pence,
            "total_pence": self.total_pence, "credits": self.credits, "reason": self.reason,
            "alliance_name": s.get("alliance_name"), "address": s.get("address"),
            "email": s.get("email"), "payment_terms_days": self.payment_terms_days,
            "vat_percent_bp": self.vat_percent_bp, "legal_name": s.get("legal_name"),
            "phone": s.get("phone"), "company_number": s.get("company_number"),
            "charity_number": s.get("charity_number"), "vat_number": s.get("vat_number"),
            "bank": s.get("bank"), "remittance_email": s.get("remittance_email"),
            "logo_sha256": s.get("logo_sha256"), "vat_rates": self.vat_rates,
            "vat_invoice": self.vat_invoice, "tax_point": self.tax_point,
            "earlier_days": self.earlier_days, "days": self.days, "po": self.po,
            "payer_trust_uid": self.payer_trust_uid,
            "lines": [ln.frozen() for ln in self.lines],
            "payer_address": self.payer_address, "payer_attention": self.payer_attention,
            "payer_email": self.payer_email, "payer_postal": self.payer_postal}
        for key in ("po_override", "days_credited"):  # written only when there is one
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out | self.extra if self.extra else out

    @classmethod
    def thaw(cls, stored: dict[str, Any], names: dict[str, str], *, id: int, status: str,
             voided_by: str | None) -> Document:
        """An issued document from its stored form (any version's), with its status now
        and each line showing its leader's current name (`names` by leader id)."""
        supplier = {k: stored.get(k) for k in SUPPLIER_KEYS}
        extra = {k: v for k, v in stored.items() if k not in _STORED_KEYS}
        return cls(
            payer=stored["payer"], payer_school_urn=stored.get("payer_school_urn"),
            period_from=_date(stored["period_from"]),  # type: ignore[arg-type]
            period_to=_date(stored["period_to"]),  # type: ignore[arg-type]
            subtotal_pence=stored["subtotal_pence"], vat_pence=stored["vat_pence"],
            total_pence=stored["total_pence"],
            lines=[DocLine.thaw(ln, names.get(ln["leader_id"], "")) for ln in stored["lines"]],
            number=stored.get("number"), status=status, issued=_date(stored.get("issued")),
            due=_date(stored.get("due")), credits=stored.get("credits"), voided_by=voided_by,
            reason=stored.get("reason"), supplier=supplier,
            payment_terms_days=stored.get("payment_terms_days"),
            vat_percent_bp=stored.get("vat_percent_bp"), vat_rates=stored.get("vat_rates"),
            vat_invoice=stored.get("vat_invoice"), tax_point=stored.get("tax_point"),
            earlier_days=stored.get("earlier_days"), days=stored.get("days"),
            po=stored.get("po"), payer_trust_uid=stored.get("payer_trust_uid"),
            payer_address=stored.get("payer_address"),
            payer_attention=stored.get("payer_attention"),
            payer_email=stored.get("payer_email"), payer_postal=stored.get("payer_postal"),
            po_override=stored.get("po_override"), days_credited=stored.get("days_credited"),
            id=id, extra=extra or None)


_STORED_KEYS = (frozenset(Document.__dataclass_fields__) | frozenset(SUPPLIER_KEYS)) - {
    "supplier", "extra", "status", "id", "voided_by", "paid_pence", "balance_pence",
    "payments", "po_missing"}
