"""Access & audit (admins): the append-only audit log and the local accounts.

The log is read-only here as everywhere: there is no Pantau function that edits or deletes a row.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from access.roles import ROLE_ORDER, AccessDenied, Permission
from dashboards import auth, data, ui
from dashboards.i18n import t


def _log(db: object) -> None:
    from access.audit import AuditChainError, query_audit, verify_audit_chain

    try:
        n = verify_audit_chain(db)  # type: ignore[arg-type]
        st.success(t("audit_chain_ok", n=n), icon=":material/verified:")
    except AuditChainError as exc:
        st.error(t("audit_chain_broken", err=str(exc)), icon=":material/gpp_bad:")
    rows = pd.DataFrame(query_audit(db, limit=5000))  # type: ignore[arg-type]
    if rows.empty:
        st.info(t("no_audit"), icon=":material/policy:")
        return
    actions = sorted(rows["action"].unique())
    picked = st.multiselect(t("filter_action"), actions, default=[], placeholder=t("all"))
    if picked:
        rows = rows[rows["action"].isin(picked)]
    rows["at"] = pd.to_datetime(rows["at"], utc=True).dt.tz_convert(data.WIB)
    st.dataframe(
        rows[
            ["seq", "at", "actor", "role", "action", "target_type", "target_id", "reason", "before", "after", "source"]
        ],
        hide_index=True,
        column_config={"at": st.column_config.DatetimeColumn("at (WIB)", format="D MMM YYYY HH:mm:ss")},
    )


def _users(db: object) -> None:
    from access.accounts import AccountError, add_user, list_users

    users = pd.DataFrame(list_users(db))  # type: ignore[arg-type]
    if not users.empty:
        st.dataframe(users[["username", "role", "active", "locked_until", "created_at"]], hide_index=True)
    with st.expander(t("add_user")), st.form("add-user", clear_on_submit=True):
        c1, c2 = st.columns(2)
        name = c1.text_input(t("username"))
        role = c2.selectbox(t("role"), [r.value for r in ROLE_ORDER[1:]], format_func=lambda r: t(f"role_{r}"))
        password = st.text_input(t("password"), type="password")
        if st.form_submit_button(t("save"), type="primary"):
            who = auth.current_principal()
            try:
                add_user(db, name, password, role, by=who, source="dashboard")  # type: ignore[arg-type]
                st.success(t("user_saved", name=name))
            except AccessDenied:
                st.warning(t("action_refused", err=t("access_denied", role=t(f"role_{who.role.value}"))))
            except AccountError as exc:
                st.warning(t("user_failed", err=str(exc)))


def render() -> None:
    ui.page_header("audit_title")
    db = auth.accounts_db()
    if db is None:
        st.warning(t("login_no_accounts"), icon=":material/database:")
        return
    st.caption(t("audit_note"))
    tab_log, tab_users = st.tabs([t("audit_log"), t("users_title")])
    with tab_log, ui.section():
        _log(db)
    with tab_users, ui.section():
        _users(db)


ui.run_page(render, needs=Permission.VIEW_AUDIT)
