"""837 writer rules and the reader on real sample files."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import ClaimFilingIndicator, ClaimKind, Relationship
from claimflow.claims.x12.check import check
from claimflow.claims.x12.claim837 import read_837, write_837
from claimflow.claims.x12.errors import X12Error, X12WriteError
from claimflow.claims.x12.segments import tokenize
from claimflow.claims.x12.writer import Envelope
from tests.factories import ClaimFactory, varied_claims

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples"
CLAIM_SAMPLES = sorted([*SAMPLES.glob("837p/*"), *SAMPLES.glob("837i/*")])
ENVELOPE = Envelope(
    sender_id="CLAIMFLOW",
    receiver_id="SMPCLEARING",
    interchange_control_number=7,
    created=datetime(2026, 3, 2, 8),
)


def _modernized(path: Path) -> str:
    """A pre-2015 sample with ICD-10 diagnoses and NUCC-shaped taxonomies, so that every other part
    of it can be read: the models hold ICD-10-CM only."""
    text = path.read_bytes().decode("utf-8-sig")
    text = re.sub(r"\bBK:[0-9A-Z.]+", "ABK:J069", text)
    text = re.sub(r"\bBF:[0-9A-Z.]+", "ABF:E119", text)
    return re.sub(r"PXC\*(\w{9})[A-WYZ]\b", r"PXC*\g<1>X", text)


@pytest.mark.parametrize("path", CLAIM_SAMPLES, ids=lambda path: path.name)
def test_every_sample_reads_or_fails_with_a_typed_error_naming_the_place(path: Path) -> None:
    try:
        claims = read_837(path.read_bytes())
    except X12Error as error:
        assert error.segment_id and error.position, f"{path.name}: {error} does not say where"
    else:
        assert all(isinstance(claim, Claim) for claim in claims)


def test_reads_a_real_837p_whole() -> None:
    (claim,) = read_837((SAMPLES / "837p" / "uhin__837.edi").read_bytes())
    encounter = claim.encounter
    assert claim.patient_control_number == "1606"
    assert claim.frequency is FrequencyCode.ORIGINAL
    assert encounter.kind is ClaimKind.PROFESSIONAL
    assert encounter.billing_provider.npi == "1245319599"
    assert encounter.billing_provider.tax_id == "123456789"
    assert encounter.billing_provider.taxonomy == "111N00000X"
    assert encounter.patient.last_name == "MARQUARDT"
    assert encounter.patient.birth_date == date(1946, 11, 11)
    assert encounter.relationship is Relationship.SELF and encounter.subscriber is None
    assert encounter.coverage.payer_id == "FLHIN"
    assert encounter.coverage.member_id == "601239742"
    assert encounter.coverage.filing_indicator is ClaimFilingIndicator.COMMERCIAL
    assert encounter.diagnoses == ["R69"]
    (line,) = encounter.service_lines
    assert (line.procedure_code, line.charge, line.units, line.diagnosis_pointers) == (
        "90834",
        Decimal("2.00"),
        Decimal(1),
        [1],
    )
    assert (line.service_date, line.service_date_end) == (date(2024, 8, 15), date(2024, 8, 20))


def test_reads_a_dependent_patient_from_the_2000c_loop() -> None:
    (claim,) = read_837(_modernized(SAMPLES / "837p" / "lfh__demo.example1.837"))
    encounter = claim.encounter
    assert encounter.relationship is Relationship.CHILD
    assert encounter.patient.first_name == "TED" and encounter.patient.birth_date == date(1973, 5, 1)
    assert encounter.subscriber is not None and encounter.subscriber.first_name == "JANE"
    assert encounter.coverage.group_number == "2222-SJ"
    assert [line.procedure_code for line in encounter.service_lines][:2] == ["99213", "87070"]
    assert encounter.total_charge == Decimal("100.00")


def test_reads_two_institutional_claims_of_one_provider() -> None:
    first, second = read_837(_modernized(SAMPLES / "837i" / "lfh__two-claims-single-provider.837i"))
    assert first.encounter.billing_provider == second.encounter.billing_provider
    info = first.encounter.institutional
    assert info is not None
    assert info.type_of_bill == "0131"
    assert (info.statement_from, info.statement_to) == (date(2005, 3, 15), date(2005, 3, 15))
    assert (info.admission_type, info.patient_status) == ("1", "01")
    assert info.attending_provider is not None and info.attending_provider.name == "JONES"
    assert [(line.revenue_code, line.procedure_code) for line in first.encounter.service_lines] == [
        ("0305", "85025"),
        ("0730", "93005"),
    ]
    assert first.encounter.service_lines[1].units == Decimal(3)
    assert second.patient_control_number == "756049Q"


def test_an_icd9_sample_is_refused_at_its_hi_segment() -> None:
    with pytest.raises(X12Error) as raised:
        read_837((SAMPLES / "837i" / "lfh__two-claims-single-provider.837i").read_bytes())
    assert (raised.value.segment_id, raised.value.element) == ("HI", 1)
    assert "ICD-9" in raised.value.reason


def test_a_missing_billing_provider_loop_is_a_structure_error() -> None:
    with pytest.raises(X12Error, match="2010AA"):
        read_837((SAMPLES / "837p" / "ims__x12_loop_errors3_missing_loops.txt").read_bytes())


def test_claims_of_one_billing_provider_share_one_2000a_with_exact_hl_parents() -> None:
    factory = ClaimFactory(5)
    claims = factory.claims(12)
    segments = [s for s in tokenize(write_837(claims, ENVELOPE)) if s.id == "HL"]
    providers = [s for s in segments if s[3] == "20"]
    assert len(providers) == len({c.encounter.billing_provider for c in claims})
    kinds = {s[1]: s[3] for s in segments}
    for hl in segments:
        expected_parent = {"20": None, "22": "20", "23": "22"}[hl[3]]
        assert (kinds.get(hl[2]) if hl[2] else None) == expected_parent
    assert [int(s[1]) for s in segments] == list(range(1, len(segments) + 1))
    dependents = sum(c.encounter.relationship is not Relationship.SELF for c in claims)
    assert sum(s[3] == "23" for s in segments) == dependents


def test_a_mixed_batch_is_refused() -> None:
    factory = ClaimFactory(1)
    with pytest.raises(X12WriteError, match="mixes professional and institutional"):
        write_837([factory.claim(), factory.claim(institutional=True)], ENVELOPE)


def test_writer_refuses_what_a_payer_would_reject() -> None:
    claim = ClaimFactory(2).claim(dependent=False)
    provider = claim.encounter.billing_provider
    assert provider.address is not None
    short_zip = provider.model_copy(
        update={"address": provider.address.model_copy(update={"postal_code": "33101"})}
    )
    cases = {
        "ZIP\\+4": claim.encounter.model_copy(update={"billing_provider": short_zip}),
        "HI\\*ABK is required": claim.encounter.model_copy(update={"diagnoses": []}),
        "self-pay": claim.encounter.model_copy(
            update={
                "coverage": claim.encounter.coverage.model_copy(
                    update={"filing_indicator": ClaimFilingIndicator.SELF_PAY}
                )
            }
        ),
        "no service line": claim.encounter.model_copy(update={"service_lines": []}),
    }
    for message, encounter in cases.items():
        with pytest.raises(X12WriteError, match=message):
            write_837([claim.model_copy(update={"encounter": encounter})], ENVELOPE)


def test_a_delimiter_in_a_name_is_refused_not_written() -> None:
    claim = ClaimFactory(3).claim(dependent=False)
    patient = claim.encounter.patient.model_copy(update={"last_name": "Smith*Jones"})
    broken = claim.model_copy(update={"encounter": claim.encounter.model_copy(update={"patient": patient})})
    with pytest.raises(X12WriteError, match="delimiter"):
        write_837([broken], ENVELOPE)


def test_case_is_kept_so_the_patient_control_number_comes_back_exactly() -> None:
    claim = ClaimFactory(4).claim()
    claim = claim.model_copy(update={"patient_control_number": "enc-42.a"})
    assert "CLM*enc-42.a*" in write_837([claim], ENVELOPE)
    assert read_837(write_837([claim], ENVELOPE))[0].patient_control_number == "enc-42.a"


def test_address_of_a_dependent_is_required() -> None:
    claim = ClaimFactory(6).claim(dependent=True)
    patient = claim.encounter.patient.model_copy(update={"address": None})
    broken = claim.model_copy(update={"encounter": claim.encounter.model_copy(update={"patient": patient})})
    with pytest.raises(X12WriteError, match="2010CA N3/N4"):
        write_837([broken], ENVELOPE)


@pytest.mark.parametrize("institutional", [False, True], ids=["837P", "837I"])
def test_the_structural_check_finds_nothing_in_what_we_write(institutional: bool) -> None:
    """Envelopes, counts, HL tree, claim totals and NPI check digits, checked independently of pyx12."""
    text = write_837(varied_claims(40, seed=9, institutional=institutional), ENVELOPE)
    assert check(text) == []


def test_a_clm05_split_by_another_separator_than_isa16_is_named() -> None:
    with pytest.raises(X12Error, match="component separator ':'") as raised:
        read_837((SAMPLES / "837p" / "lfh__demo.example11.837").read_bytes())
    assert (raised.value.segment_id, raised.value.element) == ("CLM", 5)


def test_a_bad_birth_date_is_named_without_its_value() -> None:
    text = (SAMPLES / "837p" / "uhin__837.edi").read_text().replace("DMG*D8*19461111", "DMG*D8*19461311")
    with pytest.raises(X12Error) as raised:
        read_837(text)
    assert (raised.value.segment_id, raised.value.element) == ("DMG", 2)
    assert "19461311" not in str(raised.value) and raised.value.__cause__ is None
