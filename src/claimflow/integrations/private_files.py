"""Files that hold PHI (statements, appeal letters, inbound files kept for a person): readable by
claimflow's own user only, and written whole or not at all.

A file is written under a temporary name in its folder and renamed into place, so a crash leaves
either the old file or the new one, never half of one; folders are created 0700 and files 0600,
whatever the process's umask."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def write_private(path: Path, data: bytes) -> Path:
    """Write `data` to `path` (replacing it), owner-only; missing folders are created owner-only."""
    _make_private_folders(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as file:  # mkstemp creates it 0600
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _make_private_folders(folder: Path) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=FOLDER_MODE, exist_ok=True)
        created.chmod(FOLDER_MODE)  # mkdir's mode is cut by the umask
