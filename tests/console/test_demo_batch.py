"""The shipped demo batch loads on any day, its dates of service moved with the calendar."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from claimflow.claims.encounter import InstitutionalInfo
from claimflow.console.demo_batch import ANCHOR, load_demo_batch, shift_dates
from claimflow.integrations.sandbox.scenarios import Trouble, scenario_batch


def test_shift_moves_every_date_of_service_and_nothing_else() -> None:
    encounter = scenario_batch(1, today=ANCHOR, seed=3)[0].encounter
    line = encounter.service_lines[0].model_copy(
        update={"service_date_end": encounter.service_lines[0].service_date + timedelta(days=2)}
    )
    info = InstitutionalInfo(
        type_of_bill="0131",
        statement_from=encounter.service_date,
        statement_to=encounter.service_date + timedelta(days=2),
        admission_date=encounter.service_date,
    )
    encounter = encounter.model_copy(update={"service_lines": [line], "institutional": info})
    moved = shift_dates(encounter, 40)
    later = timedelta(days=40)
    assert moved.service_date == encounter.service_date + later
    assert moved.service_lines[0].service_date == line.service_date + later
    assert moved.service_lines[0].service_date_end == line.service_date_end + later  # type: ignore[operator]
    assert moved.institutional is not None
    assert moved.institutional.statement_from == info.statement_from + later
    assert moved.institutional.statement_to == info.statement_to + later
    assert moved.institutional.admission_date == encounter.service_date + later
    assert moved.patient.birth_date == encounter.patient.birth_date
    assert shift_dates(moved, -40) == encounter


def test_batch_is_dated_relative_to_the_day_it_runs() -> None:
    today = date(2027, 6, 1)
    as_shipped = load_demo_batch(ANCHOR)  # no shift: the dates the bundles hold
    loaded = load_demo_batch(today)
    assert len(loaded) == 120
    offset = today - ANCHOR
    for stored, claim in zip(as_shipped, loaded, strict=True):
        assert claim.encounter.encounter_id == stored.encounter.encounter_id
        assert claim.trouble == stored.trouble
        assert claim.encounter == shift_dates(stored.encounter, offset.days)
        assert claim.encounter.service_date == stored.encounter.service_date + offset


def test_batch_seeds_every_kind_of_trouble() -> None:
    kinds = Counter(claim.trouble for claim in load_demo_batch(ANCHOR))
    assert set(kinds) == {trouble.value for trouble in Trouble}
    assert kinds[Trouble.CLEAN.value] >= 60


def test_limit_takes_the_first_claims() -> None:
    assert [c.encounter.encounter_id for c in load_demo_batch(ANCHOR, limit=3)] == [
        "DEMO-2026-0001",
        "DEMO-2026-0002",
        "DEMO-2026-0003",
    ]
