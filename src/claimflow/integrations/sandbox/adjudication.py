"""How a sandbox payer decides a claim: from the claim's content and the payer's rules, never a script.

Pure functions over the domain models: the store supplies what the payer remembers (the member's
deductible met so far this year, whether an identical claim was already received), the engine
supplies the receipt date and a seeded random source for the noise real payers add.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import ClaimKind, ServiceLine
from claimflow.claims.money import CENT, ZERO, money_sum
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.integrations.sandbox.config import Member, Payer, Plan, Rule

BundlingLookup = Callable[[str, str, date, ClaimKind], int | None]
"""(column 1 code, column 2 code, date of service, claim kind) -> NCCI modifier indicator, or None
when no edit applies on that day."""

NCCI_MODIFIERS = frozenset(
    ["24", "25", "27", "57", "58", "59", "78", "79", "91", "XE", "XS", "XP", "XU"]
    + ["E1", "E2", "E3", "E4", "FA", "LC", "LD", "LM", "LT", "RC", "RI", "RT"]
    + [f"F{digit}" for digit in range(1, 10)]
    + [f"T{digit}" for digit in range(10)]
    + ["TA"]
)
"""Modifiers that let an NCCI pair with indicator 1 be paid separately (NCCI policy manual, ch. I)."""

INCONSISTENT_MODIFIERS = (
    frozenset({"LT", "RT"}),
    frozenset({"26", "TC"}),
    frozenset({"50", "LT"}),
    frozenset({"50", "RT"}),
)

CARC_COVERAGE_INACTIVE = "27"
CARC_TIMELY_FILING = "29"
CARC_DUPLICATE = "18"
CARC_AUTHORIZATION = "197"
CARC_MODIFIER = "4"
CARC_BUNDLED = "97"
CARC_FEE_SCHEDULE = "45"
CARC_DEDUCTIBLE = "1"
CARC_COINSURANCE = "2"
CARC_COPAY = "3"
CARC_SEQUESTRATION = "253"
CARC_MULTIPLE_PROCEDURE = "59"
CARC_PRIOR_PAYER_IMPACT = "23"

DENIAL_REMARKS = {
    CARC_COVERAGE_INACTIVE: "N30",
    CARC_AUTHORIZATION: "M62",
    CARC_MODIFIER: "N519",
    CARC_BUNDLED: "M15",
    "50": "N115",
    "11": "M76",
}
"""A RARC that tells the provider where to look, per denial."""


@dataclass(frozen=True)
class Adjudication:
    payment: ClaimPayment
    deductible_applied: Decimal
    """Counts toward the member's deductible for the year of service (undone on reversal)."""


@dataclass(frozen=True)
class ClaimContext:
    """What the payer knows besides the claim."""

    payer: Payer
    member: Member
    received: date
    payer_claim_number: str
    deductible_met: Decimal
    duplicate: bool
    bundling: BundlingLookup
    waived: frozenset[str] = frozenset()
    """CARCs an appeal overturned: those rules do not deny this time."""


def claim_denial(claim: Claim, context: ClaimContext) -> str | None:
    """A reason that denies the whole claim, checked before any line."""
    payer, service_date = context.payer, claim.encounter.service_date
    if payer.applies(Rule.ELIGIBILITY) and not context.member.covered_on(service_date):
        return CARC_COVERAGE_INACTIVE
    if (
        payer.applies(Rule.TIMELY_FILING)
        and CARC_TIMELY_FILING not in context.waived
        and (context.received - service_date).days > payer.timely_filing_days
    ):
        return CARC_TIMELY_FILING
    if payer.applies(Rule.DUPLICATE) and context.duplicate:
        return CARC_DUPLICATE
    return None


def line_denial(claim: Claim, index: int, context: ClaimContext) -> str | None:
    """The first rule that denies service line `index`, or None when it is payable."""
    payer, line = context.payer, claim.encounter.service_lines[index]
    plan = payer.plan_of(context.member)
    checks: list[tuple[Rule, str, Callable[[], bool]]] = [
        (
            Rule.AUTHORIZATION,
            CARC_AUTHORIZATION,
            lambda: (
                line.procedure_code in plan.authorization_codes and not claim.encounter.prior_authorization
            ),
        ),
        (Rule.MODIFIERS, CARC_MODIFIER, lambda: _modifier_problem(line, payer)),
        (Rule.BUNDLING, CARC_BUNDLED, lambda: _bundled(claim, index, context)),
    ]
    for rule, carc, denies in checks:
        if payer.applies(rule) and carc not in context.waived and denies():
            return carc
    if payer.applies(Rule.MEDICAL_NECESSITY):
        reason = _medical_necessity_reason(claim, line, payer)
        if reason and reason not in context.waived:
            return reason
    return None


def _modifier_problem(line: ServiceLine, payer: Payer) -> bool:
    present = set(line.modifiers)
    if any(pair <= present for pair in INCONSISTENT_MODIFIERS):
        return True
    required = payer.modifiers.required.get(line.procedure_code)
    return bool(required) and not present.intersection(required or ())


