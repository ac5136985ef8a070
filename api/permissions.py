"""Roles and the permission classes every root field carries.

A field says who may call it in one line: ``@strawberry.field(permission_classes=[FOR_ANALYSTS])``.
ADMIN may call everything. The check reads the role the HTTP layer put in the context (from the
API key, see api.auth): no database work per field. ``python -m pytest tests/api/test_permissions.py``
walks the schema and names any root field that has no permission class.
"""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import Any

from strawberry.permission import BasePermission

MASK = "***"


class Role(str, Enum):
    FRONTEND = "FRONTEND"
    CAMPAIGN = "CAMPAIGN"
    ANALYST = "ANALYST"
    ADMIN = "ADMIN"


@cache
def allow(*roles: Role) -> type[BasePermission]:
    """A permission class letting ``roles`` (and always ADMIN) through; one class per role set."""
    allowed = frozenset({*roles, Role.ADMIN})
    names = ", ".join(sorted(r.value for r in allowed))

    class RoleAllowed(BasePermission):
        message = f"Forbidden: this field needs an API key with one of the roles {names}."
        error_extensions = {"code": "FORBIDDEN", "allowedRoles": sorted(r.value for r in allowed)}
        roles = allowed

        def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
            return info.context.role in allowed

    RoleAllowed.__name__ = RoleAllowed.__qualname__ = "Allow" + "".join(r.value.title() for r in sorted(allowed))
    return RoleAllowed


# The role sets the schema uses. A new field picks one of these (or allow(...)) in one line.
ADMIN_ONLY = allow()
CUSTOMER_VIEWS = allow(Role.FRONTEND, Role.ANALYST)
EVERY_ROLE = allow(Role.FRONTEND, Role.CAMPAIGN, Role.ANALYST)
FOR_ANALYSTS = allow(Role.ANALYST)
FOR_CAMPAIGNS = allow(Role.CAMPAIGN)
OFFER_CATALOGUE = allow(Role.CAMPAIGN, Role.ANALYST)


def sees_pii(role: Role | None) -> bool:
    return role is not Role.ANALYST


def masked(info: Any, value: Any) -> Any:
    """``value`` as the caller may see it: ANALYST keys get MASK in place of personal data."""
    if value is None or info.context.role is not Role.ANALYST:
        return value
    return MASK


PII_RULE_FIELDS = frozenset({"name", "email", "phone"})


def pii_probe(info: Any, *, search: str | None = None, rule: Any = None) -> str | None:
    """For ANALYST keys, the argument that would filter on personal data (and so reveal it by
    counting), or None. Masking the fields is not enough if one can search on them."""
    if info.context.role is not Role.ANALYST:
        return None
    if search:
        return "filter.search"
    return "rule" if _rule_reads_pii(rule) else None


def _rule_reads_pii(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("field") in PII_RULE_FIELDS:
            return True
        return any(_rule_reads_pii(v) for v in node.values())
    if isinstance(node, list):
        return any(_rule_reads_pii(v) for v in node)
    return False
