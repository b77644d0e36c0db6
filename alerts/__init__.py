"""Urgent alerts: rules and lifecycle, subscriptions, routing, CAP 1.2 and reliable delivery.

Pure code (no dagster): ``rules`` (alerts follow the levels of ``analytics.levels``; camera-health confirmation),
``lifecycle`` (transitions + transactional outbox), ``engine`` (one sensor cycle over the lake), ``panic`` (Jaki
panic presses), ``escalation`` and ``ack`` (signed one-time acknowledgement links), ``http`` (public feeds and
the acknowledgement endpoint), ``agreement`` (one level everywhere), ``cap`` (CAP 1.2 + Atom), ``channels`` and
``outbox`` (delivery), ``export`` (lake history and public feeds), ``db`` (the operational SQLite/PostgreSQL
database), ``cli_ops`` and ``demo``.
"""
