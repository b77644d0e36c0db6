"""Every acknowledgement, cancellation and subscription change leaves one audit row; refused ones none."""

from __future__ import annotations

import json

import pytest
from alerts_testkit import open_alert

from access.audit import query_audit, verify_audit_chain
from access.roles import AccessDenied, Principal, Role
from alerts.db import OpsDB
from alerts.lifecycle import AlertLifecycle, get_alert, transitions
from alerts.subscriptions import SubscriptionSpec, add_subscription, list_subscriptions, remove_subscription

OPERATOR = Principal("budi", Role.OPERATOR)
ANALYST = Principal("sari", Role.ANALYST)
ADMIN = Principal("ani", Role.ADMIN)
SPEC = SubscriptionSpec(name="Gulkarmat", kind="agency", hazard="fire", channel="outbox", target="x")
HOOK = SubscriptionSpec(
    name="Posko",
    kind="agency",
    hazard="fire",
    channel="webhook",
    target="https://93.184.215.14/hook",
    secret="s3cret-key",
)


def test_operator_acknowledges_and_cancels_audited(ops: OpsDB) -> None:
    tr = open_alert(ops)
    lc = AlertLifecycle(ops)
    lc.acknowledge(tr.alert_id, "Budi Santoso", "unit 12", by=OPERATOR, source="dashboard")
    lc.cancel(tr.alert_id, "false alarm: welding work", by=OPERATOR, source="dashboard")
    rows = query_audit(ops, target_id=tr.alert_id)
    assert [(r["action"], r["actor"], r["role"], r["source"]) for r in rows] == [
        ("alert.cancel", "budi", "operator", "dashboard"),
        ("alert.acknowledge", "budi", "operator", "dashboard"),
    ]
    ack, can = rows[1], rows[0]
    assert json.loads(ack["before"])["status"] == "open"
    assert json.loads(ack["after"]) == {
        "status": "acknowledged", "level": "Siaga", "version": 2, "acknowledged_by": "Budi Santoso"
    }  # fmt: skip
    assert (json.loads(can["before"])["status"], json.loads(can["after"])["status"]) == ("acknowledged", "cancelled")
    assert can["reason"] == "false alarm: welding work"
    assert get_alert(ops, tr.alert_id)["acknowledged_by"] == "Budi Santoso"
    assert verify_audit_chain(ops) == 2


@pytest.mark.parametrize("who", [Principal("anonymous", Role.PUBLIC, "anonymous"), ANALYST])
def test_who_may_not_acknowledge_or_cancel_changes_nothing(ops: OpsDB, who: Principal) -> None:
    tr = open_alert(ops)
    lc = AlertLifecycle(ops)
    with pytest.raises(AccessDenied):
        lc.acknowledge(tr.alert_id, "x", by=who)
    with pytest.raises(AccessDenied):
        lc.cancel(tr.alert_id, "false alarm", by=who)
    assert get_alert(ops, tr.alert_id)["status"] == "open"
    assert [t["status"] for t in transitions(ops, tr.alert_id)] == ["open"]
    assert query_audit(ops) == []


@pytest.mark.parametrize("reason", ["", "   ", "x"])
def test_cancel_needs_a_reason(ops: OpsDB, reason: str) -> None:
    tr = open_alert(ops)
    with pytest.raises(ValueError, match="reason"):
        AlertLifecycle(ops).cancel(tr.alert_id, reason, by=OPERATOR)
    assert get_alert(ops, tr.alert_id)["status"] == "open" and query_audit(ops) == []


def test_subscriptions_only_by_admins_and_audited_without_secrets(ops: OpsDB) -> None:
    for who in (OPERATOR, ANALYST):
        with pytest.raises(AccessDenied):
            add_subscription(ops, SPEC, by=who)
    assert list_subscriptions(ops) == [] and query_audit(ops) == []
    from alerts_testkit import loopback

    row = add_subscription(ops, HOOK, by=ADMIN, source="dashboard", webhook_policy=loopback(ops))
    with pytest.raises(AccessDenied):
        remove_subscription(ops, row["subscription_id"], by=OPERATOR)
    assert remove_subscription(ops, row["subscription_id"], by=ADMIN)
    rows = query_audit(ops, target_type="subscription")
    assert [(r["action"], r["actor"], r["role"]) for r in rows] == [
        ("subscription.remove", "ani", "admin"),
        ("subscription.add", "ani", "admin"),
    ]
    assert json.loads(rows[0]["after"])["active"] is False and json.loads(rows[0]["before"])["active"] is True
    assert all("s3cret-key" not in (r["before"] or "") + (r["after"] or "") for r in rows)
    assert json.loads(rows[1]["after"])["secret"] == "[redacted]"


def test_internal_calls_are_audited_as_system(ops: OpsDB) -> None:
    add_subscription(ops, SPEC)
    tr = open_alert(ops)
    AlertLifecycle(ops).acknowledge(tr.alert_id, "gulkarmat-posko")
    assert [(r["action"], r["actor"], r["role"]) for r in query_audit(ops)] == [
        ("alert.acknowledge", "gulkarmat-posko", "system"),
        ("subscription.add", "pantau-system", "system"),
    ]
