"""Support requests: a school asks the alliance for help.

Life of a request: open -> matched (its first deployment; `matched_on`) -> completed (every one of
its deployments closed; `closed_on`), or cancelled (with a reason; only while no deployment is
active).  Each requested specialism is stored as its slug, with the term as typed when it
resolved through a short form ("numeracy" for maths: `request_specialism.term`, shown by
`request show` as `terms` and by matching).  Validation is pure (`validate_request`) and
happens before any write; the write functions take an ORM session inside `State.write`.

Also home to the helpers every brokerage service shares: `today()` (the `S2S_TODAY`
environment variable pins it, for tests and for back-dated runs), `as_date()` (dates come back
as text from SQLite and as `date` from PostgreSQL) and `bind_date()`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from s2s_cli import parsing, taxonomy
from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.fastdb import Reader

STATUSES = ("open", "matched", "completed", "cancelled")
TRUST_TYPES = ("academy", "free school")
MAX_NAME = 200
MAX_PO = 60


# --- shared helpers ---------------------------------------------------------------------------

def today() -> dt.date:
    """Today, or the date in $S2S_TODAY when set (`parsing.today`, the one clock)."""
    return parsing.today()


def as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def bind_date(reader: Reader, value: dt.date) -> Any:
    """A date as a query parameter: ISO text on SQLite (how it is stored), a date elsewhere."""
    return value if reader.dialect == "postgresql" else value.isoformat()


def in_chunks(reader: Reader, sql: str, ids: Sequence[Any],
              params: dict[str, Any] | None = None) -> Iterable[Sequence[Any]]:
    """Run `sql` (holding `{ids}`) for ids in chunks of 500 bound parameters."""
    for i in range(0, len(ids), 500):
        chunk = list(ids[i:i + 500])
        marks = ", ".join(f":i{j}" for j in range(len(chunk)))
        yield from reader.iter(sql.format(ids=marks),
                               {**(params or {}), **{f"i{j}": v for j, v in enumerate(chunk)}})


def choice(value: str, choices: Sequence[str], what: str) -> str:
    """A word from a fixed vocabulary, forgiving case, spaces and underscores."""
    v = value.strip().lower().replace("_", "-").replace(" ", "-")
    if v in choices:
        return v
    hint = taxonomy.suggest(v, list(choices))
    raise InvalidInput(f"unknown {what} '{value}'" + (f" (did you mean '{hint}'?)" if hint else
                                                      f": use one of {', '.join(choices)}"))


def check_funder(funding: str, funder: str | None, rise_ref: str | None = None) -> None:
    if funding in taxonomy.FUNDED_ROUTES and not funder:
        raise InvalidInput(f"--funder NAME is required when funding is {funding} (who pays?)")
    if funding not in taxonomy.FUNDED_ROUTES and funder:
        raise InvalidInput("--funder is only for intervention, grant or rise funding, not "
                           f"{funding}")
    if rise_ref is not None and funding != "rise":
        raise InvalidInput(f"--rise-ref is only for rise funding, not {funding}")


def check_rise_ref(funding: str, rise_ref: str | None) -> str | None:
    ref = parsing.clean_text(rise_ref, what="--rise-ref", max_len=100)
    if funding == "rise" and not ref:
        raise InvalidInput("--rise-ref REF is required when funding is rise (the RISE "
                           "commission's reference)")
    return ref


def check_dfe_closed(funding: str, override: str | None, what: str) -> str | None:
    """The DfE-funded NLG programme takes no new commissions: refuse (exit 1) unless the
    coordinator gives a reason, which is stored."""
    if funding != "dfe":
        return None
    reason = parsing.clean_text(override, what="--override", required=override is not None)
    if not reason:
        raise Refused(f"a new {what} cannot be funded dfe: {taxonomy.DFE_NLG_CLOSED} "
                      '(use --override "reason" to record one anyway)')
    return reason


def resolve_need(need: str) -> tuple[str, str | None]:
    hit = taxonomy.lookup_need(need)
    if hit is None:
        choices = list(taxonomy.NEEDS) + list(taxonomy.NEED_SYNONYMS)
        hint = taxonomy.suggest(need.strip().lower().replace(" ", "-"), choices)
        raise InvalidInput(f"unknown need '{need.strip()[:100]}'" + (
            f" (did you mean '{hint}'?)" if hint else f": use one of {', '.join(taxonomy.NEEDS)}"))
    return hit


BILL_TO = ("school", "trust")


def clean_bill_to(value: str | None) -> str | None:
    """--bill-to: school (the default) or trust (the school's academy trust pays)."""
    return None if value is None else choice(value, BILL_TO, "--bill-to")


def trust_of(session: Any, urn: int) -> str:
    """The UID of the trust a school belongs to (for `--bill-to trust`); refused without."""
    from s2s_cli.models import School

    return school_trust(session.get(School, urn), urn)


def school_trust(school: Any, urn: int) -> str:
    """trust_of for a school row already read (an ORM object or a light transaction row)."""
    if school is None:
        raise NotFound(f"no school with URN {urn}")
    if not school.trust_uid:
        raise Refused(f"--bill-to trust: {school.name} ({urn}) belongs to no trust "
                      "(trusts come from `s2s import gias`)")
    return str(school.trust_uid)


def clean_po(po: str | None) -> str | None:
    """A purchase order number as the school quotes it (free text, one line, short)."""
    return parsing.clean_text(po, what="--po", max_len=MAX_PO)


def past_date(text: str, *, what: str) -> dt.date:
    """A date that has already happened (back-dating): today or before."""
    when = parsing.parse_date(text, what=what)
    now = today()
    if when > now:
        raise InvalidInput(f"{what} {when.isoformat()} is in the future (today is "
                           f"{now.isoformat()})")
    return when


# --- requests ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestInput:
    school_urn: int
    need: str
    specialisms: tuple[str, ...]
    kind: str | None
    days_halves: int | None
    funding: str
    funder: str | None
    note: str | None
    contact: str | None
    received: dt.date
    # slug -> what was typed, for a specialism named only through a short form ("numeracy")
    terms: tuple[tuple[str, str], ...] = ()
    po: str | None = None
    need_term: str | None = None
    rise_ref: str | None = None
    override: str | None = None
    bill_to: str = "school"


def validate_request(*, school: int, need: str, specialisms: list[str] | None = None,
                     kind: str | None = None, days: str | None = None, funding: str = "school",
                     funder: str | None = None, note: str | None = None,
                     received: str | None = None, contact: str | None = None,
                     po: str | None = None, rise_ref: str | None = None,
                     override: str | None = None, bill_to: str | None = None
                     ) -> RequestInput:
    from s2s_cli.services.directory import resolve_kind

    if not 100000 <= school <= 999999:
        raise InvalidInput(f"--school must be a 6-digit URN, not {school}")
    slugs, terms = resolve_specialisms(specialisms or [])
    route = choice(funding, taxonomy.FUNDING_ROUTES, "funding route")
    who = parsing.clean_text(funder, what="--funder", max_len=MAX_NAME)
    check_funder(route, who, rise_ref)
    ref = check_rise_ref(route, rise_ref)
    need_slug, need_term = resolve_need(need)
    now = today()
    when = parsing.parse_date(received, what="--received") if received else now
    if when > now:
        raise InvalidInput(f"--received {when.isoformat()} is in the future (today is "
                           f"{now.isoformat()})")
    return RequestInput(
        school_urn=school, need=need_slug, specialisms=tuple(slugs),
        kind=resolve_kind(kind) if kind else None,
        days_halves=parsing.parse_days(days, what="--days") if days is not None else None,
        funding=route, funder=who, note=parsing.clean_text(note, what="--note", multiline=True),
        contact=parsing.clean_text(contact, what="--contact", max_len=MAX_NAME),
        received=when, terms=terms, po=clean_po(po), need_term=need_term,
        rise_ref=ref, override=check_dfe_closed(route, override, "request"),
        bill_to=clean_bill_to(bill_to) or "school")


def resolve_specialisms(specialisms: Sequence[str]
                        ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(slugs in the order typed, (slug, short form typed) for those named only through a
    short form)."""
    from s2s_cli.services.directory import resolve_specialism

    slugs: list[str] = []
    typed: dict[str, str | None] = {}  # slug -> short form typed; None once named directly
    for term in specialisms:
        slug = resolve_specialism(term)
        if slug not in slugs:
            slugs.append(slug)
        hit = taxonomy.lookup_specialism(term)
        via_alias = bool(hit and hit[1])
        if not via_alias:
            typed[slug] = None
        elif slug not in typed:
            typed[slug] = term.strip()
    return tuple(slugs), tuple((s, t) for s, t in typed.items() if t)


def log_request(session: Any, inp: RequestInput) -> int:
    from s2s_cli.models import RequestSpecialism, School, SupportRequest

    if session.get(School, inp.school_urn) is None:
        raise NotFound(f"no school with URN {inp.school_urn}")
    if inp.bill_to == "trust":
        trust_of(session, inp.school_urn)
    req = SupportRequest(school_urn=inp.school_urn, need=inp.need, kind=inp.kind,
                         days_halves=inp.days_halves, funding=inp.funding, funder=inp.funder,
                         note=inp.note, contact=inp.contact, received=inp.received,
                         po=inp.po, need_term=inp.need_term, rise_ref=inp.rise_ref,
                         override_reason=inp.override, bill_to=inp.bill_to)
    session.add(req)
    session.flush()
    assert req.id is not None
    terms = dict(inp.terms)
    for slug in inp.specialisms:
        session.add(RequestSpecialism(request_id=req.id, specialism_slug=slug,
                                      term=terms.get(slug)))
    session.flush()
    return req.id


# --- correcting a request ---------------------------------------------------------------------

UNSET: Any = object()  # an option not given (None means "clear it")


@dataclass(frozen=True)
class RequestEdit:
    """What `request edit` changes: only the fields given (None clears an optional one)."""

    need: Any = UNSET
    need_term: Any = UNSET
    specialisms: Any = UNSET  # (slugs, terms)
    kind: Any = UNSET
    days_halves: Any = UNSET
    funding: Any = UNSET
    funder: Any = UNSET
    contact: Any = UNSET
    note: Any = UNSET
    po: Any = UNSET
    bill_to: Any = UNSET

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not UNSET}


def _blank(text: str | None) -> bool:
    return text is not None and text.strip() == ""


def validate_request_edit(*, need: str | None = None, specialisms: list[str] | None = None,
                          kind: str | None = None, days: str | None = None,
                          funding: str | None = None, funder: str | None = None,
                          contact: str | None = None, note: str | None = None,
                          po: str | None = None, bill_to: str | None = None) -> RequestEdit:
    """Each option given is validated as `request log` validates it; an empty text ("")
    clears an optional field (kind, days, funder, contact, note, purchase order)."""
    from s2s_cli.services.directory import resolve_kind

    changes: dict[str, Any] = {}
    if need is not None:
        changes["need"], changes["need_term"] = resolve_need(need)
    if specialisms is not None:
        typed = [t for t in specialisms if t.strip()]
        changes["specialisms"] = resolve_specialisms(typed)
    if kind is not None:
        changes["kind"] = None if _blank(kind) else resolve_kind(kind)
    if days is not None:
        changes["days_halves"] = None if _blank(days) else parsing.parse_days(days,
                                                                                what="--days")
    if funding is not None:
        changes["funding"] = choice(funding, taxonomy.FUNDING_ROUTES, "funding route")
    if funder is not None:
        changes["funder"] = parsing.clean_text(funder, what="--funder", max_len=MAX_NAME)
    if contact is not None:
        changes["contact"] = parsing.clean_text(contact, what="--contact", max_len=MAX_NAME)
    if note is not None:
        changes["note"] = parsing.clean_text(note, what="--note")
    if po is not None:
        changes["po"] = clean_po(po)
    if bill_to is not None:
        changes["bill_to"] = clean_bill_to(bill_to)
    if not changes:
        raise InvalidInput("nothing to change: give at least one of --need, --specialism, "
                           "--kind, --days, --funding, --funder, --contact, --note, --po, "
                           "--bill-to")
    if "funding" in changes or "funder" in changes:
        route = changes.get("funding")
        if route is not None and "funder" in changes:
            check_funder(route, changes["funder"])
    return RequestEdit(**changes)


def edit_request(session: Any, request_id: int, edit: RequestEdit) -> list[str]:
    """Apply the changes (audited); returns the names of the fields that changed."""
    from sqlmodel import select

    from s2s_cli.models import RequestSpecialism

    req = lock_request(session, request_id)
    given = edit.given()
    funding = given.get("funding", req.funding)
    if "funder" in given:
        funder = given["funder"]
    else:  # a funder belongs to intervention and grant funding only
        funder = req.funder if funding in taxonomy.FUNDED_ROUTES else None
    check_funder(funding, funder)
    if funding != req.funding:
        check_dfe_closed(funding, None, "request")  # the closed programme: no new ones
        if funding == "rise" and not req.rise_ref:
            raise InvalidInput("a request moves to rise funding only with its RISE reference: "
                               "log it as a new request with --rise-ref")
    if given.get("bill_to") == "trust" and req.bill_to != "trust":
        trust_of(session, req.school_urn)  # refused for a school with no trust
    changed: list[str] = []
    for field in ("need", "need_term", "kind", "days_halves", "contact", "note", "po",
                  "bill_to"):
        if field in given and getattr(req, field) != given[field]:
            setattr(req, field, given[field])
            if field != "need_term":  # how the need was typed: part of the need
                changed.append("days" if field == "days_halves" else field)
    if req.funding != funding:
        req.funding = funding
        changed.append("funding")
    if req.funder != funder:
        req.funder = funder
        changed.append("funder")
    if "specialisms" in given:
        slugs, terms = given["specialisms"]
        typed = dict(terms)
        rows = {r.specialism_slug: r for r in session.exec(
            select(RequestSpecialism).where(RequestSpecialism.request_id == request_id)).all()}
        before = {(slug, r.term) for slug, r in rows.items()}
        after = {(slug, typed.get(slug)) for slug in slugs}
        if before != after:
            for slug, row in rows.items():
                if slug not in slugs:
                    session.delete(row)
                elif row.term != typed.get(slug):
                    row.term = typed.get(slug)
                    session.add(row)
            for slug in slugs:
                if slug not in rows:
                    session.add(RequestSpecialism(request_id=request_id, specialism_slug=slug,
                                                  term=typed.get(slug)))
            changed.append("specialisms")
    session.add(req)
    session.flush()
    return changed


def lock_request(session: Any, request_id: int) -> Any:
    """The request row, locked for this transaction (FOR UPDATE on PostgreSQL)."""
    from sqlmodel import select

    from s2s_cli.models import SupportRequest

    req = session.exec(select(SupportRequest).where(SupportRequest.id == request_id)
                       .with_for_update()).first()
    if req is None:
        raise NotFound(f"no request with id {request_id}")
    return req


def cancel_request(session: Any, request_id: int, reason: str,
                   on: dt.date | None = None) -> None:
    """Cancel a request, on `on` (back-dated; default today): not before it was received."""
    from sqlmodel import select

    from s2s_cli.models import Deployment

    req = lock_request(session, request_id)
    if req.status in ("completed", "cancelled"):
        raise Refused(f"request {request_id} is already {req.status}")
    when = on or today()
    if when < req.received:
        raise Refused(f"--on {when} is before request {request_id} was received "
                      f"({req.received})")
    active = session.exec(select(Deployment.id).where(Deployment.request_id == request_id,
                                                      Deployment.status == "active")
                          .order_by(Deployment.id)).all()
    if active:
        ids = ", ".join(str(i) for i in active)
        raise Refused(f"request {request_id} has active deployment(s) {ids}; close them first "
                      f"(s2s deployment close ID)")
    req.status = "cancelled"
    req.cancel_reason = reason
    req.closed_on = when
    session.add(req)
    session.flush()


REQUEST_SELECT = """
SELECT r.id, r.school_urn, s.name, r.need, r.kind, r.days_halves, r.funding, r.funder,
       r.received, r.status, r.note, r.contact, r.cancel_reason, r.matched_on, r.closed_on,
       r.po, r.need_term, r.rise_ref, r.override_reason, r.bill_to
FROM support_request r JOIN school s ON s.urn = r.school_urn
"""
REQUEST_KEYS = ("id", "school_urn", "school", "need", "kind", "days", "funding", "funder",
                "received", "status", "note", "contact", "cancel_reason", "matched_on",
                "closed_on", "po", "need_term", "rise_ref", "override_reason", "bill_to")


def _rows(reader: Reader, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [dict(zip(REQUEST_KEYS, r, strict=True)) for r in reader.all(sql, params)]
    ids = [r["id"] for r in rows]
    specs: dict[int, list[str]] = {}
    terms: dict[int, dict[str, str]] = {}
    for rid, slug, term in in_chunks(reader, "SELECT request_id, specialism_slug, term "
                                     "FROM request_specialism WHERE request_id IN ({ids})", ids):
        specs.setdefault(rid, []).append(slug)
        if term:
            terms.setdefault(rid, {})[slug] = term
    deps: dict[int, list[int]] = {}
    for rid, did in in_chunks(reader, "SELECT request_id, id FROM deployment "
                              "WHERE request_id IN ({ids}) ORDER BY id", ids):
        deps.setdefault(rid, []).append(did)
    for r in rows:
        for k in ("received", "matched_on", "closed_on"):
            r[k] = as_date(r[k])
        r["specialisms"] = sorted(specs.get(r["id"], []))
        r["terms"] = dict(sorted(terms.get(r["id"], {}).items()))
        r["deployments"] = deps.get(r["id"], [])
    return rows


def list_requests(reader: Reader, *, status: str | None = None,
                  school: int | None = None) -> list[dict[str, Any]]:
    where, params = [], {}
    if status:
        where.append("r.status = :status")
        params["status"] = choice(status, STATUSES, "status")
    if school is not None:
        where.append("r.school_urn = :urn")
        params["urn"] = school
    sql = REQUEST_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.id"
    return _rows(reader, sql, params)


def request(reader: Reader, request_id: int) -> dict[str, Any]:
    rows = _rows(reader, REQUEST_SELECT + " WHERE r.id = :id", {"id": request_id})
    if not rows:
        raise NotFound(f"no request with id {request_id}")
    return rows[0]
