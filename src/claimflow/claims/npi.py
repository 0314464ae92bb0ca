"""National Provider Identifier: 10 digits, the last a Luhn check digit over 80840 + the first 9."""

from __future__ import annotations

from claimflow.claims.digits import is_digits


def npi_check_digit(first_nine: str) -> int:
    """The Luhn check digit of an NPI's first nine digits, with the card-issuer prefix 80840."""
    if len(first_nine) != 9 or not is_digits(first_nine):
        raise ValueError(f"an NPI check digit is computed over 9 digits, got {first_nine!r}")
    total = 0
    for index, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if index % 2 == 0:  # every second digit from the right, starting at the rightmost
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """Ten ASCII digits whose last is the Luhn check digit of the first nine."""
    return len(npi) == 10 and is_digits(npi) and npi_check_digit(npi[:9]) == int(npi[9])


def make_npi(first_nine: str) -> str:
    """A valid NPI from nine digits: for test data and the sandbox's synthetic providers."""
    return first_nine + str(npi_check_digit(first_nine))
