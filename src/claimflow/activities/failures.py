"""The one retry rule, at the activity boundary.

Temporal is the only retry layer: an activity that fails is retried by its workflow's retry policy,
and nothing inside it retries (the clearinghouse client makes one attempt per call). What no retry
can mend, a business failure, must say so once, here: every exception of `BUSINESS_FAILURES` that
leaves an activity becomes an `ApplicationError(non_retryable=True)` whose type is the exception's
class name (`X12SyntaxError`, `PermanentClearinghouseError`, `UnknownClaimError`, ...), so the retry
policy needs no list of class names and a subclass can never slip through it. Everything else (a
connection refused, a timeout, a clearinghouse answering 503, a database locked) is transient and
retried.

The worker installs `OneRetryRule` as an interceptor, so every activity follows the rule without
each one catching and converting on its own.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from claimflow.claims.x12.errors import X12Error
from claimflow.integrations.clearinghouse import PermanentClearinghouseError
from claimflow.integrations.fhir.errors import IntakeError
from claimflow.integrations.ledger import UnknownClaimError
from claimflow.letters.appeal_packet import MissingEvidence
from claimflow.letters.render import LetterRenderError

BUSINESS_FAILURES: tuple[type[Exception], ...] = (
    X12Error,
    PermanentClearinghouseError,
    ValidationError,
    MissingEvidence,
    LetterRenderError,
    UnknownClaimError,
    IntakeError,
)
"""What never gets better by retrying: unreadable or invalid data, a refusal, missing evidence, a
claim the ledger does not know. Subclasses count (every X12Error, FileTooLarge, ...)."""


def business_failure(error: Exception) -> ApplicationError:
    """The non-retryable failure that reports `error`, typed by its class name. A validation error
    names its fields and problems only: pydantic's own text would echo the values (PHI)."""
    if isinstance(error, ValidationError):
        message = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors())
        message = f"{error.title} is not valid: {message}"
    elif isinstance(error, X12Error):
        message = error.describe()
    else:
        message = str(error)
    return ApplicationError(message, type=type(error).__name__, non_retryable=True)


class OneRetryRule(Interceptor):
    """Worker interceptor: business failures leave every activity non-retryable."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BusinessFailures(next)


class _BusinessFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except BUSINESS_FAILURES as error:
            raise business_failure(error) from None
