"""Make the test kits beside these tests (``vision_synth``, ``geo_testkit``) importable under importlib mode."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
