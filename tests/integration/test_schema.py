"""The schema is declared once: the model, the tables and the migrations agree.

- every persisted entity of :mod:`service.domain.model` has a table with exactly its
  fields (plus the sealed columns the store owns), a nullable column exactly where
  the field may be ``None``;
- the Alembic migrations, applied to an empty database, give exactly the tables
  (``compare_metadata`` finds no difference), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from service.domain.model import ENTITIES, FIELDS
from service.store.engine import make_engine, migrate
from service.store.tables import ENTITY_TABLES, STORE_ONLY, Base


def _optional(hint: Any) -> bool:
    origin = get_origin(hint)
    return origin in (Union, types.UnionType) and type(None) in get_args(hint)


@pytest.mark.parametrize("entity", sorted(ENTITY_TABLES))
def test_each_table_is_its_entity_column_for_column(entity: str) -> None:
    table = ENTITY_TABLES[entity]
    columns = {c.name: c for c in table.columns}
    assert set(columns) == set(FIELDS[entity]) | STORE_ONLY.get(entity, frozenset())
    hints = get_type_hints(ENTITIES[entity])
    for name in FIELDS[entity]:
        column = columns[name]
        if column.primary_key:
            continue
        assert column.nullable == _optional(hints[name]), f"{entity}.{name}"


def test_every_persisted_entity_has_a_table() -> None:
    assert set(ENTITY_TABLES) == set(ENTITIES)


def _differences(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


async def test_migrations_give_exactly_the_tables_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    sync = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    with sync.connect() as conn:
        assert _differences(conn) == []
    sync.dispose()


@pytest.mark.postgres
async def test_migrations_give_exactly_the_tables_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()
