"""`claimflow scrub FILE`: what a payer would deny, found before submission."""

from __future__ import annotations


def scrub() -> None:
    """Scrub an encounter JSON or FHIR Bundle."""
    raise NotImplementedError("scrubber not built yet (issue 4)")
