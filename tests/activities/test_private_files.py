"""Files that hold PHI are owner-only and written whole (integrations/private_files): statements and
letters (activities/rendering) and inbound files the inbox keeps for a person."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from claimflow.integrations.private_files import write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_private_file_and_its_new_folders_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o000)  # the loosest umask: nothing of the mode would be cut
    try:
        path = write_private(tmp_path / "documents" / "claim-1" / "statement-1.pdf", b"%PDF-1.7 ...")
    finally:
        os.umask(previous)
    assert path.read_bytes() == b"%PDF-1.7 ..."
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_rewriting_replaces_the_file_and_a_failed_write_leaves_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kept" / "835-1.x12"
    write_private(path, b"first")
    write_private(path, b"second")
    assert path.read_text() == "second"

    def refuse(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_private(path, b"third")
    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["835-1.x12"]  # no temporary left behind
