"""Roles and what each may do. One table decides; every write path asks it before acting.

``public``   open data and the public risk map (no sign-in needed)
``analyst``  every non-personal view: cameras, kelurahan, alerts, Jaki, planning, data quality
``operator`` an analyst who may also acknowledge alerts and cancel them with a reason
``admin``    an operator who may also manage subscriptions, cameras, users, the webhook allow-list and
             read the audit log

Roles are ordered: each includes everything the one before it may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    PUBLIC = "public"
    ANALYST = "analyst"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return ROLE_ORDER.index(self)

    @classmethod
    def parse(cls, value: str | Role | None) -> Role:
        """A role from its name; anything unknown (or None) is ``public``, never more."""
        if isinstance(value, Role):
            return value
        try:
            return cls(str(value or "").strip().lower())
        except ValueError:
            return cls.PUBLIC


ROLE_ORDER = (Role.PUBLIC, Role.ANALYST, Role.OPERATOR, Role.ADMIN)


class Permission(StrEnum):
    VIEW_PUBLIC = "view_public"  # open data, public alert map
    VIEW_ANALYTICS = "view_analytics"  # non-personal operational views
    ACK_ALERT = "ack_alert"
    CANCEL_ALERT = "cancel_alert"
    MANAGE_SUBSCRIPTIONS = "manage_subscriptions"  # subscribers are personal data (e-mail, phone)
    VIEW_REGISTRY = "view_registry"  # the camera registry page: who changed which camera
    MANAGE_CAMERAS = "manage_cameras"
    MANAGE_USERS = "manage_users"
    MANAGE_WEBHOOK_ALLOWLIST = "manage_webhook_allowlist"  # private networks webhooks may reach (SSRF)
    VIEW_AUDIT = "view_audit"


# the least role that holds each permission
MIN_ROLE: dict[Permission, Role] = {
    Permission.VIEW_PUBLIC: Role.PUBLIC,
    Permission.VIEW_ANALYTICS: Role.ANALYST,
    Permission.ACK_ALERT: Role.OPERATOR,
    Permission.CANCEL_ALERT: Role.OPERATOR,
    Permission.MANAGE_SUBSCRIPTIONS: Role.ADMIN,
    Permission.VIEW_REGISTRY: Role.OPERATOR,
    Permission.MANAGE_CAMERAS: Role.ADMIN,
    Permission.MANAGE_USERS: Role.ADMIN,
    Permission.MANAGE_WEBHOOK_ALLOWLIST: Role.ADMIN,
    Permission.VIEW_AUDIT: Role.ADMIN,
}


class AccessDenied(PermissionError):
    """A principal tried something its role does not allow (refused before anything is written)."""

    def __init__(self, actor: str, role: Role, permission: Permission) -> None:
        super().__init__(f"{actor or 'anonymous'} ({role}) may not {permission.value.replace('_', ' ')}")
        self.actor, self.role, self.permission = actor, role, permission


def allowed(role: Role | str | None, permission: Permission) -> bool:
    return Role.parse(role).rank >= MIN_ROLE[permission].rank


def require(role: Role | str | None, permission: Permission, actor: str = "") -> Role:
    """Return the parsed role when it holds ``permission``, else raise :class:`AccessDenied`."""
    r = Role.parse(role)
    if not allowed(r, permission):
        raise AccessDenied(actor, r, permission)
    return r


@dataclass(frozen=True)
class Principal:
    """Who is acting: a name, a role and where the identity came from (local, oidc, cli, anonymous)."""

    name: str
    role: Role
    source: str = "local"

    @property
    def signed_in(self) -> bool:
        return self.source != "anonymous"


ANONYMOUS = Principal("anonymous", Role.PUBLIC, "anonymous")


# internal callers (pipeline set-up, demo seeding): audited as role "system", never reachable from an interface
SYSTEM = Principal("pantau-system", Role.ADMIN, "system")


def system(actor: str) -> Principal:
    """An internal caller acting under its own name (audited as role ``system``)."""
    return Principal(actor or SYSTEM.name, Role.ADMIN, "system")
