"""Load DuckDB extensions offline.

DuckDB cannot download extensions here, so each extension is tried in order:
already loadable by name (installed in the DuckDB home), then the ``.duckdb_extension``
file shipped inside the registry package ``duckdb-extension-<name>``. Network
installs are attempted only when ``allow_network`` is set, so a fresh offline
machine never waits on a download.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

#: extension name -> importable module of the registry package that ships it
EXTENSION_PACKAGES: dict[str, str] = {
    "ducklake": "duckdb_extension_ducklake",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "httpfs": "duckdb_extension_httpfs",
    "spatial": "duckdb_extension_spatial",
}


class ExtensionUnavailableError(RuntimeError):
    """An extension could not be loaded; the message names the package to install."""


def packaged_extension_path(name: str) -> Path:
    """Return the ``.duckdb_extension`` file shipped by the registry package for ``name``."""
    module_name = EXTENSION_PACKAGES.get(name)
    dist = "duckdb-extension-" + name.replace("_", "-")
    if module_name is None:
        raise ExtensionUnavailableError(f"unknown DuckDB extension {name!r}")
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionUnavailableError(
            f"DuckDB extension {name!r} is not available offline: install the package "
            f"'{dist}=={duckdb.__version__}' (pip install {dist}=={duckdb.__version__})"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    version_dir = root / "extensions" / f"v{duckdb.__version__}"
    candidates = sorted(version_dir.glob("*.duckdb_extension")) or sorted(root.rglob("*.duckdb_extension"))
    if not candidates:
        raise ExtensionUnavailableError(
            f"package '{dist}' is installed but ships no .duckdb_extension file for DuckDB {duckdb.__version__}"
        )
    return candidates[0]


def load_extensions(con: duckdb.DuckDBPyConnection, names: list[str], *, allow_network: bool = False) -> None:
    """Load each extension in ``names`` into ``con`` without needing the network."""
    loaded = {row[0] for row in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    for name in names:
        if name in loaded:
            continue
        try:
            path = packaged_extension_path(name)
        except ExtensionUnavailableError:
            if not allow_network:
                raise
            path = None
        if path is not None:
            # A path is not a bindable value in LOAD; it comes from our own package files.
            con.execute(f"LOAD '{_quote(str(path))}'")
            continue
        log.info("installing DuckDB extension %s from the network", name)
        con.install_extension(name)
        con.load_extension(name)


def _quote(value: str) -> str:
    return value.replace("'", "''")
