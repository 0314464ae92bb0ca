"""One test per rule: a claim that breaks it is flagged, the same claim without the fault is not.
Codes are real entries of the shipped code sets (ICD-10-CM MCE v44, HCPCS 2024, NCCI 2024 Q3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from claimflow.claims.encounter import Encounter
from claimflow.claims.payers import PayerDirectory
from claimflow.claims.scrub import Category
from tests.scrub.builders import AS_OF, SERVICE_DAY, encounter, line, rules_of, run


def patient(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "last_name": "RIVERA",
        "first_name": "ANA",
        "birth_date": date(1973, 6, 15),
        "sex": "F",
        "address": {"line1": "12 ELM ST", "city": "CHICAGO", "state": "IL", "postal_code": "60601"},
    }
    return {**base, **changes}


def billing(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "LAKESHORE FAMILY MEDICINE",
        "npi": "1234567893",
        "taxonomy": "207Q00000X",
        "tax_id": "361234567",
        "address": {
            "line1": "400 N MICHIGAN AVE",
            "city": "CHICAGO",
            "state": "IL",
            "postal_code": "606114212",
        },
    }
    return {**base, **changes}


def coverage(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "payer_id": "SMPBCX",
        "payer_name": "Sandbox Blue Cross Commercial",
        "member_id": "XBC123456789",
        "filing_indicator": "BL",
    }
    return {**base, **changes}


def institutional(lines: list[Any], **changes: Any) -> Encounter:
    info: dict[str, Any] = {
        "type_of_bill": "0131",
        "admission_type": "3",
        "statement_from": SERVICE_DAY,
        "statement_to": SERVICE_DAY,
        "attending_provider": {"entity_type": "1", "name": "CHEN", "first_name": "MEI", "npi": "1234567893"},
    }
    return encounter(service_lines=lines, institutional={**info, **changes})


@dataclass(frozen=True)
class Case:
    rule: str
    category: Category
    bad: Callable[[], Encounter]
    good: Callable[[], Encounter]
    payer: str = "SMPBCX"
    as_of: date = AS_OF
    known: Callable[[], tuple[Encounter, ...]] = tuple


CASES = [
    # demographics
    Case(
        "birth-date-missing",
        Category.DEMOGRAPHICS,
        lambda: encounter(patient=patient(birth_date=None)),
        encounter,
    ),
    Case(
        "birth-date-after-service",
        Category.DEMOGRAPHICS,
        lambda: encounter(patient=patient(birth_date=date(2026, 4, 1))),
        encounter,
    ),
    Case("sex-unknown", Category.DEMOGRAPHICS, lambda: encounter(patient=patient(sex="U")), encounter),
    Case(
        "address-missing", Category.DEMOGRAPHICS, lambda: encounter(patient=patient(address=None)), encounter
    ),
    Case(
        "address-missing",
        Category.DEMOGRAPHICS,
        lambda: encounter(relationship="19", subscriber=patient(first_name="LUIS", address=None)),
        lambda: encounter(relationship="19", subscriber=patient(first_name="LUIS")),
    ),
    # coverage
    Case(
        "member-id-invalid",
        Category.COVERAGE,
        lambda: encounter(coverage=coverage(member_id="UNKNOWN")),
        encounter,
    ),
    Case(
        "member-id-invalid",
        Category.COVERAGE,
        lambda: encounter(coverage=coverage(member_id="XBC 1234/56")),
        encounter,
    ),
    Case(
        "self-pay-coverage",
        Category.COVERAGE,
        lambda: encounter(coverage=coverage(filing_indicator="09")),
        encounter,
    ),
    Case(
        "filing-indicator-mismatch",
        Category.COVERAGE,
        lambda: encounter(coverage=coverage(filing_indicator="MC")),
        encounter,
    ),
    # provider
    Case(
        "npi-check-digit",
        Category.PROVIDER,
        lambda: encounter(billing_provider=billing(npi="1234567890")),
        encounter,
    ),
    Case(
        "npi-check-digit",
        Category.PROVIDER,
        lambda: encounter(rendering_provider=billing(npi="1234567894")),
        lambda: encounter(rendering_provider=billing(npi="1234567893")),
    ),
    Case(
        "taxonomy-format",
        Category.PROVIDER,
        lambda: encounter(billing_provider=billing(taxonomy="A07Q00000X")),
        encounter,
    ),
    Case(
        "billing-tax-id-missing",
        Category.PROVIDER,
        lambda: encounter(billing_provider=billing(tax_id=None)),
        encounter,
    ),
    Case(
        "billing-address-missing",
        Category.PROVIDER,
        lambda: encounter(billing_provider=billing(address=None)),
        encounter,
    ),
    Case(
        "billing-zip-plus-4",
        Category.PROVIDER,
        lambda: encounter(
            billing_provider=billing(
                address={
                    "line1": "400 N MICHIGAN AVE",
                    "city": "CHICAGO",
                    "state": "IL",
                    "postal_code": "60611",
                }
            )
        ),
        encounter,
    ),
    Case(
        "billing-address-po-box",
        Category.PROVIDER,
        lambda: encounter(
            billing_provider=billing(
                address={"line1": "P.O. Box 55", "city": "CHICAGO", "state": "IL", "postal_code": "606114212"}
            )
        ),
        encounter,
    ),
    Case(
        "attending-missing",
        Category.PROVIDER,
        lambda: institutional([line("80053", revenue_code="0300")], attending_provider=None),
        lambda: institutional([line("80053", revenue_code="0300")]),
    ),
    # code validity
    Case(
        "diagnosis-missing",
        Category.CODE_VALIDITY,
        lambda: encounter(diagnoses=[], service_lines=[line(diagnosis_pointers=[])]),
        encounter,
    ),
    Case("dx-header-code", Category.CODE_VALIDITY, lambda: encounter(diagnoses=["E11"]), encounter),
    Case(
        "dx-not-valid-on-date",
        Category.CODE_VALIDITY,  # M54.5 was split into M54.50-M54.59 on 2021-10-01
        lambda: encounter(diagnoses=["M545"]),
        lambda: encounter(diagnoses=["M5450"]),
    ),
    Case(
        "dx-not-valid-on-date",
        Category.CODE_VALIDITY,  # C78.31 is a FY2027 code, valid from 2026-10-01
        lambda: encounter(diagnoses=["C7831"]),
        lambda: encounter(
            diagnoses=["C7831"],
            service_date=date(2026, 10, 5),
            service_lines=[line(service_date=date(2026, 10, 5))],
        ),
        as_of=date(2026, 10, 9),
    ),
    Case("dx-unknown", Category.CODE_VALIDITY, lambda: encounter(diagnoses=["Z9999"]), encounter),
    Case(
        "dx-external-cause-first",
        Category.CODE_VALIDITY,
        lambda: encounter(diagnoses=["W010XXA", "S93401A"]),
        lambda: encounter(diagnoses=["S93401A", "W010XXA"]),
    ),
    Case(
        "dx-manifestation-first",
        Category.CODE_VALIDITY,
        lambda: encounter(diagnoses=["D630", "C9000"]),
        lambda: encounter(diagnoses=["C9000", "D630"]),
    ),
    Case("service-lines-missing", Category.CODE_VALIDITY, lambda: encounter(service_lines=[]), encounter),
    Case(
        "procedure-format",
        Category.CODE_VALIDITY,
        lambda: encounter(service_lines=[line("9921A")]),
        encounter,
    ),
    Case(
        "hcpcs-unknown",
        Category.CODE_VALIDITY,
        lambda: encounter(service_lines=[line("J9998")]),
        lambda: encounter(service_lines=[line("G0463")]),
    ),
    Case(
        "hcpcs-terminated",
        Category.CODE_VALIDITY,  # C9146: 2023-04-01 to 2023-06-30
        lambda: encounter(service_lines=[line("C9146")]),
        encounter,
    ),
    Case(
        "hcpcs-not-yet-valid",
        Category.CODE_VALIDITY,  # A2026 added 2024-04-01
        lambda: encounter(
            service_date=date(2024, 1, 15), service_lines=[line("A2026", service_date=date(2024, 1, 15))]
        ),
        lambda: encounter(
            service_date=date(2024, 5, 15), service_lines=[line("A2026", service_date=date(2024, 5, 15))]
        ),
        as_of=date(2024, 5, 20),
    ),
    Case(
        "add-on-without-primary",
        Category.CODE_VALIDITY,  # 99417 needs 99205 or 99215
        lambda: encounter(service_lines=[line("99213"), line("99417")]),
        lambda: encounter(service_lines=[line("99215"), line("99417")]),
    ),
    Case(
        "admission-type-missing",
        Category.REQUIRED_FIELD,
        lambda: institutional([line("80053", revenue_code="0300")], admission_type=None),
        lambda: institutional([line("80053", revenue_code="0300")]),
    ),
    Case(
        "revenue-code-missing",
        Category.CODE_VALIDITY,
        lambda: institutional([line("80053")]),
        lambda: institutional([line("80053", revenue_code="0300")]),
    ),
    # NCCI PTP
    Case(
        "ptp-never-together",
        Category.NCCI_PTP,  # G0438/G0439 modifier indicator 0
        lambda: encounter(service_lines=[line("G0438"), line("G0439")]),
        lambda: encounter(service_lines=[line("G0438")]),
    ),
    Case(
        "ptp-modifier-required",
        Category.NCCI_PTP,  # 17110/11102 modifier indicator 1
        lambda: encounter(service_lines=[line("17110"), line("11102")]),
        lambda: encounter(service_lines=[line("17110"), line("11102", modifiers=["59"])]),
    ),
    # MUE
    Case(
        "mue-exceeded",
        Category.MUE,  # 99213: 2 per day, MAI 3
        lambda: encounter(service_lines=[line("99213", units="3")]),
        lambda: encounter(service_lines=[line("99213", units="2")]),
    ),
    # modifiers
    Case(
        "modifier-unknown",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line(modifiers=["YY"])]),
        lambda: encounter(service_lines=[line(modifiers=["GT"])]),
    ),
    Case(
        "modifier-repeated",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("73610", modifiers=["RT", "RT"])]),
        lambda: encounter(service_lines=[line("73610", modifiers=["RT"])]),
    ),
    Case(
        "modifier-laterality-conflict",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("73610", modifiers=["LT", "RT"])]),
        lambda: encounter(service_lines=[line("73610", modifiers=["LT"])]),
    ),
    Case(
        "modifier-26-with-tc",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("93000", modifiers=["26", "TC"])]),
        lambda: encounter(service_lines=[line("93010")]),
    ),
    Case(
        "modifier-not-valid-for-code",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("93000", modifiers=["25"])]),
        lambda: encounter(service_lines=[line("99213", modifiers=["25"]), line("93000")]),
    ),
    # diagnosis pointers
    Case(
        "dx-pointer-missing",
        Category.DIAGNOSIS_POINTER,
        lambda: encounter(diagnoses=["E119", "I10"], service_lines=[line(diagnosis_pointers=[])]),
        lambda: encounter(diagnoses=["E119", "I10"], service_lines=[line(diagnosis_pointers=[2, 1])]),
    ),
    Case(
        "dx-pointer-out-of-range",
        Category.DIAGNOSIS_POINTER,
        lambda: encounter(service_lines=[line(diagnosis_pointers=[2])]),
        encounter,
    ),
    # age and sex
    Case(
        "dx-age-conflict",
        Category.AGE_SEX,  # Z00.121 is a pediatric (0-17) code
        lambda: encounter(diagnoses=["Z00121"]),
        lambda: encounter(diagnoses=["Z00121"], patient=patient(birth_date=date(2020, 2, 1))),
    ),
    Case(
        "dx-age-conflict",
        Category.AGE_SEX,  # O80 is a maternity (9-64) code
        lambda: encounter(diagnoses=["O80"], patient=patient(birth_date=date(1950, 1, 1))),
        lambda: encounter(diagnoses=["O80"]),
    ),
    Case(
        "dx-sex-conflict",
        Category.AGE_SEX,  # N40.0 is a male code; SMPBCX keeps sex edits
        lambda: encounter(diagnoses=["N400"]),
        lambda: encounter(diagnoses=["N400"], patient=patient(sex="M", first_name="LUIS")),
    ),
    Case(
        "dx-sex-conflict",
        Category.AGE_SEX,  # Medicare dropped sex edits: the same claim passes there
        lambda: encounter(diagnoses=["N400"]),
        lambda: encounter(
            diagnoses=["N400"],
            coverage=coverage(payer_id="SMPMCR", filing_indicator="MB", member_id="MCR12345678"),
        ),
    ),
    # place of service
    Case("pos-invalid", Category.PLACE_OF_SERVICE, lambda: encounter(place_of_service="30"), encounter),
    Case(
        "pos-invalid",
        Category.PLACE_OF_SERVICE,
        lambda: encounter(service_lines=[line(place_of_service="98")]),
        lambda: encounter(service_lines=[line(place_of_service="02")]),
    ),
    # duplicates
    Case(
        "duplicate-of-known-claim",
        Category.DUPLICATE,
        lambda: encounter(encounter_id="enc-2"),
        lambda: encounter(encounter_id="enc-2", service_lines=[line(units="2")]),
        known=lambda: (encounter(),),
    ),
    Case(
        "duplicate-line",
        Category.DUPLICATE,
        lambda: encounter(service_lines=[line("36415"), line("36415")]),
        lambda: encounter(service_lines=[line("36415", units="2")]),
    ),
    # timely filing (SMPHMO: 90 days)
    Case(
        "timely-filing-expired",
        Category.TIMELY_FILING,
        encounter,
        encounter,
        payer="SMPHMO",
        as_of=date(2026, 6, 1),
    ),
    Case(
        "timely-filing-near",
        Category.TIMELY_FILING,
        encounter,
        encounter,
        payer="SMPHMO",
        as_of=date(2026, 5, 20),
    ),
    Case("service-in-future", Category.TIMELY_FILING, encounter, encounter, as_of=date(2026, 3, 1)),
    # charges
    Case(
        "line-charge-not-positive",
        Category.CHARGE,
        lambda: encounter(service_lines=[line(charge="0")]),
        encounter,
    ),
    Case(
        "total-charge-mismatch",
        Category.CHARGE,
        lambda: encounter(reported_total_charge="150.00"),
        lambda: encounter(reported_total_charge="120.00"),
    ),
    # authorization (SMPHMO lists 72148)
    Case(
        "authorization-missing",
        Category.AUTHORIZATION,
        lambda: encounter(diagnoses=["M5416"], service_lines=[line("72148")]),
        lambda: encounter(diagnoses=["M5416"], service_lines=[line("72148")], prior_authorization="AUTH778"),
        payer="SMPHMO",
    ),
    # issue 15: the edits a payer's front end applies that were missing
    Case(
        "birth-date-implausible",
        Category.DEMOGRAPHICS,
        lambda: encounter(patient=patient(birth_date=date(1873, 6, 15))),
        encounter,
    ),
    Case(
        "address-state-invalid",
        Category.ADDRESS,
        lambda: encounter(patient=patient(address={**patient()["address"], "state": "XX"})),
        lambda: encounter(patient=patient(address={**patient()["address"], "state": "PR"})),
    ),
    Case(
        "address-zip-invalid",
        Category.ADDRESS,
        lambda: encounter(
            billing_provider=billing(address={**billing()["address"], "postal_code": "000000000"})
        ),
        encounter,
    ),
    Case(
        "coverage-period",
        Category.COVERAGE,
        lambda: encounter(coverage=coverage(period_start=date(2026, 1, 1), period_end=date(2026, 2, 28))),
        lambda: encounter(coverage=coverage(period_start=date(2026, 1, 1), period_end=date(2026, 3, 2))),
    ),
    Case("coverage-period-unknown", Category.COVERAGE, lambda: encounter(coverage=coverage()), encounter),
    Case(
        "rendering-provider-missing",
        Category.PROVIDER,
        lambda: encounter(rendering_provider=None),
        lambda: encounter(
            billing_provider=billing(entity_type="1", first_name="MEI"), rendering_provider=None
        ),
    ),
    Case(
        "taxonomy-missing",
        Category.PROVIDER,
        lambda: encounter(billing_provider=billing(taxonomy=None)),
        lambda: encounter(billing_provider=billing()),
        payer="SMPMCD",
    ),
    Case(
        "admission-date-missing",
        Category.REQUIRED_FIELD,
        lambda: institutional(
            [line("99223", revenue_code="0110")], type_of_bill="0111", admission_source="1"
        ),
        lambda: institutional(
            [line("99223", revenue_code="0110")],
            type_of_bill="0111",
            admission_source="1",
            admission_date=SERVICE_DAY,
        ),
    ),
    Case(
        "admission-source-missing",
        Category.REQUIRED_FIELD,
        lambda: institutional(
            [line("99223", revenue_code="0110")], type_of_bill="0111", admission_date=SERVICE_DAY
        ),
        lambda: institutional(
            [line("99223", revenue_code="0110")],
            type_of_bill="0111",
            admission_source="1",
            admission_date=SERVICE_DAY,
        ),
    ),
    Case(
        "frequency-code-invalid",
        Category.FREQUENCY,
        lambda: institutional([line("80053", revenue_code="0300")], type_of_bill="0136"),
        lambda: institutional([line("80053", revenue_code="0300")], type_of_bill="0131"),
    ),
    Case(
        "modifier-unknown",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("20610", modifiers=["61"])]),
        lambda: encounter(service_lines=[line("20610", modifiers=["RT"])]),
    ),
    Case(
        "modifier-not-valid-for-code",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("99213", modifiers=["AA"])]),
        lambda: encounter(service_lines=[line("00400", modifiers=["AA"])]),
    ),
    Case(
        "modifier-not-valid-for-code",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("20610", modifiers=["73"])]),
        lambda: institutional([line("20610", modifiers=["73"], revenue_code="0360")]),
    ),
    # payer edits written in payers.toml (SMPHMO, SMPPPO)
    Case(
        "smphmo-therapy-discipline",
        Category.MODIFIER,
        lambda: encounter(diagnoses=["M5416"], service_lines=[line("97530")]),
        lambda: encounter(diagnoses=["M5416"], service_lines=[line("97530", modifiers=["GP"])]),
        payer="SMPHMO",
    ),
    Case(
        "smphmo-no-gy",
        Category.MODIFIER,
        lambda: encounter(service_lines=[line("99213", modifiers=["GY"])]),
        encounter,
        payer="SMPHMO",
    ),
    Case(
        "smphmo-joint-mri-needs-auth",
        Category.AUTHORIZATION,
        lambda: encounter(diagnoses=["M25561"], service_lines=[line("73721")]),
        lambda: encounter(diagnoses=["M25561"], service_lines=[line("73721")], prior_authorization="A1"),
        payer="SMPHMO",
    ),
    Case(
        "smpppo-therapy-units",
        Category.MUE,
        lambda: encounter(diagnoses=["M5416"], service_lines=[line("97140", units="5")]),
        lambda: encounter(diagnoses=["M5416"], service_lines=[line("97140", units="4")]),
        payer="SMPPPO",
    ),
]

# the timely-filing cases compare two dates for the same claim, not two claims
AS_OF_OF_GOOD = {"timely-filing-expired": AS_OF, "timely-filing-near": AS_OF, "service-in-future": AS_OF}


@pytest.mark.parametrize("case", CASES, ids=[f"{case.rule}-{i}" for i, case in enumerate(CASES)])
def test_rule_flags_the_fault_and_passes_the_fix(case: Case, directory: PayerDirectory) -> None:
    bad, good = case.bad(), case.good()
    bad_profile = directory.profile_for(bad.coverage.payer_id, bad.coverage.filing_indicator)
    if case.payer != bad.coverage.payer_id:
        bad_profile = directory.get(case.payer) or bad_profile
    flagged = run(bad, bad_profile, as_of=case.as_of, known=case.known())
    hits = [finding for finding in flagged.findings if finding.rule == case.rule]
    assert hits, f"{case.rule} not raised: {[f.rule for f in flagged.findings]}"
    assert all(hit.category is case.category for hit in hits)
    assert all(hit.location and hit.fix and hit.message for hit in hits)

    good_profile = directory.profile_for(good.coverage.payer_id, good.coverage.filing_indicator)
    if case.payer != good.coverage.payer_id and good.coverage.payer_id == "SMPBCX":
        good_profile = directory.get(case.payer) or good_profile
    good_as_of = AS_OF_OF_GOOD.get(case.rule, case.as_of)
    passed = run(good, good_profile, as_of=good_as_of, known=case.known())
    assert case.rule not in rules_of(passed), [f.message for f in passed.findings]


def test_a_payer_can_relax_a_rule_which_then_warns_and_says_so(directory: PayerDirectory) -> None:
    unknown_sex = encounter(patient=patient(sex="U"))
    strict = directory.get("SMPBCX")
    relaxing = directory.get("SMPPPO")
    assert strict is not None and relaxing is not None
    (hit,) = [f for f in run(unknown_sex, strict).findings if f.rule == "sex-unknown"]
    assert hit.severity.value == "error"
    (relaxed,) = [f for f in run(unknown_sex, relaxing).findings if f.rule == "sex-unknown"]
    assert (
        relaxed.severity.value == "warning" and "Lakeside PPO does not apply sex-unknown" in relaxed.message
    )


def test_a_replacement_type_of_bill_must_go_out_as_a_replacement(directory: PayerDirectory) -> None:
    from claimflow.claims.claim import Claim, FrequencyCode
    from claimflow.claims.scrub import scrub

    replacement_bill = institutional([line("80053", revenue_code="0300")], type_of_bill="0137")
    profile = directory.get("SMPBCX")
    assert profile is not None

    def rules(claim: Claim) -> set[str]:
        return rules_of(scrub(claim, as_of=AS_OF, profile=profile))

    original = Claim(encounter=replacement_bill, patient_control_number="enc-1")
    assert "frequency-mismatch" in rules(original)
    replacing = original.model_copy(
        update={"frequency": FrequencyCode.REPLACEMENT, "original_claim_number": "PAYER123"}
    )
    assert "frequency-mismatch" not in rules(replacing)
    plain = Claim(encounter=institutional([line("80053", revenue_code="0300")]), patient_control_number="e")
    assert "original-claim-number-on-original" in rules(
        plain.model_copy(update={"original_claim_number": "X"})
    )


def test_payer_edits_are_checked_when_the_directory_loads() -> None:
    from claimflow.claims.payers import load_profiles

    text = (Path(__file__).resolve().parents[2] / "src/claimflow/claims/data/payers.toml").read_text()
    broken = text.replace(
        'kind = "units_limit", codes = ["97110", "97112", "97140", "97530"], units = "4",',
        'kind = "units_limit",',
    )
    with pytest.raises(ValueError, match=r"smpppo-therapy-units .units_limit. needs codes, units"):
        load_profiles(broken)
