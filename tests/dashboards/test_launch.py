"""The launcher builds the streamlit command and environment that ``pantau dashboard`` runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dashboards.launch import APP_PATH, REPO_ROOT, dashboard_env, streamlit_command


@pytest.mark.parametrize(("port", "headless", "flag"), [(8501, True, "true"), (9000, False, "false")])
def test_streamlit_command(port: int, headless: bool, flag: str) -> None:
    cmd = streamlit_command(port, headless)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    assert cmd[cmd.index("--server.port") + 1] == str(port)
    assert cmd[cmd.index("--server.headless") + 1] == flag
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert APP_PATH.is_file()


def test_env_points_at_the_data_dir(tmp_path: Path) -> None:
    env = dashboard_env(tmp_path / "d")
    assert env["PANTAU_DATA_DIR"] == str((tmp_path / "d").resolve())
    assert env["PYTHONPATH"].split(":")[0] == str(REPO_ROOT)
