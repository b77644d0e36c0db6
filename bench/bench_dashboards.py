"""Dashboard first-render time and Streamlit memory on a city-sized lake.

Builds a temporary lake with 30 days of hourly risk marts for 1,300 cameras (936,000 camera-hours)
placed inside Jakarta's 269 real kelurahan boundaries, then measures, ``--runs`` times (default 3),
each run with a fresh process, and prints the medians:

1. **server-side**: the Overview and Camera page scripts under Streamlit's AppTest, in a fresh
   process whose imports are warm (as the real server's warm start leaves them) and whose data
   caches are cold: the lake queries, pandas work and chart/map building of one page view.
2. **browser** (needs /usr/bin/chromium and playwright): a fresh ``streamlit run`` server (with its
   warm start) and a fresh headless Chromium, then

   * ``Overview (new tab)``: ``page.goto("/")``, so it includes loading Streamlit's own JavaScript;
     a new tab has not signed in: the public Overview;
   * (sign in through the sidebar form as the test ``analyst``, not timed: Camera needs it)
   * ``Camera``: click on the sidebar link, the in-app navigation a user makes;
   * ``Overview (in-app)``: click back to Overview.

   **First render** = from that navigation until the page's heading, its main map and its main
   chart are drawn (Overview also its headline metrics), Streamlit's "running" indicator is
   gone, and the browser has painted one frame after that (two ``requestAnimationFrame``
   callbacks). The Overview's first map is drawn by Vega-Lite on a 2D canvas; the Camera page's
   map is deck.gl's WebGL canvas, which the browser renders in software here (``--disable-gpu``,
   SwiftShader): drawing a deck.gl map is a large part of a figure on a machine without a GPU.

   For the new tab, the browser also records when each part first appeared (Streamlit's shell,
   the metrics, the level chart, the map). Then, not timed with the rest: the Overview's
   "interactive map" switch (the deck.gl map, zoom and pan) is turned on and timed until its
   WebGL frame is painted. ``--gpu-trace`` adds one traced new tab and switch (not in the
   medians) and prints how long Chromium's GPU process was busy with WebGL for each.

   Wall-clock times grow with the machine's load; the CPU seconds that Chromium (all its
   processes) and the Streamlit server used for the new tab are printed too, a figure that
   depends much less on the load.

   Also printed: the websocket bytes each page view sent to the browser, and the resident memory
   (RSS) of the ``streamlit run`` process when idle and after the page views.

Target: first render <= 2 s.  Run: ``.venv/bin/python bench/bench_dashboards.py [--cameras 1300 --days 30 --runs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "dashboards"))

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
PAGES = ("views/overview.py", "views/camera.py")
SIGN_IN_AS = "analyst"  # a test account (crafted.TEST_USERS); Overview is public, Camera needs a signed-in analyst
PAINTED_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
DECK_CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'
OVERVIEW_MAP = '.st-key-city_map [data-testid="stVegaLiteChart"] canvas'  # the Overview's first map (Vega-Lite)
LEVEL_CHART = '[data-testid="stVegaLiteChart"]:not(.st-key-city_map [data-testid="stVegaLiteChart"])'
IDLE_JS = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
# when each part of a new tab first appears (ms since navigation start), recorded in the page
MARK_SELECTORS = {
    "shell": '[data-testid="stSidebarNavLink"]',
    "metrics": '[data-testid="stMetric"]',
    "map": OVERVIEW_MAP,
    "chart": LEVEL_CHART,
}
MARKS_JS = (
    "window.__pantauMarks = {};\nconst __sel = "
    + json.dumps(MARK_SELECTORS)
    + """;
