"""Replay: the appeal histories recorded by this run, and those kept in histories/, replay without
non-determinism against the current AppealWorkflow. Evolve command-changing code with
`workflow.patched`. Set CLAIMFLOW_RECORD_HISTORIES=1 to add this run's histories to the corpus."""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from claimflow.integrations.temporal import data_converter
from claimflow.workflows.appeal import AppealWorkflow
from tests.appeals.scripted import STARTED
from tests.workflows.conftest import TEST_KEYS

CORPUS = Path(__file__).parent / "histories"


def replayer() -> Replayer:
    return Replayer(workflows=[AppealWorkflow], data_converter=data_converter(TEST_KEYS))


async def test_histories_of_this_run_replay(time_skipping_env: WorkflowEnvironment) -> None:
    assert STARTED, "the workflow tests run first and record the appeals they start"
    histories = [await handle.fetch_history() for handle in STARTED]
    if os.environ.get("CLAIMFLOW_RECORD_HISTORIES"):
        CORPUS.mkdir(exist_ok=True)
        for history in histories:
            (CORPUS / f"{history.workflow_id}.json").write_text(history.to_json())
    for history in histories:
        await replayer().replay_workflow(history)


async def test_kept_histories_replay() -> None:
    files = sorted(CORPUS.glob("*.json"))
    assert len(files) >= 8, "the corpus holds a history of every appeal path"
    for file in files:
        history = WorkflowHistory.from_json(file.stem, file.read_text())
        await replayer().replay_workflow(history)
