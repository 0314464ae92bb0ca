"""The payer file: the shipped payers, member rules and the errors a bad file gets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from claimflow.integrations.sandbox.config import ConfigError, load_config, parse_duration

SHIPPED = {
    "SMPMCR": ("Sandbox Medicare Part B", "MB", 365, 120),
    "SMPMCD": ("Sandbox State Medicaid", "MC", 180, 90),
    "SMPBCX": ("Sandbox Blue Cross Commercial", "BL", 180, 180),
    "SMPHMO": ("Summit Health HMO", "HM", 90, 180),
    "SMPPPO": ("Lakeside PPO", "12", 120, 180),
    "SMPMGP": ("Heritage Medigap Plan G", "CI", 365, 180),
}


def test_the_shipped_payers() -> None:
    config = load_config()
    found = {
        p.id: (p.name, p.filing_indicator.value, p.timely_filing_days, p.appeal_days) for p in config.payers
    }
    assert found == SHIPPED
    hmo = config.payer("smphmo")
    assert hmo is not None
    assert {"70551", "72148", "97110"} <= set(hmo.plans["standard"].authorization_codes)


def test_member_rule_and_explicit_members() -> None:
    payer = load_config().payer("SMPBCX")
    assert payer is not None
    ruled = payer.find_member("xbc123456789")
    assert ruled is not None and ruled.covered_on(date(2026, 10, 1)) and ruled.plan == "standard"
    assert payer.find_member("XBC12345") is None  # too short for the pattern
    terminated = payer.find_member("XBC900000001")
    assert terminated is not None and not terminated.covered_on(date(2026, 10, 1))
    future = payer.find_member("XBC900000002")
    assert future is not None and not future.covered_on(date(2026, 10, 1))
    high = payer.find_member("XBC900000004")
    assert high is not None and payer.plan_of(high).deductible > payer.plans["standard"].deductible


def test_durations() -> None:
    assert parse_duration(30) == 30.0
    assert (
        parse_duration("45s") == 45.0
        and parse_duration("2h") == 7200.0
        and parse_duration("14d") == 1209600.0
    )
    with pytest.raises(ValueError, match="'14 days'"):
        parse_duration("14 days")


def test_a_bad_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "payers.toml"
    lines = [
        "[[payers]]",
        'id = "P1"',
        'name = "P"',
        'filing_indicator = "MB"',
        "timely_filing_days = 90",
        "appeal_days = 90",
        "[payers.member_rule]",
        "pattern = '^P\\d+$'",
        'plan = "gold"',
    ]
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="plan 'gold' is not defined"):
        load_config(bad)
    bad.write_text("[[payers]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
