"""Enrolment, login and recovery: the business rules, one function each."""

import datetime as dt
import enum
import secrets
import unicodedata
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portail.accounts import security
from portail.accounts.enums import (
    AccountStatus,
    Outcome,
    ProvisionalCodeStatus,
    SecurityEventKind,
    UserKind,
)
from portail.accounts.models import Account, CodeOrder, ProvisionalCode, User
from portail.accounts.policy import normalise_answer
from portail.accounts.security import nir_digest, security_event_record
from portail.post.enums import EmailKind, LetterKind
from portail.post.services import email_enqueue, letter_enqueue
from portail.registry.models import Member
from portail.registry.nir import Nir

EMAIL_TOKEN_SALT = "portail.accounts.email-verification"
RECOVERY_TOKEN_SALT = "portail.accounts.recovery"

# A hash of a random code, checked when the NIR is unknown, so that an unknown
# NIR costs the same time as a known one.
_DUMMY_HASH: str | None = None


def _dummy_check(secret: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = make_password(secrets.token_hex(8))
    check_password(secret, _DUMMY_HASH)


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char)).upper()
    return " ".join(letters.replace("-", " ").replace("'", " ").replace("’", " ").split())


def member_for_nir(nir: Nir) -> Member | None:
    return Member.objects.filter(nir=nir.number).first()


# --- Provisional code ------------------------------------------------------


@dataclass(frozen=True)
class CodeOrderResult:
    """What the screen may say: the order is taken, or a limit says when to retry.
    It never says whether the identity matched."""

    accepted: bool
    retry_at: dt.datetime | None = None


def provisional_code_issue(*, member: Member, now: dt.datetime) -> ProvisionalCode:
    """Draw a new code, replace any earlier one, and post it to the address on file."""
    ProvisionalCode.objects.filter(member=member, status=ProvisionalCodeStatus.ACTIVE).update(
        status=ProvisionalCodeStatus.REPLACED, ended_at=now
    )
    code = f"{secrets.randbelow(10**8):08d}"
    expires_at = now + dt.timedelta(days=settings.PORTAIL_PROVISIONAL_CODE_DAYS)
    provisional = ProvisionalCode.objects.create(
        member=member, code_hash=make_password(code), issued_at=now, expires_at=expires_at
    )
    letter = letter_enqueue(
        member=member,
        kind=LetterKind.PROVISIONAL_CODE,
        context={
            "issued_at": timezone.localdate(now).isoformat(),
            "expires_at": timezone.localdate(expires_at).isoformat(),
        },
        secret_context={"code": code},
    )
    provisional.letter = letter
    provisional.save(update_fields=["letter"])
    return provisional


def provisional_code_order(
    *, nir: Nir, last_name: str, birth_date: dt.date, postal_code: str, client_ip: str | None, now: dt.datetime
) -> CodeOrderResult:
    """An order from the form. Limits count every order, matched or not."""
    digest = nir_digest(nir.number)
    client_window_start = now - dt.timedelta(hours=settings.PORTAIL_CODE_ORDERS_CLIENT_WINDOW_HOURS)
    if client_ip is not None:
        client_orders = CodeOrder.objects.filter(client_ip=client_ip, created_at__gte=client_window_start)
        if client_orders.count() >= settings.PORTAIL_CODE_ORDERS_PER_CLIENT:
            oldest = client_orders.order_by("created_at").values_list("created_at", flat=True).first()
            return CodeOrderResult(
                accepted=False,
                retry_at=oldest + dt.timedelta(hours=settings.PORTAIL_CODE_ORDERS_CLIENT_WINDOW_HOURS),
            )

    nir_window = dt.timedelta(days=settings.PORTAIL_CODE_ORDERS_WINDOW_DAYS)
    nir_orders = CodeOrder.objects.filter(nir_digest=digest, created_at__gte=now - nir_window)
    member = member_for_nir(nir)
    if nir_orders.count() >= settings.PORTAIL_CODE_ORDERS_PER_NIR:
        oldest = nir_orders.order_by("created_at").values_list("created_at", flat=True).first()
        if member is not None:
            security_event_record(
                kind=SecurityEventKind.CODE_ORDER_REFUSED, outcome=Outcome.REFUSED, member=member, client_ip=client_ip
            )
        return CodeOrderResult(accepted=False, retry_at=oldest + nir_window)

    order = CodeOrder.objects.create(nir_digest=digest, client_ip=client_ip, created_at=now)
    matches = (
        member is not None
        and member.is_eligible
        and member.birth_date == birth_date
        and member.postal_code == postal_code.replace(" ", "")
        and normalise_name(member.last_name) == normalise_name(last_name)
    )
    if matches:
        order.code = provisional_code_issue(member=member, now=now)
        order.save(update_fields=["code"])
        security_event_record(kind=SecurityEventKind.CODE_ORDERED, member=member, client_ip=client_ip)
    elif member is not None:
        security_event_record(
            kind=SecurityEventKind.CODE_ORDERED,
            outcome=Outcome.FAILURE,
            member=member,
            client_ip=client_ip,
            detail="identité ou adresse différente du registre, ou régime non éligible",
        )
    return CodeOrderResult(accepted=True)


