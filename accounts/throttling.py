"""Login throttling for every door that takes a password (API login, admin site, HTTP Digest).

Two limits, each a fixed window counted in the database with conditional UPDATEs (no read-modify-
write, so concurrent guesses cannot slip past the limit, and it works the same on SQLite):

- a username from one address (`LOGIN_MAX_FAILURES_PER_USER` in `LOGIN_FAILURE_WINDOW`): a guesser's
  address is refused even with the right password, while the owner logging in from elsewhere is not
  locked out by somebody else's guesses;
- an address over every username (`LOGIN_MAX_FAILURES_PER_ADDRESS` in `LOGIN_ADDRESS_FAILURE_WINDOW`),
  slower, against one address trying many accounts.

An attempt takes its slot before the password is checked and a success gives it back, so a burst of
parallel requests gets no more tries than a sequence would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from lprnvr.alerts import services as alerts
from lprnvr.alerts.models import EventKind

from .models import LoginFailureCounter


class LoginThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int
    window: int  # seconds


def _limits(username: str, address: str) -> tuple[Limit, Limit]:
    address = address[:64]
    return (
        Limit(
            f"user:{username.lower()[:150]}|{address}",
            settings.LOGIN_MAX_FAILURES_PER_USER,
            settings.LOGIN_FAILURE_WINDOW,
        ),
        Limit(f"addr:{address}", settings.LOGIN_MAX_FAILURES_PER_ADDRESS, settings.LOGIN_ADDRESS_FAILURE_WINDOW),
    )


def _take(limit: Limit, now: datetime) -> bool:
    """One slot of the limit, atomically; False when it is spent."""
    counters = LoginFailureCounter.objects.filter(key=limit.key)
    cutoff = now - timedelta(seconds=limit.window)
    for _attempt in range(2):
        # An expired window starts over; the WHERE is re-checked under the row lock, so of two
        # racing requests only one restarts the window and the other counts in it.
        if counters.filter(window_start__lt=cutoff).update(failures=1, window_start=now):
            return True
        if counters.filter(window_start__gte=cutoff, failures__lt=limit.max_failures).update(
            failures=F("failures") + 1
        ):
            return True
        if counters.exists():
            return False
        try:
            with transaction.atomic():
                LoginFailureCounter.objects.create(key=limit.key, failures=1, window_start=now)
            return True
        except IntegrityError:  # created meanwhile by a parallel attempt: count in it
            continue
    return False


def _retry_after(limit: Limit, now: datetime) -> int:
    counter = LoginFailureCounter.objects.filter(key=limit.key).first()
    if counter is None:
        return 1
    remaining = (counter.window_start + timedelta(seconds=limit.window) - now).total_seconds()
    return max(1, math.ceil(remaining))


def start_login_attempt(username: str, address: str) -> None:
    """Count an attempt for this username from this address. Raises LoginThrottled (with the
    seconds to wait) when a limit is spent: then the password must not even be checked."""
    now = timezone.now()
    taken: list[Limit] = []
    for limit in _limits(username, address):
        if not _take(limit, now):
            for other in taken:  # a refused attempt is not counted
                _give_back(other)
            retry_after = _retry_after(limit, now)
            if not taken:  # the username's own limit: somebody is guessing this account's password
                report_account_throttled(username, address, limit, retry_after)
            raise LoginThrottled(retry_after)
        taken.append(limit)
    horizon = max(settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_ADDRESS_FAILURE_WINDOW)
    LoginFailureCounter.objects.filter(window_start__lt=now - timedelta(seconds=horizon)).delete()


def report_account_throttled(username: str, address: str, limit: Limit, retry_after: int) -> None:
    """An alert event, once per window and account/address (every refused guess after that is not news)."""
    if not cache.add(f"alerts:throttled:{limit.key}", 1, timeout=retry_after):
        return
    detail = {"address": address[:64], "failures": limit.max_failures, "window_seconds": limit.window}
    alerts.emit(kind=EventKind.LOGIN_FAILURES, subject=username[:150], detail=detail)


def _give_back(limit: Limit) -> None:
    LoginFailureCounter.objects.filter(key=limit.key, failures__gt=0).update(failures=F("failures") - 1)


def login_succeeded(username: str, address: str) -> None:
    """The attempt was right: the username's failures from this address are forgotten and the
    address gets its slot back."""
    per_user, per_address = _limits(username, address)
    LoginFailureCounter.objects.filter(key=per_user.key).delete()
    _give_back(per_address)
