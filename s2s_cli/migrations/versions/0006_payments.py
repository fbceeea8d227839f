"""payments against invoices (s2s invoices pay / unpay)

Revision ID: 0006_payments
Revises: 0005_week
Create Date: 2026-12-02

Adds the `payment` table: money received against an issued invoice, and reversals of it (rows of
their own, never deletes).  Invoices are untouched: balance and status are computed.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006_payments"
down_revision = "0005_week"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("method IN ('bacs', 'cheque', 'card', 'other')", name='ck_payment_method'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['reverses_id'], ['payment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reverses_id')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_invoice_date', ['invoice_id', 'date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_invoice_date')
    op.drop_table('payment')
