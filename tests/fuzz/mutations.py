"""Hypothesis strategies that damage real files: X12 from tests/data and FHIR Bundles.

Each input is a seed file with one to four mutations: truncation, flipped bytes, wrong delimiters,
a huge element, invalid UTF-8, absurd numbers, a segment dropped, repeated or moved, another
file spliced in; or plain random bytes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = DATA / "x12-samples"

ABSURD_NUMBERS = [
    "1E999",
    "-1E999",
    "99999999999999999999999999999999.99",
    "-0",
    "0.000000000001",
    "NaN",
    "Infinity",
    "-99999999999",
    "1" * 400,
    "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes, int() too, X12 does not
    "12.34.56",
    ".",
    "-",
    "+5",
    "5-",
    "0x1F",
    "1_000",
    " 12 ",
]
ODD_TEXT = ["", " ", "\x00", "\u202e", "ÿ", "é" * 50, "\U0001f600", "\r\n", "*", "~", ":", "^", ">", "|"]
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80\x80"]
DELIMITER_CHOICES = b"*~:^>|!\n\r\x1d\x1e\x1f,+ A0"
NUMBER = re.compile(rb"(?<=[*:^|>])-?\d+(?:\.\d+)?(?=[*:^|>~\r\n]|$)")


def seeds(*folders: str) -> list[bytes]:
    """The sample files of `folders` (under tests/data/x12-samples), as bytes."""
    files = sorted(path for folder in folders for path in (SAMPLES / folder).iterdir() if path.is_file())
    return [path.read_bytes() for path in files if not path.name.endswith((".json", ".md"))]


def _terminator(data: bytes) -> bytes:
    """The segment terminator the ISA names, else `~`."""
    start = data.find(b"ISA")
    if start >= 0 and len(data) > start + 105:
        return data[start + 105 : start + 106]
    return b"~"


def _segments(data: bytes) -> tuple[bytes, list[bytes]]:
    terminator = _terminator(data)
    return terminator, data.split(terminator)


Mutation = Callable[[st.DrawFn, bytes], bytes]

ISA_LENGTH = 106


def _position(draw: st.DrawFn, data: bytes, end: int | None = None) -> int:
    """A place in `data`, past the fixed-width ISA four times in five so that most damage reaches
    the readers and not only the envelope check."""
    end = len(data) if end is None else end
    low = ISA_LENGTH if end > ISA_LENGTH and draw(st.integers(0, 4)) else 0
    return draw(st.integers(low, end))


def truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: _position(draw, data, max(len(data) - 1, 0))]


def flip_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        at = _position(draw, data, len(out) - 1)
        out[at] ^= draw(st.integers(1, 255))
    return bytes(out)


def wrong_delimiter(draw: st.DrawFn, data: bytes) -> bytes:
    """Change one delimiter the ISA declares (element, repetition, component or segment), or
    replace every occurrence of one delimiter character in the body by another."""
    start = max(data.find(b"ISA"), 0)
    if len(data) > start + 105 and draw(st.booleans()):
        at = start + draw(st.sampled_from([3, 82, 104, 105]))
        return data[:at] + bytes([draw(st.sampled_from(DELIMITER_CHOICES))]) + data[at + 1 :]
    old, new = draw(st.sampled_from(b"*~:^")), draw(st.sampled_from(DELIMITER_CHOICES))
    return data.replace(bytes([old]), bytes([new]))


def huge_element(draw: st.DrawFn, data: bytes) -> bytes:
    element = draw(st.sampled_from([b"9", b"A", b"*", b":", "é".encode()])) * draw(
        st.sampled_from([1_000, 30_000, 200_000])
    )
    terminator, segments = _segments(data)
    if len(segments) < 2:
        return data + element
    index = draw(st.integers(0, len(segments) - 1))
    segments[index] += b"*" + element
    return terminator.join(segments)


def invalid_utf8(draw: st.DrawFn, data: bytes) -> bytes:
    at = _position(draw, data)
    return data[:at] + draw(st.sampled_from(INVALID_UTF8)) + data[at:]


def absurd_number(draw: st.DrawFn, data: bytes) -> bytes:
    numbers = list(NUMBER.finditer(data))
    if not numbers:
        return data
    match = draw(st.sampled_from(numbers))
    value = draw(st.sampled_from(ABSURD_NUMBERS)).encode()
    return data[: match.start()] + value + data[match.end() :]


def odd_text(draw: st.DrawFn, data: bytes) -> bytes:
    """An element replaced by empty, control, bidi, emoji or delimiter text."""
    terminator, segments = _segments(data)
    index = draw(st.integers(0, len(segments) - 1))
    parts = segments[index].split(b"*")
    at = draw(st.integers(0, len(parts) - 1))
    parts[at] = draw(st.sampled_from(ODD_TEXT)).encode()
    segments[index] = b"*".join(parts)
    return terminator.join(segments)


def shuffle_segments(draw: st.DrawFn, data: bytes) -> bytes:
    """A segment dropped, repeated or moved elsewhere."""
    terminator, segments = _segments(data)
    if len(segments) < 2:
        return data
    index = draw(st.integers(0, len(segments) - 1))
    segment = segments.pop(index)
    how = draw(st.sampled_from(["drop", "repeat", "move"]))
    if how == "repeat":
        segments[index:index] = [segment] * draw(st.integers(2, 50))
    elif how == "move":
        segments.insert(draw(st.integers(0, len(segments))), segment)
    return terminator.join(segments)


def splice(corpus: list[bytes]) -> Mutation:
    """Part of another file of the corpus put into this one."""

    def mutate(draw: st.DrawFn, data: bytes) -> bytes:
        other = draw(st.sampled_from(corpus))
        cut_here = _position(draw, data)
        cut_there = draw(st.integers(0, len(other)))
        return data[:cut_here] + other[cut_there:]

    return mutate


BYTE_MUTATIONS: list[Mutation] = [
    truncate,
    flip_bytes,
    wrong_delimiter,
    huge_element,
    invalid_utf8,
    absurd_number,
    odd_text,
    shuffle_segments,
]


def mutated(corpus: list[bytes], mutations: list[Mutation] | None = None) -> st.SearchStrategy[bytes]:
    """A corpus file with one to four mutations, or random bytes (one in ten)."""
    chosen = [*(mutations or BYTE_MUTATIONS), splice(corpus)]

    @st.composite
    def damaged(draw: st.DrawFn) -> bytes:
        if draw(st.integers(0, 9)) == 0:
            return draw(st.binary(max_size=2_000))
        data = draw(st.sampled_from(corpus))
        for _ in range(draw(st.integers(1, 4))):
            data = draw(st.sampled_from(chosen))(draw, data)
        return data

    return damaged()


def bundles() -> list[Any]:
    """The FHIR Bundles of tests/data/fhir, parsed."""
    return [json.loads(path.read_text()) for path in sorted((DATA / "fhir").glob("*-*.json"))]


DEEP = "\u0000deep"
"""Placeholder a JSON mutation leaves where deep nesting goes in once the tree is text."""

ODD_JSON: list[Any] = [
    None,
    True,
    0,
    -1,
    10**400,
    1e308,
    -0.0,
    float("nan"),
    float("inf"),
    "",
    "x" * 200_000,
    "\u202e\u0000\ud800",
    [],
    {},
    [None] * 1_000,
    {"resourceType": "Bundle"},
    {"resourceType": "Patient", "id": 7},
    DEEP,
]


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(ABSURD_NUMBERS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
"""Any JSON value, small, with odd numbers and text among its leaves."""


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a JSON tree."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    copy[head] = _replace(node[head], rest, value)
    return copy


def _remove(node: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        copy: Any = dict(node) if isinstance(node, dict) else list(node)
        del copy[path[0]]
        return copy
    return _replace(node, path[:1], _remove(node[path[0]], path[1:]))


def _tree_mutation(draw: st.DrawFn, tree: Any) -> Any:
    path = draw(st.sampled_from(_paths(tree)))
    how = draw(st.sampled_from(["replace", "remove", "random"]))
    if how == "remove" and path:
        return _remove(tree, path)
    if how == "random":
        value = draw(json_values)
        return _replace(tree, path, value)
    return _replace(tree, path, draw(st.sampled_from(ODD_JSON)))


def mutated_bundles(corpus: list[Any]) -> st.SearchStrategy[bytes]:
    """A Bundle with one to four changes in its tree (values replaced by odd ones, removed, deep
    nesting), written as JSON text, then maybe damaged as bytes (truncated, bytes flipped, invalid
    UTF-8); or random bytes."""

    @st.composite
    def damaged(draw: st.DrawFn) -> bytes:
        if draw(st.integers(0, 9)) == 0:
            return draw(st.binary(max_size=2_000))
        tree = draw(st.sampled_from(corpus))
        for _ in range(draw(st.integers(1, 4))):
            tree = _tree_mutation(draw, tree)
        depth = draw(st.sampled_from([10, 500, 950, 200_000]))  # 950: parses, then meets the reader
        text = json.dumps(tree).replace(json.dumps(DEEP), "[" * depth + "]" * depth)
        data = text.encode("utf-8", errors="surrogatepass")
        if draw(st.booleans()):
            data = draw(st.sampled_from([truncate, flip_bytes, invalid_utf8]))(draw, data)
        return data

    return damaged()
