from __future__ import annotations

import duckdb
import pytest

from warehouse import extensions
from warehouse.extensions import ExtensionUnavailableError, load_extensions, packaged_extension_path


@pytest.mark.parametrize("name", ["ducklake", "sqlite_scanner", "postgres_scanner", "httpfs", "spatial"])
def test_packaged_extensions_load_offline(name: str) -> None:
    path = packaged_extension_path(name)
    assert path.suffix == ".duckdb_extension" and path.is_file()
    con = duckdb.connect()
    load_extensions(con, [name])
    loaded = {r[0] for r in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert name in loaded


def test_missing_package_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extensions.EXTENSION_PACKAGES, "ducklake", "no_such_module_pantau")
    with pytest.raises(ExtensionUnavailableError, match=r"duckdb-extension-ducklake==1\.5\.5"):
        load_extensions(duckdb.connect(), ["ducklake"])


def test_unknown_extension_is_a_clear_error() -> None:
    with pytest.raises(ExtensionUnavailableError, match="unknown DuckDB extension"):
        packaged_extension_path("nonexistent")
