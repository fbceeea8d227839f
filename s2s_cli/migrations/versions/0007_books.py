"""books: supply cover owed recorded at issue, settlements with home schools

Revision ID: 0007_books
Revises: 0006_payments
Create Date: 2026-12-02

* `supply_cover`: the supply cover each issued document owes a home school, one row per charged
  or funded day (part), negative on a credit note.  Remittances read it instead of recomputing
  from live data, so a month's remittance never moves after the fact.  Backfilled here for
  every document already issued, from its day links (`invoice_day`: the amounts worked out when
  it was issued) and the home school frozen on the deployment - today's rules, so nothing
  owed before the upgrade is lost.  Documents whose day links were removed (a day undone after
  a void) owe nothing either way: the invoice and its credit note cancelled out.
* `supply_settlement`: the alliance paying a home school's invoice (and reversals of that).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_books"
down_revision = "0006_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supply_cover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('day_log_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('home_school_urn', sa.Integer(), nullable=False),
    sa.Column('home_school', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('halves', sa.Integer(), nullable=False),
    sa.Column('supply_pence', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ),
    sa.ForeignKeyConstraint(['home_school_urn'], ['school.urn'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['leader_id'], ['leader.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supply_cover', schema=None) as batch_op:
        batch_op.create_index('ix_supply_cover_date', ['date'], unique=False)
        batch_op.create_index('ix_supply_cover_home_date', ['home_school_urn', 'date'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_supply_cover_invoice_id'), ['invoice_id'],
                              unique=False)
    op.create_table('supply_settlement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('home_school_urn', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['home_school_urn'], ['school.urn'], ),
    sa.ForeignKeyConstraint(['reverses_id'], ['supply_settlement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reverses_id')
    )
    with op.batch_alter_table('supply_settlement', schema=None) as batch_op:
        batch_op.create_index('ix_supply_settlement_home_date', ['home_school_urn', 'date'],
                              unique=False)
    # Backfill: what every issued document owes, from its day links, in document then day
    # order (the order `s2s invoice --issue` and `invoices void` write them).
    op.get_bind().execute(sa.text(
        "INSERT INTO supply_cover (invoice_id, day_log_id, deployment_id, leader_id, "
        "home_school_urn, home_school, date, kind, halves, supply_pence, created_at) "
        "SELECT x.invoice_id, x.day_log_id, d.deployment_id, d.leader_id, "
        "COALESCE(dep.home_school_urn, l.home_school_urn), s.name, d.date, x.kind, "
        "CASE WHEN i.series = 'credit' THEN -x.halves ELSE x.halves END, x.supply_pence, "
        "i.created_at "
        "FROM invoice_day x JOIN invoice i ON i.id = x.invoice_id "
        "JOIN day_log d ON d.id = x.day_log_id "
        "JOIN deployment dep ON dep.id = d.deployment_id "
        "JOIN leader l ON l.id = d.leader_id "
        "JOIN school s ON s.urn = COALESCE(dep.home_school_urn, l.home_school_urn) "
        "WHERE x.kind <> 'free' "
        "ORDER BY x.invoice_id, d.date, x.day_log_id, x.line_id"))


def downgrade() -> None:
    with op.batch_alter_table('supply_settlement', schema=None) as batch_op:
        batch_op.drop_index('ix_supply_settlement_home_date')
    op.drop_table('supply_settlement')
    with op.batch_alter_table('supply_cover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_cover_invoice_id'))
        batch_op.drop_index('ix_supply_cover_home_date')
        batch_op.drop_index('ix_supply_cover_date')
    op.drop_table('supply_cover')
