"""Public alert endpoints, mounted into the portal/API app (``open_data.api.create_app(extra_routes=...)``).

* ``GET /alerts/feed.atom`` — the Atom feed of active alerts;
* ``GET /alerts/{alert_id}.cap.xml`` — the latest CAP 1.2 message of an alert (stable URL per alert);
* ``GET /alerts/active.geojson`` and ``GET /alerts/map`` — active alerts by kelurahan as GeoJSON and a map page
  drawn from it (levels, hazards and places only: no imagery, no camera stream);
* ``POST /alerts/{alert_id}/ack?token=...`` — a recipient acknowledges through the signed link of its delivery
  (:func:`alerts.ack.acknowledge_with_token`); refusals answer with a clear error and change nothing.

Feeds, CAP files and the GeoJSON are read from the object store (``public/alerts/...``, written by
:func:`alerts.export.publish_cap_and_feed`), so the same code serves a folder or S3/MinIO.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from alerts.ack import AckRefusedError, acknowledge_with_token
from alerts.db import OpsDB
from alerts.export import ACTIVE_KEY, LATEST_CAP_KEY
from warehouse.object_store import ObjectNotFoundError, ObjectStore

log = logging.getLogger(__name__)

FEED_KEY = "public/alerts/feed.atom"
_ALERT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REFUSAL_STATUS = {"tampered": 403, "expired": 410, "replayed": 409, "closed": 409, "unknown_alert": 404}

MAP_PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Pantau - peringatan aktif / active alerts</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1rem;color:#1f2933}svg{width:100%;max-width:900px;height:auto;
border:1px solid #cbd2d9;background:#f5f7fa}table{border-collapse:collapse;margin-top:1rem}td,th{padding:.25rem .6rem;
border-bottom:1px solid #e4e7eb;text-align:left}.Awas{fill:#dc2626;color:#dc2626}.Siaga{fill:#f97316;color:#f97316}
.Waspada{fill:#facc15;color:#a16207}.Normal{fill:#2ea043;color:#2ea043}
</style></head><body>
<h1>Peringatan aktif per kelurahan / Active alerts by kelurahan</h1>
<p>Tingkat: Waspada &lt; Siaga &lt; Awas. Sumber: <a href="/alerts/feed.atom">Atom</a>,
<a href="/alerts/active.geojson">GeoJSON</a>; tiap peringatan dalam CAP 1.2.</p>
<svg id="map" viewBox="0 0 900 600" role="img" aria-label="peta peringatan aktif"></svg>
<table id="list"><thead><tr><th>Kelurahan</th><th>Bahaya / hazard</th><th>Tingkat / level</th>
<th>Sejak / since (UTC)</th><th>CAP</th></tr></thead><tbody></tbody></table>
<script>
fetch('/alerts/active.geojson').then(r => r.json()).then(fc => {
  const svg = document.getElementById('map'), body = document.querySelector('#list tbody');
  const pts = [];
  fc.features.forEach(f => { const g = f.geometry; if (!g) return;
    const rings = g.type === 'Polygon' ? [g.coordinates[0]] : g.type === 'MultiPolygon' ? g.coordinates.map(p => p[0])
      : [[g.coordinates]]; rings.forEach(r => r.forEach(c => pts.push(c))); });
  const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const s = 560 / Math.max(x1 - x0, y1 - y0, 1e-3);
  const px = c => [20 + (c[0] - x0) * s, 580 - (c[1] - y0) * s];
  const NS = 'http://www.w3.org/2000/svg';
  fc.features.forEach(f => { const p = f.properties, g = f.geometry; if (!g) return;
    const title = document.createElementNS(NS, 'title');
    title.textContent = p.kelurahan + ': ' + p.level + ' (' + p.hazard + ')';
    let el;
    if (g.type === 'Point') { el = document.createElementNS(NS, 'circle'); const q = px(g.coordinates);
      el.setAttribute('cx', q[0]); el.setAttribute('cy', q[1]); el.setAttribute('r', 8); }
    else { el = document.createElementNS(NS, 'path'); const polys = g.type === 'Polygon' ? [g.coordinates]
      : g.coordinates; el.setAttribute('d', polys.map(poly => poly.map(r => 'M' + r.map(c => px(c).join(','))
      .join('L') + 'Z').join('')).join('')); el.setAttribute('fill-opacity', '0.6'); el.setAttribute('stroke', '#333'); }
    el.setAttribute('class', p.level); el.appendChild(title); svg.appendChild(el);
    const tr = document.createElement('tr');
    [p.kelurahan, p.hazard, p.level, p.since].forEach(v => { const td = document.createElement('td');
      td.textContent = v; tr.appendChild(td); });
    const td = document.createElement('td'), a = document.createElement('a'); a.href = p.cap; a.textContent = 'CAP';
    td.appendChild(a); tr.appendChild(td); tr.querySelector('td:nth-child(3)').className = p.level;
    body.appendChild(tr); });
});
</script></body></html>
"""


