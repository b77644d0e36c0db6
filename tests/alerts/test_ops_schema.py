"""The ops database is versioned with Alembic: new databases, databases made by create_all, concurrent starters,
and a guard that the models and the migrations never drift apart (a model change needs a revision)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import access.accounts  # noqa: F401  (registers pantau_users)
from access.audit import audit_metadata, ensure_audit_schema
from alerts.db import OpsDB, metadata
from alerts.ops_schema import current_revision, head_revision, upgrade_ops_db

TABLES = {
    "alerts",
    "alert_transitions",
    "subscriptions",
    "alert_deliveries",
    "alert_rule_state",
    "alert_kv",
    "audit_log",
    "pantau_users",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ops.sqlite'}"
    else:
        dsn = request.getfixturevalue("pg_database")
        name = dict(p.split("=", 1) for p in dsn.split())["dbname"]
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


def test_new_database_is_migrated_to_head_and_models_match(url: str) -> None:
    ops = OpsDB(url)
    try:
        assert set(sa.inspect(ops.engine).get_table_names()) >= TABLES
        with ops.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            diff = compare_metadata(MigrationContext.configure(conn), [metadata, audit_metadata])
        assert diff == [], f"models differ from the migrations: add a revision ({diff})"
        # the baseline's audit-log triggers are in place: the log is append-only
        with ops.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit_log (at, actor, role, action, target_type, target_id, source, prev_hash, "
                    "row_hash) VALUES ('t', 'a', 'admin', 'x', 'y', 'z', 'cli', '0', '1')"
                )
            )
        with pytest.raises(sa.exc.DBAPIError), ops.begin() as conn:
            conn.execute(sa.text("UPDATE audit_log SET actor = 'b'"))
    finally:
        ops.dispose()
    assert upgrade_ops_db(sa.create_engine(url)) == head_revision()  # at head: nothing to do


def test_database_made_by_create_all_is_stamped_and_kept(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)  # how the ops DB was made before migrations
        ensure_audit_schema(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO alert_kv (key, value) VALUES ('cursor', '42')"))
        assert upgrade_ops_db(engine) is None
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert conn.execute(sa.text("SELECT value FROM alert_kv WHERE key = 'cursor'")).scalar() == "42"
    finally:
        engine.dispose()


def test_concurrent_starters_upgrade_once(url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            OpsDB(url).dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _revision(url) == head_revision()
