"""A sandbox payer's answer to a 270: the member's coverage on the date of service, and the plan."""

from __future__ import annotations

import random
from decimal import Decimal

from claimflow.claims.claim import EligibilityInquiry
from claimflow.claims.money import ZERO
from claimflow.claims.responses import Benefit, EligibilityRejection, EligibilityResult
from claimflow.integrations.sandbox.config import Member, Payer


def find_member_for(inquiry: EligibilityInquiry, payer: Payer) -> tuple[Member | None, str | None]:
    """The member the inquiry names, or the AAA03 reason it names none: 72 invalid member id (no
    member of this payer has it), 73 name does not match, 71 birth date does not match."""
    member = payer.find_member(inquiry.member_id)
    if member is None:
        return None, "72"
    person = inquiry.subscriber
    if member.last_name and member.last_name.upper() != person.last_name.strip().upper():
        return None, "73"
    if member.first_name and member.first_name.upper() != person.first_name.strip().upper():
        return None, "73"
    if member.birth_date and person.birth_date and member.birth_date != person.birth_date:
        return None, "71"
    return member, None


def answer(
    inquiry: EligibilityInquiry, payer: Payer | None, deductible_met: Decimal, rng: random.Random
) -> EligibilityResult:
    """The 271 content for a 270; `deductible_met` is what the member has met in the service year."""
    base = {
        "trace_number": inquiry.trace_number,
        "payer_id": inquiry.payer_id,
        "payer_name": payer.name if payer else inquiry.payer_name,
        "member_id": inquiry.member_id,
    }
    if payer is None:
        rejection = EligibilityRejection(loop="2100A", code="79", follow_up="N")
        return EligibilityResult(active=False, rejections=[rejection], **base)
    if rng.random() < payer.noise.eligibility_unavailable_rate:
        rejection = EligibilityRejection(loop="2100A", code="42", follow_up="R")
        return EligibilityResult(active=False, rejections=[rejection], **base)
    member, reason = find_member_for(inquiry, payer)
    if member is None:
        rejection = EligibilityRejection(loop="2100C", code=reason or "75", follow_up="C")
        return EligibilityResult(active=False, rejections=[rejection], **base)
    coverage = {
        "coverage_start": member.coverage_start,
        "coverage_end": member.coverage_end,
        "group_number": member.group_number,
        "plan_name": member.plan.replace("_", " ").upper(),
    }
    if not member.covered_on(inquiry.service_date):
        inactive = Benefit(code="6", coverage_level="IND", service_types=["30"])
        return EligibilityResult(active=False, benefits=[inactive], **coverage, **base)
    plan = payer.plan_of(member)
    remaining = max(ZERO, plan.deductible - deductible_met)
    benefits = [
        Benefit(
            code="1",
            coverage_level="IND",
            service_types=["30"],
            insurance_type=_insurance_type(payer),
            plan_description=coverage["plan_name"],
        ),
    ]
    if plan.deductible > 0:
        benefits += [
            Benefit(
                code="C",
                coverage_level="IND",
                service_types=["30"],
                time_period="23",
                amount=plan.deductible,
                in_network="Y",
            ),
            Benefit(
                code="C",
                coverage_level="IND",
                service_types=["30"],
                time_period="29",
                amount=remaining,
                in_network="Y",
            ),
        ]
    if plan.coinsurance > 0:
        benefits.append(
            Benefit(
                code="A", coverage_level="IND", service_types=["30"], percent=plan.coinsurance, in_network="Y"
            )
        )
    if plan.copay > 0:
        benefits.append(
            Benefit(
                code="B",
                coverage_level="IND",
                service_types=["98"],
                time_period="27",
                amount=plan.copay,
                in_network="Y",
            )
        )
    return EligibilityResult(
        active=True,
        copay=plan.copay if plan.copay > 0 else None,
        deductible=plan.deductible if plan.deductible > 0 else None,
        deductible_remaining=remaining if plan.deductible > 0 else None,
        coinsurance_percent=plan.coinsurance if plan.coinsurance > 0 else None,
        benefits=benefits,
        **coverage,
        **base,
    )


def _insurance_type(payer: Payer) -> str:
    """EB04 insurance type: MB Medicare B, MC Medicaid, HM HMO, PR PPO, C1 commercial."""
    return {"MB": "MB", "MC": "MC", "HM": "HM", "12": "PR"}.get(payer.filing_indicator.value, "C1")
