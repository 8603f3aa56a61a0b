"""Counters that stop guessing: lockout per NIR, throttle per client address.

They live in the cache (database cache by default, Redis when configured), so
they hold across every web process. The lockout is keyed by a peppered digest
of the NIR, not by the account: a NIR with no account locks exactly like one
with an account, so the lock screen tells an attacker nothing.
"""

import datetime as dt
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from portail.accounts.enums import Outcome
from portail.accounts.models import SecurityEvent

# Counters outlive the longest lock so that escalation can be computed.
_ESCALATION_MEMORY = 7 * 24 * 3600


def nir_digest(nir_number: str) -> str:
    """A stable, peppered fingerprint of a NIR: lets us count without storing it."""
    key = settings.PORTAIL_PEPPER.encode()
    return hmac.new(key, f"nir:{nir_number}".encode(), hashlib.sha256).hexdigest()


def client_ip(request) -> str | None:
    """The member's address: REMOTE_ADDR, or the address the trusted proxy saw."""
    candidate = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The proxy appends the address it saw: the last one is the only one we can trust.
            candidate = forwarded.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def security_event_record(*, kind, outcome=Outcome.SUCCESS, member=None, client_ip=None, detail="") -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind, outcome=outcome, member=member, client_ip=client_ip, detail=detail[:200]
    )


@dataclass(frozen=True)
class FailureOutcome:
    remaining_tries: int
    locked_until: dt.datetime | None


def _keys(digest: str) -> tuple[str, str, str]:
    return f"login:failures:{digest}", f"login:locks:{digest}", f"login:locked-until:{digest}"


def _incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def lockout_until(*, digest: str, now: dt.datetime) -> dt.datetime | None:
    """When the NIR's lock ends, or None if it is not locked."""
    return _until(cache.get(_keys(digest)[2]), now)


def _until(timestamp: float | None, now: dt.datetime) -> dt.datetime | None:
    if timestamp is None or timestamp <= now.timestamp():
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


@dataclass(frozen=True)
class LockoutState:
    locked_until: dt.datetime | None
    clean: bool  # no failure, lock or lock count remembered: nothing for lockout_clear() to do


def lockout_state(*, digest: str, now: dt.datetime) -> LockoutState:
    """lockout_until(), and whether the slate is already clean, in one read of the cache."""
    keys = _keys(digest)
    found = cache.get_many(keys)
    return LockoutState(locked_until=_until(found.get(keys[2]), now), clean=not found)


def lockout_register_failure(*, digest: str, now: dt.datetime) -> FailureOutcome:
    """Count a wrong code. The limit reached, lock: 15 min, then each new lock
    doubles (30, 60 ...) up to the maximum (24 h by default)."""
    failures_key, locks_key, until_key = _keys(digest)
    failures = _incr(failures_key, _ESCALATION_MEMORY)
    limit = settings.PORTAIL_LOGIN_MAX_FAILURES
    if failures < limit:
        return FailureOutcome(remaining_tries=limit - failures, locked_until=None)
    cache.delete(failures_key)
    locks = _incr(locks_key, _ESCALATION_MEMORY)
    minutes = min(settings.PORTAIL_LOCK_BASE_MINUTES * 2 ** (locks - 1), settings.PORTAIL_LOCK_MAX_MINUTES)
    until = now + dt.timedelta(minutes=minutes)
    cache.set(until_key, until.timestamp(), timeout=minutes * 60)
    return FailureOutcome(remaining_tries=0, locked_until=until)


def lockout_clear(*, digest: str) -> None:
    """After a successful login or a recovery: the slate is clean."""
    cache.delete_many(list(_keys(digest)))


def _client_bucket(ip: str, now: dt.datetime) -> tuple[str, int]:
    window = settings.PORTAIL_LOGIN_CLIENT_WINDOW_SECONDS
    bucket = int(now.timestamp() // window)
    retry_after = (bucket + 1) * window - int(now.timestamp())
    return f"login:client:{ip}:{bucket}", max(retry_after, 1)


def client_throttle_retry_after(*, ip: str | None, now: dt.datetime) -> int | None:
    """Seconds before this address may try again, or None if it may try now."""
    if ip is None:
        return None
    key, retry_after = _client_bucket(ip, now)
    if (cache.get(key) or 0) >= settings.PORTAIL_LOGIN_FAILURES_PER_CLIENT:
        return retry_after
    return None


def client_throttle_register_failure(*, ip: str | None, now: dt.datetime) -> None:
    if ip is None:
        return
    key, _ = _client_bucket(ip, now)
    _incr(key, settings.PORTAIL_LOGIN_CLIENT_WINDOW_SECONDS + 60)