def _active_code(member: Member, now: dt.datetime) -> ProvisionalCode | None:
    code = (
        ProvisionalCode.objects.select_for_update()
        .filter(member=member, status=ProvisionalCodeStatus.ACTIVE)
        .order_by("-issued_at")
        .first()
    )
    if code is not None and code.expires_at <= now:
        code.status = ProvisionalCodeStatus.EXPIRED
        code.ended_at = now
        code.save(update_fields=["status", "ended_at"])
        return None
    return code


def provisional_code_check(*, code: ProvisionalCode, secret: str, now: dt.datetime, client_ip=None) -> bool:
    """Check a typed code against a provisional code; three wrong tries void it."""
    if check_password(secret, code.code_hash):
        return True
    code.failed_attempts += 1
    fields = ["failed_attempts"]
    if code.failed_attempts >= settings.PORTAIL_CODE_MAX_ATTEMPTS:
        code.status = ProvisionalCodeStatus.VOID
        code.ended_at = now
        fields += ["status", "ended_at"]
        security_event_record(
            kind=SecurityEventKind.CODE_VOIDED, outcome=Outcome.FAILURE, member=code.member, client_ip=client_ip
        )
    code.save(update_fields=fields)
    return False


# --- Login -----------------------------------------------------------------


class LoginStatus(enum.Enum):
    SUCCESS = "success"  # personal code right: log the user in
    ENROL = "enrol"  # provisional code right, no account yet: start the creation wizard
    RECOVER = "recover"  # provisional code right on an existing account: secret answer, then new code
    FAILED = "failed"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    user: User | None = None
    member_id: int | None = None
    code_id: int | None = None
    account_id: int | None = None
    remaining_tries: int | None = None
    locked_until: dt.datetime | None = None


def login_attempt(*, nir: Nir, secret: str, client_ip: str | None, now: dt.datetime) -> LoginResult:
    """NIR + a code: the personal code of an account, or a provisional code.
    The answer for an unknown NIR is the same as for a wrong code.

    The usual case, a member with an account and the right personal code, reads one row and writes one event,
    with no transaction around the hash; every other case runs in one transaction (it locks the
    provisional code and counts the failure)."""
    digest = nir_digest(nir.number)
    lockout = security.lockout_state(digest=digest, now=now)
    if lockout.locked_until is not None:
        return LoginResult(status=LoginStatus.LOCKED, locked_until=lockout.locked_until)

    account = (
        Account.objects.select_related("user", "member")
        .filter(member__nir=nir.number, status=AccountStatus.ACTIVE)
        .first()
    )
    if account is not None and account.user.check_password(secret):
        if not lockout.clean:
            security.lockout_clear(digest=digest)
        security_event_record(kind=SecurityEventKind.LOGIN_SUCCEEDED, member=account.member, client_ip=client_ip)
        return LoginResult(status=LoginStatus.SUCCESS, user=account.user, member_id=account.member_id)
    return _login_without_personal_code(
        nir=nir, account=account, secret=secret, client_ip=client_ip, now=now, digest=digest
    )


