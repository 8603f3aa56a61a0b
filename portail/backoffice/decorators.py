"""The one check every back-office view goes through."""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from portail.accounts.enums import UserKind
from portail.backoffice.enums import AgentRole
from portail.backoffice.roles import agent_role


def is_verified_agent(user) -> bool:
    """An active agent who passed the second factor (TOTP) in this session."""
    return (
        getattr(user, "is_authenticated", False)
        and user.kind == UserKind.AGENT
        and user.is_active
        and getattr(user, "is_verified", lambda: False)()
    )


def agent_view(view=None, *, role: AgentRole = AgentRole.AGENT):
    """A back-office page: `@agent_view` (any agent) or `@agent_view(role=AgentRole.SUPERVISOR)`.

    - anonymous, or an agent who has not passed the second factor: redirected to the agents' login;
    - a member (even logged in), an agent without a role or with a lower role: 403.
    Sets `request.agent_role` for the view and its template. The view is exempt from
    LoginRequiredMiddleware because this check replaces it (with the agents' login page)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("backoffice:login"))
            if user.kind != UserKind.AGENT:
                raise PermissionDenied
            if not is_verified_agent(user):
                return redirect_to_login(request.get_full_path(), reverse("backoffice:login"))
            current = agent_role(user)
            if current is None or not current.includes(role):
                raise PermissionDenied
            request.agent_role = current
            response = view(request, *args, **kwargs)
            # Member data and audit rows must not stay in a shared browser's cache.
            add_never_cache_headers(response)
            return response

        wrapper.agent_role_required = AgentRole(role)
        return login_not_required(wrapper)

    if view is not None:
        return decorator(view)
    return decorator
