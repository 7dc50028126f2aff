"""Which failures are worth retrying, and how patiently.

Transient: another process holds the database file, an I/O hiccup, a dropped connection. These
may pass on the next attempt, so they are retried with exponential backoff and jitter. Anything
else (SQL errors, failed tests, contract violations, bad vars) fails the same way every time and
is never retried.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from durable.config import Settings

TRANSIENT = re.compile(
    r"could not set lock on file|conflicting lock|database is locked|lock is held"
    r"|\bIO Error\b|I/O error|input/output error|resource temporarily unavailable"
    r"|connection (?:reset|refused|closed|timed out)|server closed the connection"
    r"|could not connect to server|deadlock detected|could not serialize access"
    r"|the database system is (?:starting up|shutting down|in recovery mode)"
    r"|terminating connection due to administrator command|too many clients already"
    r"|canceling statement due to lock timeout",
    re.IGNORECASE,
)


class TransientError(Exception):
    """A failure that may pass if tried again."""


def is_transient(message: str) -> bool:
    return bool(TRANSIENT.search(message or ""))


def policy(
    settings: Settings, on_retry: Callable[[RetryCallState], None] | None = None
) -> Retrying:
    return Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=wait_exponential_jitter(
            multiplier=settings.retry_wait, max=30, jitter=settings.retry_wait
        ),
        stop=stop_after_attempt(settings.retry_attempts)
        | stop_after_delay(settings.retry_max_seconds),
        before_sleep=on_retry,
        reraise=True,
    )
