"""Appeal and reconsideration letters, one template per denial category, on the shared letter base.

`AppealData.for_claim` gathers what every letter shows from the claim and the 835's claim payment:
claim and patient identifiers, each denial code with its published text, the services. The caller
adds the argument, the enclosures and the category's evidence (proof of timely filing, the
authorization, the bundling pair, the coding correction).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from claimflow.claims.carc import carc_text, rarc_text
from claimflow.claims.claim import Claim
from claimflow.claims.encounter import Address
from claimflow.claims.money import Money, money_sum
from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment
from claimflow.claims.underpayment import Underpayment
from claimflow.letters.practice import LetterModel, Practice
from claimflow.letters.render import RenderedLetter, render_letter
from claimflow.letters.statement import full_name

# Adjustments a letter does not dispute: the patient's share and the contracted fee reduction.
NOT_DISPUTED_REASONS = frozenset({"45"})


class AppealCategory(StrEnum):
    MEDICAL_NECESSITY = "medical_necessity"
    BUNDLING = "bundling"
    TIMELY_FILING = "timely_filing"
    AUTHORIZATION = "authorization"
    CODING = "coding"
    UNDERPAYMENT = "underpayment"
    """Paid below the contracted rate: the letter states the contract line and the shortfall."""

    @property
    def template(self) -> str:
        return f"appeal_{self.value}.html.j2"


class DenialReason(LetterModel):
    group: str = Field(pattern=r"^[A-Z]{2}$")
    carc: str
    text: str = Field(min_length=1, description="the CARC's published text")
    amount: Money
    procedure_code: str | None = Field(default=None, description="None: a claim-level adjustment")
    service_date: date | None = None


class Remark(LetterModel):
    code: str
    text: str = Field(min_length=1)


class ServiceDetail(LetterModel):
    service_date: date
    procedure_code: str
    modifiers: list[str] = Field(default_factory=list)
    units: str
    charge: Money


class FilingEvent(LetterModel):
    """One dated step of the claim's submission, e.g. the 999 or the 277CA that accepted it."""

    on: date
    what: str = Field(min_length=1)
    reference: str | None = Field(default=None, description="control number, claim number, status code")


class FilingProof(LetterModel):
    """Proof of timely filing: the filing limit and the dated record of the claim's submission."""

    service_date: date
    filing_limit_days: int = Field(gt=0)
    filing_deadline: date
    events: list[FilingEvent] = Field(min_length=1)

    @model_validator(mode="after")
    def _filed_in_time(self) -> FilingProof:
        first = min(event.on for event in self.events)
        if first > self.filing_deadline:
            raise ValueError(
                f"the earliest submission record ({first}) is after the filing deadline "
                f"({self.filing_deadline}): this is not proof of timely filing"
            )
        return self

    @property
    def first_filed_on(self) -> date:
        return min(event.on for event in self.events)

    @classmethod
    def from_acknowledgements(
        cls,
        *,
        service_date: date,
        filing_limit_days: int,
        filing_deadline: date,
        submitted_on: date,
        interchange_control_number: str | None = None,
        acknowledged_999_on: date | None = None,
        acknowledgement_999_status: str = "A",
        accepted_277ca_on: date | None = None,
        status_277ca: str | None = None,
        payer_claim_number: str | None = None,
    ) -> FilingProof:
        """The usual proof: sent on a date, the clearinghouse's 999, the payer's 277CA."""
        events = [
            FilingEvent(
                on=submitted_on,
                what="Claim (837) transmitted electronically to the clearinghouse",
                reference=f"interchange control number {interchange_control_number}"
                if interchange_control_number
                else None,
            )
        ]
        if acknowledged_999_on is not None:
            events.append(
                FilingEvent(
                    on=acknowledged_999_on,
                    what="999 implementation acknowledgement received",
                    reference=f"IK5 status {acknowledgement_999_status}",
                )
            )
        if accepted_277ca_on is not None:
            reference = ", ".join(
                part
                for part in (
                    f"STC {status_277ca}" if status_277ca else None,
                    f"payer claim number {payer_claim_number}" if payer_claim_number else None,
                )
                if part
            )
            events.append(
                FilingEvent(
                    on=accepted_277ca_on,
                    what="277CA claim acknowledgement: received by the payer",
                    reference=reference or None,
                )
            )
        return cls(
            service_date=service_date,
            filing_limit_days=filing_limit_days,
            filing_deadline=filing_deadline,
            events=events,
        )


