"""Replay for every workflow's tests: the histories a run recorded, and the corpus kept in a
histories/ folder, must replay without non-determinism against the current code. A change that
alters the commands a running workflow would issue fails; evolve such code with `workflow.patched`.

Set CLAIMFLOW_RECORD_HISTORIES=1 to add a run's histories to the kept corpus."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer

from claimflow.integrations.temporal import data_converter
from tests.workflows.conftest import TEST_KEYS


def _replayer(workflows: Sequence[type]) -> Replayer:
    return Replayer(workflows=workflows, data_converter=data_converter(TEST_KEYS))


async def replay_recorded(
    handles: Sequence[WorkflowHandle[Any, Any]], corpus: Path, workflows: Sequence[type]
) -> None:
    assert handles, "the workflow tests run first and record the workflows they start"
    histories = [await handle.fetch_history() for handle in handles]
    if os.environ.get("CLAIMFLOW_RECORD_HISTORIES"):
        corpus.mkdir(exist_ok=True)
        for history in histories:
            (corpus / f"{history.workflow_id}.json").write_text(history.to_json())
    for history in histories:
        await _replayer(workflows).replay_workflow(history)


async def replay_corpus(corpus: Path, workflows: Sequence[type], at_least: int) -> None:
    files = sorted(corpus.glob("*.json"))
    assert len(files) >= at_least, f"the corpus in {corpus} holds a history of every path"
    for file in files:
        await _replayer(workflows).replay_workflow(WorkflowHistory.from_json(file.stem, file.read_text()))
