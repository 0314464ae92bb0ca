"""Who may do what: the roles of the people who work claims, and the permission each action needs.

Pure: the web console, the command line, the codec server and the appeal workflow's check all ask
the same question here (which permission each task action needs: `claims.tasks.permission_for`).
Whoever authenticated the person (a password, a session, an API token) decides the role; this module
only says what that role allows.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    WORK_TASKS = "work_tasks"
    """See the work queue and claims; claim, assign, release, annotate and resolve ordinary tasks."""
    RECORD_PAYMENTS = "record_payments"
    """Record what a patient paid toward a claim."""
    APPROVE_WRITE_OFFS = "approve_write_offs"
    """Approve or reject a write-off once the appeals are exhausted (write_off_approval tasks)."""
    ASSIGN_TASKS = "assign_tasks"
    """Give a task to someone else, or take or release a task another person holds."""
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_USERS = "manage_users"
    """Add and disable users, reset their passwords, issue and revoke their API tokens."""
    DECODE_PAYLOADS = "decode_payloads"
    """Read decrypted workflow payloads in the Temporal Web UI through the codec server."""


class Role(StrEnum):
    BILLER = "biller"
    """Works tasks and records patient payments."""
    MANAGER = "manager"
    """A biller who also approves write-offs, sees the dashboards and administers users."""
    ADMIN = "admin"
    """Everything a manager may, and the only role that may create or change other admins."""

    @property
    def permissions(self) -> frozenset[Permission]:
        return _PERMISSIONS[self]

    def can(self, permission: Permission) -> bool:
        return permission in _PERMISSIONS[self]

    def can_manage(self, other: Role) -> bool:
        """Whether someone in this role may add, disable or reset a user with role `other`: a manager
        administers billers and managers, only an admin administers admins."""
        if not self.can(Permission.MANAGE_USERS):
            return False
        return self is Role.ADMIN or other is not Role.ADMIN


_BILLER = frozenset({Permission.WORK_TASKS, Permission.RECORD_PAYMENTS})
_MANAGER = _BILLER | {
    Permission.APPROVE_WRITE_OFFS,
    Permission.ASSIGN_TASKS,
    Permission.VIEW_DASHBOARD,
    Permission.MANAGE_USERS,
    Permission.DECODE_PAYLOADS,
}
_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.BILLER: _BILLER,
    Role.MANAGER: _MANAGER,
    Role.ADMIN: _MANAGER,
}
