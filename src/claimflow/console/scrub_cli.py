"""`claimflow scrub FILE`: what a payer would deny, found before submission."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from claimflow.claims.payers import PayerDirectory, default_directory, load_profiles
from claimflow.claims.scrub import Finding, Severity
from claimflow.claims.scrub import scrub as run_scrub
from claimflow.integrations.fhir import IntakeError, load_encounter, read_file


def _directory(payers: Path | None) -> PayerDirectory:
    if payers is None:
        return default_directory()
    return load_profiles(
        payers.read_text(encoding="utf-8"),
        read_schedule=lambda name: (payers.parent / name).read_text(encoding="utf-8"),
    )


def _print_text(findings: tuple[Finding, ...], source: Path) -> None:
    if not findings:
        typer.echo(f"{source}: clean, nothing a payer would deny")
        return
    for finding in findings:
        state = "fixed" if finding.fixed else finding.severity.value
        typer.echo(f"{state:7} {finding.category.value:17} {finding.rule:28} {finding.location}")
        where = " | ".join(part for part in (finding.fhir_path, finding.x12) if part)
        if where:
            typer.echo(f"        at {where}")
        typer.echo(f"        {finding.message}")
        typer.echo(f"        fix: {finding.fix}")
    errors = sum(finding.severity is Severity.ERROR for finding in findings)
    typer.echo(f"{source}: {errors} error(s), {len(findings) - errors} warning(s) or fix(es)")


def scrub(
    file: Annotated[Path, typer.Argument(help="encounter JSON or FHIR R4 Bundle (JSON) holding one Claim")],
    as_json: Annotated[bool, typer.Option("--json", help="print the findings as a JSON list")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="date the claim would reach the payer, YYYY-MM-DD (default: today)"),
    ] = None,
    known: Annotated[
        list[Path] | None,
        typer.Option("--known", help="a claim already billed (encounter JSON or Bundle), for duplicates"),
    ] = None,
    payers: Annotated[
        Path | None, typer.Option("--payers", help="payer profiles TOML (default: the shipped directory)")
    ] = None,
) -> None:
    """Scrub an encounter JSON or FHIR Bundle: exit 0 when no finding is an error (warnings and fixes
    are listed all the same), 1 when one is (found reading the Bundle or by a rule), 2 only when the
    input is not JSON, or neither a FHIR Bundle nor encounter JSON."""
    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        typer.echo(f"error: --as-of {as_of!r} is not a date: write YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    try:
        read = read_file(file)
        known_claims = [load_encounter(path) for path in known or []]
        directory = _directory(payers)
    except (IntakeError, ValueError, OSError) as exc:
        typer.echo(
            f"error: {exc}\n  nothing was scrubbed: correct the file it names and run scrub again", err=True
        )
        raise typer.Exit(2) from exc
    findings = read.findings
    if read.encounter is not None:
        coverage = read.encounter.coverage
        profile = directory.profile_for(coverage.payer_id, coverage.filing_indicator)
        result = run_scrub(read.claim(), as_of=day, profile=profile, known_claims=known_claims)
        findings += tuple(read.sources.locate(finding) for finding in result.findings)
    if as_json:
        typer.echo(json.dumps([finding.model_dump(mode="json") for finding in findings], indent=2))
    else:
        _print_text(findings, file)
    if any(finding.severity is Severity.ERROR for finding in findings):
        raise typer.Exit(1)
