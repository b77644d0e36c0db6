"""The security tests reuse the dashboard test data and helpers (crafted lake, alerts, test accounts).

``test_app`` imports ``APP`` from a module named ``conftest``; with this folder first on the path
that is this file, so it names the same entry point.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
APP = REPO / "dashboards" / "app.py"
sys.path.insert(0, str(HERE.parent / "dashboards"))  # crafted.py, test_app.py, test_browser.py
