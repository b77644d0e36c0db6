"""The dashboards in headless Chromium: every page opens, renders, and shows no error.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` package (its bundled
browsers are not used). Skipped only when Chromium is missing outside CI; in CI it must run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboards.launch import start_dashboard, wait_until_ready

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# url path -> a heading the page must show (Bahasa Indonesia, the default language)
PAGES = {
    "": "Ringkasan risiko Jakarta",
    "camera": "Kamera",
    "kelurahan": "Kelurahan",
    "alerts": "Peringatan",
    "subscriptions": "Langganan peringatan",
    "jaki": "Penggunaan Jaki",
    "quality": "Kualitas & kesegaran data",
    "planning": "Perencanaan kamera baru",
    "open_data": "Data terbuka",
    "audit": "Akses & log audit",
    "registry": "Registri kamera",
}
PUBLIC_PATHS = ("", "open_data")  # what a session that has not signed in is served
ERROR_SELECTORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settle(page: object, timeout_s: float = 60.0) -> None:
    """Wait until Streamlit has finished running the script and the charts have drawn."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0  # type: ignore[attr-defined]
        skeletons = page.locator('[data-testid="stSkeleton"]').count() > 0  # type: ignore[attr-defined]
        if running or skeletons:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.5:
            return
        page.wait_for_timeout(250)  # type: ignore[attr-defined]
    raise AssertionError("the page kept running for too long")


def require_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian chromium at /usr/bin/chromium")
        pytest.skip("Debian chromium is not installed")
    pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else None


def sign_in(page: object, user: str, password: str | None = None) -> None:
    """Sign in through the sidebar form as a test account (``crafted.TEST_USERS``) and wait for the new navigation."""
    from crafted import TEST_PASSWORD

    from dashboards.i18n import translate

    login = translate("login")
    field = page.get_by_label(translate("username"))  # type: ignore[attr-defined]
    if not field.is_visible():  # the sign-in expander is closed: open it
        page.locator('[data-testid="stExpander"]').filter(has_text=login).locator("summary").click()  # type: ignore[attr-defined]
        field.wait_for(state="visible", timeout=30_000)
    field.fill(user)
    page.get_by_label(translate("password"), exact=True).fill(password or TEST_PASSWORD)  # type: ignore[attr-defined]
    page.locator('[data-testid="stFormSubmitButton"] button').filter(has_text=login).click()  # type: ignore[attr-defined]
    if password is None:
        role = translate(f"role_{user}")
        page.get_by_text(f"{user} ({role})").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    _settle(page)


@contextmanager
def served_dashboard(
    root: Path, log_path: Path, *, port: int | None = None, secrets_file: Path | None = None
) -> Iterator[str]:
    """A Streamlit server over data folder ``root`` on ``port`` (a free loopback port by default), with Streamlit's
    ``secrets_file`` when given; yields its URL. On exit the server is stopped and its log must hold no traceback."""
    port = port or _free_port()
    with open(log_path, "wb") as log:
        proc = start_dashboard(
            root, port=port, headless=True, address="127.0.0.1", secrets_file=secrets_file, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            assert wait_until_ready(port, timeout_s=180), log_path.read_text()
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    server_log = log_path.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log


@pytest.fixture(scope="module")
def dashboard_url(_populated_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with served_dashboard(_populated_root, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


def test_every_page_renders_without_errors(dashboard_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots_env = os.environ.get("PANTAU_SCREENSHOT_DIR")
    extra_dir = Path(shots_env) if shots_env else None
    if extra_dir is not None:
        extra_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 2000}, locale="id-ID")
            page = context.new_page()
            console_errors: list[str] = []
            page.on(
                "console",
                lambda msg: console_errors.append(f"{msg.text} @ {msg.location}") if msg.type == "error" else None,
            )
            page.on("pageerror", lambda exc: console_errors.append(f"page error: {exc}"))
            page.goto(dashboard_url, wait_until="domcontentloaded")
            page.get_by_role("heading", name=PAGES[""], exact=True).first.wait_for(timeout=90_000)
            sign_in(page, "admin")  # an admin is served every page
            for path, heading in PAGES.items():
                console_errors.clear()
                if path:  # navigate like a user, through the sidebar (no full reload)
                    page.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]').click()
                page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=90_000)
                _settle(page)
                name = path or "overview"
                shot = tmp_path / f"{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
                if extra_dir is not None:
                    shutil.copy(shot, extra_dir / shot.name)
                errors = page.locator(ERROR_SELECTORS)
                if errors.count():
                    problems.append(f"{name}: Streamlit error element: {errors.first.inner_text()}")
                problems += [f"{name}: console: {e}" for e in console_errors]
        finally:
            browser.close()
    assert not problems, "\n".join(problems)


def test_a_link_straight_to_a_page_opens_it_inside_the_app(dashboard_url: str) -> None:
    """Bookmarks and shared links (``/open_data``) open the page with the app's navigation, language switch and
    wide layout, not the page script alone (which a folder named ``pages/`` beside the entry point would cause).

    A link opens a new session, which has not signed in: public pages open; a link to any other page is
    served the public overview (tests/security/test_browser_access.py signs in first)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for path, heading in PAGES.items():
                if not path:
                    continue
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(f"{dashboard_url}/{path}", wait_until="domcontentloaded")
                public = path in PUBLIC_PATHS
                page.get_by_role("heading", name=heading if public else PAGES[""], exact=True).first.wait_for(
                    timeout=90_000
                )
                _settle(page)
                assert page.get_by_role("heading", name=heading, exact=True).count() == (1 if public else 0), path
                links = page.locator('[data-testid="stSidebarNavLink"]')
                assert links.count() == len(PUBLIC_PATHS), (path, links.all_inner_texts())
                assert page.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]').count() == int(public), path
                assert page.get_by_text("Bahasa / Language").count() == 1, path  # app.py's language switch ran
                assert page.locator(ERROR_SELECTORS).count() == 0, path
                page.close()
        finally:
            browser.close()
