"""A real SFTP server on loopback (asyncssh's, as the sandbox serves it) and a profile pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from claimflow.integrations.sandbox.sftp_server import (
    MailboxHooks,
    MailboxServer,
    generate_key,
    known_hosts_line,
)
from claimflow.integrations.transport import ClearinghouseProfile, SftpTransport, load_profile

USER = "practice1"
PASSWORD = "correct horse"


@dataclass
class Mailbox:
    server: MailboxServer
    port: int
    keys: Path
    uploads: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.server.folder(USER)

    @property
    def upload(self) -> Path:
        return self.home / "upload"

    @property
    def download(self) -> Path:
        return self.home / "download"

    def profile(self, **sftp: object) -> ClearinghouseProfile:
        """A profile for this server (key login unless told otherwise), fields overridden by `sftp`."""
        fields: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": USER,
            "private_key": str(self.keys / "client_key"),
            "known_hosts": str(self.keys / "known_hosts"),
            "upload_dir": "upload",
            "download_dir": "download",
            "archive_dir": "archive",
            "settle_seconds": 0,
            **sftp,
        }
        lines = [f"{name} = {_toml(value)}" for name, value in fields.items() if value is not None]
        path = self.keys / "profile.toml"
        path.write_text('name = "test clearinghouse"\n[sftp]\n' + "\n".join(lines) + "\n")
        return load_profile(path)

    def transport(self, **sftp: object) -> SftpTransport:
        return SftpTransport(self.profile(**sftp), max_attempts=4, backoff=0.01, max_backoff=0.05)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value) + '"'


@pytest.fixture
async def mailbox(tmp_path: Path) -> AsyncIterator[Mailbox]:
    keys = tmp_path / "keys"
    host_key = generate_key(keys / "host_key")
    client_key = generate_key(keys / "client_key")
    (keys / "authorized_keys").write_text(client_key.export_public_key().decode())
    (keys / "password").write_text(PASSWORD + "\n")
    uploads: list[tuple[str, bytes]] = []

    async def uploaded(user: str, path: Path) -> None:
        uploads.append((path.name, path.read_bytes()))

    server = MailboxServer(
        root=tmp_path / "mailboxes",
        host_key=keys / "host_key",
        passwords={USER: PASSWORD},
        authorized_keys=keys / "authorized_keys",
        hooks=MailboxHooks(on_upload=uploaded),
    )
    port = await server.start()
    (keys / "known_hosts").write_text(known_hosts_line("127.0.0.1", port, host_key))
    box = Mailbox(server, port, keys, uploads)
    box.home  # noqa: B018  (makes the folders)
    try:
        yield box
    finally:
        await server.close()
