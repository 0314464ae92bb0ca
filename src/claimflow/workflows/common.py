"""What every claimflow workflow does the same way: run an activity under the I/O retry policy
without letting a lasting failure crash the workflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from claimflow.activities.catalog import ActivityRef

IO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=12,
)
"""Every I/O activity's retry policy: transient failures retried with backoff. Business failures
(refusals, unreadable data) arrive non-retryable from the activity itself (activities/failures.py,
the one retry rule), so no list of error class names is kept here; they become tasks."""

Arg = TypeVar("Arg")
Result = TypeVar("Result")


class StepFailed(Exception):
    """An activity failed for good; the message says why, for the task a person gets."""


async def run_step(activity: ActivityRef[Arg, Result], argument: Arg) -> Result:
    """Run an activity with the I/O retry policy. A lasting failure raises StepFailed with its
    reason; a cancellation (the workflow is ending the step) passes through unchanged."""
    try:
        result: Result = await workflow.execute_activity(
            activity.name,
            argument,
            result_type=activity.result_type,
            start_to_close_timeout=activity.timeout,
            heartbeat_timeout=activity.heartbeat,
            retry_policy=IO_RETRY,
        )
    except ActivityError as failure:
        cause = failure.cause
        if isinstance(cause, CancelledError):
            raise
        raise StepFailed(cause.message if isinstance(cause, ApplicationError) else str(cause)) from None
    return result


Note = Callable[[str, str], None]
"""Adds an entry (step, outcome) to a workflow's timeline."""


class StepRunner:
    """Runs a workflow's steps whose lasting failure becomes a task instead of a crash: the failure
    is noted on the timeline and kept as `last_failure` for the task's reason."""

    def __init__(self, note: Note) -> None:
        self._note = note
        self.last_failure = ""

    async def attempt(self, activity: ActivityRef[Arg, Result], argument: Arg) -> Result | None:
        try:
            return await run_step(activity, argument)
        except StepFailed as failure:
            self.last_failure = str(failure)
            self._note("error", f"{activity.name} failed: {self.last_failure}")
            return None
