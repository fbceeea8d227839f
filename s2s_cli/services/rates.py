"""The rate card: default day and half-day rates per kind of leader, per kind of work, bands by
the supported school's size, the supply-cover/admin split and invoice settings.  Pure
arithmetic in integer pence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DEFAULT_CARD: dict[str, Any] = {
    "kinds": {
        "SLE": {"day": 35000, "half_day": 17500},
        "LLE": {"day": 45000, "half_day": 22500},
        "NLE": {"day": 50000, "half_day": 25000},
        "NLG": {"day": 40000, "half_day": 20000},
    },
    "work": {},
    "bands": [],
    "split": {"admin_percent_bp": 1500, "admin_fixed_pence": None},
    "invoice": {
        "alliance_name": "s2s Teaching School Alliance",
        "address": [],
        "email": None,
        "payment_terms_days": 28,
        "number_prefix": "S2S",
        "credit_prefix": "S2S-CR",
        "vat_percent_bp": 0,
    },
}


@dataclass(frozen=True)
class Rates:
    day_pence: int
    half_day_pence: int
    supply_pence: int
    half_day_supply_pence: int
    source: str


def card_from_json(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else json.loads(json.dumps(DEFAULT_CARD))


def admin_share(card: dict[str, Any], amount_pence: int, *, half: bool) -> int:
    split = card.get("split") or {}
    fixed = split.get("admin_fixed_pence")
    if fixed is not None:
        share = fixed // 2 if half else fixed
        return min(share, amount_pence)
    bp = int(split.get("admin_percent_bp") or 0)
    return (amount_pence * bp + 5000) // 10000  # round half up, integers only


def band_for(card: dict[str, Any], pupils: int | None) -> dict[str, Any] | None:
    if pupils is None:
        return None
    for band in sorted(card.get("bands") or [], key=lambda b: b["max_pupils"]):
        if pupils <= band["max_pupils"]:
            return band
    return None


def rates_for(card: dict[str, Any], kind: str, work: str | None, pupils: int | None) -> Rates:
    """The card rate for a leader kind, kind of work and supported school size:
    a rate for the kind of work wins, then the school's size band, then the kind's default."""
    source = f"card: {kind}"
    entry = card["kinds"].get(kind) or DEFAULT_CARD["kinds"][kind]
    band = band_for(card, pupils)
    if band and kind in (band.get("kinds") or {}):
        entry = band["kinds"][kind]
        source = f"card: {kind}, band {band['name']} (≤ {band['max_pupils']} pupils)"
    if work and work in (card.get("work") or {}):
        entry = card["work"][work]
        source = f"card: work {work}"
    day, half = int(entry["day"]), int(entry["half_day"])
    return Rates(day, half, day - admin_share(card, day, half=False),
                 half - admin_share(card, half, half=True), source)


def negotiated(card: dict[str, Any], day: int, half: int | None) -> Rates:
    half = day // 2 if half is None else half
    return Rates(day, half, day - admin_share(card, day, half=False),
                 half - admin_share(card, half, half=True), "negotiated")


def card_rows(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card as rows for output."""
    rows: list[dict[str, Any]] = []
    for kind, entry in card["kinds"].items():
        rows.append({"scope": "kind", "name": kind, "max_pupils": None,
                     "day_pence": entry["day"], "half_day_pence": entry["half_day"]})
    for work, entry in (card.get("work") or {}).items():
        rows.append({"scope": "work", "name": work, "max_pupils": None,
                     "day_pence": entry["day"], "half_day_pence": entry["half_day"]})
    for band in sorted(card.get("bands") or [], key=lambda b: b["max_pupils"]):
        for kind, entry in band["kinds"].items():
            rows.append({"scope": f"band {band['name']}", "name": kind,
                         "max_pupils": band["max_pupils"], "day_pence": entry["day"],
                         "half_day_pence": entry["half_day"]})
    return rows
