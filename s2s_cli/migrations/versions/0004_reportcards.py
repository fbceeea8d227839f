"""the school system as it is now: Ofsted report cards, trusts, GIAS address and coordinates,
today's needs and funding routes

Revision ID: 0004_reportcards
Revises: 0004_corrections
Create Date: 2026-12-02

* `inspection` + `inspection_grade`: a school's Ofsted inspections (report cards with
  five-point area grades, legacy four-point history).  Every school's existing single grade
  (`school.ofsted`) becomes a legacy inspection (source 'directory', its overall effectiveness
  graded 1-4, no date): nothing lost; the column itself stays.
* `trust` (UID, name, type) and `school.trust_uid`; `school.easting`/`northing` (the address
  columns `street` ... `website` that GIAS fills come from 0004_directory).
* `support_request.need`: the five needs of the old framework become report-card areas
  (teaching-and-learning -> curriculum-and-teaching, leadership-and-management and governance
  -> leadership-and-governance, behaviour -> attendance-and-behaviour); the old word is kept
  in `need_term`.  `rise_ref` on requests and deployments; `support_request.override_reason`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_reportcards"
down_revision = "0004_corrections"
branch_labels = None
depends_on = None

LEGACY_GRADES = ("outstanding", "good", "requires improvement", "inadequate")
NEED_SYNONYMS = {
    "teaching-and-learning": "curriculum-and-teaching",
    "leadership-and-management": "leadership-and-governance",
    "behaviour": "attendance-and-behaviour",
    "governance": "leadership-and-governance",
}
SCHOOL_TEXT: tuple[str, ...] = ()  # added by 0004_directory


def upgrade() -> None:
    op.create_table(
        "trust",
        sa.Column("uid", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("uid"),
    )
    op.create_index("ix_trust_name", "trust", ["name"])
    with op.batch_alter_table("school") as batch:
        for name in SCHOOL_TEXT:
            batch.add_column(sa.Column(name, sa.String(), nullable=True))
        batch.add_column(sa.Column("trust_uid", sa.String(), nullable=True))
        batch.add_column(sa.Column("easting", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("northing", sa.Integer(), nullable=True))
        batch.create_index("ix_school_trust_uid", ["trust_uid"])
        batch.create_foreign_key("fk_school_trust_uid", "trust", ["trust_uid"], ["uid"])
    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_urn", sa.Integer(), nullable=False),
        sa.Column("framework", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("safeguarding", sa.String(), nullable=True),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["school_urn"], ["school.urn"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspection_number", "inspection", ["number"])
    op.create_index("ix_inspection_school_start", "inspection",
                    ["school_urn", "framework", "start"])
    op.create_table(
        "inspection_grade",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("graded_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspection.id"]),
        sa.PrimaryKeyConstraint("inspection_id", "area"),
    )
    op.create_index("ix_inspection_grade_area", "inspection_grade", ["area", "grade"])
    with op.batch_alter_table("support_request") as batch:
        batch.add_column(sa.Column("need_term", sa.String(), nullable=True))
        batch.add_column(sa.Column("rise_ref", sa.String(), nullable=True))
        batch.add_column(sa.Column("override_reason", sa.String(), nullable=True))
    with op.batch_alter_table("deployment") as batch:
        batch.add_column(sa.Column("rise_ref", sa.String(), nullable=True))

    conn = op.get_bind()
    # Every single grade held becomes a legacy inspection (overall effectiveness).
    rows = conn.execute(sa.text("SELECT urn, ofsted FROM school WHERE ofsted IS NOT NULL "
                                "ORDER BY urn")).all()
    inspection = sa.table("inspection", sa.column("id", sa.Integer),
                          sa.column("school_urn", sa.Integer), sa.column("framework"),
                          sa.column("source"))
    grade = sa.table("inspection_grade", sa.column("inspection_id", sa.Integer),
                     sa.column("area"), sa.column("grade", sa.Integer))
    for urn, word in rows:
        w = str(word).strip().lower()
        if w not in LEGACY_GRADES:
            continue
        iid = conn.execute(sa.insert(inspection).values(
            school_urn=urn, framework="legacy", source="directory")
            .returning(inspection.c.id)).scalar_one()
        conn.execute(sa.insert(grade).values(inspection_id=iid, area="overall-effectiveness",
                                             grade=LEGACY_GRADES.index(w) + 1))
    for old, new in NEED_SYNONYMS.items():
        conn.execute(sa.text("UPDATE support_request SET need = :new, need_term = :old "
                             "WHERE need = :old"), {"new": new, "old": old})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE support_request SET need = need_term "
                         "WHERE need_term IS NOT NULL"))
    with op.batch_alter_table("deployment") as batch:
        batch.drop_column("rise_ref")
    with op.batch_alter_table("support_request") as batch:
        batch.drop_column("override_reason")
        batch.drop_column("rise_ref")
        batch.drop_column("need_term")
    op.drop_index("ix_inspection_grade_area", table_name="inspection_grade")
    op.drop_table("inspection_grade")
    op.drop_index("ix_inspection_school_start", table_name="inspection")
    op.drop_index("ix_inspection_number", table_name="inspection")
    op.drop_table("inspection")
    with op.batch_alter_table("school") as batch:
        batch.drop_constraint("fk_school_trust_uid", type_="foreignkey")
        batch.drop_index("ix_school_trust_uid")
        for name in ("northing", "easting", "trust_uid", *reversed(SCHOOL_TEXT)):
            batch.drop_column(name)
    op.drop_index("ix_trust_name", table_name="trust")
    op.drop_table("trust")
