"""Writes tests/data/gias_current.csv: a current GIAS establishment extract (2025-26 layout:
every column of gias_columns_current.txt in file order; no Ofsted or RSCRegion columns),
Windows-1252, CRLF, DD-MM-YYYY dates.  Invented establishments; real LA codes and names.
(run: python tests/data/make_gias_current.py)

line 2  131542 Brookfield Primary School (Camden): address, phone, website, Northern Lights
        Trust (UID 5001, a multi-academy trust), Easting/Northing
line 3  131543 Bolton High School (Bolton): no trust
line 4  131544 Richmond Park Primary (Richmond upon Thames), 12.5 km from Brookfield
line 5  131545 Plymouth Sound Academy: Tamar Learning Trust (UID 5002, single-academy)
line 6  140010 Kentish Town Academy (Camden, new): Northern Lights Trust, 1.2 km from Brookfield
line 7  140011 NumberOfPupils '²' (bad row)
line 8  140012 Easting of 25 nines (bad row)
line 9  140013 a 100,000-character EstablishmentName (bad row)
line 10 140014 LA (code) 202 named 'Bolton' (bad row: 202 is Camden)
line 11 140015 Caf\u00e9 d\u2019Ecole (Windows-1252 name), Plymouth, no coordinates"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
COLUMNS = [c for c in (HERE / "gias_columns_current.txt").read_text().splitlines() if c]
MAT = "Supported by a multi-academy trust"


def school(urn: str, la_code: str, la: str, name: str, region: str, phase: str, kind: str,
           **cells: str) -> dict[str, str]:
    out = {"URN": urn, "LA (code)": la_code, "LA (name)": la, "EstablishmentNumber": "2001",
           "EstablishmentName": name, "TypeOfEstablishment (name)": kind,
           "EstablishmentStatus (code)": "1", "EstablishmentStatus (name)": "Open",
           "OpenDate": "01-09-2012", "PhaseOfEducation (name)": phase, "GOR (name)": region,
           "TrustSchoolFlag (name)": "Not applicable", "Country (name)": "United Kingdom",
           "LastChangedDate": "14-10-2025", "CensusDate": "16-01-2025"}
    out.update(cells)
    return out


ROWS = [
    school("131542", "202", "Camden", "Brookfield Primary School", "London", "Primary",
           "Academy converter", NumberOfPupils="182", **{
               "Trusts (code)": "5001", "Trusts (name)": "Northern Lights Trust",
               "TrustSchoolFlag (name)": MAT, "Street": "Brookfield Road",
               "Locality": "Dartmouth Park", "Town": "London", "County (name)": "",
               "Postcode": "NW5 1AA", "TelephoneNum": "02079460001",
               "SchoolWebsite": "www.brookfield.example.org", "Easting": "529000",
               "Northing": "184000"}),
    school("131543", "350", "Bolton", "Bolton High School", "North West", "Secondary",
           "Community school", NumberOfPupils="1100", Street="Chorley New Road",
           Town="Bolton", **{"County (name)": "Greater Manchester"}, Postcode="BL1 4AA",
           Easting="371500", Northing="409000"),
    school("131544", "318", "Richmond upon Thames", "Richmond Park Primary", "London",
           "Primary", "Voluntary aided school", NumberOfPupils="420", Easting="518000",
           Northing="178000"),
    school("131545", "879", "Plymouth", "Plymouth Sound Academy", "South West", "Secondary",
           "Academy converter", NumberOfPupils="900", Easting="248000", Northing="55000", **{
               "Trusts (code)": "5002", "Trusts (name)": "Tamar Learning Trust",
               "TrustSchoolFlag (name)": "Supported by a single-academy trust"}),
    school("140010", "202", "Camden", "Kentish Town Academy", "London", "Secondary",
           "Academy sponsor led", NumberOfPupils="850", Easting="528700", Northing="185200", **{
               "Trusts (code)": "5001", "Trusts (name)": "Northern Lights Trust",
               "TrustSchoolFlag (name)": MAT}),
    school("140011", "202", "Camden", "Superscript Primary", "London", "Primary",
           "Community school", NumberOfPupils="\u00b2"),
    school("140012", "202", "Camden", "Far Away Primary", "London", "Primary",
           "Community school", Easting="9" * 25, Northing="184000"),
    school("140013", "202", "Camden", "A" * 100_000, "London", "Primary", "Community school"),
    school("140014", "202", "Bolton", "Wrong Code Primary", "North West", "Primary",
           "Community school"),
    school("140015", "879", "Plymouth", "Caf\u00e9 d\u2019Ecole", "South West", "Primary",
           "Community school", NumberOfPupils="95"),
]


def cell(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ',"\n') else value


def main() -> None:
    lines = [",".join(cell(c) for c in COLUMNS)]
    lines += [",".join(cell(r.get(c, "")) for c in COLUMNS) for r in ROWS]
    (HERE / "gias_current.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


if __name__ == "__main__":
    main()
