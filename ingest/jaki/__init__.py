"""Jaki service usage: export contracts, readers, validation with quarantine, cross-signals
(the Jaki marts are in ``marts/jaki.py``).

Pure code (no dagster); the assets live in ``assets/jaki.py``.
"""
