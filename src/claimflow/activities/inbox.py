"""The inbox: fetch each payer file, route every claim result to its workflow, then acknowledge.

A file is acknowledged to the clearinghouse only after every event in it was delivered (to its
claim, or as an unmatched item to the exceptions workflow), so a crash in between loses nothing:
the file is fetched again and the claims ignore what they have already applied.

Every file taken is recorded in the ledger by its mailbox and name (none is read twice, even where
the profile keeps files after pickup) and by the interchange it carried: a second file with the
same sender and ISA13 is a duplicate, logged and acknowledged without being routed again. A file
that cannot be read (not X12, too large, not a claim result) is never dropped: a copy is kept
under the documents folder, the mailbox parks it, and the exceptions workflow gets a task naming both.
A TA1 about one of our interchanges that rejects it reaches the claims it carried as a rejecting 999.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from claimflow.activities import catalog
from claimflow.activities.requests import RoutingReport
from claimflow.claims import ids
from claimflow.claims.events import Ack999, EventKind
from claimflow.claims.responses import ClaimAcknowledgement
from claimflow.claims.routing import (
    RoutedEvent,
    events_from_277ca,
    events_from_835,
    events_from_999,
    events_from_appeal_notice,
)
from claimflow.claims.tasks import UnmatchedItem
from claimflow.claims.x12 import read_277, read_277ca, read_835, read_999
from claimflow.claims.x12.errors import X12Error
from claimflow.claims.x12.segments import transaction_sets
from claimflow.claims.x12.ta1 import InterchangeAck, interchange_identity, read_ta1
from claimflow.integrations.ledger import (
    InboundOutcome,
    InboundRecord,
    InterchangeRegistry,
    Ledger,
    X12Archive,
)
from claimflow.integrations.ledger.exchanges import RECEIVED
from claimflow.integrations.private_files import write_private
from claimflow.integrations.transport import FileTooLarge, Transport

log = structlog.get_logger("claimflow.inbox")


class InboxActivities:
    def __init__(
        self,
        clearinghouse: Transport,
        client: Client,
        ledger: Ledger,
        task_queue: str,
        *,
        registry: InterchangeRegistry,
        kept_dir: Path,
        archive: X12Archive | None = None,
    ):
        """`kept_dir`: where a copy of every file that could not be routed is kept; `archive`: where
        each X12 file routed is kept, sealed, for the claim pages of the claims it reached."""
        self._clearinghouse = clearinghouse
        self._client = client
        self._ledger = ledger
        self._task_queue = task_queue
        self._registry = registry
        self._kept_dir = kept_dir
        self._archive = archive

    @activity.defn(name=catalog.LIST_INBOX.name)
    async def list_inbox(self) -> list[str]:
        """The files not taken before, oldest first. One routed before whose acknowledgement was
        lost (a crash in between) is acknowledged again now."""
        names = [item.id for item in await self._clearinghouse.list_inbox()]
        known = await asyncio.to_thread(self._registry.pickups, self._clearinghouse.mailbox, names)
        for name, outcome in known.items():
            if outcome is not InboundOutcome.PARKED:
                await self._clearinghouse.acknowledge(name)
        return [name for name in names if name not in known]

    @activity.defn(name=catalog.ROUTE_FILE.name)
    async def route_file(self, file_id: str) -> RoutingReport:
        mailbox = self._clearinghouse.mailbox
        known = (await asyncio.to_thread(self._registry.pickups, mailbox, [file_id])).get(file_id)
        if known is not None:  # an earlier attempt of this activity got that far
            if known is not InboundOutcome.PARKED:
                await self._clearinghouse.acknowledge(file_id)
            return RoutingReport(file_id=file_id, kind=known.value, acknowledged=True)
        try:
            text = await self._clearinghouse.fetch(file_id)
        except FileTooLarge as too_large:
            return await self._park(file_id, str(too_large), None)
        received_at = datetime.now(UTC)
        identity = interchange_identity(text)
        sender = identity.sender_id if identity else None
        number = identity.control_number if identity else None
        digest = _digest(text)
        if identity is not None:
            earlier = await asyncio.to_thread(
                self._registry.first_routed, identity.sender_id, identity.control_number
            )
            if earlier is not None and earlier[0] != file_id:
                first_file, first_digest = earlier
                if first_digest is not None and first_digest != digest:
                    # The same number for other content: a reused control number, not a duplicate.
                    return await self._park(
                        file_id,
                        f"it carries interchange {identity.control_number} from sender {identity.sender_id}, "
                        f"routed before from file {first_file}, but with other content (a reused control "
                        "number): ask the clearinghouse which file is right",
                        text,
                    )
                log.info(
                    "duplicate interchange ignored",
                    file=file_id,
                    first_file=first_file,
                    sender=identity.sender_id,
                    interchange=identity.control_number,
                )
                await self._record(file_id, "duplicate", InboundOutcome.DUPLICATE, sender, number, digest)
                await self._clearinghouse.acknowledge(file_id)
                return RoutingReport(file_id=file_id, kind="duplicate", acknowledged=True)
        try:
            interchange_acks = read_ta1(text) if identity is not None else []
            if interchange_acks:
                kind, routed, ignored = "TA1", _events_from_ta1(interchange_acks, file_id, received_at), 0
            else:
                kind, routed, ignored = self._events(text, file_id, received_at)
        except X12Error as error:
            return await self._park(file_id, error.describe(), text)
        report = RoutingReport(file_id=file_id, kind=kind, ignored=ignored)
        reached: set[str] = set()
        for item in routed:
            if delivered_to := await self._deliver(item):
                reached.update(delivered_to)
                report = report.model_copy(update={"routed": report.routed + 1})
            else:
                report = report.model_copy(update={"unmatched": report.unmatched + 1})
        if self._archive is not None and reached and kind != "appeal_decision":  # X12 only
            # before the acknowledgement: a crash in between fetches, routes and keeps it again (once)
            await asyncio.to_thread(self._archive.keep, RECEIVED, kind, f"{mailbox}/{file_id}", text, reached)
        if report.unmatched:
            await asyncio.to_thread(self._keep, file_id, text)  # the events are in the tasks; the file too
        outcome = InboundOutcome.ENVELOPE if kind == "TA1" else InboundOutcome.ROUTED
        await self._record(file_id, kind, outcome, sender, number, digest)
        await self._clearinghouse.acknowledge(file_id)
        return report.model_copy(update={"acknowledged": True})

    async def _record(
        self,
        file_id: str,
        kind: str,
        outcome: InboundOutcome,
        sender: str | None,
        number: str | None,
        digest: str | None = None,
    ) -> None:
        record = InboundRecord(self._clearinghouse.mailbox, file_id, kind, outcome, sender, number, digest)
        await asyncio.to_thread(self._registry.record_pickup, record)

    async def _park(self, file_id: str, problem: str, text: str | None) -> RoutingReport:
        """A file nobody can route: keep a copy, park it in the mailbox, make it a person's task."""
        kept = await asyncio.to_thread(self._keep, file_id, text) if text is not None else None
        where = f"a copy is kept at {kept}" if kept else "it was left in the mailbox"
        reason = f"file {file_id} could not be routed: {problem}; {where}"
        await self._unmatched(UnmatchedItem(file_id=file_id, kind="unreadable", reason=reason))
        await self._clearinghouse.park(file_id)
        await self._record(file_id, "unreadable", InboundOutcome.PARKED, None, None)
        log.info("inbox file parked", file=file_id, kept=str(kept) if kept else None)
        return RoutingReport(
            file_id=file_id, kind="unreadable", unmatched=1, acknowledged=True, problem=problem
        )

    def _keep(self, file_id: str, text: str) -> Path:
        path = self._kept_dir / _safe(self._clearinghouse.mailbox) / _safe(file_id)
        return write_private(path, text.encode("utf-8"))  # it may hold PHI: owner-only

    def _events(self, text: str, file_id: str, received_at: datetime) -> tuple[str, list[RoutedEvent], int]:
        """The file's kind, its events, and how many results in it no claim acts on."""
        if text.lstrip().startswith("{"):
            try:
                notice = json.loads(text)
            except json.JSONDecodeError as bad:
                raise X12Error(f"the file is neither X12 nor a readable JSON notice: {bad}") from None
            if not isinstance(notice, dict) or "decision" not in notice:
                raise X12Error(
                    "a JSON file that is not an appeal decision notice, which claimflow does not read"
                )
            return "appeal_decision", events_from_appeal_notice(notice, file_id, received_at), 0
        sets = transaction_sets(text)
        if not sets:
            raise X12Error("the file holds no transaction set")
        first = sets[0]
        if first.id == "999":
            return "999", events_from_999(read_999(text), file_id, received_at), 0
        if first.id == "277" and "X214" in first.version:
            return "277CA", events_from_277ca(read_277ca(text), file_id, received_at), 0
        if first.id == "277":
            # An unsolicited 277: its front-door statuses (A categories) are what a 277CA says; a
            # pending or finalized status changes nothing for a claim (its 835 will follow).
            fronts, ignored = [], 0
            for status in read_277(text):
                door = [d for d in status.claims if d.primary.category.startswith("A")]
                ignored += len(status.claims) - len(door)
                fronts.append(ClaimAcknowledgement(payer_id=status.payer_id, claims=door))
            return "277", events_from_277ca(fronts, file_id, received_at), ignored
        if first.id == "835":
            return "835", events_from_835(read_835(text), file_id, received_at), 0
        raise X12Error(f"transaction set {first.id} ({first.version}) is not a claim result claimflow reads")

    async def _deliver(self, item: RoutedEvent) -> list[str]:
        """Signal the claim's workflow; an event no running claim owns goes to the exceptions.
        The patient control numbers of the claims it reached (none: it went to the exceptions)."""
        claims = [item.patient_control_number] if item.patient_control_number else []
        if item.group_control_number and not claims:
            claims = await asyncio.to_thread(self._ledger.claims_for_submission, item.group_control_number)
        delivered: list[str] = []
        for pcn in claims:
            handle: WorkflowHandle[object, object] = self._client.get_workflow_handle(
                ids.claim_workflow_id(pcn)
            )
            try:
                await handle.signal(ids.Signal.PAYER_EVENT, item.event)
                delivered.append(pcn)
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
        if not delivered:
            await self._unmatched(
                UnmatchedItem(
                    file_id=item.event.file_id,
                    kind=item.event.kind.value,
                    reason=f"no open claim for patient control number {', '.join(claims)}"
                    if claims
                    else f"no submission with group control number {item.group_control_number}",
                    event=item.event,
                )
            )
        return delivered

    async def _unmatched(self, item: UnmatchedItem) -> None:
        await self._client.start_workflow(
            ids.WorkflowType.EXCEPTIONS,
            id=ids.EXCEPTIONS_WORKFLOW_ID,
            task_queue=self._task_queue,
            start_signal=ids.Signal.UNMATCHED,
            start_signal_args=[item],
        )


