"""An adjudicated claim -> FHIR R4 ExplanationOfBenefit, in the CARIN Blue Button (C4BB 2.0) shapes.

One ExplanationOfBenefit per payer that decided the claim (its 835 claim payment), in the order of
coverage: the primary's, then the secondary's and tertiary's. Each carries the claim's lines with
their adjudication (submitted, eligible/allowed, paid to provider, deductible, copay, coinsurance,
member liability, non-covered, prior payer paid; each denial's CARC as a denial reason), header
totals, the payment, the 835's remark codes as process notes and every coverage in `insurance`
(focal: the payer that decided). The Bundle (type collection) holds them with the Patient, each
Coverage and payer Organization and the billing provider, built as `bundle_from_encounter` builds
them. `validate` checks every resource with the fhir.resources R4B models.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from claimflow.claims.claim import Claim
from claimflow.claims.coordination import Decision, match_lines
from claimflow.claims.encounter import Encounter
from claimflow.claims.money import ZERO, money_sum
from claimflow.claims.remittance import Adjustment, AdjustmentGroup, ClaimPayment, ClaimStatusCode
from claimflow.claims.underpayment import AFTER_ALLOWED, line_allowed
from claimflow.integrations.fhir.export import (
    CPT,
    HCPCS,
    ICD10CM,
    PLACE_OF_SERVICE,
    REVENUE,
    _coding,
    _coverage,
    _number,
    _payer,
    _person,
    _provider,
    _reference,
    _supporting_info,
)

C4BB = "http://hl7.org/fhir/us/carin-bb"
PROFILE_PROFESSIONAL = f"{C4BB}/StructureDefinition/C4BB-ExplanationOfBenefit-Professional-NonClinician"
PROFILE_INPATIENT = f"{C4BB}/StructureDefinition/C4BB-ExplanationOfBenefit-Inpatient-Institutional"
PROFILE_OUTPATIENT = f"{C4BB}/StructureDefinition/C4BB-ExplanationOfBenefit-Outpatient-Institutional"
IDENTIFIER_TYPE = f"{C4BB}/CodeSystem/C4BBIdentifierType"
C4BB_ADJUDICATION = f"{C4BB}/CodeSystem/C4BBAdjudication"
C4BB_DISCRIMINATOR = f"{C4BB}/CodeSystem/C4BBAdjudicationDiscriminator"
C4BB_INFO = f"{C4BB}/CodeSystem/C4BBSupportingInfoType"
C4BB_PAYEE = f"{C4BB}/CodeSystem/C4BBPayeeType"
C4BB_SUBTYPE = f"{C4BB}/CodeSystem/C4BBInstitutionalClaimSubType"
HL7_ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
DIAGNOSIS_TYPE = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"

PRIOR_PAYER = "23"
NOT_DENIALS = AFTER_ALLOWED | {"45"}
"""Adjustments that are no denial: the contractual fee-schedule reduction and those after allowed."""
PATIENT_SHARE = {"1": (HL7_ADJUDICATION, "deductible"), "2": (C4BB_ADJUDICATION, "coinsurance")}
"""PR CARCs that CARIN names (PR-3, the copay, is HL7's `copay`); others count in member liability."""


def _amount(value: Decimal) -> dict[str, Any]:
    return {"value": _number(value), "currency": "USD"}


def _adjudication(system: str, code: str, value: Decimal) -> dict[str, Any]:
    return {"category": _coding(system, code), "amount": _amount(value)}


def _group(
    adjustments: Sequence[Adjustment], group: AdjustmentGroup, reasons: set[str] | None = None
) -> Decimal:
    return money_sum(
        a.amount for a in adjustments if a.group is group and (reasons is None or a.reason in reasons)
    )


def _amounts(
    charge: Decimal, paid: Decimal, allowed: Decimal | None, adjustments: Sequence[Adjustment]
) -> list[dict[str, Any]]:
    """The adjudication entries of one line (or of the claim), CARIN's categories."""
    patient = AdjustmentGroup.PATIENT_RESPONSIBILITY
    entries = [_adjudication(HL7_ADJUDICATION, "submitted", charge)]
    if allowed is not None:
        entries.append(_adjudication(HL7_ADJUDICATION, "eligible", allowed))
    entries.append(_adjudication(C4BB_ADJUDICATION, "paidtoprovider", paid))
    entries.append(_adjudication(HL7_ADJUDICATION, "benefit", paid))
    for reason, (system, code) in PATIENT_SHARE.items():
        share = _group(adjustments, patient, {reason})
        if share:
            entries.append(_adjudication(system, code, share))
    copay = _group(adjustments, patient, {"3"})
    if copay:
        entries.append(_adjudication(HL7_ADJUDICATION, "copay", copay))
    entries.append(_adjudication(C4BB_ADJUDICATION, "memberliability", _group(adjustments, patient)))
    prior = money_sum(a.amount for a in adjustments if a.reason == PRIOR_PAYER)
    if prior:
        entries.append(_adjudication(C4BB_ADJUDICATION, "priorpayerpaid", prior))
    denied = [a for a in adjustments if a.group is not patient and a.reason not in NOT_DENIALS]
    if denied:
        entries.append(_adjudication(C4BB_ADJUDICATION, "noncovered", money_sum(a.amount for a in denied)))
    for adjustment in denied:
        entries.append(
            {
                "category": _coding(C4BB_DISCRIMINATOR, "denialreason"),
                "reason": _coding(CARC, adjustment.reason),
                "amount": _amount(adjustment.amount),
            }
        )
    return entries


def _items(claim: Claim, payment: ClaimPayment, notes: dict[str, int]) -> list[dict[str, Any]]:
    encounter = claim.encounter
    items = []
    answered = dict(match_lines(claim, payment.service_lines))
    for sequence, line in enumerate(encounter.service_lines, start=1):
        system = HCPCS if line.procedure_code[0].isalpha() else CPT
        item: dict[str, Any] = {
            "sequence": sequence,
            "productOrService": _coding(system, line.procedure_code),
            "servicedDate": line.service_date.isoformat(),
            "quantity": {"value": _number(line.units)},
            "net": _amount(line.charge),
        }
        if line.modifiers:
            item["modifier"] = [_coding(CPT, modifier) for modifier in line.modifiers]
        if line.diagnosis_pointers:
            item["diagnosisSequence"] = line.diagnosis_pointers
        if encounter.institutional is None:
            item["locationCodeableConcept"] = _coding(
                PLACE_OF_SERVICE, line.place_of_service or encounter.place_of_service
            )
        if line.revenue_code:
            item["revenue"] = _coding(REVENUE, line.revenue_code)
        paid = answered.get(sequence)
        if paid is None:  # the payer answered at claim level only
            item["adjudication"] = [_adjudication(HL7_ADJUDICATION, "submitted", line.charge)]
        else:
            item["adjudication"] = _amounts(paid.charge, paid.paid, line_allowed(paid), paid.adjustments)
            remarks = [notes[remark] for remark in paid.remarks if remark in notes]
            if remarks:
                item["noteNumber"] = remarks
        items.append(item)
    return items


def _institutional_profile(encounter: Encounter) -> tuple[str, str]:
    info = encounter.institutional
    assert info is not None
    inpatient = info.type_of_bill.lstrip("0")[:2] in {"11", "12", "18", "21", "41", "65", "66", "86"}
    return (PROFILE_INPATIENT, "inpatient") if inpatient else (PROFILE_OUTPATIENT, "outpatient")


def explanation_of_benefit(
    claim: Claim,
    decision: Decision,
    *,
    position: int,
    ident: str,
    patient: dict[str, Any],
    coverages: Sequence[dict[str, Any]],
    insurer: dict[str, Any],
    provider: dict[str, Any],
) -> dict[str, Any]:
    """The ExplanationOfBenefit of one payer's decision (`decision`, of the coverage at `position`)."""
    encounter = claim.encounter
    payment = decision.payment
    remarks = list(
        dict.fromkeys([*payment.remarks, *(r for line in payment.service_lines for r in line.remarks)])
    )
    notes = {remark: number for number, remark in enumerate(remarks, start=1)}
    institutional = encounter.institutional is not None
    if institutional:
        profile, subtype = _institutional_profile(encounter)
    else:
        profile, subtype = PROFILE_PROFESSIONAL, ""
    lines = encounter.service_lines
    start = min((line.service_date for line in lines), default=encounter.service_date)
    end = max((line.service_date_end or line.service_date for line in lines), default=encounter.service_date)
    if encounter.institutional is not None:
        start, end = encounter.institutional.statement_from, encounter.institutional.statement_to
    created = f"{decision.decided_on.isoformat()}T00:00:00+00:00"
    eob: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "meta": {"profile": [profile], "lastUpdated": created},
        "identifier": [
            {
                "type": _coding(IDENTIFIER_TYPE, "uc"),
                "system": f"urn:claimflow:payer-claim-number:{encounter.coverages[position].payer_id}",
                "value": payment.payer_claim_number or claim.patient_control_number,
            }
        ],
        "status": "active",
        "type": _coding(CLAIM_TYPE, encounter.kind.value),
        "use": "claim",
        "patient": _reference(patient),
        "billablePeriod": {"start": start.isoformat(), "end": end.isoformat()},
        "created": created,
        "insurer": _reference(insurer),
        "provider": _reference(provider),
        "payee": {"type": _coding(C4BB_PAYEE, "provider"), "party": _reference(provider)},
        "outcome": "complete",
        "insurance": [
            {"focal": index == position, "coverage": _reference(coverage)}
            for index, coverage in enumerate(coverages)
        ],
        "item": _items(claim, payment, notes),
        "adjudication": _amounts(payment.charge, payment.paid, None, payment.adjustments)[1:]
        if payment.adjustments
        else [],
        "total": _totals(payment),
        "payment": {
            "type": _coding(
                PAYMENT_TYPE, "complete" if payment.status is not ClaimStatusCode.REVERSAL else "partial"
            ),
            "date": decision.decided_on.isoformat(),
            "amount": _amount(payment.paid),
        },
    }
    if not eob["adjudication"]:
        del eob["adjudication"]
    if subtype:
        eob["subType"] = _coding(C4BB_SUBTYPE, subtype)
    info: list[dict[str, Any]] = []
    if payment.received_date is not None:
        info.append(
            {"category": _coding(C4BB_INFO, "clmrecvddate"), "timingDate": payment.received_date.isoformat()}
        )
    if institutional:
        info.extend(_supporting_info(encounter))
    if info:
        eob["supportingInfo"] = [{**entry, "sequence": n} for n, entry in enumerate(info, start=1)]
    if encounter.diagnoses:
        eob["diagnosis"] = [
            {
                "sequence": sequence,
                "diagnosisCodeableConcept": _coding(ICD10CM, code),
                "type": [_coding(DIAGNOSIS_TYPE, "principal" if sequence == 1 else "secondary")],
            }
            for sequence, code in enumerate(encounter.diagnoses, start=1)
        ]
    if notes:
        eob["processNote"] = [
            {"number": number, "type": "display", "text": f"remark {remark}"}
            for remark, number in notes.items()
        ]
    return eob


