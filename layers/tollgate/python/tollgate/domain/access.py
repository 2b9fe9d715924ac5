"""Who may do what: key kinds, operator roles and the permission table (seed 000, "403 Forbidden").

Operator keys (``afo_…``) carry a role. Customer keys (``sk_live_…`` / ``sk_test_…``) act for one
customer of a tenant. The platform-admin credential only creates tenants.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyKind(StrEnum):
    OPERATOR = "operator"
    CUSTOMER = "customer"
    PLATFORM = "platform"


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    BILLING_ADMIN = "BILLING_ADMIN"
    GATEWAY = "GATEWAY"  # an API gateway's key: check and meter only (issue 15)


class Permission(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    BILLING_READ = "billing:read"
    BILLING_WRITE = "billing:write"
    KEYS_READ = "keys:read"
    KEYS_WRITE = "keys:write"
    USAGE_INGEST = "usage:ingest"
    USAGE_READ = "usage:read"
    GATEWAY_CHECK = "gateway:check"
    GATEWAY_METER = "gateway:meter"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    INTEGRATIONS_READ = "integrations:read"  # gateway integrations (issue 19)
    INTEGRATIONS_WRITE = "integrations:write"
    TENANTS_CREATE = "tenants:create"
    TENANTS_RECOVER = "tenants:recover"  # mint a new OWNER key for a tenant locked out of its own
    TENANTS_LIMITS = "tenants:limits"  # read and set a tenant's API request limit


PLATFORM_PERMISSIONS = frozenset({Permission.TENANTS_CREATE, Permission.TENANTS_RECOVER, Permission.TENANTS_LIMITS})


# MEMBER reads but never creates or modifies; BILLING_ADMIN never touches the product catalog;
# only OWNER and ADMIN manage keys (and ADMIN cannot manage OWNER keys: checked in the use case);
# GATEWAY (an API gateway's key) only checks and meters requests; only OWNER and ADMIN connect gateways
# (integrations), which MEMBER and BILLING_ADMIN may read.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(p for p in Permission if p not in PLATFORM_PERMISSIONS),
    Role.ADMIN: frozenset(p for p in Permission if p not in PLATFORM_PERMISSIONS),
    Role.MEMBER: frozenset(
        {
            Permission.CATALOG_READ,
            Permission.CUSTOMERS_READ,
            Permission.BILLING_READ,
            Permission.USAGE_READ,
            Permission.WEBHOOKS_READ,
            Permission.INTEGRATIONS_READ,
        }
    ),
    Role.BILLING_ADMIN: frozenset(
        {
            Permission.CUSTOMERS_READ,
            Permission.CUSTOMERS_WRITE,
            Permission.BILLING_READ,
            Permission.BILLING_WRITE,
            Permission.USAGE_READ,
            Permission.WEBHOOKS_READ,
            Permission.WEBHOOKS_WRITE,
            Permission.INTEGRATIONS_READ,
        }
    ),
    Role.GATEWAY: frozenset({Permission.GATEWAY_CHECK, Permission.GATEWAY_METER}),
}

# A customer key acts for its own customer only: send usage, read its usage and invoices.
CUSTOMER_KEY_PERMISSIONS = frozenset({Permission.USAGE_INGEST, Permission.USAGE_READ, Permission.BILLING_READ})


def roles_with(permission: Permission) -> list[Role]:
    return [role for role, perms in ROLE_PERMISSIONS.items() if permission in perms]


@dataclass(frozen=True)
class AccessRule:
    """What a route requires. Declared once per route; enforced by the API and published in OpenAPI."""

    permission: Permission | None = None
    kinds: tuple[KeyKind, ...] = (KeyKind.OPERATOR,)
    public: bool = False

    def to_extension(self) -> dict:
        return {
            "public": self.public,
            "permission": self.permission.value if self.permission else None,
            "kinds": [k.value for k in self.kinds],
        }

    @classmethod
    def from_extension(cls, ext: dict) -> AccessRule:
        perm = ext.get("permission")
        return cls(
            permission=Permission(perm) if perm else None,
            kinds=tuple(KeyKind(k) for k in ext.get("kinds", [])),
            public=bool(ext.get("public")),
        )


@dataclass(frozen=True)
class Caller:
    """The authenticated principal of a request, as the authorizer established it."""

    tenant_id: str
    kind: KeyKind
    key_id: str
    role: Role | None = None
    customer_id: str | None = None
    subscription_id: str | None = None
    livemode: bool = True

    def permissions(self) -> frozenset[Permission]:
        if self.kind is KeyKind.OPERATOR and self.role:
            return ROLE_PERMISSIONS[self.role]
        if self.kind is KeyKind.CUSTOMER:
            return CUSTOMER_KEY_PERMISSIONS
        if self.kind is KeyKind.PLATFORM:
            return PLATFORM_PERMISSIONS
        return frozenset()


class AccessDenied(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


KIND_LABEL = {
    KeyKind.OPERATOR: "an operator key (afo_…)",
    KeyKind.CUSTOMER: "a customer API key (sk_live_… or sk_test_…)",
    KeyKind.PLATFORM: "the platform-admin credential",
}


def check_access(rule: AccessRule, caller: Caller | None) -> None:
    """Raise AccessDenied(401|403) unless ``caller`` may use a route declared with ``rule``."""
    if rule.public:
        return
    if caller is None:
        raise AccessDenied(401, "Missing credentials: send 'Authorization: Bearer <key>' and 'X-Tenant-Id: <tenant>'.")
    if caller.kind not in rule.kinds:
        wanted = " or ".join(KIND_LABEL[k] for k in rule.kinds)
        raise AccessDenied(
            401,
            f"Wrong key for this API: it takes {wanted}, but the request used {KIND_LABEL[caller.kind]}.",
        )
    if rule.permission and rule.permission not in caller.permissions():
        if caller.kind is KeyKind.OPERATOR:
            needed = " or ".join(r.value for r in roles_with(rule.permission))
            raise AccessDenied(
                403,
                f"Role {caller.role} lacks permission {rule.permission.value}; use a key with role {needed}.",
            )
        raise AccessDenied(403, f"This key lacks permission {rule.permission.value}.")


ECHO_LIMIT = 64  # characters of a client's value an answer may quote


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """A client-sent value as an error detail may quote it: printable characters only (others shown as
    ``?``), at most ``limit`` of them, then ``…`` and the full length. An answer never carries a
    100 KB header back, nor control characters into a log line."""
    head = "".join(c if c.isprintable() else "?" for c in value[:limit])
    return head if len(value) <= limit else f"{head}… ({len(value)} characters)"
