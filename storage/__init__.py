"""Persistence: sqlmodel tables, repositories that return domain types, migrations, the job table."""
