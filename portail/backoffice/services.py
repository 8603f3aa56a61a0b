"""Back-office writes: agents' login and enrolment, actions on a member, letter batches, the audit log.

Every function that shows or changes something about a member, or exports anything, records one
`AgentAccess` row in the same transaction.
"""

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from base64 import b32encode
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts import security
from portail.accounts.enums import SecurityEventKind, UserKind
from portail.accounts.models import Account, ProvisionalCode, User
from portail.accounts.security import nir_digest, security_event_record
from portail.accounts.services import provisional_code_issue
from portail.backoffice.enums import AgentAction, AgentRole
from portail.backoffice.models import AgentAccess
from portail.backoffice.roles import agent_role, role_assign
from portail.post.enums import EmailKind
from portail.post.models import PrintBatch
from portail.post.services import email_enqueue, print_batch_export, print_batch_mark_posted
from portail.registry.models import Member

DEVICE_NAME = "Application d'authentification"


# --- Audit log -------------------------------------------------------------------


def agent_access_record(*, agent, action, member=None, reason="", detail="", client_ip=None) -> AgentAccess:
    """Append one row to the agents' audit log. Never a code, an answer, a hash or a full NIR in `detail`."""
    return AgentAccess.objects.create(
        agent=agent, action=action, member=member, reason=reason, detail=detail[:300], client_ip=client_ip
    )


# --- Agents ---------------------------------------------------------------------


def _one_time_password() -> str:
    """20 characters from an unambiguous alphabet, in groups of 5: about 100 bits."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[index : index + 5] for index in range(0, 20, 5))


@dataclass(frozen=True)
class AgentCreated:
    user: User
    created: bool
    password: str | None  # the one-time password to hand over, when one was set


@transaction.atomic
def agent_create(*, username: str, role: AgentRole, password: str | None = None, reset: bool = False) -> AgentCreated:
    """Create an agent with `role`, or give an existing agent that role (idempotent).

    A new agent (or one `reset`) gets a one-time password (`password`, or a random one) and no
    authenticator: the first login enrols TOTP, then asks for a new password. A reset also removes the
    agent's authenticators. Refuses a member's username (ValueError)."""
    user = User.objects.filter(username=username).first()
    if user is not None and user.kind != UserKind.AGENT:
        raise ValueError("This username belongs to a member.")
    created = user is None
    if created:
        user = User(username=username, kind=UserKind.AGENT)
    new_password = None
    if created or reset:
        new_password = password or _one_time_password()
        user.set_password(new_password)
        user.last_login = None  # never logged in: the first login asks for a password of their own
        user.is_active = True
    user.is_staff = AgentRole(role) == AgentRole.ADMINISTRATOR
    user.save()
    if reset:
        TOTPDevice.objects.filter(user=user).delete()
    role_assign(user=user, role=role)
    return AgentCreated(user=user, created=created, password=new_password)


def _agent_digest(username: str) -> str:
    """The lockout key of a username, whether or not it exists (no enumeration)."""
    key = settings.PORTAIL_PEPPER.encode()
    return hmac.new(key, f"agent:{username.strip().casefold()}".encode(), hashlib.sha256).hexdigest()


class AgentLoginStatus(enum.Enum):
    SUCCESS = "success"
    FAILED = "failed"
    LOCKED = "locked"


@dataclass(frozen=True)
class AgentLoginResult:
    status: AgentLoginStatus
    user: User | None = None
    locked_until: dt.datetime | None = None


def _failure(*, username: str, client_ip: str | None, now: dt.datetime) -> AgentLoginResult:
    security.client_throttle_register_failure(ip=client_ip, now=now)
    failure = security.lockout_register_failure(digest=_agent_digest(username), now=now)
    if failure.locked_until is not None:
        return AgentLoginResult(status=AgentLoginStatus.LOCKED, locked_until=failure.locked_until)
    return AgentLoginResult(status=AgentLoginStatus.FAILED)


def agent_password_check(*, request, username: str, password: str, client_ip, now) -> AgentLoginResult:
    """First factor. The same failure for an unknown username, a wrong password, a member or an agent
    without a role; failures count per username (lockout) and per client address."""
    locked_until = security.lockout_until(digest=_agent_digest(username), now=now)
    if locked_until is not None:
        return AgentLoginResult(status=AgentLoginStatus.LOCKED, locked_until=locked_until)
    user = authenticate(request, username=username, password=password)
    if user is None or agent_role(user) is None:
        return _failure(username=username, client_ip=client_ip, now=now)
    return AgentLoginResult(status=AgentLoginStatus.SUCCESS, user=user)


def agent_device(*, user) -> TOTPDevice | None:
    """The agent's confirmed authenticator, if enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def agent_token_check(*, user, device: TOTPDevice, token: str, client_ip, now) -> AgentLoginResult:
    """Second factor: a token from the confirmed (or being-enrolled) device. Wrong tokens count like
    wrong passwords; django-otp also throttles the device and refuses a token used before."""
    locked_until = security.lockout_until(digest=_agent_digest(user.username), now=now)
    if locked_until is not None:
        return AgentLoginResult(status=AgentLoginStatus.LOCKED, locked_until=locked_until)
    if device.user_id != user.pk or not device.verify_token(token):
        return _failure(username=user.username, client_ip=client_ip, now=now)
    security.lockout_clear(digest=_agent_digest(user.username))
    return AgentLoginResult(status=AgentLoginStatus.SUCCESS, user=user)


