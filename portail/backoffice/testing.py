"""Test helpers for the back office, for every app's tests: agents with a role and a confirmed TOTP
device, logged in with both factors. (The pytest plugin is `portail.backoffice.pytest_plugin`.)"""

import itertools

from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.enums import UserKind
from portail.accounts.models import User
from portail.backoffice.enums import AgentRole
from portail.backoffice.roles import role_assign

AGENT_PASSWORD = "correct-horse-battery-staple-42"
_numbers = itertools.count(1)


def agent_make(*, role: AgentRole | None = AgentRole.AGENT, username: str | None = None, device: bool = True) -> User:
    """An agent with `role` (None: no role) and, unless `device=False`, a confirmed TOTP device."""
    user = User(
        username=username or f"agent{next(_numbers)}",
        kind=UserKind.AGENT,
        first_name="Camille",
        last_login=timezone.now(),  # has logged in before: no first-login password step
    )
    user.set_password(AGENT_PASSWORD)
    user.save()
    if role is not None:
        role_assign(user=user, role=role)
    if device:
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


def token_for(device: TOTPDevice) -> str:
    """The token the agent's authenticator shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def client_log_agent_in(client, user, *, verified: bool = True):
    """Log `user` in on the test client; with `verified`, as if the TOTP step had passed."""
    client.force_login(user, backend="portail.accounts.backends.PortailModelBackend")
    if verified:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="test", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
