"""Agents' login: username and password, then a TOTP token (enrolling an authenticator the first time,
then choosing a password of one's own when the account was created with a one-time password)."""

import time
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts import security
from portail.accounts.enums import UserKind
from portail.accounts.middleware import AUTH_AT
from portail.accounts.models import User
from portail.backoffice import qr, services
from portail.backoffice.decorators import is_verified_agent
from portail.backoffice.enums import AgentAction
from portail.backoffice.forms import AgentLoginForm, NewPasswordForm, TokenForm
from portail.backoffice.roles import agent_role
from portail.backoffice.services import AgentLoginStatus

PENDING = "backoffice_login"
BACKEND = "portail.accounts.backends.PortailModelBackend"


def _lock_message(locked_until) -> str:
    return _(
        "Trop d'essais erronés : la connexion est suspendue jusqu'à %(time)s. Si vous n'y êtes pour rien, "
        "prévenez un administrateur."
    ) % {"time": f"{timezone.localtime(locked_until):%H:%M}"}


def _pending_user(request, *, second_factor_done: bool = False) -> User | None:
    """The agent who passed the password step (and the token step, when asked), if recent enough."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > settings.PORTAIL_AGENT_LOGIN_STEP_SECONDS:
        return None
    if second_factor_done and not pending.get("device_id"):
        return None
    user = User.objects.filter(pk=pending.get("user_id"), kind=UserKind.AGENT, is_active=True).first()
    return user if user is not None and agent_role(user) is not None else None


def _restart(request):
    request.session.pop(PENDING, None)
    messages.info(request, _("Pour votre sécurité, reprenez la connexion depuis le début."))
    return redirect("backoffice:login")


def _next_url(request, pending) -> str:
    next_url = pending.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return next_url
    return "backoffice:dashboard"


def _second_factor_passed(request, user, device):
    """Token right: finish the login, or first ask for a password of one's own (never logged in yet)."""
    pending = request.session[PENDING]
    if user.last_login is None:
        request.session[PENDING] = {**pending, "device_id": device.pk, "at": time.time()}
        return redirect("backoffice:login_password")
    return _finish(request, user, device)


def _finish(request, user, device):
    pending = request.session.pop(PENDING, {})
    login(request, user, backend=BACKEND)
    otp_login(request, device)
    request.session[AUTH_AT] = timezone.now().timestamp()
    services.agent_access_record(agent=user, action=AgentAction.LOGIN, client_ip=security.client_ip(request))
    return redirect(_next_url(request, pending))


@login_not_required
def login_view(request):
    if is_verified_agent(request.user):
        return redirect("backoffice:dashboard")
    ip = security.client_ip(request)
    form = AgentLoginForm(request.POST or None)
    status = HTTPStatus.OK
    if request.method == "POST":
        now = timezone.now()
        retry_after = security.client_throttle_retry_after(ip=ip, now=now)
        if retry_after is not None:
            minutes = max(1, round(retry_after / 60))
            form.add_error(
                None,
                ngettext(
                    "Trop d'essais depuis cette adresse réseau : réessayez dans %(minutes)d minute.",
                    "Trop d'essais depuis cette adresse réseau : réessayez dans %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            status = HTTPStatus.TOO_MANY_REQUESTS
        elif form.is_valid():
            result = services.agent_password_check(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client_ip=ip,
                now=now,
            )
            if result.status is AgentLoginStatus.SUCCESS:
                request.session.cycle_key()
                request.session[PENDING] = {
                    "user_id": result.user.pk,
                    "at": time.time(),
                    "next": request.GET.get("next", ""),
                }
                return redirect("backoffice:login_token")
            if result.status is AgentLoginStatus.LOCKED:
                form.add_error(None, _lock_message(result.locked_until))
            else:
                form.add_error(None, _("Identifiant ou mot de passe incorrect."))
    response = render(request, "backoffice/login.html", {"form": form}, status=status)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        response["Retry-After"] = str(retry_after)
    return response


@login_not_required
def login_token_view(request):
    user = _pending_user(request)
    if user is None:
        return _restart(request)
    device = services.agent_device(user=user)
    if device is None:
        return redirect("backoffice:login_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.agent_token_check(
            user=user,
            device=device,
            token=form.cleaned_data["token"],
            client_ip=security.client_ip(request),
            now=timezone.now(),
        )
        if result.status is AgentLoginStatus.SUCCESS:
            return _second_factor_passed(request, user, device)
        if result.status is AgentLoginStatus.LOCKED:
            request.session.pop(PENDING, None)
            messages.error(request, _lock_message(result.locked_until))
            return redirect("backoffice:login")
        form.add_error("token", _("Ce code n'est pas le bon, ou il a expiré : saisissez le code affiché maintenant."))
    return render(request, "backoffice/login_token.html", {"form": form})


@login_not_required
@never_cache
def login_enrol_view(request):
    user = _pending_user(request)
    if user is None:
        return _restart(request)
    if services.agent_device(user=user) is not None:
        return redirect("backoffice:login_token")
    device = services.agent_enrolment_device(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.agent_enrolment_confirm(
            user=user,
            device=device,
            token=form.cleaned_data["token"],
            client_ip=security.client_ip(request),
            now=timezone.now(),
        )
        if result.status is AgentLoginStatus.SUCCESS:
            messages.success(request, _("Votre application d'authentification est enregistrée."))
            return _second_factor_passed(request, user, device)
        if result.status is AgentLoginStatus.LOCKED:
            request.session.pop(PENDING, None)
            messages.error(request, _lock_message(result.locked_until))
            return redirect("backoffice:login")
        form.add_error(
            "token",
            _(
                "Ce code n'est pas le bon : vérifiez que l'application affiche le compte ajouté à l'instant, "
                "et que l'heure de votre téléphone est exacte."
            ),
        )
    uri = services.totp_provisioning_uri(device=device)
    return render(
        request,
        "backoffice/login_enrol.html",
        {
            "form": form,
            "qr_svg": qr.svg(uri, label=_("QR code à scanner avec votre application d'authentification")),
            "secret": services.totp_secret_for_display(device=device),
        },
    )


@login_not_required
def login_password_view(request):
    user = _pending_user(request, second_factor_done=True)
    if user is None:
        return _restart(request)
    device = TOTPDevice.objects.filter(pk=request.session[PENDING]["device_id"], user=user, confirmed=True).first()
    if device is None:
        return _restart(request)
    form = NewPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.agent_password_set(user=user, password=form.cleaned_data["password"])
        messages.success(request, _("Votre mot de passe est enregistré. Vous êtes connecté."))
        return _finish(request, user, device)
    return render(request, "backoffice/login_password.html", {"form": form})


@login_not_required
@require_POST
def logout_view(request):
    if request.user.is_authenticated and request.user.kind == UserKind.AGENT:
        services.agent_access_record(
            agent=request.user, action=AgentAction.LOGOUT, client_ip=security.client_ip(request)
        )
    logout(request)
    messages.info(request, _("Vous êtes déconnecté de l'espace agents."))
    return redirect("backoffice:login")
