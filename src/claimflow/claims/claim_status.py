"""Claim status category codes (277 STC01-1, X12 code source 507) and claim status codes (STC01-2,
code source 508) with their published texts, so a 277CA's or 277's "A7:562" reads in words.

Sources: `data/claim_status_categories.csv` is a copy of
../shared/data/codesets/x12_claim_status_category_codes_507.csv (48 codes) and
`data/claim_status_codes.csv` of ../shared/data/codesets/x12_claim_status_codes_508.csv (759 codes,
10 without a description). Code membership is from pyx12 4.0.0 `map/codes.xml` (BSD); descriptions
and dates from github.com/DrBassman/hippo_eyeDoc @ 7bb7f23b7ed763714858309378685f45123591be
`lib/hippo_eyeDoc/code_lists/claim_status_{category_,}codes.rb` (BSD-3-Clause, ProMedical 2011).
Both lists are maintained by X12 (https://x12.org/codes/claim-status-category-codes and
https://x12.org/codes/claim-status-codes, x12.org terms apply) and these copies are ~2011-2012
snapshots: codes X12 added since are missing (they read as "not in the shipped list"). Columns:
code, description, effective_date, deactivation_date, last_modified, in_pyx12_4_0_0_list,
description_source. Refresh by copying a newer export with the same columns.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files

from claimflow.claims.carc import UnknownCodeError

__all__ = ["UnknownCodeError", "category_text", "describe_status", "status_code_text"]


@cache
def _texts(name: str) -> dict[str, str]:
    """code -> published description ("" when the list names the code without one)."""
    text = files("claimflow.claims").joinpath("data", name).read_text(encoding="utf-8")
    return {
        row["code"].strip().upper(): row["description"].strip() for row in csv.DictReader(io.StringIO(text))
    }


def _lookup(name: str, what: str, code: str) -> str:
    description = _texts(name).get(code.strip().upper())
    if not description:  # unknown, or listed without a description
        raise UnknownCodeError(
            f"{what} {code!r} has no description in the X12 list (2011-2012 snapshot) shipped with "
            f"claimflow: check the code on the 277, or refresh claims/data/{name}"
        )
    return description


def category_text(code: str) -> str:
    """The published text of a claim status category code, e.g. category_text("A7")."""
    return _lookup("claim_status_categories.csv", "claim status category", code)


def status_code_text(code: str) -> str:
    """The published text of a claim status code, e.g. status_code_text("562")."""
    return _lookup("claim_status_codes.csv", "claim status code", code)


def describe_status(category: str, code: str, entity: str | None = None) -> str:
    """An STC composite in words, each code with its meaning; a code not in the shipped lists is
    shown as it came, said to be unknown, e.g. "A7 Acknowledgement/Rejected for Invalid Information
    - ...; status code 562: Entity's National Provider Identifier (NPI). ...; entity 85"."""
    try:
        words = f"{category} {category_text(category).rstrip('.')}"
    except UnknownCodeError:
        words = f"category {category} (not in the shipped X12 claim status category list)"
    try:
        detail = f"status code {code}: {status_code_text(code).rstrip('.')}"
    except UnknownCodeError:
        detail = f"status code {code} (not in the shipped X12 claim status code list)"
    return "; ".join([words, detail, *([f"entity {entity}"] if entity else [])])
