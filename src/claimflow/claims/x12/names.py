"""Writing the name loops every transaction shares: NM1 with N3/N4 and DMG."""

from __future__ import annotations

from claimflow.claims.encounter import Address, EntityType, Person, Provider
from claimflow.claims.x12.segments import format_date
from claimflow.claims.x12.writer import SegmentWriter


def write_address(out: SegmentWriter, address: Address | None) -> None:
    if address is not None:
        out.add("N3", address.line1, address.line2)
        out.add("N4", address.city, address.state, address.postal_code)


def write_person_name(
    out: SegmentWriter,
    entity: str,
    person: Person,
    qualifier: str | None = None,
    identifier: str | None = None,
) -> None:
    out.add(
        "NM1",
        entity,
        "1",
        person.last_name,
        person.first_name,
        person.middle_name,
        None,  # NM106 prefix
        None,  # NM107 suffix
        qualifier,
        identifier,
    )


def write_demographics(out: SegmentWriter, person: Person) -> None:
    """DMG, when the birth date is known (DMG02 is required in it)."""
    if person.birth_date is not None:
        out.add("DMG", "D8", format_date(person.birth_date), person.sex.value)


def write_provider_name(out: SegmentWriter, entity: str, provider: Provider) -> None:
    first = provider.first_name if provider.entity_type is EntityType.PERSON else None
    out.add(
        "NM1", entity, provider.entity_type.value, provider.name, first, None, None, None, "XX", provider.npi
    )