def _events_from_ta1(acks: list[InterchangeAck], file_id: str, received_at: datetime) -> list[RoutedEvent]:
    """A TA1 that rejects one of our interchanges rejects every claim in it, as a 999 R would; a
    duplicate (note 025) means the clearinghouse has the interchange already, so nothing changes."""
    routed = []
    for ack in acks:
        if ack.duplicate:
            log.info("TA1: the clearinghouse has this interchange already", interchange=ack.control_number)
            continue
        if not ack.rejected:
            continue
        digest = hashlib.sha256(f"TA1|{ack.control_number}|{ack.status}|{ack.note_code}".encode()).hexdigest()
        event = Ack999(
            event_id=f"{EventKind.ACK_999.value}-ta1-{digest[:24]}",
            file_id=file_id,
            received_at=received_at,
            ack_status="R",
            ack_errors=[ack.describe()],
        )
        # Our interchanges carry their ISA13 as their GS06, which the ledger keeps per submission.
        routed.append(RoutedEvent(group_control_number=ack.control_number, event=event))
    return routed


def _digest(text: str) -> str:
    """SHA-256 of a file's content without its line breaks (a clearinghouse may re-send an
    interchange wrapped otherwise: still the same interchange)."""
    return hashlib.sha256(text.replace("\r", "").replace("\n", "").strip().encode("utf-8")).hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "file"
