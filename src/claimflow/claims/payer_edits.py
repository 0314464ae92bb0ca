"""Edits a payer adds to the scrubber's, written in its profile (claims/data/payers.toml) instead of code.

[[payers.edits]]
id = "smphmo-pt-needs-gp"              # the finding's rule id
kind = "modifier_required"             # see EditKind
codes = ["97110-97799"]                # procedure codes or ranges the edit applies to (all when empty)
modifiers = ["GP", "GO", "GN"]
message = "Summit Health HMO pays therapy only with its discipline modifier"
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from claimflow.claims.encounter import Model


class EditKind(StrEnum):
    AUTHORIZATION_REQUIRED = "authorization_required"
    """a line with one of `codes` needs a prior authorization number on the claim"""
    MODIFIER_REJECTED = "modifier_rejected"
    """the payer rejects a line carrying one of `modifiers` (on `codes`, or on any code)"""
    MODIFIER_REQUIRED = "modifier_required"
    """a line with one of `codes` must carry at least one of `modifiers`"""
    UNITS_LIMIT = "units_limit"
    """a line with one of `codes` may bill at most `units`"""
    CODE_NOT_COVERED = "code_not_covered"
    """the payer does not pay `codes` at all"""


class PayerEdit(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,60}$", description="the rule id its findings carry")
    kind: EditKind
    codes: tuple[str, ...] = Field(default=(), description="procedure codes or LOW-HIGH ranges; empty: all")
    modifiers: tuple[str, ...] = ()
    units: Decimal | None = Field(default=None, gt=0)
    message: str = Field(min_length=1, description="why the payer applies it, shown with the finding")

    @field_validator("codes")
    @classmethod
    def _codes_are_codes_or_ranges(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        for code in codes:
            low, _, high = code.partition("-")
            if len(low) != 5 or (high and len(high) != 5):
                raise ValueError(f"{code!r} is not a five-character procedure code or a LOW-HIGH range")
        return codes

    def applies_to(self, code: str) -> bool:
        if not self.codes:
            return True
        for entry in self.codes:
            low, _, high = entry.partition("-")
            if low <= code <= (high or low):
                return True
        return False

    @model_validator(mode="after")
    def _has_what_its_kind_needs(self) -> PayerEdit:
        needs = {
            EditKind.AUTHORIZATION_REQUIRED: ("codes",),
            EditKind.MODIFIER_REJECTED: ("modifiers",),
            EditKind.MODIFIER_REQUIRED: ("codes", "modifiers"),
            EditKind.UNITS_LIMIT: ("codes", "units"),
            EditKind.CODE_NOT_COVERED: ("codes",),
        }[self.kind]
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ValueError(f"edit {self.id} ({self.kind.value}) needs {', '.join(missing)}")
        return self
