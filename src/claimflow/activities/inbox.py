"""The inbox: fetch each payer file, route every claim result to its workflow, then acknowledge.

A file is acknowledged to the clearinghouse only after every event in it was delivered (to its
claim, or as an unmatched item to the exceptions workflow), so a crash in between loses nothing:
the file is fetched again and the claims ignore what they have already applied."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from claimflow.activities import catalog
from claimflow.activities.requests import RoutingReport
from claimflow.claims.routing import (
    RoutedEvent,
    events_from_277ca,
    events_from_835,
    events_from_999,
    events_from_appeal_notice,
)
from claimflow.claims.tasks import UnmatchedItem
from claimflow.claims.x12 import read_277ca, read_835, read_999
from claimflow.claims.x12.errors import X12Error
from claimflow.claims.x12.segments import transaction_sets
from claimflow.integrations.clearinghouse import ClearinghouseClient
from claimflow.integrations.ledger import Ledger

EXCEPTIONS_WORKFLOW_ID = "claim-exceptions"
EXCEPTIONS_WORKFLOW_TYPE = "ExceptionsWorkflow"


class InboxActivities:
    def __init__(self, clearinghouse: ClearinghouseClient, client: Client, ledger: Ledger, task_queue: str):
        self._clearinghouse = clearinghouse
        self._client = client
        self._ledger = ledger
        self._task_queue = task_queue

    @activity.defn(name=catalog.LIST_INBOX.name)
    async def list_inbox(self) -> list[str]:
        return [item.id for item in await self._clearinghouse.list_inbox()]

    @activity.defn(name=catalog.ROUTE_FILE.name)
    async def route_file(self, file_id: str) -> RoutingReport:
        text = await self._clearinghouse.fetch(file_id)
        received_at = datetime.now(UTC)
        try:
            kind, routed = self._events(text, file_id, received_at)
        except X12Error as error:
            await self._unmatched(UnmatchedItem(file_id=file_id, kind="unreadable", reason=error.describe()))
            await self._clearinghouse.acknowledge(file_id)
            return RoutingReport(
                file_id=file_id, kind="unreadable", unmatched=1, acknowledged=True, problem=error.describe()
            )
        report = RoutingReport(file_id=file_id, kind=kind)
        for item in routed:
            if await self._deliver(item):
                report = report.model_copy(update={"routed": report.routed + 1})
            else:
                report = report.model_copy(update={"unmatched": report.unmatched + 1})
        await self._clearinghouse.acknowledge(file_id)
        return report.model_copy(update={"acknowledged": True})

    def _events(self, text: str, file_id: str, received_at: datetime) -> tuple[str, list[RoutedEvent]]:
        if text.lstrip().startswith("{"):
            try:
                notice = json.loads(text)
            except json.JSONDecodeError as bad:
                raise X12Error(f"the file is neither X12 nor a readable JSON notice: {bad}") from None
            if not isinstance(notice, dict) or "decision" not in notice:
                raise X12Error(
                    "a JSON file that is not an appeal decision notice, which claimflow does not read"
                )
            return "appeal_decision", events_from_appeal_notice(notice, file_id, received_at)
        sets = transaction_sets(text)
        if not sets:
            raise X12Error("the file holds no transaction set")
        first = sets[0]
        if first.id == "999":
            return "999", events_from_999(read_999(text), file_id, received_at)
        if first.id == "277" and "X214" in first.version:
            return "277CA", events_from_277ca(read_277ca(text), file_id, received_at)
        if first.id == "835":
            return "835", events_from_835(read_835(text), file_id, received_at)
        raise X12Error(f"transaction set {first.id} ({first.version}) is not a claim result claimflow reads")

    async def _deliver(self, item: RoutedEvent) -> bool:
        """Signal the claim's workflow; an event no running claim owns goes to the exceptions."""
        claims = [item.patient_control_number] if item.patient_control_number else []
        if item.group_control_number and not claims:
            claims = await asyncio.to_thread(self._ledger.claims_for_submission, item.group_control_number)
        delivered = False
        for pcn in claims:
            handle: WorkflowHandle[object, object] = self._client.get_workflow_handle(f"claim-{pcn}")
            try:
                await handle.signal("payer_event", item.event)
                delivered = True
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
        if not delivered:
            await self._unmatched(
                UnmatchedItem(
                    file_id=item.event.file_id,
                    kind=item.event.kind.value,
                    reason=f"no open claim for patient control number {item.patient_control_number}"
                    if item.patient_control_number
                    else f"no submission with group control number {item.group_control_number}",
                    event=item.event,
                )
            )
        return delivered

    async def _unmatched(self, item: UnmatchedItem) -> None:
        await self._client.start_workflow(
            EXCEPTIONS_WORKFLOW_TYPE,
            id=EXCEPTIONS_WORKFLOW_ID,
            task_queue=self._task_queue,
            start_signal="unmatched",
            start_signal_args=[item],
        )
