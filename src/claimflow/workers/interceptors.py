"""Worker interceptors: every activity attempt that raises is counted by activity and error type."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from claimflow.integrations.metrics import ACTIVITY_FAILURES


class MetricsInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountFailures(next)


class _CountFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as exc:
            # the type names the failure (an ApplicationError its own type); the message may not be safe
            error_type = exc.type if isinstance(exc, ApplicationError) and exc.type else type(exc).__name__
            ACTIVITY_FAILURES.labels(activity.info().activity_type, error_type).inc()
            raise
