"""X12 numbers and identifiers are ASCII digits: a superscript, Arabic-Indic or full-width digit is a
located error or finding, never a Python exception (`'³'.isdigit()` is True, `int('³')` fails) and
never silently read as the digit it looks like (`int('٣') == 3`, `Decimal('٣') == 3`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from claimflow.claims.encounter import Provider
from claimflow.claims.npi import is_valid_npi
from claimflow.claims.x12 import (
    X12Error,
    X12ValueError,
    check,
    parse,
    read_835,
    write_277ca,
    write_835,
    write_837,
)
from claimflow.console.x12_cli import app
from tests.factories import varied_claims
from tests.x12.remittance_corpus import claim_acknowledgement, envelope, remittances

SUPERSCRIPT_THREE, ARABIC_INDIC_THREE, FULL_WIDTH_THREE = "\u00b3", "\u0663", "\uff13"
LOOKALIKES = (SUPERSCRIPT_THREE, ARABIC_INDIC_THREE, FULL_WIDTH_THREE)
VALID_NPI = "1234567893"


def files() -> dict[str, str]:
    professional, institutional = varied_claims(2, seed=3), varied_claims(2, seed=3, institutional=True)
    return {
        "837P": write_837(professional, envelope()),
        "837I": write_837(institutional, envelope()),
        "835": write_835(remittances(seed=4, total_claims=3, per_remittance=3), envelope()),
        "277CA": write_277ca([claim_acknowledgement(professional, 5)], envelope()),
    }


def mutations(text: str) -> Iterator[tuple[str, str]]:
    """(place, file) for the first digit of every element and component, swapped for each look-alike."""
    element, component, terminator = text[3], text[104], text[105]
    segments = text.split(terminator)
    for s, segment in enumerate(segments):
        parts = segment.split(element)
        for e in range(1, len(parts)):
            components = parts[e].split(component)
            for c, value in enumerate(components):
                digit = next((i for i, char in enumerate(value) if "0" <= char <= "9"), None)
                if digit is None:
                    continue
                for lookalike in LOOKALIKES:
                    changed = [*components]
                    changed[c] = value[:digit] + lookalike + value[digit + 1 :]
                    changed_parts = [*parts]
                    changed_parts[e] = component.join(changed)
                    changed_segments = [*segments]
                    changed_segments[s] = element.join(changed_parts)
                    place = f"{parts[0].strip()}{e:02d}-{c + 1} {lookalike!r}"
                    yield place, terminator.join(changed_segments)


@pytest.mark.parametrize("kind", ["837P", "837I", "835", "277CA"])
def test_every_reader_and_check_answers_a_lookalike_digit_without_a_python_exception(kind: str) -> None:
    text = files()[kind]
    tried = 0
    for place, data in mutations(text):
        tried += 1
        for name, read in (("check", check), ("parse", parse)):
            try:
                read(data)
            except X12Error:
                pass
            except Exception as error:  # the point: nothing but X12Error escapes
                pytest.fail(f"{name} of a {kind} with {place}: {type(error).__name__}: {error}")
    assert tried > 100


def test_a_superscript_digit_in_an_npi_is_a_located_finding_through_the_cli(tmp_path: Path) -> None:
    claim = varied_claims(1, seed=21)[0]
    npi = claim.encounter.billing_provider.npi
    text = write_837([claim], envelope())
    path = tmp_path / "claim.x12"
    path.write_text(text.replace(f"*XX*{npi}", f"*XX*{npi[:4]}{SUPERSCRIPT_THREE}{npi[5:]}", 1))
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert "NPI_CHECK_DIGIT at NM109" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_npi_in_arabic_indic_digits_is_not_read_as_the_digits_it_looks_like() -> None:
    lookalike = VALID_NPI[:9] + ARABIC_INDIC_THREE  # int() reads it as 3, the right check digit
    assert is_valid_npi(VALID_NPI) and not is_valid_npi(lookalike)
    with pytest.raises(ValidationError, match="npi"):
        Provider(name="Clinic", npi=lookalike)


@pytest.mark.parametrize("lookalike", [ARABIC_INDIC_THREE, FULL_WIDTH_THREE])
def test_an_amount_or_date_in_lookalike_digits_is_an_error_at_its_element(lookalike: str) -> None:
    text = write_835(remittances(seed=4, total_claims=1, per_remittance=1), envelope())
    clp = next(segment for segment in text.split("~") if segment.lstrip().startswith("CLP"))
    elements = clp.split("*")
    elements[3] = lookalike + elements[3][1:]
    with pytest.raises(X12ValueError) as amount:
        read_835(text.replace(clp, "*".join(elements)))
    assert (amount.value.segment_id, amount.value.element) == ("CLP", 3)
    dtm = next(segment for segment in text.split("~") if segment.lstrip().startswith("DTM*405"))
    with pytest.raises(X12ValueError) as day:
        read_835(text.replace(dtm, dtm.replace("2", lookalike, 1)))
    assert (day.value.segment_id, day.value.element) == ("DTM", 2)
