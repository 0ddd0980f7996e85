"""Identity: users, roles, principals, and the access checks every tenant API call passes."""

from nmc_domain.identity.access import authorize, identify
from nmc_domain.identity.model import Principal, Role, User, new_user
from nmc_domain.identity.ports import IdentityUnitOfWork, UserRepository
from nmc_domain.identity.users import (
    add_user,
    add_user_for_tenant,
    deactivate_user,
    deactivate_user_by_email,
    list_users,
)

__all__ = [
    "IdentityUnitOfWork",
    "Principal",
    "Role",
    "User",
    "UserRepository",
    "add_user",
    "add_user_for_tenant",
    "authorize",
    "deactivate_user",
    "deactivate_user_by_email",
    "identify",
    "list_users",
    "new_user",
]
