"""SQLite store: models, schema migrations and the repository that maps rows to domain values."""
