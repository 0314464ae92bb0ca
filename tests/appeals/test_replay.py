"""Replay of AppealWorkflow: this run's histories and the kept corpus (see tests/replay.py)."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from claimflow.workflows.appeal import AppealWorkflow
from tests.appeals.scripted import STARTED
from tests.replay import replay_corpus, replay_recorded

CORPUS = Path(__file__).parent / "histories"


async def test_histories_of_this_run_replay(time_skipping_env: WorkflowEnvironment) -> None:
    await replay_recorded(STARTED, CORPUS, [AppealWorkflow])


async def test_kept_histories_replay() -> None:
    await replay_corpus(CORPUS, [AppealWorkflow], at_least=8)
