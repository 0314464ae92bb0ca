"""How claimflow talks to its clearinghouse: the `Transport` protocol and the one chosen by settings.

`CLAIMFLOW_TRANSPORT=http` (the default) sends everything to `CLEARINGHOUSE_URL`;
`CLAIMFLOW_TRANSPORT=sftp` sends claims and collects payer files through the SFTP mailbox of the
profile at `CLEARINGHOUSE_PROFILE`, with real-time inquiries and appeals on the profile's HTTP API.
"""

from __future__ import annotations

from claimflow.integrations.settings import Settings, SettingsError
from claimflow.integrations.transport.base import FileTooLarge, Transport
from claimflow.integrations.transport.http import HttpTransport
from claimflow.integrations.transport.profile import ClearinghouseProfile, ProfileError, load_profile
from claimflow.integrations.transport.sftp import SftpTransport

__all__ = [
    "ClearinghouseProfile",
    "FileTooLarge",
    "HttpTransport",
    "ProfileError",
    "SftpTransport",
    "Transport",
    "load_profile",
    "open_transport",
]


def open_transport(settings: Settings) -> Transport:
    """The transport the settings name; close it with `aclose()`. Refuses an unusable profile."""
    if settings.transport == "http":
        return HttpTransport(settings.clearinghouse_url)
    if settings.clearinghouse_profile is None:
        raise SettingsError(
            "CLAIMFLOW_TRANSPORT is sftp but CLEARINGHOUSE_PROFILE names no profile: point it at the "
            "clearinghouse's TOML profile (README: Talking to a clearinghouse over SFTP)"
        )
    profile = load_profile(settings.clearinghouse_profile)
    realtime = HttpTransport(profile.realtime.url) if profile.realtime else None
    return SftpTransport(profile, realtime=realtime)
