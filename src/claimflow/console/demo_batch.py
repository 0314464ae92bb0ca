"""The shipped demo batch: FHIR bundles under demo_data/, dated relative to ANCHOR.

scripts/make_demo_batch.py writes them from the sandbox's scenario generator. Dates of service must be
recent when the demo runs (timely filing, eligibility), so loading shifts every date of service by
(today - ANCHOR): the same files work on any day. Birth dates are not shifted: a patient is who they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from importlib.resources.abc import Traversable

from claimflow.claims.encounter import Encounter
from claimflow.integrations.fhir import encounter_from_bundle

ANCHOR = date(2026, 1, 15)
"""The day the shipped bundles were drawn for: their dates of service are relative to it."""
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DemoClaim:
    encounter: Encounter
    trouble: str
    expect: str


def shift_dates(encounter: Encounter, days: int) -> Encounter:
    """The encounter with every date of service (claim, lines, statement and admission) moved by `days`."""
    delta = timedelta(days=days)
    lines = [
        line.model_copy(
            update={
                "service_date": line.service_date + delta,
                "service_date_end": line.service_date_end + delta if line.service_date_end else None,
            }
        )
        for line in encounter.service_lines
    ]
    update: dict[str, object] = {"service_date": encounter.service_date + delta, "service_lines": lines}
    info = encounter.institutional
    if info is not None:
        update["institutional"] = info.model_copy(
            update={
                "statement_from": info.statement_from + delta,
                "statement_to": info.statement_to + delta,
                "admission_date": info.admission_date + delta if info.admission_date else None,
            }
        )
    return encounter.model_copy(update=update)


def demo_data() -> Traversable:
    return files("claimflow.console").joinpath("demo_data")


def load_demo_batch(today: date, limit: int | None = None) -> list[DemoClaim]:
    """The shipped encounters in manifest order, dated as if drawn `today`; the first `limit` only."""
    folder = demo_data()
    manifest = json.loads(folder.joinpath(MANIFEST).read_text())
    days = (today - date.fromisoformat(manifest["anchor"])).days
    claims = []
    for entry in manifest["encounters"][:limit]:
        name = entry["file"]
        bundle = json.loads(folder.joinpath(name).read_text())
        encounter = encounter_from_bundle(bundle, source=f"demo_data/{name}")
        claims.append(DemoClaim(shift_dates(encounter, days), entry["trouble"], entry["expect"]))
    return claims
