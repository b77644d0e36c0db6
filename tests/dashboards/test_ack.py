"""Acknowledging an alert on the Alerts page (Streamlit AppTest), against the alerts package's own DB.

The data folder holds a migrated lake and ``ops.sqlite`` with two alerts opened through
``alerts.lifecycle`` and exported to the lake by ``alerts.export`` (see ``crafted.open_alerts``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crafted import ACK_ALERTS, add_test_users, build_alerts_data_dir, copy_data_dir
from streamlit.testing.v1 import AppTest
from test_app import assert_clean, metrics, open_page, texts

from alerts.db import OpsDB, sqlite_url
from alerts.lifecycle import AlertLifecycle, get_alert, transitions
from dashboards.i18n import translate

OPEN, ACKED = translate("status_open"), translate("status_acknowledged")

FLOOD, FIRE = 0, 1  # positions in ACK_ALERTS


@pytest.fixture(scope="module")
def _alerts_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("ack") / "pantau-data"
    return root, build_alerts_data_dir(root)


@pytest.fixture
def alerts_dir(
    _alerts_template: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[str]]:
    """A private copy of the data folder (each test changes its ops DB) set as the dashboards' data dir."""
    template, ids = _alerts_template
    root = copy_data_dir(template, tmp_path / "pantau-data")
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    monkeypatch.delenv("PANTAU_OPS_DB_URL", raising=False)
    return root, ids


@pytest.fixture
def ops(alerts_dir: tuple[Path, list[str]]) -> Iterator[OpsDB]:
    db = OpsDB(sqlite_url(str(alerts_dir[0])), create=False)
    yield db
    db.dispose()


def pick(at: AppTest, alert_id: str) -> AppTest:
    at.selectbox(key="alerts_detail_pick").set_value(alert_id).run()
    assert_clean(at)
    return at


def ack_widgets(at: AppTest) -> tuple[list[object], list[object]]:
    """The actor field and the acknowledge button the page offers now."""
    fields = [w for w in at.text_input if w.label == translate("ack_by")]
    buttons = [b for b in at.button if b.label == translate("acknowledge")]
    return fields, buttons


def acknowledge(at: AppTest, actor: str) -> AppTest:
    fields, buttons = ack_widgets(at)
    assert len(fields) == 1 and len(buttons) == 1, "the page must offer the acknowledge form"
    fields[0].input(actor)  # type: ignore[attr-defined]
    buttons[0].click().run()  # type: ignore[attr-defined]
    assert_clean(at)
    return at


def table_status(at: AppTest, alert_id: str) -> str:
    active = at.dataframe[0].value
    return str(active.set_index("alert_id").at[alert_id, "status"])


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("Budi Santoso", "Budi Santoso"),
        ("  Siti Rahma  ", "Siti Rahma"),  # stray spaces from the keyboard are not part of the name
        ("", "operator"),  # nothing typed: recorded as the signed-in account, not refused
    ],
)
def test_acknowledging_records_the_officer_and_shows_at_once(
    alerts_dir: tuple[Path, list[str]], ops: OpsDB, typed: str, recorded: str
) -> None:
    _, ids = alerts_dir
    flood, fire = ids[FLOOD], ids[FIRE]
    at = open_page("views/alerts.py", user="operator")
    assert at.tabs[0].label == f"{translate('active_tab')} ({len(ACK_ALERTS)})"
    assert at.selectbox(key="alerts_detail_pick").value == fire  # Awas first
    pick(at, flood)
    assert metrics(at)[translate("status")] == OPEN
    assert table_status(at, flood) == OPEN

    acknowledge(at, typed)

    assert [s.value for s in at.success] == [translate("ack_done", id=flood)]
    assert not at.warning
    # the operational DB, read through the alerts package
    row = get_alert(ops, flood)
    assert (row["status"], row["acknowledged_by"]) == ("acknowledged", recorded)
    last = transitions(ops, flood)[-1]
    assert (last["status"], last["actor"], last["msg_type"]) == ("acknowledged", recorded, None)  # not broadcast
    assert get_alert(ops, fire)["status"] == "open"
    # the page, right after the submit: new status everywhere, no second acknowledgement offered
    assert at.selectbox(key="alerts_detail_pick").value == flood
    assert metrics(at)[translate("status")] == ACKED
    assert table_status(at, flood) == ACKED and table_status(at, fire) == OPEN
    assert at.tabs[0].label.endswith(f"({len(ACK_ALERTS)})")  # acknowledged alerts are still active
    assert f"**{ACKED}** · Siaga · acknowledged by {recorded}" in texts(at)
    assert ack_widgets(at) == ([], [])
    # the confirmation is shown once; the status stays
    at.run()
    assert_clean(at)
    assert not at.success or translate("ack_done", id=flood) not in [s.value for s in at.success]
    assert metrics(at)[translate("status")] == ACKED
    # the other alert can still be acknowledged
    pick(at, fire)
    assert metrics(at)[translate("status")] == OPEN
    assert [len(w) for w in ack_widgets(at)] == [1, 1]


