"""The rate card: default day and half-day rates per kind of leader, per kind of work (optionally
per kind of leader within a kind of work), bands by the supported school's size, the
supply-cover/admin split, VAT by kind of work and invoice settings.  Pure arithmetic in integer
pence.

Rounding: one policy everywhere - half up, to the penny (`half_up`): a half-day rate derived
from a day rate (£333.33 -> £166.67), a percentage share, VAT."""

from __future__ import annotations

import json
import re
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
        "numbering": "calendar",
        # what a school's finance office needs to pay (issue 12): all optional
        "legal_name": None,  # the name on the invoice, when not the alliance's name
        "phone": None,
        "company_number": None,
        "charity_number": None,
        "vat_number": None,  # required to issue a VAT invoice
        "bank": None,  # {"account_name", "sort_code": "NN-NN-NN", "account_number": 8 digits}
        "remittance_email": None,
        "logo": None,  # {"path", "sha256"}: the image is stored in setting logo/<sha256>
    },
    # Addresses of payers that are not schools (funders, trusts, DfE), by name:
    # {"DfE": {"address": [...], "attention": "...", "email": "..."}}
    "payers": {},
}

VAT_TREATMENTS = ("exempt", "standard", "zero")
STANDARD_VAT_BP = 2000  # 20%
NUMBERING = ("calendar", "academic", "financial")


