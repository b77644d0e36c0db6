"""Mart refreshers: every derived table the pipeline keeps up to date, with its SQL in ``marts/sql/``.

* :mod:`marts.risk`: hourly risk per camera and per kelurahan, daily camera uptime, over ``frames``,
  ``frame_scores`` and ``camera_events`` (``refresh_risk_marts``).
* :mod:`marts.jaki`: Jaki usage, complaints, hospital beds, parking and panic marts per WIB day range
  (``refresh_marts``).

Pure code: never imports dagster or streamlit; the assets live in ``assets/marts.py`` and ``assets/jaki.py``.
"""
