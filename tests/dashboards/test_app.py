"""Every dashboard page under Streamlit's AppTest: no lake, an empty lake, a populated lake."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from crafted import ASSET_CHECKS, add_test_users, asset_check_rows
from streamlit.testing.v1 import AppTest

from dashboards.i18n import translate
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate

# the entry point (not imported from a conftest: several test folders put a conftest.py on sys.path)
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PAGES = (
    "views/overview.py",
    "views/camera.py",
    "views/kelurahan.py",
    "views/alerts.py",
    "views/subscriptions.py",
    "views/jaki.py",
    "views/quality.py",
    "views/planning.py",
    "views/open_data.py",
    "views/registry.py",
)


def open_page(page: str, lang: str = "id", user: str | None = "admin", accounts: bool = True) -> AppTest:
    """``page`` as ``user`` sees it (a test account named after its role; None: not signed in)."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["lang"] = lang
    if user is not None:
        if accounts and not os.environ.get("PANTAU_OPS_DB_URL"):  # the accounts live in the data folder's ops DB
            add_test_users(Path(os.environ["PANTAU_DATA_DIR"]))
        sign_in(at, user)
    at.switch_page(page).run()
    assert_clean(at)
    return at


def sign_in(at: AppTest, user: str) -> None:
    """What the sign-in form leaves in the session after a correct password (tests/security signs in through it)."""
    from dashboards.auth import PRINCIPAL

    at.session_state[PRINCIPAL] = (user, "local")


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    """Everything the page says, in one string."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "success", "code", "metric", "tabs"):
        for el in at.get(kind):
            for attr in ("value", "label", "body"):
                v = getattr(el, attr, None)
                if isinstance(v, str):
                    parts.append(v)
    return "\n".join(parts)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", PAGES)
def test_page_without_any_lake_explains_what_to_do(no_lake_dir: Path, page: str) -> None:
    at = open_page(page)
    said = texts(at)
    if page == "views/open_data.py":
        assert translate("no_releases", "id") in said
    else:
        assert translate("no_lake", "id", path=str(no_lake_dir.resolve())) in said
    assert not no_lake_dir.exists(), "a dashboard must never create a lake"


EMPTY_LAKE_EXPECT = {
    "views/overview.py": "no_cameras",
    "views/camera.py": "no_cameras",
    "views/kelurahan.py": "no_kelurahan",
    "views/alerts.py": "no_active_alerts",
    "views/subscriptions.py": "no_subscriptions",
    "views/jaki.py": "empty_table",
    "views/quality.py": "no_asset_checks",
    "views/planning.py": "empty_table",
    "views/open_data.py": "no_releases",
    "views/registry.py": "empty_table",
}


@pytest.mark.parametrize(("page", "key"), sorted(EMPTY_LAKE_EXPECT.items()))
def test_page_on_an_empty_lake_shows_an_empty_state(empty_lake_dir: Path, page: str, key: str) -> None:
    at = open_page(page)
    expected = translate(key, "id").split("{")[0]
    assert expected in texts(at)


def test_overview_populated(populated_dir: Path) -> None:
    at = open_page("views/overview.py")
    m = metrics(at)
    assert m[translate("m_cameras")] == "5"
    assert m[translate("m_active_alerts")] == "1"
    assert m[translate("m_kel_at_risk")] == "1"  # Kampung Melayu is Siaga
    assert m[translate("m_unhealthy")] == "1"  # CAM-0003 frozen
    assert not at.get("deck_gl_json_chart")  # the first map is drawn on a 2D canvas, not WebGL
    city_map = at.get("vega_lite_chart")[0].proto
    assert "Kampung Melayu" in city_map.spec and '"geoshape"' in city_map.spec
    assert any(d.data.data and b"Kali Ciliwung" in d.data.data for d in city_map.datasets)  # cameras, as Arrow
    said = texts(at)
    assert "Siaga" in said and "CAM-0004" in said


def test_overview_interactive_map_switch_shows_the_deck_gl_map(populated_dir: Path) -> None:
    at = open_page("views/overview.py", user=None)  # public: the Overview needs no sign-in
    at.toggle(key="overview_map_interactive").set_value(True).run()
    assert_clean(at)
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    assert "Kali Ciliwung" in decks[0].proto.json and "Kampung Melayu" in decks[0].proto.json
    assert len(at.get("vega_lite_chart")) == 1  # the level chart only


def test_overview_switches_to_english(populated_dir: Path) -> None:
    at = open_page("views/overview.py", lang="en")
    assert "Jakarta risk overview" in texts(at)
    assert translate("m_active_alerts", "en") in metrics(at)


def test_camera_populated_shows_keyframe_scores_and_why_the_level_changed(populated_dir: Path) -> None:
    at = open_page("views/camera.py")
    box = at.selectbox[0]
    assert box.value == "CAM-0004"  # the most at-risk camera opens first
    assert box.options[1].endswith("CAM-0003")  # then the frozen one
    assert len(at.get("image")) == 1
    said = texts(at)
    assert "Normal → **Siaga** karena banjir (skor 0.85)" in said
    assert "PetaBencana 2" in said
    assert metrics(at)[translate("current_level")] == "Siaga"
    assert len(at.get("vega_lite_chart")) >= 2  # scores + health (+ events)
    specs = " ".join(c.proto.spec for c in at.get("vega_lite_chart"))
    assert translate("vehicles", "id") in specs  # the vehicles-per-frame chart by class, beside persons


def test_kelurahan_populated(populated_dir: Path) -> None:
    at = open_page("views/kelurahan.py")
    at.selectbox[0].set_value("31.74.01.1001").run()
    assert_clean(at)
    m = metrics(at)
    assert m[translate("population")] == "30.000"
    assert m[translate("flood_events_2024")] == "6"
    cams = at.dataframe[0].value
    assert set(cams["camera_id"]) == {"CAM-0004", "CAM-0005"}
    assert len(at.get("vega_lite_chart")) >= 4  # risk history, usage, complaints, coverage


def test_alerts_populated(populated_dir: Path) -> None:
    at = open_page("views/alerts.py")
    labels = [t.label for t in at.tabs]
    assert labels == [f"{translate('active_tab')} (1)", f"{translate('past_tab')} (1)"]
    active = at.dataframe[0].value
    assert list(active["alert_id"]) == ["A-1"]
    said = texts(at)
    assert "urn:oasis:names:tc:emergency:cap:1.2" in said
    deliveries = at.dataframe[-1].value
    assert sorted(deliveries["state"]) == ["failed", "sent", "sent"]
    # only resolved alerts in the past tab; filtering by hazard keeps the flood alert only
    at.multiselect[1].set_value(["crowd"]).run()
    assert_clean(at)
    assert at.tabs[0].label.endswith("(0)")


def test_subscriptions_populated_reads_the_operational_db(populated_dir: Path) -> None:
    at = open_page("views/subscriptions.py")
    names = set(at.dataframe[0].value["name"])
    assert "Lurah Kampung Melayu" in names


def test_jaki_populated(populated_dir: Path) -> None:
    at = open_page("views/jaki.py")
    assert not at.info, [i.value for i in at.info]  # every section has data
    assert len(at.get("vega_lite_chart")) >= 6
    # feature codes are shown in the session language ("complaint" is not a Jaki code: shown as it is)
    data = b"".join(ds.data.data for chart in at.get("vega_lite_chart") for ds in chart.proto.datasets)
    assert b"Tombol darurat" in data and b"panic_button" not in data
    assert b"complaint" in data


def test_quality_populated(populated_dir: Path) -> None:
    at = open_page("views/quality.py")
    fresh = at.dataframe[0].value
    assert {"frames", "frame_scores", "landed_batches", "jaki_quarantine"} <= set(fresh["table"])
    assert metrics(at)[translate("rows")] == "5"  # quarantined rows
    assert metrics(at)[translate("stale_cameras")] == "0"
    assert not fresh["age"].str.startswith("⚠").any() and translate("future_rows_note") not in texts(at)


def test_quality_flags_tables_whose_newest_row_is_in_the_future(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    root = tmp_path / "pantau-data"
    lk = Lake(LakeConfig(root=root))
    migrate(lk)
    now = pd.Timestamp.now(tz="UTC")
    try:
        lk.append("camera_events", pd.DataFrame({"camera_id": ["C1"], "window_end": [now - pd.Timedelta(minutes=3)]}))
        lk.append("landed_batches", pd.DataFrame({"batch_id": ["b1"], "ingested_at": [now + pd.Timedelta(hours=5)]}))
    finally:
        lk.close()
    add_test_users(root)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    at = open_page("views/quality.py")
    fresh = at.dataframe[0].value.set_index("table")
    assert fresh.loc["camera_events", "age"] == "3 min"
    assert fresh.loc["landed_batches", "age"] in ("⚠ +4 jam", "⚠ +5 jam")
    assert translate("future_rows_note") in texts(at)


def test_quality_populated_shows_the_latest_asset_check_results(populated_dir: Path) -> None:
    at = open_page("views/quality.py")
    m = metrics(at)
    assert m[translate("checks_total")] == str(len(ASSET_CHECKS))
    assert m[translate("checks_failing")] == "1"
    checks = next(df.value for df in at.dataframe if "check_name" in df.value.columns)
    assert checks["check_name"].iloc[0] == "risk_levels_valid"  # failing first
    assert set(checks["check_name"]) == {c for _, c, _, _ in ASSET_CHECKS}
    assert translate("no_asset_checks") not in texts(at)


def _lake_with(root: Path, ddl: str, rows: list[dict[str, object]]) -> None:
    lk = Lake(LakeConfig(root=root))
    try:
        migrate(lk)
        # the migrations may already create the table: replace it with exactly the columns under test
        lk.write(lambda cur: cur.execute("DROP TABLE IF EXISTS asset_check_results"))
        lk.write(lambda cur: cur.execute(ddl))
        if rows:
            lk.append("asset_check_results", rows)
    finally:
        lk.close()


CONTRACT_DDL = (
    "CREATE TABLE asset_check_results (check_name VARCHAR, asset_key VARCHAR, passed BOOLEAN, "
    "severity VARCHAR, description VARCHAR, metadata_json VARCHAR, evaluated_at TIMESTAMPTZ)"
)


@pytest.mark.parametrize(
    ("ddl", "rows", "expect_key", "expect_failing"),
    [
        (CONTRACT_DDL, "crafted", None, "1"),  # exactly the contract's columns
        (CONTRACT_DDL, [], "no_asset_checks", None),  # the table exists, nothing recorded yet
        (
            "CREATE TABLE asset_check_results (check_name VARCHAR, asset_key VARCHAR, passed BOOLEAN)",
            [],
            "asset_checks_bad_table",
            None,
        ),
    ],
)
def test_quality_asset_checks_follow_the_table_contract(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ddl: str,
    rows: object,
    expect_key: str | None,
    expect_failing: str | None,
) -> None:
    root = tmp_path / "pantau-data"
    _lake_with(root, ddl, asset_check_rows() if rows == "crafted" else [])
    add_test_users(root)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    at = open_page("views/quality.py")
    said = texts(at)
    if expect_key is not None:
        assert translate(expect_key).split("{")[0] in said
    if expect_failing is not None:
        assert metrics(at)[translate("checks_failing")] == expect_failing
        assert len(at.get("vega_lite_chart")) >= 1  # evaluations per day
    else:
        assert translate("checks_failing") not in metrics(at)


def test_planning_populated_shows_stored_sites(populated_dir: Path) -> None:
    at = open_page("views/planning.py")
    sites = at.dataframe[-1].value
    assert list(sites["site_id"]) == ["site-0", "site-1", "site-2"]
    assert len(at.get("deck_gl_json_chart")) == 1
    # the public-space demand layer: its count beside live/planned cameras, its points on the sites map
    assert metrics(at)[translate("public_spaces")] == "2"
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    names = {str(p.get("name")) for layer in deck["layers"] for p in layer.get("data", []) if isinstance(p, dict)}
    assert {"RPTRA Kenanga", "RPTRA Borobudur"} <= names


def test_open_data_populated_lists_release_files(populated_dir: Path) -> None:
    at = open_page("views/open_data.py")
    said = texts(at)
    assert "risk_hourly_kelurahan.csv" in said and "sha256:abc" in said
    assert metrics(at)[translate("license")] == "CC-BY-4.0"
    assert len(at.get("download_button")) == 2  # csv + datapackage.json


def test_camera_without_recent_data_shows_empty_timelines(populated_dir: Path) -> None:
    at = open_page("views/camera.py")
    at.selectbox[0].set_value("CAM-0002").run()
    assert_clean(at)
    assert translate("no_keyframe") in texts(at)
    assert translate("no_level_changes") in texts(at)


def test_registry_page_counts_planned_live_retired_and_lists_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from ingest.reference.loaders import load_kelurahan
    from ingest.registry import ops

    root = tmp_path / "pantau-data"
    with Lake(LakeConfig(root=root)) as lake:
        migrate(lake)
        lake.replace("kelurahan", load_kelurahan().table)
        when = datetime.now(UTC) - timedelta(days=3)
        rows = [
            {"camera_id": f"c{i}", "lat": -6.2 - i * 0.01, "lon": 106.82, "stream_url": f"http://cams.example/{i}.jpg"}
            for i in range(3)
        ] + [{"camera_id": "v1", "lat": -6.15, "lon": 106.85, "stream_url": "https://viewer.example/camera/1"}]
        ops.import_cameras(lake, rows, actor="importer", now=when)
        ops.import_cameras(
            lake, [{"camera_id": "p1", "lat": -6.17, "lon": 106.8, "status": "planned"}], actor="planner"
        )
        ops.retire_camera(lake, "c0", actor="ops-officer", reason="dismantled")
    add_test_users(root)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    at = open_page("views/registry.py", lang="en")
    m = metrics(at)
    assert m[translate("reg_live", "en")] == "3"
    assert m[translate("reg_capturable", "en")] == "2"  # the viewer-only camera has no stream yet
    assert m[translate("reg_planned", "en")] == "1"
    assert m[translate("reg_retired", "en")] == "1"
    frames = [df.value for df in at.dataframe]
    changes = next(f for f in frames if "actor" in f.columns)
    assert {"importer", "planner", "ops-officer"} <= set(changes["actor"])
    assert "status: installed → retired" in " ".join(changes["fields"])
    at = open_page("views/planning.py", lang="en")
    assert metrics(at)[translate("reg_planned", "en")] == "1"


def test_passthrough_scoring_is_visible_in_camera_health(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd
    from conftest import _migrated

    from ingest.cameras.passthrough import PASSTHROUGH_VERSION

    root = tmp_path / "pantau-data"
    lk = _migrated(root)
    now = pd.Timestamp.now(tz="UTC")
    try:
        lk.append("cameras", pd.DataFrame({"camera_id": ["CAM-P", "CAM-V"], "name": ["p", "v"], "active": [True] * 2}))
        lk.append(
            "frame_scores",
            pd.DataFrame(
                {
                    "camera_id": ["CAM-P", "CAM-P", "CAM-V"],
                    "captured_at": [now - pd.Timedelta(minutes=2), now - pd.Timedelta(minutes=1), now],
                    "health": ["ok"] * 3,
                    "risk_level": ["Normal"] * 3,
                    "model_version": ["vision-1", PASSTHROUGH_VERSION, "vision-1"],  # CAM-P switched to pass-through
                }
            ),
        )
    finally:
        lk.close()
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    overview = open_page("views/overview.py")
    assert translate("passthrough_cameras", n="1") in texts(overview)
    camera = open_page("views/camera.py")
    camera.selectbox[0].set_value("CAM-P").run()
    assert translate("passthrough_camera") in texts(camera)
    camera.selectbox[0].set_value("CAM-V").run()
    assert translate("passthrough_camera") not in texts(camera)
