"""The claim scrubber: catches before submission what a payer would deny.

result = scrub(encounter, as_of=date(2026, 3, 2), profile=directory.profile_for(payer_id, indicator))
result.findings   # Finding(rule, category, severity, message, fix, location, fixed)
result.encounter  # with the scrubber's certain fixes applied
"""

from claimflow.claims.scrub.engine import RULES, scrub
from claimflow.claims.scrub.findings import Category, Finding, ScrubResult, Severity

__all__ = ["RULES", "Category", "Finding", "ScrubResult", "Severity", "scrub"]
