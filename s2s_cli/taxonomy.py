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
    # Early Career Teacher Entitlement (ECTE) since September 2025; the slug stays `nqt` so
    # stored records keep their key, and "NQT" is a legacy alias.
    Specialism("nqt", "Early career teacher development (ECTE)", (FOCUS_TEACHING,),
               ("nqt", "ect", "ecte", "early career teacher", "early career teachers",
                "nqt/ect", "ect development", "early career framework", "ecf",
                "early career teacher entitlement", "newly qualified teacher development",
                "newly qualified teachers")),
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

# --- Ofsted report cards (from 10 November 2025) -----------------------------------------
# The evaluation areas, in report-card order: (slug, name).  Early years and post-16 are graded
# only where the school has them.
REPORT_CARD_AREAS: tuple[tuple[str, str], ...] = (
    ("inclusion", "Inclusion"),
    ("curriculum-and-teaching", "Curriculum and teaching"),
    ("achievement", "Achievement"),
    ("attendance-and-behaviour", "Attendance and behaviour"),
    ("personal-development", "Personal development and wellbeing"),
    ("early-years", "Early years"),
    ("post-16", "Post-16 provision"),
    ("leadership-and-governance", "Leadership and governance"),
)
REPORT_CARD_AREA_NAMES = dict(REPORT_CARD_AREAS)
# The five-point scale, best first: stored as 1 (exceptional) .. 5 (urgent improvement).
REPORT_CARD_GRADES = ("exceptional", "strong standard", "expected standard", "needs attention",
                      "urgent improvement")
CONCERN_GRADES = (4, 5)  # needs attention, urgent improvement: what `prospects` looks for
# Before report cards: four-point grades (1 outstanding .. 4 inadequate), history only.
LEGACY_AREAS: tuple[tuple[str, str], ...] = (
    ("overall-effectiveness", "Overall effectiveness"),
    ("quality-of-education", "Quality of education"),
    ("behaviour-and-attitudes", "Behaviour and attitudes"),
    ("personal-development", "Personal development"),
    ("leadership-and-management", "Leadership and management"),
    ("early-years", "Early years provision"),
    ("sixth-form", "Sixth form provision"),
)
LEGACY_AREA_NAMES = dict(LEGACY_AREAS)
FRAMEWORKS = ("report-card", "legacy")
_AREA_ALIASES = {
    "curriculum": "curriculum-and-teaching", "teaching": "curriculum-and-teaching",
    "attendance": "attendance-and-behaviour", "behaviour": "attendance-and-behaviour",
    "personal development and wellbeing": "personal-development",
    "wellbeing": "personal-development", "leadership": "leadership-and-governance",
    "governance": "leadership-and-governance", "eyfs": "early-years",
    "post16": "post-16", "post 16 provision": "post-16", "sixth form": "post-16",
}


def lookup_area(term: str) -> str | None:
    """A typed report-card area (slug, name or short form) -> its slug, or None."""
    t = _norm(term)
    for slug, name in REPORT_CARD_AREAS:
        if t in (_norm(slug), _norm(name)):
            return slug
    return _AREA_ALIASES.get(t)


def lookup_grade(term: str) -> int | None:
    """A typed five-point grade (word, short word or 1-5) -> 1..5, or None."""
    t = _norm(term)
    if t.isdigit() and 1 <= int(t) <= 5:
        return int(t)
    for i, g in enumerate(REPORT_CARD_GRADES, 1):
        if t == g or t == g.split()[0]:
            return i
    return None


def grade_word(framework: str, grade: int | None) -> str | None:
    if grade is None:
        return None
    scale = REPORT_CARD_GRADES if framework == "report-card" else OFSTED_GRADES
    return scale[grade - 1] if 1 <= grade <= len(scale) else None


# Which specialisms serve each report-card area (used by `prospects` to count the leaders who
# could help, and by matching for a request's need).  Documented in the README.
AREA_SPECIALISMS: dict[str, tuple[str, ...]] = {
    "inclusion": ("send", "closing-the-gap", "most-able"),
    "curriculum-and-teaching": ("curriculum", "assessment", "english", "maths", "science",
                                "phonics", "itt", "nqt", "cpd", "art", "drama",
                                "design-and-technology", "geography", "history", "ict", "mfl",
                                "music", "pe", "re", "citizenship"),
    "achievement": ("english", "maths", "science", "phonics", "closing-the-gap", "most-able",
                    "assessment"),
    "attendance-and-behaviour": ("behaviour", "attendance"),
    "personal-development": ("pshe", "citizenship", "pe"),
    "early-years": ("early-years", "phonics"),
    "post-16": ("curriculum", "assessment", "most-able"),
    "leadership-and-governance": ("curriculum", "cpd", "business-management", "academies"),
}

# Needs: the six report-card areas plus early years and post-16 (the area slugs).  The five
# needs of the old framework are accepted as synonyms (and stored requests were migrated).
NEEDS = tuple(slug for slug, _ in REPORT_CARD_AREAS)
NEED_SYNONYMS = {
    "teaching-and-learning": "curriculum-and-teaching",
    "leadership-and-management": "leadership-and-governance",
    "behaviour": "attendance-and-behaviour",
    "governance": "leadership-and-governance",
}
# The Ofsted focus area (of the specialism taxonomy) a request's need points at (matching).
NEED_FOCUS = {
    "inclusion": FOCUS_ACHIEVEMENT,
    "curriculum-and-teaching": FOCUS_TEACHING,
    "achievement": FOCUS_ACHIEVEMENT,
    "attendance-and-behaviour": FOCUS_BEHAVIOUR,
    "personal-development": FOCUS_BEHAVIOUR,
    "early-years": FOCUS_ACHIEVEMENT,
    "post-16": FOCUS_ACHIEVEMENT,
    "leadership-and-governance": FOCUS_LEADERSHIP,
}


def lookup_need(term: str) -> tuple[str, str | None] | None:
    """A typed need -> (need, the old term when it came through a synonym), or None."""
    t = _norm(term).replace(" ", "-")
    if t in NEED_SYNONYMS:
        return NEED_SYNONYMS[t], t
    slug = lookup_area(term)
    return (slug, None) if slug else None


FUNDING_ROUTES = ("school", "intervention", "grant", "rise", "dfe")
FUNDED_ROUTES = ("intervention", "grant", "rise")  # a named funder pays
# The DfE-funded NLG programme closed to new commissions in October 2023.
DFE_NLG_CLOSED = "the DfE-funded NLG programme closed to new commissions in October 2023"
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
