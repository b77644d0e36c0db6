"""Camera registry management: add, import, edit, retire, plan -> planned -> installed, versioned history.

* ``changes``: the one pure function every registry change goes through (who, when, what changed).
* ``validate``: per-row validation of new or edited cameras (Jakarta bounds, derived kelurahan/kecamatan/kota,
  stream URL scheme, duplicate ids and positions), with reasons.
* ``sources``: camera rows from CSV, GeoJSON and YAML files.
* ``secrets``: stream credentials as references (``env:NAME`` or ``file:KEY``), never as values in the lake.
* ``store``: the lake side (``cameras`` = current state, ``camera_versions`` = history, ``camera_registry_changes``
  = change log, ``camera_import_rejects``) and the history queries ("which cameras were live on date D").
"""
