"""The claim page's X12: the 837 sent and each 999/277CA/835 received, as a readable view made by
the claims/x12 readers, limited to this claim's part of a file (for an 835 the claim payment and every
service line with its CAS groups and reasons in words; for a 999 or 277CA the accept or reject status
and its errors, a 277CA's claim status codes with their published meanings), and the text a segment
per line. The text is opened from the ledger's sealed copy for a signed-in person only; an 835 shows
only this claim's loop of it (other patients' claims in the same remittance are left out)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from claimflow.claims.carc import UnknownCodeError, carc_text, group_text, rarc_text
from claimflow.claims.claim_status import describe_status
from claimflow.claims.remittance import Adjustment
from claimflow.claims.x12 import read_277ca, read_835, read_999
from claimflow.claims.x12.errors import X12Error
from claimflow.claims.x12.segments import Delimiters
from claimflow.integrations.crypto import PayloadTamperedError, UnknownKeyError
from claimflow.integrations.ledger.exchanges import KeptX12, X12Archive

ACK_WORDS = {
    "A": "accepted",
    "E": "accepted with errors",
    "P": "partially accepted",
    "R": "rejected",
    "M": "rejected: message authentication failed",
    "W": "rejected with errors",
    "X": "rejected: content",
}


@dataclass(frozen=True)
class CasLine:
    group: str
    reason: str
    amount: Decimal
    description: str


@dataclass(frozen=True)
class EraLine:
    procedure: str
    service_date: str
    charge: Decimal
    allowed: Decimal | None
    paid: Decimal
    adjustments: list[CasLine]
    remarks: list[tuple[str, str]]


@dataclass(frozen=True)
class EraClaim:
    trace_number: str
    payment_date: str
    status: str
    payer_claim_number: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None
    adjustments: list[CasLine]
    lines: list[EraLine]


@dataclass(frozen=True)
class AckStatus:
    """A 999's or 277CA's word on the claim: accepted or rejected, and why."""

    subject: str
    status: str
    accepted: bool
    errors: list[str] = field(default_factory=list)
    meanings: list[str] = field(default_factory=list)
    """a 277CA's or 277's statuses in words: each STC's category and status code with its meaning"""


@dataclass(frozen=True)
class ExchangeView:
    file_id: int
    direction: str
    kind: str
    name: str
    at: datetime
    era: list[EraClaim] = field(default_factory=list)
    acks: list[AckStatus] = field(default_factory=list)
    problem: str | None = None
    """the readable view could not be made (why, in words)"""


def segment_lines(text: str) -> list[str]:
    """The text a segment per line (each with its terminator), whatever line breaks it came with."""
    terminator = "~"
    if text.startswith("ISA"):
        with contextlib.suppress(X12Error):
            terminator = Delimiters.from_isa(text, 1)[0].segment
    return [part.strip() + terminator for part in text.split(terminator) if part.strip()]


CLAIM_LOOP_ENDS = ("CLP", "LX", "PLB", "SE")
"""Segments that end an 835's claim payment loop (2100 with its 2110 lines)."""


def claims_segments(kind: str, text: str, pcn: str) -> tuple[list[str], int]:
    """The segments shown for this claim, and how many of the file's were left out: of an 835 the
    envelope, the payment and payer/payee loops and this claim's CLP loops, not other patients'."""
    lines = segment_lines(text)
    if kind != "835":
        return lines, 0
    element = "*"
    if text.startswith("ISA"):
        with contextlib.suppress(X12Error):
            element = Delimiters.from_isa(text, 1)[0].element
    shown: list[str] = []
    inside_other = False
    for line in lines:
        tag = line.split(element, 1)[0]
        if tag == "CLP":
            fields = line.split(element)
            inside_other = len(fields) < 2 or fields[1] != pcn
        elif tag in CLAIM_LOOP_ENDS:
            inside_other = False
        if not inside_other:
            shown.append(line)
    return shown, len(lines) - len(shown)


def exchange_view(kept: KeptX12, text: str | None, pcn: str, problem: str | None = None) -> ExchangeView:
    """The readable view of one kept file (`text` None: it could not be opened, `problem` says why)."""
    view = ExchangeView(kept.file_id, kept.direction, kept.kind, kept.name, kept.at, problem=problem)
    if text is None:
        return view
    try:
        if kept.kind == "835":
            return replace(view, era=_era(text, pcn))
        if kept.kind == "999":
            return replace(view, acks=_acks_999(text))
        if kept.kind in ("277CA", "277"):
            return replace(view, acks=_acks_277ca(text, pcn))
    except X12Error as error:
        return replace(view, problem=f"no readable view: {error.describe()}")
    return view


