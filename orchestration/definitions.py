"""The one Dagster entry point. Global policy (resources, retry, executor) is applied here once."""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from datetime import timedelta

import dagster as dg

from orchestration.resources import AlertsOpsResource, LakeResource, ObjectStoreResource, SettingsResource
from orchestration.settings import PantauSettings, load_settings

#: domain modules, each exposing ``defs: dg.Definitions``; a module that fails to import fails the code location
DOMAIN_MODULES = [
    "assets.reference",
    "assets.cameras",
    "assets.marts",
    "assets.jaki",
    "assets.context",
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
    return {
        "lake": LakeResource(data_dir=data_dir),
        "store": ObjectStoreResource(data_dir=data_dir),
        "settings": SettingsResource(data_dir=data_dir),
        "ops_db": AlertsOpsResource(data_dir=data_dir),
    }


@dataclass(frozen=True)
class Freshness:
    """How fresh an asset must be: materialised within ``fail`` (warn after ``warn``), or by a daily ``cron`` deadline
    (Asia/Jakarta) with a materialisation in the ``fail`` before it."""

    asset: str
    fail: timedelta
    warn: timedelta | None = None
    cron: str | None = None

    def policy(self) -> dg.FreshnessPolicy:
        if self.cron is not None:
            return dg.FreshnessPolicy.cron(self.cron, lower_bound_delta=self.fail, timezone="Asia/Jakarta")
        return dg.FreshnessPolicy.time_window(fail_window=self.fail, warn_window=self.warn)


#: freshness policies of the key assets; docs/operations.md shows this table (``freshness_markdown``)
FRESHNESS = (
    Freshness("camera_frames", fail=timedelta(minutes=10), warn=timedelta(minutes=3)),
    Freshness("risk_hourly_camera", fail=timedelta(minutes=90), warn=timedelta(minutes=75)),
    Freshness("risk_hourly_kelurahan", fail=timedelta(minutes=90), warn=timedelta(minutes=75)),
    Freshness("alert_history", fail=timedelta(minutes=30)),
    Freshness("camera_events_daily", fail=timedelta(hours=26)),
    Freshness("camera_uptime_daily", fail=timedelta(hours=26)),
    Freshness("jaki_daily_usage", fail=timedelta(hours=26)),
    Freshness("open_data_release", fail=timedelta(hours=24), cron="0 2 * * *"),
)


def _span(d: timedelta | None) -> str:
    if d is None:
        return "—"
    minutes = int(d.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 and minutes >= 120 else f"{minutes} min"


def freshness_markdown() -> str:
    """The ``FRESHNESS`` table as Markdown (docs/operations.md holds exactly this)."""
    rows = ["| asset | warn after | fail after |", "|---|---|---|"]
    for f in FRESHNESS:
        if f.cron is not None:
            fail = f"no materialisation in the {_span(f.fail)} before the deadline `{f.cron}` (WIB)"
        else:
            fail = _span(f.fail)
        rows.append(f"| `{f.asset}` | {_span(f.warn)} | {fail} |")
    return "\n".join(rows) + "\n"


def build_defs(settings: PantauSettings | None = None) -> dg.Definitions:
    """Merge the domain definitions and apply global policy once: resources, executor, freshness.

    The executor follows ``settings.executor`` (settings loaded now, when the code location loads, if not given);
    given settings also fix the resources' data folder.
    """
    from orchestration.celery_app import pantau_executor

    merged = dg.Definitions.merge(*_domain_defs())
    policies = {f.asset: f.policy() for f in FRESHNESS}

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
