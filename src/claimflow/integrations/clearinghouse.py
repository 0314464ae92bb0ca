"""The clearinghouse client claimflow's activities use: X12 over HTTP, with retries that are safe.

Every call has a timeout. Inside an activity the client makes one attempt per call (the default):
Temporal's retry policy is the one retry layer, and a transient failure (connection error, timeout,
5xx, 408, 429) raises at once for it to retry. A caller outside Temporal may ask for `max_attempts`
more: those are retried with exponential backoff and jitter, a 429's Retry-After honoured.
Submissions and appeals carry an idempotency key, which makes retrying a POST safe: the
clearinghouse answers a repeated key with the first result instead of taking a second claim.

Errors are typed: `TransientClearinghouseError` means "try again later" (the attempts ran out),
`PermanentClearinghouseError` means "this will never work as sent" (a 4xx with the
clearinghouse's message, e.g. a file that is not X12 or an unknown inbox file).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

X12_MEDIA_TYPE = "application/edi-x12"


class ClearinghouseError(Exception):
    """A call to the clearinghouse failed; `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, *, operation: str, status: int | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status


class TransientClearinghouseError(ClearinghouseError):
    """The clearinghouse is unreachable, overloaded or failing: the same call may work later."""


class PermanentClearinghouseError(ClearinghouseError):
    """The clearinghouse refused the request itself: retrying it unchanged will never work."""


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SubmissionReceipt(_Answer):
    submission_id: str
    claims: int
    accepted: bool
    """The 999 accepted the file (its claims go on to the payers)."""
    acknowledgement_file_id: str | None = None
    received_at: datetime
    duplicate: bool = False
    """The idempotency key was seen before: this is the first submission's receipt, no new claim."""


class InboxFile(_Answer):
    id: str
    kind: str
    """999, 277CA, 835 or appeal_decision."""
    created_at: datetime
    media_type: str
    size: int


class AppealReceipt(_Answer):
    appeal_id: str
    payer_claim_number: str
    decision_due: datetime
    duplicate: bool = False


Sleep = Callable[[float], Awaitable[None]]


class ClearinghouseClient:
    """Async client; use as `async with ClearinghouseClient(url) as client:` or call `aclose()`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 1,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def __aenter__(self) -> ClearinghouseClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check_eligibility(self, x12_270: str) -> str:
        """Send a 270, return the 271."""
        return (await self._x12("POST", "/eligibility", x12_270, "eligibility inquiry")).text

    async def claim_status(self, x12_276: str) -> str:
        """Send a 276, return the 277."""
        return (await self._x12("POST", "/claim-status", x12_276, "claim status inquiry")).text

    async def submit_claims(self, x12_837: str, idempotency_key: str) -> SubmissionReceipt:
        """Send an 837 batch; a repeated key returns the first receipt (duplicate=True)."""
        if not idempotency_key.strip():
            raise ValueError("submit_claims needs an idempotency key, so a retry never sends a claim twice")
        response = await self._x12(
            "POST", "/claims", x12_837, "claim submission", headers={"Idempotency-Key": idempotency_key}
        )
        return SubmissionReceipt.model_validate(response.json())

    async def list_inbox(self) -> list[InboxFile]:
        """Files waiting for us (999, 277CA, 835, appeal decisions), oldest first."""
        response = await self._call("GET", "/inbox", "inbox listing")
        return [InboxFile.model_validate(entry) for entry in response.json()["files"]]

    async def fetch(self, file_id: str) -> str:
        return (await self._call("GET", f"/inbox/{file_id}", f"fetch of inbox file {file_id}")).text

    async def acknowledge(self, file_id: str) -> None:
        """Take a file out of the inbox; acknowledging it again is harmless."""
        await self._call("POST", f"/inbox/{file_id}/ack", f"acknowledgement of inbox file {file_id}")

    async def send_appeal(
        self,
        letter: str,
        *,
        idempotency_key: str,
        payer_claim_number: str | None = None,
        patient_control_number: str | None = None,
    ) -> AppealReceipt:
        """Send an appeal letter for a claim named by the payer's claim number (or our control
        number); the decision arrives later in the inbox."""
        if not (payer_claim_number or patient_control_number):
            raise ValueError("an appeal names its claim: give payer_claim_number or patient_control_number")
        body = {
            "letter": letter,
            "payer_claim_number": payer_claim_number,
            "patient_control_number": patient_control_number,
        }
        response = await self._call(
            "POST", "/appeals", "appeal", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        return AppealReceipt.model_validate(response.json())

    async def _x12(
        self, method: str, path: str, text: str, operation: str, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return await self._call(
            method,
            path,
            operation,
            content=text.encode("utf-8"),
            headers={"Content-Type": X12_MEDIA_TYPE, **(headers or {})},
        )

    async def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        last_problem = ""
        for attempt in range(1, self._max_attempts + 1):
            wait = self._delay(attempt)
            try:
                response = await self._http.request(method, path, content=content, json=json, headers=headers)
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}: {exc or 'no detail'}"
            else:
                if response.is_success:
                    return response
                message = _message(response)
                if not _transient(response.status_code):
                    raise PermanentClearinghouseError(
                        f"{operation} refused by the clearinghouse ({response.status_code}): {message}",
                        operation=operation,
                        status=response.status_code,
                    )
                last_problem = f"HTTP {response.status_code}: {message}"
                retry_after = _retry_after(response)
                if retry_after is not None:
                    wait = max(wait, min(retry_after, self._max_backoff))
            if attempt < self._max_attempts:
                await self._sleep(wait)
        raise TransientClearinghouseError(
            f"{operation} failed after {self._max_attempts} attempts ({last_problem}); "
            "the clearinghouse may be down: try again later",
            operation=operation,
        )

    def _delay(self, attempt: int) -> float:
        return backoff_delay(attempt, self._backoff, self._max_backoff, self._rng)


def backoff_delay(attempt: int, backoff: float, max_backoff: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    step = min(max_backoff, backoff * 2.0 ** (attempt - 1))
    return step / 2 + rng.uniform(0, step / 2)


def _transient(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return str(body)[:300]


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(moment.timestamp()) - time.time())