@transaction.atomic
def _login_without_personal_code(
    *, nir: Nir, account: Account | None, secret: str, client_ip: str | None, now: dt.datetime, digest: str
) -> LoginResult:
    """No account, or its personal code was wrong: a provisional code, or a failure counted."""
    member = account.member if account is not None else member_for_nir(nir)
    if member is None:
        _dummy_check(secret)
    else:
        code = _active_code(member, now)
        if code is not None and provisional_code_check(code=code, secret=secret, now=now, client_ip=client_ip):
            security.lockout_clear(digest=digest)
            if account is None:
                security_event_record(
                    kind=SecurityEventKind.LOGIN_SUCCEEDED,
                    member=member,
                    client_ip=client_ip,
                    detail="code provisoire : création du compte",
                )
                return LoginResult(status=LoginStatus.ENROL, member_id=member.pk, code_id=code.pk)
            security_event_record(
                kind=SecurityEventKind.LOGIN_SUCCEEDED,
                member=member,
                client_ip=client_ip,
                detail="code provisoire : nouveau code personnel",
            )
            return LoginResult(status=LoginStatus.RECOVER, member_id=member.pk, code_id=code.pk, account_id=account.pk)
        if code is None and account is None:
            _dummy_check(secret)

    security.client_throttle_register_failure(ip=client_ip, now=now)
    failure = security.lockout_register_failure(digest=digest, now=now)
    if member is not None:
        security_event_record(
            kind=SecurityEventKind.LOGIN_FAILED, outcome=Outcome.FAILURE, member=member, client_ip=client_ip
        )
        if failure.locked_until is not None:
            security_event_record(
                kind=SecurityEventKind.ACCOUNT_LOCKED,
                outcome=Outcome.REFUSED,
                member=member,
                client_ip=client_ip,
                detail=f"jusqu'au {timezone.localtime(failure.locked_until):%d/%m/%Y %H:%M}",
            )
    if failure.locked_until is not None:
        return LoginResult(status=LoginStatus.LOCKED, locked_until=failure.locked_until)
    return LoginResult(status=LoginStatus.FAILED, remaining_tries=failure.remaining_tries)


# --- Account creation --------------------------------------------------------


class WrongProvisionalCode(Exception):
    def __init__(self, *, void: bool):
        super().__init__("wrong provisional code")
        self.void = void


def account_create(
    *,
    member_id: int,
    code_id: int,
    provisional_code: str,
    personal_code: str,
    secret_question: str,
    secret_answer: str,
    terms_accepted_at: dt.datetime,
    client_ip: str | None,
    now: dt.datetime,
) -> Account:
    """Create the account. The provisional code is checked again and dies here.
    A wrong code is counted (and saved) before the error is raised."""
    with transaction.atomic():
        code = (
            ProvisionalCode.objects.select_for_update().select_related("member").get(pk=code_id, member_id=member_id)
        )
        if code.status != ProvisionalCodeStatus.ACTIVE or code.expires_at <= now:
            raise WrongProvisionalCode(void=True)
        right = provisional_code_check(code=code, secret=provisional_code, now=now, client_ip=client_ip)
    if not right:
        raise WrongProvisionalCode(void=code.status != ProvisionalCodeStatus.ACTIVE)
    with transaction.atomic():
        return _account_open(
            code=code,
            personal_code=personal_code,
            secret_question=secret_question,
            secret_answer=secret_answer,
            terms_accepted_at=terms_accepted_at,
            client_ip=client_ip,
            now=now,
        )


def _account_open(*, code, personal_code, secret_question, secret_answer, terms_accepted_at, client_ip, now):
    member = code.member
    user = User(username=f"assure-{uuid.uuid4().hex}", kind=UserKind.MEMBER, last_name=member.last_name)
    user.set_password(personal_code)
    user.save()
    account = Account.objects.create(
        user=user,
        member=member,
        secret_question=secret_question,
        secret_answer_hash=make_password(normalise_answer(secret_answer)),
        terms_accepted_at=terms_accepted_at,
    )
    code.status = ProvisionalCodeStatus.USED
    code.ended_at = now
    code.save(update_fields=["status", "ended_at"])
    security_event_record(kind=SecurityEventKind.ACCOUNT_CREATED, member=member, client_ip=client_ip)
    return account


# --- E-mail address ------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.PORTAIL_BASE_URL.rstrip("/") + path


def email_verification_send(*, account: Account, email: str, client_ip: str | None) -> None:
    """Record the address (not yet verified) and send it a signed link."""
    account.email = email
    account.email_verified_at = None
    account.save(update_fields=["email", "email_verified_at"])
    token = signing.dumps({"a": account.pk, "e": email}, salt=EMAIL_TOKEN_SALT)
    context = {
        "link": _absolute(reverse("accounts:email_confirm", args=[token])),
        "hours": settings.PORTAIL_EMAIL_LINK_HOURS,
        "fund_name": settings.PORTAIL_FUND_NAME,
    }
    body = render_to_string("accounts/emails/verify_email.txt", context)
    email_enqueue(
        to=email,
        subject=_("Confirmez votre adresse e-mail – Portail assuré"),
        body=body,
        kind=EmailKind.EMAIL_CONFIRMATION,
        member=account.member,
    )
    security_event_record(kind=SecurityEventKind.EMAIL_VERIFICATION_SENT, member=account.member, client_ip=client_ip)


