"""Agents' roles, in one place: which group is which role, what the Django admin lets each do, and the
role of a user.

A role is a Django group: "Agent", "Superviseur", "Administrateur" (created by migration 0002, kept in
step with their permissions after every migrate). Each role includes the ones before it; an agent's role
is the highest of their groups. Views check roles with `portail.backoffice.decorators.agent_view`, never
with Django model permissions: the groups' permissions only drive the Django admin, which is open to
administrators alone.
"""

from django.contrib.auth.models import Group, Permission

from portail.accounts.enums import UserKind
from portail.backoffice.enums import AgentRole

GROUP_NAMES = {
    AgentRole.AGENT: "Agent",
    AgentRole.SUPERVISOR: "Superviseur",
    AgentRole.ADMINISTRATOR: "Administrateur",
}

# What administrators may do in the Django admin (/gestion/): manage agents, reset a lost
# authenticator, manage the systems allowed to push payments, and read everything else.
ADMINISTRATOR_PERMISSIONS = [
    "backoffice.add_agentuser",
    "backoffice.change_agentuser",
    "backoffice.view_agentuser",
    "backoffice.view_agentaccess",
    "auth.view_group",
    "otp_totp.view_totpdevice",
    "otp_totp.delete_totpdevice",
    "registry.view_fund",
    "registry.view_member",
    "registry.view_beneficiary",
    "registry.view_importrun",
    "post.view_letter",
    "post.view_printbatch",
    "post.view_email",
    "benefits.view_payment",
    "benefits.view_statement",
    "benefits.view_duplicaterequest",
    "benefits.view_paymentimportrun",
    "benefits.view_feedsource",
    "benefits.add_feedsource",
    "benefits.change_feedsource",
]
ROLE_PERMISSIONS = {AgentRole.AGENT: [], AgentRole.SUPERVISOR: [], AgentRole.ADMINISTRATOR: ADMINISTRATOR_PERMISSIONS}

_ROLE_BY_GROUP = {name: role for role, name in GROUP_NAMES.items()}
_CACHE_ATTRIBUTE = "_backoffice_role"


def agent_role(user) -> AgentRole | None:
    """The role of an active agent, or None (anonymous, member, inactive, or an agent without a role).

    A superuser of kind agent counts as an administrator. Cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.kind != UserKind.AGENT:
        return None
    if hasattr(user, _CACHE_ATTRIBUTE):
        return getattr(user, _CACHE_ATTRIBUTE)
    if user.is_superuser:
        role = AgentRole.ADMINISTRATOR
    else:
        roles = [_ROLE_BY_GROUP[name] for name in user.groups.values_list("name", flat=True) if name in _ROLE_BY_GROUP]
        role = max(roles, key=lambda role: role.rank) if roles else None
    setattr(user, _CACHE_ATTRIBUTE, role)
    return role


def role_assign(*, user, role: AgentRole) -> None:
    """Give `user` exactly one role (replacing any other role group; other groups are kept)."""
    groups = {role: Group.objects.get_or_create(name=name)[0] for role, name in GROUP_NAMES.items()}
    user.groups.remove(*[group for other, group in groups.items() if other != role])
    user.groups.add(groups[AgentRole(role)])
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def roles_sync(*, using: str = "default") -> None:
    """Create the three groups and give them exactly their permissions (those that exist yet). Idempotent."""
    wanted = {tuple(dotted.split(".")) for dotted in ADMINISTRATOR_PERMISSIONS}
    known = {
        (permission.content_type.app_label, permission.codename): permission
        for permission in Permission.objects.using(using)
        .select_related("content_type")
        .filter(content_type__app_label__in={app_label for app_label, _codename in wanted})
    }
    for role, name in GROUP_NAMES.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        permissions = [
            known[tuple(dotted.split("."))] for dotted in ROLE_PERMISSIONS[role] if tuple(dotted.split(".")) in known
        ]
        if set(group.permissions.values_list("pk", flat=True)) != {permission.pk for permission in permissions}:
            group.permissions.set(permissions)
