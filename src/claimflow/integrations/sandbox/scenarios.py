"""Encounters that exercise the sandbox payers the way a real month does: mostly clean claims, and
the usual share of trouble, each kind of it decided by the payers' own rules (payers.toml), not by
a script. The demo batch and the end-to-end tests are drawn from here.

Every encounter says which trouble it was built to carry (`Scenario.kind`), so a test can check that
claimflow handled each kind the way a billing team expects."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from claimflow.claims.encounter import (
    Address,
    ClaimFilingIndicator,
    Coverage,
    Encounter,
    EntityType,
    Person,
    Provider,
    Relationship,
    ServiceLine,
    Sex,
)
from claimflow.claims.npi import make_npi


class Trouble(StrEnum):
    CLEAN = "clean"
    INACTIVE_COVERAGE = "inactive_coverage"
    CODING_HOLD = "coding_hold"
    MISSING_DEMOGRAPHICS = "missing_demographics"
    INVALID_DIAGNOSIS = "invalid_diagnosis"
    BAD_RENDERING_NPI = "bad_rendering_npi"
    UNITS_OVER_MUE = "units_over_mue"
    MISSING_AUTHORIZATION = "missing_authorization"
    MISSING_LATERALITY = "missing_laterality"
    NOT_MEDICALLY_NECESSARY = "not_medically_necessary"
    DUPLICATE = "duplicate"
    NEAR_TIMELY_FILING = "near_timely_filing"
    COORDINATION = "coordination"
    """A clean claim with other coverage: crossover, secondary or tertiary (not drawn as a trouble)."""


@dataclass(frozen=True)
class Scenario:
    kind: Trouble
    encounter: Encounter
    expect: str
    """What a billing team expects to happen, in a phrase."""


@dataclass(frozen=True)
class SandboxPayer:
    payer_id: str
    name: str
    indicator: ClaimFilingIndicator
    member_prefix: str
    member_digits: int
    timely_filing_days: int


PAYERS = (
    SandboxPayer("SMPMCR", "Sandbox Medicare Part B", ClaimFilingIndicator.MEDICARE_B, "MCR", 8, 365),
    SandboxPayer("SMPMCD", "Sandbox State Medicaid", ClaimFilingIndicator.MEDICAID, "MCD", 8, 180),
    SandboxPayer("SMPBCX", "Sandbox Blue Cross Commercial", ClaimFilingIndicator.BLUE_CROSS, "XBC", 9, 180),
    SandboxPayer("SMPHMO", "Summit Health HMO", ClaimFilingIndicator.HMO, "HMO", 8, 90),
    SandboxPayer("SMPPPO", "Lakeside PPO", ClaimFilingIndicator.PPO, "PPO", 8, 120),
)

# Office visits with the tests that go with them: (procedure, charge, diagnoses that support it).
VISITS = (
    ("99213", "145.00", ("I10", "E119", "J069", "M5450", "K219")),
    ("99214", "210.00", ("E119", "I10", "J449", "E785")),
    ("99203", "180.00", ("R051", "J069", "L309")),
    ("99212", "95.00", ("J301", "R109", "L309")),
)
# Tests that go with any visit (an ECG would need a cardiac diagnosis: see _not_medically_necessary).
ADD_ONS = (("36415", "15.00"), ("85025", "38.00"), ("80053", "62.00"))
LAST_NAMES = (
    "Garcia",
    "Nguyen",
    "Okafor",
    "Schmidt",
    "Kowalski",
    "Haddad",
    "Ito",
    "Murphy",
    "Silva",
    "Patel",
)
FIRST_NAMES = ("Maria", "James", "Aisha", "Wei", "Sofia", "Liam", "Noah", "Emma", "Ravi", "Hana")
STREETS = ("Oak St", "Maple Ave", "Cedar Ln", "Elm St", "Birch Rd", "Lakeview Dr")
CITIES = (("Springfield", "IL", "627"), ("Madison", "WI", "537"), ("Denver", "CO", "802"))

PRACTICE = Provider(
    entity_type=EntityType.ORGANIZATION,
    name="Riverside Family Medicine",
    npi=make_npi("123456789"),
    taxonomy="207Q00000X",
    tax_id="371234567",
    address=Address(line1="100 River Rd", city="Springfield", state="IL", postal_code="627011234"),
)
CLINICIANS = (
    Provider(
        entity_type=EntityType.PERSON,
        name="Shah",
        first_name="Anika",
        npi=make_npi("198765432"),
        taxonomy="207Q00000X",
    ),
    Provider(
        entity_type=EntityType.PERSON,
        name="Brennan",
        first_name="Tom",
        npi=make_npi("176543210"),
        taxonomy="207R00000X",
    ),
)


def scenario_batch(count: int, *, today: date, seed: int = 2026, prefix: str = "DEMO") -> list[Scenario]:
    """`count` encounters: about two in three clean, the rest one trouble each, in a seeded order.

    Encounter ids are `<prefix>-<seed>-<n>`, so drawing the same batch again gives the same ids
    (starting it twice starts each claim once)."""
    rng = random.Random(seed)
    builder = _Builder(rng, today)
    troubles = [trouble for trouble in Trouble if trouble not in {Trouble.CLEAN, Trouble.COORDINATION}]
    plan: list[Trouble] = [
        troubles[n % len(troubles)] for n in range(max(count // 3, len(troubles)) if count >= 12 else 0)
    ]
    plan += [Trouble.CLEAN] * (count - len(plan))
    plan = plan[:count]
    rng.shuffle(plan)
    scenarios: list[Scenario] = []
    for number, trouble in enumerate(plan, start=1):
        encounter_id = f"{prefix}-{seed}-{number:04d}"
        scenarios.append(BUILDERS[trouble](builder, encounter_id, scenarios))
    return _with_other_coverage(scenarios)


MEDIGAP = SandboxPayer("SMPMGP", "Heritage Medigap Plan G", ClaimFilingIndicator.COMMERCIAL, "MGP", 8, 365)
OTHER_COVERAGE: dict[str, tuple[tuple[str, ...], str]] = {
    "SMPMCR": (
        ("SMPMGP",),
        "Medicare pays, then crosses the claim over to the Medigap plan (MA18): no second claim",
    ),
    "SMPBCX": (
        ("SMPMCD",),
        "Blue Cross pays, then the claim is billed to Medicaid as secondary; the patient owes the rest",
    ),
    "SMPPPO": (("SMPBCX", "SMPMCD"), "Lakeside PPO, then Blue Cross as secondary, then Medicaid as tertiary"),
}
"""Which clean claims carry other coverage, by primary payer: every third clean claim of that payer."""


def _with_other_coverage(scenarios: list[Scenario]) -> list[Scenario]:
    """Every third clean claim of Medicare, Blue Cross and Lakeside PPO gets the other coverage
    OTHER_COVERAGE names, member ids drawn from the encounter id (no random draw: the rest of the
    batch stays as it was)."""
    seen: dict[str, int] = {}
    result = []
    for scenario in scenarios:
        encounter = scenario.encounter
        payer_id = encounter.coverage.payer_id
        if scenario.kind is not Trouble.CLEAN or payer_id not in OTHER_COVERAGE:
            result.append(scenario)
            continue
        seen[payer_id] = seen.get(payer_id, 0) + 1
        if seen[payer_id] % 3 != 1:
            result.append(scenario)
            continue
        others, expect = OTHER_COVERAGE[payer_id]
        digits = "".join(ch for ch in encounter.encounter_id if ch.isdigit())[-7:].rjust(7, "0")
        coverages = []
        for other in others:
            payer = MEDIGAP if other == MEDIGAP.payer_id else _payer(other)
            member = f"{payer.member_prefix}1{digits.rjust(payer.member_digits - 1, '0')}"
            coverages.append(
                Coverage(
                    payer_id=payer.payer_id,
                    payer_name=payer.name,
                    member_id=member,
                    filing_indicator=payer.indicator,
                )
            )
        changed = encounter.model_copy(update={"other_coverages": coverages})
        result.append(Scenario(Trouble.COORDINATION, changed, expect))
    return result


class _Builder:
    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today

    def person(self, sex: Sex | None = None, born: tuple[int, int] = (1940, 2000)) -> Person:
        city, state, zip_prefix = self.rng.choice(CITIES)
        return Person(
            last_name=self.rng.choice(LAST_NAMES),
            first_name=self.rng.choice(FIRST_NAMES),
            birth_date=date(self.rng.randrange(*born), self.rng.randrange(1, 13), self.rng.randrange(1, 29)),
            sex=sex or self.rng.choice((Sex.FEMALE, Sex.MALE)),
            address=Address(
                line1=f"{self.rng.randrange(10, 9999)} {self.rng.choice(STREETS)}",
                city=city,
                state=state,
                postal_code=f"{zip_prefix}{self.rng.randrange(10, 99)}",
            ),
        )

    def member_id(self, payer: SandboxPayer, explicit: int | None = None) -> str:
        """An active member by the payer's rule, or one of its explicit members (…9000000N)."""
        if explicit is not None:
            return f"{payer.member_prefix}9{explicit:0{payer.member_digits - 1}d}"
        first = self.rng.randrange(1, 9)  # never 9: those are the explicit members
        rest = self.rng.randrange(10 ** (payer.member_digits - 1))
        return f"{payer.member_prefix}{first}{rest:0{payer.member_digits - 1}d}"

    def encounter(
        self,
        encounter_id: str,
        *,
        payer: SandboxPayer | None = None,
        days_ago: int | None = None,
        member: str | None = None,
        lines: list[tuple[str, str, list[str], int]] | None = None,
        diagnoses: list[str] | None = None,
        dependent: bool = False,
    ) -> Encounter:
        payer = payer or self.rng.choice(PAYERS)
        service_date = self.today - timedelta(
            days=days_ago if days_ago is not None else self.rng.randrange(2, 20)
        )
        visit, visit_charge, supported = self.rng.choice(VISITS)
        if diagnoses is None:
            diagnoses = self.rng.sample(supported, k=min(len(supported), self.rng.randrange(1, 3)))
        if lines is None:
            lines = [(visit, visit_charge, [], 1)]
            for code, charge in self.rng.sample(ADD_ONS, k=self.rng.randrange(0, 3)):
                lines.append((code, charge, [], 1))
        subscriber = self.person(born=(1950, 1990)) if dependent else None
        patient = self.person(born=(2008, 2020)) if dependent else self.person()
        return Encounter(
            encounter_id=encounter_id,
            patient=patient,
            relationship=Relationship.CHILD if dependent else Relationship.SELF,
            subscriber=subscriber,
            coverage=Coverage(
                payer_id=payer.payer_id,
                payer_name=payer.name,
                member_id=member or self.member_id(payer),
                group_number=None
                if payer.indicator.is_government
                else f"GRP{self.rng.randrange(1000, 9999)}",
                filing_indicator=payer.indicator,
            ),
            billing_provider=PRACTICE,
            rendering_provider=self.rng.choice(CLINICIANS),
            place_of_service="11",
            service_date=service_date,
            diagnoses=diagnoses,
            service_lines=[
                ServiceLine(
                    procedure_code=code,
                    modifiers=modifiers,
                    units=Decimal(units),
                    charge=Decimal(charge) * units,
                    diagnosis_pointers=list(range(1, min(len(diagnoses), 4) + 1)),
                    service_date=service_date,
                )
                for code, charge, modifiers, units in lines
            ],
        )


