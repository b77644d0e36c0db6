"""The one Dagster entry point. Global policy (resources, retry, executor) is applied here once."""

from __future__ import annotations

import importlib
import logging

import dagster as dg

from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource

log = logging.getLogger(__name__)

#: domain modules, each exposing ``defs: dg.Definitions`` (loaded if present)
DOMAIN_MODULES = [
    "assets.reference",
    "assets.cameras",
    "assets.marts",
    "assets.jaki",
    "assets.alerts",
    "assets.planning",
    "assets.open_data",
]


def _domain_defs() -> list[dg.Definitions]:
    found = []
    for name in DOMAIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        found.append(module.defs)
    return found


def build_resources() -> dict[str, object]:
    """Resources resolve PANTAU_* settings when a run launches, never at import."""
    from assets.alerts import AlertsOpsResource

    return {
        "lake": LakeResource(),
        "store": ObjectStoreResource(),
        "settings": SettingsResource(),
        "ops_db": AlertsOpsResource(),
    }


def build_defs() -> dg.Definitions:
    merged = dg.Definitions.merge(*_domain_defs())
    return dg.Definitions.merge(
        merged,
        dg.Definitions(resources=build_resources()),
    )


defs = build_defs()
