"""The one Dagster entry point. Global policy (resources, retry, executor) is applied here once."""

from __future__ import annotations

import importlib
import warnings

import dagster as dg

from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource
from orchestration.settings import PantauSettings, load_settings

#: domain modules, each exposing ``defs: dg.Definitions``; a module that fails to import fails the code location
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
    return [importlib.import_module(name).defs for name in DOMAIN_MODULES]


def build_resources(data_dir: str = "") -> dict[str, object]:
    """Resources load the settings when a run or sensor first uses them, never at import.

    ``data_dir`` (e.g. a CLI ``--data-dir``) overrides the configured data folder.
    """
    from assets.alerts import AlertsOpsResource

    return {
        "lake": LakeResource(data_dir=data_dir),
        "store": ObjectStoreResource(data_dir=data_dir),
        "settings": SettingsResource(data_dir=data_dir),
        "ops_db": AlertsOpsResource(data_dir=data_dir),
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


def build_defs(settings: PantauSettings | None = None) -> dg.Definitions:
    """Merge the domain definitions and apply global policy once: resources, executor, freshness.

    The executor follows ``settings.executor`` (settings loaded now, when the code location loads, if not given);
    given settings also fix the resources' data folder.
    """
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
        dg.Definitions(
            resources=build_resources(str(settings.data_dir) if settings else ""),
            executor=pantau_executor(settings or load_settings()),
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What Dagster loads (``-m orchestration.definitions``): the settings are read here, at load, not at import."""
    return build_defs()
