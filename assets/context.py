"""Flood context in Dagster: feed sensors land Posko Banjir and BMKG documents; one asset loads them.

* ``posko_banjir_feed_sensor`` / ``bmkg_nowcast_sensor`` poll the configured URLs (``PANTAU_POSKO_BANJIR_URL``,
  ``PANTAU_BMKG_CAP_URL``; off when empty), put each new document unchanged in the landing zone and ask for a
  ``flood_context_job`` run (run key = the landed key, cursor = the document's digest, so an unchanged feed
  launches nothing);
* ``context_landing_sensor`` asks for a run whenever landed documents are not in the ledger (documents dropped by
  other means, or a run that failed);
* ``flood_context`` (asset) loads them into ``water_gate_readings`` / ``weather_warnings`` with history and
  quarantines malformed documents and rows (``context_quarantine``).
"""

import hashlib

import dagster as dg
import requests

from assets.landing import landing_sensor
from ingest.context.landing import ingest_context_documents, land_document, pending_documents
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource

FEED_INTERVAL_S = 300
FETCH_TIMEOUT_S = 20.0


@dg.asset(group_name="context", compute_kind="duckdb")
def flood_context(lake: LakeResource, store: ObjectStoreResource) -> dg.MaterializeResult:
    """Water-gate readings and BMKG warnings from the landed documents (history kept, bad input quarantined)."""
    lk = lake.get_lake()
    try:
        res = ingest_context_documents(lk, store.get_store())
    finally:
        lk.close()
    return dg.MaterializeResult(metadata={k: v for k, v in res.as_dict().items() if k != "errors"})


@dg.asset_check(asset=flood_context, blocking=False)
def flood_context_documents_not_quarantined(lake: LakeResource) -> dg.AssetCheckResult:
    """Warns when a context document was quarantined (the feed changed shape or sent an error page)."""
    lk = lake.get_lake(read_only=True)
    try:
        n = int(lk.scalar("SELECT count(*) FROM context_documents WHERE status = 'quarantined'") or 0)
    finally:
        lk.close()
    return dg.AssetCheckResult(passed=n == 0, severity=dg.AssetCheckSeverity.WARN, metadata={"quarantined": n})


flood_context_job = dg.define_asset_job("flood_context_job", selection=[flood_context])


def _feed_sensor(name: str, source: str, setting: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        job=flood_context_job,
        minimum_interval_seconds=FEED_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(
        context: dg.SensorEvaluationContext, store: ObjectStoreResource, settings: SettingsResource
    ) -> dg.SensorResult | dg.SkipReason:
        url = getattr(settings.get(), setting)
        if not url:
            return dg.SkipReason(f"no {source} feed configured ({setting})")
        try:
            resp = requests.get(url, timeout=FETCH_TIMEOUT_S)
            resp.raise_for_status()
        except requests.RequestException as exc:
            return dg.SkipReason(f"{source} feed unreachable: {exc.__class__.__name__}: {exc}")
        digest = hashlib.sha256(resp.content).hexdigest()
        if digest == context.cursor:
            return dg.SkipReason(f"{source} feed unchanged")
        key = land_document(store.get_store(), source, resp.content)  # malformed ones too: quarantined on load
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=digest)

    _sensor.__doc__ = f"Polls the {source} feed, lands new documents and requests a flood_context_job run."
    return _sensor


posko_banjir_feed_sensor = _feed_sensor("posko_banjir_feed_sensor", "posko_banjir", "posko_banjir_url")
bmkg_nowcast_sensor = _feed_sensor("bmkg_nowcast_sensor", "bmkg", "bmkg_cap_url")
context_landing_sensor = landing_sensor(
    "context_landing_sensor", flood_context_job, pending_documents, "flood context documents", interval_s=60
)

defs = dg.Definitions(
    assets=[flood_context],
    asset_checks=[flood_context_documents_not_quarantined],
    jobs=[flood_context_job],
    sensors=[posko_banjir_feed_sensor, bmkg_nowcast_sensor, context_landing_sensor],
)
