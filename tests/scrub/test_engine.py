"""The scrubber as a whole: NCCI specifics, certain fixes, claims as input, and the finding vocabulary."""

from __future__ import annotations

from datetime import date

from claimflow.claims.claim import Claim
from claimflow.claims.codesets import CodeSets
from claimflow.claims.payers import PayerDirectory, PayerProfile
from claimflow.claims.scrub import Category, Severity, scrub
from tests.scrub.builders import AS_OF, encounter, line, rules_of, run


def test_a_clean_encounter_has_no_finding(commercial: PayerProfile) -> None:
    assert run(encounter(), commercial).findings == ()


def test_indicator_0_pair_is_an_error_with_or_without_59(commercial: PayerProfile) -> None:
    # 29881/29877 (knee arthroscopy): NCCI practitioner edit with modifier indicator 0
    for modifiers in ([], ["59"], ["XS"]):
        lines = [line("29881"), line("29877", modifiers=modifiers)]
        result = run(encounter(diagnoses=["M23205"], service_lines=lines), commercial)
        assert "ptp-never-together" in rules_of(result), modifiers
        assert all(f.category is Category.NCCI_PTP for f in result.errors)


def test_indicator_1_pair_passes_with_any_ncci_modifier_on_either_line(commercial: PayerProfile) -> None:
    for first, second in ((["59"], []), ([], ["XS"]), ([], ["LT"]), ([], ["F1"])):
        lines = [line("17110", modifiers=first), line("11102", modifiers=second)]
        assert "ptp-modifier-required" not in rules_of(run(encounter(service_lines=lines), commercial))


def test_modifier_25_bypasses_an_em_pair_only_on_the_em_line(commercial: PayerProfile) -> None:
    with_25 = encounter(service_lines=[line("99213", modifiers=["25"]), line("20610")])
    assert "ptp-modifier-required" not in rules_of(run(with_25, commercial))
    on_procedure = encounter(service_lines=[line("99213"), line("20610", modifiers=["25"])])
    assert "ptp-modifier-required" in rules_of(run(on_procedure, commercial))


def test_ptp_pairs_on_different_days_are_not_bundled(commercial: PayerProfile) -> None:
    lines = [line("G0438"), line("G0439", service_date=date(2026, 3, 3))]
    result = run(encounter(service_lines=lines), commercial, as_of=AS_OF)
    assert "ptp-never-together" not in rules_of(result)


def test_a_deleted_edit_applies_only_to_services_up_to_its_deletion_date(
    commercial: PayerProfile, codesets: CodeSets
) -> None:
    # 91300/0011A: indicator 0, deleted 2023-12-31 (kept in the index with its date)
    edit = codesets.ptp["practitioner"].edit("91300", "0011A")
    assert edit is not None and edit.deletion_date == 20231231
    for day, bundled in ((date(2023, 6, 1), True), (date(2023, 12, 31), True), (date(2024, 1, 2), False)):
        lines = [line("91300", service_date=day), line("0011A", service_date=day)]
        subject = encounter(service_date=day, diagnoses=["Z23"], service_lines=lines)
        result = run(subject, commercial, as_of=day)
        assert ("ptp-never-together" in rules_of(result)) is bundled, day


def test_outpatient_claims_use_the_hospital_ptp_table(commercial: PayerProfile, codesets: CodeSets) -> None:
    # 20610/99213 is a practitioner edit only
    assert codesets.ptp["practitioner"].edit("20610", "99213") is not None
    assert codesets.ptp["outpatient_hospital"].edit("20610", "99213") is None
    info = {
        "type_of_bill": "0131",
        "statement_from": "2026-03-02",
        "statement_to": "2026-03-02",
        "attending_provider": {"entity_type": "1", "name": "CHEN", "npi": "1234567893"},
    }
    lines = [line("20610", revenue_code="0510"), line("99213", revenue_code="0510")]
    assert "ptp-modifier-required" not in rules_of(
        run(encounter(service_lines=lines, institutional=info), commercial)
    )
    assert "ptp-modifier-required" in rules_of(run(encounter(service_lines=lines), commercial))


def test_mue_counts_units_across_the_lines_of_a_day(commercial: PayerProfile) -> None:
    # 11102: MUE 1, MAI 2 (date-of-service edit)
    lines = [line("11102"), line("11102", modifiers=["59"])]
    result = run(encounter(service_lines=lines), commercial)
    assert [f.rule for f in result.errors] == ["mue-exceeded"]
    assert "2 units of 11102" in result.errors[0].message