new MutationObserver(() => {
  for (const [k, s] of Object.entries(__sel))
    if (!window.__pantauMarks[k] && document.querySelector(s)) window.__pantauMarks[k] = performance.now();
}).observe(document, {subtree: true, childList: true});
"""
)
MARK_LABELS = {
    "shell": "Streamlit shell (sidebar) shown",
    "metrics": "headline metrics shown",
    "chart": "level chart shown",
    "map": "map canvas attached (Vega-Lite)",
}


def build_lake(root: Path, cameras: int, days: int) -> int:
    from crafted import populate_bench

    from warehouse.lake import Lake, LakeConfig
    from warehouse.migrations import migrate

    lake = Lake(LakeConfig(root=root))
    try:
        migrate(lake)
        populate_bench(lake, n_cameras=cameras, days=days)
        return int(lake.scalar("SELECT count(*) FROM risk_hourly_camera"))
    finally:
        lake.close()


def add_accounts(root: Path) -> None:
    """The test accounts (``crafted.TEST_USERS``) in the data folder's ops DB: Camera needs a signed-in analyst."""
    from crafted import add_test_users

    add_test_users(root)


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used so far) of a process from /proc, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc)."""
    stats = {int(pid): st for pid in os.listdir("/proc") if pid.isdigit() and (st := _stat(pid)) is not None}
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats[pid][1] if pid in stats else 0.0
        todo += [child for child, (parent, _) in stats.items() if parent == pid]
    return total


def browser_pid(marker: str) -> int:
    """The Chromium browser process started with ``marker`` on its command line."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return int(pid)
        except OSError:
            continue
    raise LookupError(marker)


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc; the Streamlit server is one process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- server-side -----------------------------------------------------------------------
def apptest_pages(root: Path) -> dict[str, float]:
    """One page view each of Overview and Camera, imports warm, data caches cold (run in a fresh process)."""
    import logging

    logging.disable(logging.WARNING)  # AppTest's "no runtime" notices
    os.environ["PANTAU_DATA_DIR"] = str(root)
    from streamlit.testing.v1 import AppTest

    from dashboards import server

    # what the server's warm start does, except filling the data caches: imports, lake attach, table list
    if hasattr(server, "_warm_imports"):
        from dashboards import data

        server._warm_imports()
        data.get_lake()
        data.tables()
    else:  # an older server.py (to measure a baseline checkout)
        server.warm_up()
    from dashboards.auth import PRINCIPAL

    out = {}
    for page in PAGES:
        at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=300)
        if page != "views/overview.py":  # what the sign-in form leaves in the session
            at.session_state[PRINCIPAL] = (SIGN_IN_AS, "local")
        t0 = time.perf_counter()
        at.switch_page(page).run()
        out[page] = time.perf_counter() - t0
        assert not at.exception and not at.error, (at.exception, at.error)
    return out


def apptest_in_subprocess(root: Path) -> dict[str, float]:
    code = f"import json, sys; sys.path.insert(0, {str(REPO / 'bench')!r}); import bench_dashboards as b; "
    code += f"print('RESULT' + json.dumps(b.apptest_pages(b.Path({str(root)!r}))))"
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=600, check=True
    )
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("RESULT"))
    return {k: float(v) for k, v in json.loads(line[len("RESULT") :]).items()}


# -- browser ---------------------------------------------------------------------------
def _wait_rendered(page: Any, locators: list[str], timeout_ms: int = 120_000) -> None:
    for sel in locators:
        page.locator(sel).first.wait_for(timeout=timeout_ms)
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)
    for sel in locators:  # stale elements of the previous page are gone once the run finished
        page.locator(sel).first.wait_for(timeout=timeout_ms)
    page.evaluate(PAINTED_JS)


def gpu_busy_ms(trace_file: Path) -> float:
    """How long Chromium's GPU process ran WebGL command buffers, from a trace (``gpu`` category)."""
    events = json.loads(trace_file.read_text())
    events = events["traceEvents"] if isinstance(events, dict) else events
    return sum(e.get("dur", 0) for e in events if e.get("name") == "CommandBufferService:PutChanged") / 1000


def browser_run(root: Path, gpu_trace: Path | None = None) -> dict[str, float] | None:
    if not CHROMIUM.exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    from test_browser import sign_in

    from dashboards.i18n import translate
    from dashboards.launch import start_dashboard, wait_until_ready

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = start_dashboard(root, port=port, address="127.0.0.1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, float] = {}
    received = [0]
    try:
        assert wait_until_ready(port, 300), "the dashboard did not start"
        out["rss_idle_mb"] = rss_mb(proc.pid)
        with sync_playwright() as pw:
            marker = f"--pantau-bench={os.getpid()}-{port}"  # finds the browser process (an unknown switch is ignored)
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, marker], headless=True)
            try:
                chromium = browser_pid(marker)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.add_init_script(MARKS_JS)
                page.on(
                    "websocket",
                    lambda ws: ws.on("framereceived", lambda p: received.__setitem__(0, received[0] + len(p))),
                )
                overview = ['[data-testid="stMetric"]', OVERVIEW_MAP, LEVEL_CHART]
                camera = [DECK_CANVAS, '[data-testid="stVegaLiteChart"]']

                if gpu_trace:
                    browser.start_tracing(page=page, path=str(gpu_trace), categories=["gpu"])
                cpu0 = tree_cpu_s(chromium), tree_cpu_s(proc.pid)
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
                page.get_by_role("heading", name="Ringkasan risiko Jakarta").wait_for(timeout=120_000)
                _wait_rendered(page, overview)
                out["overview_tab_s"] = time.perf_counter() - t0
                out["tab_browser_cpu_s"] = tree_cpu_s(chromium) - cpu0[0]
                out["tab_server_cpu_s"] = tree_cpu_s(proc.pid) - cpu0[1]
                for key, ms in page.evaluate("() => window.__pantauMarks").items():
                    out[f"mark_{key}_s"] = ms / 1000
                out["overview_kb"] = received[0] / 1024
                if gpu_trace:
                    browser.stop_tracing()
                    out["gpu_busy_ms"] = gpu_busy_ms(gpu_trace)
                    browser.start_tracing(page=page, path=str(gpu_trace), categories=["gpu"])

                switch = page.locator(".st-key-city_map").get_by_text(translate("map_interactive"))
                t0 = time.perf_counter()
                switch.click()
                _wait_rendered(page, [f".st-key-city_map {DECK_CANVAS}"])
                out["overview_deck_s"] = time.perf_counter() - t0
                if gpu_trace:
                    browser.stop_tracing()
                    out["deck_gpu_busy_ms"] = gpu_busy_ms(gpu_trace)
                    return out
                switch.click()  # back to the first map
                _wait_rendered(page, overview)

                sign_in(page, SIGN_IN_AS)
                received[0] = 0
                t0 = time.perf_counter()
                page.locator('[data-testid="stSidebarNavLink"][href$="/camera"]').click()
                page.get_by_role("heading", name="Skor bahaya").wait_for(timeout=120_000)
                _wait_rendered(page, camera)
                out["camera_s"] = time.perf_counter() - t0
                out["camera_kb"] = received[0] / 1024

                t0 = time.perf_counter()
                page.locator('[data-testid="stSidebarNavLink"]').first.click()
                page.get_by_role("heading", name="Ringkasan risiko Jakarta").wait_for(timeout=120_000)
                _wait_rendered(page, overview)
                out["overview_nav_s"] = time.perf_counter() - t0
                out["rss_after_pages_mb"] = rss_mb(proc.pid)
            finally:
                browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return out


