"""InboxWorkflow: run by a Temporal Schedule, it routes every file waiting in the clearinghouse inbox."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import RoutingReport

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@workflow.defn
class InboxWorkflow:
    @workflow.run
    async def run(self) -> list[RoutingReport]:
        file_ids: list[str] = await workflow.execute_activity(
            catalog.LIST_INBOX.name,
            result_type=list[str],
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RETRY,
        )
        reports = []
        for file_id in file_ids:
            # One file at a time, in inbox order: a 999 is applied before the 277CA that follows it.
            reports.append(
                await workflow.execute_activity(
                    catalog.ROUTE_FILE.name,
                    file_id,
                    result_type=RoutingReport,
                    start_to_close_timeout=timedelta(minutes=5),
                    retry_policy=RETRY,
                )
            )
        return reports
