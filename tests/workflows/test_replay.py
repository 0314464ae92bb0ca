"""Replay of ClaimWorkflow: this run's histories and the kept corpus (see tests/replay.py)."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from claimflow.workflows.claim import ClaimWorkflow
from tests.replay import replay_corpus, replay_recorded
from tests.workflows.scripted import STARTED

CORPUS = Path(__file__).parent / "histories"


async def test_histories_of_this_run_replay(time_skipping_env: WorkflowEnvironment) -> None:
    await replay_recorded(STARTED, CORPUS, [ClaimWorkflow])


async def test_kept_histories_replay() -> None:
    await replay_corpus(CORPUS, [ClaimWorkflow], at_least=8)
