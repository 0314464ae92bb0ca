"""`claimflow x12 ...`: read, write and check X12 005010 files.

Exit codes: 0 fine, 1 the file was read but is faulty (a check error, a set that cannot be read),
2 the input cannot be used at all (missing file, not X12, an encounter that does not validate).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import ClaimKind
from claimflow.claims.remittance import Adjustment, ClaimPayment, Remittance, ServicePayment
from claimflow.claims.x12 import (
    Envelope,
    ParsedSet,
    X12Error,
    X12SyntaxError,
    check,
    has_errors,
    parse,
    write_837,
)
from claimflow.integrations.fhir import IntakeError, read_document

app = typer.Typer(help="Read, write and check X12 005010 files.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(help="the X12 file", show_default=False)]
UNREADABLE = 2
FAULTY = 1


def _fail(message: str, hint: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}\n  what to do: {hint}", err=True)
    return typer.Exit(code)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail(
            f"cannot read {path}: {exc.strerror or exc}", "check the path and permissions", UNREADABLE
        ) from exc


# ------------------------------------------------------------------------------------------------ parse


def _adjustment(adjustment: Adjustment) -> dict[str, Any]:
    return {"group": adjustment.group.value, "reason": adjustment.reason, "amount": str(adjustment.amount)}


def _money(amount: Any) -> str | None:
    return None if amount is None else str(amount)


def _line(line: ServicePayment) -> dict[str, Any]:
    return {
        "procedure_code": line.procedure_code,
        "qualifier": line.qualifier,
        "modifiers": line.modifiers,
        "charge": str(line.charge),
        "paid": str(line.paid),
        "units": _money(line.units),
        "service_date": line.service_date.isoformat() if line.service_date else None,
        "line_control_number": line.line_control_number,
        "adjustments": [_adjustment(a) for a in line.adjustments],
        "remarks": line.remarks,
    }


def _claim(claim: ClaimPayment) -> dict[str, Any]:
    return {
        "patient_control_number": claim.patient_control_number,
        "status_code": claim.status.value,
        "charge": str(claim.charge),
        "paid": str(claim.paid),
        "patient_responsibility": _money(claim.patient_responsibility),
        "payer_claim_number": claim.payer_claim_number,
        "adjustments": [_adjustment(a) for a in claim.adjustments],
        "service_lines": [_line(line) for line in claim.service_lines],
        "remarks": claim.remarks,
    }


def remittance_json(remittance: Remittance) -> dict[str, Any]:
    """The 835 view the billing team reads: payment, trace, payer, claims and balancing findings."""
    return {
        "payment_amount": str(remittance.payment_amount),
        "payment_method": remittance.payment_method,
        "payment_date": remittance.payment_date.isoformat() if remittance.payment_date else None,
        "trace_number": remittance.trace_number,
        "payer_id": remittance.payer_id,
        "payer_name": remittance.payer.name,
        "payee_id": remittance.payee.id,
        "claims": [_claim(claim) for claim in remittance.claims],
        "provider_adjustments": [p.model_dump(mode="json") for p in remittance.provider_adjustments],
        "balancing_findings": [f.model_dump(mode="json") for f in remittance.findings],
    }


def _set_json(parsed: ParsedSet) -> dict[str, Any]:
    head = {"kind": parsed.kind, "control_number": parsed.control_number, "version": parsed.version}
    result = parsed.result
    if isinstance(result, Remittance):
        return head | remittance_json(result)
    if isinstance(result, BaseModel):
        return head | {"result": result.model_dump(mode="json")}
    key = "claims" if parsed.kind.startswith("837") else "results"
    return head | {key: [item.model_dump(mode="json") for item in result]}


def _set_summary(parsed: ParsedSet) -> str:
    head = f"{parsed.kind} {parsed.control_number}"
    result = parsed.result
    if isinstance(result, Remittance):
        lines = [
            f"{head}: payment {result.payment_amount} ({result.payment_method}) trace {result.trace_number}, "
            f"payer {result.payer.name} {result.payer_id or ''}".rstrip(),
        ]
        for claim in result.claims:
            lines.append(
                f"  claim {claim.patient_control_number} status {claim.status.value}: charge {claim.charge} "
                f"paid {claim.paid} patient {claim.patient_responsibility or '0.00'} "
                f"payer claim {claim.payer_claim_number or '-'}"
            )
        lines += [f"  balancing {f.level.value}: {f.message}" for f in result.findings]
        return "\n".join(lines)
    if isinstance(result, BaseModel):
        return f"{head}: {result.model_dump_json(exclude_none=True)}"
    if parsed.kind.startswith("837"):
        claims = ", ".join(
            f"{c.patient_control_number} {c.total_charge}" for c in result if isinstance(c, Claim)
        )
        return f"{head}: {len(result)} claim(s): {claims}"
    return "\n".join(
        [f"{head}: {len(result)} answer(s)"] + [f"  {r.model_dump_json(exclude_none=True)}" for r in result]
    )


@app.command("parse")
def parse_command(
    file: FileArgument,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a summary")] = False,
) -> None:
    """Read every transaction set of FILE (835, 837P/I, 999, 277CA..) and print what it says."""
    data = _read_bytes(file)
    try:
        parsed = parse(data)
    except X12SyntaxError as exc:
        raise _fail(
            f"{file} is not an X12 file: {exc}", "give an X12 005010 interchange (ISA...IEA)", 2
        ) from exc
    except X12Error as exc:
        raise _fail(
            f"{file}: {exc}",
            f"correct that segment at the sender, or run `claimflow x12 check {file}` for every fault",
            FAULTY,
        ) from exc
    if as_json:
        typer.echo(json.dumps({"file": str(file), "transactions": [_set_json(p) for p in parsed]}, indent=2))
    else:
        for item in parsed:
            typer.echo(_set_summary(item))
        if not parsed:
            typer.echo(f"{file}: no transaction set")


# ------------------------------------------------------------------------------------------------ check


@app.command("check")
def check_command(
    file: FileArgument,
    as_json: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
) -> None:
    """Check envelopes, control numbers, counts, HL tree, claim totals, 835 balancing and NPIs.

    Exits 1 when an error is found, 2 when the file cannot be read as X12."""
    data = _read_bytes(file)
    try:
        findings = check(data)
    except X12Error as exc:
        raise _fail(
            f"{file} cannot be read as X12: {exc}", "give an X12 005010 interchange (ISA...IEA)", 2
        ) from exc
    if as_json:
        typer.echo(json.dumps([f.model_dump(mode="json") for f in findings], indent=2))
    else:
        for finding in findings:
            typer.echo(finding.describe())
        errors = sum(1 for f in findings if f.severity.value == "error")
        typer.echo(f"{file}: {errors} error(s), {len(findings) - errors} warning(s)")
    if has_errors(findings):
        raise typer.Exit(FAULTY)


# ------------------------------------------------------------------------------------------------ 837


def _load_claim(path: Path) -> Claim:
    """A Claim JSON ({"encounter": ..}) as is, else an encounter (JSON or FHIR Bundle) billed as new.

    An encounter becomes an original claim whose patient control number is its opaque id."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"cannot read {path} as JSON: {exc}", "give an encounter or claim JSON file", 2) from exc
    try:
        if isinstance(raw, dict) and "encounter" in raw:
            return Claim.model_validate(raw)
        read = read_document(raw, str(path))
    except IntakeError as exc:
        raise _fail(str(exc), "correct the fields named above and run again", 2) from exc
    except ValueError as exc:  # pydantic's ValidationError of a Claim JSON
        raise _fail(f"{path} is not a valid claim: {exc}", "correct the fields named above", 2) from exc
    if read.encounter is None:
        listed = "\n".join(f"  - {finding.message}" for finding in read.errors)
        raise _fail(
            f"{path}: cannot become a claim ({len(read.errors)} problem(s)):\n{listed}",
            f"correct the fields named above; `claimflow scrub {path}` lists them with their 837 segments",
            2,
        )
    return read.claim()