class AuthorizationDetails(LetterModel):
    authorization_number: str = Field(min_length=1)
    obtained_on: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    obtained_from: str | None = Field(default=None, description="payer department or representative")


class BundlingDetails(LetterModel):
    """An NCCI pair: the column-2 code denied as included in the column-1 code."""

    column1_code: str
    column2_code: str
    modifier: str | None = Field(default=None, description="NCCI-associated modifier billed, e.g. 59, XS")
    distinct_because: str = Field(min_length=1, description="why the services were separate")


class CodingCorrection(LetterModel):
    procedure_code: str
    corrected_code: str | None = None
    corrected_modifiers: list[str] = Field(default_factory=list)
    explanation: str = Field(min_length=1)


class AppealData(LetterModel):
    category: AppealCategory
    request_type: str = Field(default="Request for reconsideration", description="e.g. Redetermination")
    level: int = Field(default=1, ge=1, le=5)
    practice: Practice
    letter_date: date
    payer_name: str = Field(min_length=1)
    payer_id: str | None = None
    payer_address: Address | None = None
    patient_name: str = Field(min_length=1)
    patient_birth_date: date | None = None
    member_id: str = Field(min_length=1)
    group_number: str | None = None
    patient_control_number: str = Field(min_length=1)
    payer_claim_number: str | None = None
    service_from: date
    service_to: date | None = None
    billed: Money
    amount_in_dispute: Money
    remittance_date: date | None = None
    remittance_trace_number: str | None = None
    denials: list[DenialReason] = Field(
        default_factory=list, description="empty only for a timely-filing reconsideration before any 835"
    )
    remarks: list[Remark] = Field(default_factory=list)
    services: list[ServiceDetail] = Field(min_length=1)
    diagnoses: list[str] = Field(default_factory=list)
    argument: list[str] = Field(default_factory=list, description="paragraphs the biller wrote or approved")
    enclosures: list[str] = Field(min_length=1)
    signer_name: str = Field(min_length=1)
    signer_title: str = Field(default="Billing Specialist", min_length=1)
    filing_proof: FilingProof | None = None
    authorization: AuthorizationDetails | None = None
    bundling: BundlingDetails | None = None
    coding: list[CodingCorrection] = Field(default_factory=list)
    underpaid: list[Underpayment] = Field(
        default_factory=list, description="an underpayment appeal: each line allowed below the contract"
    )

    @model_validator(mode="after")
    def _evidence_for_the_category(self) -> AppealData:
        needed = {
            AppealCategory.TIMELY_FILING: ("filing_proof", self.filing_proof is not None),
            AppealCategory.AUTHORIZATION: ("authorization", self.authorization is not None),
            AppealCategory.BUNDLING: ("bundling", self.bundling is not None),
            AppealCategory.CODING: ("coding", bool(self.coding)),
            AppealCategory.MEDICAL_NECESSITY: ("argument", bool(self.argument)),
            AppealCategory.UNDERPAYMENT: ("underpaid", bool(self.underpaid)),
        }
        if not self.denials and self.category not in {
            AppealCategory.TIMELY_FILING,
            AppealCategory.UNDERPAYMENT,
        }:
            raise ValueError(
                f"an appeal for claim {self.patient_control_number} needs the denial codes it disputes"
            )
        field, present = needed[self.category]
        if not present:
            raise ValueError(
                f"a {self.category.value.replace('_', ' ')} appeal for claim {self.patient_control_number} "
                f"needs {field}: give it before rendering the letter"
            )
        return self

    @classmethod
    def for_claim(
        cls,
        claim: Claim,
        payment: ClaimPayment | None,
        *,
        category: AppealCategory,
        practice: Practice,
        letter_date: date,
        enclosures: list[str],
        signer_name: str,
        argument: list[str] | None = None,
        remittance_date: date | None = None,
        remittance_trace_number: str | None = None,
        request_type: str = "Request for reconsideration",
        level: int = 1,
        filing_proof: FilingProof | None = None,
        authorization: AuthorizationDetails | None = None,
        bundling: BundlingDetails | None = None,
        coding: list[CodingCorrection] | None = None,
        payer_claim_number: str | None = None,
        underpaid: list[Underpayment] | None = None,
    ) -> AppealData:
        """Identifiers, services and every disputed adjustment (with its CARC text) from the claim
        and its 835 claim payment; PR and CO-45 (contracted reduction) are not disputed.

        `payment` is None for a timely-filing reconsideration of a claim not yet adjudicated; then
        give `payer_claim_number` from the 277CA if there is one.
        """
        encounter = claim.encounter
        denials = disputed_adjustments(payment) if payment is not None else []
        remarks = (
            sorted(set(payment.remarks) | {code for line in payment.service_lines for code in line.remarks})
            if payment is not None
            else []
        )
        lines = encounter.service_lines
        return cls(
            category=category,
            request_type=request_type,
            level=level,
            practice=practice,
            letter_date=letter_date,
            payer_name=encounter.coverage.payer_name,
            payer_id=encounter.coverage.payer_id,
            payer_address=encounter.coverage.payer_address,
            patient_name=full_name(encounter.patient),
            patient_birth_date=encounter.patient.birth_date,
            member_id=encounter.coverage.member_id,
            group_number=encounter.coverage.group_number,
            patient_control_number=claim.patient_control_number,
            payer_claim_number=payment.payer_claim_number if payment is not None else payer_claim_number,
            service_from=min(line.service_date for line in lines) if lines else encounter.service_date,
            service_to=max(line.service_date_end or line.service_date for line in lines) if lines else None,
            billed=claim.total_charge,
            amount_in_dispute=money_sum(u.shortfall for u in underpaid)
            if underpaid
            else money_sum(denial.amount for denial in denials)
            if denials
            else claim.total_charge,
            remittance_date=remittance_date,
            remittance_trace_number=remittance_trace_number,
            denials=denials,
            remarks=[Remark(code=code, text=rarc_text(code)) for code in remarks],
            services=[
                ServiceDetail(
                    service_date=line.service_date,
                    procedure_code=line.procedure_code,
                    modifiers=line.modifiers,
                    units=f"{line.units.normalize():f}",
                    charge=line.charge,
                )
                for line in lines
            ],
            diagnoses=list(encounter.diagnoses),
            argument=argument or [],
            enclosures=enclosures,
            signer_name=signer_name,
            filing_proof=filing_proof,
            authorization=authorization,
            bundling=bundling,
            coding=coding or [],
            underpaid=underpaid or [],
        )


def disputed_adjustments(payment: ClaimPayment) -> list[DenialReason]:
    """Every adjustment of the claim payment except the patient's share and CO-45."""
    reasons = [
        DenialReason(
            group=adjustment.group.value,
            carc=adjustment.reason,
            text=carc_text(adjustment.reason),
            amount=adjustment.amount,
        )
        for adjustment in payment.adjustments
        if _disputed(adjustment.group, adjustment.reason)
    ]
    for line in payment.service_lines:
        reasons += [
            DenialReason(
                group=adjustment.group.value,
                carc=adjustment.reason,
                text=carc_text(adjustment.reason),
                amount=adjustment.amount,
                procedure_code=line.procedure_code,
                service_date=line.service_date,
            )
            for adjustment in line.adjustments
            if _disputed(adjustment.group, adjustment.reason)
        ]
    return reasons


def _disputed(group: AdjustmentGroup, reason: str) -> bool:
    return group is not AdjustmentGroup.PATIENT_RESPONSIBILITY and reason not in NOT_DISPUTED_REASONS


def render_appeal(data: AppealData) -> RenderedLetter:
    """The appeal letter of the data's category, as HTML and PDF."""
    return render_letter(data.category.template, data=data)
