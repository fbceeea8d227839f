"""Getting paid: payments against issued invoices, their reversals, balances and statuses,
debtors' aging and statements of account.

Issued documents are frozen and sealed, so nothing here changes an invoice row: a payment is a
`payment` row, a reversal another row with the negated amount (`reverses_id`), and an invoice's
balance (total - credit notes against it - payments) and status are computed when read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.fastdb import Reader

if TYPE_CHECKING:
    from s2s_cli.services.documents import Document

METHODS = ("bacs", "cheque", "card", "other")
STATUSES = ("issued", "part-paid", "paid", "overdue", "void", "credit")
BUCKETS = ("not_due_pence", "d1_30_pence", "d31_60_pence", "d61_90_pence", "d90_plus_pence")


def _date(value: Any) -> dt.date:
    from s2s_cli.services.invoicing import _date as to_date

    return to_date(value)


# --------------------------------------------------------------------------- reading

def amounts(reader: Reader, ids: Sequence[int] | None = None) -> dict[int, tuple[int, int]]:
    """Invoice id -> (credited pence (>= 0), paid pence (net of reversals))."""
    out: dict[int, list[int]] = {}
    for iid, total in reader.all("SELECT credits_invoice_id, SUM(total_pence) FROM invoice "
                                 "WHERE credits_invoice_id IS NOT NULL "
                                 "GROUP BY credits_invoice_id"):
        out.setdefault(int(iid), [0, 0])[0] = -int(total)
    for iid, total in reader.all("SELECT invoice_id, SUM(amount_pence) FROM payment "
                                 "GROUP BY invoice_id"):
        out.setdefault(int(iid), [0, 0])[1] = int(total)
    wanted = None if ids is None else set(ids)
    return {k: (v[0], v[1]) for k, v in out.items() if wanted is None or k in wanted}


def status_of(*, series: str, voided: bool, total: int, credited: int, paid: int,
              due: dt.date, on: dt.date) -> tuple[str, int]:
    """(status, balance pence) of one document as of `on`."""
    if series == "credit":
        return "credit", 0
    balance = total - credited - paid
    if voided:
        return "void", balance
    if balance <= 0:
        return "paid", balance
    if due < on:
        return "overdue", balance
    return ("part-paid" if paid > 0 else "issued"), balance


def standing(reader: Reader, docs: Sequence[tuple[int, str | None, str | None, int, dt.date]],
             on: dt.date | None = None) -> dict[int, tuple[str, int, int]]:
    """Id -> (status, paid pence, balance pence) as of `on` (today) of documents given as
    (id, the invoice it credits, its voiding credit note, total pence, due date)."""
    from s2s_cli.parsing import today

    on = on or today()
    sums = amounts(reader, [d[0] for d in docs])
    out = {}
    for doc_id, credits, voided_by, total, due in docs:
        credited, paid = sums.get(doc_id, (0, 0))
        series = "credit" if credits else "invoice"
        status, balance = status_of(series=series, voided=bool(voided_by), total=int(total),
                                    credited=credited, paid=paid, due=due, on=on)
        out[doc_id] = (status, 0 if series == "credit" else paid, balance)
    return out


def annotate(reader: Reader, rows: list[dict[str, Any]], on: dt.date | None = None) -> None:
    """Set `status`, `paid_pence`, `balance_pence` on invoice rows (`invoices list`)."""
    now = standing(reader, [(r["id"], r.get("credits"), r.get("voided_by"), r["total_pence"],
                             r["due"]) for r in rows], on)
    for r in rows:
        r["status"], r["paid_pence"], r["balance_pence"] = now[r["id"]]


def annotate_documents(reader: Reader, docs: Sequence[Document],
                       on: dt.date | None = None) -> None:
    """Set `status`, `paid_pence`, `balance_pence` on issued documents."""
    now = standing(reader, [(d.id, d.credits, d.voided_by, d.total_pence, d.due)
                            for d in docs], on)  # type: ignore[misc]
    for d in docs:
        d.status, d.paid_pence, d.balance_pence = now[d.id]  # type: ignore[index]


def annotate_new(docs: Sequence[Document], on: dt.date | None = None) -> None:
    """`annotate_documents` for documents issued in this very run: nothing can be paid or
    credited against them yet, so their standing needs no query."""
    from s2s_cli.parsing import today

    on = on or today()
    for d in docs:
        series = "credit" if d.credits else "invoice"
        status, balance = status_of(series=series, voided=bool(d.voided_by),
                                    total=d.total_pence, credited=0, paid=0,
                                    due=d.due, on=on)  # type: ignore[arg-type]
        d.status, d.paid_pence, d.balance_pence = status, 0, balance


PAYMENT_SELECT = ("SELECT p.id, i.number, p.date, p.amount_pence, p.method, p.ref, "
                  "p.reverses_id, p.reason, r.id FROM payment p "
                  "JOIN invoice i ON i.id = p.invoice_id "
                  "LEFT JOIN payment r ON r.reverses_id = p.id ")


def _payment_row(r: Sequence[Any]) -> dict[str, Any]:
    return {"id": int(r[0]), "invoice": r[1], "date": _date(r[2]), "amount_pence": int(r[3]),
            "method": r[4], "ref": r[5], "reverses": r[6], "reason": r[7],
            "reversed_by": r[8]}


def payments_of(reader: Reader, invoice_id: int) -> list[dict[str, Any]]:
    return [_payment_row(r) for r in reader.all(
        PAYMENT_SELECT + "WHERE p.invoice_id = :i ORDER BY p.date, p.id", {"i": invoice_id})]


# --------------------------------------------------------------------------- writes

def _lock_invoice(session: Any, number: str) -> Any:
    from sqlalchemy import func, select

    from s2s_cli.models import Invoice

    raw = (number or "").strip()
    inv = session.execute(select(Invoice).where(func.lower(Invoice.number) == raw.lower())
                          .with_for_update()).scalars().first()
    if inv is None:
        raise NotFound(f"no invoice numbered '{raw}'")
    return inv


def _balance(session: Any, inv: Any) -> tuple[int, int, int]:
    """(credited, paid, balance) of a locked invoice."""
    from sqlalchemy import func, select

    from s2s_cli.models import Invoice, Payment

    credited = -int(session.execute(select(func.coalesce(func.sum(Invoice.total_pence), 0))
                                    .where(Invoice.credits_invoice_id == inv.id)).scalar_one())
    paid = int(session.execute(select(func.coalesce(func.sum(Payment.amount_pence), 0))
                               .where(Payment.invoice_id == inv.id)).scalar_one())
    return credited, paid, inv.total_pence - credited - paid


def pay(session: Any, number: str, *, amount: int, on: dt.date, method: str,
        ref: str | None) -> int:
    """Record a payment against an issued invoice; the payment's id."""
    from s2s_cli.models import Payment
    from s2s_cli.parsing import format_pence

    if method not in METHODS:
        raise InvalidInput(f"--method must be one of {', '.join(METHODS)}, not '{method}'")
    if amount <= 0:
        raise InvalidInput("--amount must be more than £0.00")
    inv = _lock_invoice(session, number)
    if inv.series == "credit":
        raise Refused(f"{inv.number} is a credit note; payments are recorded against invoices")
    if inv.voided_by_id is not None:
        raise Refused(f"invoice {inv.number} is void; a void invoice cannot be paid")
    if on < inv.issued:
        raise Refused(f"the payment date {on} is before invoice {inv.number} was issued "
                      f"({inv.issued})")
    _, _, balance = _balance(session, inv)
    if balance <= 0:
        raise Refused(f"invoice {inv.number} is already paid in full")
    if amount > balance:
        raise Refused(f"{format_pence(amount)} is more than the {format_pence(balance)} "
                      f"outstanding on invoice {inv.number}; overpayments are not recorded")
    payment = Payment(invoice_id=inv.id, date=on, amount_pence=amount, method=method, ref=ref)
    session.add(payment)
    session.flush()
    assert payment.id is not None
    return payment.id