def _bundled(claim: Claim, index: int, context: ClaimContext) -> bool:
    """Line `index` is the column-2 code of an NCCI pair billed the same day, and the pair is never
    payable together (indicator 0) or the line lacks an NCCI-associated modifier (indicator 1)."""
    lines = claim.encounter.service_lines
    line = lines[index]
    for other_index, other in enumerate(lines):
        if other_index == index or other.service_date != line.service_date:
            continue
        indicator = _indicator(context, other.procedure_code, line.procedure_code, line.service_date, claim)
        if indicator is None:
            continue
        if indicator == 0:
            return True
        if not NCCI_MODIFIERS.intersection(line.modifiers):
            return True  # the NCCI-associated modifier belongs on the column-2 line
    return False


def _indicator(context: ClaimContext, column1: str, column2: str, day: date, claim: Claim) -> int | None:
    for pair in context.payer.bundling:
        if pair.column1 == column1 and pair.column2 == column2:
            return None if pair.modifier_indicator == "9" else int(pair.modifier_indicator)
    return context.bundling(column1, column2, day, claim.encounter.kind)


def _medical_necessity_reason(claim: Claim, line: ServiceLine, payer: Payer) -> str | None:
    diagnoses = claim.encounter.diagnoses
    pointed = [diagnoses[p - 1] for p in line.diagnosis_pointers if p <= len(diagnoses)] or list(diagnoses)
    for rule in payer.medical_necessity:
        if rule.procedure != line.procedure_code:
            continue
        if not any(code.startswith(prefix) for code in pointed for prefix in rule.diagnosis_prefixes):
            return rule.reason
    return None


def adjudicate(claim: Claim, context: ClaimContext, rng: random.Random) -> Adjudication:
    """Decide every line: denials with their CARC, paid lines down to the fee schedule and the
    member's share, then the payer's noise (a partial payment) when the seed says so."""
    whole_claim = claim_denial(claim, context)
    plan = context.payer.plan_of(context.member)
    deductible_left = max(ZERO, plan.deductible - context.deductible_met)
    copay_taken = False
    lines: list[ServicePayment] = []
    for index, line in enumerate(claim.encounter.service_lines):
        reason = whole_claim or line_denial(claim, index, context)
        if reason:
            lines.append(denied_line(line, reason))
            continue
        takes_copay = not copay_taken and plan.copay > 0 and _copay_code(line, plan)
        copay_taken = copay_taken or takes_copay
        decided, deductible_used = paid_line(line, context.payer, plan, deductible_left, takes_copay)
        deductible_left -= deductible_used
        lines.append(decided)
    if rng.random() < context.payer.noise.partial_payment_rate:
        lines = _reduce_one_line(lines, government=context.payer.filing_indicator.is_government)
    deductible_applied = money_sum(
        a.amount
        for line in lines
        for a in line.adjustments
        if _is(a, AdjustmentGroup.PATIENT_RESPONSIBILITY, CARC_DEDUCTIBLE)
    )
    return Adjudication(
        payment=claim_payment(claim, context, lines, whole_claim),
        deductible_applied=deductible_applied,
    )


def _is(adjustment: Adjustment, group: AdjustmentGroup, reason: str) -> bool:
    return adjustment.group is group and adjustment.reason == reason


def _copay_code(line: ServiceLine, plan: Plan) -> bool:
    return any(line.procedure_code.startswith(prefix) for prefix in plan.copay_code_prefixes)


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _service_payment(
    line: ServiceLine, paid: Decimal, adjustments: list[Adjustment], allowed: Decimal | None
) -> ServicePayment:
    institutional = line.revenue_code is not None
    return ServicePayment(
        procedure_code=line.procedure_code,
        qualifier="HC",
        modifiers=list(line.modifiers),
        charge=line.charge,
        paid=paid,
        revenue_code=line.revenue_code if institutional else None,
        units=line.units,
        service_date=line.service_date,
        allowed_amount=allowed,
        adjustments=adjustments,
        remarks=[],
    )


def denied_line(line: ServiceLine, reason: str) -> ServicePayment:
    payment = _service_payment(
        line, ZERO, [Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=reason, amount=line.charge)], None
    )
    remark = DENIAL_REMARKS.get(reason)
    return payment.model_copy(update={"remarks": [remark]}) if remark else payment


