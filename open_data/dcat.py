"""DCAT-AP 3.0 catalog of a release (Turtle via rdflib) and its SHACL validation (pyshacl).

Every node has an IRI (no blank nodes) so the serialisation is byte-stable for one release.
The DCAT-AP 3.0.0 shapes ship in ``open_data/schemas/`` (see SOURCES.md there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, XSD

from open_data.datasets import DatasetSpec
from open_data.metadata import PUBLISHER, PUBLISHER_URL, SOURCES, dataset_licence

SHAPES_PATH = Path(__file__).parent / "schemas" / "dcat-ap-3.0.0-SHACL.ttl"
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCAT3 = Namespace("http://www.w3.org/ns/dcat#")  # terms added in DCAT 3 (rdflib's DCAT is closed)
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_FREQ = "http://publications.europa.eu/resource/authority/frequency/"
IANA = "http://www.iana.org/assignments/media-types/"
FILE_TYPES = {"csv": "CSV", "parquet": "PARQUET", "geojson": "GEOJSON"}
MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "geojson": "application/geo+json"}


def _lit(text: str) -> Literal:
    return Literal(text, lang="en")


def catalog_graph(
    *,
    base_url: str,
    version: str,
    issued: str,
    datasets: list[dict[str, Any]],
    specs: dict[str, DatasetSpec],
) -> Graph:
    """The release as a dcat:Catalog; ``base_url`` is where ``releases/`` is served."""
    base = base_url.rstrip("/") + "/"
    rel = f"{base}releases/{version}/"
    g = Graph()
    g.bind("dcat", DCAT)
    g.bind("dct", DCTERMS)
    g.bind("foaf", FOAF)
    g.bind("spdx", SPDX)
    when = Literal(issued, datatype=XSD.dateTime)

    publisher = URIRef(PUBLISHER_URL)
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, _lit(PUBLISHER)))

    cat = URIRef(rel + "catalog")
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCTERMS.title, _lit(f"Pantau open data, release {version}")))
    g.add(
        (cat, DCTERMS.description, _lit("Privacy-safe open data from Jakarta's public CCTV network and the Jaki app."))
    )
    g.add((cat, DCTERMS.publisher, publisher))
    g.add((cat, DCTERMS.issued, when))
    g.add((cat, DCTERMS.modified, when))
    g.add((cat, FOAF.homepage, URIRef(base + "releases/index.html")))
    g.add((URIRef(base + "releases/index.html"), RDF.type, FOAF.Document))

    for ds in datasets:
        spec = specs[ds["name"]]
        lic = dataset_licence(spec)
        lic_ref = URIRef(lic.path)
        g.add((lic_ref, RDF.type, DCTERMS.LicenseDocument))
        d = URIRef(rel + "dataset/" + spec.name)
        g.add((cat, DCAT.dataset, d))
        g.add((d, RDF.type, DCAT.Dataset))
        g.add((d, DCTERMS.title, _lit(spec.title)))
        g.add((d, DCTERMS.description, _lit(spec.description)))
        g.add((d, DCTERMS.identifier, Literal(f"pantau:{spec.name}:{version}")))
        g.add((d, DCTERMS.publisher, publisher))
        g.add((d, DCTERMS.issued, when))
        g.add((d, DCTERMS.modified, when))
        g.add((d, DCAT3.version, Literal(version)))
        freq = URIRef(EU_FREQ + spec.frequency)
        g.add((freq, RDF.type, DCTERMS.Frequency))
        g.add((d, DCTERMS.accrualPeriodicity, freq))
        for kw in spec.keywords:
            g.add((d, DCAT.keyword, _lit(kw)))
        for sid in spec.sources:
            src = URIRef(SOURCES[sid].path)
            g.add((d, DCTERMS.source, src))
            g.add((src, RDF.type, DCAT.Dataset))
            g.add((src, DCTERMS.title, _lit(SOURCES[sid].title)))
            g.add((src, DCTERMS.description, _lit(SOURCES[sid].attribution)))
        for fmt, f in ds["files"].items():
            url = URIRef(rel + f["path"])
            dist = URIRef(rel + "distribution/" + spec.name + "." + fmt)
            g.add((d, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, _lit(f"{spec.title} ({fmt.upper()})")))
            g.add((url, RDF.type, RDFS.Resource))
            g.add((dist, DCAT.accessURL, url))
            parts = f.get("parts") or []  # a partitioned dataset: one download URL per part
            for part in parts or [f["path"]]:
                part_url = URIRef(rel + part)
                g.add((part_url, RDF.type, RDFS.Resource))
                g.add((dist, DCAT.downloadURL, part_url))
            ft = URIRef(EU_FILE_TYPE + FILE_TYPES[fmt])
            g.add((ft, RDF.type, DCTERMS.MediaTypeOrExtent))
            g.add((dist, DCTERMS.format, ft))
            mt = URIRef(IANA + MEDIA[fmt])
            g.add((mt, RDF.type, DCTERMS.MediaType))
            g.add((dist, DCAT.mediaType, mt))
            g.add((dist, DCAT.byteSize, Literal(f["bytes"], datatype=XSD.nonNegativeInteger)))
            g.add((dist, DCTERMS.license, lic_ref))
            g.add((dist, DCTERMS.issued, when))
            if parts:  # each part's checksum is in SHA256SUMS
                continue
            ck = URIRef(str(dist) + "#sha256")
            g.add((dist, SPDX.checksum, ck))
            g.add((ck, RDF.type, SPDX.Checksum))
            g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
            g.add((ck, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
            g.add((ck, SPDX.checksumValue, Literal(f["sha256"], datatype=XSD.hexBinary)))
    return g


def catalog_turtle(**kwargs: Any) -> bytes:
    data = catalog_graph(**kwargs).serialize(format="turtle")
    return data.encode() if isinstance(data, str) else bytes(data)


def validate_catalog(turtle: bytes | str) -> tuple[bool, str]:
    """pyshacl against the DCAT-AP 3.0.0 shapes: (conforms, report text)."""
    from pyshacl import validate

    data = Graph().parse(data=turtle, format="turtle")
    shapes = Graph().parse(SHAPES_PATH, format="turtle")
    conforms, _graph, text = validate(data, shacl_graph=shapes, inference="none", advanced=False)
    return bool(conforms), str(text)
