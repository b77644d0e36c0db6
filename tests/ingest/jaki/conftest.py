"""One migrated lake per test module (migrating is the slow part); tests scope their
assertions by source file, so they stay independent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    lk = Lake(LakeConfig(root=tmp_path_factory.mktemp("jaki") / "pantau-data"))
    migrate(lk)
    yield lk
    lk.close()
