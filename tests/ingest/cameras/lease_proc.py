"""A lease-holding worker process for test_leases.py: heartbeats and logs its ownership intervals.

Usage: python lease_proc.py DSN WORKER_ID LOG_PATH TTL_S HEARTBEAT_S SAFETY_S
Each heartbeat appends one JSON line {"w", "at", "until", "owned"}; a released set is logged as
{"w", "at", "released"}. SIGTERM: release everything and exit 0 (SIGKILL leaves the leases to expire).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time

from ingest.cameras.leases import LeaseConfig, LeaseManager


def main() -> None:
    dsn, wid, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
    ttl, hb, safety = (float(x) for x in sys.argv[4:7])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    mgr = LeaseManager(LeaseConfig(dsn=dsn, ttl_s=ttl, heartbeat_s=hb, safety_s=safety), wid)
    with open(log_path, "a", buffering=1) as log:
        while not stop.is_set():
            mono0 = time.monotonic()
            state = mgr.heartbeat()
            extra = mgr.surplus(state)
            if extra:
                mgr.release(extra)  # release first, log the end of ownership at the release start
                log.write(
                    json.dumps({"w": wid, "at": time.time() - (time.monotonic() - mono0), "released": extra}) + "\n"
                )
            owned = sorted(mgr.owned())
            wall, mono = time.time(), time.monotonic()
            until = wall + (min(mgr._deadline.values()) - mono) if mgr._deadline else wall
            log.write(json.dumps({"w": wid, "at": wall, "until": until, "owned": owned}) + "\n")
            stop.wait(hb)
        mgr.release_all()
        log.write(json.dumps({"w": wid, "at": time.time(), "released": "all"}) + "\n")


if __name__ == "__main__":
    main()
