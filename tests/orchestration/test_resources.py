"""The Dagster resources live in orchestration/resources.py and never pull in the asset modules (no import cycle)."""

from __future__ import annotations

import subprocess
import sys


def test_resources_import_no_assets() -> None:
    code = (
        "import sys\n"
        "import orchestration.resources as r\n"
        "assert r.AlertsOpsResource and r.LakeResource and r.ObjectStoreResource and r.SettingsResource\n"
        "print(sorted(m for m in sys.modules if m == 'assets' or m.startswith('assets.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_asset_modules_use_the_shared_alerts_resource() -> None:
    from assets import alerts
    from orchestration import resources

    assert alerts.AlertsOpsResource is resources.AlertsOpsResource
