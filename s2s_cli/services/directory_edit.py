"""Keeping the directory from the command line: add and edit leaders and schools, make a
leader active or inactive.

Every value goes through the very checks `seed load` applies to a file entry
(`seed.check_leader`, `seed.check_school`): the same messages, the same "did you mean", only
without FILE:LINE.  Each function runs inside the caller's write transaction (`State.write`),
checks everything before it changes anything, and changes rows through the ORM, so every change
is in the audit trail."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from s2s_cli import seed, taxonomy, yamlsafe
from s2s_cli.errors import InvalidInput, NotFound, Refused
from s2s_cli.models import Leader, LeaderSpecialism, LocalAuthority, School

UNSET: Any = object()  # "not given" for edits, where None means "clear it"


class _CommandProblems(seed._Problems):
    """seed's problem list without FILE:LINE: all problems in one line, exit 2."""

    def __init__(self) -> None:
        super().__init__("")

    def add(self, line: int, message: str) -> None:
        self.total += 1
        self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput("; ".join(self.items))


def _record(values: dict[str, Any]) -> yamlsafe.LDict:
    """Values as a seed entry (an LDict whose every field is on "line 0")."""
    rec = yamlsafe.LDict()
    rec.line = 0
    rec.lines = {}
    for key, value in values.items():
        if isinstance(value, list):
            seq = yamlsafe.LList(value)
            seq.line = 0
            seq.lines = [0] * len(value)
            value = seq
        rec[key] = value
        rec.lines[key] = 0
    return rec


