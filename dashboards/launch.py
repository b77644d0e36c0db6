"""Start the dashboards: ``streamlit run dashboards/server.py`` (app.py, warm) with the data folder set.

``pantau dashboard`` calls :func:`run_dashboard`; tests and benchmarks use :func:`start_dashboard`
to get the server process and :func:`wait_until_ready` to know when it answers.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# server.py wraps app.py in st.App to warm imports and the lake handle before the first session.
APP_PATH = Path(__file__).resolve().parent / "server.py"
REPO_ROOT = APP_PATH.parent.parent


def streamlit_command(
    port: int = 8501, headless: bool = True, address: str | None = None, secrets_file: Path | None = None
) -> list[str]:
    """The ``streamlit run`` command line (same Python interpreter, usage statistics off)."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--server.runOnSave",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--theme.base",
        "light",
    ]
    if address:
        cmd += ["--server.address", address]
    if secrets_file is not None:  # OIDC sign-in: Streamlit reads [auth] from this file only
        cmd += ["--secrets.files", str(secrets_file)]
    return cmd


def write_auth_secrets(settings: Any, folder: Path) -> Path | None:
    """Write Streamlit's ``[auth]`` secrets (mode 0600) when an OIDC provider is configured; else None.

    Without a provider the dashboards use the local accounts in the operational DB.
    """
    if not settings.oidc_enabled():
        return None
    from access.oidc import streamlit_auth_toml

    text = streamlit_auth_toml(
        server_metadata_url=settings.oidc_server_metadata_url,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        redirect_uri=settings.oidc_redirect_uri,
        cookie_secret=settings.oidc_cookie_secret.get_secret_value(),
        role_claim=settings.oidc_role_claim,
        role_map=settings.oidc_roles,
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    return path


def dashboard_env(data_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The environment for the server: ``PANTAU_DATA_DIR`` set, the repository importable."""
    env = dict(os.environ)
    env["PANTAU_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    return env


def start_dashboard(
    data_dir: str | os.PathLike[str],
    port: int = 8501,
    headless: bool = True,
    address: str | None = None,
    secrets_file: Path | None = None,
    **popen: object,
) -> subprocess.Popen[bytes]:
    """Start the server in the background and return its process."""
    cmd = streamlit_command(port, headless, address, secrets_file)
    log.info("starting dashboards on port %d for %s", port, data_dir)
    return subprocess.Popen(cmd, env=dashboard_env(data_dir), cwd=str(REPO_ROOT), **popen)  # type: ignore[call-overload, no-any-return]


def wait_until_ready(port: int, timeout_s: float = 60.0, host: str = "127.0.0.1") -> bool:
    """Poll Streamlit's health endpoint until it answers ``ok``."""
    deadline = time.monotonic() + timeout_s
    url = f"http://{host}:{port}/_stcore/health"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    return False


def run_dashboard(
    data_dir: str | os.PathLike[str] = "pantau-data",
    port: int = 8501,
    headless: bool = True,
    address: str | None = None,
    secrets_file: Path | None = None,
) -> int:
    """Run the dashboards in the foreground until interrupted; returns the server's exit code."""
    proc = start_dashboard(data_dir, port, headless, address, secrets_file)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
