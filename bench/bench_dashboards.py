"""Dashboard first-render time and Streamlit memory on a city-sized lake.

Builds a temporary lake with 30 days of hourly risk marts for 1,300 cameras (936,000 camera-hours)
and 267 kelurahan, then measures:

1. server-side first render (cold caches) of the Overview and Camera pages with Streamlit's AppTest;
2. in headless Chromium (if /usr/bin/chromium and playwright are present): time from navigation
   until the page has finished running and drawn, for Overview then Camera, and the resident
   memory (RSS) of the ``streamlit run`` process after both pages.

Target: first render <= 2 s.  Run: ``.venv/bin/python bench/bench_dashboards.py [--cameras 1300 --days 30]``
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "dashboards"))

from crafted import populate_bench  # noqa: E402

from warehouse.lake import Lake, LakeConfig  # noqa: E402
from warehouse.migrations import migrate  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc; the Streamlit server is one process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def apptest_first_render(root: Path) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    os.environ["PANTAU_DATA_DIR"] = str(root)
    out = {}
    for page in ("pages/overview.py", "pages/camera.py"):
        at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=300)
        t0 = time.perf_counter()
        at.switch_page(page).run()
        out[page] = time.perf_counter() - t0
        assert not at.exception and not at.error, (at.exception, at.error)
    return out


def settle(page: object, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    quiet = None
    while time.monotonic() < deadline:
        busy = page.locator('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]').count() > 0  # type: ignore[attr-defined]
        if busy:
            quiet = None
        elif quiet is None:
            quiet = time.monotonic()
        elif time.monotonic() - quiet > 0.3:
            return
        page.wait_for_timeout(50)  # type: ignore[attr-defined]


def browser_first_render(root: Path) -> dict[str, float] | None:
    if not CHROMIUM.exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    from dashboards.launch import start_dashboard, wait_until_ready

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = start_dashboard(root, port=port, address="127.0.0.1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, float] = {}
    try:
        assert wait_until_ready(port, 180)
        out["rss_idle_mb"] = rss_mb(proc.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.locator('[data-testid="stDeckGlJsonChart"]').first.wait_for(timeout=120_000)
            page.locator('[data-testid="stMetric"]').first.wait_for(timeout=120_000)
            settle(page)
            out["overview_s"] = time.perf_counter() - t0 - 0.3
            t0 = time.perf_counter()
            page.locator('[data-testid="stSidebarNavLink"][href$="/camera"]').click()
            page.get_by_role("heading", name="Skor bahaya").wait_for(timeout=120_000)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=120_000)
            settle(page)
            out["camera_s"] = time.perf_counter() - t0 - 0.3
            out["rss_after_pages_mb"] = rss_mb(proc.pid)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=1300)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        root = Path(tmp) / "pantau-data"
        t0 = time.perf_counter()
        lake = Lake(LakeConfig(root=root))
        migrate(lake)
        populate_bench(lake, n_cameras=args.cameras, days=args.days)
        rows = lake.scalar("SELECT count(*) FROM risk_hourly_camera")
        lake.close()
        print(
            f"lake: {args.cameras} cameras x {args.days} days = {rows:,} camera-hours (built in {time.perf_counter() - t0:.1f} s)"
        )
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for page, s in apptest_first_render(root).items():
            print(f"AppTest first render (cold cache) {page:<20} {s:6.2f} s   target <= 2 s")
        if not args.no_browser:
            res = browser_first_render(root)
            if res is None:
                print("browser: skipped (no /usr/bin/chromium or playwright)")
            else:
                print(f"browser first render Overview  {res['overview_s']:6.2f} s   target <= 2 s")
                print(f"browser first render Camera    {res['camera_s']:6.2f} s   target <= 2 s")
                print(f"streamlit RSS idle             {res['rss_idle_mb']:6.0f} MB")
                print(f"streamlit RSS after both pages {res['rss_after_pages_mb']:6.0f} MB")


if __name__ == "__main__":
    main()