def unpay(session: Any, payment_id: int, *, reason: str, on: dt.date) -> int:
    """Reverse a payment with a row of its own (never a delete); the reversal's id."""
    from sqlalchemy import select

    from s2s_cli.models import Invoice, Payment

    original = session.get(Payment, payment_id)
    if original is None:
        raise NotFound(f"no payment {payment_id}")
    inv = session.execute(select(Invoice).where(Invoice.id == original.invoice_id)
                          .with_for_update()).scalar_one()
    if original.reverses_id is not None:
        raise Refused(f"payment {payment_id} is itself a reversal (of payment "
                      f"{original.reverses_id}); record the payment again instead")
    done = session.execute(select(Payment.id).where(Payment.reverses_id == payment_id)
                           ).scalars().first()
    if done is not None:
        raise Refused(f"payment {payment_id} was already reversed (payment {done})")
    if on < _date(original.date):
        raise Refused(f"the reversal date {on} is before payment {payment_id} was made "
                      f"({_date(original.date)})")
    reversal = Payment(invoice_id=inv.id, date=on, amount_pence=-original.amount_pence,
                       method=original.method, ref=original.ref, reverses_id=original.id,
                       reason=reason)
    session.add(reversal)
    session.flush()
    assert reversal.id is not None
    return reversal.id


