"""The HTTP transport: the clearinghouse client (`integrations/clearinghouse.py`) behind `Transport`."""

from __future__ import annotations

from claimflow.integrations.clearinghouse import ClearinghouseClient


class HttpTransport(ClearinghouseClient):
    """Everything over the clearinghouse's HTTP API. Parking a file acknowledges it: the API keeps
    no second folder, and the inbox activity keeps a copy of every parked file itself."""

    @property
    def mailbox(self) -> str:
        return f"http:{self._http.base_url}"

    async def park(self, file_id: str) -> None:
        await self.acknowledge(file_id)
