"""Synthetic sources with ground truth: Jakarta street cameras (``scene``), loopback stream servers
(``servers``), demo scenarios on real camera sites (``scenario``), and synthetic Jaki activity (``jaki*``)."""
