"""What every rule sees: the encounter, the payer's profile, the code sets and the scrub date."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from claimflow.claims.claim import FrequencyCode
from claimflow.claims.codesets import CodeSets
from claimflow.claims.codesets.tables import MueLimit, PtpTable
from claimflow.claims.encounter import ClaimKind, Encounter, Person
from claimflow.claims.payers import PayerProfile
from claimflow.claims.scrub.findings import Category, Finding, Severity


@dataclass(frozen=True)
class Context:
    encounter: Encounter
    profile: PayerProfile
    codesets: CodeSets
    as_of: date
    known_claims: Sequence[Encounter]
    frequency: FrequencyCode

    @property
    def is_inpatient(self) -> bool:
        """Inpatient bills (type of bill 11x/12x) are paid per stay: NCCI PTP and MUE do not apply."""
        info = self.encounter.institutional
        return info is not None and info.type_of_bill.lstrip("0")[:2] in ("11", "12")

    @property
    def ptp(self) -> PtpTable | None:
        if self.is_inpatient:
            return None
        setting = "outpatient_hospital" if self.encounter.kind is ClaimKind.INSTITUTIONAL else "practitioner"
        return self.codesets.ptp[setting]

    def mue(self, code: str) -> MueLimit | None:
        """The code's MUE in this claim's setting. An MUE of 0 marks a service Medicare does not pay
        (e.g. preventive visits): a coverage question, not a units limit, so it is not applied."""
        if self.is_inpatient:
            return None
        tables = self.codesets.core.mue
        if self.encounter.kind is ClaimKind.INSTITUTIONAL:
            limit = tables.get("outpatient_hospital", {}).get(code)
        else:
            # a DMEPOS code absent from the practitioner table is edited with the supplier values
            limit = tables.get("practitioner", {}).get(code) or tables.get("dme_supplier", {}).get(code)
        return limit if limit is not None and limit.units > 0 else None


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
