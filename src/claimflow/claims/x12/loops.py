"""Loops as the readers see them: an NM1 with the segments that follow it, the HL blocks of a
transaction set, and the people, addresses and providers those loops name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from claimflow.claims.encounter import Address, EntityType, Person, Provider, Sex
from claimflow.claims.x12.build import build_model, code_of
from claimflow.claims.x12.errors import X12StructureError, X12ValueError
from claimflow.claims.x12.segments import Segment, parse_date


@dataclass
class Loop:
    """An NM1 with the segments that follow it up to the next NM1 (N3, N4, DMG, REF, PRV..)."""

    name: Segment | None
    segments: list[Segment] = field(default_factory=list)

    def first(self, segment_id: str, qualifier: str | None = None) -> Segment | None:
        for segment in self.segments:
            if segment.id == segment_id and (qualifier is None or segment[1] == qualifier):
                return segment
        return None


def split_loops(segments: Sequence[Segment]) -> list[Loop]:
    loops = [Loop(None)]
    for segment in segments:
        if segment.id == "NM1":
            loops.append(Loop(segment))
        else:
            loops[-1].segments.append(segment)
    return loops


def named_loop(loops: Sequence[Loop], entity: str) -> Loop | None:
    return next((loop for loop in loops if loop.name is not None and loop.name[1] == entity), None)


def hl_blocks(segments: Sequence[Segment]) -> list[tuple[Segment, list[Segment]]]:
    blocks: list[tuple[Segment, list[Segment]]] = []
    for segment in segments:
        if segment.id == "HL":
            blocks.append((segment, []))
        elif blocks:
            blocks[-1][1].append(segment)
    return blocks


@dataclass
class HLNode:
    """One HL with its segments up to the next HL, linked to its parent."""

    hl: Segment
    segments: list[Segment]
    parent: HLNode | None
    children: list[HLNode] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.hl[3]

    def ancestor(self, level: str) -> HLNode | None:
        node: HLNode | None = self
        while node is not None and node.level != level:
            node = node.parent
        return node


def hl_tree(segments: Sequence[Segment]) -> list[HLNode]:
    """Every HL of a transaction set in order, each linked to the parent HL02 names."""
    nodes: dict[str, HLNode] = {}
    ordered: list[HLNode] = []
    for hl, block in hl_blocks(segments):
        parent = None
        if hl[2]:
            parent = nodes.get(hl[2])
            if parent is None:
                raise X12StructureError(
                    f"HL parent {hl[2]} is not an earlier HL of this transaction set",
                    segment_id="HL",
                    position=hl.position,
                    element=2,
                )
        node = HLNode(hl, block, parent)
        if parent is not None:
            parent.children.append(node)
        nodes[hl[1]] = node
        ordered.append(node)
    return ordered


def split_at(segments: Sequence[Segment], segment_id: str) -> list[list[Segment]]:
    groups: list[list[Segment]] = []
    for segment in segments:
        if segment.id == segment_id or not groups:
            groups.append([])
        groups[-1].append(segment)
    return groups


def read_person(loop: Loop, what: str) -> Person:
    name = loop.name
    assert name is not None
    dmg = loop.first("DMG")
    birth_date = None
    sex = Sex.UNKNOWN
    if dmg is not None:
        if dmg[1] == "D8" and dmg[2]:
            try:
                birth_date = parse_date(dmg[2], dmg, 2, "birth date")
            except X12ValueError:  # said again without the value (a birth date is PHI), not chained
                raise X12ValueError(
                    "the birth date is not a date (CCYYMMDD)",
                    segment_id="DMG",
                    position=dmg.position,
                    element=2,
                ) from None
        if dmg[3]:
            sex = code_of(Sex, dmg, 3, "sex")
    return build_model(
        Person,
        name,
        what,
        last_name=name.require(3, f"{what} last name (NM103)"),
        first_name=name.require(4, f"{what} first name (NM104)"),
        middle_name=name[5] or None,
        birth_date=birth_date,
        sex=sex,
        address=read_address(loop),
    )


def read_address(loop: Loop) -> Address | None:
    n3, n4 = loop.first("N3"), loop.first("N4")
    if n3 is None:
        return None
    if n4 is None:
        raise X12StructureError(
            "N3 without N4: the city, state and ZIP are missing", segment_id="N3", position=n3.position
        )
    return build_model(
        Address,
        n4,
        "address (N3/N4)",
        line1=n3[1],
        line2=n3[2] or None,
        city=n4[1],
        state=n4[2],
        postal_code=n4[3],
    )


def read_optional_provider(loop: Loop | None, what: str) -> Provider | None:
    """A provider the claim may name; one without an NPI (legacy ids only) is left out, since the
    models identify providers by NPI."""
    if loop is None or loop.name is None or loop.name[8] != "XX" or not loop.name[9]:
        return None
    return read_provider(loop, what)


def read_provider(
    loop: Loop, what: str, *, taxonomy: str | None = None, tax_qualifier: str = "EI"
) -> Provider:
    """A provider from its NM1 loop: NPI (NM108 XX), taxonomy (PRV03), tax id (REF, EI in claims and
    TJ in inquiries), address."""
    name = loop.name
    assert name is not None
    if name[8] != "XX" or not name[9]:
        raise X12ValueError(
            f"{what} has no NPI (NM108 XX, NM109)", segment_id="NM1", position=name.position, element=9
        )
    prv = loop.first("PRV")
    tax = loop.first("REF", tax_qualifier)
    person = name[2] == EntityType.PERSON.value
    return build_model(
        Provider,
        name,
        what,
        entity_type=EntityType.PERSON if person else EntityType.ORGANIZATION,
        name=name.require(3, f"{what} name (NM103)"),
        first_name=(name[4] or None) if person else None,
        npi=name[9],
        taxonomy=taxonomy or (prv[3] if prv else None),
        tax_id=tax[2].replace("-", "") if tax else None,  # an EIN is often written 12-3456789
        address=read_address(loop),
    )


def hl_name(node: HLNode | None, entity: str) -> Segment | None:
    """The NM1 of `entity` in an HL, if it has one."""
    if node is None:
        return None
    loop = named_loop(split_loops(node.segments), entity)
    return loop.name if loop else None


def hl_loop(node: HLNode, entity: str, what: str) -> Loop:
    """The NM1 loop of `entity` in an HL, with the segments before the NM1 in the same HL (a 276's
    DMG, a 271's TRN): they are about the same person."""
    loops = split_loops(node.segments)
    loop = named_loop(loops, entity)
    if loop is None:
        raise X12StructureError(
            f"the {what} name (NM1*{entity}) is missing", segment_id="HL", position=node.hl.position
        )
    return Loop(loop.name, [*loops[0].segments, *loop.segments])
