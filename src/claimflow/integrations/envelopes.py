"""Interchange envelopes for what we send: our ids, the clearinghouse's, and control numbers.

With the ledger's `InterchangeRegistry` (the worker's), every control number is the ledger's: unique
and increasing per sender id, across workers and restarts. A submission's number is reserved under
its key before the upload (`numbered`), so a retried upload re-sends the same interchange. Without a
registry (tools, tests) numbers are time-based, unique across restarts of one process.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

from claimflow.claims.x12.writer import Envelope
from claimflow.integrations.ledger.interchanges import InterchangeRegistry


class EnvelopeFactory:
    def __init__(
        self,
        sender_id: str = "CLAIMFLOW",
        receiver_id: str = "CLEARINGHOUSE",
        usage: str = "P",
        *,
        registry: InterchangeRegistry | None = None,
    ):
        self._sender_id = sender_id
        self._receiver_id = receiver_id
        self._usage = usage
        self._registry = registry
        self._counter = itertools.count()

    @property
    def sender_id(self) -> str:
        return self._sender_id

    def next(self) -> Envelope:
        """An envelope with a fresh control number (a real-time inquiry's)."""
        if self._registry is not None:
            number = self._registry.next_control_number(self._sender_id)
        else:
            number = (int(time.time() * 10) * 10 + next(self._counter) % 10) % 999_999_999 + 1
        return self.numbered(number, datetime.now(UTC))

    def reserve(self, key: str) -> int:
        """The control number kept under `key` (the same every time it is asked)."""
        if self._registry is None:
            raise RuntimeError("reserving a control number needs the ledger's InterchangeRegistry")
        return self._registry.reserve_control_number(self._sender_id, key)

    def numbered(self, number: int, created: datetime) -> Envelope:
        """The envelope of interchange `number` made at `created`: the same arguments, the same ISA."""
        return Envelope(
            sender_id=self._sender_id,
            receiver_id=self._receiver_id,
            interchange_control_number=number,
            group_control_number=number,
            created=created,
            usage=self._usage,
        )