def check_void(session: Any, inv: Any, on: dt.date) -> None:
    """A void (credit note) is refused while payments stand against the invoice: reverse them
    first, as an accounting package would (the balance never goes below zero, on any date of
    a statement: so the credit note is not dated before the last payment or reversal)."""
    from sqlalchemy import func, select

    from s2s_cli.models import Payment
    from s2s_cli.parsing import format_pence

    _, paid, _ = _balance(session, inv)
    if paid > 0:
        raise Refused(f"invoice {inv.number} has {format_pence(paid)} paid against it; "
                      "reverse the payments first (s2s invoices unpay PAYMENT_ID --reason ...)")
    last = session.execute(select(func.max(Payment.date))
                           .where(Payment.invoice_id == inv.id)).scalar_one()
    if last is not None and on < _date(last):
        raise Refused(f"the credit note date {on} is before the last payment or reversal on "
                      f"invoice {inv.number} ({_date(last)})")


def check_credit_date(session: Any, inv: Any, on: dt.date) -> None:
    """A credit note is not dated before the last payment or reversal on its invoice (a
    statement's running balance never goes below zero)."""
    from sqlalchemy import func, select

    from s2s_cli.models import Payment

    last = session.execute(select(func.max(Payment.date))
                           .where(Payment.invoice_id == inv.id)).scalar_one()
    if last is not None and on < _date(last):
        raise Refused(f"the credit note date {on} is before the last payment or reversal on "
                      f"invoice {inv.number} ({_date(last)})")


# --------------------------------------------------------------------------- debtors

def _open_invoices(reader: Reader, on: dt.date, payer: str | None = None
                   ) -> list[dict[str, Any]]:
    from s2s_cli.services import invoicing

    rows = [r for r in invoicing.listing(reader) if not r["credits"]
            and not r["voided_by"] and r["issued"] <= on]
    if payer is not None:
        rows = [r for r in rows if r["payer"] == payer]
    # as of `on`: only payments and credit notes dated on or before it count
    credited: dict[int, int] = {}
    for iid, total in reader.all(
            "SELECT credits_invoice_id, SUM(total_pence) FROM invoice WHERE credits_invoice_id "
            "IS NOT NULL AND issued <= :on GROUP BY credits_invoice_id",
            {"on": invoicing._bind(reader, on)}):
        credited[int(iid)] = -int(total)
    paid: dict[int, int] = {}
    for iid, total in reader.all("SELECT invoice_id, SUM(amount_pence) FROM payment "
                                 "WHERE date <= :on GROUP BY invoice_id",
                                 {"on": invoicing._bind(reader, on)}):
        paid[int(iid)] = int(total)
    for r in rows:
        r["balance_pence"] = r["total_pence"] - credited.get(r["id"], 0) - paid.get(r["id"], 0)
    return [r for r in rows if r["balance_pence"] > 0]


def bucket(due: dt.date, on: dt.date) -> str:
    late = (on - due).days
    if late <= 0:
        return BUCKETS[0]
    if late <= 30:
        return BUCKETS[1]
    if late <= 60:
        return BUCKETS[2]
    if late <= 90:
        return BUCKETS[3]
    return BUCKETS[4]


