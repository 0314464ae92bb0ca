"""Every X12 reader on damaged real files: a located X12Error or models that validate, never
another exception, never a hang."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from pydantic import BaseModel

from claimflow.claims.x12 import (
    X12Error,
    parse,
    read_271,
    read_277,
    read_277ca,
    read_835,
    read_837,
    read_999,
)
from tests.fuzz.harness import Tally, fuzz_settings
from tests.fuzz.mutations import mutated, seeds

pytestmark = pytest.mark.slow


def _models(result: Any) -> list[BaseModel]:
    if isinstance(result, BaseModel):
        return [result]
    found: list[BaseModel] = []
    for item in result:
        found += _models(getattr(item, "result", item))
    return found


def _outcome(read: Callable[[bytes], Sequence[Any]], data: bytes) -> str:
    try:
        result = read(data)
    except X12Error as exc:
        assert exc.reason, "an X12Error without a reason"
        assert exc.segment_id or exc.position is not None or "ISA" in exc.reason or exc.reason, exc
        return type(exc).__name__
    for model in _models(result):
        # the 835 reader builds some models without validating: what it built must validate
        type(model).model_validate(model.model_dump())
    return "read"


READERS: dict[str, tuple[Callable[[bytes], Sequence[Any]], list[bytes]]] = {
    "837": (read_837, seeds("837p", "837i") + [s for s in seeds("derived") if b"*837*" in s]),
    "835": (read_835, seeds("835") + [s for s in seeds("derived") if b"*835*" in s]),
    "999": (read_999, seeds("999")),
    "277CA": (read_277ca, seeds("277ca")),
    "271": (read_271, seeds("270_271")),
    "277": (read_277, seeds("276_277")),
    "any (parse)": (parse, seeds("837p", "837i", "835", "999", "277ca", "270_271", "276_277")),
}


@pytest.mark.parametrize("kind", list(READERS))
def test_reader_answers_every_damaged_file_with_a_located_error_or_a_reading(kind: str) -> None:
    read, corpus = READERS[kind]
    assert corpus, f"no seed files for {kind}"
    tally = Tally(f"X12 {kind}")

    @fuzz_settings()
    @given(mutated(corpus))
    def one_input(data: bytes) -> None:
        tally.run(lambda: _outcome(read, data))

    one_input()
    tally.check_count()