class InvalidLink(Exception):
    def __init__(self, *, expired: bool):
        super().__init__("invalid link")
        self.expired = expired


def email_verify(*, token: str, client_ip: str | None, now: dt.datetime) -> Account:
    try:
        data = signing.loads(
            token, salt=EMAIL_TOKEN_SALT, max_age=dt.timedelta(hours=settings.PORTAIL_EMAIL_LINK_HOURS)
        )
    except signing.SignatureExpired as error:
        raise InvalidLink(expired=True) from error
    except signing.BadSignature as error:
        raise InvalidLink(expired=False) from error
    account = Account.objects.active().filter(pk=data.get("a"), email=data.get("e")).first()
    if account is None:
        raise InvalidLink(expired=False)
    if account.email_verified_at is None:
        account.email_verified_at = now
        account.save(update_fields=["email_verified_at"])
        security_event_record(kind=SecurityEventKind.EMAIL_VERIFIED, member=account.member, client_ip=client_ip)
    return account


# --- Recovery --------------------------------------------------------------------


def recovery_email_request(*, nir: Nir, birth_date: dt.date, client_ip: str | None) -> None:
    """Send a recovery link to the verified e-mail, if NIR and birth date match
    an active account. The caller shows the same screen in every case."""
    member = member_for_nir(nir)
    if member is None or member.birth_date != birth_date:
        return
    account = Account.objects.active().filter(member=member, email_verified_at__isnull=False).first()
    if account is None:
        return
    token = signing.dumps({"a": account.pk, "p": account.user.password[-16:]}, salt=RECOVERY_TOKEN_SALT)
    context = {
        "link": _absolute(reverse("accounts:recovery_link", args=[token])),
        "minutes": settings.PORTAIL_RECOVERY_LINK_MINUTES,
        "fund_name": settings.PORTAIL_FUND_NAME,
    }
    body = render_to_string("accounts/emails/recovery.txt", context)
    email_enqueue(
        to=account.email,
        subject=_("Choisir un nouveau code personnel – Portail assuré"),
        body=body,
        kind=EmailKind.ACCOUNT_RECOVERY,
        member=member,
    )
    security_event_record(kind=SecurityEventKind.RECOVERY_LINK_SENT, member=member, client_ip=client_ip)


def recovery_token_account(*, token: str) -> Account:
    """The account a recovery link is for. A link dies once the code is changed."""
    try:
        data = signing.loads(
            token, salt=RECOVERY_TOKEN_SALT, max_age=dt.timedelta(minutes=settings.PORTAIL_RECOVERY_LINK_MINUTES)
        )
    except signing.SignatureExpired as error:
        raise InvalidLink(expired=True) from error
    except signing.BadSignature as error:
        raise InvalidLink(expired=False) from error
    account = Account.objects.active().select_related("user", "member").filter(pk=data.get("a")).first()
    if account is None or account.user.password[-16:] != data.get("p"):
        raise InvalidLink(expired=False)
    return account


def secret_answer_check(*, account: Account, answer: str, client_ip: str | None, now: dt.datetime) -> bool:
    """Check the secret answer. Wrong answers count as wrong codes (lockout)."""
    if check_password(normalise_answer(answer), account.secret_answer_hash):
        return True
    security_event_record(
        kind=SecurityEventKind.SECRET_ANSWER_FAILED,
        outcome=Outcome.FAILURE,
        member=account.member,
        client_ip=client_ip,
    )
    security.lockout_register_failure(digest=nir_digest(account.member.nir), now=now)
    return False


@transaction.atomic
def personal_code_reset(
    *, account: Account, new_code: str, client_ip: str | None, now: dt.datetime, code_id: int | None = None
) -> None:
    """Set a new personal code after recovery; unlocks the account; the
    provisional code used, if any, dies."""
    account.user.set_password(new_code)
    account.user.save(update_fields=["password"])
    if code_id is not None:
        ProvisionalCode.objects.filter(pk=code_id, member=account.member).update(
            status=ProvisionalCodeStatus.USED, ended_at=now
        )
    digest = nir_digest(account.member.nir)
    was_locked = security.lockout_until(digest=digest, now=now) is not None
    security.lockout_clear(digest=digest)
    security_event_record(kind=SecurityEventKind.PERSONAL_CODE_CHANGED, member=account.member, client_ip=client_ip)
    if was_locked:
        security_event_record(
            kind=SecurityEventKind.ACCOUNT_UNLOCKED, member=account.member, client_ip=client_ip, detail="récupération"
        )


