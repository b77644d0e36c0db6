"""Open data: release catalog with metadata, licence, checksums and downloads."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from access.roles import Permission
from dashboards import data, ui
from dashboards.i18n import t

MAX_INLINE_BYTES = 200 * 1024 * 1024


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n //= 1024
    return f"{n} TB"


def _file_bytes(key: str) -> bytes:
    """Read on click only (deferred download), not on every page run."""
    return data.read_object(key) or b""


def render() -> None:
    ui.page_header("open_data_title")
    releases = data.releases()
    if not releases:
        st.info(t("no_releases"), icon=":material/inventory_2:")
        return
    versions = [r.version for r in releases]
    version = st.selectbox(t("choose_release"), versions)
    rel = next(r for r in releases if r.version == version)
    dp = rel.datapackage
    st.subheader(str(dp.get("title") or dp.get("name") or f"{t('release')} {version}"))
    if dp.get("description"):
        st.markdown(str(dp["description"]))
    licences = ", ".join(
        str(lic.get("name") or lic.get("title")) for lic in dp.get("licenses", []) if isinstance(lic, dict)
    )
    m1, m2, m3, m4 = st.columns(4, border=True)
    m1.metric(t("release"), version)
    m2.metric(t("license"), licences or "CC-BY-4.0")
    m3.metric(t("resources"), str(len(dp.get("resources", [])) or len(rel.files)))
    m4.metric(t("created"), pd.Timestamp(dp["created"]).strftime("%d %b %Y") if dp.get("created") else "—")
    resources = {str(r.get("path")): r for r in dp.get("resources", []) if isinstance(r, dict)}
    st.subheader(t("resources"))
    for f in rel.files:
        res = resources.get(f.name, {})
        with st.container(border=True):
            c1, c2 = st.columns([4, 1])
            desc = res.get("description") or res.get("title") or ""
            checksum = res.get("hash") or ""
            c1.markdown(
                f"**{f.name}** · {_size(f.size)}"
                + (f"  \n{desc}" if desc else "")
                + (f"  \n`{checksum}`" if checksum else "")
            )
            if f.size > MAX_INLINE_BYTES:
                c2.caption(t("too_large", name=f.name, size=_size(f.size)))
            else:
                c2.download_button(
                    t("download"),
                    data=functools.partial(_file_bytes, f.key),
                    file_name=f.name.rsplit("/", 1)[-1],
                    key=f"dl-{version}-{f.name}",
                    icon=":material/download:",
                    on_click="ignore",
                )


ui.run_page(render, needs=Permission.VIEW_PUBLIC)
