"""dayops: the evacuation muster (who was inside at its start, who was marked safe)

``musters`` holds each roll call started during an evacuation (when, by whom, the
visits inside at its start, when it ended); ``muster_marks`` each person marked safe
(by whom, when).

Revision ID: 0009_dayops
Revises: 0008_forms
Create Date: 2026-11-30 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.store.tables


revision = "0009_dayops"
down_revision = "0008_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('musters',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('started_at', service.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.Column('present', sa.JSON(), nullable=False),
    sa.Column('ended_at', service.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_musters'))
    )
    with op.batch_alter_table('musters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_musters_started_at'), ['started_at'], unique=False)

    op.create_table('muster_marks',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('muster_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('at', service.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['muster_id'], ['musters.id'], name=op.f('fk_muster_marks_muster_id_musters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_muster_marks'))
    )
    with op.batch_alter_table('muster_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_muster_marks_muster_id'), ['muster_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('muster_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_muster_marks_muster_id'))

    op.drop_table('muster_marks')
    with op.batch_alter_table('musters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_musters_started_at'))

    op.drop_table('musters')
