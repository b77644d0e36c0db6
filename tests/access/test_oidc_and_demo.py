"""OIDC roles from claims, the secrets file Streamlit's st.login reads, and the demo's accounts."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from access.accounts import authenticate
from access.oidc import principal_from_claims, streamlit_auth_toml
from access.roles import Principal, Role
from alerts.db import OpsDB
from orchestration.settings import load_settings

ROLES = {"pantau-admin": "admin", "posko-operators": "operator", "bappeda": "analyst"}


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (
            {"email": "ani@jakarta.go.id", "groups": ["pantau-admin"]},
            Principal("ani@jakarta.go.id", Role.ADMIN, "oidc"),
        ),
        ({"email": "b@x", "groups": ["bappeda", "posko-operators"]}, Principal("b@x", Role.OPERATOR, "oidc")),
        ({"email": "c@x", "groups": "bappeda"}, Principal("c@x", Role.ANALYST, "oidc")),
        ({"email": "d@x", "groups": ["admin", "Pantau-Admin"]}, Principal("d@x", Role.PUBLIC, "oidc")),  # exact only
        ({"email": "e@x"}, Principal("e@x", Role.PUBLIC, "oidc")),  # signed in, granted nothing
        ({"sub": "123", "groups": {"pantau-admin": 1}}, Principal("123", Role.PUBLIC, "oidc")),  # odd claim shape
        ({"is_logged_in": False}, Principal("anonymous", Role.PUBLIC, "anonymous")),
    ],
)
def test_roles_from_oidc_claims(claims: dict[str, object], expected: Principal) -> None:
    assert principal_from_claims(claims, "groups", ROLES) == expected


def test_auth_secrets_file(tmp_path: Path) -> None:
    from dashboards.launch import streamlit_command, write_auth_secrets

    off = load_settings(data_dir=tmp_path)
    assert write_auth_secrets(off, tmp_path / ".dashboards") is None  # no provider: local accounts
    on = load_settings(
        data_dir=tmp_path,
        oidc_server_metadata_url="https://sso.jakarta.go.id/.well-known/openid-configuration",
        oidc_client_id="pantau",
        oidc_client_secret="client-secret-value",
        oidc_redirect_uri="https://pantau.jakarta.go.id/oauth2callback",
        oidc_cookie_secret="c" * 40,
        oidc_roles=ROLES,
    )
    path = write_auth_secrets(on, tmp_path / ".dashboards")
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    conf = tomllib.loads(path.read_text())
    assert conf["auth"]["client_id"] == "pantau" and conf["auth"]["redirect_uri"].endswith("/oauth2callback")
    assert conf["pantau_oidc"] == {"role_claim": "groups", "roles": ROLES}
    assert "--secrets.files" in streamlit_command(secrets_file=path)
    with pytest.raises(ValueError, match="cookie secret"):
        streamlit_auth_toml(
            server_metadata_url="https://x", client_id="a", client_secret="b", redirect_uri="https://y",
            cookie_secret="short", role_claim="groups", role_map={},
        )  # fmt: skip
    with pytest.raises(ValueError, match="unknown roles"):
        streamlit_auth_toml(
            server_metadata_url="https://x", client_id="a", client_secret="b", redirect_uri="https://y",
            cookie_secret="c" * 40, role_claim="groups", role_map={"g": "root"},
        )  # fmt: skip


def test_the_demo_creates_one_account_per_role_with_random_passwords(tmp_path: Path) -> None:
    from orchestration.demo import demo_accounts

    settings = load_settings(data_dir=tmp_path)
    first = demo_accounts(settings)
    assert set(first) == {"admin", "operator", "analyst"} and len(set(first.values())) == 3
    ops = OpsDB(settings.resolved_ops_db_url())
    try:
        for name, password in first.items():
            assert authenticate(ops, name, password) == Principal(name, Role(name), "local")
    finally:
        ops.dispose()
    again = demo_accounts(settings)
    assert all(v.startswith("(unchanged") for v in again.values())  # existing passwords are not reset
