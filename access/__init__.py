"""Who may do what: roles and permissions, the local account store and the append-only audit log.

Pure code (no Streamlit, no Dagster): the dashboards, the CLI, the alerts package and the camera
registry call it; the tables live in the operational DB next to the alerts they protect.
"""
