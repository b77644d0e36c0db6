"""Open data: versioned, privacy-safe releases (Frictionless + DCAT-AP 3), a static portal and a
CKAN-compatible read API. Entry points: ``open_data.release.build_release``,
``open_data.publish.run_publish``, ``open_data.api.serve_api``.
"""
