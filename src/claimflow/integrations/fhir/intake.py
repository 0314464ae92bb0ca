"""Read an encounter from a file: claimflow encounter JSON, or a FHIR R4 Bundle holding a Claim.

`read_document` / `read_file` answer with an IntakeResult: the encounter, or every problem found as
located findings. They raise IntakeError only for input that is no encounter at all (not JSON, not a
Bundle or encounter JSON), which a person has to look at, not correct field by field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from claimflow.claims.encounter import ClaimKind, Encounter
from claimflow.integrations.fhir.bundle import read_bundle
from claimflow.integrations.fhir.errors import IntakeError
from claimflow.integrations.fhir.locations import intake_finding
from claimflow.integrations.fhir.result import IntakeResult


def read_document(data: Any, source: str) -> IntakeResult:
    """Parsed JSON read whole: a FHIR Bundle when resourceType says so, else encounter JSON."""
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        return read_bundle(data, source)
    if isinstance(data, dict) and "resourceType" in data:
        raise IntakeError(
            source, [f"a FHIR {data['resourceType']} was given; give a Bundle holding the Claim"]
        )
    if not isinstance(data, dict):
        raise IntakeError(source, ["neither a FHIR Bundle nor encounter JSON (a JSON object) was given"])
    if not set(data) & set(Encounter.model_fields):
        raise IntakeError(
            source,
            ["a JSON object with no encounter field was given (neither a FHIR Bundle nor encounter JSON)"],
        )
    try:
        return IntakeResult(source=source, encounter=Encounter.model_validate(data))
    except ValidationError as exc:
        kind = ClaimKind.INSTITUTIONAL if data.get("institutional") else ClaimKind.PROFESSIONAL
        problems = [
            f"{source}: encounter field {'.'.join(str(part) for part in error['loc'])} {error['msg']}"
            for error in exc.errors()
        ]
        return IntakeResult(
            source=source, encounter=None, findings=tuple(intake_finding(p, kind) for p in problems)
        )


def read_file(path: Path | str) -> IntakeResult:
    """Read `path` (encounter JSON or FHIR Bundle JSON) whole; IntakeError when it is neither."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IntakeError(str(path), [f"cannot read the file: {exc}"]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntakeError(
            str(path), [f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from exc
    except RecursionError:
        raise IntakeError(
            str(path), ["JSON nested too deeply to read: a Bundle is a few levels deep, check the file"]
        ) from None
    return read_document(data, str(path))


def _encounter(result: IntakeResult) -> Encounter:
    if result.encounter is None:
        raise IntakeError(result.source, [finding.message for finding in result.errors], result.errors)
    return result.encounter


def encounter_from_json(data: Any, source: str) -> Encounter:
    """An Encounter from parsed JSON, or IntakeError listing every problem."""
    return _encounter(read_document(data, source))


def load_encounter(path: Path | str) -> Encounter:
    """Read `path` (encounter JSON or FHIR Bundle JSON). Raises IntakeError naming what was wrong."""
    return _encounter(read_file(path))
