"""A demo-sized run: 120 varied encounters (professional and institutional, dependents, up to 50
lines, replacements of unknown claims) to the five shipped payers with their noise switched on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from claimflow.claims.claim import Claim
from claimflow.claims.x12 import read_277ca, read_835, write_837
from claimflow.integrations.sandbox.config import load_config
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import varied_claims
from tests.sandbox.helpers import FakeClock, assert_balanced, assert_valid_x12, envelope

MEMBER_PREFIX = {"SMPMCR": "MCR", "SMPMCD": "MCD", "SMPBCX": "XBC1", "SMPHMO": "HMO", "SMPPPO": "PPO"}


def with_rule_member(claim: Claim, index: int) -> Claim:
    """The factory's member ids are random; give each claim an id the payer's member rule knows."""
    coverage = claim.encounter.coverage
    member_id = f"{MEMBER_PREFIX[coverage.payer_id]}{10_000_000 + index:08d}"
    encounter = claim.encounter.model_copy(
        update={"coverage": coverage.model_copy(update={"member_id": member_id})}
    )
    return claim.model_copy(update={"encounter": encounter})


def test_a_demo_day_of_120_encounters(tmp_path: Path) -> None:
    config = load_config().model_copy(update={"seed": 11})
    clock = FakeClock()
    sandbox = Sandbox(config, Store(tmp_path / "demo.db"), clock=clock)
    professional = varied_claims(100, seed=3)
    institutional = varied_claims(20, seed=4, institutional=True)
    claims = [with_rule_member(c, i) for i, c in enumerate(professional + institutional)]
    for start in range(0, len(claims), 10):
        batch = claims[start : start + 10]
        receipt = sandbox.submit(write_837(batch, envelope(700 + start)), f"demo-{start}")
        assert receipt["accepted"] is True, receipt
    sandbox.advance(30 * 86400)  # past every payer's adjudication delay (and the reversals' second one)
    texts: dict[str, list[str]] = {}
    for entry in sandbox.store.inbox(sandbox.now().timestamp()):
        row = sandbox.store.file(entry.id, sandbox.now().timestamp())
        assert row is not None
        texts.setdefault(entry.kind, []).append(row["content"])
    for kind in ("999", "277CA", "835"):
        assert_valid_x12("".join(texts[kind]))
    statuses = {
        c.patient_control_number: c.primary for t in texts["277CA"] for a in read_277ca(t) for c in a.claims
    }
    assert set(statuses) == {c.patient_control_number for c in claims}
    remittances = [r for t in texts["835"] for r in read_835(t)]
    for remittance in remittances:
        assert_balanced(remittance)
    original = Counter(
        c.patient_control_number for r in remittances for c in r.claims if c.status.value in ("1", "4")
    )
    accepted = {pcn for pcn, status in statuses.items() if status.accepted}
    assert set(original) == accepted
    reasons = Counter(a.reason for r in remittances for c in r.claims for a in c.all_adjustments)
    assert reasons["45"] > 0 and reasons["29"] > 0  # fee schedule cuts; late filing for short limits