def normal_vat_number(text: str) -> str | None:
    """A UK VAT registration number in its printed form ('GB 123 4567 89', a branch's
    'GB 123 4567 89 001', a government department's 'GBGD001', a health authority's
    'GBHA500'), or None when it is not one: 9 digits whose check digits work (HMRC's weighted
    modulus 97, old or new series)."""
    raw = re.sub(r"[\s.-]", "", text or "").upper()
    if raw.startswith("GB"):
        raw = raw[2:]
    special = re.fullmatch(r"(GD|HA)(\d{3})", raw)
    if special:
        kind, num = special.groups()
        if (kind == "GD" and int(num) < 500) or (kind == "HA" and int(num) >= 500):
            return f"GB{kind}{num}"
        return None
    if not re.fullmatch(r"\d{9}(\d{3})?", raw):
        return None
    digits = [int(c) for c in raw[:9]]
    total = sum(d * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = digits[7] * 10 + digits[8]
    if (total + check) % 97 and (total + 55 + check) % 97:
        return None
    out = f"GB {raw[:3]} {raw[3:7]} {raw[7:9]}"
    return out + (f" {raw[9:]}" if len(raw) == 12 else "")


def normal_sort_code(text: str) -> str | None:
    """'12-34-56' from '12-34-56', '12 34 56' or '123456'; None when not six digits."""
    raw = re.sub(r"[\s-]", "", str(text or ""))
    if not re.fullmatch(r"\d{6}", raw):
        return None
    return f"{raw[:2]}-{raw[2:4]}-{raw[4:]}"


def normal_account_number(text: str) -> str | None:
    """A UK bank account number: exactly 8 digits (spaces allowed); None otherwise."""
    raw = re.sub(r"\s", "", str(text or ""))
    return raw if re.fullmatch(r"\d{8}", raw) else None


def normal_company_number(text: str) -> str | None:
    """A Companies House number: 8 digits (leading zeros may be left out) or 2 letters and 6
    digits (SC123456, NI..., OC...); None otherwise."""
    raw = re.sub(r"\s", "", str(text or "")).upper()
    if re.fullmatch(r"\d{1,8}", raw):
        return raw.zfill(8)
    return raw if re.fullmatch(r"[A-Z]{2}\d{6}", raw) else None


def normal_charity_number(text: str) -> str | None:
    """A charity number: England and Wales (6 or 7 digits, maybe -N for a linked charity),
    Scotland (SC and 6 digits) or Northern Ireland (NIC and 6 digits); None otherwise."""
    raw = re.sub(r"\s", "", str(text or "")).upper()
    if re.fullmatch(r"\d{6,7}(-\d{1,2})?", raw) or re.fullmatch(r"(SC|NIC)\d{6}", raw):
        return raw
    return None


def image_kind(data: bytes) -> str | None:
    """'png' or 'jpeg' from the file's first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (away from zero), in integers."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


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
        share = half_up(fixed, 2) if half else fixed
        return min(share, amount_pence)
    bp = int(split.get("admin_percent_bp") or 0)
    return half_up(amount_pence * bp, 10000)


def check_admin_fits(card: dict[str, Any], day: int, half: int, what: str) -> str | None:
    """Why a fixed administration share does not fit these rates (None when it does)."""
    from s2s_cli.parsing import format_pence

    fixed = (card.get("split") or {}).get("admin_fixed_pence")
    if fixed is None:
        return None
    if fixed > day:
        return (f"the fixed administration share {format_pence(fixed)} is more than the day "
                f"rate {format_pence(day)} of {what}: the home school would get nothing")
    if half_up(fixed, 2) > half:
        return (f"half the fixed administration share ({format_pence(half_up(fixed, 2))}) is "
                f"more than the half-day rate {format_pence(half)} of {what}")
    return None


def card_problems(card: dict[str, Any]) -> list[str]:
    """What makes a card unusable (a fixed admin share above a rate; equal number prefixes)."""
    out = []
    for row in card_rows(card):
        why = check_admin_fits(card, int(row["day_pence"]), int(row["half_day_pence"]),
                               f"{row['scope']} {row['name']}")
        if why:
            out.append(why)
    settings = card.get("invoice") or {}
    inv = settings.get("number_prefix") or DEFAULT_CARD["invoice"]["number_prefix"]
    cr = settings.get("credit_prefix") or DEFAULT_CARD["invoice"]["credit_prefix"]
    if inv.lower() == cr.lower():
        out.append(f"the invoice and credit note prefixes are both '{inv}': give credit notes "
                   "their own prefix (number_prefix and credit_prefix must differ)")
    return out


def vat_for(card: dict[str, Any], work: str | None) -> tuple[str, int]:
    """(treatment, rate in basis points) for a kind of work: the card's `vat` section
    (`{"default": "exempt", "work": {"consultancy": "standard"}}`), else the older flat
    `invoice.vat_percent_bp` (standard when above 0)."""
    vat = card.get("vat") or {}
    treatment = (vat.get("work") or {}).get(work or "") or vat.get("default")
    if treatment is None:
        bp = int((card.get("invoice") or {}).get("vat_percent_bp") or 0)
        return ("standard", bp) if bp else ("exempt", 0)
    return treatment, STANDARD_VAT_BP if treatment == "standard" else 0


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
        if kind in (entry.get("kinds") or {}):
            entry = entry["kinds"][kind]
            source = f"card: work {work}, {kind}"
    day, half = int(entry["day"]), int(entry["half_day"])
    return Rates(day, half, day - admin_share(card, day, half=False),
                 half - admin_share(card, half, half=True), source)


def negotiated(card: dict[str, Any], day: int, half: int | None) -> Rates:
    half = half_up(day, 2) if half is None else half
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
        for kind, sub in (entry.get("kinds") or {}).items():
            rows.append({"scope": f"work {work}", "name": kind, "max_pupils": None,
                         "day_pence": sub["day"], "half_day_pence": sub["half_day"]})
    for band in sorted(card.get("bands") or [], key=lambda b: b["max_pupils"]):
        for kind, entry in band["kinds"].items():
            rows.append({"scope": f"band {band['name']}", "name": kind,
                         "max_pupils": band["max_pupils"], "day_pence": entry["day"],
                         "half_day_pence": entry["half_day"]})
    return rows


def frozen_terms(card: dict[str, Any], *, leader_kind: str, home_school_urn: int,
                 school_urn: int, school_type: str | None, pupils: int | None,
                 work: str | None, funding: str) -> dict[str, Any]:
    """The deployment columns that freeze, at agreement, everything its money depends on."""
    band = band_for(card, pupils)
    treatment, bp = vat_for(card, work)
    terms = (card.get("invoice") or {}).get("payment_terms_days")
    return {"leader_kind": leader_kind, "home_school_urn": home_school_urn,
            "school_type": school_type, "school_band": band["name"] if band else None,
            "payer_school_urn": None if funding in ("intervention", "grant") else school_urn,
            "vat": treatment, "vat_percent_bp": bp,
            "payment_terms_days": DEFAULT_CARD["invoice"]["payment_terms_days"]
            if terms is None else int(terms)}