def agent_enrolment_device(*, user) -> TOTPDevice:
    """The authenticator being enrolled (unconfirmed), created on first call and kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def agent_enrolment_confirm(*, user, device: TOTPDevice, token: str, client_ip, now) -> AgentLoginResult:
    """Confirm a new authenticator with its first token; other unconfirmed devices go."""
    result = agent_token_check(user=user, device=device, token=token, client_ip=client_ip, now=now)
    if result.status is AgentLoginStatus.SUCCESS:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
    return result


def totp_provisioning_uri(*, device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code (issuer: the fund's name)."""
    issuer = settings.PORTAIL_FUND_NAME.replace(":", "")
    label = quote(f"{issuer}:{device.user.get_username()}")
    params = urlencode(
        {
            "secret": b32encode(device.bin_key).decode(),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def totp_secret_for_display(*, device: TOTPDevice) -> str:
    """The base32 secret in groups of 4, for typing it by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


@transaction.atomic
def agent_password_set(*, user, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])


# --- Actions on a member ------------------------------------------------------------


def member_lock_state(*, member: Member, now: dt.datetime) -> dt.datetime | None:
    """Until when the member's NIR is locked (login), or None."""
    return security.lockout_until(digest=nir_digest(member.nir), now=now)


@transaction.atomic
def member_unlock(*, agent, member: Member, reason: str, note: str = "", client_ip=None, now) -> bool:
    """Lift the member's login lock. When it was locked: security event, and an e-mail to the account's
    verified address (if any). Audited in every case. Returns whether it was locked."""
    was_locked = member_lock_state(member=member, now=now) is not None
    security.lockout_clear(digest=nir_digest(member.nir))
    detail = note.strip()
    if was_locked:
        security_event_record(
            kind=SecurityEventKind.ACCOUNT_UNLOCKED,
            member=member,
            client_ip=client_ip,
            detail="par un agent de la caisse",
        )
        account = Account.objects.active().filter(member=member).first()
        if account is not None and account.email_verified:
            with translation.override("fr"):
                body = render_to_string(
                    "backoffice/emails/account_unlocked.txt",
                    {"fund_name": settings.PORTAIL_FUND_NAME, "base_url": settings.PORTAIL_BASE_URL},
                )
            email_enqueue(
                to=account.email,
                subject="Votre compte a été débloqué – Portail assuré",
                body=body,
                kind=EmailKind.OTHER,
                member=member,
            )
    else:
        detail = f"aucun blocage en cours. {detail}".strip()
    agent_access_record(
        agent=agent,
        action=AgentAction.ACCOUNT_UNLOCKED,
        member=member,
        reason=reason,
        detail=detail,
        client_ip=client_ip,
    )
    return was_locked


class MemberNotEligible(Exception):
    """The member's scheme is managed elsewhere: no provisional code."""


@transaction.atomic
def member_provisional_code_send(
    *, agent, member: Member, reason: str, note: str = "", client_ip=None, now
) -> ProvisionalCode:
    """A new provisional code by post to the address on file (it replaces any earlier one). The letter
    itself informs the member. Audited; refused for a member who may not use the portal."""
    if not member.is_eligible:
        raise MemberNotEligible
    code = provisional_code_issue(member=member, now=now)
    security_event_record(
        kind=SecurityEventKind.CODE_ORDERED,
        member=member,
        client_ip=client_ip,
        detail="à la demande d'un agent de la caisse",
    )
    agent_access_record(
        agent=agent,
        action=AgentAction.PROVISIONAL_CODE_SENT,
        member=member,
        reason=reason,
        detail=note.strip(),
        client_ip=client_ip,
    )
    return code


# --- Letters ----------------------------------------------------------------------------


def letters_batch_export(*, agent, client_ip=None) -> PrintBatch | None:
    """Export a print batch of every letter waiting (None when there is none), audited."""
    batch = print_batch_export(created_by=agent.get_username())
    if batch is not None:
        agent_access_record(
            agent=agent,
            action=AgentAction.PRINT_BATCH_EXPORTED,
            detail=f"lot n° {batch.pk} : {batch.letter_count} courrier(s)",
            client_ip=client_ip,
        )
    return batch


@transaction.atomic
def letters_batch_mark_posted(*, agent, batch_id: int, client_ip=None) -> PrintBatch:
    """The batch went to La Poste (idempotent: a second call changes nothing and records nothing)."""
    already = PrintBatch.objects.filter(pk=batch_id, posted_at__isnull=False).exists()
    batch = print_batch_mark_posted(batch_id=batch_id)
    if not already:
        agent_access_record(
            agent=agent, action=AgentAction.PRINT_BATCH_POSTED, detail=f"lot n° {batch.pk}", client_ip=client_ip
        )
    return batch


def letters_batch_download_record(*, agent, batch: PrintBatch, what: str, client_ip=None) -> None:
    agent_access_record(
        agent=agent,
        action=AgentAction.PRINT_BATCH_DOWNLOADED,
        detail=f"lot n° {batch.pk} : {what}",
        client_ip=client_ip,
    )
