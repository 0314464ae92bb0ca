"""What every claimflow workflow does the same way: run an activity under the I/O retry policy
without letting a lasting failure crash the workflow, and publish its open tasks for search."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from claimflow.activities.catalog import ActivityRef
    from claimflow.claims.tasks import Task
    from claimflow.workflows import search_attributes as sa

IO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=12,
    # Business refusals and unreadable data never get better by retrying: they become tasks.
    non_retryable_error_types=[
        "PermanentClearinghouseError",
        "X12Error",
        "ValidationError",
        "MissingEvidence",
    ],
)

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
            retry_policy=IO_RETRY,
        )
    except ActivityError as failure:
        cause = failure.cause
        if isinstance(cause, CancelledError):
            raise
        raise StepFailed(cause.message if isinstance(cause, ApplicationError) else str(cause)) from None
    return result


def publish_open_tasks(tasks: list[Task]) -> None:
    """OpenTask, TaskPriority and AssignedTo from the open tasks: how billers find the work."""
    open_tasks = [t for t in tasks if t.is_open]
    top = max(open_tasks, key=lambda t: t.priority, default=None)
    workflow.upsert_search_attributes(
        [
            sa.OPEN_TASK.value_set([t.kind.value for t in open_tasks]),
            sa.TASK_PRIORITY.value_set(int(top.priority) if top else 0),
            sa.ASSIGNED_TO.value_set(top.assignee or "") if top else sa.ASSIGNED_TO.value_unset(),
        ]
    )
