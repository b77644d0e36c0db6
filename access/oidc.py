"""Roles for identities from an OpenID Connect provider (Streamlit's ``st.login``).

The provider says who someone is; a claim (``groups`` or ``roles`` by default) says what they may
do, through an explicit map from claim values to Pantau roles. Anyone the map does not name is
``public``: signing in with the provider grants nothing by itself. Used by ``dashboards/auth.py``;
the launcher writes the ``[auth]`` section Streamlit reads (:func:`streamlit_auth_toml`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from access.roles import ROLE_ORDER, Principal, Role


def principal_from_claims(claims: Mapping[str, Any], role_claim: str, role_map: Mapping[str, str]) -> Principal:
    """The highest role any of the user's claim values maps to (``public`` when none does)."""
    name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "").strip()
    if not name or not claims.get("is_logged_in", True):
        return Principal("anonymous", Role.PUBLIC, "anonymous")
    raw = claims.get(role_claim, [])
    values = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else []
    roles = [Role.parse(role_map[v]) for v in values if isinstance(v, str) and v in role_map]
    role = max(roles, key=ROLE_ORDER.index, default=Role.PUBLIC)
    return Principal(name[:200], role, "oidc")


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def streamlit_auth_toml(
    *,
    server_metadata_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    cookie_secret: str,
    role_claim: str,
    role_map: Mapping[str, str],
) -> str:
    """The secrets.toml Streamlit's ``st.login`` reads, plus the role map under ``[pantau_oidc]``."""
    for key, value in (("redirect_uri", redirect_uri), ("server_metadata_url", server_metadata_url)):
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f"OIDC {key} must be https (or loopback for tests): {value!r}")
    if len(cookie_secret) < 32:
        raise ValueError("the OIDC cookie secret needs at least 32 characters")
    bad = {k: v for k, v in role_map.items() if Role.parse(v).value != str(v).strip().lower()}
    if bad:
        raise ValueError(f"unknown roles in the OIDC role map: {bad}")
    lines = [
        "[auth]",
        f"redirect_uri = {_toml_str(redirect_uri)}",
        f"cookie_secret = {_toml_str(cookie_secret)}",
        f"client_id = {_toml_str(client_id)}",
        f"client_secret = {_toml_str(client_secret)}",
        f"server_metadata_url = {_toml_str(server_metadata_url)}",
        'client_kwargs = { scope = "openid profile email" }',
        "",
        "[pantau_oidc]",
        f"role_claim = {_toml_str(role_claim)}",
        "[pantau_oidc.roles]",
        *(f"{_toml_str(k)} = {_toml_str(Role.parse(v).value)}" for k, v in sorted(role_map.items())),
        "",
    ]
    return "\n".join(lines)
