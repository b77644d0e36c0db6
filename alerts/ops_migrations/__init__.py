"""Alembic migrations of the operational database (``alerts.ops_schema`` runs them; see docs/operations.md)."""