def test_mue_of_zero_is_not_a_units_limit(commercial: PayerProfile, codesets: CodeSets) -> None:
    assert codesets.core.mue["practitioner"]["99396"].units == 0  # preventive visit: not a Medicare service
    result = run(encounter(diagnoses=["Z0000"], service_lines=[line("99396")]), commercial)
    assert "mue-exceeded" not in rules_of(result)


def test_a_lone_diagnosis_is_pointed_at_and_reported(commercial: PayerProfile) -> None:
    result = run(encounter(service_lines=[line(diagnosis_pointers=[])]), commercial)
    assert result.encounter.service_lines[0].diagnosis_pointers == [1]
    (fix,) = result.fixes
    assert fix.fixed and fix.severity is Severity.WARNING and fix.category is Category.DIAGNOSIS_POINTER
    assert "set to [1]" in fix.message and not result.has_errors


def test_repeated_pointers_are_dropped(commercial: PayerProfile) -> None:
    subject = encounter(diagnoses=["E119", "I10"], service_lines=[line(diagnosis_pointers=[2, 1, 2])])
    result = run(subject, commercial)
    assert result.encounter.service_lines[0].diagnosis_pointers == [2, 1]
    assert [f.rule for f in result.fixes] == ["dx-pointer-repeated"]


def test_a_claim_is_scrubbed_with_its_fixes(commercial: PayerProfile) -> None:
    claim = Claim(
        encounter=encounter(service_lines=[line(diagnosis_pointers=[])]), patient_control_number="PCN1"
    )
    result = scrub(claim, as_of=AS_OF, profile=commercial)
    assert result.claim is not None and result.claim.patient_control_number == "PCN1"
    assert result.claim.encounter.service_lines[0].diagnosis_pointers == [1]


def test_replacement_claims_skip_the_original_filing_limit(directory: PayerDirectory) -> None:
    hmo = directory.get("SMPHMO")
    assert hmo is not None
    late = date(2026, 8, 1)
    original = Claim(encounter=encounter(), patient_control_number="PCN1")
    assert "timely-filing-expired" in rules_of(scrub(original, as_of=late, profile=hmo))
    replacement = Claim(
        encounter=encounter(), patient_control_number="PCN1", frequency="7", original_claim_number="PAY123"
    )
    assert "timely-filing-expired" not in rules_of(scrub(replacement, as_of=late, profile=hmo))


def test_a_payer_without_profile_gets_its_coverage_kinds_limit(directory: PayerDirectory) -> None:
    unknown_medicaid = directory.profile_for("ZZMCD01", encounter().coverage.filing_indicator.MEDICAID)
    assert unknown_medicaid.timely_filing_days == 365 and unknown_medicaid.is_default
    subject = encounter(
        coverage={
            "payer_id": "ZZMCD01",
            "payer_name": "OTHER STATE",
            "member_id": "M1234",
            "filing_indicator": "MC",
        }
    )
    assert "timely-filing-expired" not in rules_of(run(subject, unknown_medicaid, as_of=date(2027, 2, 1)))
    assert "timely-filing-expired" in rules_of(run(subject, unknown_medicaid, as_of=date(2027, 3, 10)))


def test_findings_serialise_with_the_category_vocabulary(commercial: PayerProfile) -> None:
    result = run(encounter(diagnoses=["E11"], place_of_service="30"), commercial)
    dumped = [finding.model_dump(mode="json") for finding in result.findings]
    assert {d["category"] for d in dumped} == {"code_validity", "place_of_service"}
    assert all(
        set(d) >= {"rule", "category", "severity", "message", "location", "fix", "fhir_path", "x12"}
        for d in dumped
    )
    assert {d["x12"] for d in dumped} == {"2300 HI*ABK/ABF", "2300 CLM05-1"}
    assert {c.value for c in Category} == {
        "demographics",
        "coverage",
        "provider",
        "code_validity",
        "ncci_ptp",
        "mue",
        "modifier",
        "diagnosis_pointer",
        "age_sex",
        "place_of_service",
        "duplicate",
        "timely_filing",
        "charge",
        "authorization",
        "address",
        "required_field",
        "frequency",
        "structure",
    }
