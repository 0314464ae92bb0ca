"""From a payer's file to the events each claim applies: 999, 277CA and 835 split per claim.

Event ids come from the content, not from the file, so a file delivered twice (even under a new
file id) produces the same ids and every claim applies it once."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import Field

from claimflow.claims.encounter import Model
from claimflow.claims.events import Ack999, AppealNotice, ClaimAck277CA, EventKind, PayerEvent, Remittance835
from claimflow.claims.remittance import Remittance
from claimflow.claims.responses import Acknowledgement, ClaimAcknowledgement


class RoutedEvent(Model):
    """An event and how to find its claim: by patient control number, or (a 999) by the group
    control number of the submission it acknowledges."""

    patient_control_number: str | None = None
    group_control_number: str | None = None
    event: PayerEvent = Field()


def _event_id(kind: EventKind, *parts: object) -> str:
    digest = hashlib.sha256("|".join([kind.value, *map(str, parts)]).encode()).hexdigest()
    return f"{kind.value}-{digest[:24]}"


def events_from_999(acks: list[Acknowledgement], file_id: str, received_at: datetime) -> list[RoutedEvent]:
    routed = []
    for ack in acks:
        for ts in ack.transaction_sets or []:
            errors = [
                f"{e.segment_id} at segment {e.position}: error {e.code}"
                + (f", element {e.element_position} error {e.element_code}" if e.element_position else "")
                for e in ts.errors
            ]
            event = Ack999(
                event_id=_event_id(EventKind.ACK_999, ack.group_control_number, ts.control_number, ts.status),
                file_id=file_id,
                received_at=received_at,
                ack_status=ts.status.value,
                ack_errors=errors,
            )
            routed.append(RoutedEvent(group_control_number=ack.group_control_number, event=event))
    return routed


def events_from_277ca(
    acks: list[ClaimAcknowledgement], file_id: str, received_at: datetime
) -> list[RoutedEvent]:
    routed = []
    for ack in acks:
        for detail in ack.claims:
            event = ClaimAck277CA(
                event_id=_event_id(EventKind.CLAIM_ACK_277CA, detail.model_dump_json()),
                file_id=file_id,
                received_at=received_at,
                claim_status=detail,
                payer_id=ack.payer_id,
            )
            routed.append(RoutedEvent(patient_control_number=detail.patient_control_number, event=event))
    return routed


def events_from_835(remittances: list[Remittance], file_id: str, received_at: datetime) -> list[RoutedEvent]:
    routed = []
    for remittance in remittances:
        for payment in remittance.claims:
            event = Remittance835(
                event_id=_event_id(
                    EventKind.REMITTANCE_835, remittance.trace_number, payment.model_dump_json()
                ),
                file_id=file_id,
                received_at=received_at,
                payment=payment,
                trace_number=remittance.trace_number,
                payer_id=remittance.payer_id,
                payment_date=remittance.payment_date,
            )
            routed.append(RoutedEvent(patient_control_number=payment.patient_control_number, event=event))
    return routed


def events_from_appeal_notice(
    notice: dict[str, object], file_id: str, received_at: datetime
) -> list[RoutedEvent]:
    """A payer's appeal decision notice (JSON), routed to the claim it names."""
    fields = {
        key: str(value) for key, value in notice.items() if value is not None and not isinstance(value, list)
    }
    fields.update(
        {key: ",".join(map(str, value)) for key, value in notice.items() if isinstance(value, list)}
    )
    event = AppealNotice(
        event_id=_event_id(EventKind.APPEAL_DECISION, sorted(fields.items())),
        file_id=file_id,
        received_at=received_at,
        notice=fields,
    )
    return [RoutedEvent(patient_control_number=fields.get("patient_control_number"), event=event)]
