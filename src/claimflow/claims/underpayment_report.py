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


class UnderpaymentGroup(Model):
    """Underpaid lines of one payer in one status, counted and summed (by a database, say)."""

    payer_id: str
    status: UnderpaymentStatus
    lines: int
    shortfall: Money = Field(description="the shortfalls found on these lines")
    recovered: Money = Field(description="what the payer paid back on them")


def by_payer(cases: Iterable[UnderpaymentCase]) -> list[PayerUnderpayments]:
    return by_payer_of_groups(
        UnderpaymentGroup(
            payer_id=case.finding.payer_id,
            status=case.status,
            lines=1,
            shortfall=case.finding.shortfall,
            recovered=case.recovered,
        )
        for case in cases
    )


def by_payer_of_groups(groups: Iterable[UnderpaymentGroup]) -> list[PayerUnderpayments]:
    """The rows of `by_payer` from lines already grouped by payer and status."""
    rows: dict[str, PayerUnderpayments] = {}
    for group in groups:
        payer, count, status = group.payer_id, group.lines, group.status
        row = rows.get(payer) or PayerUnderpayments(payer_id=payer, lines=0, open_lines=0)
        update: dict[str, object] = {"lines": row.lines + count}
        if status in {UnderpaymentStatus.OPEN, UnderpaymentStatus.APPEALED}:
            update |= {"open_lines": row.open_lines + count, "open_amount": row.open_amount + group.shortfall}
            if status is UnderpaymentStatus.APPEALED:
                update["appealed"] = row.appealed + count
        elif status is UnderpaymentStatus.RECOVERED:
            update |= {"recovered_lines": row.recovered_lines + count}
        elif status is UnderpaymentStatus.ACCEPTED:
            update |= {
                "accepted_lines": row.accepted_lines + count,
                "accepted_amount": row.accepted_amount + group.shortfall,
            }
        else:
            update["corrected_lines"] = row.corrected_lines + count
        update["recovered_amount"] = row.recovered_amount + group.recovered
        rows[payer] = row.model_copy(update=update)
    return sorted(rows.values(), key=lambda r: r.payer_id)
