"""`claimflow underpayments` and `claimflow eob`: lines paid below contract by payer, and a claim's
payer decisions as FHIR ExplanationOfBenefit resources (CARIN BB)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from claimflow.claims.claim import Claim
from claimflow.claims.coordination import Decision
from claimflow.claims.lifecycle import ClaimSnapshot
from claimflow.claims.underpayment_report import PayerUnderpayments, by_payer
from claimflow.console.claims_client import ClaimsClient, NotFound
from claimflow.console.output import ExitCode, fail, print_json, stdout, table
from claimflow.console.session import with_claims
from claimflow.integrations.fhir.eob import eob_bundle, validate

CLAIMS = "WorkflowType = 'ClaimWorkflow'"


async def _snapshots(claims: ClaimsClient) -> list[ClaimSnapshot]:
    listed = await claims.claims_matching(CLAIMS, datetime.now(UTC))

    async def one(claim_id: str) -> ClaimSnapshot | None:
        try:
            return await claims.claim(claim_id)
        except NotFound:
            return None

    found = await asyncio.gather(*(one(row.claim_id) for row in listed))
    return [snapshot for snapshot in found if snapshot is not None]


def underpayment_rows(snapshots: list[ClaimSnapshot]) -> list[PayerUnderpayments]:
    return by_payer(case for snapshot in snapshots for case in snapshot.underpayments)


def underpayments(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Lines allowed below the payer's contract, by payer: open (and appealed), recovered, accepted."""
    rows = underpayment_rows(with_claims(_snapshots))
    if as_json:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    stdout().print(underpayment_table(rows))


def underpayment_table(rows: list[PayerUnderpayments]) -> object:
    return table(
        "underpayments by payer",
        ("payer", "lines", "open", "open $", "appealed", "recovered", "recovered $", "accepted", "corrected"),
        [
            (
                row.payer_id,
                str(row.lines),
                str(row.open_lines),
                str(row.open_amount),
                str(row.appealed),
                str(row.recovered_lines),
                str(row.recovered_amount),
                str(row.accepted_lines),
                str(row.corrected_lines),
            )
            for row in rows
        ],
    )


def eob(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="claim-<encounter id>, or the encounter id")],
    out: Annotated[Path | None, typer.Option(help="write the Bundle here instead of printing it")] = None,
) -> None:
    """The claim's payer decisions as a FHIR Bundle of ExplanationOfBenefit resources (CARIN BB),
    validated with fhir.resources before it is written."""
    snapshot = with_claims(lambda claims: claims.claim(claim_id))
    if snapshot.encounter is None or not snapshot.adjudications:
        fail(
            f"{snapshot.claim_id} has no payer decision yet (state {snapshot.state.value}); run it again "
            "once the payer's 835 is posted (`claimflow claims show` lists the decisions)",
            ExitCode.USAGE,
        )
    assert snapshot.encounter is not None
    claim = Claim(encounter=snapshot.encounter, patient_control_number=snapshot.patient_control_number)
    decisions = [
        Decision(d.payment, d.decided_on) for d in sorted(snapshot.adjudications, key=lambda d: d.position)
    ]
    bundle = eob_bundle(claim, decisions)
    validate(bundle)
    text = json.dumps(bundle, indent=2)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    stdout().print(f"wrote {len(decisions)} ExplanationOfBenefit(s) to {out}", highlight=False, markup=False)
