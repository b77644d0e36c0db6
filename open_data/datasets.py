"""The open datasets: what each one publishes, from which lake tables, under which rules.

Every query reads the lake AT a snapshot (``$snapshot``). A dataset may have several variants
(e.g. a mart, or its raw source when the mart does not exist yet); the first variant whose tables
exist at the snapshot is used. Rows are always sorted by every column before writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from open_data.privacy import Suppression


@dataclass(frozen=True)
class Variant:
    tables: tuple[str, ...]
    sql: str
    curated: bool = True  # curated SQL lists its columns; generic (SELECT *) drops private columns


@dataclass(frozen=True)
class Partitioning:
    """Split a time-series dataset into one file per UTC month (or day) of ``column``.

    Rows inside a partition are ordered by ``sort`` first, then by every other column, so that
    readers can skip row groups by the leading columns' statistics. A partition whose source rows
    are unchanged since the previous release is reused from it byte for byte.
    """

    column: str
    grain: str = "month"  # "month" or "day"
    sort: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    description: str
    variants: tuple[Variant, ...]
    formats: tuple[str, ...] = ("csv", "parquet")
    fields: dict[str, str] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()
    sources: tuple[str, ...] = ("pantau",)
    embedded_sources: tuple[str, ...] = ()  # sources whose content (e.g. polygons) is redistributed
    suppression: Suppression | None = None
    camera_time_columns: tuple[str, ...] = ()  # camera-level timestamps: >= 5-minute windows
    thumbnails: bool = False
    frequency: str = "DAILY"
    partition: Partitioning | None = None


CAMERA_INVENTORY_WITH_THUMBS = """
SELECT c.camera_id, c.name, c.operator, c.provider, c.stream_kind, c.lat, c.lon, c.kelurahan_code,
       c.kelurahan, c.kecamatan, c.kota, c.view_radius_m, c.heading_deg, c.installed_at, c.active, c.address,
       c.n_channels, coalesce(c.status, 'installed') AS status, t.public_uri
FROM cameras AS c AT (VERSION => $snapshot)
LEFT JOIN (
    SELECT camera_id, arg_max(public_uri, captured_at) AS public_uri
    FROM frames AT (VERSION => $snapshot)
    WHERE public_uri IS NOT NULL AND status = 'ok'
    GROUP BY camera_id
) t USING (camera_id)
"""
CAMERA_INVENTORY = """
SELECT camera_id, name, operator, provider, stream_kind, lat, lon, kelurahan_code, kelurahan, kecamatan, kota,
       view_radius_m, heading_deg, installed_at, active, address, n_channels, coalesce(status, 'installed') AS status,
       NULL::VARCHAR AS public_uri
FROM cameras AT (VERSION => $snapshot)
"""
RISK_HOURLY_CAMERA = """
SELECT hour, camera_id, kelurahan_code, frames, frames_ok, uptime, fire_max, smoke_max, flood_max, crowd_max,
       persons_max, persons_mean, vehicles_max, vehicles_mean, cars_mean, motorcycles_mean, buses_trucks_mean,
       risk_level_max, fire_level_max, smoke_level_max, flood_level_max, crowd_level_max,
       motion_events, fire_frames, smoke_frames, flood_frames
FROM risk_hourly_camera AT (VERSION => $snapshot)
"""
RISK_HOURLY_KELURAHAN = """
SELECT hour, kelurahan_code, cameras, frames, uptime_mean, fire_max, smoke_max, flood_max, crowd_max,
       persons_max, risk_level_max, motion_events, fire_frames, smoke_frames, flood_frames
FROM risk_hourly_kelurahan AT (VERSION => $snapshot)
"""
CAMERA_UPTIME_DAILY = """
SELECT day, camera_id, samples, ok, uptime, offline, frozen, tampered, black, overexposed, decode_error
FROM camera_uptime_daily AT (VERSION => $snapshot)
"""
ALERT_HISTORY = """
SELECT alert_id, version, camera_id, kelurahan_code, kecamatan_code, kota_code, hazard, level, status, msg_type,
       time_bucket(INTERVAL '5 minutes', opened_at) AS opened_at,
       time_bucket(INTERVAL '5 minutes', updated_at) AS updated_at
FROM alerts AT (VERSION => $snapshot)
"""
JAKI_DAILY_USAGE = """
SELECT day, feature, kelurahan_code, events::BIGINT AS events, users::BIGINT AS users
FROM jaki_daily_usage AT (VERSION => $snapshot)
"""
JAKI_DAILY_USAGE_FROM_EVENTS = """
SELECT CAST(date_trunc('day', event_time) AS DATE) AS day, feature, kelurahan_code,
       count(*)::BIGINT AS events, count(DISTINCT user_hash)::BIGINT AS users
