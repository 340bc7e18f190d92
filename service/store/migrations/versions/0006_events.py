"""events: door and reader alarms, kept until staff acknowledge them with a note

Revision ID: 0006_events
Revises: 0005_visits
Create Date: 2026-11-30 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.store.tables


revision = '0006_events'
down_revision = "0005_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('at', service.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('last_at', service.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_at', service.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_by', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarms_acked_at'), ['acked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alarms_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarms_at'))
        batch_op.drop_index(batch_op.f('ix_alarms_acked_at'))
    op.drop_table('alarms')