def debtors(reader: Reader, on: dt.date) -> list[dict[str, Any]]:
    """Per payer owing anything on `on`: the balance not yet due and overdue by 1-30, 31-60,
    61-90 and over 90 days, and the total (pence), by payer name."""
    per: dict[str, dict[str, Any]] = {}
    for r in _open_invoices(reader, on):
        row = per.setdefault(r["payer"], {"payer": r["payer"],
                                          "payer_school_urn": r["payer_school_urn"],
                                          "invoices": 0, **dict.fromkeys(BUCKETS, 0),
                                          "total_pence": 0})
        row["invoices"] += 1
        row[bucket(r["due"], on)] += r["balance_pence"]
        row["total_pence"] += r["balance_pence"]
    return [per[k] for k in sorted(per, key=str.lower)]


# --------------------------------------------------------------------------- statements

def resolve_payer(reader: Reader, text: str) -> str:
    """A payer by exact name (any case), URN, trust UID, or the one payer whose name contains
    `text`."""
    raw = (text or "").strip()
    names = [r[0] for r in reader.all("SELECT DISTINCT payer FROM invoice ORDER BY payer")]
    if raw.isdigit():
        row = reader.one("SELECT payer FROM invoice WHERE payer_school_urn = :u ORDER BY id",
                         {"u": int(raw)})
        if row is not None:
            return row[0]
    # a trust's UID (GIAS `Trusts (code)`) for a trust billed as the payer
    trust = reader.one("SELECT name FROM trust WHERE uid = :u", {"u": raw})
    if trust is not None and trust[0] in names:
        return str(trust[0])
    exact = [n for n in names if n.lower() == raw.lower()]
    if exact:
        return exact[0]
    some = [n for n in names if raw.lower() in n.lower()]
    if len(some) == 1:
        return some[0]
    if not some:
        raise NotFound(f"no invoices for a payer matching '{raw}'")
    raise InvalidInput(f"'{raw}' matches {len(some)} payers ({', '.join(some[:5])}); "
                       "give more of the name or the URN")


def statement(reader: Reader, payer: str, start: dt.date | None = None
              ) -> list[dict[str, Any]]:
    """A statement of account: invoices (debit), credit notes and payments (credit) by date,
    with the running balance (on one date: invoices, then payments and reversals, then credit
    notes, which are never dated before a payment they follow).  With `start`, an opening
    balance row carries what came before."""
    from s2s_cli.services import invoicing

    entries: list[tuple[dt.date, int, int, dict[str, Any]]] = []
    docs = [r for r in invoicing.listing(reader) if r["payer"] == payer]
    for d in docs:
        if d["credits"]:
            entries.append((d["issued"], 2, d["id"], {
                "date": d["issued"], "type": "credit note", "reference": d["number"],
                "detail": f"credits {d['credits']}", "debit_pence": 0,
                "credit_pence": -d["total_pence"]}))
        else:
            entries.append((d["issued"], 0, d["id"], {
                "date": d["issued"], "type": "invoice", "reference": d["number"],
                "detail": f"due {d['due'].isoformat()}", "debit_pence": d["total_pence"],
                "credit_pence": 0}))
    ids = [d["id"] for d in docs if not d["credits"]]
    if ids:
        marks, params = invoicing._in("i", ids)
        for r in reader.all(PAYMENT_SELECT + f"WHERE p.invoice_id IN ({marks})", params):
            p = _payment_row(r)
            kind = "reversal" if p["reverses"] else "payment"
            detail = f"{p['invoice']} {p['method']}" + (f" {p['ref']}" if p["ref"] else "")
            if p["reverses"]:
                detail = f"reverses payment {p['reverses']}: {p['reason']}"
            entries.append((p["date"], 1, p["id"], {
                "date": p["date"], "type": kind, "reference": str(p["id"]), "detail": detail,
                "debit_pence": max(0, -p["amount_pence"]),
                "credit_pence": max(0, p["amount_pence"])}))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    rows: list[dict[str, Any]] = []
    balance = 0
    opening = None
    for when, _, _, row in entries:
        balance += row["debit_pence"] - row["credit_pence"]
        if start is not None and when < start:
            opening = balance
            continue
        rows.append({**row, "balance_pence": balance})
    if start is not None:
        rows.insert(0, {"date": start, "type": "opening balance", "reference": "",
                        "detail": "", "debit_pence": 0, "credit_pence": 0,
                        "balance_pence": opening or 0})
    return rows
