"""The member's profile (e-mail, personal code, secret question) and account termination."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from portail.accounts import security, services
from portail.accounts.decorators import member_view
from portail.accounts.forms import EmailChangeForm, PersonalCodeChangeForm, SecretQuestionChangeForm, TerminationForm
from portail.accounts.middleware import AUTH_AT
from portail.accounts.policy import personal_code_rule


def _login_is_recent(request) -> bool:
    return time.time() - request.session.get(AUTH_AT, 0) <= settings.PORTAIL_RECENT_LOGIN_SECONDS


def _reauthenticated(request, form) -> bool:
    """True when the change may go on: no code was asked, or the code is right.
    A wrong code is counted toward the lockout; once locked, the member is logged out."""
    if "current_code" not in form.fields:
        return True
    now = timezone.now()
    if services.reauthentication_check(
        account=request.account,
        secret=form.cleaned_data["current_code"],
        client_ip=security.client_ip(request),
        now=now,
    ):
        request.session[AUTH_AT] = time.time()
        return True
    form.add_error("current_code", _("Ce n'est pas votre code personnel actuel."))
    return False


def _locked_out(request) -> bool:
    return security.lockout_until(digest=security.nir_digest(request.member.nir), now=timezone.now()) is not None


def _after_wrong_code(request, response):
    if _locked_out(request):
        logout(request)
        return redirect("public:member_space")
    return response


@member_view
def profile_view(request):
    return render(request, "accounts/profile.html", {"account": request.account})


@member_view
def email_change_view(request):
    form = EmailChangeForm(request.POST or None, require_current_code=not _login_is_recent(request))
    if request.method == "POST" and form.is_valid():
        if _reauthenticated(request, form):
            services.email_change(
                account=request.account, new_email=form.cleaned_data["email"], client_ip=security.client_ip(request)
            )
            return redirect("accounts:email_sent")
    response = render(request, "accounts/profile_email.html", {"form": form})
    return _after_wrong_code(request, response) if form.errors.get("current_code") else response


@member_view
def code_change_view(request):
    form = PersonalCodeChangeForm(request.POST or None, member=request.member)
    if request.method == "POST" and form.is_valid():
        if _reauthenticated(request, form):
            services.personal_code_change(
                account=request.account,
                new_code=form.cleaned_data["personal_code"],
                client_ip=security.client_ip(request),
            )
            update_session_auth_hash(request, request.account.user)
            messages.success(request, _("Votre nouveau code personnel est enregistré."))
            return redirect("accounts:profile")
    response = render(request, "accounts/profile_code.html", {"form": form, "rule": personal_code_rule()})
    return _after_wrong_code(request, response) if form.errors.get("current_code") else response


@member_view
def question_change_view(request):
    form = SecretQuestionChangeForm(
        request.POST or None,
        require_current_code=not _login_is_recent(request),
        initial={"secret_question": request.account.secret_question},
    )
    if request.method == "POST" and form.is_valid():
        if _reauthenticated(request, form):
            services.secret_question_change(
                account=request.account,
                question=form.cleaned_data["secret_question"],
                answer=form.cleaned_data["secret_answer"],
                client_ip=security.client_ip(request),
            )
            messages.success(request, _("Votre nouvelle question secrète est enregistrée."))
            return redirect("accounts:profile")
    response = render(request, "accounts/profile_question.html", {"form": form})
    return _after_wrong_code(request, response) if form.errors.get("current_code") else response


@member_view
def terminate_view(request):
    form = TerminationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _reauthenticated(request, form):
            services.account_terminate(
                account=request.account, client_ip=security.client_ip(request), now=timezone.now()
            )
            email = request.account.email if request.account.email_verified else ""
            logout(request)
            request.session["terminated_email"] = email
            return redirect("accounts:terminated")
    response = render(request, "accounts/terminate.html", {"form": form, "account": request.account})
    return _after_wrong_code(request, response) if form.errors.get("current_code") else response


@login_not_required
def terminated_view(request):
    return render(request, "accounts/terminated.html", {"email": request.session.pop("terminated_email", "")})
