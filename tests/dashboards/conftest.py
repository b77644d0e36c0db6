"""Fixtures for the dashboard tests: data folders with no lake, an empty lake, a populated lake."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate

sys.path.insert(0, str(Path(__file__).parent))

from crafted import add_test_users, lurah_subscription, populate


def populate_ops(root: Path) -> None:
    """The alerts package's operational DB with one area subscription (what the admin page lists)."""
    from alerts.db import OpsDB, sqlite_url
    from alerts.subscriptions import add_subscription

    ops = OpsDB(sqlite_url(str(root)))
    try:
        add_subscription(ops, lurah_subscription("31.74.01.1001"))
    finally:
        ops.dispose()
    add_test_users(root)


REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"


@pytest.fixture
def no_lake_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "nothing-here"
    # the accounts live in an operational DB elsewhere (PANTAU_OPS_DB_URL): the data folder stays absent
    add_test_users(tmp_path / "accounts")
    monkeypatch.setenv("PANTAU_OPS_DB_URL", f"sqlite:///{tmp_path / 'accounts' / 'ops.sqlite'}")
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    return root


def _migrated(root: Path) -> Lake:
    lk = Lake(LakeConfig(root=root))
    migrate(lk)
    return lk


@pytest.fixture(scope="session")
def _empty_lake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty lake, shared by the tests (dashboards only read it)."""
    root = tmp_path_factory.mktemp("empty") / "pantau-data"
    _migrated(root).close()
    add_test_users(root)
    return root


@pytest.fixture(scope="session")
def _populated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated lake with crafted content in every table the dashboards read (built once)."""
    root = tmp_path_factory.mktemp("populated") / "pantau-data"
    lk = _migrated(root)
    try:
        populate(lk, root)
    finally:
        lk.close()
    populate_ops(root)
    return root


@pytest.fixture
def empty_lake_dir(_empty_lake_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PANTAU_DATA_DIR", str(_empty_lake_root))
    return _empty_lake_root


@pytest.fixture
def populated_dir(_populated_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PANTAU_DATA_DIR", str(_populated_root))
    return _populated_root
