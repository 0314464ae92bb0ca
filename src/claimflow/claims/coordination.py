"""Coordination of benefits: which payer a claim goes to next, the claim each payer is billed with
(the earlier payers' adjudication restated from their 835s), and what the patient owes at the end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.money import ZERO, Money
from claimflow.claims.other_payers import (
    LineAdjudication,
    OtherPayer,
    PayerResponsibility,
    PriorAdjudication,
)
from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ClaimStatusCode, ServicePayment

CROSSOVER_REMARKS = frozenset({"MA18", "N89"})
"""MA18: the claim was forwarded to the patient's supplemental insurer; N89: to more than one."""
FORWARDED_STATUSES = frozenset(
    {
        ClaimStatusCode.PRIMARY_FORWARDED,
        ClaimStatusCode.SECONDARY_FORWARDED,
        ClaimStatusCode.TERTIARY_FORWARDED,
    }
)


@dataclass(frozen=True)
class Decision:
    """One payer's adjudication of the claim: its 835 claim payment and the day it was issued."""

    payment: ClaimPayment
    decided_on: date


def claim_for_payer(claim: Claim, position: int, decisions: Sequence[Decision] = ()) -> Claim:
    """The claim billed to the coverage at `position` of the encounter's order (0 primary): that
    coverage in 2010BB, every other coverage in 2320/2330, each earlier one with its decision
    (`decisions[i]` is the decision of coverage i; the first `position` are needed, later ones are
    ignored). A claim to a later payer is an original claim to that payer."""
    coverages = claim.encounter.coverages
    if not 0 <= position < len(coverages):
        raise ValueError(
            f"claim {claim.patient_control_number} has {len(coverages)} coverage(s); "
            f"there is none at position {position}"
        )
    if len(decisions) < position:
        raise ValueError(
            f"claim {claim.patient_control_number}: billing payer {position + 1} in order "
            f"needs the decision of every earlier payer ({position}), {len(decisions)} given"
        )
    others = [
        OtherPayer(coverage=coverage, responsibility=PayerResponsibility.at(index))
        for index, coverage in enumerate(coverages[1:], start=1)
    ]
    encounter = claim.encounter.model_copy(update={"other_coverages": []})
    billed = claim.model_copy(
        update={"encounter": encounter, "other_payers": others, "responsibility": PayerResponsibility.PRIMARY}
    )
    for decision in decisions[:position]:
        forwarded = forwarded_claim(billed, decision)
        assert forwarded is not None  # there is a coverage at `position`
        billed = forwarded
    return billed


def forwarded_claim(claim: Claim, decision: Decision) -> Claim | None:
    """The claim the next payer in order receives once the billed payer decided `claim` (by us, or
    by the payer itself on a crossover): the next payer in 2010BB, the billed one among the other
    payers with its decision. None when no payer follows."""
    following = claim.responsibility.position + 1
    upcoming = next((p for p in claim.other_payers if p.responsibility.position == following), None)
    if upcoming is None:
        return None
    decided = OtherPayer(
        coverage=claim.encounter.coverage,
        responsibility=claim.responsibility,
        adjudication=prior_adjudication(claim, decision),
    )
    others = sorted(
        [decided, *(p for p in claim.other_payers if p is not upcoming)],
        key=lambda payer: payer.responsibility.position,
    )
    encounter = claim.encounter.model_copy(update={"coverage": upcoming.coverage})
    info = encounter.institutional
    if info is not None:  # the type of bill's last digit is the frequency: original to this payer
        original = info.model_copy(update={"type_of_bill": info.type_of_bill[:-1] + FrequencyCode.ORIGINAL})
        encounter = encounter.model_copy(update={"institutional": original})
    return Claim(
        encounter=encounter,
        patient_control_number=claim.patient_control_number,
        frequency=FrequencyCode.ORIGINAL,
        responsibility=upcoming.responsibility,
        other_payers=others,
    )


def prior_adjudication(claim: Claim, decision: Decision) -> PriorAdjudication:
    """A payer's 835 claim restated for the next payer's 837: its paid amount and claim-level CAS
    (2320), and each service line matched to the claim's line it pays (2430)."""
    payment = decision.payment
    matched = match_lines(claim, payment.service_lines)
    lines = [
        LineAdjudication(
            line_number=number,
            procedure_code=paid.procedure_code,
            modifiers=list(paid.modifiers),
            revenue_code=paid.revenue_code,
            paid=paid.paid,
            paid_units=paid.units or claim.encounter.service_lines[number - 1].units,
            adjustments=list(paid.adjustments),
            adjudicated_on=decision.decided_on,
        )
        for number, paid in matched
    ]
    return PriorAdjudication(
        paid=payment.paid,
        adjustments=list(payment.adjustments),
        adjudicated_on=decision.decided_on,
        payer_claim_number=payment.payer_claim_number,
        lines=lines,
    )


def match_lines(claim: Claim, paid_lines: Sequence[ServicePayment]) -> list[tuple[int, ServicePayment]]:
    """Pair each 835 service line with the claim line it answers: in order when the payer answered
    every line; otherwise the first unanswered line with the same code (SVC06 when it recoded) and charge."""
    billed = claim.encounter.service_lines
    if len(paid_lines) == len(billed) and all(
        (p.submitted_procedure_code or p.procedure_code) == b.procedure_code
        for p, b in zip(paid_lines, billed, strict=True)
    ):
        return [(index + 1, paid) for index, paid in enumerate(paid_lines)]
    used: set[int] = set()
    pairs: list[tuple[int, ServicePayment]] = []
    for paid in paid_lines:
        code = paid.submitted_procedure_code or paid.procedure_code
        for index, line in enumerate(billed):
            if index not in used and line.procedure_code == code and line.charge == paid.charge:
                used.add(index)
                pairs.append((index + 1, paid))
                break
    return sorted(pairs, key=lambda pair: pair[0])


def crossed_over(payment: ClaimPayment) -> bool:
    """The payer forwarded the claim to the next payer itself (CLP02 19-21, or MA18/N89 remarks):
    the next payer's 835 follows without a claim from us."""
    if payment.status in FORWARDED_STATUSES:
        return True
    remarks = set(payment.remarks) | {remark for line in payment.service_lines for remark in line.remarks}
    return bool(remarks & CROSSOVER_REMARKS)


def patient_remainder(payment: ClaimPayment) -> Money:
    """What the patient owes after this payer: its patient-responsibility adjustments (a later payer's
    835 restates what is left after it)."""
    return payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY)


def next_position(claim: Claim, position: int, payment: ClaimPayment) -> int | None:
    """The coverage to go to after the payer at `position` decided: the next one when it left the
    patient something to pay, else none (nothing left for a later payer to cover)."""
    following = position + 1
    if following >= len(claim.encounter.coverages):
        return None
    if payment.status is ClaimStatusCode.REVERSAL or patient_remainder(payment) <= ZERO:
        return None
    return following
