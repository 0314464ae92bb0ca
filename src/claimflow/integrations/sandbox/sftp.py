"""The sandbox as an SFTP mailbox: the same payers and adjudication as over HTTP, in batch files.

    <dir>/mailbox/claimflow/upload/    our 837s arrive here (complete once renamed from *.part)
    <dir>/mailbox/claimflow/download/  999, 277CA, 835, TA1 and appeal decisions wait here
    <dir>/mailbox/claimflow/archive/   where the client moves what it collected

An 837 that arrives is taken at once (as `POST /claims` takes it, keyed by its sender and ISA13,
so an interchange uploaded again is recognised: a TA1 with note 025 answers it, and no claim is
taken twice) and leaves the upload folder. The download folder is filled from the sandbox's inbox
whenever it is listed; a file that leaves it (deleted, or moved to the archive) is acknowledged.
Real-time inquiries and appeals stay on the sandbox's HTTP API.

`prepare(dir, ...)` makes the keys once and writes the client's side, `client-profile.toml` with
its key and the known_hosts that pins the sandbox's host key: point CLEARINGHOUSE_PROFILE at it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import structlog

from claimflow.claims.x12.errors import X12Error
from claimflow.claims.x12.segments import decode, transaction_sets
from claimflow.claims.x12.ta1 import DUPLICATE_INTERCHANGE, interchange_identity
from claimflow.integrations.sandbox.engine import Sandbox, SandboxRequestError
from claimflow.integrations.sandbox.sftp_server import (
    MailboxHooks,
    MailboxServer,
    generate_key,
    known_hosts_line,
)

USER = "claimflow"
INVALID_CONTENT = "024"
EXTENSIONS = {"appeal_decision": "json"}
log = structlog.get_logger("claimflow.sandbox.sftp")


@dataclass(frozen=True)
class MailboxFiles:
    """Where the sandbox keeps its mailbox, its keys and the client's profile."""

    root: Path

    @property
    def mailbox(self) -> Path:
        return self.root / "mailbox"

    @property
    def host_key(self) -> Path:
        return self.root / "host_key"

    @property
    def client_key(self) -> Path:
        return self.root / "client_key"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def profile(self) -> Path:
        return self.root / "client-profile.toml"


def prepare(root: Path, host: str, port: int, realtime_url: str) -> MailboxFiles:
    """Keys (made once, kept across restarts) and the client's profile for a mailbox at host:port."""
    files = MailboxFiles(root)
    host_key = generate_key(files.host_key)
    client_key = generate_key(files.client_key)
    files.authorized_keys.write_text(client_key.export_public_key().decode())
    files.known_hosts.write_text(known_hosts_line(host, port, host_key))
    files.profile.write_text(
        f"""# The sandbox's SFTP mailbox, as a clearinghouse profile (written by `claimflow sandbox`).
name = "sandbox"

[sftp]
host = "{host}"
port = {port}
username = "{USER}"
private_key = "client_key"
known_hosts = "known_hosts"
upload_dir = "upload"
upload_name = "{{sender}}_{{control_number}}.{{set}}"
download_dir = "download"
settle_seconds = 0
after_pickup = "archive"
archive_dir = "archive"
parked_dir = "parked"

[realtime]
url = "{realtime_url}"
"""
    )
    return files


class SandboxMailbox:
    """The hooks that make a `MailboxServer` the sandbox's clearinghouse mailbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self.hooks = MailboxHooks(
            on_upload=self._uploaded, before_listing=self._fill, on_collected=self._collected
        )

    async def _uploaded(self, user: str, path: Path) -> None:
        await asyncio.to_thread(self.take, path)

    def take(self, path: Path) -> None:
        """Take an uploaded interchange as the HTTP API takes one, then remove it (collected)."""
        sandbox = self._sandbox
        try:
            text = decode(path.read_bytes())
        except ValueError:
            text = ""
        identity = interchange_identity(text)
        if identity is None or _set_ids(text) != {"837"}:
            log.info("upload refused", file=path.name, reason="not an 837 interchange")
            if sandbox.acknowledge_interchange(text, "R", INVALID_CONTENT) is None:
                path.replace(path.with_name(path.name + ".rejected"))  # no ISA to answer: left for a person
                return
        else:
            key = f"sftp:{identity.sender_id}:{identity.control_number}"
            try:
                receipt = sandbox.submit(text, key)
            except SandboxRequestError as refused:
                log.info("upload refused", file=path.name, reason=str(refused))
                sandbox.acknowledge_interchange(text, "R", DUPLICATE_INTERCHANGE)
            else:
                if receipt["duplicate"]:
                    sandbox.acknowledge_interchange(text, "R", DUPLICATE_INTERCHANGE)
        path.unlink()

    async def _fill(self, user: str, folder: Path) -> None:
        await asyncio.to_thread(self.fill, folder)

    def fill(self, folder: Path) -> None:
        """Write every inbox file not yet in the download folder (atomically: temp name, rename)."""
        sandbox = self._sandbox
        sandbox.catch_up()
        now = sandbox.now().timestamp()
        present = set(os.listdir(folder))
        for entry in sandbox.store.inbox(now):
            name = f"{entry.id}.{entry.kind}.{EXTENSIONS.get(entry.kind, 'x12')}"
            if name in present:
                continue
            row = sandbox.store.file(entry.id, now)
            if row is None:
                continue
            temporary = folder / f"{name}.tmp"
            temporary.write_text(row["content"], encoding="utf-8")
            temporary.replace(folder / name)

    async def _collected(self, user: str, name: str) -> None:
        sandbox = self._sandbox
        file_id = name.split(".", 1)[0]
        await asyncio.to_thread(sandbox.store.acknowledge, file_id, sandbox.now().timestamp())


def _set_ids(text: str) -> set[str]:
    try:
        return {ts.id for ts in transaction_sets(text)}
    except X12Error:
        return set()


async def serve_mailbox(sandbox: Sandbox, files: MailboxFiles, host: str, port: int) -> MailboxServer:
    """Start the sandbox's mailbox on host:port (see `prepare`); close it with `close()`."""
    server = MailboxServer(
        root=files.mailbox,
        host_key=files.host_key,
        authorized_keys=files.authorized_keys,
        hooks=SandboxMailbox(sandbox).hooks,
    )
    server.folder(USER)
    await server.start(host, port)
    return server
