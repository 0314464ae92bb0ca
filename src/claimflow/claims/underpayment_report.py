"""Underpayments by payer: what is still open (a shortfall nobody settled yet, appealed or not), what
the payers paid back on re-adjudication, and what people accepted or corrected. Pure: the claims'
underpayment cases in, one row per payer out, for the command line, the demo and the dashboard."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from claimflow.claims.encounter import Model
from claimflow.claims.lifecycle import UnderpaymentCase, UnderpaymentStatus
from claimflow.claims.money import ZERO, Money


class PayerUnderpayments(Model):
    payer_id: str
    lines: int = Field(description="underpaid lines found")
    open_lines: int = Field(description="open or appealed, not yet settled")
    open_amount: Money = ZERO
    appealed: int = 0
    recovered_lines: int = 0
    recovered_amount: Money = ZERO
    accepted_lines: int = 0
    accepted_amount: Money = ZERO
    corrected_lines: int = 0


def by_payer(cases: Iterable[UnderpaymentCase]) -> list[PayerUnderpayments]:
    rows: dict[str, PayerUnderpayments] = {}
    for case in cases:
        payer = case.finding.payer_id
        row = rows.get(payer) or PayerUnderpayments(payer_id=payer, lines=0, open_lines=0)
        update: dict[str, object] = {"lines": row.lines + 1}
        status = case.status
        if status in {UnderpaymentStatus.OPEN, UnderpaymentStatus.APPEALED}:
            update |= {"open_lines": row.open_lines + 1, "open_amount": row.open_amount + case.open_shortfall}
            if status is UnderpaymentStatus.APPEALED:
                update["appealed"] = row.appealed + 1
        elif status is UnderpaymentStatus.RECOVERED:
            update |= {"recovered_lines": row.recovered_lines + 1}
        elif status is UnderpaymentStatus.ACCEPTED:
            update |= {
                "accepted_lines": row.accepted_lines + 1,
                "accepted_amount": row.accepted_amount + case.finding.shortfall,
            }
        else:
            update["corrected_lines"] = row.corrected_lines + 1
        update["recovered_amount"] = row.recovered_amount + case.recovered
        rows[payer] = row.model_copy(update=update)
    return sorted(rows.values(), key=lambda r: r.payer_id)
