"""Why a run stopped, as exceptions that carry the documented exit code.

A scheduler acts on the exit code alone: retry later (lock held, transient faults exhausted),
page someone (tests failed, build error, production drifted from its deliveries), or fix the
input (bad arguments, rejected delivery).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL_ERROR = 1  # a bug in the runner itself
    AUDIT_FAILED = 2  # tests or contracts failed on the audit copy: publish blocked
    TRANSIENT_EXHAUSTED = 3  # locks or I/O kept failing after every retry
    BAD_INPUT = 4  # bad arguments or vars, or a delivery that was rejected
    LOCKED = 5  # another run holds the run lock
    BUILD_ERROR = 6  # a model failed deterministically (SQL error): not retried
    DRIFT = 7  # `durable verify`: production differs from a rebuild of what it holds


class RunFailure(Exception):
    exit_code = ExitCode.INTERNAL_ERROR


class AuditFailed(RunFailure):
    exit_code = ExitCode.AUDIT_FAILED


class TransientExhausted(RunFailure):
    exit_code = ExitCode.TRANSIENT_EXHAUSTED


class BadInput(RunFailure):
    exit_code = ExitCode.BAD_INPUT


class LockHeld(RunFailure):
    exit_code = ExitCode.LOCKED


class BuildError(RunFailure):
    exit_code = ExitCode.BUILD_ERROR
