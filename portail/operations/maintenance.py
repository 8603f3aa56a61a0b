"""Planned maintenance: is it on, until when, and why.

Two switches, the first that says "on" wins:
- settings PORTAIL_MAINTENANCE_UNTIL (ISO date-time) and PORTAIL_MAINTENANCE_REASON,
  for an operator who restarts the processes with a new environment;
- `manage.py maintenance on --until ... --reason ...`, a database row every
  process sees within a few seconds, without a restart.
"""

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portail.operations.models import MaintenanceWindow

# Each process looks at the database at most this often.
_CACHE_SECONDS = 5
_cached: tuple[float, "Maintenance | None"] = (0.0, None)


@dataclass(frozen=True)
class Maintenance:
    ends_at: dt.datetime
    reason: str

    @property
    def retry_after(self) -> int:
        return max(int((self.ends_at - timezone.now()).total_seconds()), 60)


def _from_settings(now: dt.datetime) -> Maintenance | None:
    until = parse_datetime(settings.PORTAIL_MAINTENANCE_UNTIL or "")
    if until is None:
        return None
    if timezone.is_naive(until):
        until = timezone.make_aware(until)
    return Maintenance(ends_at=until, reason=settings.PORTAIL_MAINTENANCE_REASON) if until > now else None


def _from_database(now: dt.datetime) -> Maintenance | None:
    window = (
        MaintenanceWindow.objects.filter(starts_at__lte=now, ends_at__gt=now, cancelled_at__isnull=True)
        .order_by("-starts_at")
        .first()
    )
    return Maintenance(ends_at=window.ends_at, reason=window.reason) if window else None


def maintenance_current(*, use_cache: bool = True) -> Maintenance | None:
    global _cached
    now = timezone.now()
    if (found := _from_settings(now)) is not None:
        return found
    if use_cache and time.monotonic() - _cached[0] < _CACHE_SECONDS:
        return _cached[1] if _cached[1] is None or _cached[1].ends_at > now else None
    try:
        found = _from_database(now)
    except DatabaseError:
        found = None  # the outage page will say what is wrong
    _cached = (time.monotonic(), found)
    return found


def maintenance_start(*, ends_at: dt.datetime, reason: str, now: dt.datetime) -> MaintenanceWindow:
    maintenance_clear_cache()
    return MaintenanceWindow.objects.create(reason=reason, starts_at=now, ends_at=ends_at)


def maintenance_stop(*, now: dt.datetime) -> int:
    maintenance_clear_cache()
    return MaintenanceWindow.objects.filter(cancelled_at__isnull=True, ends_at__gt=now).update(cancelled_at=now)


def maintenance_clear_cache() -> None:
    global _cached
    _cached = (0.0, None)
