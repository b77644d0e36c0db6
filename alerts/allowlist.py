"""The admin allow-list: the only way a webhook may reach a private, loopback or link-local address.

Webhook targets must resolve to public addresses (``alerts.channels``); an agency endpoint inside the
city network is reached only after an administrator names its network or host here, with a reason.
Adding and removing an entry are admin actions, each audited in the same transaction (who, when, why,
before/after). Deliveries read the list when they check a target (:func:`webhook_policy`), so a removed
entry stops them at once.

Entries are networks (``10.20.0.0/16``, ``127.0.0.1/32``, ``fd00:1::/64``) or host names. Refused:
networks wider than a /8 (IPv4) or /16 (IPv6), which would switch the check off rather than make an
exception, and any network holding a cloud metadata address (``169.254.169.254``, ``fd00:ec2::254``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import sqlalchemy as sa

from access.audit import principal_role, record_audit
from access.roles import Permission, Principal, require
from alerts.channels import WebhookPolicy
from alerts.db import OpsDB, webhook_allowlist_t
from alerts.models import utcnow

MIN_PREFIX = {4: 8, 6: 16}
METADATA_ADDRESSES = tuple(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


class AllowlistError(ValueError):
    pass


def normalise_entry(entry: str) -> str:
    """The stored form of an entry (``10.20.0.0/16``, ``hooks.bpbd.internal``); raises :class:`AllowlistError`."""
    text = (entry or "").strip().lower().rstrip(".")
    if not text:
        raise AllowlistError("an allow-list entry is a network (CIDR) or a host name")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        if not _HOST.match(text) or text.replace(".", "").isdigit():
            raise AllowlistError(f"not a network or host name: {entry!r}") from None
        return text
    if net.prefixlen < MIN_PREFIX[net.version]:
        raise AllowlistError(
            f"{net} is wider than /{MIN_PREFIX[net.version]}: name the agency's network, not a whole address space"
        )
    if any(a.version == net.version and a in net for a in METADATA_ADDRESSES):
        raise AllowlistError(f"{net} holds a cloud metadata address; it cannot be allowed")
    return str(net)


def allow_webhook_target(ops: OpsDB, entry: str, *, by: Principal, reason: str, source: str = "") -> dict[str, Any]:
    """Add an entry (admins only, a reason is required); audited as ``webhook_allowlist.add``."""
    require(by.role, Permission.MANAGE_WEBHOOK_ALLOWLIST, by.name)
    value = normalise_entry(entry)
    if not reason or not reason.strip():
        raise AllowlistError("say why this private target may receive alerts (--reason)")
    why = reason.strip()[:2000]
    row: dict[str, Any] = {"entry": value, "reason": why, "added_by": by.name[:200], "added_at": utcnow()}
    with ops.begin() as conn:
        old = conn.execute(sa.select(webhook_allowlist_t).where(webhook_allowlist_t.c.entry == value)).first()
        if old is not None:
            return dict(old._mapping)
        conn.execute(sa.insert(webhook_allowlist_t).values(**row))
        record_audit(
            conn, actor=by.name, role=principal_role(by), action="webhook_allowlist.add",
            target_type="webhook_allowlist", target_id=value, after=row, reason=why,
            source=source or by.source,
        )  # fmt: skip
    return row


def disallow_webhook_target(ops: OpsDB, entry: str, *, by: Principal, reason: str = "", source: str = "") -> bool:
    """Remove an entry (admins only); False when it was not there. Audited as ``webhook_allowlist.remove``."""
    require(by.role, Permission.MANAGE_WEBHOOK_ALLOWLIST, by.name)
    value = normalise_entry(entry)
    with ops.begin() as conn:
        old = conn.execute(sa.select(webhook_allowlist_t).where(webhook_allowlist_t.c.entry == value)).first()
        if old is None:
            return False
        conn.execute(sa.delete(webhook_allowlist_t).where(webhook_allowlist_t.c.entry == value))
        record_audit(
            conn, actor=by.name, role=principal_role(by), action="webhook_allowlist.remove",
            target_type="webhook_allowlist", target_id=value, before=dict(old._mapping), reason=reason.strip(),
            source=source or by.source,
        )  # fmt: skip
    return True


def list_webhook_allowlist(ops: OpsDB) -> list[dict[str, Any]]:
    with ops.read() as conn:
        q = sa.select(webhook_allowlist_t).order_by(webhook_allowlist_t.c.entry)
        return [dict(r._mapping) for r in conn.execute(q)]


def allowlist_entries(ops: OpsDB) -> tuple[str, ...]:
    with ops.read() as conn:
        return tuple(conn.execute(sa.select(webhook_allowlist_t.c.entry)).scalars())


def webhook_policy(ops: OpsDB, *, allow_http: bool = False, timeout_s: float = 10.0) -> WebhookPolicy:
    """The production policy: public targets, plus what the admin allow-list in ``ops`` holds at each check."""
    return WebhookPolicy(
        allowed_schemes=("https", "http") if allow_http else ("https",),
        timeout_s=timeout_s,
        allowlist_source=lambda: allowlist_entries(ops),
    )
