"""Small published lists shipped as CSV beside the index: CPT modifiers, where a modifier may be used,
and the US state and territory codes an 837 address takes (sources in SOURCES.md)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

from claimflow.claims.encounter import ClaimKind


def is_em(code: str) -> bool:
    """An evaluation and management visit code (CPT 99202-99499)."""
    return "99202" <= code <= "99499" and code.isdigit()


def _rows(name: str) -> list[dict[str, str]]:
    text = files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


class Scope(StrEnum):
    ONLY = "only"
    """the modifier is used on these codes and no others"""
    NEVER = "never"
    """the modifier is never used on these codes"""
    ANY = "any"
    """any code (the row restricts the claim type only)"""


@dataclass(frozen=True)
class ModifierScope:
    modifier: str
    scope: Scope
    ranges: tuple[tuple[str, str], ...]
    setting: ClaimKind | None
    """the only claim type the modifier belongs on, None for both"""
    source: str

    def covers(self, code: str) -> bool:
        return any(low <= code <= high and len(code) == len(low) for low, high in self.ranges)

    def allows(self, code: str, kind: ClaimKind) -> bool:
        if self.setting is not None and kind is not self.setting:
            return False
        if self.scope is Scope.ONLY:
            return self.covers(code)
        return not (self.scope is Scope.NEVER and self.covers(code))

    def describe(self) -> str:
        codes = ", ".join(low if low == high else f"{low}-{high}" for low, high in self.ranges)
        where = f" on {self.setting.value} claims" if self.setting else ""
        if self.scope is Scope.ONLY:
            return f"{self.modifier} is used only on {codes}{where}"
        if self.scope is Scope.NEVER:
            return f"{self.modifier} is never used on {codes}"
        return f"{self.modifier} is used only{where}"


def _ranges(text: str) -> tuple[tuple[str, str], ...]:
    spans = []
    for part in text.split():
        low, _, high = part.partition("-")
        spans.append((low, high or low))
    return tuple(spans)


@cache
def cpt_modifiers() -> frozenset[str]:
    """CPT (Level I) modifiers, two characters; their descriptors are the AMA's, not shipped."""
    return frozenset(row["modifier"] for row in _rows("cpt_modifiers.csv"))


@cache
def modifier_scopes() -> dict[str, ModifierScope]:
    return {
        row["modifier"]: ModifierScope(
            modifier=row["modifier"],
            scope=Scope(row["scope"]),
            ranges=_ranges(row["codes"]),
            setting=None if row["setting"] == "any" else ClaimKind(row["setting"]),
            source=row["source"],
        )
        for row in _rows("modifier_scope.csv")
    }


@cache
def us_state_codes() -> frozenset[str]:
    """USPS codes of the states, DC, territories, freely associated states and military post offices."""
    return frozenset(row["code"] for row in _rows("us_state_codes.csv"))
