"""Read an encounter from a file: claimflow encounter JSON, or a FHIR R4 Bundle holding a Claim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from claimflow.claims.encounter import Encounter
from claimflow.integrations.fhir.bundle import encounter_from_bundle
from claimflow.integrations.fhir.errors import IntakeError


def encounter_from_json(data: Any, source: str) -> Encounter:
    """An Encounter from parsed JSON: a FHIR Bundle when resourceType says so, else encounter JSON."""
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        return encounter_from_bundle(data, source)
    if isinstance(data, dict) and "resourceType" in data:
        raise IntakeError(
            source, [f"a FHIR {data['resourceType']} was given; give a Bundle holding the Claim"]
        )
    try:
        return Encounter.model_validate(data)
    except ValidationError as exc:
        problems = [
            ".".join(str(part) for part in error["loc"]) + f": {error['msg']}" for error in exc.errors()
        ]
        raise IntakeError(source, problems) from exc


def load_encounter(path: Path | str) -> Encounter:
    """Read `path` (encounter JSON or FHIR Bundle JSON). Raises IntakeError naming what was wrong."""
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
    return encounter_from_json(data, str(path))
