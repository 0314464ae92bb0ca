"""Interchange envelopes for what we send: our ids, the clearinghouse's, fresh control numbers."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

from claimflow.claims.x12.writer import Envelope


class EnvelopeFactory:
    """Allocates interchange control numbers: time-based, so they stay unique across worker restarts
    (a clearinghouse rejects a reused ISA13), with a counter for those allocated in the same tick."""

    def __init__(self, sender_id: str = "CLAIMFLOW", receiver_id: str = "CLEARINGHOUSE", usage: str = "P"):
        self._sender_id = sender_id
        self._receiver_id = receiver_id
        self._usage = usage
        self._counter = itertools.count()

    def next(self) -> Envelope:
        now = datetime.now(UTC)
        number = (int(time.time() * 10) * 10 + next(self._counter) % 10) % 999_999_999 + 1
        return Envelope(
            sender_id=self._sender_id,
            receiver_id=self._receiver_id,
            interchange_control_number=number,
            group_control_number=number,
            created=now,
            usage=self._usage,
        )