def _as_kind(claim: Claim, file: Path, professional: bool, institutional: bool) -> Claim:
    """The claim as the 837 it is (837I when it carries a type of bill), or as the override asks."""
    if professional and institutional:
        raise _fail("--professional and --institutional were both given", "give one of them, or neither", 2)
    kind = claim.encounter.kind
    if institutional and kind is not ClaimKind.INSTITUTIONAL:
        raise _fail(
            f"{file} has no institutional block (type of bill, statement dates), so it cannot be an 837I",
            "add the type of bill (FHIR Claim.supportingInfo typeofbill), or drop --institutional",
            2,
        )
    if professional and kind is ClaimKind.INSTITUTIONAL:
        # the institutional block holds the attending provider; on an 837P they render the service
        info = claim.encounter.institutional
        rendering = claim.encounter.rendering_provider or (info.attending_provider if info else None)
        encounter = claim.encounter.model_copy(
            update={"institutional": None, "rendering_provider": rendering}
        )
        # a UB-04 line points at no diagnosis; on a CMS-1500 each line points at least at the principal
        lines = [
            line.model_copy(
                update={"revenue_code": None, "diagnosis_pointers": line.diagnosis_pointers or [1]}
            )
            for line in encounter.service_lines
        ]
        return claim.model_copy(update={"encounter": encounter.model_copy(update={"service_lines": lines})})
    return claim


@app.command("837")
def write_837_command(
    file: Annotated[Path, typer.Argument(help="encounter JSON, FHIR Bundle JSON or claim JSON")],
    institutional: Annotated[
        bool,
        typer.Option("--institutional", help="write an 837I even when the claim does not say institutional"),
    ] = False,
    professional: Annotated[
        bool,
        typer.Option("--professional", help="write an 837P of an institutional claim (drops its UB-04 data)"),
    ] = False,
    sender_id: Annotated[str, typer.Option(help="ISA06/GS02: our submitter id")] = "CLAIMFLOW",
    receiver_id: Annotated[str, typer.Option(help="ISA08/GS03: the clearinghouse id")] = "CLEARINGHOUSE",
    control_number: Annotated[int, typer.Option(help="ISA13 interchange control number", min=1)] = 1,
) -> None:
    """Write the claim's 837 to standard output: an 837I for an institutional claim (FHIR Claim.type
    institutional, or a type of bill), an 837P otherwise; --professional/--institutional override."""
    claim = _as_kind(_load_claim(file), file, professional, institutional)
    envelope = Envelope(
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=control_number,
        group_control_number=control_number,
        created=datetime.now(),
    )
    try:
        typer.echo(write_837([claim], envelope), nl=False)
    except X12Error as exc:
        raise _fail(
            f"claim {claim.patient_control_number} cannot be written: {exc}", "correct the encounter", 1
        ) from exc