def _slug(term: str) -> str:
    hit = taxonomy.lookup_specialism(term)
    if hit is None:
        near = taxonomy.suggest_specialisms(term, 1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise InvalidInput(f"unknown specialism '{term}'{hint}")
    return hit[0]


# --- leaders ----------------------------------------------------------------------------------

LEADER_FIELDS = ("name", "kind", "home_school", "designated_by", "email", "phone",
                 "capacity_days", "designations", "notes")


@dataclass
class LeaderChange:
    """What `leader add` / `leader edit` was given: UNSET for "not given", None to clear."""

    values: dict[str, Any] = field(default_factory=dict)  # seed field name -> value
    specialisms: list[str] | None = None  # replace the set
    add_specialisms: list[str] = field(default_factory=list)
    remove_specialisms: list[str] = field(default_factory=list)


def _all_urns(session: Session) -> set[int]:
    return {int(u) for u in session.execute(select(School.urn)).scalars()}


def next_leader_id(session: Session) -> str:
    """One more than the highest numbered id (at least L0001), four digits or more."""
    ids = session.execute(select(Leader.id)).scalars()
    top = max((int(m.group(1)) for i in ids if (m := re.fullmatch(r"L(\d+)", i))), default=0)
    return f"L{top + 1:04d}"


def _specialism_terms(terms: list[str]) -> list[str]:
    out: list[str] = []
    for term in terms:
        slug = _slug(term)
        if slug not in out:
            out.append(slug)
    return out


def _check_leader(values: dict[str, Any], urns: set[int]) -> dict[str, Any]:
    p = _CommandProblems()
    checked = seed.check_leader(_record({k: v for k, v in values.items() if v is not None}),
                                p, urns)
    p.raise_if_any()
    return checked


def add_leader(session: Session, change: LeaderChange, leader_id: str | None = None) -> str:
    """Add a leader (active); returns the id, generated when not given."""
    if leader_id is not None:
        leader_id = leader_id.strip().upper()
        if session.get(Leader, leader_id) is not None:
            raise Refused(f"leader {leader_id} already exists; change them with "
                          f"`s2s leader edit {leader_id}`")
    values = {k: v for k, v in change.values.items() if v is not UNSET}
    values["id"] = next_leader_id(session) if leader_id is None else leader_id
    values["specialisms"] = list(change.specialisms or []) + list(change.add_specialisms)
    checked = _check_leader(values, _all_urns(session))
    session.add(Leader(**{k: v for k, v in checked.items() if k != "specialisms"},
                       erased=False))
    session.flush()
    for slug in checked["specialisms"]:
        session.add(LeaderSpecialism(leader_id=checked["id"], specialism_slug=slug))
    session.flush()
    return str(checked["id"])


def _locked_leader(session: Session, leader_id: str) -> Leader:
    row = session.execute(select(Leader).where(Leader.id == leader_id).with_for_update()
                          ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no leader with id '{leader_id}'")
    return row


def edit_leader(session: Session, leader_id: str, change: LeaderChange) -> list[str]:
    """Change the given fields of a leader; returns the names of the fields changed."""
    ldr = _locked_leader(session, leader_id)
    if ldr.erased:
        raise Refused(f"{ldr.id} was erased: their record cannot be edited")
    held = sorted(session.execute(select(LeaderSpecialism.specialism_slug).where(
        LeaderSpecialism.leader_id == ldr.id)).scalars())
    specs = (_specialism_terms(change.specialisms) if change.specialisms is not None
             else list(held))
    for slug in _specialism_terms(change.add_specialisms):
        if slug not in specs:
            specs.append(slug)
    for term, slug in zip(change.remove_specialisms,
                          _specialism_terms(change.remove_specialisms), strict=True):
        if slug not in specs:
            raise InvalidInput(f"{ldr.id} does not hold the specialism '{term}' ({slug})")
        specs.remove(slug)
    current = {"id": ldr.id, "name": ldr.name, "kind": ldr.kind,
               "home_school": ldr.home_school_urn, "designated_by": ldr.designated_by_urn,
               "email": ldr.email, "phone": ldr.phone, "capacity_days": ldr.capacity_days,
               "active": ldr.active, "notes": ldr.notes,
               "designations": [d for d in (ldr.designations or "").split(",") if d]}
    values = {**current, **{k: v for k, v in change.values.items() if v is not UNSET},
              "specialisms": specs}
    checked = _check_leader(values, _all_urns(session))
    column = {"home_school": "home_school_urn", "designated_by": "designated_by_urn"}
    changed: list[str] = []
    for key in (k for k, v in change.values.items() if v is not UNSET):
        col = column.get(key, key)
        if getattr(ldr, col) != checked[col]:
            setattr(ldr, col, checked[col])
            changed.append(key)
    want, have = set(checked["specialisms"]), set(held)
    for slug in sorted(want - have):
        session.add(LeaderSpecialism(leader_id=ldr.id, specialism_slug=slug))
    for slug in sorted(have - want):
        link = session.get(LeaderSpecialism, (ldr.id, slug))
        if link is not None:
            session.delete(link)
    if want != have:
        changed.append("specialisms")
    session.flush()
    return changed


def set_active(session: Session, leader_id: str, active: bool) -> bool:
    """Make a leader active or inactive; False when they already were."""
    ldr = _locked_leader(session, leader_id)
    if ldr.erased and active:
        raise Refused(f"{ldr.id} was erased: they cannot be made active again")
    if ldr.active == active:
        return False
    ldr.active = active
    session.flush()
    return True


# --- schools ----------------------------------------------------------------------------------

SCHOOL_FIELDS = ("name", "la", "phase", "type", "trust", "pupils", "street", "locality",
                 "address3", "town", "county", "postcode", "phone", "website",
                 "finance_contact", "finance_email", "headteacher", "po_required")


def _la_names(session: Session) -> dict[str, str]:
    return {n.lower(): n for n in session.execute(select(LocalAuthority.name)).scalars()}


def _check_school(values: dict[str, Any], la_names: dict[str, str], *,
                  phase_required: bool = True) -> dict[str, Any]:
    p = _CommandProblems()
    checked = seed.check_school(_record({k: v for k, v in values.items() if v is not None}),
                                p, la_names, phase_required=phase_required)
    p.raise_if_any()
    return checked


def _school_values(checked: dict[str, Any], session: Session) -> dict[str, Any]:
    checked = dict(checked)
    la = checked.pop("la")
    la_id = session.execute(select(LocalAuthority.id).where(
        func.lower(LocalAuthority.name) == la.lower())).scalar_one()
    return {**checked, "la_id": la_id}


def add_school(session: Session, values: dict[str, Any]) -> int:
    urn = values.get("urn")
    if isinstance(urn, int) and session.get(School, urn) is not None:
        raise Refused(f"school {urn} already exists; change it with `s2s school edit {urn}`")
    given = {k: v for k, v in values.items() if v is not UNSET}
    checked = _check_school(given, _la_names(session))
    session.add(School(**_school_values(checked, session)))
    session.flush()
    return int(checked["urn"])


def edit_school(session: Session, urn: int, values: dict[str, Any]) -> list[str]:
    """Change the given fields of a school; returns the names of the fields changed."""
    school = session.execute(select(School).where(School.urn == urn).with_for_update()
                             ).scalar_one_or_none()
    if school is None:
        raise NotFound(f"no school with URN {urn}")
    la = session.get(LocalAuthority, school.la_id)
    given = {k: v for k, v in values.items() if v is not UNSET}
    trust = _trust_link(session, given.pop("trust")) if "trust" in given else None
    # the record as a seed file would hold it: what is given over what is stored (a school
    # imported from GIAS without a phase may still have its other fields edited)
    current: dict[str, Any] = {"urn": school.urn, "la": la.name if la else None}
    for key in SCHOOL_FIELDS:
        if key != "la":
            current[key] = getattr(school, key)
    checked = _school_values(_check_school(
        {**current, **given}, _la_names(session),
        phase_required=current["phase"] is not None or "phase" in given), session)
    changed: list[str] = []
    for key in given:
        col = "la_id" if key == "la" else key
        if getattr(school, col) != checked[col]:
            setattr(school, col, checked[col])
            changed.append(key)
    if trust is not None and (school.trust_uid, school.trust) != trust:
        school.trust_uid, school.trust = trust
        changed.append("trust")
    session.flush()
    return changed


def _trust_link(session: Session, term: str | None) -> tuple[str | None, str | None]:
    """`--trust ''` unlinks the school; `--trust UID|NAME` links it to a trust record (by the
    shared lookup) - name and type always come from that record, so what is shown and who
    `--bill-to trust` bills never disagree.  Trusts themselves come from GIAS or seed files."""
    from s2s_cli.fastdb import session_reader
    from s2s_cli.services.directory import resolve_trust

    if term is None:
        return None, None
    found = resolve_trust(session_reader(session), term)
    return found["uid"], found["name"]
