"""The payer's rules, for the workflow's timers and the scrubber."""

from __future__ import annotations

from temporalio import activity

from claimflow.activities import catalog
from claimflow.claims.encounter import Coverage
from claimflow.claims.payers import PayerDirectory, PayerProfile


class PayerActivities:
    def __init__(self, directory: PayerDirectory) -> None:
        self._directory = directory

    @activity.defn(name=catalog.PAYER_PROFILE.name)
    async def payer_profile(self, coverage: Coverage) -> PayerProfile:
        """The payer's profile, or the defaults for its kind of coverage (never an error)."""
        return self._directory.profile_for(coverage.payer_id, coverage.filing_indicator)