FROM jaki_usage_events AT (VERSION => $snapshot)
GROUP BY ALL
"""
JAKI_COMPLAINTS_SUMMARY = "SELECT * FROM jaki_complaints_summary AT (VERSION => $snapshot)"
HOSPITAL_BEDS = "SELECT * FROM jaki_hospital_beds_daily AT (VERSION => $snapshot)"
PARKING_OCCUPANCY = """
SELECT p.parking_id, p.vehicle_type, l.name, l.lat, l.lon, l.kode_kelurahan, p.hour, p.capacity, p.occupied_mean,
       p.occupied_max, p.occupancy
FROM jaki_parking_hourly AS p AT (VERSION => $snapshot)
LEFT JOIN (
    SELECT parking_id, min(name) AS name, min(lat) AS lat, min(lon) AS lon, min(kode_kelurahan) AS kode_kelurahan
    FROM parking_locations AT (VERSION => $snapshot) GROUP BY parking_id
) l USING (parking_id)
"""
PLACEMENT = "SELECT * FROM placement_candidates AT (VERSION => $snapshot)"

RISK_FIELDS = {
    "hour": "Start of the UTC hour the row aggregates.",
    "camera_id": "Pantau camera identifier (see camera_inventory).",
    "kelurahan_code": "Kemendagri kelurahan code (10 digits, e.g. 31.71.01.1001 without dots).",
    "frames": "Frames sampled in the hour.",
    "frames_ok": "Frames that decoded and passed camera-health checks.",
    "uptime": "frames_ok / frames (0..1).",
    "fire_max": "Highest fire score in the hour (0..1).",
    "smoke_max": "Highest smoke score in the hour (0..1).",
    "flood_max": "Highest flood score in the hour (0..1).",
    "crowd_max": "Highest crowd score in the hour (0..1).",
    "persons_max": "Most persons counted in one frame (an estimate; nobody is identified).",
    "persons_mean": "Mean persons per scored frame.",
    "vehicles_max": "Most vehicles (cars, motorcycles, buses and trucks) counted in one frame (an estimate).",
    "vehicles_mean": "Mean vehicles per scored frame.",
    "cars_mean": "Mean cars per scored frame.",
    "motorcycles_mean": "Mean motorcycles per scored frame.",
    "buses_trucks_mean": "Mean buses and trucks per scored frame.",
    "risk_level_max": "Highest confirmed risk level of any hazard: Normal < Waspada < Siaga < Awas.",
    "fire_level_max": "Highest confirmed fire level in the hour (Normal < Waspada < Siaga < Awas).",
    "smoke_level_max": "Highest confirmed smoke level in the hour (Normal < Waspada < Siaga < Awas).",
    "flood_level_max": "Highest confirmed flood level in the hour (Normal < Waspada < Siaga < Awas).",
    "crowd_level_max": "Highest confirmed crowd level in the hour (Normal < Waspada < Siaga < Awas).",
    "motion_events": "Motion events in the hour's 5-minute windows.",
    "fire_frames": "Frames flagged for fire.",
    "smoke_frames": "Frames flagged for smoke.",
    "flood_frames": "Frames flagged for flooding.",
    "cameras": "Cameras reporting in the kelurahan in that hour.",
    "uptime_mean": "Mean camera uptime in the kelurahan (0..1).",
}
SUPPRESSION_NOTE = "NULL when suppressed (see the suppressed column)."

DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        name="camera_inventory",
        title="Jakarta public CCTV camera inventory",
        description="Every public CCTV camera Pantau watches: location, operator, administrative area, view "
        "radius and a blurred thumbnail. Stream URLs are not republished.",
        variants=(
            Variant(("cameras", "frames"), CAMERA_INVENTORY_WITH_THUMBS),
            Variant(("cameras",), CAMERA_INVENTORY),
        ),
        formats=("csv", "parquet", "geojson"),
        fields={
            "camera_id": "Pantau camera identifier.",
            "name": "Camera name as published in the CCTV directory.",
            "operator": "Operating agency.",
            "provider": "Video provider.",
            "stream_kind": "Stream protocol (hls, mjpeg, ...).",
            "lat": "Latitude (WGS84).",
            "lon": "Longitude (WGS84).",
            "kelurahan_code": "Kemendagri kelurahan code.",
            "kelurahan": "Kelurahan name.",
            "kecamatan": "Kecamatan name.",
            "kota": "Kota administrasi.",
            "view_radius_m": "Assumed useful view radius in metres.",
            "heading_deg": "Camera heading in degrees from north, when known.",
            "installed_at": "Installation time (UTC), when known.",
            "active": "Whether the camera is in service.",
            "address": "Street address of the camera site.",
            "n_channels": "Video channels at the site.",
            "status": "Registry status: installed (in service), planned (a site accepted for a new camera) or retired.",
            "thumbnail": "Relative path of a face-blurred thumbnail in this release, when one exists.",
        },
        keywords=("cctv", "camera", "jakarta"),
        sources=("pantau", "streetside_cctv", "jakarta_boundaries", "kemendagri_codes"),
        thumbnails=True,
    ),
    DatasetSpec(
        name="risk_hourly_camera",
        title="Hourly flood, fire and crowd risk by camera",
        description="Detector scores, fused risk levels and event counts per camera and UTC hour.",
        variants=(Variant(("risk_hourly_camera",), RISK_HOURLY_CAMERA),),
        fields=RISK_FIELDS,
        keywords=("risk", "flood", "fire", "crowd", "cctv"),
        camera_time_columns=("hour",),
        frequency="HOURLY",
        partition=Partitioning("hour", sort=("kelurahan_code", "camera_id", "hour")),
    ),
    DatasetSpec(
        name="risk_hourly_kelurahan",
        title="Hourly flood, fire and crowd risk by kelurahan",
        description="Per kelurahan and UTC hour: the highest scores and risk level seen by its cameras.",
        variants=(Variant(("risk_hourly_kelurahan",), RISK_HOURLY_KELURAHAN),),
        fields=RISK_FIELDS,
        keywords=("risk", "kelurahan", "flood", "fire", "crowd"),
        sources=("pantau", "jakarta_boundaries", "kemendagri_codes"),
        frequency="HOURLY",
        partition=Partitioning("hour", sort=("kelurahan_code", "hour")),
    ),
    DatasetSpec(
        name="camera_uptime_daily",
        title="Daily camera uptime",
        description="Samples per camera and UTC day by health status (ok, offline, frozen, tampered, black, "
        "overexposed, decode error) and the share that was usable.",
        variants=(Variant(("camera_uptime_daily",), CAMERA_UPTIME_DAILY),),
        fields={
            "day": "UTC day.",
            "camera_id": "Pantau camera identifier.",
            "samples": "Frames sampled.",
            "ok": "Usable frames.",
            "uptime": "ok / samples (0..1).",
            "offline": "Samples where the stream was unreachable.",
            "frozen": "Samples with a frozen picture.",
            "tampered": "Samples with a covered or moved camera.",
            "black": "Black frames.",
            "overexposed": "Overexposed frames.",
            "decode_error": "Frames that failed to decode.",
        },
        keywords=("cctv", "uptime", "operations"),
        partition=Partitioning("day", sort=("camera_id", "day")),
    ),
    DatasetSpec(
        name="alert_history",
        title="Hazard alert history",
        description="Every version of every flood, fire and crowd alert (CAP 1.2 alerts sent to agencies and "
        "subscribers): hazard, level, status and times rounded down to 5 minutes. Evidence images and "
        "recipients are not published.",
        variants=(Variant(("alerts",), ALERT_HISTORY),),
        fields={
            "alert_id": "Alert identifier.",
            "version": "Alert version (updates increase it).",
            "camera_id": "Camera that raised the alert.",
            "kelurahan_code": "Kemendagri kelurahan code.",
            "kecamatan_code": "Kemendagri kecamatan code.",
            "kota_code": "Kemendagri kota code.",
            "msg_type": "CAP message type (Alert, Update, Cancel).",
            "hazard": "flood, fire or crowd.",
            "level": "Risk level of this version.",
            "status": "open, updated, resolved, cancelled or acknowledged.",
            "opened_at": "Opening time, rounded down to 5 minutes (UTC).",
            "updated_at": "Time of this version, rounded down to 5 minutes (UTC).",
        },
        keywords=("alerts", "cap", "hazard"),
        camera_time_columns=("opened_at", "updated_at"),
    ),
    DatasetSpec(
        name="jaki_daily_usage",
        title="Jaki app daily usage by feature and kelurahan",
        description="Events and distinct users per day, Jaki feature and kelurahan. Cells under the threshold "
        "are suppressed, with complementary suppression so totals cannot reveal them.",
        variants=(
            Variant(("jaki_daily_usage",), JAKI_DAILY_USAGE),
            Variant(("jaki_usage_events",), JAKI_DAILY_USAGE_FROM_EVENTS),
        ),
        fields={
            "day": "Calendar day (Asia/Jakarta).",
            "feature": "Jaki feature.",
            "kelurahan_code": "Kemendagri kelurahan code.",
            "events": "Usage events. " + SUPPRESSION_NOTE,
            "users": "Distinct users. " + SUPPRESSION_NOTE,
        },
        keywords=("jaki", "usage", "kelurahan"),
        sources=("pantau", "jaki"),
        suppression=Suppression(counts=("events", "users"), groups=(("day", "feature"), ("day", "kelurahan_code"))),
        partition=Partitioning("day"),
    ),
    DatasetSpec(
        name="jaki_complaints",
        title="Jaki complaints: volume and resolution time by category and kecamatan",
        description="Complaints received and resolved, with median and 90th-percentile resolution hours, per "
        "period, category and kecamatan. Small cells are suppressed.",
        variants=(Variant(("jaki_complaints_summary",), JAKI_COMPLAINTS_SUMMARY, curated=False),),
        fields={
            "grain": "Period of the row: day or week.",
            "day": "First day (WIB) of the period.",
            "category": "Complaint category.",
            "kecamatan_code": "Kemendagri kecamatan code.",
            "kecamatan": "Kecamatan name.",
            "complaints": "Complaints received. " + SUPPRESSION_NOTE,
            "resolved": "Complaints resolved. " + SUPPRESSION_NOTE,
            "median_resolution_h": "Median hours to resolution. " + SUPPRESSION_NOTE,
            "p90_resolution_h": "90th percentile hours to resolution. " + SUPPRESSION_NOTE,
        },
        keywords=("jaki", "complaints", "public services"),
        sources=("pantau", "jaki"),
        suppression=Suppression(
            counts=("complaints",),
            groups=(("grain", "day", "category"), ("grain", "day", "kecamatan_code", "kecamatan")),
            dependents=("resolved", "median_resolution_h", "p90_resolution_h"),
        ),
    ),
    DatasetSpec(
        name="hospital_beds",
        title="Hospital bed availability (daily, aggregated)",
        description="Daily hospital bed capacity and availability reported through Jaki, aggregated.",
        variants=(Variant(("jaki_hospital_beds_daily",), HOSPITAL_BEDS, curated=False),),
        keywords=("jaki", "health", "hospital"),
        sources=("pantau", "jaki"),
    ),
    DatasetSpec(
        name="parking_occupancy",
        title="Parking occupancy by location and hour",
        description="Hourly occupancy of public parking locations.",
        variants=(Variant(("jaki_parking_hourly", "parking_locations"), PARKING_OCCUPANCY),),
        fields={
            "parking_id": "Parking location identifier.",
            "name": "Parking location name.",
            "lat": "Latitude (WGS84).",
            "lon": "Longitude (WGS84).",
            "kode_kelurahan": "Kemendagri kelurahan code.",
            "vehicle_type": "Vehicle type (car, motorcycle, ...).",
            "hour": "Start of the UTC hour.",
            "capacity": "Spaces for the vehicle type.",
            "occupied_mean": "Mean occupied spaces in the hour.",
            "occupied_max": "Most occupied spaces in the hour.",
            "occupancy": "occupied_mean / capacity (0..1).",
        },
        keywords=("jaki", "parking", "mobility"),
        sources=("pantau", "jaki", "satudata_parking"),
        frequency="HOURLY",
        partition=Partitioning("hour", sort=("parking_id", "hour")),
    ),
    DatasetSpec(
        name="placement_recommendations",
        title="Recommended sites for new CCTV cameras",
        description="Ranked candidate sites where a new camera would cover the most unwatched flood, fire and "
        "crowd risk and public spaces, with the gain per risk layer and the method that chose them.",
        variants=(Variant(("placement_candidates",), PLACEMENT, curated=False),),
        formats=("csv", "parquet", "geojson"),
        fields={
            "rank": "Rank within the run (1 = best).",
            "site_id": "Candidate site identifier.",
            "lat": "Latitude (WGS84).",
            "lon": "Longitude (WGS84).",
            "kode_kelurahan": "Kemendagri kelurahan code.",
            "gain_total": "Risk-weighted coverage gained.",
        },
        keywords=("planning", "cctv", "coverage"),
        sources=("pantau", "jakarta_boundaries", "jakartasatu_rptra"),
    ),
)

DATASETS_BY_NAME = {d.name: d for d in DATASETS}
