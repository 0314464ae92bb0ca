"""Run one command's work against Temporal, turning what can go wrong into a message and exit code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.service import RPCError, RPCStatusCode

from claimflow.console.claims_client import ClaimsClient, NotFound, Refused
from claimflow.console.output import ExitCode, fail
from claimflow.integrations.crypto import KeyConfigError
from claimflow.integrations.settings import Settings, SettingsError
from claimflow.integrations.temporal import connect

Result = TypeVar("Result")


class TemporalUnreachable(ConnectionError):
    """The Temporal frontend did not answer."""


def with_claims(work: Callable[[ClaimsClient], Awaitable[Result]]) -> Result:
    """Connect as the environment says (TEMPORAL_ADDRESS, ...), run `work`, map failures to exits."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        fail(str(error), ExitCode.USAGE)

    async def main() -> Result:
        try:
            client = await connect(settings)
        except RuntimeError as error:
            raise TemporalUnreachable(
                f"cannot reach Temporal at {settings.temporal_address} (namespace "
                f"{settings.temporal_namespace}, {settings.temporal_client.describe()}): {error}. Start it "
                "with `claimflow up`, or set TEMPORAL_ADDRESS to your cluster's frontend; a secured cluster "
                "also needs TEMPORAL_TLS_* (mTLS) or TEMPORAL_API_KEY, or TEMPORAL_PROFILE (README, "
                "Connecting to a secured Temporal)"
            ) from None
        return await work(ClaimsClient(client, settings.temporal_task_queue))

    try:
        return asyncio.run(main())
    except KeyConfigError as error:
        fail(str(error), ExitCode.USAGE)
    except TemporalUnreachable as error:
        fail(str(error), ExitCode.UNREACHABLE)
    except (NotFound, Refused) as error:
        fail(str(error), ExitCode.NO)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND and "namespace" in error.message.lower():
            fail(
                f"{error.message} at {settings.temporal_address}: set TEMPORAL_NAMESPACE to an existing "
                "namespace, or create it (README, Running in production)",
                ExitCode.USAGE,
            )
        if error.status is RPCStatusCode.INVALID_ARGUMENT:
            fail(
                f"Temporal refused the request: {error.message}. Are claimflow's search attributes "
                "registered (README, Running in production)?",
                ExitCode.USAGE,
            )
        fail(
            f"Temporal at {settings.temporal_address} failed the request "
            f"({error.status.name}): {error.message}",
            ExitCode.UNREACHABLE,
        )
