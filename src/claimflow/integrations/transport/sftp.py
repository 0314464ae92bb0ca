"""The SFTP mailbox transport (asyncssh): batch X12 to and from a clearinghouse's mailbox.

* The host key is pinned: it must be in the profile's known_hosts. An unknown or changed key
  refuses the connection (`PermanentClearinghouseError`); claimflow never learns a key itself.
* Uploads are atomic: the interchange is written under `<name>.part`, then renamed to its name, so
  the clearinghouse never collects half a file. The name comes from the interchange (sender and
  ISA13): a retried upload of the same interchange has the same name, and one the clearinghouse
  has not collected yet is not written twice.
* Pickup lists the download folder, leaving out temporary names (`partial_suffixes`), hidden
  files and files changed within `settle_seconds` (still being written). After a file is routed it
  is archived, deleted or kept, as the profile says; the inbox activity records every name taken
  in the ledger, so a kept file is never read twice.
* A dropped connection, a timeout, a failed write (a full folder) raise `TransientClearinghouseError`
  after closing the connection, so the next attempt starts on a fresh one. Inside an activity the
  transport makes one attempt per call (the default): Temporal's retry policy is the one retry layer
  (activities/failures.py). A caller outside Temporal may ask for `max_attempts` more, retried here
  with backoff. A refused login, a pinned-key mismatch, a missing folder or file raise
  `PermanentClearinghouseError`.
* 270/276 inquiries and appeals need an answer at once: they go to the profile's `[realtime]` HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import posixpath
import random
import stat
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import asyncssh
import structlog

from claimflow.claims.x12.segments import decode
from claimflow.claims.x12.ta1 import interchange_identity
from claimflow.integrations.clearinghouse import (
    X12_MEDIA_TYPE,
    AppealReceipt,
    InboxFile,
    PermanentClearinghouseError,
    Sleep,
    SubmissionReceipt,
    TransientClearinghouseError,
    backoff_delay,
)
from claimflow.integrations.transport.base import FileTooLarge, Transport
from claimflow.integrations.transport.profile import ClearinghouseProfile

Result = TypeVar("Result")
PART_SUFFIX = ".part"
log = structlog.get_logger("claimflow.transport.sftp")


class SftpTransport:
    """One clearinghouse's SFTP mailbox; use as `async with` or call `aclose()`."""

    def __init__(
        self,
        profile: ClearinghouseProfile,
        *,
        realtime: Transport | None = None,
        max_attempts: int = 1,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self._profile = profile
        self._box = profile.sftp
        self._password = profile.sftp.password()
        self._realtime = realtime
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()
        self._connection: asyncssh.SSHClientConnection | None = None
        self._client: asyncssh.SFTPClient | None = None

    @property
    def mailbox(self) -> str:
        box = self._box
        return f"sftp:{box.username}@{box.host}:{box.port}/{box.download_dir.strip('/')}"

    async def __aenter__(self) -> SftpTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._disconnect()
        if self._realtime is not None:
            await self._realtime.aclose()

    # -- real time, over the profile's HTTP API --------------------------------------------------

    def _api(self, what: str) -> Transport:
        if self._realtime is None:
            raise PermanentClearinghouseError(
                f"{what} needs an answer at once, and clearinghouse profile {self._profile.name!r} names "
                "no real-time API: add [realtime] url = ... to the profile",
                operation=what,
            )
        return self._realtime

    async def check_eligibility(self, x12_270: str) -> str:
        return await self._api("eligibility inquiry").check_eligibility(x12_270)

    async def claim_status(self, x12_276: str) -> str:
        return await self._api("claim status inquiry").claim_status(x12_276)

    async def send_appeal(
        self,
        letter: str,
        *,
        idempotency_key: str,
        payer_claim_number: str | None = None,
        patient_control_number: str | None = None,
    ) -> AppealReceipt:
        return await self._api("appeal").send_appeal(
            letter,
            idempotency_key=idempotency_key,
            payer_claim_number=payer_claim_number,
            patient_control_number=patient_control_number,
        )

    # -- batch, through the mailbox ---------------------------------------------------------------

    async def submit_claims(self, x12_837: str, idempotency_key: str) -> SubmissionReceipt:
        """Upload the interchange. The receipt names the file; the 999 arrives in the download
        folder (`accepted` is False: the mailbox answers nothing at once). `duplicate` is True
        when the same interchange was still waiting there from an earlier attempt."""
        name = self.upload_name(x12_837, "837")
        data = x12_837.encode("utf-8")
        if len(data) > self._box.max_upload_bytes:
            raise PermanentClearinghouseError(
                f"interchange {name} is {len(data):,} bytes, above the profile's max_upload_bytes "
                f"({self._box.max_upload_bytes:,}): send fewer claims per interchange",
                operation="claim submission",
            )
        duplicate = await self._retrying(f"upload of {name}", lambda sftp: self._upload(sftp, name, data))
        log.info("interchange uploaded", file=name, duplicate=duplicate, key=idempotency_key)
        return SubmissionReceipt(
            submission_id=name, claims=0, accepted=False, received_at=datetime.now(UTC), duplicate=duplicate
        )

    def upload_name(self, interchange: str, set_id: str) -> str:
        """The file name an interchange is uploaded under (the same for every retry)."""
        identity = interchange_identity(interchange)
        if identity is None:
            raise PermanentClearinghouseError(
                "the upload is not an X12 interchange (no readable ISA): nothing was sent",
                operation="upload",
            )
        isa_date = interchange.lstrip("\ufeff \r\n")[70:76]  # ISA09, fixed width
        name = self._box.upload_name.format(
            sender=identity.sender_id, control_number=identity.control_number, set=set_id, isa_date=isa_date
        )
        if "/" in name or name.startswith("."):
            raise PermanentClearinghouseError(
                f"upload_name made {name!r}, which is not a plain file name: fix the profile's upload_name",
                operation="upload",
            )
        return name

    async def _upload(self, sftp: asyncssh.SFTPClient, name: str, data: bytes) -> bool:
        final = posixpath.join(self._box.upload_dir, name)
        if await sftp.exists(final):
            return True
        temporary = final + PART_SUFFIX
        try:
            async with sftp.open(temporary, "wb") as remote:
                await remote.write(data)
            await sftp.posix_rename(temporary, final)
        except asyncssh.SFTPError:
            await _quietly(sftp.remove(temporary))
            raise
        return False

    async def list_inbox(self) -> list[InboxFile]:
        return await self._retrying("inbox listing", self._list)

    async def _list(self, sftp: asyncssh.SFTPClient) -> list[InboxFile]:
        box = self._box
        settled_before = self._clock() - box.settle_seconds
        found: list[InboxFile] = []
        async for entry in sftp.scandir(box.download_dir):
            name = str(entry.filename)
            attrs = entry.attrs
            if (
                name.startswith(".")
                or attrs.permissions is None
                or not stat.S_ISREG(attrs.permissions)
                or not fnmatch.fnmatch(name, box.download_pattern)
                or name.endswith(box.partial_suffixes)
                or (attrs.mtime or 0) > settled_before
            ):
                continue
            found.append(
                InboxFile(
                    id=name,
                    kind="mailbox",
                    created_at=datetime.fromtimestamp(attrs.mtime or 0, UTC),
                    media_type=X12_MEDIA_TYPE,
                    size=attrs.size or 0,
                )
            )
        return sorted(found, key=lambda file: (file.created_at, file.id))

    async def fetch(self, file_id: str) -> str:
        return await self._retrying(f"fetch of {file_id}", lambda sftp: self._read(sftp, file_id))

    async def _read(self, sftp: asyncssh.SFTPClient, name: str) -> str:
        path = self._download_path(name)
        size = (await sftp.stat(path)).size or 0
        if size > self._box.max_file_bytes:
            raise FileTooLarge(
                f"inbox file {name} is {size:,} bytes, above the profile's max_file_bytes "
                f"({self._box.max_file_bytes:,}); it was left in the mailbox",
                operation=f"fetch of {name}",
            )
        async with sftp.open(path, "rb") as remote:
            data: bytes = await remote.read()
        return decode(data)

    async def acknowledge(self, file_id: str) -> None:
        box = self._box
        if box.after_pickup == "keep":
            return
        if box.after_pickup == "delete":
            await self._retrying(f"deletion of {file_id}", lambda sftp: self._remove(sftp, file_id))
            return
        assert box.archive_dir is not None  # the profile requires it for "archive"
        archive = box.archive_dir
        await self._retrying(f"archiving of {file_id}", lambda sftp: self._move(sftp, file_id, archive))

    async def park(self, file_id: str) -> None:
        parked = self._box.parked_dir
        if parked is not None:
            await self._retrying(f"parking of {file_id}", lambda sftp: self._move(sftp, file_id, parked))

    async def _remove(self, sftp: asyncssh.SFTPClient, name: str) -> None:
        with contextlib.suppress(asyncssh.SFTPNoSuchFile):  # removed by an earlier attempt
            await sftp.remove(self._download_path(name))

    async def _move(self, sftp: asyncssh.SFTPClient, name: str, folder: str) -> None:
        await sftp.makedirs(folder, exist_ok=True)
        try:
            await sftp.posix_rename(self._download_path(name), posixpath.join(folder, name))
        except asyncssh.SFTPNoSuchFile:
            if not await sftp.exists(posixpath.join(folder, name)):
                raise  # neither here nor there: say so
            # moved by an earlier attempt

    def _download_path(self, name: str) -> str:
        if "/" in name or name in ("", ".", ".."):
            raise PermanentClearinghouseError(
                f"{name!r} is not a file name of the download folder", operation="inbox"
            )
        return posixpath.join(self._box.download_dir, name)

    # -- connection and retries -------------------------------------------------------------------

    async def _retrying(
        self, operation: str, work: Callable[[asyncssh.SFTPClient], Awaitable[Result]]
    ) -> Result:
        last_problem = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await work(await self._sftp(operation))
            except PermanentClearinghouseError:
                raise
            except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPPermissionDenied) as refused:
                raise PermanentClearinghouseError(
                    f"{operation} refused by the mailbox: {refused.reason or type(refused).__name__} "
                    f"(check the folders in clearinghouse profile {self._profile.name!r})",
                    operation=operation,
                ) from None
            except asyncssh.SFTPFailure as failure:
                # A v3 server says no more than "failure": a full folder or a quota, most often.
                last_problem = f"the mailbox refused the write or read ({failure.reason}); it may be full"
            except (asyncssh.Error, OSError, TimeoutError) as lost:
                last_problem = f"{type(lost).__name__}: {getattr(lost, 'reason', '') or lost or 'no detail'}"
                await self._disconnect()
            if attempt < self._max_attempts:
                log.info("sftp retry", operation=operation, attempt=attempt, problem=last_problem)
                await self._sleep(backoff_delay(attempt, self._backoff, self._max_backoff, self._rng))
        raise TransientClearinghouseError(
            f"{operation} failed ({last_problem}"
            + (f", {self._max_attempts} attempts" if self._max_attempts > 1 else "")
            + "); "
            "the mailbox may be down or full: try again later",
            operation=operation,
        )

    async def _sftp(self, operation: str) -> asyncssh.SFTPClient:
        async with self._lock:
            if self._client is None:
                self._connection, self._client = await self._connect(operation)
            return self._client

    async def _connect(self, operation: str) -> tuple[asyncssh.SSHClientConnection, asyncssh.SFTPClient]:
        box = self._box
        where = f"{box.host}:{box.port}"
        try:
            connection = await asyncssh.connect(
                box.host,
                box.port,
                username=box.username,
                password=self._password,
                client_keys=[str(box.private_key)] if box.private_key else [],
                known_hosts=str(box.known_hosts),
                agent_path=None,
                connect_timeout=box.connect_timeout,
                keepalive_interval=30,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise PermanentClearinghouseError(
                f"the SFTP server at {where} offered a host key that is not pinned in {box.known_hosts} "
                "(an unknown or a changed key): claimflow refuses to connect. Get the key's fingerprint "
                "from the clearinghouse by another channel, then put the key in that known_hosts file",
                operation=operation,
            ) from None
        except asyncssh.PermissionDenied:
            raise PermanentClearinghouseError(
                f"the SFTP server at {where} refused the login of {box.username!r}: check the user name, "
                "the key (sftp.private_key) or the password (sftp.password_file) with the clearinghouse",
                operation=operation,
            ) from None
        try:
            return connection, await connection.start_sftp_client()
        except BaseException:
            connection.close()
            raise

    async def _disconnect(self) -> None:
        async with self._lock:
            connection, self._connection, self._client = self._connection, None, None
        if connection is not None:
            connection.close()
            await _quietly(connection.wait_closed())


async def _quietly(step: Awaitable[object]) -> None:
    """Best-effort clean-up: its failure must not hide the error being handled."""
    with contextlib.suppress(asyncssh.Error, OSError):
        await step
