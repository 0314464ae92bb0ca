"""277CA health care claim acknowledgement (005010X214): written to the letter, read from real files.

The tree is payer (2000A) > receiver (2000B) > billing provider (2000C) > patient (2000D), each
claim a 2200D with its STC statuses, the payer's claim number (REF*1K) and the service dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from claimflow.claims.money import money_sum
from claimflow.claims.responses import ClaimAcknowledgement, ClaimStatusDetail, StatusInfo
from claimflow.claims.x12.errors import X12StructureError, X12ValueError, X12WriteError
from claimflow.claims.x12.segments import (
    Segment,
    TransactionSet,
    format_date,
    format_time,
    parse_date_range,
    transaction_sets,
)
from claimflow.claims.x12.writer import Envelope, SegmentWriter, TransactionBody, write_interchange

VERSION = "005010X214"


# --------------------------------------------------------------------------------------------- writing


def write_277ca(acknowledgements: Sequence[ClaimAcknowledgement], envelope: Envelope) -> str:
    """One interchange holding one 277CA per acknowledgement (one per received 837 batch)."""
    return write_interchange(envelope, [claim_ack_body(ack, envelope.created) for ack in acknowledgements])


def _required(value: Any, what: str, segment_id: str, element: int) -> Any:
    if value is None or value == "":
        raise X12WriteError(f"{what} is required in a 277CA", segment_id=segment_id, element=element)
    return value


def claim_ack_body(ack: ClaimAcknowledgement, created: datetime) -> TransactionBody:
    """The ST..SE body of one 277CA."""
    trace = _required(ack.trace_number, "the payer's receipt id (trace_number)", "TRN", 2)
    process_date: date = _required(ack.process_date, "the process date", "DTP", 3)
    receipt_date: date = _required(ack.receipt_date, "the receipt date", "DTP", 3)
    out = SegmentWriter()
    out.add("BHT", "0085", "08", trace, format_date(process_date), format_time(created), "TH")
    out.add("HL", 1, None, "20", 1)
    out.add("NM1", "PR", "2", _required(ack.payer_name, "the payer name", "NM1", 3), *[None] * 4, "PI",
            _required(ack.payer_id, "the payer id", "NM1", 9))  # fmt: skip
    out.add("TRN", "1", trace)
    out.add("DTP", "050", "D8", format_date(receipt_date))
    out.add("DTP", "009", "D8", format_date(process_date))
    out.add("HL", 2, 1, "21", 1 if ack.claims else 0)
    out.add("NM1", "41", "2", _required(ack.receiver_name, "the receiver name", "NM1", 3), *[None] * 4, "46",
            _required(ack.receiver_id, "the receiver id", "NM1", 9))  # fmt: skip
    out.add("TRN", "2", _required(ack.receiver_trace, "our batch id (receiver_trace)", "TRN", 2))
    _write_totals(out, ack.claims, format_date(process_date), "PR", ("90", "AA"))
    hl = 2
    for sequence, (name, npi, claims) in enumerate(_provider_runs(ack.claims), start=1):
        hl += 1
        provider_hl = hl
        out.add("HL", provider_hl, 2, "19", 1)
        out.add("NM1", "85", "2", name, None, None, None, None, "XX", npi)
        out.add("TRN", "1", sequence)  # the payer's own trace of this provider's claims
        _write_totals(out, claims, None, "85", ("QA", "QC"))  # 2200C STC02 is not used
        for claim in claims:
            hl += 1
            out.add("HL", hl, provider_hl, "PT")
            _write_claim(out, claim)
    return TransactionBody("277", VERSION, out.segments)


def _provider_runs(claims: Sequence[ClaimStatusDetail]) -> list[tuple[str, str, list[ClaimStatusDetail]]]:
    """Consecutive claims of one billing provider share a 2000C; claim order is kept as given."""
    runs: list[tuple[str, str, list[ClaimStatusDetail]]] = []
    for claim in claims:
        where = f"claim {claim.patient_control_number}"
        name = _required(claim.provider_name, f"{where}: billing provider name", "NM1", 3)
        npi = _required(claim.provider_npi, f"{where}: billing provider NPI", "NM1", 9)
        if runs and runs[-1][:2] == (name, npi):
            runs[-1][2].append(claim)
        else:
            runs.append((name, npi, [claim]))
    return runs


def _write_totals(
    out: SegmentWriter,
    claims: Sequence[ClaimStatusDetail],
    when: str | None,
    entity: str,
    quantities: tuple[str, str],
) -> None:
    """The batch-level STC (received) with accepted and rejected counts and amounts."""
    accepted = [c for c in claims if not c.primary.rejected]
    rejected = [c for c in claims if c.primary.rejected]
    total = money_sum(_charge(c) for c in claims)
    out.add("STC", ["A1", "19", entity], when, "WQ", total)
    if accepted:
        out.add("QTY", quantities[0], len(accepted))
    if rejected:
        out.add("QTY", quantities[1], len(rejected))
    if accepted:
        out.add("AMT", "YU", money_sum(_charge(c) for c in accepted))
    if rejected:
        out.add("AMT", "YY", money_sum(_charge(c) for c in rejected))


def _charge(claim: ClaimStatusDetail) -> Decimal:
    charge: Decimal = _required(
        claim.total_charge, f"claim {claim.patient_control_number}: total charge (STC04)", "STC", 4
    )
    return charge


def _write_claim(out: SegmentWriter, claim: ClaimStatusDetail) -> None:
    where = f"claim {claim.patient_control_number}"
    out.add("NM1", "QC", "1", _required(claim.patient_last_name, f"{where}: patient last name", "NM1", 3),
            claim.patient_first_name, None, None, None, "MI",
            _required(claim.member_id, f"{where}: member id", "NM1", 9))  # fmt: skip
    out.add("TRN", "2", claim.patient_control_number)
    status_date: date = _required(claim.status_date, f"{where}: status date", "STC", 2)
    action = "U" if claim.primary.rejected else "WQ"
    for status in claim.statuses:
        composite = [status.category, status.code, status.entity or ""]
        out.add("STC", composite, format_date(status_date), action, _charge(claim))
    if claim.payer_claim_number:
        out.add("REF", "1K", claim.payer_claim_number)
    if claim.bill_type:
        out.add("REF", "BLT", claim.bill_type)
    start: date = _required(claim.service_date, f"{where}: service date", "DTP", 3)
    if claim.service_date_end and claim.service_date_end != start:
        out.add("DTP", "472", "RD8", f"{format_date(start)}-{format_date(claim.service_date_end)}")
    else:
        out.add("DTP", "472", "D8", format_date(start))


# --------------------------------------------------------------------------------------------- reading


def read_277ca(data: str | bytes) -> list[ClaimAcknowledgement]:
    """Every 277 transaction set of a file read as a claim acknowledgement."""
    return [read_claim_acknowledgement(ts) for ts in transaction_sets(data, "277")]


def read_status_info(segment: Segment, index: int) -> StatusInfo | None:
    """An STC composite (STC01, STC10, STC11): category, status code and entity."""
    parts = segment.components(index)
    if not parts or not parts[0]:
        return None
    return StatusInfo(
        category=parts[0],
        code=parts[1] if len(parts) > 1 else "",
        entity=parts[2] if len(parts) > 2 and parts[2] else None,
    )


class _AckReader:
    def __init__(self, ts: TransactionSet) -> None:
        self.ts = ts
        self.header: dict[str, Any] = {}
        self.level = ""
        self.provider: dict[str, Any] = {}
        self.patient: dict[str, Any] = {}
        self.claims: list[tuple[Segment, dict[str, Any]]] = []
        self.claim: dict[str, Any] | None = None
        self.in_service = False

    def feed(self, s: Segment) -> None:
        if s.id == "HL":
            self.level, self.claim, self.in_service = s[3], None, False
        elif s.id == "NM1":
            self._name(s)
        elif s.id == "TRN":
            self._trace(s)
        elif s.id == "DTP":
            self._date(s)
        elif s.id == "SVC":
            self.in_service = True
        elif self.claim is not None and not self.in_service:
            self._claim_segment(s)

    def _name(self, s: Segment) -> None:
        if s[1] in ("PR", "AY") and self.level == "20":
            self.header.update(payer_name=s[3] or None, payer_id=s[9] or None)
        elif s[1] == "41":
            self.header.update(receiver_name=s[3] or None, receiver_id=s[9] or None)
        elif s[1] == "85":
            self.provider = {"provider_name": s[3] or None, "provider_npi": s[9] or None}
        elif s[1] == "QC":
            self.patient = {
                "patient_last_name": s[3] or None,
                "patient_first_name": s[4] or None,
                "member_id": s[9] or None,
            }

    def _trace(self, s: Segment) -> None:
        if self.level == "20":
            self.header["trace_number"] = s[2] or None
        elif self.level == "21":
            self.header["receiver_trace"] = s[2] or None
        elif self.level == "PT":
            self.claim = {
                **self.provider,
                **self.patient,
                "patient_control_number": s[2],
                "statuses": [],
            }
            self.claims.append((s, self.claim))
            self.in_service = False

    def _date(self, s: Segment) -> None:
        if self.level == "20" and s[1] in ("050", "009"):
            key = "receipt_date" if s[1] == "050" else "process_date"
            self.header[key] = parse_date_range(s[3], s, 3)[0] if s[3] else None
        elif self.claim is not None and not self.in_service and s[1] == "472" and s[3]:
            start, end = parse_date_range(s[3], s, 3)
            self.claim.update(service_date=start, service_date_end=end if end != start else None)

    def _claim_segment(self, s: Segment) -> None:
        claim = self.claim
        assert claim is not None  # feed() only calls with a claim open
        if s.id == "STC":
            for index in (1, 10, 11):
                status = read_status_info(s, index)
                if status is not None:
                    claim["statuses"].append(status)
            if s[2] and "status_date" not in claim:
                claim["status_date"] = s.date(2, "status date")
            if s[4] and "total_charge" not in claim:
                claim["total_charge"] = s.amount(4, "total claim charge")
        elif s.id == "REF" and s[1] == "1K":
            claim["payer_claim_number"] = s[2]
        elif s.id == "REF" and s[1] == "BLT":
            claim["bill_type"] = s[2]
        elif s.id == "REF" and s[1] == "EJ" and not claim["patient_control_number"]:
            claim["patient_control_number"] = s[2]

    def finish(self) -> ClaimAcknowledgement:
        claims = []
        for trn, values in self.claims:
            if not values["statuses"]:
                raise X12StructureError(
                    f"claim {values['patient_control_number']} has no STC status",
                    segment_id="TRN",
                    position=trn.position,
                )
            try:
                claims.append(ClaimStatusDetail(**values))
            except ValidationError as exc:
                raise X12ValueError(
                    f"claim {values['patient_control_number']}: {exc.errors()[0]['msg']}",
                    segment_id="TRN",
                    position=trn.position,
                ) from exc
        return ClaimAcknowledgement(**self.header, claims=claims)


def read_claim_acknowledgement(ts: TransactionSet) -> ClaimAcknowledgement:
    """One 277CA transaction set."""
    reader = _AckReader(ts)
    for segment in ts.segments:
        reader.feed(segment)
    return reader.finish()
