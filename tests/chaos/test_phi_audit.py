"""The chaos test's PHI audit finds names, birth dates and member ids written as text, and is not
fooled by the same few bytes occurring by chance inside the codec's ciphertext."""

from __future__ import annotations

import random
from pathlib import Path

from claimflow.claims.encounter import Encounter
from tests.chaos.harness import chaos_batch, phi_hits


def _patient(batch: list[Encounter], letters: int) -> Encounter:
    return next(e for e in batch if len(e.patient.first_name) == letters)


def _home(tmp_path: Path, database: bytes, log: str = "") -> Path:
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    (home / "temporal.db").write_bytes(database)
    (home / "logs" / "worker.log").write_text(log)
    return home


def test_a_short_name_inside_random_bytes_is_not_a_hit_but_as_text_it_is(tmp_path: Path) -> None:
    batch = chaos_batch(40)
    short = _patient(batch, 4)
    noise = random.Random(7).randbytes(4096)
    name = short.patient.first_name.encode()
    assert phi_hits(_home(tmp_path / "a", noise[:100] + name + noise[100:]), batch, "") == []

    as_json = noise + b'{"first_name":"' + name + b'"}' + noise
    found = phi_hits(_home(tmp_path / "b", as_json), batch, "")
    assert found == [f"{short.patient.first_name!r} in temporal.db"]
    x12 = f"NM1*IL*1*{short.patient.last_name.upper()}*{short.patient.first_name.upper()}~"
    hits = phi_hits(_home(tmp_path / "c", noise, log=x12), batch, "")
    assert f"{short.patient.first_name.upper()!r} in logs/worker.log" in hits


def test_long_values_are_found_anywhere(tmp_path: Path) -> None:
    batch = chaos_batch(40)
    member = batch[0].coverage.member_id
    birth = batch[0].patient.birth_date
    assert birth is not None
    noise = random.Random(3).randbytes(2048)
    home = _home(tmp_path, noise + member.encode() + noise, log=f"dob={birth:%Y%m%d}x")
    assert set(phi_hits(home, batch, "")) == {
        f"{member!r} in temporal.db",
        f"{birth.strftime('%Y%m%d')!r} in logs/worker.log",
    }
