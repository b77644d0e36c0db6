"""Resolve a web viewer page to the camera stream it embeds.

Jakarta's public cameras are mostly published as viewer pages, not streams:

* Flussonic-style player pages (Bali Tower, ``https://<host>:7028/<token>/embed.html`` and
  ``:8011/<token>/embed.html?proto=hls``): the page carries a player script and, depending on the version, the
  playlist URL in a ``<video>``/``<source>`` tag or a script variable; when it carries none, the server's
  convention applies (``/<token>/index.m3u8`` for the stream, ``/<token>/preview.jpg`` for a snapshot);
* directory pages (Streetside, ``https://streetside.mugnimaestra.dev/camera/<n>``): a Next.js page whose
  ``__NEXT_DATA__`` JSON names the channel's ``sourceUrl``/``embedUrl`` (often an ``embed.html`` page again), or an
  ``<iframe>`` of the player page;
* simple pages with ``<img src=".../mjpeg">`` or a snapshot ``<img>`` refreshed by script.

``stream_candidates(html, page_url)`` lists the URLs found, best first (HLS, then MJPEG, then snapshot, then
pages to follow), each with the kind its URL suggests; the prober fetches them in order and follows pages up to a
fixed depth.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

_ATTR_URL = re.compile(
    r"""<(?P<tag>video|source|img|iframe|embed)\b[^>]*?\b(?:src|data-src|data-url)\s*=\s*["'](?P<url>[^"']+)["']""",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"""["'](?P<url>(?:https?:|rtsps?:)?(?:\\?/|[A-Za-z0-9._~-]+/)[^"'\s<>]*)["']""")
_NEXT_DATA = re.compile(r"""<script[^>]+id=["']__NEXT_DATA__["'][^>]*>(?P<json>.*?)</script>""", re.DOTALL | re.I)
_SKIP = re.compile(r"(logo|icon|favicon|sprite|banner|avatar|\.css|\.js(\?|$)|\.svg|\.png|\.gif|\.woff)", re.I)

RANK = {"hls": 0, "rtsp": 1, "mjpeg": 2, "snapshot": 3, "page": 4}


@dataclass(frozen=True)
class Candidate:
    url: str
    kind: str  # hls | rtsp | mjpeg | snapshot | page
    how: str  # where it was found: tag, script, next-data, convention


def url_kind(url: str) -> str | None:
    """What a URL found in a page most likely is, or None when it is not a camera resource."""
    parts = urlsplit(url)
    path = parts.path.lower()
    if parts.scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if _SKIP.search(path):
        return None
    if path.endswith(".m3u8"):
        return "hls"
    if path.endswith((".mjpg", ".mjpeg")) or path.rstrip("/").endswith(("/mjpeg", "/mjpg", "/video.cgi")):
        return "mjpeg"
    if path.endswith((".jpg", ".jpeg")) or "snapshot" in path:
        return "snapshot"
    if path.endswith((".html", ".htm", ".php")) or "/camera/" in path or "/embed" in path:
        return "page"
    return None


def _walk_json(obj: object) -> list[str]:
    out: list[str] = []
    if isinstance(obj, dict):
        for v in obj.values():
            out += _walk_json(v)
    elif isinstance(obj, list):
        for v in obj:
            out += _walk_json(v)
    elif isinstance(obj, str) and ("/" in obj) and not obj.startswith("{"):
        out.append(obj)
    return out


def _flussonic_convention(page_url: str) -> list[Candidate]:
    parts = urlsplit(page_url)
    if not parts.path.endswith("/embed.html"):
        return []
    base = parts.path[: -len("embed.html")]
    return [
        Candidate(urlunsplit((parts.scheme, parts.netloc, base + "index.m3u8", "", "")), "hls", "convention"),
        Candidate(urlunsplit((parts.scheme, parts.netloc, base + "preview.jpg", "", "")), "snapshot", "convention"),
    ]


def stream_candidates(page: str, page_url: str) -> list[Candidate]:
    """Stream and page URLs a viewer page embeds, best first, absolute, without duplicates."""
    found: list[Candidate] = []
    for m in _ATTR_URL.finditer(page):
        url = html_lib.unescape(m.group("url"))
        kind = url_kind(urljoin(page_url, url))
        if m.group("tag").lower() in ("iframe", "embed") and kind is None:
            kind = "page"
        if m.group("tag").lower() == "img" and kind == "page":
            kind = None
        if kind:
            found.append(Candidate(urljoin(page_url, url), kind, "tag"))
    nd = _NEXT_DATA.search(page)
    if nd:
        try:
            data = json.loads(nd.group("json"))
        except json.JSONDecodeError:
            data = None
        for s in _walk_json(data):
            kind = url_kind(urljoin(page_url, s))
            if kind:
                found.append(Candidate(urljoin(page_url, s), kind, "next-data"))
    for m in _QUOTED.finditer(page):
        raw = m.group("url").replace("\\/", "/")
        kind = url_kind(urljoin(page_url, raw))
        if kind and kind != "page":
            found.append(Candidate(urljoin(page_url, raw), kind, "script"))
    found += _flussonic_convention(page_url)
    seen: set[str] = set()
    out: list[Candidate] = []
    for c in sorted(found, key=lambda c: (RANK[c.kind], c.how == "convention")):
        if c.url in seen or c.url == page_url:
            continue
        seen.add(c.url)
        out.append(c)
    return out
