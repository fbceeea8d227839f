"""Writes tests/data/ofsted_mi.csv: Ofsted's monthly management information file ("Most recent
inspections") in its published layout - every column, in file order, as the reference list
gives them - Windows-1252, CRLF, DD/MM/YYYY.  Invented inspections of the mini directory's
schools (run: python tests/data/make_ofsted_mi.py).

line 2  131543 Bolton High School: report card 2026 (needs attention in achievement, urgent
        improvement in leadership and governance, special measures) + legacy 2019 (RI, 3)
line 3  131544 Richmond Park Primary: report card, all expected/strong, early years graded
line 4  131545 Plymouth Sound Academy: safeguarding not met, post-16 graded
line 5  131542 Brookfield Primary: legacy only (outstanding 2014, Windows-1252 name ’)
line 6  140001 St Mary’s Café School (unknown to s2s), Camden: report card
line 7  13154X invalid URN (bad row)
line 8  131546 unknown, grade 'Satisfactory' (bad row)
line 9  131547 unknown, date 31/02/2026 (bad row)
line 10 broken last line: an unterminated quote (bad row)"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
COLUMNS = [c for c in (HERE.parent.parent / "tests" / "data" / "ofsted_mi_columns.txt")
           .read_text().splitlines() if c and not c.startswith("#")]

AREAS = ["Inclusion", "Curriculum and teaching", "Achievement", "Attendance and behaviour",
         "Personal development and wellbeing", "Early years (where applicable)",
         "Post-16 provision (where applicable)", "Leadership and governance"]
DATE_COL = {a: a.split(" (")[0] + " - date of grade" for a in AREAS}


def row(urn: str, name: str, la: str, region: str, phase: str, **cells: str) -> dict[str, str]:
    out = {"URN": urn, "School name": name, "Local authority": la, "Region": region,
           "Ofsted region": region, "Ofsted phase": phase, "LAESTAB": "2022000",
           "Web Link (opens in new window)": f"http://www.ofsted.gov.uk/inspection-reports/"
           f"find-inspection-report/provider/ELS/{urn}"}
    out.update(cells)
    return out


def card(number: str, start: str, published: str, grades: dict[str, str],
         safeguarding: str = "Met", category: str = "NULL",
         kind: str = "Report card inspection") -> dict[str, str]:
    out = {"Inspection number of latest full inspection": number, "Inspection type": kind,
           "Inspection type grouping": "Graded inspection", "Inspection start date": start,
           "Publication date": published, "Safeguarding standards": safeguarding,
           "Safeguarding standards - date of grade": start, "Category of concern": category}
    for area in AREAS:
        out[area] = grades.get(area, "NULL")
        out[DATE_COL[area]] = start if area in grades else "NULL"
    return out


def legacy(number: str, start: str, published: str, overall: str, judgements: str,
           safeguarding: str = "Yes") -> dict[str, str]:
    q, b, p, lm = judgements
    return {"Inspection number of latest OEIF graded inspection": number,
            "Inspection type of latest OEIF graded inspection": "Section 5",
            "Inspection start date of latest OEIF graded inspection": start,
            "Publication date of latest OEIF graded inspection": published,
            "Latest OEIF overall effectiveness": overall,
            "Latest OEIF quality of education": q, "Latest OEIF behaviour and attitudes": b,
            "Latest OEIF personal development": p,
            "Latest OEIF effectiveness of leadership and management": lm,
            "Latest OEIF  safeguarding is effective?": safeguarding,
            "Latest OEIF category of concern": "NULL"}


EXP = "Expected standard"
ROWS = [
    row("131543", "Bolton High School", "Bolton", "North West", "Secondary",
        **card("10350001", "13/01/2026", "20/02/2026",
               {"Inclusion": EXP, "Curriculum and teaching": EXP,
                "Achievement": "Needs attention", "Attendance and behaviour": EXP,
                "Personal development and wellbeing": "Strong standard",
                "Leadership and governance": "Urgent improvement"},
               category="Special measures"),
        **legacy("10110001", "05/03/2019", "10/04/2019", "3", "3233")),
    row("131544", "Richmond Park Primary", "Richmond upon Thames", "London", "Primary",
        **card("10350002", "02/12/2025", "15/01/2026",
               {"Inclusion": "Strong standard", "Curriculum and teaching": EXP,
                "Achievement": EXP, "Attendance and behaviour": "Strong standard",
                "Personal development and wellbeing": EXP,
                "Early years (where applicable)": "Exceptional",
                "Leadership and governance": "Strong standard"})),
    row("131545", "Plymouth Sound Academy", "Plymouth", "South West", "Secondary",
        **card("10350003", "24/02/2026", "01/04/2026",
               {"Inclusion": EXP, "Curriculum and teaching": EXP, "Achievement": EXP,
                "Attendance and behaviour": "Needs attention",
                "Personal development and wellbeing": EXP,
                "Post-16 provision (where applicable)": EXP,
                "Leadership and governance": EXP}, safeguarding="Not met")),
    row("131542", "Brookfield Primary School", "Camden", "London", "Primary",
        **legacy("10020001", "11/06/2014", "02/07/2014", "1", "1111")),
    row("140001", "St Mary\u2019s Caf\u00e9 School", "Camden", "London", "Primary",
        Postcode="nw1 2ab",
        **card("10350004", "03/03/2026", "14/04/2026",
               {"Inclusion": "Needs attention", "Curriculum and teaching": EXP,
                "Achievement": EXP, "Attendance and behaviour": EXP,
                "Personal development and wellbeing": EXP,
                "Leadership and governance": EXP})),
    row("13154X", "Broken URN School", "Camden", "London", "Primary"),
    row("131546", "Old Words School", "Camden", "London", "Primary",
        **card("10350005", "03/03/2026", "14/04/2026", {"Inclusion": "Satisfactory"})),
    row("131547", "Bad Date School", "Camden", "London", "Primary",
        **card("10350006", "31/02/2026", "14/04/2026", {"Inclusion": EXP})),
]


def cell(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ',"\n') else value


def main() -> None:
    lines = [",".join(cell(c) for c in COLUMNS)]
    for r in ROWS:
        lines.append(",".join(cell(r.get(c, "NULL" if c not in ("Postcode",) else ""))
                              for c in COLUMNS))
    # a file cut off mid-row: an unterminated quote, the rest of the row missing
    lines.append('http://www.ofsted.gov.uk/x,131548,2022000,"Unterminated School,Camden')
    data = "\r\n".join(lines) + "\r\n"
    (HERE / "ofsted_mi.csv").write_bytes(data.encode("cp1252"))


if __name__ == "__main__":
    main()
