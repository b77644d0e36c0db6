from __future__ import annotations

import sys
from pathlib import Path

# the sample-document fixtures sit next to this file; pytest runs with --import-mode=importlib, which does not put
# test folders on sys.path
sys.path.insert(0, str(Path(__file__).parent))
