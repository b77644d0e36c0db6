"""The one Dagster entry point. Global policy (resources, retry, executor) is applied here once."""

from __future__ import annotations

import importlib
import logging
import warnings

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
    "assets.quality",
    "assets.upkeep",
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


def _freshness_policies() -> dict[str, object]:
    from datetime import timedelta

    fp = dg.FreshnessPolicy
    return {
        "camera_frames": fp.time_window(fail_window=timedelta(minutes=10), warn_window=timedelta(minutes=3)),
        "risk_hourly_camera": fp.time_window(fail_window=timedelta(minutes=90), warn_window=timedelta(minutes=75)),
        "risk_hourly_kelurahan": fp.time_window(fail_window=timedelta(minutes=90), warn_window=timedelta(minutes=75)),
        "alert_history": fp.time_window(fail_window=timedelta(minutes=30)),
        "camera_events_daily": fp.time_window(fail_window=timedelta(hours=26)),
        "camera_uptime_daily": fp.time_window(fail_window=timedelta(hours=26)),
        "jaki_daily_usage": fp.time_window(fail_window=timedelta(hours=26)),
        "open_data_release": fp.cron("0 2 * * *", lower_bound_delta=timedelta(hours=24), timezone="Asia/Jakarta"),
    }


def build_defs() -> dg.Definitions:
    """Merge the domain definitions and apply global policy once: resources, executor, freshness."""
    from orchestration.celery_app import pantau_executor

    merged = dg.Definitions.merge(*_domain_defs())
    policies = _freshness_policies()

    def _apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        policy = policies.get(spec.key.to_user_string())
        return dg.apply_freshness_policy(spec, policy) if policy is not None else spec  # type: ignore[arg-type]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merged = merged.map_asset_specs(func=_apply)
    return dg.Definitions.merge(
        merged,
        dg.Definitions(resources=build_resources(), executor=pantau_executor()),
    )


defs = build_defs()
