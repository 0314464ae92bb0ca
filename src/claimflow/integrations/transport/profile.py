"""A clearinghouse profile: how to reach its SFTP mailbox and its real-time HTTP API (TOML).

    name = "acme-clearinghouse"

    [sftp]
    host = "sftp.acme-clearinghouse.example"
    port = 22
    username = "PRACTICE123"
    private_key = "keys/acme_ed25519"      # or password_file; paths are relative to this file
    known_hosts = "keys/known_hosts"       # required: the host key is pinned, never learnt
    upload_dir = "/inbound"                # where our 837s go
    upload_name = "{sender}_{control_number}.{set}"
    download_dir = "/outbound"             # where their 999, 277CA, 835 wait for us
    download_pattern = "*"
    partial_suffixes = [".tmp", ".part", ".filepart"]
    settle_seconds = 5                     # a file younger than this may still be being written
    after_pickup = "archive"               # archive | delete | keep (the ledger remembers names)
    archive_dir = "/outbound/archive"
    max_file_bytes = 50_000_000

    [realtime]                             # 270/271, 276/277 and appeals, when the profile says so
    url = "https://api.acme-clearinghouse.example"

Every path is checked when the profile is read, so a worker refuses to start on a profile it cannot use.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

UPLOAD_NAME_FIELDS = ("sender", "control_number", "set", "isa_date")


class ProfileError(ValueError):
    """A clearinghouse profile that cannot be used; the message names the file and the field."""


class SftpMailbox(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1)
    private_key: Path | None = None
    password_file: Path | None = Field(default=None, description="a file holding the password (a secret)")
    known_hosts: Path
    upload_dir: str = "inbound"
    upload_name: str = "{sender}_{control_number}.{set}"
    download_dir: str = "outbound"
    download_pattern: str = "*"
    partial_suffixes: tuple[str, ...] = (".tmp", ".part", ".filepart")
    settle_seconds: float = Field(default=5.0, ge=0)
    after_pickup: Literal["archive", "delete", "keep"] = "archive"
    archive_dir: str | None = None
    parked_dir: str | None = Field(default=None, description="where unroutable files go; None: left in place")
    max_file_bytes: int = Field(default=50_000_000, ge=1)
    max_upload_bytes: int = Field(default=50_000_000, ge=1)
    connect_timeout: float = Field(default=30.0, gt=0)

    @field_validator("upload_name")
    @classmethod
    def _known_fields(cls, pattern: str) -> str:
        try:
            pattern.format(**dict.fromkeys(UPLOAD_NAME_FIELDS, "x"))
        except (KeyError, IndexError, ValueError) as bad:
            raise ValueError(
                f"upload_name {pattern!r} uses an unknown field {bad}; use {', '.join(UPLOAD_NAME_FIELDS)}"
            ) from None
        if "{control_number}" not in pattern:
            raise ValueError("upload_name must contain {control_number}, so a retried upload keeps its name")
        return pattern

    @model_validator(mode="after")
    def _complete(self) -> SftpMailbox:
        if self.after_pickup == "archive" and not self.archive_dir:
            raise ValueError("after_pickup = 'archive' needs archive_dir")
        if self.private_key is None and self.password_file is None:
            raise ValueError("name how to log in: private_key, password_file, or both")
        return self

    def password(self) -> str | None:
        """The password from password_file (its first line), if the profile names one."""
        if self.password_file is None:
            return None
        lines = self.password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""


class Realtime(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(min_length=1, description="base URL of the clearinghouse's real-time HTTP API")


class ClearinghouseProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    sftp: SftpMailbox
    realtime: Realtime | None = None


def load_profile(path: Path) -> ClearinghouseProfile:
    """Read a profile; relative key paths are taken from the profile's folder."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read clearinghouse profile {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"clearinghouse profile {path} is not valid TOML: {exc}") from None
    try:
        profile = ClearinghouseProfile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ProfileError(f"clearinghouse profile {path}: {problems}") from None
    sftp = profile.sftp
    resolved = sftp.model_copy(
        update={
            "known_hosts": _beside(path, sftp.known_hosts),
            "private_key": _beside(path, sftp.private_key) if sftp.private_key else None,
            "password_file": _beside(path, sftp.password_file) if sftp.password_file else None,
        }
    )
    files = {"known_hosts": resolved.known_hosts, "private_key": resolved.private_key}
    files["password_file"] = resolved.password_file
    for what, file in files.items():
        if file is not None and not file.is_file():
            raise ProfileError(f"clearinghouse profile {path}: sftp.{what} {file} does not exist")
    return profile.model_copy(update={"sftp": resolved})


def _beside(profile_path: Path, file: Path) -> Path:
    return file if file.is_absolute() else (profile_path.parent / file).resolve()