def _cancel_meanwhile(root: Path, alert_id: str) -> None:
    """A supervisor cancels the alert (CLI or another screen) after the page was drawn."""
    ops = OpsDB(sqlite_url(str(root)), create=False)
    try:
        AlertLifecycle(ops).cancel(alert_id, reason="false alarm: river cam glare", actor="supervisor")
    finally:
        ops.dispose()


def _fresh_ops_db(root: Path, alert_id: str) -> None:
    """The ops DB was rebuilt: the lake still lists the alert, the ops DB has never heard of it."""
    for f in root.glob("ops.sqlite*"):
        f.unlink()
    OpsDB(sqlite_url(str(root))).dispose()
    add_test_users(root)  # the accounts are set up again with it


@pytest.mark.parametrize(
    ("change", "when", "refusal", "status_after"),
    [
        (_cancel_meanwhile, "after_drawing", "ack_not_active", "cancelled"),
        (_fresh_ops_db, "before_opening", "ack_not_found", "open"),
    ],
    ids=["cancelled-meanwhile", "unknown-to-ops-db"],
)
def test_a_refused_acknowledgement_is_a_warning_not_a_crash(
    alerts_dir: tuple[Path, list[str]], change: object, when: str, refusal: str, status_after: str
) -> None:
    root, ids = alerts_dir
    flood = ids[FLOOD]
    if when == "before_opening":
        change(root, flood)  # type: ignore[operator]
    at = pick(open_page("views/alerts.py", user="operator"), flood)
    assert metrics(at)[translate("status")] == OPEN
    if when == "after_drawing":
        change(root, flood)  # type: ignore[operator]

    acknowledge(at, "Budi Santoso")

    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1, warnings
    reason = translate(refusal, id=flood, status=translate(f"status_{status_after}"))
    assert warnings[0] == translate("ack_failed", err=reason)  # in the session language, naming the alert
    assert "Traceback" not in texts(at)
    assert not at.success
    assert metrics(at)[translate("status")] == translate(f"status_{status_after}")
    ops = OpsDB(sqlite_url(str(root)), create=False)
    try:
        statuses = [t["status"] for t in transitions(ops, flood)]
    finally:
        ops.dispose()
    assert "acknowledged" not in statuses
    if status_after == "cancelled":  # a closed alert: moved to the past tab, nothing to acknowledge
        assert ack_widgets(at) == ([], [])
        assert at.tabs[1].label.endswith("(1)")


def test_without_an_ops_db_no_one_is_signed_in(alerts_dir: tuple[Path, list[str]]) -> None:
    """The accounts live in the operational DB: without it a session is public, the Alerts page is refused."""
    root, _ = alerts_dir
    for f in root.glob("ops.sqlite*"):
        f.unlink()
    at = open_page("views/alerts.py", user="operator", accounts=False)
    assert ack_widgets(at) == ([], [])
    # the Alerts page is not in a public session's navigation: Streamlit serves the default page instead
    assert [t.value for t in at.title] == [translate("overview_title")]
    assert translate("signed_out", role=translate("role_public")) in texts(at)


def _open_unexported(root: Path) -> str:
    """A crowd alert opened by the rules after the last export: only the ops DB knows it."""
    from crafted import CAMERAS, KELURAHAN

    from alerts.models import CameraInfo, Decision, Level, utcnow

    cid, name, kel_i = CAMERAS[1]
    code, kel, kec, lon, lat = KELURAHAN[kel_i]
    camera = CameraInfo(cid, name, lat, lon, code, kel, code[:8], kec, code[:5])
    ops = OpsDB(sqlite_url(str(root)), create=False)
    try:
        opened = AlertLifecycle(ops).apply(
            Decision(cid, "crowd", "open", Level.parse("Waspada"), utcnow(), "crowd 0.65", {"crowd": 0.65}), camera
        )
    finally:
        ops.dispose()
    assert opened is not None
    return opened.alert_id


def test_overview_shows_the_operators_live_view(alerts_dir: tuple[Path, list[str]], ops: OpsDB) -> None:
    """The Overview's active alerts follow the ops DB like the Alerts page: acknowledged at once, new alerts at once,
    a cancelled one gone, all before the lake copy is exported again."""
    root, ids = alerts_dir
    at = open_page("views/overview.py")
    assert metrics(at)[translate("m_active_alerts")] == str(len(ACK_ALERTS))

    AlertLifecycle(ops).acknowledge(ids[FLOOD], actor="Budi Santoso")
    AlertLifecycle(ops).cancel(ids[FIRE], reason="false alarm", actor="supervisor")
    _open_unexported(root)
    at.run()
    assert_clean(at)
    cards = [m.value for m in at.markdown if translate("opened_at") in m.value]
    assert metrics(at)[translate("m_active_alerts")] == "2"  # flood (acknowledged) + the new crowd alert
    assert len(cards) == 2 and sum(ACKED in c for c in cards) == 1 and sum(OPEN in c for c in cards) == 1
    assert not any(translate("hazard_fire").capitalize() in c for c in cards)
