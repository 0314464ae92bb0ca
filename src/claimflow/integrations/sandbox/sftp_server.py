"""An SFTP mailbox server on asyncssh: a folder per user with an upload and a download folder.

It is the sandbox's clearinghouse mailbox (`sftp.py` beside this file) and the real server the
transport tests run against. The server calls back when a file is complete in the upload folder (it
was renamed there), before the download folder is listed (to fill it), and when a file leaves the
download folder (collected: deleted or moved away). It can play the faults a real mailbox has:
a quota that makes writes fail (a full folder) and connections dropped mid-transfer.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

PARTIAL_SUFFIXES = (".part", ".tmp", ".filepart")

Upload = Callable[[str, Path], Awaitable[None]]
"""(user, the completed file): a file arrived in the upload folder."""
Listing = Callable[[str, Path], Awaitable[None]]
"""(user, the download folder): about to be listed."""
Collected = Callable[[str, str], Awaitable[None]]
"""(user, file name): a file left the download folder."""


async def _nothing(user: str, where: object) -> None:
    return None


@dataclass
class MailboxHooks:
    on_upload: Upload = _nothing
    before_listing: Listing = _nothing
    on_collected: Collected = _nothing


@dataclass
class Faults:
    """What the mailbox does wrong, on purpose (tests)."""

    quota_bytes: int | None = None
    """writes that would take a user's folder above this fail (SSH_FX_FAILURE, "mailbox full")"""
    drop_after_bytes: int | None = None
    """the connection is dropped once a write reaches this offset (then the fault clears)"""


@dataclass
class MailboxServer:
    root: Path
    host_key: Path
    passwords: dict[str, str] = field(default_factory=dict)
    authorized_keys: Path | None = None
    upload_dir: str = "upload"
    download_dir: str = "download"
    hooks: MailboxHooks = field(default_factory=MailboxHooks)
    faults: Faults = field(default_factory=Faults)
    _acceptor: asyncssh.SSHAcceptor | None = None
    _connections: set[asyncssh.SSHServerConnection] = field(default_factory=set)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; the port bound (0 picks a free one)."""
        self._acceptor = await asyncssh.create_server(
            lambda: _Authenticator(self),
            host,
            port,
            server_host_keys=[str(self.host_key)],
            authorized_client_keys=str(self.authorized_keys) if self.authorized_keys else None,
            sftp_factory=lambda channel: _MailboxSFTP(channel, self),
            allow_scp=False,
        )
        bound: int = self._acceptor.get_port()
        return bound

    def folder(self, user: str) -> Path:
        home = self.root / user
        for name in (self.upload_dir, self.download_dir):
            (home / name).mkdir(parents=True, exist_ok=True)
        return home

    def drop_connections(self) -> None:
        """Cut every open session, as a network failure would."""
        for connection in list(self._connections):
            connection.abort()

    async def close(self) -> None:
        self.drop_connections()
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None


class _Authenticator(asyncssh.SSHServer):
    def __init__(self, server: MailboxServer) -> None:
        self._server = server
        self._connection: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._connection = conn
        self._server._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connection is not None:
            self._server._connections.discard(self._connection)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return bool(self._server.passwords)

    def validate_password(self, username: str, password: str) -> bool:
        return self._server.passwords.get(username) == password


class _MailboxSFTP(asyncssh.SFTPServer):
    def __init__(self, channel: asyncssh.SSHServerChannel[bytes], server: MailboxServer) -> None:
        self._user = str(channel.get_extra_info("username"))
        self._home = server.folder(self._user)
        self._server = server
        super().__init__(channel, chroot=bytes(self._home))

    def _local(self, path: bytes) -> Path:
        return Path(os.fsdecode(self.map_path(path)))

    def _in(self, local: Path, folder: str) -> bool:
        return local.parent == self._home / folder

    def write(self, file_obj: object, offset: int, data: bytes) -> int | Awaitable[int]:
        faults = self._server.faults
        if faults.drop_after_bytes is not None and offset + len(data) >= faults.drop_after_bytes:
            faults.drop_after_bytes = None
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost("connection dropped (injected fault)")
        if faults.quota_bytes is not None and _used(self._home) + len(data) > faults.quota_bytes:
            raise asyncssh.SFTPFailure(f"mailbox full: its quota of {faults.quota_bytes} bytes is used")
        return super().write(file_obj, offset, data)

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        local = self._local(path)
        if local == self._home / self._server.download_dir:
            await self._server.hooks.before_listing(self._user, local)
        async for name in super().scandir(path):
            yield name

    async def remove(self, path: bytes) -> None:
        local = self._local(path)
        super().remove(path)
        if self._in(local, self._server.download_dir):
            await self._server.hooks.on_collected(self._user, local.name)

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().rename(oldpath, newpath)
        await self._moved(self._local(oldpath), self._local(newpath))

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().posix_rename(oldpath, newpath)
        await self._moved(self._local(oldpath), self._local(newpath))

    async def _moved(self, old: Path, new: Path) -> None:
        server = self._server
        if self._in(old, server.download_dir) and not self._in(new, server.download_dir):
            await server.hooks.on_collected(self._user, old.name)
        if self._in(new, server.upload_dir) and not new.name.endswith(PARTIAL_SUFFIXES):
            await server.hooks.on_upload(self._user, new)


def _used(home: Path) -> int:
    total = 0
    for folder, _, names in os.walk(home):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.path.getsize(posixpath.join(folder, name))
    return total


def generate_key(path: Path) -> asyncssh.SSHKey:
    """An ed25519 key at `path` (and its public half at `path.pub`), made once and kept."""
    if path.exists():
        return asyncssh.read_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    key.write_public_key(str(path) + ".pub")
    path.chmod(0o600)
    return key


def known_hosts_line(host: str, port: int, host_key: asyncssh.SSHKey) -> str:
    """The known_hosts entry that pins `host_key` for host:port."""
    where = host if port == 22 else f"[{host}]:{port}"
    public = host_key.export_public_key().decode().strip()
    return f"{where} {public}\n"
