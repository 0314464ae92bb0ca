"""Contracted fee schedules (claims/contracts) and underpayments found against them
(claims/underpayment): the shipped payer directory, CSV parsing, precedence, tolerance, and real
835s from the sandbox payers read back from X12."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimflow.claims.contracts import Contract, ContractMethod, PosClass, read_fee_schedule
from claimflow.claims.payers import default_directory, load_profiles
from claimflow.claims.remittance import Adjustment, AdjustmentGroup, ClaimPayment, ClaimStatusCode
from claimflow.claims.underpayment import find_underpayments, line_allowed
from claimflow.integrations.sandbox.adjudication import reverse
from claimflow.integrations.sandbox.engine import Sandbox
from tests.factories import ClaimFactory
from tests.sandbox.helpers import SERVICE_DAY, FakeClock, Line, claim
from tests.sandbox.test_secondary import decide

DIRECTORY = default_directory()
HEADER = "procedure_code,modifier,pos_class,allowed,effective_from,effective_to\n"


def schedule_contract(text: str, **fields: object) -> Contract:
    return Contract.model_validate(
        {
            "payer_id": "TEST",
            "method": "fee_schedule",
            "schedule": read_fee_schedule("t.csv", HEADER + text),
            **fields,
        }
    )


def test_every_sandbox_payer_has_a_contract_and_the_methods_are_both_used() -> None:
    assert set(DIRECTORY.contracts) == {"SMPMCR", "SMPMCD", "SMPBCX", "SMPHMO", "SMPPPO"}
    assert DIRECTORY.contract("smpppo") is not None
    methods = {c.method for c in DIRECTORY.contracts.values()}
    assert methods == {ContractMethod.FEE_SCHEDULE, ContractMethod.PERCENT_OF_MEDICARE}
    ppo = DIRECTORY.contracts["SMPPPO"]
    priced = ppo.unit_rate("99215", [], PosClass.NON_FACILITY, SERVICE_DAY)
    assert priced is not None and priced[0] == Decimal("278.16")  # 152% of Medicare's 183.00
    facility = ppo.unit_rate("99213", [], PosClass.FACILITY, SERVICE_DAY)
    assert facility is not None and facility[0] == Decimal("98.80")  # 152% of the facility rate 65.00


def test_the_most_specific_row_in_force_on_the_day_prices_the_service() -> None:
    contract = schedule_contract(
        "93000,,,30.00,2025-01-01,\n"
        "93000,26,,9.00,2025-01-01,\n"
        "99213,,,112.00,2025-01-01,2025-12-31\n"
        "99213,,,118.00,2026-01-01,\n"
        "99213,,facility,80.00,2026-01-01,\n"
    )
    rate = contract.unit_rate
    assert rate("93000", ["26"], PosClass.NON_FACILITY, SERVICE_DAY)[0] == Decimal("9.00")  # type: ignore[index]
    assert rate("93000", ["59"], PosClass.NON_FACILITY, SERVICE_DAY)[0] == Decimal("30.00")  # type: ignore[index]
    assert rate("99213", [], PosClass.NON_FACILITY, date(2025, 6, 1))[0] == Decimal("112.00")  # type: ignore[index]
    assert rate("99213", [], PosClass.NON_FACILITY, date(2026, 6, 1))[0] == Decimal("118.00")  # type: ignore[index]
    assert rate("99213", [], PosClass.FACILITY, date(2026, 6, 1))[0] == Decimal("80.00")  # type: ignore[index]
    assert rate("99213", [], PosClass.FACILITY, date(2024, 6, 1)) is None
    assert rate("99999", [], PosClass.FACILITY, date(2026, 6, 1)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("procedure_code,allowed\n99213,1.00\n", "header lacks modifier, pos_class"),
        (HEADER + "99213,,,abc,2026-01-01,\n", "line 2: allowed"),
        (HEADER + "99213,,office,90.00,2026-01-01,\n", "line 2"),
        (HEADER + "99213,,,90.00,2026-02-30,\n", "line 2"),
        (
            HEADER + "# a comment\n99213,,,90.00,2026-03-01,2026-01-01\n",
            "line 3: row: Value error, effective_to",
        ),
        (HEADER + "99213,,,90.00\n", "line 2: 4 fields"),
    ],
)
def test_a_bad_fee_schedule_names_its_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        read_fee_schedule("bad.csv", text)


def test_a_contract_table_names_what_is_wrong() -> None:
    base = (
        '[kinds.medicare]\nname="m"\nfiling_indicator="MB"\ntimely_filing_days=1\nappeal_days=1\n'
        "corrected_claim_days=1\nsex_edits=false\n"
    )
    kinds = "".join(
        base.replace("medicare", kind) for kind in ("medicare", "medicaid", "other_federal", "commercial")
    )
    payer = '[[payers]]\nkind="commercial"\npayer_id="P1"\nname="P"\n'
    files = {"s.csv": HEADER + "99213,,,90.00,2026-01-01,\n"}
    directory = load_profiles(
        kinds + payer + 'contract = { method = "fee_schedule", schedule = "s.csv" }\n',
        read_schedule=files.__getitem__,
    )
    assert directory.contracts["P1"].schedule.rows[0].allowed == Decimal("90.00")
    with pytest.raises(ValueError, match="percent_of_medicare contract needs its percent"):
        load_profiles(
            kinds + payer + 'contract = { method = "percent_of_medicare", schedule = "s.csv" }\n',
            read_schedule=files.__getitem__,
        )
    with pytest.raises(ValueError, match="cannot be read here"):
        load_profiles(kinds + payer + 'contract = { method = "fee_schedule", schedule = "s.csv" }\n')


def test_sandbox_835_lines_below_contract_are_underpaid_each_once_and_the_rest_are_not(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    """Summit HMO still allows its 2025 rates for 99213/99214 (112, 160) against the 2026 contract
    (118, 168); the other lines are at contract. Lakeside PPO (152% of Medicare) allows 270.00 for
    99215 against 278.16, and more than 152% for the lab code."""
    hmo = claim(
        factory,
        [Line("36415", "20.00"), Line("99213", "200.00"), Line("85025", "40.00"), Line("80053", "60.00")],
        payer_id="SMPHMO",
        diagnoses=("J209",),
    )
    payment = decide(sandbox, clock, hmo)
    found = find_underpayments(hmo, payment, DIRECTORY.contracts["SMPHMO"])
    assert [(u.line_number, u.procedure_code, u.expected, u.allowed, u.shortfall) for u in found] == [
        (2, "99213", Decimal("118.00"), Decimal("112.00"), Decimal("6.00")),
    ]
    assert "effective 2026-01-01" in found[0].contract_line and "$118.00 per unit" in found[0].contract_line
    assert found[0].payer_claim_number == payment.payer_claim_number
    established = claim(factory, [Line("99214", "250.00")], payer_id="SMPHMO", diagnoses=("J209",))
    (visit,) = find_underpayments(
        established, decide(sandbox, clock, established), DIRECTORY.contracts["SMPHMO"]
    )
    assert (visit.line_number, visit.expected, visit.allowed, visit.shortfall) == (
        1,
        Decimal("168.00"),
        Decimal("160.00"),
        Decimal("8.00"),
    )

    ppo = claim(
        factory,
        [Line("99215", "400.00"), Line("36415", "20.00"), Line("99213", "200.00")],
        payer_id="SMPPPO",
        diagnoses=("J209",),
    )
    ppo_payment = decide(sandbox, clock, ppo)
    (short,) = find_underpayments(ppo, ppo_payment, DIRECTORY.contracts["SMPPPO"])
    assert (short.line_number, short.expected, short.allowed, short.shortfall) == (
        1,
        Decimal("278.16"),
        Decimal("270.00"),
        Decimal("8.16"),
    )
    assert "152% of fee_schedules/medicare-pfs.csv" in short.contract_line

    bcx = claim(
        factory, [Line("99213", "200.00"), Line("36415", "20.00")], payer_id="SMPBCX", diagnoses=("J209",)
    )
    assert find_underpayments(bcx, decide(sandbox, clock, bcx), DIRECTORY.contracts["SMPBCX"]) == []


def test_units_a_low_charge_tolerance_denials_and_reversals(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    hmo = claim(
        factory,
        [Line("99213", "115.00"), Line("97110", "120.00", units="3")],
        payer_id="SMPHMO",
        diagnoses=("J209",),
    )
    payment = decide(sandbox, clock, hmo)
    contract = DIRECTORY.contracts["SMPHMO"]
    # 99213 charged 115.00 below the 118.00 contract: the payer allowed 112.00, short 3.00 of the charge;
    # 97110 needs the plan's authorization: denied, so a denial and not an underpayment
    (low,) = find_underpayments(hmo, payment, contract)
    assert (low.expected, low.allowed, low.shortfall) == (
        Decimal("115.00"),
        Decimal("112.00"),
        Decimal("3.00"),
    )
    lenient = contract.model_copy(update={"tolerance": Decimal("3.00")})
    assert find_underpayments(hmo, payment, lenient) == []
    assert find_underpayments(hmo, reverse(payment), contract) == []

    units = schedule_contract("97110,,,45.00,2025-01-01,\n", tolerance="0.00")
    ppo = claim(factory, [Line("97110", "300.00", units="3")], payer_id="SMPPPO", diagnoses=("M545",))
    therapy = decide(sandbox, clock, ppo)
    # the PPO allows 48.00 a unit: at 45.00 contracted, three units are over, at 50.00 under by 6.00
    assert find_underpayments(ppo, therapy, units) == []
    dearer = schedule_contract("97110,,,50.00,2025-01-01,\n", tolerance="0.00")
    (line,) = find_underpayments(ppo, therapy, dearer)
    assert (line.units, line.contract_rate, line.expected, line.allowed, line.shortfall) == (
        Decimal("3"),
        Decimal("50.00"),
        Decimal("150.00"),
        Decimal("144.00"),
        Decimal("6.00"),
    )


def test_the_allowed_amount_without_amt_b6_is_the_charge_less_the_payers_reductions() -> None:
    payment = ClaimPayment.model_validate(
        {
            "patient_control_number": "X1",
            "status": ClaimStatusCode.PRIMARY,
            "charge": "200.00",
            "paid": "70.00",
            "service_lines": [
                {
                    "procedure_code": "99213",
                    "charge": "200.00",
                    "paid": "70.00",
                    "adjustments": [
                        Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=Decimal("100.00")),
                        Adjustment(
                            group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason="2", amount=Decimal("20.00")
                        ),
                        Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="253", amount=Decimal("10.00")),
                    ],
                },
                {
                    "procedure_code": "99214",
                    "charge": "50.00",
                    "paid": "0.00",
                    "adjustments": [
                        Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="50", amount=Decimal("50.00"))
                    ],
                },
            ],
        }
    )
    assert line_allowed(payment.service_lines[0]) == Decimal("100.00")
    assert line_allowed(payment.service_lines[1]) is None
