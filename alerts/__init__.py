"""Urgent alerts: rules and lifecycle, subscriptions, routing, CAP 1.2 and reliable delivery.

Pure code (no dagster): ``rules`` (confirmation, hysteresis, cooldown, context gating),
``lifecycle`` (transitions + transactional outbox), ``engine`` (one sensor cycle over the lake),
``cap`` (CAP 1.2 + Atom), ``channels`` and ``outbox`` (delivery), ``export`` (lake history),
``db`` (the operational SQLite/PostgreSQL database), ``cli_ops`` and ``demo``.
"""
