from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.db import OpsDB
from warehouse.lake import MIGRATIONS_DIR, Lake, LakeConfig
from warehouse.migrations import migrate

# the shared test kit (loopback webhook receiver, lake seeding) sits next to this file; pytest runs
# with --import-mode=importlib, which does not put test folders on sys.path
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def ops(tmp_path: Path) -> Iterator[OpsDB]:
    db = OpsDB(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    yield db
    db.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """SQLAlchemy URL of a throwaway PostgreSQL database (the shared ``pg_database`` fixture)."""
    parts = dict(p.split("=", 1) for p in pg_database.split())
    return f"postgresql+psycopg2://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"


CONTRACT_DDL = (
    # frames / frame_scores with the columns of the cameras migration (0100), created when missing so the
    # rows below fit whatever schema the lake has.
    "CREATE TABLE IF NOT EXISTS frames (camera_id VARCHAR, captured_at TIMESTAMPTZ, batch_id VARCHAR, seq BIGINT,"
    " keyframe_uri VARCHAR, public_uri VARCHAR, width INTEGER, height INTEGER, status VARCHAR, decode_ms DOUBLE,"
    " fetch_ms DOUBLE, worker_id VARCHAR)",
)


@pytest.fixture(scope="session")
def _lake_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("alerts-lake-template")
    mig_dir = root / "migrations"
    mig_dir.mkdir()
    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if f.name.startswith(("0001_", "01", "02", "03", "04", "0821_")):
            shutil.copy(f, mig_dir / f.name)
    lk = Lake(LakeConfig(root=root / "pantau-data"))
    migrate(lk, mig_dir)
    for ddl in CONTRACT_DDL:
        lk.execute(ddl)
    lk.close()
    return root / "pantau-data"


@pytest.fixture
def lake(tmp_path: Path, _lake_template: Path) -> Iterator[Lake]:
    """An embedded lake with the foundation (0001), cameras and scores (01xx), marts (02xx), Jaki (03xx) and alerts (04xx).

    Migrated once per session and copied per test (migrating takes seconds on a shared machine).
    """
    root = tmp_path / "pantau-data"
    shutil.copytree(_lake_template, root)
    cfg = LakeConfig(root=root)
    db = sqlite3.connect(cfg.catalog_path)  # point the copied catalog at the copied data folder
    with db:
        db.execute("UPDATE ducklake_metadata SET value = ? WHERE key = 'data_path'", (cfg.data_path,))
    db.close()
    lk = Lake(cfg)
    yield lk
    lk.close()
