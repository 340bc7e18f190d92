"""admin: enrolment by tapping on the front-desk reader, a token's last use

``enrol_armed`` keeps, per front-desk reader, the admin's pending "the next unknown
badge tapped here joins the pool" (with the label typed, or none: the next free label
is proposed), so a restart in the middle of an enrolment keeps the mode on.
``api_tokens.last_used_at`` says when a token was last used (written at most once a
minute), for the admin page.

Revision ID: 0007_admin
Revises: 0006_events
Create Date: 2026-11-30 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.store.tables


revision = "0007_admin"
down_revision = "0006_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrol_armed',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=True),
    sa.Column('at', service.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrol_armed'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', service.store.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    op.drop_table('enrol_armed')