def _totals(payment: ClaimPayment) -> list[dict[str, Any]]:
    allowed = [line_allowed(line) for line in payment.service_lines]
    adjustments = payment.all_adjustments
    totals = [
        _adjudication(HL7_ADJUDICATION, "submitted", payment.charge),
        _adjudication(C4BB_ADJUDICATION, "paidtoprovider", payment.paid),
        _adjudication(HL7_ADJUDICATION, "benefit", payment.paid),
        _adjudication(
            C4BB_ADJUDICATION, "memberliability", _group(adjustments, AdjustmentGroup.PATIENT_RESPONSIBILITY)
        ),
    ]
    if payment.service_lines:
        totals.insert(1, _adjudication(HL7_ADJUDICATION, "eligible", money_sum(a or ZERO for a in allowed)))
    return totals


def eob_bundle(claim: Claim, decisions: Sequence[Decision]) -> dict[str, Any]:
    """A Bundle (collection) with an ExplanationOfBenefit per decision: `decisions[i]` is the decision
    of the coverage at position i of the claim's order (primary first), as `claim_for_payer` takes them."""
    encounter = claim.encounter
    if len(decisions) > len(encounter.coverages):
        raise ValueError(
            f"claim {claim.patient_control_number} has {len(encounter.coverages)} coverage(s) "
            f"but {len(decisions)} decisions were given"
        )
    key = encounter.encounter_id
    patient = _person("Patient", f"{key}-patient", encounter.patient)
    provider = _provider(f"{key}-billing", encounter.billing_provider)
    payers: list[dict[str, Any]] = []
    coverages: list[dict[str, Any]] = []
    for index, cover in enumerate(encounter.coverages, start=1):
        covered = encounter.model_copy(update={"coverage": cover})
        payer = _payer(f"{key}-payer-{index}", covered)
        coverage = _coverage(covered, f"{key}-coverage-{index}", patient, payer)
        coverage["order"] = index
        payers.append(payer)
        coverages.append(coverage)
    resources: list[dict[str, Any]] = [patient, provider, *payers, *coverages]
    for position, decision in enumerate(decisions):
        resources.append(
            explanation_of_benefit(
                claim,
                decision,
                position=position,
                ident=f"{key}-eob-{position + 1}",
                patient=patient,
                coverages=coverages,
                insurer=payers[position],
                provider=provider,
            )
        )
    return {
        "resourceType": "Bundle",
        "id": f"{key}-eob",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:claimflow:{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def validate(bundle: dict[str, Any]) -> None:
    """Every resource of the Bundle, and the Bundle, through the fhir.resources R4B models: a
    ValueError naming the resource on the first problem."""
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except ValueError as exc:
            raise ValueError(f"{resource['resourceType']}/{resource.get('id')}: {exc}") from exc
    get_fhir_model_class("Bundle").model_validate(bundle)
