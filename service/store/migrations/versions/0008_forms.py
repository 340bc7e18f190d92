"""forms: Idempotency-Key requests and their answers (a retried POST is answered once)

``idempotency_keys`` keeps, per sender and key, the request's fingerprint and the
answer it got, for 24 hours (see service/idempotency.py). Nothing to migrate: the
table starts empty.

Revision ID: 0008_forms
Revises: 0007_admin
Create Date: 2026-11-30 05:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.store.tables


revision = "0008_forms"
down_revision = "0007_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('principal', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('response', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', service.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', service.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('principal', 'key', name=op.f('pk_idempotency_keys'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