def _cas(adjustment: Adjustment) -> CasLine:
    group, reason = adjustment.group.value, adjustment.reason
    try:
        description = f"{group_text(group)}: {carc_text(reason)}"
    except UnknownCodeError:
        description = f"{group_text(group)}: reason code {reason} (not in the shipped CARC list)"
    return CasLine(group, reason, adjustment.amount, description)


def _remark(code: str) -> tuple[str, str]:
    try:
        return code, rarc_text(code)
    except UnknownCodeError:
        return code, "(not in the shipped RARC list)"


def _era(text: str, pcn: str) -> list[EraClaim]:
    found = []
    for remittance in read_835(text):
        for claim in remittance.claims:
            if claim.patient_control_number != pcn:
                continue  # another patient's claim in the same ERA: not shown here
            found.append(
                EraClaim(
                    trace_number=remittance.trace_number,
                    payment_date=remittance.payment_date.isoformat() if remittance.payment_date else "",
                    status=f"{claim.status.value} ({claim.status.name.replace('_', ' ').lower()})",
                    payer_claim_number=claim.payer_claim_number or "",
                    charge=claim.charge,
                    paid=claim.paid,
                    patient_responsibility=claim.patient_responsibility,
                    adjustments=[_cas(a) for a in claim.adjustments],
                    lines=[
                        EraLine(
                            procedure=":".join([line.procedure_code, *line.modifiers]),
                            service_date=line.service_date.isoformat() if line.service_date else "",
                            charge=line.charge,
                            allowed=line.allowed_amount,
                            paid=line.paid,
                            adjustments=[_cas(a) for a in line.adjustments],
                            remarks=[_remark(code) for code in line.remarks],
                        )
                        for line in claim.service_lines
                    ],
                )
            )
    return found


def _acks_999(text: str) -> list[AckStatus]:
    statuses = []
    for ack in read_999(text):
        for item in ack.transaction_sets:
            errors = [
                f"segment {error.segment_id} at position {error.position}"
                + (f", element {error.element_position}" if error.element_position else "")
                + f": error code {error.element_code or error.code}"
                + (f" (value {error.bad_value!r})" if error.bad_value else "")
                for error in item.errors
            ]
            errors += [f"transaction set error code {code}" for code in item.set_error_codes]
            statuses.append(
                AckStatus(
                    subject=f"{item.set_id} set {item.control_number} of group {ack.group_control_number}",
                    status=ACK_WORDS.get(item.status.value, item.status.value),
                    accepted=item.status.value in ("A", "E", "P"),
                    errors=errors,
                )
            )
        if not ack.transaction_sets:
            statuses.append(
                AckStatus(
                    subject=f"group {ack.group_control_number}",
                    status=ACK_WORDS.get(ack.status.value, ack.status.value),
                    accepted=ack.status.value in ("A", "E", "P"),
                    errors=[f"group error code {code}" for code in ack.group_error_codes],
                )
            )
    return statuses


def _acks_277ca(text: str, pcn: str) -> list[AckStatus]:
    statuses = []
    for ack in read_277ca(text):
        for claim in ack.claims:
            if claim.patient_control_number != pcn:
                continue
            infos = claim.statuses
            number = f", payer claim number {claim.payer_claim_number}" if claim.payer_claim_number else ""
            statuses.append(
                AckStatus(
                    subject=f"claim at {ack.payer_name or ack.payer_id or 'the payer'}{number}",
                    status="; ".join(
                        f"{info.category}:{info.code}" + (f":{info.entity}" if info.entity else "")
                        for info in infos
                    ),
                    accepted=not any(info.rejected for info in infos),
                    errors=[
                        f"status {info.category}:{info.code} rejects the claim"
                        for info in infos
                        if info.rejected
                    ],
                    meanings=[describe_status(info.category, info.code, info.entity) for info in infos],
                )
            )
    return statuses


def claim_exchanges(archive: X12Archive | None, pcn: str) -> list[ExchangeView]:
    """Every file kept for the claim, each opened and read (synchronous: call it in a thread). A file
    the console's keys cannot open is listed with the reason instead of its view."""
    if archive is None:
        return []
    views = []
    for kept in archive.files_of(pcn):
        try:
            text = archive.text(kept.file_id, pcn)
        except (UnknownKeyError, PayloadTamperedError) as error:
            views.append(exchange_view(kept, None, pcn, problem=f"cannot be opened: {error}"))
            continue
        views.append(exchange_view(kept, text, pcn))
    return views
