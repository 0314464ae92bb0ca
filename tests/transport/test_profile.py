"""The example clearinghouse profile shipped in the package is one claimflow accepts."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from claimflow.integrations.transport import load_profile


def test_the_shipped_example_profile_is_one_claimflow_accepts(tmp_path: Path) -> None:
    example = files("claimflow.integrations.transport").joinpath("example-profile.toml").read_text()
    (tmp_path / "keys").mkdir()
    for name in ("acme_ed25519", "known_hosts"):
        (tmp_path / "keys" / name).write_text("")
    (tmp_path / "profile.toml").write_text(example)
    profile = load_profile(tmp_path / "profile.toml")
    assert profile.sftp.known_hosts == tmp_path / "keys" / "known_hosts"
    assert profile.sftp.parked_dir == "/outbound/parked"
    assert profile.realtime is not None and profile.realtime.url.startswith("https://")
