"""Every CARC maps to a category and an action; the classifier reads claim and line denials."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from claimflow.claims.carc import CodeType, all_codes, rarc_text
from claimflow.claims.denials import (
    EXPLICIT,
    REMARKS,
    AssessmentKind,
    DenialAction,
    DenialCategory,
    LetterCategory,
    classify,
    rule_for_carc,
    rule_from_description,
)
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)

CO = AdjustmentGroup.CONTRACTUAL
PR = AdjustmentGroup.PATIENT_RESPONSIBILITY
SHARED_LIST = (
    Path(__file__).parents[2]
    / ".."
    / "shared"
    / "data"
    / "codesets"
    / "x12_carc_rarc_group_codes_2024jun.csv"
)


def test_every_carc_of_the_x12_list_maps_to_a_category_and_an_action() -> None:
    codes = all_codes(CodeType.CARC)
    if SHARED_LIST.exists():  # the reference list beside the repository: the package copy is whole
        with SHARED_LIST.open(encoding="utf-8") as file:
            shared = {row["code"] for row in csv.DictReader(file) if row["code_type"] == "CARC"}
        assert {code.code for code in codes} == shared
    unmapped = [code.code for code in codes if rule_for_carc(code.code) is None]
    assert not unmapped, f"CARCs no rule recognises: {unmapped}"
    categories = {rule.category for code in codes if (rule := rule_for_carc(code.code))}
    assert categories == set(DenialCategory)
    for code in codes:
        rule = rule_for_carc(code.code)
        assert rule is not None
        assert (
            (rule.category is DenialCategory.APPEAL)
            == (rule.action is DenialAction.APPEAL)
            == (rule.letter is not None)
        ), f"CARC {code.code}: an appeal has a letter, and only an appeal"


def test_the_description_rules_alone_cover_most_of_the_list() -> None:
    """The explicit entries are for the common codes; the rules must carry the rest."""
    by_rules = [code for code in all_codes(CodeType.CARC) if code.code not in EXPLICIT]
    assert len(by_rules) > 370
    assert all(rule_from_description(code.description) is not None for code in by_rules)


@pytest.mark.parametrize(
    ("carc", "category", "action", "letter"),
    [
        ("1", DenialCategory.PATIENT_RESPONSIBILITY, DenialAction.BILL_PATIENT, None),
        ("4", DenialCategory.CORRECT_AND_RESUBMIT, DenialAction.CORRECT_AND_RESUBMIT, None),
        ("11", DenialCategory.CORRECT_AND_RESUBMIT, DenialAction.CORRECT_AND_RESUBMIT, None),
        ("16", DenialCategory.CORRECT_AND_RESUBMIT, DenialAction.CORRECT_AND_RESUBMIT, None),
        ("22", DenialCategory.COVERAGE, DenialAction.BILL_OTHER_PAYER, None),
        ("27", DenialCategory.COVERAGE, DenialAction.VERIFY_COVERAGE, None),
        ("109", DenialCategory.COVERAGE, DenialAction.BILL_OTHER_PAYER, None),
        ("29", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.TIMELY_FILING),
        ("50", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.MEDICAL_NECESSITY),
        ("97", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.BUNDLING),
        ("197", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.AUTHORIZATION),
        ("150", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.CODING),
        ("45", DenialCategory.CONTRACTUAL, DenialAction.NONE, None),
        ("18", DenialCategory.WRITE_OFF, DenialAction.CHECK_ORIGINAL_CLAIM, None),
        # decided by the description rules, not by hand:
        ("26", DenialCategory.COVERAGE, DenialAction.VERIFY_COVERAGE, None),
        ("198", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.AUTHORIZATION),
        ("236", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.BUNDLING),
        ("55", DenialCategory.APPEAL, DenialAction.APPEAL, LetterCategory.MEDICAL_NECESSITY),
        ("181", DenialCategory.CORRECT_AND_RESUBMIT, DenialAction.CORRECT_AND_RESUBMIT, None),
        ("133", DenialCategory.PENDING, DenialAction.WAIT, None),
        ("35", DenialCategory.WRITE_OFF, DenialAction.REVIEW_WRITE_OFF, None),
    ],
)
def test_common_codes(
    carc: str, category: DenialCategory, action: DenialAction, letter: LetterCategory | None
) -> None:
    rule = rule_for_carc(carc)
    assert rule is not None
    assert (rule.category, rule.action, rule.letter) == (category, action, letter)


def test_every_remark_in_the_table_is_a_published_rarc() -> None:
    for code in REMARKS:
        assert rarc_text(code)


def adjustment(group: AdjustmentGroup, reason: str, amount: str) -> Adjustment:
    return Adjustment(group=group, reason=reason, amount=Decimal(amount))


def line(
    code: str, charge: str, paid: str, *adjustments: Adjustment, remarks: list[str] | None = None
) -> ServicePayment:
    return ServicePayment(
        procedure_code=code,
        charge=Decimal(charge),
        paid=Decimal(paid),
        adjustments=list(adjustments),
        remarks=remarks or [],
    )


def test_claim_level_medical_necessity_denial() -> None:
    payment = ClaimPayment(
        patient_control_number="ENC1",
        status=ClaimStatusCode.DENIED,
        charge=Decimal("450.00"),
        paid=Decimal("0.00"),
        payer_claim_number="PCN9",
        adjustments=[adjustment(CO, "50", "450.00")],
    )
    assessment = classify(payment)
    assert assessment.kind is AssessmentKind.DENIED
    assert assessment.action is DenialAction.APPEAL and assessment.appealable
    assert assessment.letter is LetterCategory.MEDICAL_NECESSITY
    assert assessment.amount_at_stake == Decimal("450.00")
    assert assessment.codes == ["CO-50"]
    assert "medical necessity" in assessment.findings[0].carc_text
    assert assessment.findings[0].line is None


def test_bundling_on_one_line_with_the_others_paid_is_a_partial_denial() -> None:
    payment = ClaimPayment(
        patient_control_number="ENC2",
        status=ClaimStatusCode.PRIMARY,
        charge=Decimal("300.00"),
        paid=Decimal("160.00"),
        service_lines=[
            line("99214", "200.00", "160.00", adjustment(CO, "45", "20.00"), adjustment(PR, "2", "20.00")),
            line("20610", "100.00", "0.00", adjustment(CO, "97", "100.00"), remarks=["M15"]),
        ],
    )
    assessment = classify(payment)
    assert assessment.kind is AssessmentKind.PARTIAL
    assert assessment.denied_lines == [2] and assessment.paid_lines == [1]
    assert assessment.action is DenialAction.APPEAL
    assert assessment.letter is LetterCategory.BUNDLING
    assert assessment.amount_at_stake == Decimal("100.00")
    assert assessment.patient_responsibility == Decimal("20.00")
    assert assessment.contractual == Decimal("20.00")
    bundled = assessment.findings_for(LetterCategory.BUNDLING)
    assert [(f.line, f.procedure_code, f.code) for f in bundled] == [(2, "20610", "CO-97")]


def test_reversal_takes_back_the_payment_and_calls_for_reposting() -> None:
    payment = ClaimPayment(
        patient_control_number="ENC3",
        status=ClaimStatusCode.REVERSAL,
        charge=Decimal("-200.00"),
        paid=Decimal("-160.00"),
        adjustments=[adjustment(CO, "45", "-40.00")],
    )
    assessment = classify(payment)
    assert assessment.kind is AssessmentKind.REVERSAL
    assert assessment.action is DenialAction.REPOST
    assert assessment.amount_at_stake == Decimal("160.00")


def test_readjudication_reports_the_change_in_payment() -> None:
    before = ClaimPayment(
        patient_control_number="ENC4",
        status=ClaimStatusCode.PRIMARY,
        charge=Decimal("200.00"),
        paid=Decimal("160.00"),
        adjustments=[adjustment(CO, "45", "40.00")],
    )
    after = before.model_copy(
        update={"paid": Decimal("120.00"), "adjustments": [adjustment(CO, "45", "80.00")]}
    )
    assessment = classify(after, previous=before)
    assert assessment.kind is AssessmentKind.READJUDICATION
    assert assessment.paid_change == Decimal("-40.00")
    assert assessment.action is DenialAction.NONE


def test_patient_responsibility_only_bills_the_patient_whatever_the_reason_code() -> None:
    payment = ClaimPayment(
        patient_control_number="ENC5",
        status=ClaimStatusCode.PRIMARY,
        charge=Decimal("150.00"),
        paid=Decimal("0.00"),
        patient_responsibility=Decimal("150.00"),
        adjustments=[adjustment(PR, "1", "120.00"), adjustment(PR, "96", "30.00")],
    )
    assessment = classify(payment)
    assert assessment.action is DenialAction.BILL_PATIENT
    assert assessment.amount_at_stake == Decimal("0.00")
    assert assessment.patient_responsibility == Decimal("150.00")
    assert {f.category for f in assessment.findings} == {DenialCategory.PATIENT_RESPONSIBILITY}


def test_the_remark_sharpens_a_generic_code_and_can_forbid_an_appeal() -> None:
    def single(reason: str, remarks: list[str]) -> ClaimPayment:
        return ClaimPayment(
            patient_control_number="ENC6",
            status=ClaimStatusCode.DENIED,
            charge=Decimal("90.00"),
            paid=Decimal("0.00"),
            adjustments=[adjustment(CO, reason, "90.00")],
            remarks=remarks,
        )

    assert classify(single("16", ["M127"])).action is DenialAction.SEND_DOCUMENTATION
    assert classify(single("96", ["N115"])).letter is LetterCategory.MEDICAL_NECESSITY
    assert classify(single("50", ["N211"])).action is DenialAction.REVIEW_WRITE_OFF
    # A patient-share code under CO: the practice may not bill the patient for it.
    assert classify(single("1", [])).action is DenialAction.NONE


def test_coverage_is_fixed_before_a_correction_and_a_correction_before_an_appeal() -> None:
    payment = ClaimPayment(
        patient_control_number="ENC7",
        status=ClaimStatusCode.DENIED,
        charge=Decimal("300.00"),
        paid=Decimal("0.00"),
        service_lines=[
            line("99213", "100.00", "0.00", adjustment(CO, "50", "100.00")),
            line("20610", "100.00", "0.00", adjustment(CO, "4", "100.00")),
            line("73560", "100.00", "0.00", adjustment(CO, "22", "100.00")),
        ],
    )
    assert classify(payment).action is DenialAction.BILL_OTHER_PAYER
    without_cob = payment.model_copy(update={"service_lines": payment.service_lines[:2]})
    assert classify(without_cob).action is DenialAction.CORRECT_AND_RESUBMIT


def test_a_denial_without_a_workable_reason_is_reviewed_not_ignored() -> None:
    payment = ClaimPayment(
        patient_control_number="ENC8",
        status=ClaimStatusCode.DENIED,
        charge=Decimal("120.00"),
        paid=Decimal("0.00"),
    )
    assessment = classify(payment)
    assert assessment.kind is AssessmentKind.DENIED
    assert assessment.action is DenialAction.REVIEW_WRITE_OFF
    assert assessment.amount_at_stake == Decimal("120.00")
