"""The Django admin (/gestion/): OTP-protected, for verified administrators only; agents are managed here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp.admin import OTPAdminSite

from portail.accounts.enums import UserKind
from portail.backoffice.decorators import is_verified_agent
from portail.backoffice.enums import AgentRole
from portail.backoffice.models import AgentAccess, AgentUser
from portail.backoffice.roles import agent_role


class BackofficeAdminSite(OTPAdminSite):
    """Django's admin site, open only to an administrator agent who passed the second factor (TOTP).

    `admin.site.__class__` is set to this class in BackofficeConfig.ready(): every model already
    registered stays registered. Its login page is the agents' login (password, then TOTP)."""

    site_header = _("Gestion du Portail assuré")
    site_title = _("Gestion")

    def has_permission(self, request):
        user = request.user
        return is_verified_agent(user) and agent_role(user) == AgentRole.ADMINISTRATOR

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        if is_verified_agent(request.user):
            # Logged in with both factors, but not an administrator.
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("backoffice:login"))


@admin.register(AgentAccess)
class AgentAccessAdmin(admin.ModelAdmin):
    """Read-only: nobody adds, changes or deletes an audit row (the model refuses it too)."""

    list_display = ["created_at", "agent", "action", "reason", "member_masked", "detail"]
    list_filter = ["action", "reason"]
    list_select_related = ["agent", "member"]
    date_hierarchy = "created_at"
    fields = ["created_at", "agent", "action", "reason", "member", "detail", "client_ip"]
    readonly_fields = fields
    actions = None

    @admin.display(description=_("assuré"))
    def member_masked(self, entry):
        return entry.member.nir_masked if entry.member else ""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgentUser)
class AgentUserAdmin(UserAdmin):
    """Agents only, never members. The role is the group ("Agent", "Superviseur", "Administrateur");
    a lost phone: delete the agent's TOTP device, the next login enrols a new one."""

    list_display = ["username", "first_name", "last_name", "email", "is_active", "last_login"]
    list_filter = ["is_active", "groups"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Rôle et accès"), {"fields": ["is_active", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = []
    actions = None

    def has_delete_permission(self, request, obj=None):
        # An agent who leaves is deactivated: their audit rows must keep pointing at them.
        return False

    def save_model(self, request, obj, form, change):
        obj.kind = UserKind.AGENT
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        is_administrator = user.groups.filter(name="Administrateur").exists()
        if user.is_staff != is_administrator:
            user.is_staff = is_administrator
            user.save(update_fields=["is_staff"])
