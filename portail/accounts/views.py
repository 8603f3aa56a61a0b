"""Member space: login, provisional code, account creation, recovery.

Views stay thin: validate a form, call one service, redirect or render.
"""

import datetime as dt
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portail.accounts import security, services
from portail.accounts.decorators import member_view
from portail.accounts.enums import Outcome, SecurityEventKind
from portail.accounts.forms import (
    AccountCodesForm,
    CodeOrderIdentityForm,
    CodeOrderNirForm,
    EmailForm,
    LoginForm,
    NewPersonalCodeForm,
    RecoveryRequestForm,
    SecretAnswerForm,
    TermsForm,
)
from portail.accounts.middleware import AUTH_AT
from portail.accounts.models import Account
from portail.accounts.policy import personal_code_rule
from portail.accounts.services import LoginStatus
from portail.benefits.models import Payment
from portail.messaging.models import Thread
from portail.registry.models import Member
from portail.registry.nir import parse_nir

ENROLMENT = "enrolment"
RECOVERY = "recovery"
CODE_ORDER_NIR = "code_order_nir"


def _now():
    return timezone.now()


def _throttled(request, retry_after: int):
    response = render(
        request,
        "accounts/throttled.html",
        {"retry_at": _now() + dt.timedelta(seconds=retry_after)},
        status=HTTPStatus.TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _locked(request, locked_until):
    return render(
        request,
        "accounts/locked.html",
        {"locked_until": locked_until, "link_minutes": settings.PORTAIL_RECOVERY_LINK_MINUTES},
    )


def _log_member_in(request, user):
    login(request, user, backend="portail.accounts.backends.PortailModelBackend")
    request.session[AUTH_AT] = _now().timestamp()


# --- Login ---------------------------------------------------------------------


@login_not_required
@transaction.non_atomic_requests  # login_attempt opens a transaction where it needs one, never around the hash
def login_view(request):
    if request.user.is_authenticated and hasattr(request.user, "account"):
        return redirect("accounts:home")
    ip = security.client_ip(request)
    form = LoginForm(request.POST or None)
    if request.method == "POST":
        retry_after = security.client_throttle_retry_after(ip=ip, now=_now())
        if retry_after is not None:
            return _throttled(request, retry_after)
        if form.is_valid():
            result = services.login_attempt(
                nir=form.cleaned_data["nir"], secret=form.cleaned_data["code"], client_ip=ip, now=_now()
            )
            if result.status is LoginStatus.SUCCESS:
                _log_member_in(request, result.user)
                next_url = request.GET.get("next", "")
                if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                    return redirect(next_url)
                return redirect("accounts:home")
            if result.status is LoginStatus.ENROL:
                request.session.cycle_key()
                request.session[ENROLMENT] = {"member_id": result.member_id, "code_id": result.code_id}
                return redirect("accounts:enrol_terms")
            if result.status is LoginStatus.RECOVER:
                request.session.cycle_key()
                request.session[RECOVERY] = {"account_id": result.account_id, "code_id": result.code_id}
                return redirect("accounts:recovery_question")
            if result.status is LoginStatus.LOCKED:
                return _locked(request, result.locked_until)
            form.add_error(
                None,
                ngettext(
                    "Le numéro de sécurité sociale ou le code est incorrect. Vérifiez-les et réessayez : "
                    "encore %(count)d essai avant le blocage temporaire.",
                    "Le numéro de sécurité sociale ou le code est incorrect. Vérifiez-les et réessayez : "
                    "encore %(count)d essais avant le blocage temporaire.",
                    result.remaining_tries,
                )
                % {"count": result.remaining_tries},
            )
    return render(request, "accounts/login.html", {"form": form})


@require_POST
def logout_view(request):
    member = getattr(getattr(request.user, "account", None), "member", None)
    services.security_event_record(
        kind=SecurityEventKind.LOGOUT, outcome=Outcome.SUCCESS, member=member, client_ip=security.client_ip(request)
    )
    logout(request)
    return redirect("accounts:logged_out")


@login_not_required
def logged_out_view(request):
    return render(request, "accounts/logged_out.html")


@member_view
def home_view(request):
    latest = Payment.objects.for_member(request.member).last_months(
        settings.PORTAIL_PAYMENTS_DEFAULT_MONTHS, today=timezone.localdate()
    )[:3]
    unread = Thread.objects.for_member(request.member).unread_for_member().count()
    return render(
        request,
        "accounts/home.html",
        {"account": request.account, "member": request.member, "latest_payments": latest, "unread_threads": unread},
    )


# --- Ordering a provisional code ------------------------------------------------


@login_not_required
def code_order_nir_view(request):
    form = CodeOrderNirForm(request.POST or None, initial={"nir": _session_nir_formatted(request)})
    if request.method == "POST" and form.is_valid():
        request.session[CODE_ORDER_NIR] = form.cleaned_data["nir"].number
        return redirect("accounts:code_order_identity")
    return render(request, "accounts/code_order_nir.html", {"form": form})


def _session_nir_formatted(request) -> str:
    number = request.session.get(CODE_ORDER_NIR)
    return parse_nir(number).formatted if number else ""


@login_not_required
def code_order_identity_view(request):
    number = request.session.get(CODE_ORDER_NIR)
    if not number:
        messages.info(request, _("Commencez par saisir votre numéro de sécurité sociale."))
        return redirect("accounts:code_order")
    nir = parse_nir(number)
    form = CodeOrderIdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.provisional_code_order(
            nir=nir, client_ip=security.client_ip(request), now=_now(), **form.cleaned_data
        )
        del request.session[CODE_ORDER_NIR]
        if not result.accepted:
            return render(request, "accounts/code_order_limit.html", {"retry_at": result.retry_at})
        return redirect("accounts:code_order_done")
    return render(request, "accounts/code_order_identity.html", {"form": form, "nir": nir})


@login_not_required
def code_order_done_view(request):
    return render(
        request,
        "accounts/code_order_done.html",
        {"valid_days": settings.PORTAIL_PROVISIONAL_CODE_DAYS, "today": timezone.localdate()},
    )


# --- Account creation wizard ------------------------------------------------------


def _enrolment(request):
    return request.session.get(ENROLMENT)


@login_not_required
def enrol_terms_view(request):
    enrolment = _enrolment(request)
    if enrolment is None:
        return redirect("public:member_space")
    initial = {"decision": TermsForm.ACCEPT} if enrolment.get("terms_accepted_at") else {}
    form = TermsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["decision"] == TermsForm.REFUSE:
            member = Member.objects.filter(pk=enrolment["member_id"]).first()
            services.security_event_record(
                kind=SecurityEventKind.TERMS_REFUSED,
                outcome=Outcome.REFUSED,
                member=member,
                client_ip=security.client_ip(request),
            )
            code = member.provisional_codes.filter(pk=enrolment["code_id"]).first() if member else None
            del request.session[ENROLMENT]
            return render(request, "accounts/enrol_refused.html", {"code": code})
        enrolment["terms_accepted_at"] = _now().isoformat()
        request.session.modified = True
        return redirect("accounts:enrol_codes")
    return render(request, "accounts/enrol_terms.html", {"form": form, "step": 1})


@login_not_required
def enrol_codes_view(request):
    enrolment = _enrolment(request)
    if enrolment is None:
        return redirect("public:member_space")
    if not enrolment.get("terms_accepted_at"):
        return redirect("accounts:enrol_terms")
    member = Member.objects.get(pk=enrolment["member_id"])
    form = AccountCodesForm(
        request.POST or None, member=member, initial={"secret_question": enrolment.get("secret_question", "")}
    )
    if request.method == "POST":
        # Keep the chosen question if the member goes back; never the codes or the answer.
        enrolment["secret_question"] = request.POST.get("secret_question", "")
        request.session.modified = True
        if form.is_valid():
            try:
                account = services.account_create(
                    member_id=member.pk,
                    code_id=enrolment["code_id"],
                    provisional_code=form.cleaned_data["provisional_code"],
                    personal_code=form.cleaned_data["personal_code"],
                    secret_question=form.cleaned_data["secret_question"],
                    secret_answer=form.cleaned_data["secret_answer"],
                    terms_accepted_at=dt.datetime.fromisoformat(enrolment["terms_accepted_at"]),
                    client_ip=security.client_ip(request),
                    now=_now(),
                )
            except services.WrongProvisionalCode as error:
                if error.void:
                    del request.session[ENROLMENT]
                    return render(request, "accounts/code_void.html")
                form.add_error(
                    "provisional_code", _("Ce n'est pas le code provisoire reçu par courrier. Vérifiez-le.")
                )
            else:
                del request.session[ENROLMENT]
                _log_member_in(request, account.user)
                messages.success(request, _("Votre compte est créé. Dernière étape : votre adresse e-mail."))
                return redirect("accounts:enrol_email")
    return render(request, "accounts/enrol_codes.html", {"form": form, "step": 2, "rule": personal_code_rule()})


@member_view
def enrol_email_view(request):
    account = request.account
    form = EmailForm(request.POST or None, initial={"email": account.email or account.member.email})
    if request.method == "POST" and form.is_valid():
        services.email_verification_send(
            account=account, email=form.cleaned_data["email"], client_ip=security.client_ip(request)
        )
        return redirect("accounts:email_sent")
    return render(request, "accounts/enrol_email.html", {"form": form, "step": 3, "account": account})


@member_view
def email_sent_view(request):
    return render(
        request, "accounts/email_sent.html", {"account": request.account, "hours": settings.PORTAIL_EMAIL_LINK_HOURS}
    )


@require_POST
@member_view
def email_resend_view(request):
    account = request.account
    if not account.email:
        return redirect("accounts:enrol_email")
    services.email_verification_send(account=account, email=account.email, client_ip=security.client_ip(request))
    return redirect("accounts:email_sent")


@login_not_required
def email_confirm_view(request, token):
    try:
        services.email_verify(token=token, client_ip=security.client_ip(request), now=_now())
    except services.InvalidLink as error:
        return render(
            request, "accounts/link_invalid.html", {"expired": error.expired, "kind": "email"}, status=HTTPStatus.OK
        )
    return render(request, "accounts/email_confirmed.html")


# --- Access problems and recovery -----------------------------------------------------


@login_not_required
def access_problems_view(request):
    return render(
        request,
        "accounts/access_problems.html",
        {"link_minutes": settings.PORTAIL_RECOVERY_LINK_MINUTES},
    )


@login_not_required
def recovery_request_view(request):
    form = RecoveryRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = security.client_ip(request)
        retry_after = security.client_throttle_retry_after(ip=ip, now=_now())
        if retry_after is not None:
            return _throttled(request, retry_after)
        services.recovery_email_request(
            nir=form.cleaned_data["nir"], birth_date=form.cleaned_data["birth_date"], client_ip=ip
        )
        # Each request counts against the client's allowance, matched or not.
        security.client_throttle_register_failure(ip=ip, now=_now())
        return redirect("accounts:recovery_sent")
    return render(request, "accounts/recovery_request.html", {"form": form})


@login_not_required
def recovery_sent_view(request):
    return render(request, "accounts/recovery_sent.html", {"minutes": settings.PORTAIL_RECOVERY_LINK_MINUTES})


@login_not_required
def recovery_link_view(request, token):
    try:
        account = services.recovery_token_account(token=token)
    except services.InvalidLink as error:
        return render(request, "accounts/link_invalid.html", {"expired": error.expired, "kind": "recovery"})
    request.session.cycle_key()
    request.session[RECOVERY] = {"account_id": account.pk, "code_id": None}
    return redirect("accounts:recovery_question")


def _recovery_account(request) -> Account | None:
    state = request.session.get(RECOVERY)
    if state is None:
        return None
    return Account.objects.active().select_related("user", "member").filter(pk=state["account_id"]).first()


@login_not_required
def recovery_question_view(request):
    account = _recovery_account(request)
    if account is None:
        return redirect("accounts:access_problems")
    now = _now()
    locked_until = security.lockout_until(digest=security.nir_digest(account.member.nir), now=now)
    if locked_until is not None:
        del request.session[RECOVERY]
        return _locked(request, locked_until)
    form = SecretAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.secret_answer_check(
            account=account, answer=form.cleaned_data["answer"], client_ip=security.client_ip(request), now=now
        ):
            request.session[RECOVERY]["answer_ok"] = True
            request.session.modified = True
            return redirect("accounts:recovery_new_code")
        locked_until = security.lockout_until(digest=security.nir_digest(account.member.nir), now=now)
        if locked_until is not None:
            del request.session[RECOVERY]
            return _locked(request, locked_until)
        form.add_error("answer", _("Ce n'est pas la réponse enregistrée. Vérifiez l'orthographe et réessayez."))
    return render(
        request,
        "accounts/recovery_question.html",
        {"form": form, "question": account.get_secret_question_display()},
    )


@login_not_required
def recovery_new_code_view(request):
    account = _recovery_account(request)
    state = request.session.get(RECOVERY) or {}
    if account is None or not state.get("answer_ok"):
        return redirect("accounts:access_problems")
    form = NewPersonalCodeForm(request.POST or None, member=account.member)
    if request.method == "POST" and form.is_valid():
        services.personal_code_reset(
            account=account,
            new_code=form.cleaned_data["personal_code"],
            client_ip=security.client_ip(request),
            now=_now(),
            code_id=state.get("code_id"),
        )
        del request.session[RECOVERY]
        _log_member_in(request, account.user)
        messages.success(request, _("Votre nouveau code personnel est enregistré. Vous êtes connecté."))
        return redirect("accounts:home")
    return render(request, "accounts/recovery_new_code.html", {"form": form, "rule": personal_code_rule()})
