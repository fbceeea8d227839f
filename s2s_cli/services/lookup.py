"""Which school, leader, local authority or region the user meant.

Wherever a command asks for a school or a leader, the user may type its URN / id or a part of
its name (case-insensitive):

* a URN (digits) or a leader id (`L0042`) is taken as given: the command's own check says
  "no school with URN ..." (exit 1) as it always did;
* a name fragment matching exactly one school or leader (or exactly one whose whole name it
  is) is that one;
* a fragment matching several exits 2 listing up to 10 candidates with their URNs / ids;
* a fragment matching none exits 2 with the nearest names.

Local authorities and regions match their name case-insensitively, else a fragment naming
exactly one ("richmond" is Richmond upon Thames), else exit 2 with a "did you mean".

Every CLI command resolves its school/leader/LA/region options through this module.  The
functions take a `Reader`, or a callable opening one (`State.reader`): a URN or an id then
needs no database at all."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from s2s_cli import taxonomy
from s2s_cli.errors import InvalidInput
from s2s_cli.fastdb import Reader

MAX_CANDIDATES = 10
MAX_FRAGMENT = 200
URN_DIGITS = 9  # URNs have six digits; more than this is no URN at all
LEADER_ID = re.compile(r"[Ll]\d{1,9}")

Source = Reader | Callable[[], AbstractContextManager[Reader]]


def _with_reader(source: Source, fn: Callable[[Reader], Any]) -> Any:
    if isinstance(source, Reader):
        return fn(source)
    with source() as reader:
        return fn(reader)


def _fragment(text: str, what: str, thing: str) -> str:
    frag = text.strip()
    if (not frag or len(frag) > MAX_FRAGMENT or any(ord(c) < 32 or ord(c) == 127 for c in frag)
            or "\ufffd" in frag or any(0xD800 <= ord(c) <= 0xDFFF for c in frag)):
        raise InvalidInput(f"{what or 'this'} must be {thing} (up to {MAX_FRAGMENT} "
                           "characters of plain text)")
    return frag


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _nearest(frag: str, names: list[tuple[Any, str]], n: int = 3) -> list[tuple[Any, str]]:
    """The names closest to a fragment that matched nothing: whole names and single words."""
    keys: dict[str, list[tuple[Any, str]]] = {}
    for key, name in names:
        low = name.lower()
        keys.setdefault(low, []).append((key, name))
        for word in re.findall(r"[\w'-]+", low):
            if len(word) >= 3:
                keys.setdefault(word, []).append((key, name))
    out: list[tuple[Any, str]] = []
    for hit in difflib.get_close_matches(frag.lower(), list(keys), n=n * 3, cutoff=0.6):
        for pair in keys[hit]:
            if pair not in out:
                out.append(pair)
    return out[:n]


def _pick(frag: str, rows: list[tuple[Any, str]], what: str, noun: str, plural: str,
          key_word: str) -> Any:
    exact = [r for r in rows if r[1].strip().lower() == frag.lower()]
    if len(exact) == 1:
        return exact[0][0]
    if len(rows) == 1:
        return rows[0][0]
    shown = ", ".join(f"{k} {name}" for k, name in rows[:MAX_CANDIDATES])
    more = f" and {len(rows) - MAX_CANDIDATES} more" if len(rows) > MAX_CANDIDATES else ""
    raise InvalidInput(f"'{frag}'{_where(what)} matches {len(rows)} {plural}: {shown}{more}; "
                       f"give the {key_word} or more of the name")


def _none(frag: str, what: str, noun: str, everyone: list[tuple[Any, str]]) -> InvalidInput:
    near = _nearest(frag, everyone)
    hint = ("; nearest: " + ", ".join(f"{k} {name}" for k, name in near)) if near else ""
    return InvalidInput(f"no {noun} matches '{frag}'{_where(what)}{hint}")


def _where(what: str) -> str:
    return f" ({what})" if what.startswith("-") else ""


# --- schools ----------------------------------------------------------------------------------

def as_urn(text: str | int, what: str = "--school") -> int | None:
    """A typed URN as a number, or None when the text is not digits (a name fragment)."""
    if isinstance(text, int):
        return text
    raw = text.strip()
    if not re.fullmatch(r"\d+", raw, flags=re.ASCII):
        return None
    if len(raw) > URN_DIGITS:
        raise InvalidInput(f"{raw} is not a URN (URNs have six digits){_where(what)}")
    return int(raw)


def school(source: Source, text: str | int, what: str = "--school") -> int:
    """The URN of the school meant by a URN or a name fragment."""
    urn = as_urn(text, what)
    if urn is not None:
        return urn
    frag = _fragment(str(text), what, "a URN or part of a school's name")

    def find(reader: Reader) -> int:
        rows = [(int(u), n) for u, n in reader.all(
            "SELECT urn, name FROM school WHERE lower(name) LIKE :pat ESCAPE '\\' "
            "ORDER BY name, urn", {"pat": _like(frag)})]
        if not rows:
            everyone = [(int(u), n) for u, n in reader.all("SELECT urn, name FROM school")]
            raise _none(frag, what, "school", everyone)
        return int(_pick(frag, rows, what, "school", "schools", "URN"))

    return int(_with_reader(source, find))


def optional_school(source: Source, text: str | None, what: str = "--school") -> int | None:
    return None if text is None else school(source, text, what)


# --- leaders ----------------------------------------------------------------------------------

def leader(source: Source, text: str, what: str = "--leader") -> str:
    """The id of the leader meant by an id (`L0042`, any case) or a name fragment.  Erased
    leaders are found by id only."""
    raw = text.strip()
    if LEADER_ID.fullmatch(raw):
        return raw.upper()
    frag = _fragment(text, what, "a leader id or part of a leader's name")

    def find(reader: Reader) -> str:
        rows = [(i, n) for i, n in reader.all(
            "SELECT id, name FROM leader WHERE erased = :no AND lower(name) LIKE :pat "
            "ESCAPE '\\' ORDER BY name, id", {"no": False, "pat": _like(frag)})]
        if not rows:
            everyone = [(i, n) for i, n in reader.all(
                "SELECT id, name FROM leader WHERE erased = :no", {"no": False})]
            raise _none(frag, what, "leader", everyone)
        return str(_pick(frag, rows, what, "leader", "leaders", "id"))

    return str(_with_reader(source, find))


def optional_leader(source: Source, text: str | None, what: str = "--leader") -> str | None:
    return None if text is None else leader(source, text, what)


# --- local authorities and regions ------------------------------------------------------------

def _named(rows: list[tuple[Any, str]], text: str, what: str, noun: str, plural: str,
           fallback: list[str] | None = None) -> Any:
    frag = _fragment(text, what, f"the name of a {noun}")
    low = frag.lower()
    for key, name in rows:
        if name.lower() == low:
            return key
    hits = [(k, n) for k, n in rows if low in n.lower()]
    if len(hits) == 1:
        return hits[0][0]
    if hits:
        shown = ", ".join(f"'{n}'" for _, n in hits[:MAX_CANDIDATES])
        raise InvalidInput(f"'{frag}'{_where(what)} matches {len(hits)} {plural}: {shown}")
    hint = taxonomy.suggest(frag, [n for _, n in rows] or (fallback or []))
    raise InvalidInput(f"unknown {noun} '{frag}'" + (f" (did you mean '{hint}'?)" if hint else ""))


def la_id(reader: Reader, text: str, what: str = "--la") -> int:
    rows = [(int(i), n) for i, n in reader.all("SELECT id, name FROM local_authority")]
    return int(_named(rows, text, what, "local authority", "local authorities"))


def la_name(reader: Reader, text: str, what: str = "--la") -> str:
    rows = [(n, n) for (n,) in reader.all("SELECT name FROM local_authority")]
    return str(_named(rows, text, what, "local authority", "local authorities"))


def region_id(reader: Reader, text: str, what: str = "--region") -> int:
    rows = [(int(i), n) for i, n in reader.all("SELECT id, name FROM region")]
    return int(_named(rows, text, what, "region", "regions", list(taxonomy.REGIONS)))
