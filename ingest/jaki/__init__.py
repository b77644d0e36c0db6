"""Jaki service usage: export contracts, readers, validation with quarantine, marts, cross-signals.

Pure code (no dagster); the assets live in ``assets/jaki.py``.
"""
