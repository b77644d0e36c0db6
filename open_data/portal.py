"""Static HTML portal: a catalog page and one page per dataset (description, schema, preview,
downloads for every version). Written under ``releases/`` next to the versioned releases.
"""

from __future__ import annotations

import html
import io
import json
import logging
from typing import Any

import pyarrow.parquet as pq

from open_data.release import RELEASES_PREFIX, list_releases
from warehouse.object_store import ObjectNotFoundError, ObjectStore

log = logging.getLogger(__name__)
PREVIEW_ROWS = 20
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "table{border-collapse:collapse;font-size:.9rem;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left}th{background:#f3f3f3}code{background:#f6f6f6;padding:0 .2rem}.muted{color:#666}"
)


def _page(title: str, body: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    ).encode()


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _preview(store: ObjectStore, version: str, ds: dict[str, Any]) -> str:
    f = ds["files"].get("parquet")
    if not f:
        return ""
    try:
        path = f["parts"][0] if f.get("parts") else f["path"]  # a partitioned dataset: its first part
        table = pq.read_table(io.BytesIO(store.get_bytes(f"{RELEASES_PREFIX}/{version}/{path}")))
    except ObjectNotFoundError:
        return ""
    rows = table.slice(0, PREVIEW_ROWS).to_pylist()
    head = "".join(f"<th>{_e(c)}</th>" for c in table.column_names)
    body = "".join("<tr>" + "".join(f"<td>{_e(r[c])}</td>" for c in table.column_names) + "</tr>" for r in rows)
    return f"<h2>Preview (first {len(rows)} of {ds['rows']} rows)</h2><table><tr>{head}</tr>{body}</table>"


def _download_links(version: str, fmt: str, f: dict[str, Any]) -> str:
    muted = f'<span class="muted">({_e(f["bytes"])} B, sha256 {_e(f["sha256"][:12])}…)</span>'
    if not f.get("parts"):
        return f'<a href="../{_e(version)}/{_e(f["path"])}">{_e(fmt.upper())}</a> {muted}'
    links = " ".join(
        f'<a href="../{_e(version)}/{_e(p)}">{_e(p.rsplit("/", 1)[-1].rsplit(".", 1)[0])}</a>' for p in f["parts"]
    )
    return f"{_e(fmt.upper())}: {links} {muted}"


def build_portal(store: ObjectStore) -> list[str]:
    """(Re)write ``releases/index.html``, ``releases/datasets/<name>.html`` and ``releases/versions.json``."""
    releases = list_releases(store)
    written: list[str] = []
    latest = releases[-1] if releases else None
    by_name: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for rel in releases:
        for ds in rel.get("datasets", []):
            by_name.setdefault(ds["name"], []).append((rel, ds))
    items = []
    for name, hist in sorted(by_name.items()):
        rel, ds = hist[-1]
        items.append(
            f'<tr><td><a href="datasets/{_e(name)}.html">{_e(ds.get("title", name))}</a></td>'
            f"<td><code>{_e(name)}</code></td><td>{_e(ds['rows'])}</td><td>{_e(rel['version'])}</td></tr>"
        )
    versions = "".join(
        f'<li><a href="{_e(r["version"])}/datapackage.json">{_e(r["version"])}</a> — snapshot {_e(r["snapshot_id"])} '
        f'({_e(r["snapshot_time"])}) · <a href="{_e(r["version"])}/CHANGELOG.md">changelog</a> · '
        f'<a href="{_e(r["version"])}/SHA256SUMS">SHA256SUMS</a> · <a href="{_e(r["version"])}/catalog.ttl">DCAT</a></li>'
        for r in reversed(releases)
    )
    intro = (
        "<p>Privacy-safe open data from Jakarta's public CCTV network and the Jaki app. Licence: "
        '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a> unless stated otherwise; see each '
        "release's LICENSE.md for upstream attributions. Read API (CKAN-compatible): <code>/api/3/action/package_list</code>.</p>"
    )
    latest_txt = f"<p>Latest release: <b>{_e(latest['version'])}</b></p>" if latest else "<p>No release yet.</p>"
    index = (
        f"<h1>Pantau open data</h1>{intro}{latest_txt}<h2>Datasets</h2><table><tr><th>dataset</th><th>id</th>"
        f"<th>rows</th><th>latest version</th></tr>{''.join(items)}</table><h2>Releases</h2><ul>{versions}</ul>"
    )
    store.put_bytes(f"{RELEASES_PREFIX}/index.html", _page("Pantau open data", index), "text/html; charset=utf-8")
    written.append(f"{RELEASES_PREFIX}/index.html")
    for name, hist in by_name.items():
        rel, ds = hist[-1]
        pkg = json.loads(store.get_bytes(f"{RELEASES_PREFIX}/{rel['version']}/datapackage.json"))
        res = next((r for r in pkg["resources"] if r["name"] == f"{name}-csv"), None)
        desc = res["description"] if res else ""
        schema_rows = ""
        if res and "schema" in res:
            schema_rows = "".join(
                f"<tr><td><code>{_e(f['name'])}</code></td><td>{_e(f['type'])}</td><td>{_e(f.get('description'))}</td></tr>"
                for f in res["schema"]["fields"]
            )
        downloads = "".join(
            f"<tr><td>{_e(r['version'])}</td><td>{_e(d['rows'])}</td><td>"
            + " · ".join(_download_links(r["version"], fmt, f) for fmt, f in d["files"].items())
            + "</td></tr>"
            for r, d in reversed(hist)
        )
        lic = res["licenses"][0]["title"] if res else "CC BY 4.0"
        srcs = "".join(f"<li>{_e(s['attribution'])}</li>" for s in (res or {}).get("sources", []))
        body = (
            f'<p><a href="../index.html">← all datasets</a></p><h1>{_e(ds.get("title", name))}</h1><p>{_e(desc)}</p>'
            f"<p>Licence: {_e(lic)}</p><ul>{srcs}</ul>"
            f"<h2>Schema</h2><table><tr><th>field</th><th>type</th><th>description</th></tr>{schema_rows}</table>"
            f"{_preview(store, rel['version'], ds)}"
            f"<h2>Downloads (every version)</h2><table><tr><th>version</th><th>rows</th><th>files</th></tr>{downloads}</table>"
        )
        key = f"{RELEASES_PREFIX}/datasets/{name}.html"
        store.put_bytes(key, _page(ds.get("title", name), body), "text/html; charset=utf-8")
        written.append(key)
    listing = [
        {"version": r["version"], "snapshot_id": r["snapshot_id"], "snapshot_time": r["snapshot_time"]}
        for r in releases
    ]
    store.put_bytes(
        f"{RELEASES_PREFIX}/versions.json", (json.dumps(listing, indent=2) + "\n").encode(), "application/json"
    )
    written.append(f"{RELEASES_PREFIX}/versions.json")
    return written
