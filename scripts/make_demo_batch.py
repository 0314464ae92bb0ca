"""Write the demo batch shipped with claimflow: src/claimflow/console/demo_data/*.json.

    .venv/bin/python scripts/make_demo_batch.py

120 FHIR R4 bundles from the sandbox's scenario generator (seed 2026, about one in three with the usual
trouble), dated relative to claimflow.console.demo_batch.ANCHOR, and manifest.json: per encounter,
its file, trouble kind and what a billing team expects. `claimflow demo` shifts the dates to today.
"""

from __future__ import annotations

import json
from pathlib import Path

from claimflow.console.demo_batch import ANCHOR, MANIFEST
from claimflow.integrations.fhir import encounter_from_bundle
from claimflow.integrations.fhir.export import bundle_from_encounter
from claimflow.integrations.sandbox.scenarios import scenario_batch

OUT = Path(__file__).resolve().parents[1] / "src" / "claimflow" / "console" / "demo_data"
COUNT = 120
SEED = 2026


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    entries = []
    for scenario in scenario_batch(COUNT, today=ANCHOR, seed=SEED, prefix="DEMO"):
        encounter = scenario.encounter
        bundle = bundle_from_encounter(encounter)
        if encounter_from_bundle(bundle) != encounter:
            raise SystemExit(f"{encounter.encounter_id} does not survive the FHIR round trip")
        name = f"{encounter.encounter_id}.json"
        (OUT / name).write_text(json.dumps(bundle, indent=1) + "\n")
        entries.append(
            {
                "encounter_id": encounter.encounter_id,
                "file": name,
                "trouble": scenario.kind.value,
                "expect": scenario.expect,
            }
        )
    manifest = {"anchor": ANCHOR.isoformat(), "seed": SEED, "count": COUNT, "encounters": entries}
    (OUT / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(entries)} bundles and {MANIFEST} to {OUT}")


if __name__ == "__main__":
    main()
