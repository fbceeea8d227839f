"""The tables.  Money is integer pence; day quantities are integer *halves* (a full day is 2),
so sums are exact; dates are `datetime.date`.

Importing this module costs the SQLModel import (~0.4 s), so read-only fast paths and `--help`
never import it (see `s2s_cli/fastdb.py`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Region(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class LocalAuthority(SQLModel, table=True):
    __tablename__ = "local_authority"
    id: int | None = Field(default=None, primary_key=True)
    code: int | None = Field(default=None, unique=True)
    name: str = Field(unique=True)
    region_id: int = Field(foreign_key="region.id", index=True)


class Trust(SQLModel, table=True):
    """An academy trust (GIAS group): `Trusts (code)` is its UID (added by 0004_reportcards)."""

    uid: str = Field(primary_key=True)
    name: str = Field(index=True)
    type: str | None = None  # multi-academy trust | single-academy trust | trust


class School(SQLModel, table=True):
    urn: int = Field(primary_key=True)
    name: str
    la_id: int = Field(foreign_key="local_authority.id", index=True)
    phase: str | None = Field(default=None, index=True)
    type: str | None = None
    trust: str | None = None
    pupils: int | None = None
    ofsted: str | None = None  # the single word held before report cards (legacy)
    postcode: str | None = None
    status: str = "open"
    street: str | None = None
    locality: str | None = None
    address3: str | None = None
    town: str | None = None
    county: str | None = None
    phone: str | None = None
    website: str | None = None
    finance_contact: str | None = None
    finance_email: str | None = None
    headteacher: str | None = None
    po_required: bool = False  # the finance office wants a purchase order number on invoices
    teaching_school: bool = False
    teaching_school_hub: bool = False
    national_support_school: bool = False
    # GIAS as it is now (0004_reportcards)
    trust_uid: str | None = Field(default=None, foreign_key="trust.uid", index=True)
    easting: int | None = None  # British National Grid metres
    northing: int | None = None


class Inspection(SQLModel, table=True):
    """One Ofsted inspection of a school: a report card (five-point areas, safeguarding met /
    not met) or a legacy four-point inspection (history)."""

    __table_args__ = (Index("ix_inspection_school_start", "school_urn", "framework", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    school_urn: int = Field(foreign_key="school.urn")
    framework: str  # report-card | legacy
    number: str | None = Field(default=None, index=True)  # Ofsted's inspection number
    type: str | None = None  # as Ofsted names it ("Graded inspection", "Section 5"...)
    start: dt.date | None = None
    published: dt.date | None = None
    safeguarding: str | None = None  # met | not met
    category: str | None = None  # category of concern (special measures, ...)
    source: str = "ofsted"  # ofsted (the MI file) | directory (the single grade held before)


class InspectionGrade(SQLModel, table=True):
    __tablename__ = "inspection_grade"
    __table_args__ = (Index("ix_inspection_grade_area", "area", "grade"),)
    inspection_id: int = Field(foreign_key="inspection.id", primary_key=True)
    area: str = Field(primary_key=True)  # taxonomy.REPORT_CARD_AREAS / LEGACY_AREAS slug
    grade: int  # report card 1 exceptional .. 5 urgent improvement; legacy 1 .. 4
    graded_on: dt.date | None = None


class Specialism(SQLModel, table=True):
    slug: str = Field(primary_key=True)
    name: str
    focus_area: str
    other_focus_area: str | None = None


class Leader(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    kind: str = Field(index=True)
    home_school_urn: int = Field(foreign_key="school.urn", index=True)
    designated_by_urn: int | None = Field(default=None, foreign_key="school.urn")
    email: str | None = None
    phone: str | None = None
    capacity_days: int = 0
    active: bool = Field(default=True, index=True)
    designations: str = ""  # comma-separated, sorted
    notes: str | None = None
    erased: bool = False


class LeaderSpecialism(SQLModel, table=True):
    __tablename__ = "leader_specialism"
    __table_args__ = (Index("ix_leader_specialism_specialism", "specialism_slug", "leader_id"),)
    leader_id: str = Field(foreign_key="leader.id", primary_key=True)
    specialism_slug: str = Field(foreign_key="specialism.slug", primary_key=True)


class SupportRequest(SQLModel, table=True):
    __tablename__ = "support_request"
    id: int | None = Field(default=None, primary_key=True)
    school_urn: int = Field(foreign_key="school.urn", index=True)
    need: str
    need_term: str | None = None  # the old-framework need it was logged as, if any
    kind: str | None = None
    days_halves: int | None = None
    funding: str = "school"
    funder: str | None = None
    rise_ref: str | None = None
    override_reason: str | None = None
    note: str | None = None
    contact: str | None = None
    received: dt.date
    status: str = Field(default="open", index=True)
    cancel_reason: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    matched_on: dt.date | None = None
    closed_on: dt.date | None = None
    po: str | None = None  # the school's purchase order number
    bill_to: str = "school"  # school | trust: who its deployments invoice (0007_billrules)


class RequestSpecialism(SQLModel, table=True):
    __tablename__ = "request_specialism"
    request_id: int = Field(foreign_key="support_request.id", primary_key=True)
    specialism_slug: str = Field(foreign_key="specialism.slug", primary_key=True)
    term: str | None = None  # as typed, when it resolved through a short form ("numeracy")


class Deployment(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("agreed_halves > 0", name="ck_deployment_agreed_positive"),
        CheckConstraint("rate_pence >= 0 AND half_day_rate_pence >= 0", name="ck_deployment_rates"),
    )
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="support_request.id", index=True)
    leader_id: str = Field(foreign_key="leader.id", index=True)
    school_urn: int = Field(foreign_key="school.urn", index=True)
    agreed_halves: int
    start: dt.date
    end: dt.date | None = None
    work: str = "other"
    funding: str = "school"
    funder: str | None = None
    rise_ref: str | None = None
    dfe_extra_days: int = 0
    rate_pence: int = 0
    half_day_rate_pence: int = 0
    supply_pence: int = 0  # supply cover reimbursed to the home school per charged full day
    half_day_supply_pence: int = 0
    rate_source: str = "card"  # card | negotiated
    status: str = Field(default="active", index=True)
    override_reason: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    closed_on: dt.date | None = None
    po: str | None = None  # purchase order (default: the request's)
    agreed_on: dt.date | None = None  # the date agreed (`deploy --on`)
    cancel_reason: str | None = None
    cancelled_on: dt.date | None = None
    # Terms frozen when the deployment is agreed (migration 0004_money): what its money
    # depends on, so later directory or rate-card edits never change what it is billed.
    leader_kind: str = ""  # SLE | LLE | NLE | NLG, as designated on the day of agreement
    home_school_urn: int | None = Field(default=None, foreign_key="school.urn")  # supply cover
    school_type: str | None = None  # the supported school's type (DfE package size)
    school_band: str | None = None  # the card's size band the school fell in, if any
    payer_school_urn: int | None = Field(default=None, foreign_key="school.urn")
    vat: str = "exempt"  # exempt | standard | zero
    vat_percent_bp: int = 0
    payment_terms_days: int = 28
    # who is invoiced: the school (payer_school_urn) or, with `--bill-to trust`, its trust as
    # it was on the day of agreement (0007_billrules)
    bill_to: str = "school"  # school | trust
    payer_trust_uid: str | None = None  # a trust.uid, copied (no foreign key)


class DayLog(SQLModel, table=True):
    __tablename__ = "day_log"
    __table_args__ = (
        CheckConstraint("halves IN (1, 2)", name="ck_day_log_halves"),
        Index("ix_day_log_leader_date", "leader_id", "date"),
        Index("ix_day_log_deployment_date", "deployment_id", "date"),
        Index("ix_day_log_date_cover", "date", "deployment_id", "halves", "invoice_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id")
    leader_id: str = Field(foreign_key="leader.id")
    date: dt.date
    halves: int = 2
    activity: str = "other"
    note: str | None = None
    over_reason: str | None = None
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


class PlannedSession(SQLModel, table=True):
    """A session booked ahead (`s2s plan`).  It counts with the days worked towards the
    one-day-per-leader-per-date rule and the deployment's agreed days while `planned`; `log`
    on its date makes it `worked` (linked to the day log, which alone is ever invoiced);
    `cancelled` ones stay for the calendar (STATUS:CANCELLED).  `sequence` and `updated_at`
    change with each move, cancellation or confirmation (iCalendar SEQUENCE and DTSTAMP)."""

    __tablename__ = "planned_session"
    __table_args__ = (
        CheckConstraint("halves IN (1, 2)", name="ck_planned_session_halves"),
        CheckConstraint("status IN ('planned', 'worked', 'cancelled')",
                        name="ck_planned_session_status"),
        Index("ix_planned_session_leader_date", "leader_id", "date"),
        Index("ix_planned_session_deployment_date", "deployment_id", "date"),
        Index("ix_planned_session_date_status", "date", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id")
    leader_id: str = Field(foreign_key="leader.id")
    date: dt.date
    halves: int = 2
    activity: str = "other"
    note: str | None = None
    over_reason: str | None = None
    status: str = "planned"  # planned | worked | cancelled
    day_log_id: int | None = Field(default=None, foreign_key="day_log.id", index=True)
    cancel_reason: str | None = None
    sequence: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Evaluation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    by: str  # school | leader
    rating: int
    impact: str
    date: dt.date
    created_at: dt.datetime = Field(default_factory=utcnow)


class Invoice(SQLModel, table=True):
    """An issued invoice or credit note.  Never updated once written, except `voided_by_id`."""

    __table_args__ = (UniqueConstraint("series", "number", name="uq_invoice_series_number"),)
    id: int | None = Field(default=None, primary_key=True)
    series: str  # invoice | credit
    number: str = Field(index=True, unique=True)  # unique across series (0004_money)
    seq: int
    year: int
    payer: str = Field(index=True)
    payer_school_urn: int | None = Field(default=None, foreign_key="school.urn")
    period_from: dt.date
    period_to: dt.date
    issued: dt.date
    due: dt.date
    subtotal_pence: int
    vat_pence: int
    total_pence: int
    credits_invoice_id: int | None = Field(default=None, foreign_key="invoice.id")
    voided_by_id: int | None = Field(default=None, foreign_key="invoice.id")
    details: str = "{}"  # JSON snapshot: alliance name/address, terms, payer address
    created_at: dt.datetime = Field(default_factory=utcnow)
    # SHA-256 of the document as issued (invoice, lines, day links; s2s_cli/tamper.py),
    # added by migration 0004_tamper
    doc_hash: str | None = None
    # The whole document as issued (JSON, from 0004_money): what JSON, CSV and PDF render, so
    # an issued document never changes.  NULL for documents issued before 0004.
    document: str | None = None


class Payment(SQLModel, table=True):
    """Money received against an issued invoice (0006_payments).  Never updated or deleted: a
    reversal (`s2s invoices unpay`) is a row of its own with the negated amount and
    `reverses_id` set.  An invoice's balance and status are computed from these rows."""

    __table_args__ = (
        CheckConstraint("method IN ('bacs', 'cheque', 'card', 'other')",
                        name="ck_payment_method"),
        Index("ix_payment_invoice_date", "invoice_id", "date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id")
    date: dt.date
    amount_pence: int  # positive received; negative on a reversal row
    method: str = "bacs"
    ref: str | None = None
    reverses_id: int | None = Field(default=None, foreign_key="payment.id", unique=True)
    reason: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class SupplyCover(SQLModel, table=True):
    """Supply cover owed to a home school, recorded when a document is issued (0007_books): one
    row per charged or funded day (part) on an invoice, positive, and - when a credit note
    credits that day - a row of the credit note's with the amount negated.  Free days owe none
    and have no row.  The home school (and its name) is the one frozen on the deployment, as it
    stood at issue, so a month's remittance never moves when the directory or the card
    changes.  Never updated or deleted; `day_log_id` is kept without a foreign key (a day
    freed by a void may later be undone: what was owed for it stays on record)."""

    __tablename__ = "supply_cover"
    __table_args__ = (
        Index("ix_supply_cover_home_date", "home_school_urn", "date"),
        Index("ix_supply_cover_date", "date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)  # invoice or credit note
    day_log_id: int
    deployment_id: int = Field(foreign_key="deployment.id")
    leader_id: str = Field(foreign_key="leader.id")
    home_school_urn: int = Field(foreign_key="school.urn")
    home_school: str  # its name when the document was issued
    date: dt.date  # the day worked
    kind: str  # charged | funded
    halves: int  # negative on a credit note
    supply_pence: int  # negative on a credit note
    created_at: dt.datetime = Field(default_factory=utcnow)


class SupplySettlement(SQLModel, table=True):
    """The alliance paying a home school's invoice for supply cover (`s2s remittance settle`,
    0007_books).  Never updated or deleted: a reversal (`remittance unsettle`) is a row of its
    own with the negated amount and `reverses_id` set."""

    __tablename__ = "supply_settlement"
    __table_args__ = (Index("ix_supply_settlement_home_date", "home_school_urn", "date"),)
    id: int | None = Field(default=None, primary_key=True)
    home_school_urn: int = Field(foreign_key="school.urn")
    date: dt.date
    amount_pence: int  # positive paid; negative on a reversal row
    ref: str  # the home school's invoice number
    reverses_id: int | None = Field(default=None, foreign_key="supply_settlement.id",
                                    unique=True)
    reason: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    leader_id: str = Field(foreign_key="leader.id")
    kind: str  # charged | free | funded
    date_from: dt.date
    date_to: dt.date
    full_days: int
    half_days: int
    halves: int
    rate_pence: int
    half_day_rate_pence: int
    amount_pence: int
    supply_pence: int


class InvoiceDay(SQLModel, table=True):
    """Which day logs an invoice line covers (kept after a void, for the audit trail).  A day
    split between the NLG allowance and a charge has two rows, one per line (0004_money)."""

    __tablename__ = "invoice_day"
    invoice_id: int = Field(foreign_key="invoice.id", primary_key=True)
    day_log_id: int = Field(foreign_key="day_log.id", primary_key=True, index=True)
    line_id: int = Field(foreign_key="invoice_line.id", primary_key=True)
    halves: int = 2  # the halves of the day on this line
    kind: str
    amount_pence: int
    supply_pence: int


class Counter(SQLModel, table=True):
    """Gapless numbering: one row per (series, year), locked while a number is taken."""

    series: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    value: int = 0


class Setting(SQLModel, table=True):
    key: str = Field(primary_key=True)
    value: str  # JSON


class AuditLog(SQLModel, table=True):
    """Append-only record of every write (added by migration 0002)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    actor: str
    command: str
    table_name: str
    record_id: str = Field(index=True)
    action: str  # insert | update | delete | erase | load
    before: str | None = None  # JSON
    after: str | None = None  # JSON
    # SHA-256 chained over the previous row's hash and this row's content (s2s_cli/tamper.py),
    # added by migration 0004_tamper
    hash: str | None = None
