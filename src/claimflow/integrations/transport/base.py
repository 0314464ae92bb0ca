"""What every clearinghouse transport offers the activities: the `Transport` protocol.

Two implementations: `http.HttpTransport` (the clearinghouse's, or the sandbox's, HTTP API) and
`sftp.SftpTransport` (the batch mailbox every real clearinghouse offers, with real-time inquiries
and appeals on the profile's HTTP API). Errors are the clearinghouse module's:
`TransientClearinghouseError` (try again later) and `PermanentClearinghouseError` (never as sent).
"""

from __future__ import annotations

from typing import Protocol

from claimflow.integrations.clearinghouse import (
    AppealReceipt,
    InboxFile,
    PermanentClearinghouseError,
    SubmissionReceipt,
)


class FileTooLarge(PermanentClearinghouseError):
    """An inbox file is above the profile's size limit: it is left where it is, never read."""


class Transport(Protocol):
    """X12 out to the clearinghouse and payer files back from it."""

    @property
    def mailbox(self) -> str:
        """A stable name for where inbox files come from; the ledger records pickups under it."""
        ...

    async def check_eligibility(self, x12_270: str) -> str:
        """Send a 270, return the 271 (real time)."""
        ...

    async def claim_status(self, x12_276: str) -> str:
        """Send a 276, return the 277 (real time)."""
        ...

    async def submit_claims(self, x12_837: str, idempotency_key: str) -> SubmissionReceipt:
        """Send an 837 interchange; sending the same interchange again never makes a second claim."""
        ...

    async def list_inbox(self) -> list[InboxFile]:
        """Files waiting for us, oldest first (a file still being written is not listed yet)."""
        ...

    async def fetch(self, file_id: str) -> str:
        """A file's text; `FileTooLarge` when it is above the size limit."""
        ...

    async def acknowledge(self, file_id: str) -> None:
        """The file was routed: take it out of the inbox (archive or delete); again is harmless."""
        ...

    async def park(self, file_id: str) -> None:
        """The file could not be routed: keep it where a person can find it, stop offering it."""
        ...

    async def send_appeal(
        self,
        letter: str,
        *,
        idempotency_key: str,
        payer_claim_number: str | None = None,
        patient_control_number: str | None = None,
    ) -> AppealReceipt: ...

    async def aclose(self) -> None: ...
