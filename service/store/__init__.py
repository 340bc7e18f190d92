"""Persistence: SQLAlchemy 2 tables, the journal, the single writer, migrations."""