# --- Profile and termination -------------------------------------------------------


def _notify(*, account: Account, to: str, subject: str, template: str, context: dict, kind) -> None:
    """An e-mail about the account: never a code, an answer or a NIR."""
    context = {"fund_name": settings.PORTAIL_FUND_NAME, "base_url": settings.PORTAIL_BASE_URL, **context}
    body = render_to_string(template, context)
    email_enqueue(to=to, subject=subject, body=body, kind=kind, member=account.member)


def reauthentication_check(*, account: Account, secret: str, client_ip: str | None, now: dt.datetime) -> bool:
    """The personal code typed again before a change. A wrong one counts toward the lockout."""
    if account.user.check_password(secret):
        return True
    security_event_record(
        kind=SecurityEventKind.REAUTHENTICATION_FAILED,
        outcome=Outcome.FAILURE,
        member=account.member,
        client_ip=client_ip,
    )
    security.lockout_register_failure(digest=nir_digest(account.member.nir), now=now)
    return False


def email_change(*, account: Account, new_email: str, client_ip: str | None) -> None:
    """Send the verification link to the new address, and a notice to the old one."""
    old_email = account.email if account.email_verified else ""
    email_verification_send(account=account, email=new_email, client_ip=client_ip)
    security_event_record(kind=SecurityEventKind.EMAIL_CHANGED, member=account.member, client_ip=client_ip)
    if old_email and old_email != new_email:
        _notify(
            account=account,
            to=old_email,
            subject=_("Changement d'adresse e-mail de votre compte – Portail assuré"),
            template="accounts/emails/email_changed.txt",
            context={"new_email": new_email},
            kind=EmailKind.OTHER,
        )


def _notify_verified(*, account: Account, subject: str, what: str) -> None:
    if account.email_verified:
        _notify(
            account=account,
            to=account.email,
            subject=subject,
            template="accounts/emails/account_changed.txt",
            context={"what": what},
            kind=EmailKind.OTHER,
        )


@transaction.atomic
def personal_code_change(*, account: Account, new_code: str, client_ip: str | None) -> None:
    account.user.set_password(new_code)
    account.user.save(update_fields=["password"])
    security_event_record(kind=SecurityEventKind.PERSONAL_CODE_CHANGED, member=account.member, client_ip=client_ip)
    _notify_verified(
        account=account,
        subject=_("Votre code personnel a été changé – Portail assuré"),
        what=_("votre code personnel a été changé"),
    )


@transaction.atomic
def secret_question_change(*, account: Account, question: str, answer: str, client_ip: str | None) -> None:
    account.secret_question = question
    account.secret_answer_hash = make_password(normalise_answer(answer))
    account.save(update_fields=["secret_question", "secret_answer_hash"])
    security_event_record(kind=SecurityEventKind.SECRET_QUESTION_CHANGED, member=account.member, client_ip=client_ip)
    _notify_verified(
        account=account,
        subject=_("Votre question secrète a été changée – Portail assuré"),
        what=_("votre question secrète et sa réponse ont été changées"),
    )


@transaction.atomic
def account_terminate(*, account: Account, client_ip: str | None, now: dt.datetime) -> None:
    """Close the account: it can no longer log in (every session ends), paper
    statements come back, a confirmation goes by post (and by e-mail if verified)."""
    account = Account.objects.select_for_update().select_related("user", "member").get(pk=account.pk)
    if account.status != AccountStatus.ACTIVE:
        return
    account.status = AccountStatus.TERMINATED
    account.terminated_at = now
    account.save(update_fields=["status", "terminated_at"])
    # An inactive user is refused by the authentication backend on its next
    # request, whichever session or device it comes from.
    account.user.is_active = False
    account.user.save(update_fields=["is_active"])
    letter_enqueue(
        member=account.member,
        kind=LetterKind.ACCOUNT_TERMINATED,
        context={"terminated_on": timezone.localdate(now).isoformat()},
    )
    if account.email_verified:
        _notify(
            account=account,
            to=account.email,
            subject=_("Votre compte est résilié – Portail assuré"),
            template="accounts/emails/terminated.txt",
            context={"terminated_on": timezone.localdate(now)},
            kind=EmailKind.ACCOUNT_TERMINATED,
        )
    security_event_record(kind=SecurityEventKind.ACCOUNT_TERMINATED, member=account.member, client_ip=client_ip)
