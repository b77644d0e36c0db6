"""Release metadata: licences and sources, Frictionless datapackage, data dictionary, changelog, notices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from open_data.datasets import DatasetSpec
from open_data.formats import MEDIA_TYPES
from open_data.privacy import DEFAULT_THRESHOLD, SUPPRESSED_COLUMN

PUBLISHER = "Pantau — DKI Jakarta CCTV and Jaki open data"
PUBLISHER_URL = "https://github.com/pantau-jakarta"


@dataclass(frozen=True)
class Licence:
    name: str
    title: str
    path: str
    share_alike: bool = False


CC_BY = Licence(
    "CC-BY-4.0", "Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"
)
CC_BY_SA = Licence(
    "CC-BY-SA-4.0",
    "Creative Commons Attribution-ShareAlike 4.0 International",
    "https://creativecommons.org/licenses/by-sa/4.0/",
    share_alike=True,
)


ODBL = Licence(
    "ODbL-1.0",
    "Open Data Commons Open Database License 1.0",
    "https://opendatacommons.org/licenses/odbl/1-0/",
    share_alike=True,
)
UNSTATED = Licence("other-at", "No licence stated upstream (attribution given)", "https://satudata.jakarta.go.id/")


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    path: str
    licence: Licence
    attribution: str


SOURCES: dict[str, Source] = {
    "pantau": Source(
        "pantau",
        "Pantau analytics over the DKI Jakarta public CCTV network and the Jaki app",
        PUBLISHER_URL,
        CC_BY,
        "Pantau open data (DKI Jakarta), CC BY 4.0.",
    ),
    "streetside_cctv": Source(
        "streetside_cctv",
        "Camera directory by Streetside Jakarta",
        "https://streetside.mugnimaestra.dev/",
        CC_BY,
        "Camera directory by Streetside Jakarta (https://streetside.mugnimaestra.dev/), CC BY 4.0. "
        "Underlying CCTV feeds: DKI Jakarta Provincial Government, via the Molecool API.",
    ),
    "jakarta_boundaries": Source(
        "jakarta_boundaries",
        "Jakarta municipal boundaries (BPBD DKI via PetaJakarta.org / HOT)",
        "https://petajakarta.org/",
        CC_BY_SA,
        "Jakarta's municipal boundaries: BPBD DKI Jakarta via PetaJakarta.org and the Humanitarian "
        "OpenStreetMap Team, CC BY-SA 4.0. Used to assign kelurahan codes; polygons are redistributed only "
        "in datasets licensed CC BY-SA 4.0.",
    ),
    "kemendagri_codes": Source(
        "kemendagri_codes",
        "Kemendagri administrative area codes (Kepmendagri No. 300.2.2-2L38/2025, via idn-area-data)",
        "https://github.com/fityannugroho/idn-area-data",
        ODBL,
        "Kelurahan/kecamatan/kota codes: Kepmendagri No. 300.2.2-2L38/2025 via idn-area-data, ODbL 1.0. "
        "Only codes are used; the code table itself is not redistributed.",
    ),
    "satudata_parking": Source(
        "satudata_parking",
        "Satu Data Jakarta — Data Lokasi dan Jenis Parkir (Dishub, UP Perparkiran)",
        "https://satudata.jakarta.go.id/",
        UNSTATED,
        "Parking location names and coordinates: Satu Data Jakarta (Dishub DKI Jakarta, UP Perparkiran); "
        "no licence stated upstream.",
    ),
    "jakartasatu_rptra": Source(
        "jakartasatu_rptra",
        "Jakarta Satu geoportal — RPTRA (ruang publik terpadu ramah anak), layer RPTRA_DKI_Jakarta",
        "https://jakartasatu.jakarta.go.id/server/rest/services/RPTRA_DKI_Jakarta/FeatureServer/2",
        UNSTATED,
        "Public-space locations (RPTRA): Pemerintah Provinsi DKI Jakarta, Jakarta Satu geoportal; no licence "
        "stated upstream. Used as a planning demand layer; the points are not redistributed.",
    ),
    "jaki": Source(
        "jaki",
        "Jaki citizen app (Pemerintah Provinsi DKI Jakarta), aggregated by Pantau",
        "https://jaki.jakarta.go.id/",
        CC_BY,
        "Jaki usage data: Pemerintah Provinsi DKI Jakarta, aggregated and suppressed by Pantau.",
    ),
}


def dataset_licence(spec: DatasetSpec) -> Licence:
    """CC BY 4.0, unless the dataset redistributes content of a share-alike source (then its licence)."""
    for sid in spec.embedded_sources:
        lic = SOURCES[sid].licence
        if lic.share_alike:
            return lic
    return CC_BY


def licence_json(lic: Licence) -> dict[str, str]:
    return {"name": lic.name, "title": lic.title, "path": lic.path}


def source_json(sid: str) -> dict[str, str]:
    s = SOURCES[sid]
    return {"title": s.title, "path": s.path, "license": s.licence.name, "attribution": s.attribution}


def field_description(spec: DatasetSpec, name: str) -> str:
    if name == SUPPRESSED_COLUMN:
        return f"true when the counts of this row are suppressed (under {DEFAULT_THRESHOLD} or complementary)."
    return spec.fields.get(name, name.replace("_", " ").capitalize() + ".")


def datapackage(
    *,
    version: str,
    snapshot_id: int,
    created: str,
    datasets: list[dict[str, Any]],
    specs: dict[str, DatasetSpec],
    skipped: dict[str, str],
) -> dict[str, Any]:
    """A Frictionless Data Package: one resource per dataset file; CSVs carry table schemas."""
    resources = []
    used_sources: list[str] = []
    for ds in datasets:
        spec = specs[ds["name"]]
        lic = dataset_licence(spec)
        for sid in spec.sources:
            if sid not in used_sources:
                used_sources.append(sid)
        for fmt, f in ds["files"].items():
            res: dict[str, Any] = {
                "name": f"{ds['name']}-{fmt}",
                "title": f"{spec.title} ({fmt.upper()})",
                "description": spec.description,
                "path": f["path"],
                "format": fmt,
                "mediatype": MEDIA_TYPES[fmt],
                "bytes": f["bytes"],
                "hash": f"sha256:{f['sha256']}",
                "licenses": [licence_json(lic)],
                "sources": [source_json(s) for s in spec.sources],
            }
            if f.get("parts"):  # one file per partition: a multipart resource, each part listed in SHA256SUMS
                res["path"] = list(f["parts"])
                del res["bytes"], res["hash"]
            if fmt == "csv":
                res.update(
                    {
                        "type": "table",
                        "scheme": "file",
                        "encoding": "utf-8",
                        "dialect": {"delimiter": ",", "header": True},
                        "schema": {
                            "fields": [
                                {"name": n, "type": t, "description": field_description(spec, n)}
                                for n, t in ds["schema"]
                            ],
                            "missingValues": [""],
                        },
                    }
                )
            else:
                res["type"] = "file"
                res["scheme"] = "file"
            resources.append(res)
    return {
        "name": "pantau-jakarta-open-data",
        "id": f"pantau-jakarta-open-data-{version}",
        "title": "Pantau — Jakarta CCTV risk and Jaki open data",
        "description": "Privacy-safe open data from Jakarta's public CCTV network and the Jaki citizen app: "
        "camera inventory, hourly flood/fire/crowd risk, camera uptime, alert history, Jaki usage and "
        f"service statistics, planning recommendations. Built from lake snapshot {snapshot_id}.",
        "version": version,
        "created": created,
        "homepage": PUBLISHER_URL,
        "keywords": ["jakarta", "cctv", "flood", "fire", "crowd", "jaki", "open data"],
        "licenses": [licence_json(CC_BY)],
        "sources": [source_json(s) for s in used_sources],
        "contributors": [
            {"title": PUBLISHER, "path": PUBLISHER_URL, "role": "publisher"},
            {"title": "Streetside Jakarta", "path": "https://streetside.mugnimaestra.dev/", "role": "contributor"},
            {"title": "Pemerintah Provinsi DKI Jakarta", "path": "https://jakarta.go.id/", "role": "contributor"},
        ],
        "resources": resources,
        "pantau": {"snapshot_id": snapshot_id, "skipped": skipped},
    }


def data_dictionary(
    version: str, datasets: list[dict[str, Any]], specs: dict[str, DatasetSpec], skipped: dict[str, str]
) -> str:
    out = [f"# Data dictionary — release {version}", ""]
    out.append(
        f"Suppression marker: in datasets with a `{SUPPRESSED_COLUMN}` column, counts under {DEFAULT_THRESHOLD} "
        "are left empty (NULL) and the row is flagged `suppressed = true`; further cells are suppressed "
        "so that no row or column total can reveal a suppressed value. Times are UTC (ISO 8601)."
    )
    out.append("")
    for ds in datasets:
        spec = specs[ds["name"]]
        out += [f"## {spec.name} — {spec.title}", "", spec.description, ""]
        out.append(f"Rows: {ds['rows']}. Files: " + ", ".join(f"`{f['path']}`" for f in ds["files"].values()))
        part = ds.get("partitioning")
        if part:
            grain = "UTC day" if part["grain"] == "day" else "UTC month"
            order = ", ".join(f"`{c}`" for c in part["sort"]) or "every column"
            out += [
                "",
                f"One file per {grain} of `{part['column']}` in a folder per format, named `<{part['grain']}>.<format>` "
                f"({len(ds.get('partitions', []))} partitions); rows in a file are ordered by {order}, then by "
                f"every other column. `{ds['counts']['path']}` holds the rows per partition, text column and value.",
            ]
        out += ["", "| field | type | description |", "|---|---|---|"]
        for n, t in ds["schema"]:
            out.append(f"| `{n}` | {t} | {field_description(spec, n)} |")
        out.append("")
    if skipped:
        out += ["## Not in this release", ""]
        out += [f"- `{name}`: {why}" for name, why in sorted(skipped.items())]
        out.append("")
    return "\n".join(out)


def licence_notice(version: str, datasets: list[dict[str, Any]], specs: dict[str, DatasetSpec]) -> str:
    out = [f"# Licence notices — release {version}", ""]
    out.append(
        "Pantau's own data in this release is licensed under the Creative Commons Attribution 4.0 "
        "International licence (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/). "
        'Please credit: "Pantau open data (DKI Jakarta), CC BY 4.0".'
    )
    out += ["", "## Per dataset", ""]
    for ds in datasets:
        spec = specs[ds["name"]]
        lic = dataset_licence(spec)
        extra = " (share-alike: adaptations must be shared under the same licence)" if lic.share_alike else ""
        out.append(f"- `{spec.name}`: {lic.title} ({lic.name}){extra}")
    out += ["", "## Upstream attributions (kept as required)", ""]
    seen: list[str] = []
    for ds in datasets:
        for sid in specs[ds["name"]].sources:
            if sid not in seen:
                seen.append(sid)
    for sid in seen:
        s = SOURCES[sid]
        out.append(f"- {s.title} — {s.licence.name}: {s.attribution}")
    out.append("")
    return "\n".join(out)


def changelog_markdown(version: str, previous: str | None, changes: dict[str, Any]) -> str:
    out = [f"# Changelog — release {version}", ""]
    if previous is None:
        out += ["First release.", ""]
    else:
        out += [f"Compared with release {previous}.", ""]
    out += ["| dataset | status | rows | added | removed | schema changes |", "|---|---|---|---|---|---|"]
    for name, c in sorted(changes.items()):
        schema = "; ".join(c.get("schema_changes", [])) or "-"
        out.append(
            f"| `{name}` | {c['status']} | {c.get('rows', '-')} | {c.get('rows_added', '-')} | "
            f"{c.get('rows_removed', '-')} | {schema} |"
        )
    out.append("")
    return "\n".join(out)
