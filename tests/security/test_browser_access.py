"""Access control in headless Chromium: what a visitor and each role are served, and a forced action refused.

Own Streamlit server over a copy of a data folder with alerts opened by the alerts package and one
test account per role; Debian ``chromium`` driven by Playwright (as tests/dashboards/test_browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crafted import build_alerts_data_dir, copy_data_dir
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ERROR_SELECTORS,
    PAGES,
    _settle,
    require_chromium,
    served_dashboard,
    sign_in,
)

from access.accounts import set_role
from access.audit import query_audit
from access.roles import Principal, Role
from alerts.db import OpsDB, sqlite_url
from alerts.lifecycle import get_alert, transitions
from dashboards.i18n import translate

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAV = '[data-testid="stSidebarNavLink"]'
SEES = {
    None: {"", "open_data"},
    "analyst": {"", "open_data", "camera", "kelurahan", "alerts", "jaki", "planning", "quality"},
    "operator": {"", "open_data", "camera", "kelurahan", "alerts", "jaki", "planning", "quality", "registry"},
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    require_chromium()
    template = tmp_path_factory.mktemp("sec-template") / "pantau-data"
    ids = build_alerts_data_dir(template)
    root = copy_data_dir(template, tmp_path_factory.mktemp("sec-served") / "pantau-data")
    with served_dashboard(root, root.parent / "server.log") as url:
        yield url, root, ids


def _nav_paths(page: object) -> set[str]:
    hrefs = page.locator(NAV).evaluate_all("els => els.map(e => e.getAttribute('href'))")  # type: ignore[attr-defined]
    return {h.rstrip("/").rsplit("/", 1)[-1] if h.rstrip("/").count("/") > 2 else "" for h in hrefs}


def test_roles_in_the_browser(served: tuple[str, Path, list[str]]) -> None:
    from playwright.sync_api import sync_playwright

    url, root, ids = served
    fire = ids[1]  # preselected on the Alerts page (Awas)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            # a visitor: public pages only; links to the others are served the overview
            page = browser.new_page(viewport={"width": 1440, "height": 1600}, locale="id-ID")
            for path in ("alerts", "subscriptions", "audit"):
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                page.get_by_role("heading", name=PAGES[""], exact=True).first.wait_for(timeout=90_000)
                _settle(page)
                assert page.get_by_role("heading", name=PAGES[path], exact=True).count() == 0, path
                assert _nav_paths(page) == SEES[None]
            # a wrong password signs no one in (start afresh: Streamlit's "page not found" dialog is still open)
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name=PAGES[""], exact=True).first.wait_for(timeout=90_000)
            _settle(page)
            sign_in(page, "operator", password="not-the-password")
            page.get_by_text(translate("login_failed")).wait_for(timeout=30_000)
            assert _nav_paths(page) == SEES[None]

            # an analyst reads alerts but is offered no acknowledgement or cancellation
            sign_in(page, "analyst")
            assert _nav_paths(page) == SEES["analyst"]
            page.locator(f'{NAV}[href$="/alerts"]').click()
            page.get_by_role("heading", name=PAGES["alerts"], exact=True).first.wait_for(timeout=90_000)
            _settle(page)
            assert page.get_by_role("button", name=translate("acknowledge")).count() == 0
            assert page.get_by_text(translate("cancel_alert")).count() == 0
            page.close()

            # an operator: no subscriptions or audit pages; demoted while the form is open, the click is refused
            page = browser.new_page(viewport={"width": 1440, "height": 1600}, locale="id-ID")
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name=PAGES[""], exact=True).first.wait_for(timeout=90_000)
            sign_in(page, "operator")
            assert _nav_paths(page) == SEES["operator"]
            page.locator(f'{NAV}[href$="/alerts"]').click()
            page.get_by_role("heading", name=PAGES["alerts"], exact=True).first.wait_for(timeout=90_000)
            _settle(page)
            ack = page.get_by_role("button", name=translate("acknowledge"))
            assert ack.count() == 1
            ops = OpsDB(sqlite_url(str(root)), create=False)
            try:
                set_role(ops, "operator", "analyst", by=Principal("ani", Role.ADMIN))
                ack.click()
                refused = translate("action_refused", err=translate("access_denied", role=translate("role_analyst")))
                page.get_by_text(refused).wait_for(timeout=60_000)
                _settle(page)
                assert page.get_by_role("button", name=translate("acknowledge")).count() == 0
                assert page.locator(ERROR_SELECTORS).count() == 0
                assert get_alert(ops, fire)["status"] == "open"
                assert [t["status"] for t in transitions(ops, fire)] == ["open"]
                assert query_audit(ops, target_type="alert") == []
            finally:
                ops.dispose()
            page.close()
        finally:
            browser.close()
