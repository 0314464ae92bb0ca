"""Seeded generators of realistic encounters and claims, shared by the X12, sandbox and workflow tests.

Every value is one a real billing office would send: valid NPIs (Luhn check digit), billable
ICD-10-CM codes, common CPT/HCPCS codes with fitting modifiers and revenue codes, and the sandbox's
default payer ids. The same seed gives the same claims, so a failing case can be replayed.

Everything generated is also representable in X12: fields an 837 does not carry for a given loop
(a rendering provider's tax id, a referring provider's taxonomy) are left empty, so that
write-then-read gives back an equal model.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from claimflow.claims.claim import Claim, ClaimStatusInquiry, EligibilityInquiry, FrequencyCode
from claimflow.claims.encounter import (
    Address,
    ClaimFilingIndicator,
    Coverage,
    Encounter,
    EntityType,
    Facility,
    InstitutionalInfo,
    Person,
    Provider,
    Relationship,
    ServiceLine,
    Sex,
)
from claimflow.claims.npi import make_npi
from claimflow.claims.x12.claim837_read import place_of_service_for_bill_type

# Billable (leaf) ICD-10-CM codes, valid on every date of service the factory draws (2024-2026).
DIAGNOSES = (
    "E119",
    "I10",
    "J069",
    "M545",
    "Z0000",
    "R051",
    "K219",
    "E785",
    "J449",
    "F419",
    "M1711",
    "N390",
    "R109",
    "Z23",
    "E039",
    "G4733",
    "J301",
    "L309",
    "M25561",
    "R0602",
)

# Professional procedure codes with a typical charge (CPT format only; HCPCS Level II are CMS's).
PROFESSIONAL_PROCEDURES = {
    "99213": Decimal("125.00"),
    "99214": Decimal("185.00"),
    "99203": Decimal("160.00"),
    "93000": Decimal("65.00"),
    "36415": Decimal("15.00"),
    "80053": Decimal("48.00"),
    "85025": Decimal("32.00"),
    "71046": Decimal("95.00"),
    "G0439": Decimal("175.00"),
    "J3420": Decimal("22.50"),
    "90471": Decimal("28.00"),
    "97110": Decimal("55.00"),
}
MODIFIERS = {"99213": ["25"], "99214": ["25"], "99203": ["25"], "71046": ["26", "TC"], "97110": ["GP", "59"]}

# Institutional lines: revenue code with the HCPCS code billed under it.
INSTITUTIONAL_LINES = (
    ("0300", "80053", Decimal("210.00")),
    ("0301", "85025", Decimal("64.00")),
    ("0300", "36415", Decimal("25.00")),
    ("0320", "71046", Decimal("340.00")),
    ("0450", "99284", Decimal("1250.00")),
    ("0730", "93005", Decimal("180.00")),
    ("0636", "J3420", Decimal("48.00")),
    ("0510", "G0463", Decimal("295.00")),
)
# Type of bill without its frequency digit: hospital outpatient, inpatient, critical access, lab.
BILL_TYPES = ("013", "011", "085", "014")

PAYERS = (
    ("SMPMCR", "SAMPLE MEDICARE", ClaimFilingIndicator.MEDICARE_B),
    ("SMPMCD", "SAMPLE MEDICAID", ClaimFilingIndicator.MEDICAID),
    ("SMPBCX", "SAMPLE BLUE CROSS", ClaimFilingIndicator.BLUE_CROSS),
    ("SMPHMO", "SAMPLE HMO", ClaimFilingIndicator.HMO),
    ("SMPPPO", "SAMPLE PPO", ClaimFilingIndicator.PPO),
)
PAYER_IDS = tuple(payer_id for payer_id, _, _ in PAYERS)

LAST_NAMES = (
    "Smith",
    "Johnson",
    "Garcia",
    "Nguyen",
    "O'Brien",
    "Kowalski",
    "Okafor",
    "Patel",
    "Lee",
    "Brown",
)
FIRST_NAMES = ("Maria", "James", "Aisha", "Chen", "Robert", "Linda", "Mohammed", "Emily", "Jose", "Grace")
STREETS = ("Main St", "Oak Ave", "Seaway Blvd", "Elm St", "Maple Dr", "Park Rd", "Cedar Ln")
CITIES = (("Miami", "FL", "331"), ("Columbus", "OH", "432"), ("Denver", "CO", "802"), ("Austin", "TX", "787"))
PRACTICES = (
    "Lakeside Family Medicine",
    "Riverside Cardiology",
    "North Hills Pediatrics",
    "Harbor Internal Medicine",
)
HOSPITALS = ("St Mary Regional Hospital", "County General Hospital", "Valley Critical Access Hospital")
PROVIDER_TAXONOMIES = ("207Q00000X", "207R00000X", "207RC0000X", "208000000X", "363LF0000X")
FACILITY_TAXONOMIES = ("282N00000X", "282NC0060X")


class ClaimFactory:
    """Random but realistic claims from a seed: `ClaimFactory(7).claim()`."""

    def __init__(self, seed: int = 0, service_from: date = date(2026, 1, 5)) -> None:
        self.rng = random.Random(seed)
        self.service_from = service_from
        self._serial = 0
        self._practices = [self.billing_provider(institutional=False) for _ in range(3)]
        self._hospitals = [self.billing_provider(institutional=True) for _ in range(2)]

    # people and places -------------------------------------------------------------------------

    def npi(self) -> str:
        return make_npi(f"1{self.rng.randrange(10**8):08d}")

    def address(self, zip_plus_four: bool = False) -> Address:
        city, state, prefix = self.rng.choice(CITIES)
        postal = f"{prefix}{self.rng.randrange(100):02d}"
        if zip_plus_four or self.rng.random() < 0.4:
            postal += f"{self.rng.randrange(1, 10000):04d}"
        line2 = f"Apt {self.rng.randrange(1, 400)}" if self.rng.random() < 0.2 else None
        line1 = f"{self.rng.randrange(1, 9999)} {self.rng.choice(STREETS)}"
        return Address(line1=line1, line2=line2, city=city, state=state, postal_code=postal)

    def person(self, sex: Sex | None = None, born_before: int = 2005) -> Person:
        sex = sex or self.rng.choice([Sex.FEMALE, Sex.MALE])
        birth = date(
            self.rng.randrange(1935, born_before), self.rng.randrange(1, 13), self.rng.randrange(1, 29)
        )
        return Person(
            last_name=self.rng.choice(LAST_NAMES),
            first_name=self.rng.choice(FIRST_NAMES),
            middle_name=self.rng.choice([None, None, "A", "Lee"]),
            birth_date=birth,
            sex=sex,
            address=self.address(),
        )

    def billing_provider(self, institutional: bool) -> Provider:
        name = self.rng.choice(HOSPITALS if institutional else PRACTICES)
        return Provider(
            name=name,
            npi=self.npi(),
            taxonomy=self.rng.choice(FACILITY_TAXONOMIES if institutional else PROVIDER_TAXONOMIES),
            tax_id=f"{self.rng.randrange(10**8, 10**9)}",
            address=self.address(zip_plus_four=True),
        )

    def clinician(self, taxonomy: bool = True) -> Provider:
        """A person provider (rendering, referring, attending): NM1 carries name, NPI and taxonomy only."""
        return Provider(
            entity_type=EntityType.PERSON,
            name=self.rng.choice(LAST_NAMES),
            first_name=self.rng.choice(FIRST_NAMES),
            npi=self.npi(),
            taxonomy=self.rng.choice(PROVIDER_TAXONOMIES) if taxonomy else None,
        )

    def coverage(self, payer_id: str | None = None) -> Coverage:
        payer = next(p for p in PAYERS if p[0] == payer_id) if payer_id else self.rng.choice(PAYERS)
        grouped = payer[2] not in (ClaimFilingIndicator.MEDICARE_B, ClaimFilingIndicator.MEDICAID)
        return Coverage(
            payer_id=payer[0],
            payer_name=payer[1],
            member_id=f"{self.rng.choice('ABCMWXYZ')}{self.rng.randrange(10**8, 10**9)}",
            group_number=f"GRP{self.rng.randrange(1000, 99999)}" if grouped else None,
            group_name=self.rng.choice([None, "Acme Corp Employees"]) if grouped else None,
            filing_indicator=payer[2],
            payer_address=self.address() if self.rng.random() < 0.3 else None,
        )

    # encounters and claims ---------------------------------------------------------------------

    def encounter(
        self,
        *,
        institutional: bool = False,
        dependent: bool | None = None,
        lines: int | None = None,
        diagnoses: int | None = None,
        payer_id: str | None = None,
        frequency: FrequencyCode = FrequencyCode.ORIGINAL,
    ) -> Encounter:
        self._serial += 1
        rng = self.rng
        dependent = rng.random() < 0.35 if dependent is None else dependent
        relationship = (
            rng.choice([Relationship.SPOUSE, Relationship.CHILD, Relationship.OTHER])
            if dependent
            else (Relationship.SELF)
        )
        patient = self.person(born_before=2024 if relationship is Relationship.CHILD else 2005)
        subscriber = self.person() if dependent else None
        codes = rng.sample(DIAGNOSES, diagnoses or rng.randint(1, 4))
        line_count = lines or rng.choice([1, 1, 2, 2, 3, 4, 6])
        start = self.service_from + timedelta(days=rng.randrange(300))
        if institutional:
            bill_type = rng.choice(BILL_TYPES)
            place = place_of_service_for_bill_type(bill_type + frequency.value)
            service_lines = [self._institutional_line(start, number) for number in range(line_count)]
            end = max(line.service_date for line in service_lines)
            inpatient = bill_type == "011"
            info = InstitutionalInfo(
                type_of_bill=f"{bill_type}{frequency.value}",
                admission_date=start if inpatient else None,
                admission_hour=f"{rng.randrange(24):02d}" if inpatient else None,
                admission_type=rng.choice(["1", "2", "3"]),
                admission_source=rng.choice([None, "1", "2", "7"]),
                patient_status=rng.choice(["01", "01", "06"]),
                statement_from=start,
                statement_to=end,
                attending_provider=self.clinician(),
            )
            billing = rng.choice(self._hospitals)
            rendering = None
        else:
            place = rng.choice(["11", "11", "11", "02", "10", "22", "23"])
            service_lines = [self._professional_line(start, len(codes), place) for _ in range(line_count)]
            info = None
            billing = rng.choice(self._practices)
            rendering = self.clinician() if rng.random() < 0.6 else None
        return Encounter(
            encounter_id=f"enc-{self._serial:06d}",
            patient=patient,
            relationship=relationship,
            subscriber=subscriber,
            coverage=self.coverage(payer_id),
            billing_provider=billing,
            rendering_provider=rendering,
            referring_provider=self.clinician(taxonomy=False) if rng.random() < 0.25 else None,
            facility=self._facility() if rng.random() < 0.2 else None,
            place_of_service=place,
            service_date=min(line.service_date for line in service_lines),
            diagnoses=codes,
            service_lines=service_lines,
            prior_authorization=f"PA{rng.randrange(10**6, 10**7)}" if rng.random() < 0.15 else None,
            institutional=info,
        )

    def claim(self, *, frequency: FrequencyCode | None = None, **encounter_options: object) -> Claim:
        """A claim for a fresh encounter; about one in eight is a replacement (frequency 7, REF*F8)."""
        if frequency is None:
            frequency = FrequencyCode.REPLACEMENT if self.rng.random() < 0.125 else FrequencyCode.ORIGINAL
        encounter = self.encounter(frequency=frequency, **encounter_options)  # type: ignore[arg-type]
        replaced = frequency is not FrequencyCode.ORIGINAL
        return Claim(
            encounter=encounter,
            patient_control_number=f"PCN{self._serial:07d}{self.rng.choice(['', 'A', 'B'])}",
            frequency=frequency,
            original_claim_number=f"{self.rng.randrange(10**12, 10**13)}" if replaced else None,
        )

    def claims(self, count: int, **encounter_options: object) -> list[Claim]:
        return [self.claim(**encounter_options) for _ in range(count)]

    def eligibility_inquiry(self, **encounter_options: object) -> EligibilityInquiry:
        """A 270 for a fresh encounter, traced by a number unique within this factory."""
        encounter = self.encounter(**encounter_options)  # type: ignore[arg-type]
        return EligibilityInquiry.for_encounter(encounter, f"ELG{self._serial:07d}")

    def status_inquiry(
        self, claim: Claim | None = None, payer_claim_number: str | None = None
    ) -> ClaimStatusInquiry:
        """A 276 about `claim` (a fresh one when not given)."""
        claim = claim or self.claim()
        return ClaimStatusInquiry.for_claim(claim, f"STS{self._serial:07d}", payer_claim_number)

    def _professional_line(self, start: date, diagnosis_count: int, place: str) -> ServiceLine:
        rng = self.rng
        code = rng.choice(list(PROFESSIONAL_PROCEDURES))
        modifiers = rng.sample(MODIFIERS[code], 1) if code in MODIFIERS and rng.random() < 0.4 else []
        units = (
            Decimal(rng.choice([1, 1, 1, 2, 3])) if code not in ("99213", "99214", "99203") else Decimal(1)
        )
        pointers = rng.sample(range(1, diagnosis_count + 1), rng.randint(1, min(4, diagnosis_count)))
        return ServiceLine(
            procedure_code=code,
            modifiers=modifiers,
            units=units,
            charge=PROFESSIONAL_PROCEDURES[code] * units,
            diagnosis_pointers=pointers,
            service_date=start + timedelta(days=rng.choice([0, 0, 0, 1, 7])),
            place_of_service=("22" if place == "11" else "11") if rng.random() < 0.05 else None,
            ndc="00409123401" if code == "J3420" and rng.random() < 0.5 else None,
        )

    def _institutional_line(self, start: date, number: int) -> ServiceLine:
        rng = self.rng
        revenue, code, charge = rng.choice(INSTITUTIONAL_LINES)
        units = Decimal(rng.choice([1, 1, 2]))
        day = start + timedelta(days=min(number // 4, 3))
        return ServiceLine(
            procedure_code=code,
            modifiers=["TC"] if code == "71046" and rng.random() < 0.3 else [],
            units=units,
            charge=charge * units,
            service_date=day,
            service_date_end=day + timedelta(days=1) if rng.random() < 0.1 else None,
            revenue_code=revenue,
        )

    def _facility(self) -> Facility:
        return Facility(
            name=self.rng.choice(HOSPITALS),
            npi=self.npi() if self.rng.random() < 0.8 else None,
            address=self.address(),
        )


def varied_claims(count: int, seed: int = 0, institutional: bool = False) -> list[Claim]:
    """A corpus covering the cases the guides care about: dependents, 1..50 lines, 1..12 diagnoses,
    modifiers, replacements. Every fifth claim is stretched to the extremes."""
    factory = ClaimFactory(seed)
    claims = []
    for index in range(count):
        options: dict[str, object] = {"institutional": institutional}
        if index % 5 == 0:
            options["lines"] = factory.rng.choice([1, 12, 25, 50])
            options["diagnoses"] = factory.rng.choice([1, 8, 12])
        claims.append(factory.claim(**options))
    return claims
