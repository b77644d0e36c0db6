"""Acknowledging an alert in headless Chromium, as an officer at the command centre does it.

Own Streamlit server on a free port over a copy of a data folder whose alerts were opened by the
alerts package (``crafted.open_alerts``); Debian ``chromium`` driven by Playwright, as in
``test_browser.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crafted import ACK_ALERTS, build_alerts_data_dir, copy_data_dir
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ERROR_SELECTORS,
    _settle,
    require_chromium,
    served_dashboard,
    sign_in,
)

from access.audit import query_audit
from alerts.db import OpsDB, sqlite_url
from alerts.lifecycle import get_alert, transitions
from dashboards.i18n import translate

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FLOOD = 0  # the alert to acknowledge (ACK_ALERTS[0]); the Awas fire alert is listed first
OFFICER = "Budi Santoso"  # typed in the form; the account signed in is "operator"


@pytest.fixture
def served(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path, list[str]]]:
    """(url, data folder, alert ids) of a dashboard server over a private copy of the alerts data folder."""
    require_chromium()
    monkeypatch.delenv("PANTAU_OPS_DB_URL", raising=False)  # the server must use the copy's ops.sqlite
    template = tmp_path_factory.mktemp("ack-template") / "pantau-data"
    ids = build_alerts_data_dir(template)
    root = copy_data_dir(template, tmp_path_factory.mktemp("ack-served") / "pantau-data")
    with served_dashboard(root, root.parent / "server.log") as url:
        yield url, root, ids


def test_officer_acknowledges_an_alert_in_the_browser(served: tuple[str, Path, list[str]], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, root, ids = served
    flood = ids[FLOOD]
    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 2000}, locale="id-ID")
            page = context.new_page()
            page.on(
                "console",
                lambda msg: console_errors.append(f"{msg.text} @ {msg.location}") if msg.type == "error" else None,
            )
            page.on("pageerror", lambda exc: console_errors.append(f"page error: {exc}"))
            # open the app and go to Alerts through the sidebar: a deep link (/alerts) makes Streamlit probe
            # /alerts/_stcore/health first, a 404 in the console (streamlit/streamlit#7074)
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name=translate("overview_title"), exact=True).first.wait_for(timeout=90_000)
            sign_in(page, "operator")
            page.locator('[data-testid="stSidebarNavLink"][href$="/alerts"]').click()
            page.get_by_role("heading", name=translate("alerts_title"), exact=True).first.wait_for(timeout=90_000)
            _settle(page)
            assert page.get_by_role("tab", name=f"{translate('active_tab')} ({len(ACK_ALERTS)})").count() == 1

            # pick the flood alert (the Awas fire alert is preselected)
            page.locator('[data-testid="stSelectbox"]').filter(has_text=translate("choose_alert")).click()
            page.get_by_role("option", name=f"{flood} · {translate('hazard_flood')}").click()
            _settle(page)
            status = page.locator('[data-testid="stMetric"]').filter(has_text=translate("status"))
            expect(status).to_contain_text(translate("status_open"))

            page.get_by_label(translate("ack_by")).fill(OFFICER)
            page.get_by_role("button", name=translate("acknowledge")).click()
            done = page.get_by_text(translate("ack_done", id=flood), exact=True)
            done.wait_for(timeout=60_000)
            _settle(page)

            expect(status).to_contain_text(translate("status_acknowledged"))
            assert page.get_by_role("button", name=translate("acknowledge")).count() == 0
            assert page.get_by_label(translate("ack_by")).count() == 0
            shot = tmp_path / "alerts-acknowledged.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            errors = page.locator(ERROR_SELECTORS)
            assert errors.count() == 0, errors.first.inner_text()
        finally:
            browser.close()
    assert not console_errors, "\n".join(console_errors)

    ops = OpsDB(sqlite_url(str(root)), create=False)
    try:
        row = get_alert(ops, flood)
        assert (row["status"], row["acknowledged_by"]) == ("acknowledged", OFFICER)
        assert [(t["status"], t["actor"]) for t in transitions(ops, flood)] == [
            ("open", "rules"),
            ("acknowledged", OFFICER),
        ]  # one acknowledgement, not one per click or rerun
        assert get_alert(ops, ids[1])["status"] == "open"
        audit = query_audit(ops, target_type="alert")
        assert [(r["action"], r["actor"], r["role"], r["source"]) for r in audit] == [
            ("alert.acknowledge", "operator", "operator", "dashboard")
        ]
    finally:
        ops.dispose()