def _payer(payer_id: str) -> SandboxPayer:
    return next(p for p in PAYERS if p.payer_id == payer_id)


def _clean(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    return Scenario(
        Trouble.CLEAN,
        b.encounter(encounter_id, dependent=b.rng.random() < 0.2),
        "paid; a patient share is billed on a statement",
    )


def _inactive(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    payer = b.rng.choice(PAYERS)
    return Scenario(
        Trouble.INACTIVE_COVERAGE,
        b.encounter(encounter_id, payer=payer, member=b.member_id(payer, explicit=2)),  # starts in 2027
        "271 says inactive: a coverage_issue task",
    )


def _coding_hold(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    encounter = b.encounter(encounter_id).model_copy(update={"diagnoses": [], "service_lines": []})
    return Scenario(Trouble.CODING_HOLD, encounter, "waits in the coding hold: a coding task")


def _missing_demographics(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    encounter = b.encounter(encounter_id)
    patient = encounter.patient.model_copy(update={"birth_date": None, "address": None})
    return Scenario(
        Trouble.MISSING_DEMOGRAPHICS,
        encounter.model_copy(update={"patient": patient}),
        "birth date and address missing: a fix_demographics task",
    )


def _invalid_diagnosis(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    # E11 is a category header: only its leaf codes (E119 ...) may be billed.
    return Scenario(
        Trouble.INVALID_DIAGNOSIS,
        b.encounter(encounter_id, diagnoses=["E11"]),
        "non-billable diagnosis: a scrub_failure task",
    )


def _bad_npi(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    encounter = b.encounter(encounter_id)
    good = encounter.rendering_provider or CLINICIANS[0]
    wrong_digit = str((int(good.npi[-1]) + 1) % 10)
    rendering = good.model_copy(update={"npi": good.npi[:-1] + wrong_digit})
    return Scenario(
        Trouble.BAD_RENDERING_NPI,
        encounter.model_copy(update={"rendering_provider": rendering}),
        "rendering NPI fails its check digit: a scrub_failure task",
    )


def _units_over_mue(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    # 36415 (venipuncture) has an MUE of 2 a day for practitioners.
    lines: list[tuple[str, str, list[str], int]] = [("99213", "145.00", [], 1), ("36415", "15.00", [], 5)]
    return Scenario(
        Trouble.UNITS_OVER_MUE,
        b.encounter(encounter_id, lines=lines, diagnoses=["E119"]),
        "units above the MUE: a scrub_failure task",
    )


def _missing_authorization(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    lines: list[tuple[str, str, list[str], int]] = [("72148", "1250.00", [], 1)]
    return Scenario(
        Trouble.MISSING_AUTHORIZATION,
        b.encounter(encounter_id, payer=_payer("SMPHMO"), lines=lines, diagnoses=["M5450"]),
        "the HMO requires prior authorization for a lumbar MRI: a scrub_failure task",
    )


def _missing_laterality(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    lines: list[tuple[str, str, list[str], int]] = [("99213", "145.00", [], 1), ("73560", "120.00", [], 1)]
    return Scenario(
        Trouble.MISSING_LATERALITY,
        b.encounter(encounter_id, payer=_payer("SMPMCR"), lines=lines, diagnoses=["M1711"]),
        "knee X-ray without LT/RT: the payer denies the line CO-4; correct and resubmit",
    )


def _not_medically_necessary(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    lines: list[tuple[str, str, list[str], int]] = [("93000", "85.00", [], 1)]
    return Scenario(
        Trouble.NOT_MEDICALLY_NECESSARY,
        b.encounter(encounter_id, payer=_payer("SMPMCR"), lines=lines, diagnoses=["J301"]),
        "ECG for hay fever: the payer denies CO-50; appeal with the medical record",
    )


def _duplicate(b: _Builder, encounter_id: str, earlier: list[Scenario]) -> Scenario:
    originals = [s for s in earlier if s.kind is Trouble.CLEAN]
    if not originals:
        return _clean(b, encounter_id, earlier)
    original = b.rng.choice(originals).encounter
    return Scenario(
        Trouble.DUPLICATE,
        original.model_copy(update={"encounter_id": encounter_id}),
        "the same services billed twice under a new encounter: the payer denies CO-18",
    )


def _near_timely_filing(b: _Builder, encounter_id: str, _: list[Scenario]) -> Scenario:
    payer = _payer("SMPHMO")  # 90 days to file
    encounter = b.encounter(encounter_id, payer=payer, days_ago=payer.timely_filing_days - 12)
    return Scenario(
        Trouble.NEAR_TIMELY_FILING,
        encounter.model_copy(update={"diagnoses": [], "service_lines": []}),
        "still uncoded 12 days before its filing deadline: coding and timely_filing_risk tasks",
    )


BUILDERS: dict[Trouble, Callable[[_Builder, str, list[Scenario]], Scenario]] = {
    Trouble.CLEAN: _clean,
    Trouble.INACTIVE_COVERAGE: _inactive,
    Trouble.CODING_HOLD: _coding_hold,
    Trouble.MISSING_DEMOGRAPHICS: _missing_demographics,
    Trouble.INVALID_DIAGNOSIS: _invalid_diagnosis,
    Trouble.BAD_RENDERING_NPI: _bad_npi,
    Trouble.UNITS_OVER_MUE: _units_over_mue,
    Trouble.MISSING_AUTHORIZATION: _missing_authorization,
    Trouble.MISSING_LATERALITY: _missing_laterality,
    Trouble.NOT_MEDICALLY_NECESSARY: _not_medically_necessary,
    Trouble.DUPLICATE: _duplicate,
    Trouble.NEAR_TIMELY_FILING: _near_timely_filing,
}
