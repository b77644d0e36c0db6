"""The operational database (OLTP) for alerts: SQLAlchemy Core over SQLite or PostgreSQL.

One URL switches deployments: ``sqlite:///<data_dir>/ops.sqlite`` (embedded default, WAL,
busy timeout, ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing half-way)
or ``postgresql+psycopg2://...`` (scale-out; the dispatcher claims rows with
``FOR UPDATE SKIP LOCKED``). Tables: the current state of each alert, every transition,
subscriptions, the delivery outbox, rule state and small key/values (sensor cursors); the
access package adds local accounts and the append-only audit log (``access.audit``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alerts.ops_schema import upgrade_ops_db

log = logging.getLogger(__name__)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone by itself)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = sa.MetaData()

alerts_t = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("camera_id", sa.String(128), nullable=False),
    sa.Column("hazard", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # "<camera>|<hazard>" while active, NULL once closed: the unique index de-duplicates
    sa.Column("dedup_key", sa.String(160), unique=True, nullable=True),
    sa.Column("kelurahan_code", sa.String(32)),
    sa.Column("kecamatan_code", sa.String(32)),
    sa.Column("kota_code", sa.String(32)),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("reason", sa.Text),
    sa.Column("evidence", sa.Text),
    sa.Column("camera", sa.Text),  # CameraInfo JSON
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("acknowledged_by", sa.String(200)),
    sa.Column("cap_xml_uri", sa.Text),
)

transitions_t = sa.Table(
    "alert_transitions",
    metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("msg_type", sa.String(16)),  # CAP msgType: Alert|Update|Cancel, NULL when not broadcast
    sa.Column("reason", sa.Text),
    sa.Column("evidence", sa.Text),
    sa.Column("actor", sa.String(200)),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("cap_identifier", sa.String(200)),
    sa.Column("cap_xml", sa.Text),
    sa.Column("cap_xml_uri", sa.Text),
    sa.Column("payload", sa.Text),  # JSON snapshot sent to subscribers
)

subscriptions_t = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("subscription_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # agency | area
    sa.Column("hazard", sa.String(16)),  # NULL = every hazard
    sa.Column("area_type", sa.String(16)),  # kelurahan | kecamatan | kota | point | NULL (agency: whole city)
    sa.Column("area_code", sa.String(32)),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("radius_m", sa.Float),
    sa.Column("min_level", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("format", sa.String(8), nullable=False, server_default="json"),  # json | cap (webhook)
    sa.Column("secret", sa.String(200)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # 0: hears every alert it matches; N >= 1: only once an unacknowledged alert escalated to tier N
    sa.Column("escalation_tier", sa.Integer, nullable=False, server_default="0"),
)

deliveries_t = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("delivery_id", sa.String(64), primary_key=True),
    sa.Column("alert_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("subscriber_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | sent | failed | dead
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Index("ix_deliveries_due", "state", "next_attempt_at"),
)

rule_state_t = sa.Table(
    "alert_rule_state",
    metadata,
    sa.Column("camera_id", sa.String(128), primary_key=True),
    sa.Column("hazard", sa.String(16), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# one-time acknowledgement links (alerts/ack.py): a token id (its delivery) is accepted once
ack_tokens_t = sa.Table(
    "alert_ack_tokens",
    metadata,
    sa.Column("token_id", sa.String(64), primary_key=True),
    sa.Column("alert_id", sa.String(64), nullable=False),
    sa.Column("subscriber_id", sa.String(64), nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # the acknowledgement transition it recorded
)

# escalation of unacknowledged alerts (alerts/escalation.py): one row per tier reached
escalations_t = sa.Table(
    "alert_escalations",
    metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("tier", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text),
)

# the admin allow-list: the one way a webhook may reach a private, loopback or link-local address
webhook_allowlist_t = sa.Table(
    "webhook_allowlist",
    metadata,
    sa.Column("entry", sa.String(253), primary_key=True),  # a network (CIDR, normalised) or a host name
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("added_by", sa.String(200), nullable=False),
    sa.Column("added_at", UTCDateTime, nullable=False),
)

kv_t = sa.Table(
    "alert_kv",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text),
)


def _sqlite_setup(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_con: Any, _record: Any) -> None:
        dbapi_con.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN IMMEDIATE
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class OpsDB:
    """Handle on the operational DB. Thread-safe (pooled connections); one per process."""

    def __init__(self, url: str, *, create: bool = True, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = sa.create_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        if create:
            self.create_schema()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def create_schema(self) -> None:
        """Bring the schema to the newest Alembic revision (``alerts.ops_schema``; one SELECT when current)."""
        upgrade_ops_db(self.engine)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite): commits on success, rolls back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def get_kv(self, key: str) -> str | None:
        with self.read() as conn:
            return conn.execute(sa.select(kv_t.c.value).where(kv_t.c.key == key)).scalar_one_or_none()

    def set_kv(self, key: str, value: str) -> None:
        with self.begin() as conn:
            upsert_kv(conn, key, value)

    def dispose(self) -> None:
        self.engine.dispose()


def upsert_kv(conn: Connection, key: str, value: str) -> None:
    done = conn.execute(sa.update(kv_t).where(kv_t.c.key == key).values(value=value)).rowcount
    if not done:
        conn.execute(sa.insert(kv_t).values(key=key, value=value))


def sqlite_url(data_dir: str) -> str:
    from pathlib import Path

    path = Path(data_dir).resolve() / "ops.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"
