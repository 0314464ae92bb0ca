"""The 835 reader builds its models without validating them (remittance835._Blueprint): what it
builds must be exactly what validation makes of the same values, and values validation would
refuse must still be refused where they stand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from claimflow.claims.remittance import Adjustment, Remittance
from claimflow.claims.x12 import X12Error, X12ValueError, read_835, transaction_sets, write_835
from claimflow.claims.x12.remittance835 import _read
from tests.x12.remittance_corpus import envelope, remittances

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples" / "835"


def _corpora() -> list[tuple[str, str]]:
    generated = [
        (
            f"generated seed {seed}",
            write_835(remittances(seed=seed, total_claims=60, per_remittance=n), envelope()),
        )
        for seed, n in ((1, 50), (2, 7), (3, 1))
    ]
    return generated + [(path.name, path.read_text(errors="replace")) for path in sorted(SAMPLES.iterdir())]


CORPORA = _corpora()
REFUSED = {  # samples with a value the reader cannot read at all (a missing charge, a 23rd month)
    "keir__blue_cross_nc_sample.txt",
    "lfh__managed-care.835",
    "lfh__tertiary-payment.835",
    "oop__Example1.txt",
}


def _shape(value: Any, where: str = "remittance") -> list[tuple[str, str, list[str], list[str]]]:
    """Every model in a tree with what equality does not compare: its class, the fields it was
    given, and the order of its fields."""
    if isinstance(value, BaseModel):
        found = [(where, type(value).__name__, sorted(value.model_fields_set), list(value.__dict__))]
        for name, field in value.__dict__.items():
            found += _shape(field, f"{where}.{name}")
        return found
    if isinstance(value, list):
        return [shape for number, item in enumerate(value) for shape in _shape(item, f"{where}[{number}]")]
    return []


@pytest.mark.parametrize(("name", "text"), CORPORA, ids=[name for name, _ in CORPORA])
def test_the_built_remittance_is_what_validation_makes_of_the_same_values(name: str, text: str) -> None:
    checked = 0
    for ts in transaction_sets(text, "835"):
        try:
            reader = _read(ts)
            built = reader.finish()
        except X12Error:
            continue  # a sample the reader refuses (its own tests say why)
        assert reader.regular, f"{name}: every value of the corpora is one the reader may build from"
        validated = reader._validated()
        assert built == validated
        assert repr(built) == repr(validated)
        assert _shape(built) == _shape(validated)
        checked += 1
    assert checked or name in REFUSED, f"{name}: no remittance was read"


@pytest.mark.parametrize(("name", "text"), CORPORA, ids=[name for name, _ in CORPORA])
def test_a_read_remittance_survives_a_dump_and_validation_unchanged(name: str, text: str) -> None:
    try:
        read = read_835(text)
    except X12Error:
        return
    for remittance in read:
        again = Remittance.model_validate(remittance.model_dump())
        assert again == remittance
        assert again.model_dump(mode="json") == remittance.model_dump(mode="json")


def test_adjustment_fields_are_the_four_the_reader_hands_over_in_order() -> None:
    # _RemittanceReader._adjustments builds each Adjustment's own field dict: a new field must be added there
    assert list(Adjustment.model_fields) == ["group", "reason", "amount", "quantity"]


def _one_file() -> str:
    return write_835(remittances(seed=8, total_claims=3, per_remittance=3), envelope())


def _with_first(text: str, prefix: str, replacement: str) -> tuple[str, int]:
    """The text with its first segment starting with `prefix` rewritten, and that segment's position."""
    segments = text.split("~\n")
    at = next(i for i, segment in enumerate(segments) if segment.startswith(prefix))
    segments[at] = replacement
    return "~\n".join(segments), at + 1


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN", "1E+40"])
def test_an_amount_money_cannot_hold_is_refused_at_its_segment(amount: str) -> None:
    broken, position = _with_first(_one_file(), "CAS*", f"CAS*CO*45*{amount}")
    with pytest.raises(X12ValueError) as raised:
        read_835(broken)
    assert (raised.value.segment_id, raised.value.position) == ("CAS", position)


def test_a_claim_charge_too_large_for_cents_is_a_typed_error_at_its_clp() -> None:
    text = _one_file()
    clp = next(segment for segment in text.split("~\n") if segment.startswith("CLP*")).split("*")
    clp[3] = "1" + "0" * 40
    broken, position = _with_first(text, "CLP*", "*".join(clp))
    with pytest.raises(X12ValueError) as raised:
        read_835(broken)
    assert (raised.value.segment_id, raised.value.position) == ("CLP", position)
    assert "too large" in raised.value.reason


@pytest.mark.parametrize("quantity", ["NaN", "Infinity"])
def test_a_quantity_that_is_not_finite_is_refused_at_its_cas_segment(quantity: str) -> None:
    broken, position = _with_first(_one_file(), "CAS*", f"CAS*CO*45*1.00*{quantity}")
    with pytest.raises(X12ValueError) as raised:
        read_835(broken)
    assert (raised.value.segment_id, raised.value.position) == ("CAS", position)
    assert "finite" in raised.value.reason


def test_a_not_finite_adjustment_amount_is_refused_at_its_cas_segment() -> None:
    broken, position = _with_first(_one_file(), "CAS*", "CAS*CO*45*NaN")
    with pytest.raises(X12ValueError) as raised:
        read_835(broken)
    assert (raised.value.segment_id, raised.value.position) == ("CAS", position)
    assert "not a finite amount" in raised.value.reason


@pytest.mark.parametrize(
    ("written", "cents"),
    [
        ("12.5", "12.50"),
        ("100", "100.00"),
        ("1E+2", "100.00"),
        ("0.005", "0.01"),
        ("-.5", "-0.50"),
        ("7.25", "7.25"),
    ],
)
def test_amounts_in_any_form_become_cents_as_money_validation_makes_them(written: str, cents: str) -> None:
    text, _ = _with_first(_one_file(), "AMT*B6*", f"AMT*B6*{written}")
    (remittance,) = read_835(text)
    allowed = next(
        line.allowed_amount
        for claim in remittance.claims
        for line in claim.service_lines
        if line.allowed_amount
    )
    assert str(allowed) == cents
    assert allowed.as_tuple().exponent == Decimal(cents).as_tuple().exponent


def test_an_amount_with_more_digits_than_cents_can_hold_is_refused_as_validation_refuses_it() -> None:
    # written with two places, so no rounding is needed, but quantizing to cents (as Money's
    # validator does) needs more digits than the decimal context holds; AMT is in no balancing sum
    text, _ = _with_first(_one_file(), "AMT*B6*", "AMT*B6*123456789012345678901234567.89")
    with pytest.raises(X12ValueError) as raised:
        read_835(text)
    assert raised.value.segment_id == "SVC" and "allowed_amount" in raised.value.reason
    assert "too large" in raised.value.reason