def alert_routes(
    store: ObjectStore, *, ops: Callable[[], OpsDB] | OpsDB | None = None, ack_secret: str | None = None
) -> list[Route]:
    """The public alert routes over ``store``; acknowledgement needs the ops DB and the link secret."""

    def _stored(key: str, media_type: str) -> Response:
        try:
            data = store.get_bytes(key)
        except (ObjectNotFoundError, FileNotFoundError, KeyError):
            return PlainTextResponse("Not Found", status_code=404)
        return Response(data, media_type=media_type, headers={"Cache-Control": "public, max-age=30"})

    async def feed(request: Request) -> Response:
        return await run_in_threadpool(_stored, FEED_KEY, "application/atom+xml")

    async def active(request: Request) -> Response:
        return await run_in_threadpool(_stored, ACTIVE_KEY, "application/geo+json")

    async def cap(request: Request) -> Response:
        alert_id = request.path_params["alert_id"]
        if not _ALERT_ID.match(alert_id):
            return PlainTextResponse("Not Found", status_code=404)
        return await run_in_threadpool(_stored, LATEST_CAP_KEY.format(alert_id=alert_id), "application/cap+xml")

    async def alert_map(request: Request) -> Response:
        return HTMLResponse(MAP_PAGE)

    async def ack(request: Request) -> Response:
        alert_id = request.path_params["alert_id"]
        token = request.query_params.get("token", "")
        if ops is None or not ack_secret:
            return JSONResponse(
                {"acknowledged": False, "error": "unavailable", "message": "acknowledgement is not configured"},
                status_code=503,
            )
        if not _ALERT_ID.match(alert_id) or not token:
            return JSONResponse(
                {"acknowledged": False, "error": "tampered", "message": "missing or malformed alert id or token"},
                status_code=400,
            )
        db = ops() if callable(ops) else ops
        try:
            res = await run_in_threadpool(acknowledge_with_token, db, alert_id, token, ack_secret)
        except AckRefusedError as exc:
            log.info("acknowledgement of %s refused: %s", alert_id, exc.reason)
            return JSONResponse(
                {"acknowledged": False, "error": exc.reason, "message": exc.message},
                status_code=REFUSAL_STATUS.get(exc.reason, 400),
            )
        return JSONResponse(
            {"acknowledged": True, "alert_id": alert_id, "version": res.version, "by": res.by, "at": res.at.isoformat()}
        )

    return [
        Route("/alerts/feed.atom", feed, methods=["GET", "HEAD"]),
        Route("/alerts/active.geojson", active, methods=["GET", "HEAD"]),
        Route("/alerts/map", alert_map, methods=["GET"]),
        Route("/alerts/{alert_id}.cap.xml", cap, methods=["GET", "HEAD"]),
        Route("/alerts/{alert_id}/ack", ack, methods=["POST"]),
    ]