def paid_line(
    line: ServiceLine, payer: Payer, plan: Plan, deductible_left: Decimal, takes_copay: bool
) -> tuple[ServicePayment, Decimal]:
    unit_charge = line.charge / line.units
    allowed = min(line.charge, _money(payer.allowed_per_unit(line.procedure_code, unit_charge) * line.units))
    adjustments: list[Adjustment] = []
    if line.charge > allowed:
        adjustments.append(
            Adjustment(
                group=AdjustmentGroup.CONTRACTUAL, reason=CARC_FEE_SCHEDULE, amount=line.charge - allowed
            )
        )
    patient = AdjustmentGroup.PATIENT_RESPONSIBILITY
    deductible = ZERO
    if takes_copay:
        copay = min(plan.copay, allowed)
        adjustments.append(Adjustment(group=patient, reason=CARC_COPAY, amount=copay))
        paid = allowed - copay
    else:
        deductible = min(deductible_left, allowed)
        coinsurance = _money((allowed - deductible) * plan.coinsurance)
        if deductible > 0:
            adjustments.append(Adjustment(group=patient, reason=CARC_DEDUCTIBLE, amount=deductible))
        if coinsurance > 0:
            adjustments.append(Adjustment(group=patient, reason=CARC_COINSURANCE, amount=coinsurance))
        paid = allowed - deductible - coinsurance
    return _service_payment(line, paid, adjustments, allowed), deductible


def _reduce_one_line(lines: list[ServicePayment], *, government: bool) -> list[ServicePayment]:
    """Noise: government payers withhold 2% sequestration from a paid line; others pay the cheaper
    of two procedures at half under multiple-procedure rules."""
    paid = [i for i, line in enumerate(lines) if line.paid > 0]
    if not paid or (not government and len(paid) < 2):
        return lines
    index = min(paid, key=lambda i: (lines[i].paid, i))
    target = lines[index]
    share, reason = (
        (Decimal("0.02"), CARC_SEQUESTRATION) if government else (Decimal("0.5"), CARC_MULTIPLE_PROCEDURE)
    )
    cut = _money(target.paid * share)
    if cut <= 0:
        return lines
    reduced = target.model_copy(
        update={
            "paid": target.paid - cut,
            "adjustments": [
                *target.adjustments,
                Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=reason, amount=cut),
            ],
        }
    )
    return [reduced if i == index else line for i, line in enumerate(lines)]


def claim_payment(
    claim: Claim, context: ClaimContext, lines: Sequence[ServicePayment], whole_claim: str | None
) -> ClaimPayment:
    encounter = claim.encounter
    paid = money_sum(line.paid for line in lines)
    patient = money_sum(
        a.amount
        for line in lines
        for a in line.adjustments
        if a.group is AdjustmentGroup.PATIENT_RESPONSIBILITY
    )
    all_denied = all(line.paid == 0 and _denied(line) for line in lines)
    remarks = [DENIAL_REMARKS[whole_claim]] if whole_claim in DENIAL_REMARKS else []
    facility = (
        encounter.institutional.type_of_bill.lstrip("0")[:2]
        if encounter.institutional
        else encounter.place_of_service
    )
    return ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status=ClaimStatusCode.DENIED if all_denied else ClaimStatusCode.PRIMARY,
        charge=claim.total_charge,
        paid=paid,
        patient_responsibility=patient,
        filing_indicator=context.payer.filing_indicator.value,
        payer_claim_number=context.payer_claim_number,
        facility_type=facility,
        frequency=claim.frequency.value,
        service_lines=list(lines),
        remarks=remarks,
        patient_last_name=encounter.patient.last_name,
        patient_first_name=encounter.patient.first_name,
        member_id=encounter.coverage.member_id,
        service_date=encounter.service_date,
        received_date=context.received,
    )


def _denied(line: ServicePayment) -> bool:
    allowed_reasons = {
        CARC_FEE_SCHEDULE,
        CARC_DEDUCTIBLE,
        CARC_COINSURANCE,
        CARC_COPAY,
        CARC_PRIOR_PAYER_IMPACT,
    }
    return any(a.reason not in allowed_reasons for a in line.adjustments)


def reverse(payment: ClaimPayment) -> ClaimPayment:
    """The reversal (CLP02 22) of an earlier payment: every amount negated, so it still balances."""

    def negate(adjustments: list[Adjustment]) -> list[Adjustment]:
        return [a.model_copy(update={"amount": -a.amount}) for a in adjustments]

    return payment.model_copy(
        update={
            "status": ClaimStatusCode.REVERSAL,
            "charge": -payment.charge,
            "paid": -payment.paid,
            "patient_responsibility": -(payment.patient_responsibility or ZERO),
            "adjustments": negate(payment.adjustments),
            "service_lines": [
                line.model_copy(
                    update={
                        "charge": -line.charge,
                        "paid": -line.paid,
                        "allowed_amount": None,
                        "adjustments": negate(line.adjustments),
                    }
                )
                for line in payment.service_lines
            ],
        }
    )


def denial_reasons(payment: ClaimPayment) -> list[str]:
    """The CARCs that denied something in a payment, in the order they appear."""
    found: list[str] = []
    for line in payment.service_lines:
        if line.paid == 0 and _denied(line):
            for adjustment in line.adjustments:
                if adjustment.reason not in found:
                    found.append(adjustment.reason)
    return found
