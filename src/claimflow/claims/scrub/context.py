"""What every rule sees: the encounter, the payer's profile, the code sets and the scrub date."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date

from claimflow.claims.claim import FrequencyCode
from claimflow.claims.codesets import CodeSets
from claimflow.claims.codesets.tables import MueLimit, PtpTable
from claimflow.claims.encounter import Encounter, Person
from claimflow.claims.payers import PayerProfile
from claimflow.claims.scrub.findings import Category, Finding, Severity


class Context:
    """Built once per scrub; the setting's NCCI tables are chosen here so rules only look codes up."""

    __slots__ = (
        "as_of",
        "codesets",
        "encounter",
        "frequency",
        "known_claims",
        "mue_tables",
        "original_claim_number",
        "profile",
        "ptp",
    )

    def __init__(
        self,
        encounter: Encounter,
        profile: PayerProfile,
        codesets: CodeSets,
        as_of: date,
        known_claims: Sequence[Encounter],
        frequency: FrequencyCode,
        original_claim_number: str | None = None,
    ) -> None:
        self.encounter = encounter
        self.profile = profile
        self.codesets = codesets
        self.as_of = as_of
        self.known_claims = known_claims
        self.frequency = frequency
        self.original_claim_number = original_claim_number
        info = encounter.institutional
        mue = codesets.core.mue
        self.ptp: PtpTable | None
        self.mue_tables: tuple[Mapping[str, MueLimit], ...]
        if info is not None and info.type_of_bill.lstrip("0")[:2] in ("11", "12"):
            # inpatient bills (type of bill 11x/12x) are paid per stay: NCCI PTP and MUE do not apply
            self.ptp, self.mue_tables = None, ()
        elif info is not None:
            self.ptp, self.mue_tables = codesets.ptp["outpatient_hospital"], (mue["outpatient_hospital"],)
        else:
            # a DMEPOS code absent from the practitioner table is edited with the supplier values
            self.ptp, self.mue_tables = (
                codesets.ptp["practitioner"],
                (mue["practitioner"], mue["dme_supplier"]),
            )

    def mue(self, code: str) -> MueLimit | None:
        """The code's MUE in this claim's setting. An MUE of 0 marks a service Medicare does not pay
        (e.g. preventive visits): a coverage question, not a units limit, so it is not applied."""
        for table in self.mue_tables:
            limit = table.get(code)
            if limit is not None:
                return limit if limit.units > 0 else None
        return None


def age_on(person: Person, day: date) -> int | None:
    """Whole years of age on `day`, or None without a birth date."""
    born = person.birth_date
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


Rule = Callable[[Context], Iterable[Finding]]


def error(rule: str, category: Category, location: str, message: str, fix: str) -> Finding:
    return Finding(
        rule=rule, category=category, severity=Severity.ERROR, message=message, fix=fix, location=location
    )


def warning(rule: str, category: Category, location: str, message: str, fix: str) -> Finding:
    return Finding(
        rule=rule, category=category, severity=Severity.WARNING, message=message, fix=fix, location=location
    )
