"""Write then read gives back the same remittance, for anything the 835 can carry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimflow.claims.encounter import Address
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    BankAccount,
    ClaimPayment,
    ClaimStatusCode,
    Party,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from claimflow.claims.x12.balancing import balancing_findings
from claimflow.claims.x12.remittance835 import CLP06_CODES, read_835, write_835
from tests.x12.remittance_corpus import envelope

GROUPS_5010 = [AdjustmentGroup(code) for code in ("CO", "OA", "PI", "PR")]
PLB_REASONS = ["WO", "L6", "FB", "CS", "72", "AP", "IR", "J1"]


def text(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True)


names = text(r"[A-Z][A-Z0-9 .'&-]{0,20}[A-Z0-9]")
money = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2)
quantities = st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(999), places=2)
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
remarks = st.lists(text(r"[A-Z]{1,2}[0-9]{1,3}"), max_size=3)


@st.composite
def adjustments(draw: st.DrawFn) -> list[Adjustment]:
    """CAS triples; the writer groups by group code in order of first appearance, so do we."""
    made = draw(
        st.lists(
            st.builds(
                Adjustment,
                group=st.sampled_from(GROUPS_5010),
                reason=text(r"[A-Z0-9]{1,5}"),
                amount=money,
                quantity=quantities,
            ),
            max_size=8,
        )
    )
    first = {}
    for index, adjustment in enumerate(made):
        first.setdefault(adjustment.group, index)
    return sorted(made, key=lambda adjustment: first[adjustment.group])


@st.composite
def service_lines(draw: st.DrawFn) -> ServicePayment:
    submitted = draw(st.none() | text(r"[A-Z0-9]{5}"))
    return ServicePayment(
        qualifier=draw(st.sampled_from(["HC", "NU", "AD", "N4"])),
        procedure_code=draw(text(r"[A-Z0-9]{4,5}")),
        modifiers=draw(st.lists(text(r"[A-Z0-9]{2}"), max_size=4)),
        charge=draw(money),
        paid=draw(money),
        revenue_code=draw(st.none() | text(r"0[0-9]{3}")),
        units=draw(quantities),
        original_units=draw(quantities),
        service_date=draw(st.none() | dates),
        submitted_procedure_code=submitted,
        submitted_modifiers=draw(st.lists(text(r"[A-Z0-9]{2}"), max_size=4)) if submitted else [],
        line_control_number=draw(st.none() | text(r"[A-Z0-9]{1,30}")),
        allowed_amount=draw(st.none() | money),
        adjustments=draw(adjustments()),
        remarks=draw(remarks),
    )


@st.composite
def claims(draw: st.DrawFn) -> ClaimPayment:
    return ClaimPayment(
        patient_control_number=draw(text(r"[A-Za-z0-9][A-Za-z0-9.-]{0,19}")),
        status=draw(st.sampled_from(list(ClaimStatusCode))),
        charge=draw(money),
        paid=draw(money),
        patient_responsibility=draw(st.none() | money),
        filing_indicator=draw(st.sampled_from(sorted(CLP06_CODES))),
        payer_claim_number=draw(text(r"[A-Z0-9]{1,30}")),
        facility_type=draw(st.none() | text(r"[0-9]{2}")),
        frequency=draw(st.none() | st.sampled_from(["1", "7", "8"])),
        drg=draw(st.none() | text(r"[0-9]{3}")),
        adjustments=draw(adjustments()),
        service_lines=draw(st.lists(service_lines(), max_size=3)),
        remarks=draw(st.lists(text(r"[A-Z]{1,2}[0-9]{1,3}"), max_size=5)),
        patient_last_name=draw(st.none() | names),
        patient_first_name=draw(st.none() | names),
        member_id=draw(st.none() | text(r"[A-Z0-9]{2,20}")),
        service_date=draw(st.none() | dates),
        received_date=draw(st.none() | dates),
    )


addresses = st.builds(
    Address,
    line1=names,
    line2=st.none() | names,
    city=text(r"[A-Z][A-Z ]{0,20}[A-Z]"),
    state=text(r"[A-Z]{2}"),
    postal_code=text(r"[0-9]{5}([0-9]{4})?"),
)
accounts = st.builds(BankAccount, routing_number=text(r"[0-9]{9}"), account_number=text(r"[0-9]{4,17}"))


@st.composite
def payers(draw: st.DrawFn) -> Party:
    payer_id = draw(st.none() | text(r"[A-Z0-9]{2,10}"))
    return Party(
        name=draw(names),
        id=payer_id,
        id_qualifier=draw(st.sampled_from(["2U", "XV"])) if payer_id else None,
        address=draw(addresses),
        contact_name=draw(st.none() | names),
        contact_phone=draw(text(r"[0-9]{10}")),
    )


@st.composite
def remittances(draw: st.DrawFn) -> Remittance:
    method = draw(st.sampled_from(["ACH", "CHK", "NON"]))
    plb_reason = st.sampled_from(PLB_REASONS)
    return Remittance(
        payment_amount=draw(money),
        credit_debit=draw(st.sampled_from(["C", "D"])),
        payment_method=method,
        payment_date=draw(dates),
        trace_number=draw(text(r"[A-Z0-9]{1,30}")),
        payer_identifier="1" + draw(text(r"[0-9]{9}")),
        production_date=draw(st.none() | dates),
        payer=draw(payers()),
        payee=Party(
            name=draw(names),
            id=draw(text(r"[0-9]{10}")),
            id_qualifier=draw(st.sampled_from(["XX", "FI"])),
            address=draw(st.none() | addresses),
        ),
        payer_account=draw(accounts) if method == "ACH" else None,
        payee_account=draw(accounts) if method == "ACH" else None,
        claims=draw(st.lists(claims(), max_size=4)),
        provider_adjustments=draw(
            st.lists(
                st.builds(
                    ProviderAdjustment,
                    provider_id=text(r"[0-9]{10}"),
                    fiscal_period_end=dates,
                    reason=plb_reason,
                    reference=st.none() | text(r"[A-Z0-9]{1,20}"),
                    amount=money,
                ),
                max_size=8,
            )
        ),
    )


@pytest.mark.slow  # hypothesis builds deep remittances: about 30 s on the shared CI machine
@settings(max_examples=60, deadline=None)
@given(st.lists(remittances(), min_size=1, max_size=3))
def test_write_then_read_gives_the_same_remittances(written: list[Remittance]) -> None:
    read = read_835(write_835(written, envelope()))
    assert len(read) == len(written)
    for original, back in zip(written, read, strict=True):
        assert back.findings == balancing_findings(original)
        assert back.model_copy(update={"findings": [], "control_number": None}) == original
