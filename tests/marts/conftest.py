"""The marts tests fill a lake with the open-data tests' fixtures (cameras, frames, scores, events)."""

from tests.open_data.conftest import filled_lake, store

__all__ = ["filled_lake", "store"]
