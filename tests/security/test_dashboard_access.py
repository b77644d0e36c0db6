"""Dashboards as an attacker tries them (Streamlit AppTest): what each role sees, and forced actions.

Each test runs over a private copy of a data folder whose alerts were opened by the alerts package
and whose ops DB holds one account per role (``crafted.add_test_users``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crafted import TEST_PASSWORD, build_alerts_data_dir, copy_data_dir
from streamlit.testing.v1 import AppTest
from test_app import APP, assert_clean, open_page, texts

from access.accounts import deactivate_user, set_role
from access.audit import query_audit, verify_audit_chain
from access.roles import Principal, Role
from alerts.db import OpsDB, sqlite_url
from alerts.lifecycle import get_alert, transitions
from alerts.subscriptions import list_subscriptions
from dashboards.auth import LOGIN_PASSWORD, PRINCIPAL
from dashboards.i18n import translate

ADMIN = Principal("ani", Role.ADMIN)
PUBLIC_PAGES = ("views/overview.py", "views/open_data.py")
ANALYST_PAGES = (
    "views/camera.py",
    "views/kelurahan.py",
    "views/alerts.py",
    "views/jaki.py",
    "views/planning.py",
    "views/quality.py",
)
OPERATOR_PAGES = ("views/registry.py",)
ADMIN_PAGES = ("views/subscriptions.py", "views/audit.py")
TITLES = {
    "views/overview.py": "overview_title",
    "views/open_data.py": "open_data_title",
    "views/camera.py": "camera_title",
    "views/kelurahan.py": "kelurahan_title",
    "views/alerts.py": "alerts_title",
    "views/jaki.py": "jaki_title",
    "views/planning.py": "planning_title",
    "views/quality.py": "quality_title",
    "views/registry.py": "reg_title",
    "views/subscriptions.py": "subscriptions_title",
    "views/audit.py": "audit_title",
}
SEES = {
    None: PUBLIC_PAGES,
    "analyst": PUBLIC_PAGES + ANALYST_PAGES,
    "operator": PUBLIC_PAGES + ANALYST_PAGES + OPERATOR_PAGES,
    "admin": PUBLIC_PAGES + ANALYST_PAGES + OPERATOR_PAGES + ADMIN_PAGES,
}


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("sec") / "pantau-data"
    return root, build_alerts_data_dir(root)


@pytest.fixture
def data_dir(
    _template: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[str]]:
    template, ids = _template
    root = copy_data_dir(template, tmp_path / "pantau-data")
    monkeypatch.setenv("PANTAU_DATA_DIR", str(root))
    monkeypatch.delenv("PANTAU_OPS_DB_URL", raising=False)
    return root, ids


@pytest.fixture
def ops(data_dir: tuple[Path, list[str]]) -> Iterator[OpsDB]:
    db = OpsDB(sqlite_url(str(data_dir[0])), create=False)
    yield db
    db.dispose()


def widget(widgets: object, label_key: str) -> Any:
    return next(w for w in widgets if w.label == translate(label_key))  # type: ignore[attr-defined]


def button(at: AppTest, label_key: str) -> Any:
    return widget(at.button, label_key)


def title(at: AppTest) -> str:
    return at.title[0].value if at.title else ""


@pytest.mark.parametrize("user", list(SEES))
def test_each_role_is_served_exactly_its_pages(data_dir: tuple[Path, list[str]], user: str | None) -> None:
    for page, key in TITLES.items():
        at = open_page(page, user=user)
        served = title(at) == translate(key)
        assert served == (page in SEES[user]), (user, page, title(at))
        if not served:  # a link to a page the role may not open gets the public overview, nothing else
            assert title(at) == translate("overview_title")


@pytest.mark.parametrize("user", [None, "analyst", "operator"])
@pytest.mark.parametrize("page", ["views/alerts.py", "views/subscriptions.py", "views/audit.py"])
def test_a_page_script_run_on_its_own_checks_the_role_itself(
    data_dir: tuple[Path, list[str]], user: str | None, page: str
) -> None:
    """Bypassing the navigation (the page script alone) still meets the page's own server-side check."""
    at = AppTest.from_file(str(APP.parent / page), default_timeout=90)
    if user:
        at.session_state[PRINCIPAL] = (user, "local")
    at.run()
    assert_clean(at)
    allowed = page == "views/alerts.py" and user in ("analyst", "operator")
    if not allowed:
        role = translate(f"role_{user or 'public'}")
        assert [w.value for w in at.warning] == [translate("access_denied", role=role)]
        assert not at.dataframe and not at.button and not at.text_input


def _ack_and_cancel_widgets(at: AppTest) -> tuple[int, int]:
    acks = [b for b in at.button if b.label == translate("acknowledge")]
    cancels = [b for b in at.button if b.label == translate("cancel_alert")]
    return len(acks), len(cancels)


