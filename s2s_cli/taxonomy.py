"""The fixed vocabularies of the domain: specialisms (with Ofsted focus areas and the short
forms coordinators type), kinds of leader, phases, needs, funding routes, work types and
activities.  Pure data and pure functions: no database, no third-party imports."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

FOCUS_LEADERSHIP = "Leadership and management"
FOCUS_ACHIEVEMENT = "Pupil achievement"
FOCUS_TEACHING = "Quality of teaching"
FOCUS_BEHAVIOUR = "Behaviour and safety"
FOCUS_AREAS = (FOCUS_LEADERSHIP, FOCUS_ACHIEVEMENT, FOCUS_TEACHING, FOCUS_BEHAVIOUR)


@dataclass(frozen=True)
class Specialism:
    slug: str
    name: str
    focus_areas: tuple[str, ...]
    aliases: tuple[str, ...] = ()


SPECIALISMS: tuple[Specialism, ...] = (
    # Leadership and management
    Specialism("academies", "Academies and academy transition", (FOCUS_LEADERSHIP,),
               ("academy transition", "academy conversion", "academisation")),
    Specialism("assessment", "Assessment", (FOCUS_LEADERSHIP, FOCUS_TEACHING)),
    Specialism("cpd", "Leadership of continuing professional development", (FOCUS_LEADERSHIP,),
               ("cpd", "continuing professional development", "professional development")),
    Specialism("business-management", "School business management and financial management",
               (FOCUS_LEADERSHIP,),
               ("sbm", "school business management", "financial management", "finance",
                "business management")),
    Specialism("curriculum", "Leadership of curriculum", (FOCUS_LEADERSHIP,),
               ("curriculum leadership",)),
    # Pupil achievement
    Specialism("art", "Art", (FOCUS_ACHIEVEMENT,), ("art and design",)),
    Specialism("closing-the-gap", "Closing the gap", (FOCUS_ACHIEVEMENT,),
               ("disadvantaged pupils", "pupil premium")),
    Specialism("drama", "Drama", (FOCUS_ACHIEVEMENT,)),
    Specialism("design-and-technology", "Design and technology", (FOCUS_ACHIEVEMENT,),
               ("d&t", "dt", "d and t", "design technology")),
    Specialism("early-years", "Early years", (FOCUS_ACHIEVEMENT,),
               ("eyfs", "early years foundation stage")),
    Specialism("english", "English", (FOCUS_ACHIEVEMENT,), ("literacy",)),
    Specialism("geography", "Geography", (FOCUS_ACHIEVEMENT,)),
    Specialism("history", "History", (FOCUS_ACHIEVEMENT,)),
    Specialism("ict", "Information and communication technology", (FOCUS_ACHIEVEMENT,),
               ("ict", "computing", "computer science")),
    Specialism("maths", "Maths", (FOCUS_ACHIEVEMENT,), ("mathematics", "math", "numeracy")),
    Specialism("mfl", "Modern foreign languages", (FOCUS_ACHIEVEMENT,),
               ("mfl", "languages", "modern languages")),
    Specialism("music", "Music", (FOCUS_ACHIEVEMENT,)),
    Specialism("phonics", "Phonics", (FOCUS_ACHIEVEMENT,), ("early reading", "ssp")),
    Specialism("pe", "Physical education", (FOCUS_ACHIEVEMENT,), ("pe", "sport")),
    Specialism("pshe", "Personal, social and health education", (FOCUS_ACHIEVEMENT,),
               ("pshe", "pshee", "rshe")),
    Specialism("re", "Religious education", (FOCUS_ACHIEVEMENT,), ("re", "rs")),
    Specialism("science", "Science", (FOCUS_ACHIEVEMENT,)),
    Specialism("send", "Special educational needs", (FOCUS_ACHIEVEMENT,),
               ("sen", "send", "sen/d", "special educational needs and disabilities", "inclusion")),
    Specialism("most-able", "Support for the most able pupils", (FOCUS_ACHIEVEMENT,),
               ("most able", "more able", "gifted and talented", "g&t", "able pupils")),
    Specialism("citizenship", "Citizenship", (FOCUS_ACHIEVEMENT,)),
    # Quality of teaching
    Specialism("itt", "Initial teacher training", (FOCUS_TEACHING,),
               ("itt", "initial teacher education", "ite", "teacher training")),
    Specialism("nqt", "Newly qualified teacher development", (FOCUS_TEACHING,),
               ("nqt", "ect", "early career teacher", "early career teachers",
                "nqt/ect", "ect development", "early career framework", "ecf")),
    # Behaviour and safety
    Specialism("behaviour", "Behaviour and discipline", (FOCUS_BEHAVIOUR,),
               ("behavior", "discipline", "behaviour management")),
    Specialism("attendance", "Attendance", (FOCUS_BEHAVIOUR,)),
)

SPECIALISM_BY_SLUG = {s.slug: s for s in SPECIALISMS}

# Closely related specialisms (symmetric): a leader holding one is a good second choice for the
# other, better than any specialism merely in the same Ofsted focus area (used by matching).
RELATED_PAIRS: tuple[tuple[str, str], ...] = (
    ("phonics", "english"), ("phonics", "early-years"), ("english", "drama"),
    ("send", "closing-the-gap"), ("itt", "nqt"), ("nqt", "cpd"), ("behaviour", "attendance"),
    ("assessment", "curriculum"), ("academies", "business-management"), ("maths", "science"),
)


def _build_related() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for a, b in RELATED_PAIRS:
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return {slug: frozenset(near) for slug, near in table.items()}


RELATED = _build_related()

KINDS = ("SLE", "LLE", "NLE", "NLG")
KIND_NAMES = {
    "SLE": "Specialist leader of education",
    "LLE": "Local leader of education",
    "NLE": "National leader of education",
    "NLG": "National leader of governance",
}

REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West",
)

PHASES = ("nursery", "primary", "middle", "secondary", "all-through", "special",
          "alternative provision", "16 plus")
OFSTED_GRADES = ("outstanding", "good", "requires improvement", "inadequate")
SCHOOL_TYPES = ("community school", "voluntary aided school", "voluntary controlled school",
                "foundation school", "academy", "free school", "special school",
                "pupil referral unit", "independent school", "other")

NEEDS = ("teaching-and-learning", "leadership-and-management", "achievement", "behaviour",
         "governance")
# The Ofsted focus area a request's need points at (used by matching).
NEED_FOCUS = {
    "teaching-and-learning": FOCUS_TEACHING,
    "leadership-and-management": FOCUS_LEADERSHIP,
    "achievement": FOCUS_ACHIEVEMENT,
    "behaviour": FOCUS_BEHAVIOUR,
    "governance": FOCUS_LEADERSHIP,
}
FUNDING_ROUTES = ("school", "intervention", "grant", "dfe")
WORK_TYPES = ("one-to-one", "group-support", "data-analysis", "diagnosis", "coaching",
              "facilitation-and-training", "joint-action-planning", "governance-review",
              "pupil-premium-review", "other")
ACTIVITIES = ("coaching", "data-analysis", "diagnosis", "facilitation-and-training",
              "joint-action-planning", "one-to-one", "group-support", "governance-review",
              "pupil-premium-review", "other")
DESIGNATIONS = ("pupil premium reviewer", "external reviewer of governance",
                "interim executive board chair", "ofsted inspector")


def _norm(text: str) -> str:
    text = text.strip().lower().replace("_", " ").replace("-", " ")
    return re.sub(r"\s+", " ", text)


def _build_lookup() -> dict[str, tuple[str, bool]]:
    """normalised term -> (slug, via_alias)."""
    table: dict[str, tuple[str, bool]] = {}
    for s in SPECIALISMS:
        table[_norm(s.slug)] = (s.slug, False)
        table[_norm(s.name)] = (s.slug, False)
    for s in SPECIALISMS:
        for alias in s.aliases:
            table.setdefault(_norm(alias), (s.slug, True))
    return table


_LOOKUP = _build_lookup()


def lookup_specialism(term: str) -> tuple[str, bool] | None:
    """Resolve what a coordinator typed to (slug, via_alias), or None."""
    return _LOOKUP.get(_norm(term))


def suggest_specialisms(term: str, n: int = 3) -> list[str]:
    """The nearest specialism slugs to a term that resolved to nothing."""
    t = _norm(term)
    scored: dict[str, float] = {}
    for key, (slug, _) in _LOOKUP.items():
        ratio = difflib.SequenceMatcher(None, t, key).ratio()
        if t and (t in key or key in t):
            ratio = max(ratio, 0.7)
        if ratio > scored.get(slug, 0.0):
            scored[slug] = ratio
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
    return [slug for slug, ratio in ranked[:n] if ratio >= 0.45]


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """A "did you mean" for one word among fixed choices (case-insensitive)."""
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hits[0]] if hits else None


def academic_year_of(d) -> int:  # type: ignore[no-untyped-def]
    """The starting calendar year of the academic year (1 Sep - 31 Aug) holding date d."""
    return d.year if d.month >= 9 else d.year - 1


def academic_year_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"
