"""Base of the models that are one variant of a discriminated union (task resolutions, payer events)."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from claimflow.claims.encounter import Model


class Variant(Model):
    """One case of a discriminated union, with exactly its own fields.

    Payloads recorded before the union existed (kept histories, running claims) carry every case's
    fields, empty where unused: such an empty field this case lacks is dropped on load; a field with
    a value this case lacks is still an error, so bad input is never silently lost."""

    @model_validator(mode="before")
    @classmethod
    def _without_other_variants_empties(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                key: value
                for key, value in data.items()
                if key in cls.model_fields or value not in (None, [])
            }
        return data
