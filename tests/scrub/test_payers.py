"""Payer profiles: the shipped directory, fallbacks by coverage kind, and errors in a directory file."""

from __future__ import annotations

from decimal import Decimal
from importlib.resources import files

import pytest

from claimflow.claims.encounter import ClaimFilingIndicator
from claimflow.claims.payers import CoverageKind, default_directory, filing_indicator_for_sopt, load_profiles


def test_the_five_sandbox_payers_are_shipped() -> None:
    directory = default_directory()
    expected = {
        "SMPMCR": ("Sandbox Medicare Part B", "MB", 365, 120),
        "SMPMCD": ("Sandbox State Medicaid", "MC", 180, 90),
        "SMPBCX": ("Sandbox Blue Cross Commercial", "BL", 180, 180),
        "SMPHMO": ("Summit Health HMO", "HM", 90, 180),
        "SMPPPO": ("Lakeside PPO", "12", 120, 180),
    }
    assert set(directory.profiles) == set(expected)
    for payer_id, (name, indicator, timely, appeal) in expected.items():
        profile = directory.profiles[payer_id]
        assert (profile.name, profile.filing_indicator.value) == (name, indicator)
        assert (profile.timely_filing_days, profile.appeal_days) == (timely, appeal)
        assert profile.address is not None and not profile.is_default
    assert {"70551", "72148", "97110"} <= directory.profiles["SMPHMO"].authorization_codes
    assert not directory.profiles["SMPMCR"].sex_edits and directory.profiles["SMPBCX"].sex_edits


def test_medicare_has_five_appeal_levels_with_amount_thresholds() -> None:
    levels = default_directory().profiles["SMPMCR"].appeal_levels
    assert [(level.level, level.window_days) for level in levels] == [
        (1, 120),
        (2, 180),
        (3, 60),
        (4, 60),
        (5, 60),
    ]
    assert levels[2].min_amount == Decimal("190.00") and levels[4].min_amount == Decimal("1900.00")
    assert levels[0].min_amount is None
    commercial = default_directory().profiles["SMPPPO"].appeal_levels
    assert [level.name for level in commercial] == ["first-level appeal", "second-level appeal"]


def test_workflow_timers_have_defaults() -> None:
    profile = default_directory().profiles["SMPHMO"]
    assert (profile.coding_sla_days, profile.ack_999_hours, profile.ack_277ca_days) == (3, 24, 3)
    assert (
        profile.status_inquiry_every_days,
        profile.status_inquiries_max,
        profile.statement_cycle_days,
    ) == (7, 3, 30)


def test_unknown_payers_fall_back_by_kind_of_coverage() -> None:
    directory = default_directory(commercial_timely_filing_days=120)
    medicare = directory.profile_for("00431", ClaimFilingIndicator.MEDICARE_A)
    assert (medicare.timely_filing_days, medicare.kind, medicare.payer_id) == (
        365,
        CoverageKind.MEDICARE,
        "00431",
    )
    assert directory.profile_for("77027", ClaimFilingIndicator.MEDICAID).timely_filing_days == 365
    assert directory.profile_for("60054", ClaimFilingIndicator.PPO).timely_filing_days == 120
    assert default_directory().profile_for("60054", ClaimFilingIndicator.PPO).timely_filing_days == 180
    assert directory.profile_for("smphmo", ClaimFilingIndicator.COMMERCIAL).name == "Summit Health HMO"


@pytest.mark.parametrize(
    ("code", "institutional", "indicator"),
    [
        ("1", False, "MB"),
        ("121", True, "MA"),
        ("111", False, "16"),
        ("2", False, "MC"),
        ("311", False, "CH"),
        ("511", False, "HM"),
        ("512", False, "12"),
        ("6", False, "BL"),
        ("52", False, "CI"),
        ("81", False, "09"),
        ("95", False, "WC"),
    ],
)
def test_source_of_payment_typology_maps_to_a_filing_indicator(
    code: str, institutional: bool, indicator: str
) -> None:
    assert filing_indicator_for_sopt(code, institutional=institutional).value == indicator


def test_a_bad_typology_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not numeric"):
        filing_indicator_for_sopt("MEDICARE")


SHIPPED = files("claimflow.claims").joinpath("data", "payers.toml").read_text(encoding="utf-8")


def test_directory_errors_name_the_entry() -> None:
    bad_indicator = '[[payers]]\nkind = "commercial"\npayer_id = "X1"\nname = "X"\nfiling_indicator = "ZQ"\n'
    with pytest.raises(ValueError, match=r"\[\[payers\]\] #6 \(X1\): filing_indicator"):
        load_profiles(SHIPPED + "\n" + bad_indicator)
    with pytest.raises(ValueError, match="listed twice"):
        load_profiles(SHIPPED + '\n[[payers]]\nkind = "medicare"\npayer_id = "SMPMCR"\nname = "again"\n')
    with pytest.raises(ValueError, match=r"lacks \[kinds.medicare\]"):
        load_profiles("[kinds.commercial]\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_profiles("[kinds\n")
