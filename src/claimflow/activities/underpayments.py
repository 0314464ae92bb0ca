"""Underpayments: an 835 checked against the payer's contract (claims/underpayment), and the appeal
letter that states the contract rate."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from temporalio import activity

from claimflow.activities import catalog
from claimflow.activities.rendering import render_off_loop, save_letter
from claimflow.activities.underpayment_requests import (
    UnderpaymentLetterRequest,
    UnderpaymentRequest,
    Underpayments,
)
from claimflow.claims.contracts import Contract, ContractMethod, FeeSchedule, FeeScheduleRow
from claimflow.claims.payers import PayerDirectory
from claimflow.claims.underpayment import find_underpayments
from claimflow.letters.appeal import AppealCategory, AppealData, render_appeal
from claimflow.letters.practice import Practice


class UnderpaymentActivities:
    def __init__(
        self, directory: PayerDirectory, documents_dir: Path, billing_phone: str = "800-555-0100"
    ) -> None:
        self._directory = directory
        self._documents_dir = documents_dir
        self._billing_phone = billing_phone

    @activity.defn(name=catalog.FIND_UNDERPAYMENTS.name)
    async def find_underpayments(self, request: UnderpaymentRequest) -> Underpayments:
        """Pure and quick: the lines allowed below the contract, with the rates a person corrected
        taking the place of the contract's for their lines."""
        contract = self._directory.contract(request.payer_id)
        if contract is None:
            return Underpayments(has_contract=False)
        found = find_underpayments(request.claim, request.payment, contract)
        if request.corrected_rates:
            found = [f for f in found if f.line_number not in request.corrected_rates]
            for number, rate in request.corrected_rates.items():
                corrected = _corrected(contract, request, number, rate)
                found += [
                    f
                    for f in find_underpayments(request.claim, request.payment, corrected)
                    if f.line_number == number
                ]
            found.sort(key=lambda f: f.line_number)
        return Underpayments(findings=found, has_contract=True)

    @activity.defn(name=catalog.WRITE_UNDERPAYMENT_LETTER.name)
    async def write_underpayment_letter(self, request: UnderpaymentLetterRequest) -> str:
        """The letter (HTML and PDF) asking the payer to pay the contract rate: the PDF's path."""
        claim = request.claim
        data = AppealData.for_claim(
            claim,
            request.payment,
            category=AppealCategory.UNDERPAYMENT,
            practice=Practice.from_provider(claim.encounter.billing_provider, phone=self._billing_phone),
            letter_date=request.letter_date,
            enclosures=["Remittance advice (835) for the claim", "Contract fee schedule, the lines cited"],
            signer_name="Billing Office",
            remittance_date=request.remittance_date,
            request_type="Request for payment review",
            underpaid=request.findings,
        )
        letter = await render_off_loop(render_appeal, data)
        number = request.task_id.rsplit(":", 1)[-1]
        target = self._documents_dir / "letters" / f"{claim.encounter.encounter_id}-underpayment-{number}.pdf"
        await save_letter(letter, target)
        return str(target)


def _corrected(contract: Contract, request: UnderpaymentRequest, number: int, rate: Decimal) -> Contract:
    """The contract with the corrected rate for line `number`'s service in force on its day."""
    line = request.claim.encounter.service_lines[number - 1]
    row = FeeScheduleRow(
        procedure_code=line.procedure_code,
        allowed=rate,
        effective_from=line.service_date,
        effective_to=line.service_date,
    )
    schedule = FeeSchedule(name=f"{contract.schedule.name} (corrected)", rows=(row,))
    return contract.model_copy(
        update={"schedule": schedule, "percent": None, "method": ContractMethod.FEE_SCHEDULE}
    )