def test_an_analyst_sees_alerts_but_no_acknowledge_or_cancel(data_dir: tuple[Path, list[str]]) -> None:
    at = open_page("views/alerts.py", user="analyst")
    assert title(at) == translate("alerts_title") and at.dataframe
    assert _ack_and_cancel_widgets(at) == (0, 0)
    at = open_page("views/alerts.py", user="operator")
    assert _ack_and_cancel_widgets(at) == (1, 1)


def test_a_demoted_operator_cannot_use_the_form_still_on_screen(data_dir: tuple[Path, list[str]], ops: OpsDB) -> None:
    _, ids = data_dir
    fire = ids[1]  # preselected (Awas)
    at = open_page("views/alerts.py", user="operator")
    assert _ack_and_cancel_widgets(at) == (1, 1)
    set_role(ops, "operator", "analyst", by=ADMIN)  # an admin demotes them while the form is open
    button(at, "acknowledge").click().run()
    assert_clean(at)
    refused = translate("action_refused", err=translate("access_denied", role=translate("role_analyst")))
    assert refused in [w.value for w in at.warning]
    assert get_alert(ops, fire)["status"] == "open"
    assert [t["status"] for t in transitions(ops, fire)] == ["open"]
    assert query_audit(ops, target_type="alert") == []
    assert query_audit(ops)[0]["action"] == "user.role"
    assert _ack_and_cancel_widgets(at) == (0, 0)  # and the page no longer offers it


def test_a_deactivated_account_is_signed_out_at_once(data_dir: tuple[Path, list[str]], ops: OpsDB) -> None:
    at = open_page("views/alerts.py", user="operator")
    deactivate_user(ops, "operator", by=ADMIN)
    button(at, "cancel_alert").click().run()
    assert_clean(at)
    assert title(at) == translate("overview_title")
    assert PRINCIPAL not in at.session_state
    assert get_alert(ops, data_dir[1][1])["status"] == "open"


def test_an_operator_cancels_with_a_reason_and_it_is_audited(data_dir: tuple[Path, list[str]], ops: OpsDB) -> None:
    _, ids = data_dir
    fire = ids[1]
    at = open_page("views/alerts.py", user="operator")
    cancel = button(at, "cancel_alert")
    cancel.click().run()  # no reason
    assert_clean(at)
    assert any(translate("cancel_failed", err="").rstrip() in w.value for w in at.warning)
    assert get_alert(ops, fire)["status"] == "open"
    at.text_area(key=f"cancel-reason-{fire}").input("false alarm: welding at the market")
    button(at, "cancel_alert").click().run()
    assert_clean(at)
    assert translate("cancel_done", id=fire) in [s.value for s in at.success]
    assert get_alert(ops, fire)["status"] == "cancelled"
    row = query_audit(ops, action="alert.cancel")[0]
    assert (row["actor"], row["role"], row["source"], row["target_id"]) == ("operator", "operator", "dashboard", fire)
    assert row["reason"] == "false alarm: welding at the market"
    assert verify_audit_chain(ops) == 5  # set-up: one subscription, three accounts


def test_sign_in_form(data_dir: tuple[Path, list[str]]) -> None:
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert_clean(at)
    at.text_input(key="login_user").input("operator")
    at.text_input(key=LOGIN_PASSWORD).input("wrong password, surely")
    button(at, "login").click().run()
    assert translate("login_failed") in [w.value for w in at.warning]
    assert PRINCIPAL not in at.session_state
    at.text_input(key="login_user").input("operator")
    at.text_input(key=LOGIN_PASSWORD).input(TEST_PASSWORD)
    button(at, "login").click().run()
    assert_clean(at)
    assert at.session_state[PRINCIPAL] == ("operator", "local")
    assert at.session_state[LOGIN_PASSWORD] == ""  # the password does not stay in the session
    said = texts(at)
    assert translate("signed_in_as", name="operator", role=translate("role_operator")) in said
    button(at, "logout").click().run()
    assert PRINCIPAL not in at.session_state


def test_an_admin_adds_a_subscription_and_sees_the_audit_log(data_dir: tuple[Path, list[str]], ops: OpsDB) -> None:
    at = open_page("views/subscriptions.py", user="admin")
    before = len(list_subscriptions(ops))
    at.text_input[0].input("Posko Kampung Melayu")  # name
    target = widget(at.text_input, "target")
    target.input(str(data_dir[0] / "outbox" / "posko"))
    channel = widget(at.selectbox, "channel")
    channel.set_value("outbox")
    area = widget(at.text_input, "area_code")
    area.input("31.74.01.1001")
    button(at, "save").click().run()
    assert_clean(at)
    assert len(list_subscriptions(ops)) == before + 1
    row = query_audit(ops, action="subscription.add")[0]
    assert (row["actor"], row["role"], row["source"]) == ("admin", "admin", "dashboard")
    at = open_page("views/audit.py", user="admin")
    assert translate("audit_chain_ok", n=5) in [s.value for s in at.success]
    log = at.dataframe[0].value
    assert list(log["action"])[:1] == ["subscription.add"]
    assert "$argon2" not in log.to_csv() and TEST_PASSWORD not in log.to_csv()
