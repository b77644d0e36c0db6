"""Flood context: Posko Banjir water-gate readings and BMKG CAP 1.2 weather warnings (readers, landing, context)."""