def _median(rows: list[dict[str, float]], key: str) -> str:
    vals = [r[key] for r in rows if key in r]
    return f"{statistics.median(vals):7.2f}   ({', '.join(f'{v:.2f}' for v in vals)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--cameras", type=int, default=1300)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--lake", type=Path, help="reuse (or build once into) this data folder")
    ap.add_argument("--gpu-trace", action="store_true", help="one more (traced) new tab: GPU-process busy time")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        root = args.lake or Path(tmp) / "pantau-data"
        if not (root / "lake").exists():
            t0 = time.perf_counter()
            rows = build_lake(root, args.cameras, args.days)
            print(
                f"lake: {args.cameras} cameras x {args.days} days = {rows:,} camera-hours ({time.perf_counter() - t0:.0f} s)"
            )
        add_accounts(root)
        loads = [os.getloadavg()[0]]
        server = [apptest_in_subprocess(root) for _ in range(args.runs)]
        loads.append(os.getloadavg()[0])
        browser: list[dict[str, float]] = []
        if not args.no_browser:
            for _ in range(args.runs):
                res = browser_run(root)
                if res is None:
                    break
                browser.append(res)
                loads.append(os.getloadavg()[0])
        print(f"load average (1 min) during the runs: {', '.join(f'{v:.1f}' for v in loads)} on {os.cpu_count()} CPUs")
        print(f"median of {args.runs} runs (each run's value in brackets), target <= 2 s")
        for page in PAGES:
            print(f"server-side page script     {page:<18} {_median(server, page)} s")
        if not args.no_browser and not browser:
            print("browser: skipped (no /usr/bin/chromium or playwright)")
        if browser:
            print(f"browser Overview (new tab)  first render  {_median(browser, 'overview_tab_s')} s")
            for key, label in MARK_LABELS.items():  # browser clock, from navigation start
                print(f"   {label + ' at':<39}{_median(browser, f'mark_{key}_s')} s")
            print(f"   CPU of Chromium (all its processes)  {_median(browser, 'tab_browser_cpu_s')} s")
            print(f"   CPU of the streamlit server          {_median(browser, 'tab_server_cpu_s')} s")
            print(
                f"browser Overview interactive map switch   {_median(browser, 'overview_deck_s')} s  (deck.gl, WebGL)"
            )
            print(f"browser Camera (in-app)     first render  {_median(browser, 'camera_s')} s")
            print(f"browser Overview (in-app)   first render  {_median(browser, 'overview_nav_s')} s")
            print(f"websocket payload Overview                {_median(browser, 'overview_kb')} KiB")
            print(f"websocket payload Camera                  {_median(browser, 'camera_kb')} KiB")
            print(f"streamlit RSS idle                        {_median(browser, 'rss_idle_mb')} MB")
            print(f"streamlit RSS after the page views        {_median(browser, 'rss_after_pages_mb')} MB")
        if browser and args.gpu_trace:
            traced = browser_run(root, gpu_trace=Path(tmp) / "trace.json")
            if traced:
                print(
                    f"traced (not in the medians): new tab first render {traced['overview_tab_s']:.2f} s, "
                    f"GPU process busy with WebGL {traced['gpu_busy_ms']:.0f} ms; interactive map switch "
                    f"{traced['overview_deck_s']:.2f} s, GPU process busy {traced['deck_gpu_busy_ms']:.0f} ms"
                )


if __name__ == "__main__":
    main()
