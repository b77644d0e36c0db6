"""Who is using the dashboards and what they may see and do.

Sign-in: Streamlit's OIDC login (``st.login``) when the launcher configured a provider
(``[auth]`` in the secrets file, see ``dashboards/launch.py``), otherwise the local accounts in
the operational DB (``pantau users add``; argon2id hashes, throttled per account and client address,
see ``access/accounts.py``). Without
signing in a session is ``public``: the risk map and open data only.

The navigation lists only the pages the role may open, and every page and every action checks
again on the server (:func:`guard`, and the alerts/subscriptions functions check the principal
they are given), so a hidden page or action that is forced anyway is refused. A local sign-in
lasts for the browser session (a reload signs out); each script run re-reads the account, so a
role change or a deactivation applies at once.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import streamlit as st

from access.roles import ANONYMOUS, Permission, Principal, Role, allowed
from dashboards import data
from dashboards.i18n import t

log = logging.getLogger(__name__)

PRINCIPAL = "pantau_principal"  # session state: (name, source) of the signed-in user; never set by a widget
LOGIN_USER, LOGIN_PASSWORD, LOGIN_OUTCOME = "login_user", "login_password", "login_outcome"


def _oidc() -> dict[str, Any] | None:
    """The ``[pantau_oidc]`` role settings when an OIDC provider is configured, else None."""
    try:
        if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
            return None
        conf = st.secrets.get("pantau_oidc", {})
        return {"role_claim": str(conf.get("role_claim", "groups")), "roles": dict(conf.get("roles", {}))}
    except Exception as exc:  # a broken secrets file: no OIDC, say so in the log
        log.warning("OIDC settings unreadable: %s", exc)
        return None


def oidc_enabled() -> bool:
    return _oidc() is not None


def accounts_db() -> Any | None:
    """The operational DB holding the local accounts (with the access tables), or None."""
    ops = data.ops_db()
    if ops is None:
        return None
    from access.audit import ensure_audit_schema

    ensure_audit_schema(ops.engine)  # an ops DB from before accounts existed
    return ops


def current_principal() -> Principal:
    """The principal of this session, checked against the account store or the OIDC identity now."""
    conf = _oidc()
    if conf is not None:
        from access.oidc import principal_from_claims

        user = st.user
        if not user.is_logged_in:
            return ANONYMOUS
        return principal_from_claims(user.to_dict(), conf["role_claim"], conf["roles"])
    held = st.session_state.get(PRINCIPAL)
    if not held:
        return ANONYMOUS
    db = accounts_db()
    if db is None:
        return ANONYMOUS
    from access.accounts import current

    now = current(db, Principal(held[0], Role.PUBLIC, held[1]))
    if now is None:  # deactivated or removed meanwhile
        st.session_state.pop(PRINCIPAL, None)
        return ANONYMOUS
    return now


def may(permission: Permission) -> bool:
    return allowed(current_principal().role, permission)


def guard(permission: Permission) -> bool:
    """True when this session may use the page; otherwise say so (no data is read) and return False."""
    who = current_principal()
    if allowed(who.role, permission):
        return True
    log.warning("refused %s (%s) a page that needs %s", who.name, who.role, permission.value)
    st.warning(t("access_denied", role=t(f"role_{who.role.value}")), icon=":material/lock:")
    return False


def _login() -> None:
    user = str(st.session_state.get(LOGIN_USER) or "")
    password = str(st.session_state.get(LOGIN_PASSWORD) or "")
    st.session_state[LOGIN_PASSWORD] = ""  # the password never stays in the session
    db = accounts_db()
    if db is None:
        st.session_state[LOGIN_OUTCOME] = t("login_no_accounts")
        return
    from access.accounts import sign_in

    outcome = sign_in(db, user, password, client=client_address())
    who = outcome.principal
    if who is None:
        if outcome.locked:
            minutes = max(1, math.ceil(outcome.locked_for.total_seconds() / 60))
            st.session_state[LOGIN_OUTCOME] = t("login_locked", minutes=minutes)
        else:
            st.session_state[LOGIN_OUTCOME] = t("login_failed")
        return
    st.session_state[PRINCIPAL] = (who.name, who.source)
    st.session_state.pop(LOGIN_OUTCOME, None)
    log.info("dashboard sign-in: %s (%s)", who.name, who.role)


def client_address() -> str:
    """The address of this session's browser as the server saw it (``loopback`` on the same machine)."""
    try:
        return str(st.context.ip_address or "loopback")
    except Exception:  # no script run context (a bare script call)
        return "unknown"


def _logout() -> None:
    st.session_state.pop(PRINCIPAL, None)


def sidebar(who: Principal) -> None:
    """Sign-in form or the signed-in user with a sign-out button."""
    if who.signed_in:
        st.caption(t("signed_in_as", name=who.name, role=t(f"role_{who.role.value}")))
        if who.source == "oidc":
            st.button(t("logout"), on_click=st.logout, key="logout")
        else:
            st.button(t("logout"), on_click=_logout, key="logout")
        return
    st.caption(t("signed_out", role=t("role_public")))
    if oidc_enabled():
        st.button(t("login"), on_click=st.login, type="primary", key="login_oidc")
        return
    with st.expander(t("login"), icon=":material/login:"), st.form("login", clear_on_submit=True):
        st.text_input(t("username"), key=LOGIN_USER, autocomplete="username")
        st.text_input(t("password"), type="password", key=LOGIN_PASSWORD, autocomplete="current-password")
        st.form_submit_button(t("login"), type="primary", on_click=_login)
    msg = st.session_state.pop(LOGIN_OUTCOME, None)
    if msg:
        st.warning(msg, icon=":material/lock:")
