"""Patient statements: rendered from the letters templates and written as HTML and PDF files."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from claimflow.activities import catalog
from claimflow.activities.rendering import render_off_loop, save_letter
from claimflow.activities.requests import StatementRequest
from claimflow.letters.practice import Practice
from claimflow.letters.statement import StatementData, render_statement


class StatementActivities:
    def __init__(self, documents_dir: Path, billing_phone: str = "800-555-0100") -> None:
        self._documents_dir = documents_dir
        self._billing_phone = billing_phone

    @activity.defn(name=catalog.WRITE_STATEMENT.name)
    async def write_statement(self, request: StatementRequest) -> str:
        """Write the statement as HTML and PDF; the same request writes the same files (safe to
        retry). Returns the PDF's path."""
        claim = request.claim
        data = StatementData.for_claim(
            claim,
            practice=Practice.from_provider(claim.encounter.billing_provider, phone=self._billing_phone),
            statement_date=request.statement_date,
            due_date=request.due_date,
            insurance_paid=request.insurance_paid,
            adjusted=request.adjusted,
            amount_due=request.amount_due,
            patient_paid=request.patient_paid,
        )
        letter = await render_off_loop(render_statement, data, request.notice)
        target = self._documents_dir / "statements" / f"{claim.encounter.encounter_id}-{request.notice}.pdf"
        await save_letter(letter, target)
        return str(target)
